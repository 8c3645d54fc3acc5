"""The article page: its twelve blocks in reading order, its head tags, and hostile text."""

import datetime
import io
import json
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from lxml import html
from PIL import Image

from articles.models import (
    ArticleBlockOverride,
    CanonicalPolicy,
    RightsBasis,
    SiteBlock,
    SiteBlockKey,
)

from .factories import (
    AuthorFactory,
    ImageFactory,
    LicensedSourceFactory,
    PublishedArticleFactory,
    RegionFactory,
    ReportFactory,
    RightsRecordFactory,
    SourceFactory,
    ThemeFactory,
)

pytestmark = pytest.mark.django_db

ANATOMY = [
    "title",
    "byline",
    "dates",
    "taxonomy",
    "lead_media",
    "body",
    "note_to_readers",
    "support_appeal",
    "attribution",
    "community_links",
    "articles_by",
    "site_notices",
]

HOSTILE = '"><script>alert(1)</script>'


def jpeg_upload(width=1400, height=900) -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (40, 90, 160)).save(buffer, format="JPEG")
    return SimpleUploadedFile("upload.jpg", buffer.getvalue(), content_type="image/jpeg")


def page_tree(response):
    return html.fromstring(response.content)


def text_of(element) -> str:
    return " ".join(element.text_content().split())


def json_ld(tree) -> dict:
    (script,) = tree.cssselect('script[type="application/ld+json"]')
    return json.loads(script.text)


@pytest.fixture
def site_blocks():
    contents = {
        SiteBlockKey.NOTE_TO_READERS: "<p>Note to readers: pass this article on.</p>",
        SiteBlockKey.COMMUNITY_LINKS: '<p><a href="https://forum.example/">Discuss it</a></p>',
        SiteBlockKey.DISCLAIMER: "<p>Authors answer for their own words.</p>",
        SiteBlockKey.FAIR_USE: "<p>Quoted material is used for comment and research.</p>",
        SiteBlockKey.MEDIA_INQUIRIES: "<p>Press: desk@site.example</p>",
    }
    for key, content in contents.items():
        SiteBlock.objects.create(key=key, content=content)
    return contents


@pytest.fixture
def full_article(site_blocks):
    """An article with everything the anatomy can show, led by a direct video file."""
    source = SourceFactory(
        name="Harbour Wire",
        homepage="https://harbourwire.example/",
        support_appeal="<p>Harbour Wire runs on reader donations.</p>",
    )
    RightsRecordFactory(
        source=source,
        basis=RightsBasis.CC_BY,
        copyright_holder="Harbour Wire Cooperative",
        attribution_wording="First published by Harbour Wire under CC BY 4.0.",
    )
    article = PublishedArticleFactory(
        source=source,
        title="Ports reopen after the strike",
        dek="Dock workers return after nine days.",
        body="<p>The cranes moved again on <strong>Monday</strong>.</p>",
        original_url="https://harbourwire.example/2020/ports-reopen",
        original_published_at=datetime.datetime(2020, 3, 18, 10, tzinfo=datetime.UTC),
        published_at=datetime.datetime(2020, 3, 19, 8, tzinfo=datetime.UTC),
        video_url="https://cdn.harbourwire.example/clips/cranes.mp4",
    )
    for position, name in enumerate(["Ana Lima", "Ben Osei", "Chen Wu"]):
        article.bylines.create(author=AuthorFactory(name=name), position=position)
    article.regions.add(RegionFactory(name="West Africa"))
    article.themes.add(ThemeFactory(name="Labour"), ThemeFactory(name="Trade"))
    article.reports.add(ReportFactory(title="Ports dossier"))
    article.tags.add("dock strike")
    return article


class TestAnatomy:
    def test_all_twelve_blocks_appear_once_in_reading_order(self, client, full_article):
        tree = page_tree(client.get(full_article.get_absolute_url()))

        blocks = [element.get("data-block") for element in tree.cssselect("[data-block]")]

        assert blocks == ANATOMY

    def test_title_carries_the_kicker(self, client, full_article):
        tree = page_tree(client.get(full_article.get_absolute_url()))

        (heading,) = tree.cssselect("h1")
        assert text_of(heading) == "Video: Ports reopen after the strike"

    def test_an_editor_kicker_wins_over_the_video_label(self, client, full_article):
        full_article.kicker = "Analysis"
        full_article.save()

        tree = page_tree(client.get(full_article.get_absolute_url()))

        assert text_of(tree.cssselect("h1")[0]) == "Analysis: Ports reopen after the strike"

    def test_byline_names_every_author_in_order_with_links(self, client, full_article):
        tree = page_tree(client.get(full_article.get_absolute_url()))

        (byline,) = tree.cssselect('[data-block="byline"]')
        assert text_of(byline) == "By Ana Lima, Ben Osei and Chen Wu"
        assert [a.get("href") for a in byline.cssselect("a")] == [
            "/authors/ana-lima/",
            "/authors/ben-osei/",
            "/authors/chen-wu/",
        ]

    def test_dates_show_the_site_date_and_the_original_line(self, client, full_article):
        tree = page_tree(client.get(full_article.get_absolute_url()))

        dates = text_of(tree.cssselect('[data-block="dates"]')[0])
        assert "The Syndicate Review, March 19, 2020" in dates
        assert "Harbour Wire 18 March 2020" in dates

    def test_taxonomy_links_every_region_theme_report_and_tag(self, client, full_article):
        tree = page_tree(client.get(full_article.get_absolute_url()))

        (taxonomy,) = tree.cssselect('[data-block="taxonomy"]')
        assert "Region: West Africa" in text_of(taxonomy)
        assert "Themes: Labour, Trade" in text_of(taxonomy)
        assert "In-depth Report: Ports dossier" in text_of(taxonomy)
        assert [a.get("href") for a in taxonomy.cssselect("a")] == [
            "/regions/west-africa/",
            "/themes/labour/",
            "/themes/trade/",
            "/reports/ports-dossier/",
            "/tags/dock-strike/",
        ]

    def test_a_direct_video_file_plays_in_an_html5_player(self, client, full_article):
        tree = page_tree(client.get(full_article.get_absolute_url()))

        (video,) = tree.cssselect('[data-block="lead_media"] video')
        assert video.get("controls") is not None
        assert video.get("preload") == "metadata"
        (source,) = video.cssselect("source")
        assert source.get("src") == "https://cdn.harbourwire.example/clips/cranes.mp4"
        assert source.get("type") == "video/mp4"

    @pytest.mark.parametrize(
        ("video_url", "player"),
        [
            ("https://www.youtube.com/watch?v=dQw4w9WgXcQ", "https://www.youtube-nocookie.com/"),
            ("https://vimeo.com/76979871", "https://player.vimeo.com/video/76979871?dnt=1"),
        ],
    )
    def test_hosted_video_loads_nothing_until_the_reader_clicks(
        self, client, full_article, video_url, player
    ):
        full_article.video_url = video_url
        full_article.save()

        response = client.get(full_article.get_absolute_url())
        tree = page_tree(response)

        assert not tree.cssselect("iframe")
        assert [s.get("type") for s in tree.cssselect("script")] == ["application/ld+json"]
        (play,) = tree.cssselect('[data-block="lead_media"] a.video-consent')
        assert play.get("href").startswith(player)
        assert b"youtube.com/embed" not in response.content

    def test_lead_image_has_srcset_sizes_dimensions_alt_caption_and_credit(self, client):
        article = PublishedArticleFactory(
            lead_image=ImageFactory(
                file=jpeg_upload(1400, 900),
                alt="Cranes at dawn",
                caption="The port on the first morning back.",
                credit="Harbour Wire",
            )
        )

        tree = page_tree(client.get(article.get_absolute_url()))

        (figure,) = tree.cssselect('figure[data-block="lead_media"]')
        (image,) = figure.cssselect("img")
        widths = [entry.split()[-1] for entry in image.get("srcset").split(", ")]
        assert widths == ["320w", "640w", "960w", "1280w", "1400w"]
        assert image.get("sizes")
        assert (image.get("width"), image.get("height")) == ("1400", "900")
        assert image.get("alt") == "Cranes at dawn"
        caption = text_of(figure.cssselect("figcaption")[0])
        assert "The port on the first morning back." in caption
        assert "Credit: Harbour Wire" in caption

    def test_an_article_without_lead_media_skips_that_block(self, client, site_blocks):
        article = PublishedArticleFactory()
        tree = page_tree(client.get(article.get_absolute_url()))

        assert not tree.cssselect('[data-block="lead_media"]')

    def test_body_is_printed_as_the_sanitized_html_it_was_saved_as(self, client, full_article):
        tree = page_tree(client.get(full_article.get_absolute_url()))

        (body,) = tree.cssselect('[data-block="body"]')
        assert body.cssselect("p strong")[0].text == "Monday"

    def test_note_to_readers_carries_the_site_text_and_plain_share_links(
        self, client, full_article
    ):
        response = client.get(full_article.get_absolute_url())
        tree = page_tree(response)

        (note,) = tree.cssselect('[data-block="note_to_readers"]')
        assert "Note to readers: pass this article on." in text_of(note)
        links = {a.text: a for a in note.cssselect(".share-links a")}
        assert set(links) >= {"Email", "Mastodon", "Bluesky", "Facebook", "X", "LinkedIn"}
        for link in links.values():
            assert link.get("rel") == "noopener noreferrer"
            assert link.get("onclick") is None
        page_url = "http://testserver/articles/ports-reopen-after-the-strike/"
        email = urlsplit(links["Email"].get("href"))
        assert email.scheme == "mailto"
        assert parse_qs(email.query) == {
            "subject": ["Ports reopen after the strike"],
            "body": [page_url],
        }
        facebook = urlsplit(links["Facebook"].get("href"))
        assert (facebook.scheme, facebook.netloc) == ("https", "www.facebook.com")
        assert parse_qs(facebook.query) == {"u": [page_url]}
        assert [s.get("type") for s in tree.cssselect("script")] == ["application/ld+json"]

    def test_support_appeal_is_the_sources_own_text(self, client, full_article):
        tree = page_tree(client.get(full_article.get_absolute_url()))

        (appeal,) = tree.cssselect('[data-block="support_appeal"]')
        assert text_of(appeal) == "Harbour Wire runs on reader donations."

    def test_support_appeal_is_absent_when_the_source_has_none(self, client, site_blocks):
        article = PublishedArticleFactory(source=LicensedSourceFactory(support_appeal=""))

        tree = page_tree(client.get(article.get_absolute_url()))

        assert not tree.cssselect('[data-block="support_appeal"]')

    def test_attribution_comes_from_the_rights_record(self, client, full_article):
        tree = page_tree(client.get(full_article.get_absolute_url()))

        (attribution,) = tree.cssselect('[data-block="attribution"]')
        text = text_of(attribution)
        assert "The original source of this article is Harbour Wire" in text
        assert "Copyright © Harbour Wire Cooperative, 2020" in text
        assert "First published by Harbour Wire under CC BY 4.0." in text
        hrefs = [a.get("href") for a in attribution.cssselect("a")]
        assert hrefs[0] == "https://harbourwire.example/2020/ports-reopen"
        licence = attribution.cssselect('a[rel~="license"]')[0]
        assert licence.get("href") == "https://creativecommons.org/licenses/by/4.0/"

    def test_a_permission_source_has_no_licence_link(self, client, site_blocks):
        article = PublishedArticleFactory()

        tree = page_tree(client.get(article.get_absolute_url()))

        assert not tree.cssselect('[data-block="attribution"] a[rel~="license"]')

    def test_copyright_year_follows_the_original_publication(self, client, site_blocks):
        article = PublishedArticleFactory(
            original_published_at=datetime.datetime(2017, 12, 31, 23, tzinfo=datetime.UTC)
        )

        tree = page_tree(client.get(article.get_absolute_url()))

        assert ", 2017" in text_of(tree.cssselect('[data-block="attribution"]')[0])

    def test_articles_by_links_each_authors_archive(self, client, full_article):
        tree = page_tree(client.get(full_article.get_absolute_url()))

        (block,) = tree.cssselect('[data-block="articles_by"]')
        assert text_of(block).startswith("Articles by:")
        assert [a.text for a in block.cssselect("a")] == ["Ana Lima", "Ben Osei", "Chen Wu"]

    def test_site_notices_print_disclaimer_fair_use_and_media_inquiries(self, client, full_article):
        tree = page_tree(client.get(full_article.get_absolute_url()))

        notices = text_of(tree.cssselect('[data-block="site_notices"]')[0])
        assert notices.index("Authors answer") < notices.index("Quoted material")
        assert notices.index("Quoted material") < notices.index("Press: desk@site.example")

    def test_per_article_overrides_replace_or_hide_site_blocks(self, client, full_article):
        ArticleBlockOverride.objects.create(
            article=full_article, key=SiteBlockKey.COMMUNITY_LINKS, hide=True
        )
        ArticleBlockOverride.objects.create(
            article=full_article,
            key=SiteBlockKey.DISCLAIMER,
            content="<p>A special disclaimer for this piece.</p>",
        )

        tree = page_tree(client.get(full_article.get_absolute_url()))

        assert not tree.cssselect('[data-block="community_links"]')
        notices = text_of(tree.cssselect('[data-block="site_notices"]')[0])
        assert "A special disclaimer for this piece." in notices
        assert "Authors answer" not in notices

    def test_an_article_without_authors_credits_its_source(self, client, site_blocks):
        article = PublishedArticleFactory(source=LicensedSourceFactory(name="Desk Agency"))

        tree = page_tree(client.get(article.get_absolute_url()))

        byline = tree.cssselect('[data-block="byline"]')[0]
        assert text_of(byline) == "By Desk Agency"
        assert byline.cssselect("a")[0].get("href") == "/sources/desk-agency/"

    def test_page_language_is_the_articles(self, client, site_blocks):
        article = PublishedArticleFactory(language="fr")

        assert page_tree(client.get(article.get_absolute_url())).get("lang") == "fr"


class TestHeadTags:
    def test_canonical_points_at_the_original_when_the_source_says_so(self, client, full_article):
        assert full_article.source.canonical_policy == CanonicalPolicy.ORIGINAL

        tree = page_tree(client.get(full_article.get_absolute_url()))

        (canonical,) = tree.cssselect('link[rel="canonical"]')
        assert canonical.get("href") == "https://harbourwire.example/2020/ports-reopen"

    def test_canonical_points_at_this_site_under_the_site_policy(self, client, site_blocks):
        source = LicensedSourceFactory(canonical_policy=CanonicalPolicy.SITE)
        article = PublishedArticleFactory(source=source, title="Here first")

        tree = page_tree(client.get(article.get_absolute_url()))

        (canonical,) = tree.cssselect('link[rel="canonical"]')
        assert canonical.get("href") == "http://testserver/articles/here-first/"

    def test_robots_follow_the_sources_noindex_choice(self, client, site_blocks):
        indexed = PublishedArticleFactory()
        hidden = PublishedArticleFactory(source=LicensedSourceFactory(noindex=True))

        def robots(article):
            tree = page_tree(client.get(article.get_absolute_url()))
            return tree.cssselect('meta[name="robots"]')[0].get("content")

        assert robots(indexed) == "index, follow"
        assert robots(hidden) == "noindex, follow"

    def test_title_and_description(self, client, full_article):
        tree = page_tree(client.get(full_article.get_absolute_url()))

        assert tree.findtext(".//title").startswith("Video: Ports reopen after the strike")
        description = tree.cssselect('meta[name="description"]')[0].get("content")
        assert description == "Dock workers return after nine days."

    def test_open_graph(self, client):
        article = PublishedArticleFactory(
            title="Pictured",
            dek="With a picture.",
            lead_image=ImageFactory(file=jpeg_upload(1000, 500)),
        )

        tree = page_tree(client.get(article.get_absolute_url()))
        og = {
            meta.get("property"): meta.get("content") for meta in tree.cssselect("meta[property]")
        }

        assert og["og:type"] == "article"
        assert og["og:title"] == "Pictured"
        assert og["og:description"] == "With a picture."
        assert og["og:url"] == "http://testserver/articles/pictured/"
        assert og["og:site_name"] == "The Syndicate Review"
        assert og["og:image"] == f"http://testserver{article.lead_image.file.url}"
        assert og["article:published_time"] == article.published_at.isoformat()

    def test_json_ld_describes_a_news_article_based_on_the_original(self, client, full_article):
        tree = page_tree(client.get(full_article.get_absolute_url()))

        data = json_ld(tree)

        assert data["@context"] == "https://schema.org"
        assert data["@type"] == "NewsArticle"
        assert data["headline"] == "Ports reopen after the strike"
        assert data["isBasedOn"] == "https://harbourwire.example/2020/ports-reopen"
        assert data["datePublished"] == "2020-03-19T08:00:00+00:00"
        assert data["dateModified"]
        assert data["author"][0] == {
            "@type": "Person",
            "name": "Ana Lima",
            "url": "http://testserver/authors/ana-lima/",
        }
        assert len(data["author"]) == 3
        assert data["publisher"]["@type"] == "Organization"
        assert data["publisher"]["name"] == "The Syndicate Review"
        assert data["sourceOrganization"] == {
            "@type": "Organization",
            "name": "Harbour Wire",
            "url": "https://harbourwire.example/",
        }
        assert data["copyrightHolder"]["name"] == "Harbour Wire Cooperative"
        assert data["copyrightYear"] == 2020
        assert data["mainEntityOfPage"]["@id"] == (
            "http://testserver/articles/ports-reopen-after-the-strike/"
        )
        assert data["license"] == "https://creativecommons.org/licenses/by/4.0/"

    def test_json_ld_names_the_publisher_at_the_address_the_site_was_asked_on(
        self, client, settings
    ):
        settings.SITE_URL = "http://127.0.0.1:8000"
        article = PublishedArticleFactory()

        response = client.get(article.get_absolute_url(), HTTP_HOST="127.0.0.1:8080")

        assert json_ld(page_tree(response))["publisher"]["url"] == "http://127.0.0.1:8080/"

    def test_json_ld_names_the_lead_image_by_absolute_url(self, client):
        article = PublishedArticleFactory(lead_image=ImageFactory(file=jpeg_upload(800, 600)))

        data = json_ld(page_tree(client.get(article.get_absolute_url())))

        assert data["image"][0] == f"http://testserver{article.lead_image.file.url}"


class TestHostileArticle:
    @pytest.fixture
    def hostile(self, site_blocks):
        source = LicensedSourceFactory(name=HOSTILE)
        article = PublishedArticleFactory(
            source=source,
            title=HOSTILE,
            dek=HOSTILE,
            kicker=HOSTILE[:50],
            lead_image=ImageFactory(alt=HOSTILE, caption=HOSTILE, credit=HOSTILE),
            original_title=HOSTILE + "</script>",
        )
        article.bylines.create(author=AuthorFactory(name=HOSTILE + "</script><!--"))
        article.tags.add(HOSTILE)
        return article

    def test_hostile_text_is_escaped_everywhere_in_the_html(self, client, hostile):
        response = client.get(hostile.get_absolute_url())
        page = response.content.decode()

        assert response.status_code == 200
        assert "<script>alert(1)</script>" not in page
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
        tree = html.fromstring(response.content)
        assert [s.get("type") for s in tree.cssselect("script")] == ["application/ld+json"]

    def test_hostile_text_cannot_close_the_json_ld_element(self, client, hostile):
        response = client.get(hostile.get_absolute_url())
        page = response.content.decode()

        start = page.index('<script type="application/ld+json">')
        end = page.index("</script>", start)
        raw = page[start:end]
        assert "<" not in raw[len('<script type="application/ld+json">') :]
        data = json.loads(raw.split(">", 1)[1])
        assert data["headline"] == HOSTILE
        assert data["author"][0]["name"] == HOSTILE + "</script><!--"
        assert data["sourceOrganization"]["name"] == HOSTILE
