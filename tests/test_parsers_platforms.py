"""Content-field precedence, against feeds shaped like each major publishing platform's output.

The rule (docs/importing.md, "Which field is the article"): the full content over the summary;
Media RSS text (media:description, media:title, media:credit) belongs to the picture, never to
the article; a summary that is the same text as the body is not kept as the summary too. The
documents under tests/fixtures/feeds/platforms/ were written for these tests, each in the shape
its platform publishes (namespaces, element order, CDATA, escaping).
"""

from pathlib import Path

import pytest

from syndication.parsers import parse_feed

PLATFORMS = Path(__file__).resolve().parent / "fixtures" / "feeds" / "platforms"


def items_of(name: str):
    return parse_feed((PLATFORMS / name).read_bytes(), url=f"https://feeds.example/{name}").items


def lead(item) -> tuple[str, str, str, str]:
    image = item.lead_image
    return (image.url, image.caption, image.credit, image.alt) if image else ("", "", "", "")


class TestWordPress:
    """content:encoded is the body, the description is an excerpt, media:title is a file name."""

    def test_the_full_content_is_the_body_and_the_excerpt_the_summary(self):
        [item] = items_of("wordpress.xml")
        assert item.content_html.startswith("<p>The crossing to Wrenholm will run every forty")
        assert "Commuters who use the first boat" in item.content_html
        assert item.summary.startswith("The crossing to Wrenholm will run every forty minutes")
        assert "Commuters" not in item.summary

    def test_the_featured_image_has_no_invented_caption_and_keeps_the_body_figure(self):
        [item] = items_of("wordpress.xml")
        assert lead(item) == (
            "https://saltmarsh.example/wp-content/uploads/2026/03/ferry-dawn.jpg",
            "",
            "",
            "",
        )
        assert "ferry-dawn" not in item.title + item.summary + item.content_html
        assert 'alt="The ferry slipway at low tide"' in item.content_html
        assert "<figcaption" in item.content_html


class TestGhost:
    """media:content carries the feature image's caption and credit before content:encoded."""

    def test_the_caption_stays_with_the_image_and_the_article_keeps_its_text(self):
        [item] = items_of("ghost.xml")
        assert item.title == "A winter of long evenings"
        assert "There is a week in February" in item.content_html
        assert "northern cape light at dusk" not in item.content_html
        assert item.summary == (
            "Why the northern cape keeps its light so late in the year, and what the fishermen "
            "make of it."
        )

    def test_caption_and_credit_from_media_rss_alt_from_the_same_picture_in_the_body(self):
        [item] = items_of("ghost.xml")
        assert lead(item) == (
            "https://northlight.example/content/images/2026/03/cape-dusk.jpg",
            "The northern cape light at dusk",
            "Photo: Ingrid Saether",
            "Low sun over the cape",
        )


class TestSubstack:
    """The subtitle is the description; the cover image is an enclosure also shown in the body."""

    def test_body_summary_and_cover_image(self):
        [item] = items_of("substack.xml")
        assert "Set them rose end up" in item.content_html
        assert item.summary == "Ten days on a windowsill make the difference."
        assert lead(item) == (
            "https://allotmentledger.example/img/potatoes-tray.jpeg",
            "Ten days on the kitchen windowsill.",
            "",
            "Seed potatoes sprouting in an egg tray",
        )


class TestMedium:
    """Only content:encoded: there is no summary, so the body is not repeated as one."""

    def test_no_summary_is_made_up_from_the_body(self):
        [item] = items_of("medium.xml")
        assert "A tide table gives you heights and times." in item.content_html
        assert item.summary == ""
        assert item.lead_image is None

    def test_the_body_figure_keeps_its_alt_text_and_caption(self):
        [item] = items_of("medium.xml")
        assert 'alt="A chart table with a pencil and dividers"' in item.content_html
        assert "<figcaption>Dividers, pencil, and a chart older than the boat.</figcaption>" in (
            item.content_html
        )


class TestBlogger:
    """Atom with HTML content and a media:thumbnail, no summary."""

    def test_content_is_the_body_the_thumbnail_the_lead_image(self):
        [item] = items_of("blogger.xml")
        assert item.content_html.startswith("<p>Two marsh harriers were quartering")
        assert 'alt="A marsh harrier low over reeds"' in item.content_html
        assert item.summary == ""
        assert lead(item) == (
            "https://blogger.googleusercontent.example/img/b/R29v/s72-c/harrier.jpg",
            "",
            "",
            "",
        )


class TestDrupal:
    """The whole article is in the description, after a span repeating the title."""

    def test_the_description_is_the_body_once_without_the_repeated_title(self):
        [item] = items_of("drupal.xml")
        assert item.title == "Footbridge at Millholme reopens"
        assert "Footbridge at Millholme reopens" not in item.content_html
        assert "reopened on Saturday after six months" in item.content_html
        assert "Cyclists are asked to dismount" in item.content_html
        assert item.summary == ""

    def test_the_inline_figure_resolves_against_xml_base_and_keeps_alt_and_caption(self):
        [item] = items_of("drupal.xml")
        assert (
            'src="https://valleycouncil.example/sites/default/files/inline-images/'
            'millholme-bridge.jpg"'
        ) in item.content_html
        assert 'alt="The repaired footbridge with new handrails"' in item.content_html
        assert "<figcaption>New oak handrails were fitted last month.</figcaption>" in (
            item.content_html
        )


class TestNewsAgencyMediaRss:
    """A media:group of several pictures, each with its own caption and credits."""

    def test_no_caption_reaches_the_body_the_summary_or_the_title(self):
        glacier, pilots = items_of("agency.xml")
        for item in (glacier, pilots):
            article_text = item.title + item.summary + item.content_html
            for caption in ("Tents of the survey team", "western ice front", "Map of the survey",
                            "pilot boat leaves"):  # fmt: skip
                assert caption not in article_text
        assert glacier.title == "Glacier survey finds faster retreat on the western flank"
        assert glacier.summary == "Researchers measured a retreat of 41 metres in a single season."
        assert "twice the rate recorded five years ago" in glacier.content_html

    def test_the_default_picture_leads_with_its_own_caption_and_every_credit(self):
        glacier, _pilots = items_of("agency.xml")
        assert lead(glacier) == (
            "https://media.meridianwire.example/photos/glacier-front.jpg",
            "The western ice front, photographed from a drone on 12 March.",
            "Sigrid Holm / Meridian Wire",
            "The western ice front, photographed from a drone on 12 March.",
        )

    def test_a_description_only_item_keeps_its_text_as_the_body_and_the_caption_on_the_image(
        self,
    ):
        _glacier, pilots = items_of("agency.xml")
        assert pilots.content_html == (
            "<p>Harbour pilots returned to work on Saturday after accepting a two-year pay "
            "deal.</p><p>Ships held at anchor began moving in the afternoon.</p>"
        )
        assert pilots.summary == ""
        assert lead(pilots) == (
            "https://media.meridianwire.example/photos/pilot-boat.jpg",
            "A pilot boat leaves the inner harbour & heads out.",
            "Jonas Ek",
            "A pilot boat leaves the inner harbour & heads out.",
        )


class TestJsonFeed:
    """content_html over content_text over summary; the summary is the dek when it differs."""

    def test_content_html_is_the_body_summary_the_dek_image_the_lead(self):
        ferry, _notice, _archive = items_of("jsonfeed.json")
        assert ferry.content_html.startswith("<p>The night ferry leaves at ten")
        assert "<figcaption>The upper deck at two in the morning.</figcaption>" in (
            ferry.content_html
        )
        assert ferry.summary == "A crossing that takes nine hours and feels like three."
        assert lead(ferry) == ("https://lamplighter.example/img/ferry-lead.jpg", "", "", "")

    def test_a_summary_equal_to_the_text_body_is_not_repeated_as_the_dek(self):
        _ferry, notice, _archive = items_of("jsonfeed.json")
        assert notice.content_html == (
            "<p>The reading room is closed on Monday.</p><p>It reopens on Tuesday at nine.</p>"
        )
        assert notice.summary == ""

    def test_an_item_with_only_a_summary_gets_it_as_the_body(self):
        _ferry, _notice, archive = items_of("jsonfeed.json")
        assert archive.content_html == "<p>A note on the 1931 lamp survey, from the archive.</p>"
        assert archive.summary == ""


@pytest.mark.parametrize("name", sorted(p.name for p in PLATFORMS.iterdir()))
def test_every_platform_document_reads_without_errors_or_warnings(name):
    feed = parse_feed((PLATFORMS / name).read_bytes())
    assert feed.items
    assert (feed.errors, feed.warning) == ([], "")
