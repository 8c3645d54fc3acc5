"""Sitemaps and robots.txt, parsed back as XML with their namespaces."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from lxml import etree

from articles.models import ArticleStatus, Byline
from tests.factories import (
    ArticleFactory,
    AuthorFactory,
    PublishedArticleFactory,
    RegionFactory,
    ThemeFactory,
)

pytestmark = pytest.mark.django_db

NS = {
    "sm": "http://www.sitemaps.org/schemas/sitemap/0.9",
    "news": "http://www.google.com/schemas/sitemap-news/0.9",
}
SITE = "http://testserver"


def xml(client, url):
    response = client.get(url)
    assert response.status_code == 200, url
    assert response["Content-Type"].startswith("application/xml")
    return etree.fromstring(response.content)


def locs(document) -> list[str]:
    return document.xpath("//sm:loc/text()", namespaces=NS)


def month_section(moment: datetime.datetime) -> str:
    return f"{SITE}/sitemap-articles-{timezone.localtime(moment):%Y-%m}.xml"


def ago(**delta) -> datetime.datetime:
    return timezone.now() - datetime.timedelta(**delta)


@pytest.fixture
def unseen_articles():
    """Articles no sitemap may list, all published (or meant to be) in the last hours."""
    withdrawn = PublishedArticleFactory(title="Withdrawn")
    withdrawn.withdraw("Published in error")
    return [
        ArticleFactory(title="Draft"),
        ArticleFactory(title="In review", status=ArticleStatus.REVIEW),
        PublishedArticleFactory(
            title="Scheduled", published_at=timezone.now() + datetime.timedelta(hours=2)
        ),
        withdrawn,
        PublishedArticleFactory(title="Not indexed", source__noindex=True),
    ]


class TestIndex:
    def test_lists_one_section_per_month_with_articles_and_the_subject_sections(self, client):
        recent = PublishedArticleFactory(published_at=ago(hours=1))
        old = PublishedArticleFactory(published_at=ago(days=400))
        document = xml(client, "/sitemap.xml")
        assert document.tag == f"{{{NS['sm']}}}sitemapindex"
        sections = locs(document)
        assert month_section(recent.published_at) in sections
        assert month_section(old.published_at) in sections
        for name in ("regions", "themes", "reports", "authors", "sources", "tags", "news"):
            assert f"{SITE}/sitemap-{name}.xml" in sections
        assert len(sections) == 2 + 7

    def test_months_with_only_unseen_articles_are_not_listed(self, client, unseen_articles):
        sections = locs(xml(client, "/sitemap.xml"))
        assert not [section for section in sections if "sitemap-articles-" in section]

    def test_every_section_it_names_can_be_fetched(self, client):
        PublishedArticleFactory()
        for section in locs(xml(client, "/sitemap.xml")):
            xml(client, section.removeprefix(SITE))

    def test_costs_the_same_queries_however_many_months(self, client, settings):
        settings.PAGE_CACHE_SECONDS = 0  # count the index's own queries, not a cache hit

        def queries():
            with CaptureQueriesContext(connection) as captured:
                xml(client, "/sitemap.xml")
            return len(captured)

        PublishedArticleFactory(published_at=ago(days=1))
        one_month = queries()
        for months in (2, 3, 4, 5):
            PublishedArticleFactory(published_at=ago(days=31 * months))
        assert queries() == one_month


class TestArticleSections:
    def test_a_month_lists_its_live_articles_with_lastmod(self, client, unseen_articles):
        live = PublishedArticleFactory(published_at=ago(minutes=5))
        other_month = PublishedArticleFactory(published_at=ago(days=70))
        document = xml(client, month_section(live.published_at).removeprefix(SITE))
        assert locs(document) == [SITE + live.get_absolute_url()]
        (lastmod,) = document.xpath("//sm:lastmod/text()", namespaces=NS)
        assert lastmod == f"{live.updated_at:%Y-%m-%d}"
        assert other_month.get_absolute_url() not in str(etree.tostring(document))

    def test_an_unknown_section_is_404(self, client):
        assert client.get("/sitemap-articles-1999-01.xml").status_code == 404
        assert client.get("/sitemap-planets.xml").status_code == 404


class TestSubjectSections:
    def test_regions_and_themes_are_all_listed(self, client):
        region, theme = RegionFactory(), ThemeFactory()
        assert locs(xml(client, "/sitemap-regions.xml")) == [SITE + region.get_absolute_url()]
        assert locs(xml(client, "/sitemap-themes.xml")) == [SITE + theme.get_absolute_url()]

    def test_authors_sources_and_tags_only_with_live_articles(self, client):
        live = PublishedArticleFactory()
        hidden = ArticleFactory()
        published_author, draft_author = AuthorFactory(), AuthorFactory()
        Byline.objects.create(article=live, author=published_author)
        Byline.objects.create(article=hidden, author=draft_author)
        live.tags.add("harbours")
        hidden.tags.add("secret-plans")
        assert locs(xml(client, "/sitemap-authors.xml")) == [
            SITE + published_author.get_absolute_url()
        ]
        assert locs(xml(client, "/sitemap-sources.xml")) == [SITE + live.source.get_absolute_url()]
        assert locs(xml(client, "/sitemap-tags.xml")) == [f"{SITE}/tags/harbours/"]

    def test_a_tag_whose_name_has_no_letters_is_listed_and_its_page_answers(self, client):
        live = PublishedArticleFactory()
        live.tags.add("!!!", "\U0001f980", "harbours")
        urls = locs(xml(client, "/sitemap-tags.xml"))
        assert len(urls) == 3
        for url in urls:
            assert client.get(url.removeprefix(SITE)).status_code == 200
        assert client.get(live.get_absolute_url()).status_code == 200


class TestNewsSitemap:
    def test_lists_the_last_48_hours_only(self, client, unseen_articles):
        fresh = PublishedArticleFactory(title="Fresh", published_at=ago(hours=47))
        PublishedArticleFactory(title="Stale", published_at=ago(hours=49))
        document = xml(client, "/sitemap-news.xml")
        assert locs(document) == [SITE + fresh.get_absolute_url()]

    def test_carries_the_news_elements(self, client):
        article = PublishedArticleFactory(
            title="Port strike & talks", language="pt-BR", published_at=ago(hours=3)
        )
        document = xml(client, "/sitemap-news.xml")
        (news,) = document.xpath("//sm:url/news:news", namespaces=NS)

        def text(path):
            return news.xpath(path, namespaces=NS)[0].text

        assert text("news:publication/news:name") == "The Syndicate Review"
        assert text("news:publication/news:language") == "pt"
        assert text("news:title") == "Port strike & talks"
        published = datetime.datetime.fromisoformat(text("news:publication_date"))
        assert abs(published - article.published_at) < datetime.timedelta(seconds=1)


class TestRobots:
    def test_names_the_sitemaps_and_keeps_crawlers_out_of_admin_and_previews(self, client):
        response = client.get("/robots.txt")
        assert response.status_code == 200
        assert response["Content-Type"].startswith("text/plain")
        lines = response.content.decode().splitlines()
        assert "User-agent: *" in lines
        assert "Disallow: /admin/" in lines
        assert "Disallow: /preview/" in lines
        assert f"Sitemap: {SITE}/sitemap.xml" in lines
        assert f"Sitemap: {SITE}/sitemap-news.xml" in lines
