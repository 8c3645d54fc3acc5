"""Listings are paginated from their ids, remembered per content generation.

Every page lists exactly what counting and skipping rows would list, a deep page costs what
the first one does, and the remembered order never hides a change: content edits move the
generation, and a scheduled article shows up once its time has come although nothing was
saved.
"""

import datetime
from unittest import mock

import pytest
from django.core.paginator import Paginator
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from lxml import html

from articles.models import Article
from articles.site.pagination import CHUNK_SIZE, ListingPaginator

from .factories import LicensedSourceFactory, PublishedArticleFactory, RegionFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _pages_of_three(settings):
    settings.ARTICLES_PER_PAGE = 3
    settings.PAGE_CACHE_SECONDS = 0


def listed_titles(response) -> list[str]:
    assert response.status_code == 200
    tree = html.fromstring(response.content)
    return [link.text_content().strip() for link in tree.cssselect(".card__title a")]


def articles_hours_ago(count: int, **fields) -> list[Article]:
    now = timezone.now()
    return [
        PublishedArticleFactory(
            title=f"Story {n:02d}", published_at=now - datetime.timedelta(hours=n), **fields
        )
        for n in range(1, count + 1)
    ]


def by_offset(queryset, per_page: int, number: int) -> list[int]:
    return [article.pk for article in Paginator(queryset, per_page).page(number)]


class TestPages:
    def test_every_page_lists_what_counting_and_skipping_would(self):
        articles_hours_ago(11)
        # Two articles at the same moment: the id decides, as in the listing order.
        moment = timezone.now() - datetime.timedelta(hours=5, minutes=30)
        PublishedArticleFactory.create_batch(2, published_at=moment)
        listing = Article.objects.published().for_listing()

        paginator = ListingPaginator(listing, 3, listing="/test/")

        assert paginator.count == 13
        assert paginator.num_pages == 5
        for number in paginator.page_range:
            page = paginator.page(number)
            assert [article.pk for article in page] == by_offset(listing, 3, number)
        assert len(paginator.page(5)) == 1

    def test_orphans_join_the_last_page(self):
        articles_hours_ago(7)
        listing = Article.objects.published().for_listing()

        paginator = ListingPaginator(listing, 3, orphans=1, listing="/test/")

        assert paginator.num_pages == 2
        assert [a.pk for a in paginator.page(2)] == [a.pk for a in listing][3:]

    def test_a_page_spanning_two_cache_chunks_is_whole(self):
        articles_hours_ago(5)
        listing = Article.objects.published().for_listing()

        with mock.patch("articles.site.pagination.CHUNK_SIZE", 2):
            paginator = ListingPaginator(listing, 3, listing="/test/")
            first, second = paginator.page(1), paginator.page(2)
            again = ListingPaginator(listing, 3, listing="/test/").page(2)

        assert CHUNK_SIZE % 20 == 0  # with 20 per page, a page never spans two chunks
        assert [a.pk for a in first] + [a.pk for a in second] == [a.pk for a in listing]
        assert [a.pk for a in again] == [a.pk for a in second]

    def test_an_empty_listing_has_one_empty_page(self):
        paginator = ListingPaginator(Article.objects.published().for_listing(), 3, listing="/")

        assert paginator.count == 0
        assert list(paginator.page(1)) == []

    def test_pages_of_the_site_link_to_each_other_and_end(self, client):
        articles_hours_ago(7)

        assert listed_titles(client.get("/")) == ["Story 01", "Story 02", "Story 03"]
        assert listed_titles(client.get("/?page=3")) == ["Story 07"]
        assert "Page 3 of 3" in client.get("/?page=3").content.decode()
        assert client.get("/?page=4").status_code == 404

    def test_two_listings_never_share_their_order(self, client):
        north, south = RegionFactory(name="North"), RegionFactory(name="South")
        for article in articles_hours_ago(4):
            article.regions.add(north if article.title < "Story 03" else south)

        assert listed_titles(client.get(north.get_absolute_url())) == ["Story 01", "Story 02"]
        assert listed_titles(client.get(south.get_absolute_url())) == ["Story 03", "Story 04"]
        assert listed_titles(client.get("/")) == ["Story 01", "Story 02", "Story 03"]


class TestCost:
    def test_a_deep_page_costs_what_the_first_page_costs(self, client):
        region, source = RegionFactory(), LicensedSourceFactory()
        for article in articles_hours_ago(10, source=source):
            article.regions.add(region)
        url = region.get_absolute_url()
        for page in (1, 2, 4):  # each page's cards are then in the cache
            client.get(url, {"page": page})

        counts = {}
        for page in (1, 2, 4):
            with CaptureQueriesContext(connection) as queries:
                assert client.get(url, {"page": page}).status_code == 200
            counts[page] = len(queries)
            statements = " ".join(query["sql"] for query in queries).upper()
            assert "COUNT(" not in statements
            assert "OFFSET" not in statements

        assert counts[1] == counts[2] == counts[4]


class TestFreshness:
    def test_a_new_article_is_listed_as_soon_as_it_is_saved(
        self, client, django_capture_on_commit_callbacks
    ):
        articles_hours_ago(4)
        assert listed_titles(client.get("/?page=2")) == ["Story 04"]

        with django_capture_on_commit_callbacks(execute=True):
            PublishedArticleFactory(title="Breaking", published_at=timezone.now())

        assert listed_titles(client.get("/"))[0] == "Breaking"
        assert listed_titles(client.get("/?page=2")) == ["Story 03", "Story 04"]

    def test_a_withdrawn_article_leaves_every_page_at_once(
        self, client, django_capture_on_commit_callbacks
    ):
        first, *_ = articles_hours_ago(4)
        assert "Page 1 of 2" in client.get("/").content.decode()

        with django_capture_on_commit_callbacks(execute=True):
            first.withdraw("Rights lapsed")

        assert listed_titles(client.get("/")) == ["Story 02", "Story 03", "Story 04"]
        assert client.get("/?page=2").status_code == 404

    def test_a_scheduled_article_appears_once_its_time_has_come(self, client):
        articles_hours_ago(2)
        go_live = timezone.now() + datetime.timedelta(hours=1)
        PublishedArticleFactory(title="Scheduled", published_at=go_live)
        assert listed_titles(client.get("/")) == ["Story 01", "Story 02"]

        # Nothing is saved when the time comes: only the clock moves.
        later = go_live + datetime.timedelta(minutes=1)
        with mock.patch("django.utils.timezone.now", return_value=later):
            assert listed_titles(client.get("/")) == ["Scheduled", "Story 01", "Story 02"]
