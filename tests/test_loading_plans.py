"""The loading plans `for_detail()` and `for_listing()`: what pages print, loaded up front.

Each plan is the article rows with their source (`select_related`), then one query per
relation (`prefetch_related`) whatever the number of articles; related objects carry the names
and slugs pages print, each relation in its own order. The article page's lookup is an
ordinary queryset: `Article.objects.published().for_detail().filter(slug=...)`.
"""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from articles import filing
from articles.models import (
    AlsoReportedBy,
    Article,
    ArticleBlockOverride,
    ArticleStatus,
    SiteBlock,
    SiteBlockKey,
    load_detail_relations,
    load_rarely_filled,
)
from articles.site.links import subject_url

from .factories import (
    ArticleFactory,
    AuthorFactory,
    LicensedSourceFactory,
    PublishedArticleFactory,
    RegionFactory,
    SourceFactory,
    filed_out_of_page_order,
)

pytestmark = pytest.mark.django_db

DETAIL_RELATIONS = (
    "bylines",
    "regions",
    "themes",
    "reports",
    "tags",
    "block_overrides",
    "corrections",
    "also_reported_by",
)
LISTING_RELATIONS = ("bylines", "regions", "themes")
# The rows (with source and rights), then bylines, regions, themes, reports, tags, overrides,
# corrections and the other sources credited as also reporting the story (with those sources).
DETAIL_QUERIES = 1 + len(DETAIL_RELATIONS)
# An article with none of the rarely filled relations (overrides, corrections, credits): the
# article's own query says so, and they cost nothing more.
BARE_DETAIL_QUERIES = DETAIL_QUERIES - 3
# The rows (with source), then bylines, regions and themes.
LISTING_QUERIES = 1 + len(LISTING_RELATIONS)


def detail(*articles) -> dict[int, Article]:
    found = list(Article.objects.filter(pk__in=[a.pk for a in articles]).for_detail())
    load_rarely_filled(*found)
    return {article.pk: article for article in found}


def live(slug: str) -> Article | None:
    """The article page's lookup."""
    article = Article.objects.published().for_detail().filter(slug=slug).first()
    if article is not None:
        load_rarely_filled(article)
    return article


@pytest.fixture
def filed():
    """An article filed under several of everything, added in an order unlike the page's."""
    article = filed_out_of_page_order()
    ArticleBlockOverride.objects.create(article=article, key=SiteBlockKey.DISCLAIMER, hide=True)
    ArticleBlockOverride.objects.create(
        article=article, key=SiteBlockKey.FAIR_USE, content="<p>Own notice</p>"
    )
    article.log_change("The dam's height was corrected.")
    AlsoReportedBy.objects.create(
        article=article, source=SourceFactory(), original_url="https://other.example/dams"
    )
    return article


RARE_RELATIONS = ("block_overrides", "corrections", "also_reported_by")


def filed_subjects(article: Article) -> dict[str, list[tuple]]:
    """What the article's row keeps of its bylines and taxonomy (`Article.filed`)."""
    return {
        relation: [(s.pk, s.name, s.slug) for s in article.filed(relation)]
        for relation in filing.RELATIONS
    }


def related_subjects(article: Article) -> dict[str, list[tuple]]:
    """The same, read from the relations as the `for_detail()` plan orders them."""
    return {
        "authors": [(a.pk, a.name, a.slug) for a in article.ordered_authors],
        "regions": [(r.pk, r.name, r.slug) for r in article.regions.all()],
        "themes": [(t.pk, t.name, t.slug) for t in article.themes.all()],
        "reports": [(r.pk, r.title, r.slug) for r in article.reports.all()],
        "tags": [(t.pk, t.name, t.slug) for t in article.tags.all()],
    }


def read_everything(article: Article) -> list:
    """What the article page prints of its relations, source and rights."""
    printed = [list(article.rarely_filled(relation)) for relation in DETAIL_RELATIONS]
    printed.append([(author.name, author.slug) for author in article.ordered_authors])
    printed.append((article.source.name, article.copyright_holder, article.licence_url))
    return printed


class TestDetailPlan:
    def test_one_query_per_relation_whatever_the_number_of_articles(self, filed):
        others = [PublishedArticleFactory() for _ in range(3)]
        for other in others:
            other.regions.add(RegionFactory())
            other.tags.add("other")

        for articles in ([filed], [filed, *others]):
            with CaptureQueriesContext(connection) as queries:
                for article in detail(*articles).values():
                    read_everything(article)
            assert len(queries) == DETAIL_QUERIES

    def test_an_article_without_relations_costs_the_same_and_has_none(self):
        bare = PublishedArticleFactory()

        with CaptureQueriesContext(connection) as queries:
            article = detail(bare)[bare.pk]
            read_everything(article)

        assert len(queries) == BARE_DETAIL_QUERIES
        assert all(not list(article.rarely_filled(r)) for r in DETAIL_RELATIONS)

    def test_the_page_plan_reads_only_the_rare_relations_after_the_row(self, filed):
        bare = PublishedArticleFactory()
        rows = Article.objects.published().for_detail(with_relations=False)
        expected = detail(filed)[filed.pk]

        with CaptureQueriesContext(connection) as queries:
            article = rows.get(slug=filed.slug)
            printed = filed_subjects(article)
        # Bylines, regions, themes, reports and tags come with the row.
        assert len(queries) == 1
        assert printed == related_subjects(expected)

        with CaptureQueriesContext(connection) as queries:
            load_detail_relations(article)
            rare = [list(article.rarely_filled(relation)) for relation in RARE_RELATIONS]
        # The overrides, corrections and credits it has (its row says which).
        assert len(queries) == 3
        assert rare == [list(expected.rarely_filled(r)) for r in RARE_RELATIONS]

        article = rows.get(slug=bare.slug)
        with CaptureQueriesContext(connection) as queries:
            load_detail_relations(article)
            assert all(not list(article.rarely_filled(r)) for r in RARE_RELATIONS)
        # An article with none of the optional relations reads none of them.
        assert len(queries) == 0

    def test_each_relation_keeps_its_own_order(self, filed):
        article = detail(filed)[filed.pk]

        assert [a.name for a in article.ordered_authors] == [
            "Mid Writer",
            "Ann Writer",
            "Zed Writer",
        ]
        assert [r.name for r in article.regions.all()] == ["Andes", "Sahel"]
        assert [t.name for t in article.themes.all()] == ["energy", "Water"]  # case aside
        assert [r.title for r in article.reports.all()] == ["Dams", "Rivers"]
        assert [t.name for t in article.tags.all()] == ["zinc", "alpha"]  # as they were added

    def test_tags_keep_the_order_they_were_added_in_when_not_prefetched(self, filed):
        assert list(filed.tags.names()) == ["zinc", "alpha"]
        assert [t.name for t in Article.objects.get(pk=filed.pk).tags.all()] == ["zinc", "alpha"]

    def test_bylines_at_the_same_position_follow_the_authors_names(self):
        article = PublishedArticleFactory()
        for name in ("bea", "Cal", "Abe"):
            article.bylines.create(author=AuthorFactory(name=name), position=0)

        loaded = detail(article)[article.pk]

        assert [a.name for a in loaded.ordered_authors] == ["Abe", "bea", "Cal"]

    def test_related_objects_carry_names_and_slugs_and_fetch_the_rest_on_demand(self, filed):
        author = filed.bylines.get(position=0).author
        author.bio = "Writes about rivers."
        author.save()
        article = detail(filed)[filed.pk]

        with CaptureQueriesContext(connection) as queries:
            first = article.ordered_authors[0]
            names = (first.name, first.slug)
            regions = [(r.name, r.slug) for r in article.regions.all()]
        assert len(queries) == 0
        assert names == (author.name, author.slug)
        assert [name for name, _slug in regions] == ["Andes", "Sahel"]

        with CaptureQueriesContext(connection) as queries:
            assert first.bio == "Writes about rivers."
        assert len(queries) == 1

    def test_block_overrides_replace_or_hide_site_blocks(self, filed):
        SiteBlock.objects.create(key=SiteBlockKey.DISCLAIMER, content="<p>Site disclaimer</p>")
        SiteBlock.objects.create(key=SiteBlockKey.FAIR_USE, content="<p>Site notice</p>")

        blocks = detail(filed)[filed.pk].site_blocks()

        assert blocks[SiteBlockKey.DISCLAIMER] == ""
        assert blocks[SiteBlockKey.FAIR_USE] == "<p>Own notice</p>"

    def test_filtering_a_loaded_relation_asks_the_database(self, filed):
        article = detail(filed)[filed.pk]

        assert [r.name for r in article.regions.filter(name__startswith="S")] == ["Sahel"]
        assert article.themes.count() == 2

    def test_changing_a_relation_forgets_what_was_loaded(self, filed):
        article = detail(filed)[filed.pk]

        article.regions.add(RegionFactory(name="Baltic"))
        article.tags.add("beta")

        assert [r.name for r in article.regions.all()] == ["Andes", "Baltic", "Sahel"]
        assert [t.name for t in article.tags.all()] == ["zinc", "alpha", "beta"]

    def test_values_and_counts_ignore_the_plan(self, filed):
        plan = Article.objects.filter(pk=filed.pk).for_detail()

        with CaptureQueriesContext(connection) as queries:
            assert list(plan.values_list("pk", flat=True)) == [filed.pk]
            assert plan.count() == 1
        assert len(queries) == 2


class TestSourceAndRights:
    def test_the_source_and_its_rights_come_with_the_article(self):
        source = LicensedSourceFactory()
        article = PublishedArticleFactory(source=source)

        with CaptureQueriesContext(connection) as queries:
            loaded = Article.objects.filter(pk=article.pk).for_detail().prefetch_related(None)
            loaded = loaded.get()
            holder, licence = loaded.copyright_holder, loaded.licence_url

        assert len(queries) == 1
        assert holder == source.rights.copyright_holder
        assert licence == source.rights.licence_url

    def test_a_source_without_rights_record_still_loads(self):
        article = PublishedArticleFactory()
        article.source.rights.delete()

        loaded = detail(article)[article.pk]

        with CaptureQueriesContext(connection) as queries:
            assert loaded.copyright_holder == article.source.name
            assert loaded.licence_url == ""
        assert len(queries) == 0


class TestListingPlan:
    def test_one_query_per_relation_whatever_the_number_of_articles(self, filed):
        for _ in range(4):
            other = PublishedArticleFactory()
            other.bylines.create(author=AuthorFactory(), position=0)
            other.regions.add(RegionFactory())

        for size in (1, 5):
            with CaptureQueriesContext(connection) as queries:
                listing = list(Article.objects.published().for_listing()[:size])
                for article in listing:
                    for relation in LISTING_RELATIONS:
                        list(getattr(article, relation).all())
                    [author.name for author in article.ordered_authors]
                    article.source.name  # noqa: B018
            assert len(listing) == size
            assert len(queries) == LISTING_QUERIES

    def test_newest_first_with_relations_in_page_order(self, filed):
        older = PublishedArticleFactory(published_at=filed.published_at - datetime.timedelta(1))

        listing = list(Article.objects.published().for_listing())

        assert [a.pk for a in listing] == [filed.pk, older.pk]
        assert [a.name for a in listing[0].ordered_authors][0] == "Mid Writer"
        assert [t.name for t in listing[0].themes.all()] == ["energy", "Water"]

    def test_bodies_are_left_in_the_database(self, filed):
        article = Article.objects.published().for_listing().get(pk=filed.pk)

        with CaptureQueriesContext(connection) as queries:
            article.body  # noqa: B018
        assert len(queries) == 1


class TestLiveArticleLookup:
    def test_finds_the_live_article_with_its_relations_loaded(self, filed):
        found = live(filed.slug)

        assert found.pk == filed.pk
        with CaptureQueriesContext(connection) as queries:
            read_everything(found)
        assert len(queries) == 0

    @pytest.mark.parametrize(
        "status", [ArticleStatus.DRAFT, ArticleStatus.REVIEW, ArticleStatus.WITHDRAWN]
    )
    def test_finds_nothing_that_is_not_published(self, status):
        article = ArticleFactory(status=status, published_at=timezone.now())

        assert live(article.slug) is None

    def test_a_scheduled_article_appears_when_its_time_comes(self):
        soon = timezone.now() + datetime.timedelta(minutes=5)
        article = PublishedArticleFactory(published_at=soon)

        assert live(article.slug) is None
        later = soon + datetime.timedelta(seconds=1)
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(timezone, "now", lambda: later)
            assert live(article.slug).pk == article.pk

    def test_an_unknown_or_hostile_slug_finds_nothing(self, filed):
        assert live("no-such-article") is None
        assert live(filed.slug + "x") is None
        assert live("x' OR '1'='1") is None


class TestSubjectAddresses:
    def test_each_kind_of_subject_links_where_its_own_page_is(self, filed):
        article = detail(filed)[filed.pk]
        subjects = [
            *article.regions.all(),
            *article.themes.all(),
            *article.reports.all(),
            *article.ordered_authors,
            article.source,
        ]

        for subject in subjects:
            assert subject_url(subject) == subject.get_absolute_url()
        for tag in article.tags.all():
            assert subject_url(tag) == reverse("articles:tag", args=[tag.slug])
