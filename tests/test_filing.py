"""An article's row keeps what its pages print of its bylines, regions, themes, reports and tags
(`Article.filed`, articles/filing.py), and every way of filing it keeps that copy equal to the
relations, in page order: bylines by position then name, subjects by name (case aside), tags
in the order they were added."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from articles import filing
from articles.models import (
    RARELY_FILLED,
    AlsoReportedBy,
    Article,
    ArticleBlockOverride,
    Byline,
    SiteBlockKey,
)
from articles.search.engine import (
    filed_rows_by_article,
    refresh_search_documents,
    search_documents_refreshed_once,
)

from .factories import (
    AuthorFactory,
    PublishedArticleFactory,
    RegionFactory,
    ReportFactory,
    SourceFactory,
    filed_out_of_page_order,
)
from .migration_helpers import migrate, migrated_back_to

pytestmark = pytest.mark.django_db


def kept(article: Article) -> dict[str, list[tuple]]:
    """What the article's row holds now."""
    article = Article.objects.get(pk=article.pk)
    return {
        relation: [(s.pk, s.name, s.slug) for s in article.filed(relation)]
        for relation in filing.RELATIONS
    }


def related(article: Article) -> dict[str, list[tuple]]:
    """The relations themselves, in the order pages print them."""
    bylines = sorted(
        Byline.objects.filter(article=article).select_related("author"),
        key=lambda b: (b.position, b.author.name.casefold(), b.author.pk),
    )

    def by_name(subjects, name="name"):
        ordered = sorted(subjects, key=lambda s: (getattr(s, name).casefold(), s.pk))
        return [(s.pk, getattr(s, name), s.slug) for s in ordered]

    return {
        "authors": [(b.author.pk, b.author.name, b.author.slug) for b in bylines],
        "regions": by_name(article.regions.all()),
        "themes": by_name(article.themes.all()),
        "reports": by_name(article.reports.all(), "title"),
        "tags": [(t.pk, t.name, t.slug) for t in article.tags.order_by("taggit_taggeditem_items")],
    }


@pytest.fixture
def article():
    return filed_out_of_page_order()


def test_the_row_keeps_the_relations_in_page_order(article):
    assert [name for _pk, name, _slug in kept(article)["authors"]] == [
        "Mid Writer",
        "Ann Writer",
        "Zed Writer",
    ]
    assert [name for _pk, name, _slug in kept(article)["regions"]] == ["Andes", "Sahel"]
    assert [name for _pk, name, _slug in kept(article)["themes"]] == ["energy", "Water"]
    assert [name for _pk, name, _slug in kept(article)["reports"]] == ["Dams", "Rivers"]
    assert [name for _pk, name, _slug in kept(article)["tags"]] == ["zinc", "alpha"]
    assert kept(article) == related(article)


def test_an_article_filed_under_nothing_keeps_empty_lists():
    article = PublishedArticleFactory()

    assert kept(article) == {relation: [] for relation in filing.RELATIONS}


def _move_a_byline(article):
    byline = article.bylines.get(position=2)
    byline.position = 0
    byline.save()


def _add_from_the_region(article):
    RegionFactory(name="Baltic").articles.add(article)


CHANGES = {
    "a byline added": lambda a: a.bylines.create(author=AuthorFactory(name="Bea"), position=1),
    "a byline moved": _move_a_byline,
    "a byline removed": lambda a: a.bylines.get(position=0).delete(),
    "a region added from the region": _add_from_the_region,
    "a region removed": lambda a: a.regions.remove(a.regions.get(name="Sahel")),
    "themes cleared": lambda a: a.themes.clear(),
    "reports set": lambda a: a.reports.set([ReportFactory(title="Canals")]),
    "a tag added": lambda a: a.tags.add("beta"),
    "a tag removed": lambda a: a.tags.remove("zinc"),
}


@pytest.mark.parametrize("change", CHANGES.values(), ids=CHANGES.keys())
def test_every_change_of_a_relation_keeps_the_row_current(article, change):
    change(article)

    assert kept(article) == related(article)


@pytest.mark.parametrize("change", CHANGES.values(), ids=CHANGES.keys())
def test_changes_inside_one_save_are_written_once_at_its_end(article, change):
    with CaptureQueriesContext(connection) as queries, search_documents_refreshed_once():
        change(article)
        CHANGES["a tag added"](article)
    updates = [q["sql"] for q in queries if q["sql"].startswith('UPDATE "articles_article"')]

    assert len(updates) == 1
    assert kept(article) == related(article)


@pytest.mark.parametrize(
    "subject",
    [
        lambda a: a.regions.get(name="Sahel"),
        lambda a: a.bylines.get(position=0).author,
        lambda a: a.tags.get(name="zinc"),
        lambda a: a.reports.get(title="Dams"),
    ],
    ids=["region", "author", "tag", "report"],
)
def test_renaming_a_subject_rewrites_its_articles_once_the_change_commits(
    article, subject, django_capture_on_commit_callbacks
):
    subject = subject(article)
    name_field = "title" if hasattr(subject, "title") else "name"
    with django_capture_on_commit_callbacks(execute=True):
        setattr(subject, name_field, "Renamed")
        subject.slug = "renamed"
        subject.save()
        assert "Renamed" not in str(kept(article))  # not rewritten inside the request

    assert ("Renamed" in str(kept(article))) and ("'renamed'" in str(kept(article)))
    assert kept(article) == related(article)


def test_a_new_slug_alone_rewrites_the_links(article, django_capture_on_commit_callbacks):
    region = article.regions.get(name="Sahel")
    with django_capture_on_commit_callbacks(execute=True):
        region.slug = "sahel-belt"
        region.save()

    assert (region.pk, "Sahel", "sahel-belt") in kept(article)["regions"]


def test_deleting_a_subject_takes_it_off_its_articles(article, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        article.themes.get(name="Water").delete()

    assert [name for _pk, name, _slug in kept(article)["themes"]] == ["energy"]


def test_the_row_says_which_rare_relations_the_article_has(article):
    assert Article.objects.get(pk=article.pk).filed_under.get("has") is None

    correction = article.log_change("The dam's height was corrected.")
    ArticleBlockOverride.objects.create(article=article, key=SiteBlockKey.DISCLAIMER, hide=True)
    assert Article.objects.get(pk=article.pk).filed_under["has"] == [
        "block_overrides",
        "corrections",
    ]

    correction.note = "The dam's height and width were corrected."
    with CaptureQueriesContext(connection) as queries:
        correction.save()
    assert not [q for q in queries if '"filed_under"' in q["sql"]]

    correction.delete()
    AlsoReportedBy.objects.create(article=article, source=SourceFactory())
    assert Article.objects.get(pk=article.pk).filed_under["has"] == [
        "block_overrides",
        "also_reported_by",
    ]


def test_the_rare_relations_are_those_the_page_loads():
    assert tuple(RARELY_FILLED) == filing.RARE_RELATIONS


def test_a_refresh_finds_nothing_to_change_in_a_current_row(article):
    assert refresh_search_documents([article.pk]) == 0

    Article.objects.filter(pk=article.pk).update(filed_under={})
    assert refresh_search_documents([article.pk]) == 1
    assert kept(article) == related(article)


@pytest.mark.django_db(transaction=True)
def test_the_migration_fills_in_the_articles_stored_before_it():
    with migrated_back_to([("articles", "0011_similarity_keys_of_32_bands")]) as apps:
        Source = apps.get_model("articles", "Source")
        Model = apps.get_model("articles", "Article")
        Author = apps.get_model("articles", "Author")
        Region = apps.get_model("articles", "Region")
        OldByline = apps.get_model("articles", "Byline")
        Tag = apps.get_model("taggit", "Tag")
        TaggedItem = apps.get_model("taggit", "TaggedItem")
        ContentType = apps.get_model("contenttypes", "ContentType")
        source = Source.objects.create(name="Harbour Wire", slug="harbour-wire")
        stored = Model.objects.create(title="Dams", slug="dams", source=source)
        bare = Model.objects.create(title="Nothing", slug="nothing", source=source)
        for position, name in ((1, "Zed"), (0, "Mid")):
            author = Author.objects.create(name=name, slug=name.lower())
            OldByline.objects.create(article=stored, author=author, position=position)
        stored.regions.add(
            Region.objects.create(name="Sahel", slug="sahel"),
            Region.objects.create(name="andes", slug="andes"),
        )
        article_type, _ = ContentType.objects.get_or_create(app_label="articles", model="article")
        for name in ("zinc", "alpha"):
            tag = Tag.objects.create(name=name, slug=name)
            TaggedItem.objects.create(tag=tag, content_type=article_type, object_id=stored.pk)

        Correction = apps.get_model("articles", "Correction")
        Correction.objects.create(article=stored, note="Fixed a date.")

        migrate([("articles", "0012_article_filed_under")])

        filled = Article.objects.get(pk=stored.pk).filed_under
        assert filled == filing.snapshot(filed_rows_by_article([stored.pk])[stored.pk])
        assert [name for _pk, name, _slug in filled["authors"]] == ["Mid", "Zed"]
        assert [name for _pk, name, _slug in filled["regions"]] == ["andes", "Sahel"]
        assert [name for _pk, name, _slug in filled["tags"]] == ["zinc", "alpha"]
        assert filled["has"] == ["corrections"]
        assert Article.objects.get(pk=bare.pk).filed_under == {}
