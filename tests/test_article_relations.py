"""`with_relations()`: what pages print about an article's relations, loaded in one query.

Bylines, regions, themes, reports, tags and block overrides of any number of articles come
back together, in each relation's own order, carrying the names and slugs pages print. Names
and slugs, and each source with its rights record, are remembered until content changes.
"""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from articles.models import Article, ArticleBlockOverride, SiteBlock, SiteBlockKey
from articles.site.links import subject_url

from .factories import (
    AuthorFactory,
    LicensedSourceFactory,
    PublishedArticleFactory,
    RegionFactory,
    ReportFactory,
    ThemeFactory,
)

pytestmark = pytest.mark.django_db

EVERYTHING = ("bylines", "regions", "themes", "reports", "tags", "block_overrides")


def loaded(*articles, relations=EVERYTHING) -> dict[int, Article]:
    found = Article.objects.filter(pk__in=[a.pk for a in articles]).with_relations(*relations)
    return {article.pk: article for article in found}


@pytest.fixture
def filed():
    """An article filed under several of everything, added in an order unlike the page's."""
    article = PublishedArticleFactory()
    for position, name in ((2, "Zed Writer"), (0, "Mid Writer"), (1, "Ann Writer")):
        article.bylines.create(author=AuthorFactory(name=name), position=position)
    article.regions.add(RegionFactory(name="Sahel"), RegionFactory(name="Andes"))
    article.themes.add(ThemeFactory(name="Water"), ThemeFactory(name="energy"))
    article.reports.add(ReportFactory(title="Rivers"), ReportFactory(title="Dams"))
    article.tags.add("zinc")
    article.tags.add("alpha")
    ArticleBlockOverride.objects.create(article=article, key=SiteBlockKey.DISCLAIMER, hide=True)
    ArticleBlockOverride.objects.create(
        article=article, key=SiteBlockKey.FAIR_USE, content="<p>Own notice</p>"
    )
    return article


class TestLoading:
    def test_one_query_for_every_relation_of_every_article(self, filed):
        bare = PublishedArticleFactory()

        def load_and_read():
            with CaptureQueriesContext(connection) as queries:
                articles = loaded(filed, bare)
                for article in articles.values():
                    for relation in EVERYTHING:
                        list(getattr(article, relation).all())
                    article.ordered_authors  # noqa: B018
            return articles, len(queries)

        articles, first = load_and_read()
        _, again = load_and_read()

        assert first == 3  # the articles, what they are filed under, the names of all that
        assert again == 2  # names and slugs are remembered until content changes
        assert all(not list(getattr(articles[bare.pk], r).all()) for r in EVERYTHING)

    def test_renamed_subjects_show_their_new_name(self, filed, django_capture_on_commit_callbacks):
        loaded(filed)
        region = filed.regions.get(name="Sahel")

        with django_capture_on_commit_callbacks(execute=True):
            region.name = "Sahel belt"
            region.save()

        assert [r.name for r in loaded(filed)[filed.pk].regions.all()] == ["Andes", "Sahel belt"]

    def test_each_relation_keeps_its_own_order(self, filed):
        article = loaded(filed)[filed.pk]

        assert [a.name for a in article.ordered_authors] == [
            "Mid Writer",
            "Ann Writer",
            "Zed Writer",
        ]
        assert [r.name for r in article.regions.all()] == ["Andes", "Sahel"]
        assert [t.name for t in article.themes.all()] == ["energy", "Water"]
        assert [r.title for r in article.reports.all()] == ["Dams", "Rivers"]
        assert [t.name for t in article.tags.all()] == ["zinc", "alpha"]  # as they were added

    def test_related_objects_carry_names_and_slugs_and_fetch_the_rest_on_demand(self, filed):
        author = filed.bylines.get(position=0).author
        author.bio = "Writes about rivers."
        author.save()
        article = loaded(filed)[filed.pk]

        with CaptureQueriesContext(connection) as queries:
            first = article.ordered_authors[0]
            names = (first.name, first.slug)
        assert len(queries) == 0
        assert names == (author.name, author.slug)

        with CaptureQueriesContext(connection) as queries:
            assert first.bio == "Writes about rivers."
        assert len(queries) == 1

    def test_block_overrides_replace_or_hide_site_blocks(self, filed):
        SiteBlock.objects.create(key=SiteBlockKey.DISCLAIMER, content="<p>Site disclaimer</p>")
        SiteBlock.objects.create(key=SiteBlockKey.FAIR_USE, content="<p>Site notice</p>")

        blocks = loaded(filed)[filed.pk].site_blocks()

        assert blocks[SiteBlockKey.DISCLAIMER] == ""
        assert blocks[SiteBlockKey.FAIR_USE] == "<p>Own notice</p>"

    def test_filtering_a_loaded_relation_asks_the_database(self, filed):
        article = loaded(filed)[filed.pk]

        assert [r.name for r in article.regions.filter(name__startswith="S")] == ["Sahel"]
        assert article.themes.count() == 2

    def test_changing_a_relation_forgets_what_was_loaded(self, filed):
        article = loaded(filed)[filed.pk]

        article.regions.add(RegionFactory(name="Baltic"))

        assert [r.name for r in article.regions.all()] == ["Andes", "Baltic", "Sahel"]

    def test_values_and_counts_are_left_alone(self, filed):
        listing = Article.objects.filter(pk=filed.pk).with_relations(*EVERYTHING)

        with CaptureQueriesContext(connection) as queries:
            assert list(listing.values_list("pk", flat=True)) == [filed.pk]
            assert listing.count() == 1
        assert len(queries) == 2

    def test_an_unknown_relation_is_refused(self, filed):
        with pytest.raises(ValueError, match="authors"):
            list(Article.objects.with_relations("authors"))


class TestSources:
    def test_the_source_and_its_rights_come_from_the_cache_once_read(self):
        source = LicensedSourceFactory()
        first, second = PublishedArticleFactory.create_batch(2, source=source)
        loaded(first, relations=("source",))

        with CaptureQueriesContext(connection) as queries:
            article = loaded(second, relations=("source",))[second.pk]
            holder = article.copyright_holder
            licence = article.licence_url

        assert len(queries) == 1  # the article row alone
        assert holder == source.rights.copyright_holder
        assert licence == source.rights.licence_url

    def test_a_change_to_the_rights_shows_at_once(self, django_capture_on_commit_callbacks):
        source = LicensedSourceFactory()
        article = PublishedArticleFactory(source=source)
        loaded(article, relations=("source",))

        with django_capture_on_commit_callbacks(execute=True):
            source.rights.copyright_holder = "Renamed Holder Ltd"
            source.rights.save()

        assert loaded(article, relations=("source",))[article.pk].copyright_holder == (
            "Renamed Holder Ltd"
        )

    def test_a_source_without_rights_record_still_loads(self):
        article = PublishedArticleFactory()
        article.source.rights.delete()

        reloaded = loaded(article, relations=("source",))[article.pk]

        assert reloaded.copyright_holder == article.source.name
        assert reloaded.licence_url == ""


class TestSubjectAddresses:
    def test_each_kind_of_subject_links_where_its_own_page_is(self, filed):
        article = loaded(filed)[filed.pk]
        subjects = [
            *article.regions.all(),
            *article.themes.all(),
            *article.reports.all(),
            *article.ordered_authors,
            filed.source,
        ]

        for subject in subjects:
            assert subject_url(subject) == subject.get_absolute_url()
        for tag in article.tags.all():
            assert subject_url(tag) == reverse("articles:tag", args=[tag.slug])
