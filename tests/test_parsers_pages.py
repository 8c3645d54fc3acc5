"""Single article pages: the article and its metadata, with the page's own tags as fallbacks."""

import datetime
import json

import pytest

from articles.sanitize import plain_text
from syndication.parsers import ParseError, parse_page

UTC = datetime.UTC
PARAGRAPHS = "".join(
    f"<p>Paragraph {n} of the report describes the harvest in the northern valleys, where "
    f"farmers counted the losses after weeks of rain and waited for the roads to reopen.</p>"
    for n in range(1, 9)
)


def page(head: str = "", article: str = PARAGRAPHS, lang: str = "en") -> str:
    return (
        f'<!DOCTYPE html><html lang="{lang}"><head><meta charset="utf-8">'
        f"<title>Harvest losses | Valley Times</title>{head}</head><body>"
        '<nav><a href="/">Home</a> <a href="/world">World</a> Subscribe today</nav>'
        f"<article><h1>Harvest losses</h1>{article}</article>"
        "<footer>Copyright Valley Times. All rights reserved.</footer>"
        "<script>trackEverything()</script></body></html>"
    )


OPEN_GRAPH = (
    '<meta property="og:title" content="Harvest losses">'
    '<meta property="og:description" content="Rain ruined the crop.">'
    '<meta property="og:image" content="/images/fields.jpg">'
    '<meta property="og:image:alt" content="Flooded fields">'
    '<meta property="article:published_time" content="2023-09-14T08:30:00+02:00">'
    '<meta property="article:section" content="Agriculture">'
    '<meta name="author" content="Lena Ortiz">'
)


class TestArticlePage:
    def test_article_and_metadata_are_extracted_without_any_fetch(self, no_network):
        feed = parse_page(page(OPEN_GRAPH), url="https://valley.example/news/harvest")
        assert feed.format == "html"
        [item] = feed.items
        assert item.link == item.base_url == "https://valley.example/news/harvest"
        assert item.title == "Harvest losses"
        assert item.summary == "Rain ruined the crop."
        assert [a.name for a in item.authors] == ["Lena Ortiz"]
        assert item.published == datetime.datetime(2023, 9, 14, 6, 30, tzinfo=UTC)
        assert item.lead_image.url == "https://valley.example/images/fields.jpg"
        assert item.lead_image.alt == "Flooded fields"
        assert "Agriculture" in item.categories
        assert item.language == "en"
        body_text = plain_text(item.content_html)
        assert "Paragraph 1 of the report" in body_text and "Paragraph 8" in body_text
        assert "Subscribe today" not in body_text
        assert "trackEverything" not in item.content_html
        assert item.content_html.lstrip().startswith("<")
        json.dumps(item.raw)
        assert no_network == []

    def test_json_ld_fills_in_when_meta_tags_are_missing(self):
        ld = {
            "@context": "https://schema.org",
            "@graph": [
                {"@type": "WebSite", "name": "Valley Times"},
                {
                    "@type": "NewsArticle",
                    "headline": "Harvest losses",
                    "author": [{"@type": "Person", "name": "Ana Ruiz"}, {"name": "Tom Berg"}],
                    "datePublished": "2023-09-14T08:30:00Z",
                    "image": {"@type": "ImageObject", "url": "https://cdn.valley.example/f.jpg"},
                },
            ],
        }
        head = f'<script type="application/ld+json">{json.dumps(ld)}</script>'
        [item] = parse_page(page(head), url="https://valley.example/news/harvest").items
        assert item.lead_image.url == "https://cdn.valley.example/f.jpg"
        assert item.published == datetime.datetime(2023, 9, 14, 8, 30, tzinfo=UTC)
        assert {a.name for a in item.authors} >= {"Ana Ruiz"}

    def test_broken_json_ld_is_ignored(self):
        head = '<script type="application/ld+json">{"@type": "NewsArticle", "headline": </script>'
        [item] = parse_page(page(head), url="https://valley.example/a").items
        assert item.title

    def test_bytes_are_decoded_with_the_declared_charset(self):
        html = page(article=PARAGRAPHS + "<p>Caf\u00e9 owners \u201cworried\u201d.</p>")
        content = html.replace('charset="utf-8"', 'charset="windows-1252"').encode("cp1252")
        [item] = parse_page(content, url="https://valley.example/a").items
        assert "Caf\u00e9 owners \u201cworried\u201d" in plain_text(item.content_html)


class TestFidelity:
    """The article as the page published it: headline once, pictures with alt text and captions."""

    @pytest.mark.parametrize(
        "heading",
        [
            "<h1>Harvest losses</h1>",
            "<h2>HARVEST LOSSES</h2>",
            "<p><strong>Harvest losses.</strong></p>",
            "<header><h1>Harvest  losses</h1></header>",
        ],
    )
    def test_the_headline_is_not_repeated_as_the_first_line_of_the_body(self, heading):
        html = page(OPEN_GRAPH).replace("<h1>Harvest losses</h1>", heading)
        [item] = parse_page(html, url="https://valley.example/news/harvest").items
        assert item.title == "Harvest losses"
        assert "harvest losses" not in plain_text(item.content_html).lower()
        assert plain_text(item.content_html).startswith("Paragraph 1 of the report")

    def test_a_first_paragraph_that_only_starts_like_the_headline_stays(self):
        article = "<p>Harvest losses were counted again on Monday in every valley.</p>" + PARAGRAPHS
        html = page(OPEN_GRAPH, article=article).replace("<h1>Harvest losses</h1>", "")
        [item] = parse_page(html, url="https://valley.example/news/harvest").items
        assert plain_text(item.content_html).startswith("Harvest losses were counted again")

    def test_body_pictures_keep_their_alt_text_and_figure_caption(self):
        figure = (
            '<figure><img src="/images/barn.jpg" alt="A barn roof under water">'
            "<figcaption>The Ostrander barn on Tuesday. Photo: Ida Venn</figcaption></figure>"
        )
        article = PARAGRAPHS[: len(PARAGRAPHS) // 2] + figure + PARAGRAPHS[len(PARAGRAPHS) // 2 :]
        [item] = parse_page(page(OPEN_GRAPH, article=article), url="https://valley.example/n").items
        assert (
            '<figure><img src="https://valley.example/images/barn.jpg" alt="A barn roof under '
            'water"><figcaption>The Ostrander barn on Tuesday. Photo: Ida Venn</figcaption>'
            "</figure>"
        ) in item.content_html

    def test_the_lead_image_takes_its_caption_from_the_figure_that_shows_it(self):
        figure = (
            '<figure><img src="/images/fields.jpg" alt="Fields under water">'
            "<figcaption>The lower fields, seen from the dyke.</figcaption></figure>"
        )
        head = OPEN_GRAPH.replace('<meta property="og:image:alt" content="Flooded fields">', "")
        html = page(head, article=figure + PARAGRAPHS)
        [item] = parse_page(html, url="https://valley.example/news/harvest").items
        image = item.lead_image
        assert (image.url, image.caption, image.alt) == (
            "https://valley.example/images/fields.jpg",
            "The lower fields, seen from the dyke.",
            "Fields under water",
        )

    def test_the_lead_image_takes_caption_and_credit_from_a_json_ld_image_object(self):
        data = {
            "@context": "https://schema.org",
            "@type": "NewsArticle",
            "headline": "Harvest losses",
            "image": {
                "@type": "ImageObject",
                "url": "https://valley.example/images/fields.jpg",
                "caption": "Flooded fields near Ostrander",
                "creditText": "Ida Venn / Valley Times",
            },
        }
        head = f'<script type="application/ld+json">{json.dumps(data)}</script>'
        [item] = parse_page(page(head), url="https://valley.example/news/harvest").items
        image = item.lead_image
        assert (image.caption, image.credit, image.alt) == (
            "Flooded fields near Ostrander",
            "Ida Venn / Valley Times",
            "Flooded fields near Ostrander",
        )


class TestHostilePages:
    def test_a_script_url_as_lead_image_is_dropped(self):
        head = '<meta property="og:image" content="javascript:alert(1)">'
        [item] = parse_page(page(head), url="https://valley.example/a").items
        assert item.lead_image is None

    def test_a_future_publication_date_is_flagged(self):
        head = '<meta property="article:published_time" content="2999-01-01T00:00:00Z">'
        [item] = parse_page(page(head), url="https://valley.example/a").items
        assert (item.published, item.date_problem) == (None, "date in the future")

    def test_markup_in_metadata_is_reduced_to_text(self):
        head = '<meta name="author" content="&lt;img src=x onerror=alert(1)&gt;Eve">'
        html = page(head).replace("<title>Harvest losses | Valley Times</title>", "")
        [item] = parse_page(html, url="https://valley.example/a").items
        assert all("<img" not in a.name for a in item.authors)

    def test_control_characters_are_stripped_from_the_title(self):
        html = page(OPEN_GRAPH).replace("<h1>Harvest losses</h1>", "<h1>Harvest\u202e losses</h1>")
        html = html.replace("<title>Harvest losses | Valley Times</title>", "<title>x\x00y</title>")
        [item] = parse_page(html, url="https://valley.example/a").items
        assert "\u202e" not in item.title and "\x00" not in item.title

    @pytest.mark.parametrize("content", [b"", "   ", b"\x00\x00"])
    def test_an_empty_page_is_unusable(self, content):
        with pytest.raises(ParseError):
            parse_page(content, url="https://valley.example/a")

    def test_a_page_with_no_article_and_no_title_is_unusable(self):
        with pytest.raises(ParseError, match="no article"):
            parse_page("<html><body><div></div></body></html>", url="https://valley.example/a")

    def test_an_oversized_page_is_refused(self):
        with pytest.raises(ParseError, match="larger"):
            parse_page(b"<p>" + b"x" * (11 * 1024 * 1024), url="https://valley.example/a")

    def test_deeply_nested_markup_does_not_crash(self):
        nested = "<div>" * 5000 + PARAGRAPHS + "</div>" * 5000
        feed = parse_page(page(OPEN_GRAPH, article=nested), url="https://valley.example/a")
        assert feed.items[0].title == "Harvest losses"

    def test_a_non_http_page_address_gives_no_link(self):
        [item] = parse_page(page(OPEN_GRAPH), url="file:///etc/passwd").items
        assert item.link == ""
        assert item.lead_image is None  # a relative image cannot be made absolute
