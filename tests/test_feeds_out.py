"""Feeds out: RSS 2.0, Atom and JSON Feed, parsed back and checked against their specs."""

import datetime
import html
import json

import feedparser
import lxml.html
import pytest
from django.db import connection
from django.template import engines
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from lxml import etree

from articles.models import Article, ArticleStatus, Byline
from tests.factories import (
    ArticleFactory,
    AuthorFactory,
    LicensedSourceFactory,
    PublishedArticleFactory,
    RegionFactory,
    ReportFactory,
    ThemeFactory,
)

pytestmark = pytest.mark.django_db


def parsed(client, url):
    response = client.get(url)
    assert response.status_code == 200, url
    document = feedparser.parse(response.content)
    assert not document.bozo, document.get("bozo_exception")
    return response, document


@pytest.fixture
def newsroom():
    """One live article with everything an item prints, and articles readers must not see."""
    live = PublishedArticleFactory(
        title="Wetlands absorb the flood",
        dek="How marshes protect a town.",
        body='<p>Marshes slowed the <a href="https://example.org/water">water</a>.</p>',
        source__name="Delta Courier",
        original_url="https://delta-courier.example/2024/wetlands",
    )
    rights = live.source.rights
    rights.copyright_holder = "Delta Courier Media"
    rights.attribution_wording = "Republished with the permission of the Delta Courier."
    rights.save()
    Byline.objects.create(article=live, author=AuthorFactory(name="Amara Diallo"), position=0)
    Byline.objects.create(article=live, author=AuthorFactory(name="Jonas Berg"), position=1)
    live.regions.add(RegionFactory(name="Sahel"))
    live.themes.add(ThemeFactory(name="Climate"))
    live.tags.add("wetlands")
    ArticleFactory(title="A draft nobody may see")
    ArticleFactory(title="An article in review", status=ArticleStatus.REVIEW)
    PublishedArticleFactory(
        title="Scheduled for tomorrow", published_at=timezone.now() + datetime.timedelta(days=1)
    )
    PublishedArticleFactory(title="Withdrawn after a complaint").withdraw("Complaint upheld")
    return live


class TestRss:
    def test_is_valid_rss_with_only_live_articles(self, client, newsroom):
        response, feed = parsed(client, "/feeds/rss/")
        assert response["Content-Type"].startswith("application/rss+xml")
        assert feed.version == "rss20"
        assert [entry.title for entry in feed.entries] == ["Wetlands absorb the flood"]

    def test_items_name_the_original_in_source(self, client, newsroom):
        _response, feed = parsed(client, "/feeds/rss/")
        (entry,) = feed.entries
        assert entry.source.href == "https://delta-courier.example/2024/wetlands"
        assert entry.source.title == "Delta Courier"

    def test_items_carry_the_full_body_and_the_attribution_block(self, client, newsroom):
        _response, feed = parsed(client, "/feeds/rss/")
        (entry,) = feed.entries
        description = entry.description
        assert "Marshes slowed the" in description
        assert "The original source of this article is" in description
        assert 'href="https://delta-courier.example/2024/wetlands"' in description
        assert f"Copyright © Delta Courier Media, {newsroom.copyright_year}" in description
        assert "Republished with the permission of the Delta Courier." in description

    def test_items_have_link_dates_authors_and_categories(self, client, newsroom):
        _response, feed = parsed(client, "/feeds/rss/")
        (entry,) = feed.entries
        assert entry.link == "http://testserver/articles/wetlands-absorb-the-flood/"
        assert entry.id == entry.link
        assert entry.author == "Amara Diallo and Jonas Berg"
        assert {tag.term for tag in entry.tags} == {"Sahel", "Climate", "wetlands"}
        published = datetime.datetime(*entry.published_parsed[:6], tzinfo=datetime.UTC)
        assert abs(published - newsroom.published_at) < datetime.timedelta(seconds=1)

    def test_hostile_titles_are_escaped_text(self, client):
        PublishedArticleFactory(title="Tolls <script>alert(1)</script> rise")
        response, feed = parsed(client, "/feeds/rss/")
        assert b"<script>" not in response.content
        # feedparser reads an RSS title as HTML (as many readers do): the HTML is the text.
        (entry,) = feed.entries
        assert entry.title_detail.type == "text/html" and "<script" not in entry.title
        assert html.unescape(entry.title) == "Tolls <script>alert(1)</script> rise"


class TestAtom:
    def test_is_valid_atom_with_content_and_a_link_to_the_original(self, client, newsroom):
        response, feed = parsed(client, "/feeds/atom/")
        assert response["Content-Type"].startswith("application/atom+xml")
        assert feed.version == "atom10"
        (entry,) = feed.entries
        assert entry.summary == "How marshes protect a town."
        (content,) = entry.content
        assert content.type == "text/html"
        assert "Marshes slowed the" in content.value
        assert "The original source of this article is" in content.value
        via = [link.href for link in entry.links if link.rel == "via"]
        assert via == ["https://delta-courier.example/2024/wetlands"]
        assert entry.updated_parsed is not None
        assert feed.feed.links[-1].rel == "self"


class TestSubjectFeeds:
    def test_each_kind_of_subject_has_its_rss_and_atom_feeds(self, client, newsroom):
        report = ReportFactory(title="Water Wars")
        newsroom.reports.add(report)
        subjects = {
            "regions": newsroom.regions.get().slug,
            "themes": newsroom.themes.get().slug,
            "reports": report.slug,
            "authors": newsroom.ordered_authors[0].slug,
            "sources": newsroom.source.slug,
            "tags": "wetlands",
        }
        PublishedArticleFactory(title="Filed under nothing")
        for kind, slug in subjects.items():
            for variant, version in (("rss", "rss20"), ("atom", "atom10")):
                _response, feed = parsed(client, f"/feeds/{kind}/{slug}/{variant}/")
                assert feed.version == version
                assert [entry.title for entry in feed.entries] == [newsroom.title], kind

    def test_a_region_feed_includes_its_sub_regions(self, client):
        continent = RegionFactory(name="Asia")
        country = RegionFactory(name="Nepal", parent=continent)
        PublishedArticleFactory(title="Himalayan roads").regions.add(country)
        _response, feed = parsed(client, f"/feeds/regions/{continent.slug}/rss/")
        assert feed.feed.title.startswith("Asia")
        assert [entry.title for entry in feed.entries] == ["Himalayan roads"]

    def test_unknown_kinds_and_slugs_are_404(self, client):
        assert client.get("/feeds/planets/mars/rss/").status_code == 404
        assert client.get("/feeds/regions/atlantis/rss/").status_code == 404


class TestJsonFeed:
    def test_is_json_feed_1_1_with_the_required_fields(self, client, newsroom):
        response = client.get("/feeds/json/")
        assert response["Content-Type"].startswith("application/feed+json")
        document = json.loads(response.content)
        assert document["version"] == "https://jsonfeed.org/version/1.1"
        assert document["title"]
        assert document["home_page_url"] == "http://testserver/"
        assert document["feed_url"] == "http://testserver/feeds/json/"
        (item,) = document["items"]
        assert item["id"] == item["url"] == "http://testserver/articles/wetlands-absorb-the-flood/"
        assert item["external_url"] == "https://delta-courier.example/2024/wetlands"
        assert item["title"] == "Wetlands absorb the flood"
        assert item["summary"] == "How marshes protect a town."
        assert "The original source of this article is" in item["content_html"]
        assert [author["name"] for author in item["authors"]] == ["Amara Diallo", "Jonas Berg"]
        assert set(item["tags"]) == {"Sahel", "Climate", "wetlands"}
        for key in ("date_published", "date_modified"):
            assert datetime.datetime.fromisoformat(item[key]).tzinfo is not None

    def test_a_scheduled_article_is_never_modified_before_it_was_published(self, client):
        published_at = timezone.now().replace(microsecond=0) - datetime.timedelta(hours=1)
        article = PublishedArticleFactory(published_at=published_at)
        # Scheduled: last saved two hours before the time it went live.
        Article.objects.filter(pk=article.pk).update(
            updated_at=published_at - datetime.timedelta(hours=2)
        )

        (item,) = json.loads(client.get("/feeds/json/").content)["items"]
        atom_entry = feedparser.parse(client.get("/feeds/atom/").content).entries[0]

        assert item["date_modified"] == item["date_published"] == published_at.isoformat()
        assert atom_entry.updated_parsed == atom_entry.published_parsed

    def test_an_article_without_authors_credits_its_source(self, client):
        PublishedArticleFactory(source__name="Wire Service")
        (item,) = json.loads(client.get("/feeds/json/").content)["items"]
        assert item["authors"] == [{"name": "Wire Service"}]
        assert "image" not in item


# H6: markup in any text a feed prints (a source named after its feed's <title>, an author, a
# tag, a title) never comes out as markup once a reader decodes the XML.
MARKUP = "<svg onload=alert(1)>"


@pytest.fixture
def hostile_newsroom():
    source = LicensedSourceFactory(name=f"Wire {MARKUP}")
    article = PublishedArticleFactory(
        source=source, title=f"Tolls {MARKUP} rise", dek=f"Dek {MARKUP}", kicker=f"K{MARKUP}"
    )
    Byline.objects.create(
        article=article, author=AuthorFactory(name="<img src=x onerror=alert(2)>Ann")
    )
    article.regions.add(RegionFactory(name="<b onmouseover=alert(3)>North</b>"))
    article.tags.add("<i onclick=alert(4)>tag</i>")
    return article


# Elements whose content is HTML by definition: checked as HTML (sanitized, inert) instead.
HTML_ELEMENTS = {
    "description",
    "{http://www.w3.org/2005/Atom}content",
    "{http://www.w3.org/2005/Atom}summary",
}


def live_markup(document: bytes) -> list[str]:
    """Texts and attribute values of an XML feed that hold markup after one XML decode."""
    problems = []
    for element in etree.fromstring(document).iter():
        if not isinstance(element.tag, str):
            continue
        is_html = element.tag in HTML_ELEMENTS and element.getparent().tag in {
            "item",
            "{http://www.w3.org/2005/Atom}entry",
        }
        if is_html and element.text:
            fragment = lxml.html.fragment_fromstring(element.text, create_parent="div")
            for node in fragment.iter():
                handlers = [name for name in node.attrib if name.lower().startswith("on")]
                if node.tag in {"svg", "script", "iframe"} or handlers:
                    problems.append(f"{element.tag}: {element.text[:60]}")
            continue
        for text in [element.text or "", *element.attrib.values()]:
            if "<" in text:
                problems.append(f"{element.tag}: {text[:60]}")
    return problems


class TestTextIsNeverMarkup:
    @pytest.mark.parametrize(
        "address",
        [
            "/feeds/rss/",
            "/feeds/atom/",
            "/feeds/sources/{source}/rss/",
            "/feeds/sources/{source}/atom/",
            "/feeds/tags/{tag}/rss/",
            "/feeds/regions/{region}/atom/",
            "/feeds/authors/{author}/rss/",
        ],
    )
    def test_no_text_of_an_xml_feed_holds_markup_after_one_decode(
        self, client, hostile_newsroom, address
    ):
        article = hostile_newsroom
        url = address.format(
            source=article.source.slug,
            tag=article.tags.get().slug,
            region=article.regions.get().slug,
            author=article.bylines.get().author.slug,
        )
        response = client.get(url)
        assert response.status_code == 200, url
        assert live_markup(response.content) == []

    def test_readers_showing_text_as_html_show_it_as_written(self, client, hostile_newsroom):
        _response, feed = parsed(client, f"/feeds/sources/{hostile_newsroom.source.slug}/rss/")
        assert html.unescape(feed.feed.title).startswith(f"Wire {MARKUP}")
        assert html.unescape(feed.entries[0].title) == f"K{MARKUP}: Tolls {MARKUP} rise"
        assert html.unescape(feed.entries[0].source.title) == f"Wire {MARKUP}"


class TestQueryCounts:
    @pytest.mark.parametrize(
        "url", ["/feeds/rss/", "/feeds/atom/", "/feeds/json/", "/feeds/themes/{theme}/rss/"]
    )
    def test_queries_do_not_grow_with_the_items(self, client, settings, url):
        settings.PAGE_CACHE_SECONDS = 0  # count the feed's own queries, not a cache hit
        theme = ThemeFactory(slug="energy")

        def add_articles(count):
            for _ in range(count):
                article = PublishedArticleFactory()
                Byline.objects.create(article=article, author=AuthorFactory())
                article.regions.add(RegionFactory())
                article.themes.add(theme)
                article.tags.add("power")

        def queries():
            with CaptureQueriesContext(connection) as captured:
                assert client.get(url.format(theme=theme.slug)).status_code == 200
            return len(captured)

        add_articles(2)
        few = queries()
        add_articles(8)
        assert queries() == few
        assert 0 < few <= 6


class TestAutodiscovery:
    def test_every_page_names_the_site_feeds(self, client):
        html = client.get("/").content.decode()
        assert (
            '<link rel="alternate" type="application/rss+xml" '
            'title="The Syndicate Review: latest articles (RSS)" href="/feeds/rss/">'
        ) in html
        assert 'type="application/atom+xml"' in html
        assert 'type="application/feed+json"' in html

    def test_a_listing_also_names_its_own_feeds(self, client):
        region = RegionFactory(name="Balkans")
        html = client.get(region.get_absolute_url()).content.decode()
        assert f'href="/feeds/regions/{region.slug}/rss/"' in html
        assert f'href="/feeds/regions/{region.slug}/atom/"' in html

    def test_the_include_offers_subject_feeds_only_for_known_subjects(self):
        template = engines["jinja2"].from_string(
            '{% include "includes/_feed_autodiscovery.html" %}'
        )
        html = template.render({"subject": ThemeFactory(name="Energy")})
        assert 'href="/feeds/themes/energy/atom/"' in html
        html = template.render({"subject": "not a subject"})
        assert html.count('rel="alternate"') == 3
