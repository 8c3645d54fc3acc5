"""Public pages run a fixed number of SQL queries, however much they show.

Each test renders the same page twice, once with one of everything and once with many, from
the same cold cache, and asserts the two counts are equal (and modest). The whole-page cache
is switched off here: these tests measure what the views cost when a page has to be built.
"""

import datetime

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from articles.models import (
    AlsoReportedBy,
    ArticleBlockOverride,
    Correction,
    SiteBlock,
    SiteBlockKey,
)

from .factories import (
    AuthorFactory,
    LicensedSourceFactory,
    PublishedArticleFactory,
    RegionFactory,
    ReportFactory,
    SourceFactory,
    ThemeFactory,
)

pytestmark = pytest.mark.django_db

MOMENT = datetime.datetime(2021, 6, 15, 12, tzinfo=datetime.UTC)


def queries_to_render(client, url: str) -> int:
    cache.clear()
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(captured)


def richly_related_article(size: int, **fields):
    """An article with `size` authors, regions, themes, reports and tags."""
    article = PublishedArticleFactory(**fields)
    for position in range(size):
        article.bylines.create(author=AuthorFactory(), position=position)
    article.regions.add(*RegionFactory.create_batch(size))
    article.themes.add(*ThemeFactory.create_batch(size))
    article.reports.add(*ReportFactory.create_batch(size))
    article.tags.add(*[f"tag {article.pk} {n}" for n in range(size)])
    return article


@pytest.fixture(autouse=True)
def _pages_built_every_time(settings):
    settings.PAGE_CACHE_SECONDS = 0


@pytest.fixture(autouse=True)
def _site_blocks():
    for key in SiteBlockKey.values:
        SiteBlock.objects.create(key=key, content=f"<p>{key}</p>")


class TestArticlePage:
    def test_constant_whatever_the_number_of_relations(self, client):
        small = richly_related_article(1)
        large = richly_related_article(6)
        for key in (SiteBlockKey.DISCLAIMER, SiteBlockKey.COMMUNITY_LINKS):
            ArticleBlockOverride.objects.create(article=large, key=key, content="<p>own</p>")

        few = queries_to_render(client, small.get_absolute_url())
        many = queries_to_render(client, large.get_absolute_url())

        # The article with its source, rights and lead image (its row keeps its bylines,
        # regions, themes, reports and tags, and which of block overrides, corrections or
        # other outlets' credits it has); the site blocks; the navigation's regions and themes.
        assert few == 1 + 1 + 2
        # The same, and one query for the block overrides it has (none for the two it lacks).
        assert many == few + 1

    def test_an_article_with_every_rare_relation_reads_each_once_whatever_their_number(
        self, client
    ):
        pages = []
        for size in (1, 5):
            article = richly_related_article(size)
            for key in (SiteBlockKey.DISCLAIMER, SiteBlockKey.COMMUNITY_LINKS)[: min(size, 2)]:
                ArticleBlockOverride.objects.create(article=article, key=key, content="<p>x</p>")
            for number in range(size):
                Correction.objects.create(article=article, note=f"Fixed date {number}.")
                AlsoReportedBy.objects.create(
                    article=article, source=SourceFactory(), original_url="https://o.example/"
                )
            pages.append(queries_to_render(client, article.get_absolute_url()))

        assert pages[0] == pages[1] == 1 + 3 + 1 + 2

    def test_site_blocks_and_navigation_come_from_the_cache_once_warm(self, client):
        article = richly_related_article(3)
        client.get(article.get_absolute_url())

        with CaptureQueriesContext(connection) as warm:
            client.get(article.get_absolute_url())
        statements = " ".join(query["sql"] for query in warm)

        assert len(warm) > 0
        assert "articles_siteblock" not in statements
        assert '"parent_id" IS NULL' not in statements  # the navigation's top-level regions
        assert len(warm) < queries_to_render(client, article.get_absolute_url())

    def test_once_warm_the_page_is_its_row_and_its_pieces_come_from_the_cache(self, client):
        article = richly_related_article(4)
        ArticleBlockOverride.objects.create(article=article, key=SiteBlockKey.DISCLAIMER, hide=True)
        client.get(article.get_absolute_url())

        with CaptureQueriesContext(connection) as warm:
            response = client.get(article.get_absolute_url())
        statements = [query["sql"] for query in warm]

        assert response.status_code == 200
        # The article joined to its source and rights record; its head and body, with the
        # bylines, taxonomy and block override they print, are the ones rendered last time.
        assert len(statements) == 1
        assert "articles_rightsrecord" in statements[0]
        assert article.bylines.first().author.name in response.content.decode()

    def test_credits_read_sources_again_only_for_the_other_outlets(self, client):
        article = richly_related_article(2)
        AlsoReportedBy.objects.create(
            article=article, source=SourceFactory(), original_url="https://o.example/"
        )

        with CaptureQueriesContext(connection) as cold:
            client.get(article.get_absolute_url())
        statements = [query["sql"] for query in cold]

        assert "articles_rightsrecord" in statements[0]
        assert [sql for sql in statements[1:] if "articles_source" in sql] == [
            sql for sql in statements[1:] if "articles_alsoreportedby" in sql and "JOIN" in sql
        ]


def listing_counts(client, url_for_few: str, url_for_many: str) -> tuple[int, int]:
    return queries_to_render(client, url_for_few), queries_to_render(client, url_for_many)


class TestListings:
    @pytest.fixture(autouse=True)
    def _pages_of_five(self, settings):
        settings.ARTICLES_PER_PAGE = 5

    def test_home(self, client):
        richly_related_article(1)
        few = queries_to_render(client, reverse("articles:home"))

        for _ in range(7):
            richly_related_article(4)
        ReportFactory.create_batch(3, is_featured=True)
        many = queries_to_render(client, reverse("articles:home"))

        assert few == many
        # From a cold cache: the listing's order of ids and when it must be read again, the
        # page's ids and slugs, then the cards' rows and their bylines, regions and themes,
        # the featured reports, the site blocks and the navigation.
        assert many <= 10

    @pytest.mark.parametrize("kind", ["region", "theme", "report", "author", "source", "tag"])
    def test_subject_listings(self, client, kind):
        sparse, dense = LicensedSourceFactory(), LicensedSourceFactory()
        subjects = {}
        for name, source, articles, size in (("sparse", sparse, 1, 1), ("dense", dense, 7, 4)):
            region, theme, report, author = (
                RegionFactory(),
                ThemeFactory(),
                ReportFactory(),
                AuthorFactory(),
            )
            for _ in range(articles):
                article = richly_related_article(size, source=source)
                article.regions.add(region)
                article.themes.add(theme)
                article.reports.add(report)
                article.bylines.create(author=author, position=99)
                article.tags.add(f"{name} tag")
            subjects[name] = {
                "region": region.get_absolute_url(),
                "theme": theme.get_absolute_url(),
                "report": report.get_absolute_url(),
                "author": author.get_absolute_url(),
                "source": source.get_absolute_url(),
                "tag": reverse("articles:tag", args=[f"{name}-tag"]),
            }

        few, many = listing_counts(client, subjects["sparse"][kind], subjects["dense"][kind])

        assert few == many
        assert many <= 11

    def test_region_listing_with_sub_regions(self, client):
        flat = RegionFactory()
        richly_related_article(1).regions.add(flat)
        nested = RegionFactory()
        child = RegionFactory(parent=nested)
        for _ in range(6):
            richly_related_article(3).regions.add(child)

        few, many = listing_counts(client, flat.get_absolute_url(), nested.get_absolute_url())

        # The region tree is one query however deep; articles and relations cost none.
        assert many == few

    def test_a_region_deep_in_the_tree_costs_what_a_top_level_one_does(self, client):
        continent = RegionFactory(name="Continent")
        country = RegionFactory(name="Country", parent=continent)
        city = RegionFactory(name="City", parent=country)
        RegionFactory(name="District", parent=city)
        richly_related_article(1).regions.add(city)
        richly_related_article(1).regions.add(continent)

        top, deep = listing_counts(client, continent.get_absolute_url(), city.get_absolute_url())
        page = client.get(city.get_absolute_url()).content.decode()

        # The whole region tree is one query: the breadcrumbs, the sub-regions and the regions
        # whose articles are included cost nothing per level.
        assert top == deep
        assert page.index("Continent") < page.index("Country") < page.index("<h1>City</h1>")
        assert "District" in page

    def test_date_archive(self, client):
        richly_related_article(1, published_at=MOMENT.replace(year=2019))
        for day in range(7):
            richly_related_article(4, published_at=MOMENT + datetime.timedelta(days=day))

        for url_few, url_many in (
            ("/archive/2019/", "/archive/2021/"),
            ("/archive/2019/6/", "/archive/2021/6/"),
        ):
            few, many = listing_counts(client, url_few, url_many)
            assert few == many
            assert many <= 15  # the dated views also look up neighbouring periods

    def test_counts_hold_on_later_pages(self, client):
        for hours in range(12):
            richly_related_article(2, published_at=timezone.now() - datetime.timedelta(hours=hours))

        assert queries_to_render(client, "/") == queries_to_render(client, "/?page=2")
        assert queries_to_render(client, "/?page=2") == queries_to_render(client, "/?page=3")

    def test_once_warm_a_listing_is_its_rows_and_the_cards_come_from_the_cache(self, client):
        theme = ThemeFactory()
        for hours in range(12):
            article = richly_related_article(
                3, published_at=timezone.now() - datetime.timedelta(hours=hours)
            )
            article.themes.add(theme)
        client.get(theme.get_absolute_url(), {"page": 2})

        with CaptureQueriesContext(connection) as warm:
            response = client.get(theme.get_absolute_url(), {"page": 2})
        statements = [query["sql"] for query in warm]

        # The theme itself, then the page's ids and slugs (what the cards' cache keys are
        # made of); the cards, with everything they print, are the ones rendered last time.
        assert len(statements) == 2
        assert "articles_theme" in statements[0]
        assert '"articles_article"."slug" FROM' in statements[1]
        assert "JOIN" not in statements[1]
        assert response.content.count(b'<article class="card') == 5  # page 2, five a page

    def test_only_the_cards_of_changed_articles_are_rendered_again(
        self, client, django_capture_on_commit_callbacks
    ):
        theme = ThemeFactory()
        articles = []
        with django_capture_on_commit_callbacks(execute=True):
            for hours in range(4):
                article = richly_related_article(
                    2, published_at=timezone.now() - datetime.timedelta(hours=hours)
                )
                article.themes.add(theme)
                articles.append(article)
        client.get(theme.get_absolute_url())
        edited = articles[2]
        edited.title = "A sharper headline"
        with django_capture_on_commit_callbacks(execute=True):
            edited.save()

        with CaptureQueriesContext(connection) as queries:
            response = client.get(theme.get_absolute_url())
        relation_queries = [
            query["sql"]
            for query in queries
            if "articles_byline" in query["sql"] or "articles_article_regions" in query["sql"]
        ]
        card_rows = [
            query["sql"]
            for query in queries
            if f'"articles_article"."id" IN ({edited.pk})' in query["sql"]
        ]

        assert b"A sharper headline" in response.content
        # The edited article's card is rendered from its row alone (which keeps its bylines
        # and regions); the other cards come from the cache.
        assert relation_queries == []
        assert len(card_rows) == 1
