"""Feed parsing: RSS, Atom and JSON Feed mapped to ParsedFeed, and every hostile input survived."""

import builtins
import datetime
import itertools
import json
import resource

import pytest

from syndication.items import ItemError, ParsedItem
from syndication.parsers import (
    ParseError,
    content_hash,
    dedupe_key,
    normalise_url,
    parse_feed,
)
from syndication.parsers import feeds as feeds_module
from syndication.parsers.xmlguard import refuse_dtd

UTC = datetime.UTC


def rss(items: str, *, channel: str = "", prolog: str = "") -> bytes:
    return (
        '<?xml version="1.0" encoding="utf-8"?>'
        + prolog
        + '<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/"'
        ' xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:media="http://search.yahoo.com/mrss/"'
        ' xmlns:itunes="http://www.itunes.com/dtds/podcast-1.0.dtd">'
        "<channel><title>Example Wire</title><link>https://wire.example/</link>"
        "<language>en-GB</language>" + channel + items + "</channel></rss>"
    ).encode()


def atom(entries: str, *, attributes: str = "") -> bytes:
    return (
        '<?xml version="1.0" encoding="utf-8"?>'
        f'<feed xmlns="http://www.w3.org/2005/Atom" {attributes}>'
        "<title>Atom Wire</title><id>urn:feed</id><updated>2024-03-01T00:00:00Z</updated>"
        + entries
        + "</feed>"
    ).encode()


@pytest.fixture
def no_escape(no_network, monkeypatch):
    """Fails the test on any outbound connection or file opened while it runs."""
    attempts = no_network

    def refuse_open(file, *args, **kwargs):
        attempts.append(("open", file))
        raise OSError("file system is off in this test")

    monkeypatch.setattr(builtins, "open", refuse_open)
    return attempts


def within_budget(function, *, megabytes=50):
    """Run `function`, asserting it stays under the peak-memory budget.

    What keeps a hostile document cheap is what the tests that call this assert: entities left
    unexpanded, nesting refused. Memory is the measure of it; time is not asserted, because it
    depends on whatever else the machine runs.
    """
    peak_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    try:
        outcome = function()
    except ParseError as error:
        outcome = error
    grown_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - peak_before
    assert grown_kb < megabytes * 1024, f"peak memory grew by {grown_kb / 1024:.0f} MB"
    return outcome


def all_text(feed) -> str:
    return json.dumps([item.__dict__ for item in feed.items], default=str) + feed.title


class TestRssMapping:
    FULL_ITEM = """
    <item>
      <title>Floods &amp; fires: the week in review</title>
      <link>https://wire.example/2024/03/floods</link>
      <guid isPermaLink="false">  wire-1234  </guid>
      <description>&lt;p&gt;A short &lt;b&gt;summary&lt;/b&gt;.&lt;/p&gt;</description>
      <content:encoded><![CDATA[<p>The full <em>story</em>.</p>]]></content:encoded>
      <dc:creator>Amina Yusuf</dc:creator>
      <category>Climate</category>
      <category>Africa</category>
      <pubDate>Tue, 05 Mar 2024 14:30:00 +0100</pubDate>
      <enclosure url="https://cdn.wire.example/floods.jpg" type="image/jpeg" length="1000"/>
      <media:content url="https://cdn.wire.example/floods.mp4" type="video/mp4"/>
      <media:credit>Photo Agency</media:credit>
      <source url="https://origin.example/rss">Origin Daily</source>
    </item>"""

    def test_every_field_of_a_full_item_is_mapped(self):
        feed = parse_feed(rss(self.FULL_ITEM), url="https://wire.example/feed/")
        assert (feed.format, feed.title, feed.link, feed.language) == (
            "rss",
            "Example Wire",
            "https://wire.example/",
            "en-gb",
        )
        [item] = feed.items
        assert item.guid == "wire-1234"
        assert item.link == "https://wire.example/2024/03/floods"
        assert item.title == "Floods & fires: the week in review"
        assert item.summary == "A short summary."
        assert item.content_html == "<p>The full <em>story</em>.</p>"
        assert item.published == datetime.datetime(2024, 3, 5, 13, 30, tzinfo=UTC)
        assert item.date_problem == ""
        assert [a.name for a in item.authors] == ["Amina Yusuf"]
        assert item.categories == ["Climate", "Africa"]
        assert item.lead_image.url == "https://cdn.wire.example/floods.jpg"
        assert item.lead_image.kind == "image"
        assert item.lead_image.credit == "Photo Agency"
        assert item.video.url == "https://cdn.wire.example/floods.mp4"
        assert item.video.kind == "video"
        assert item.original_source_name == "Origin Daily"
        assert item.original_source_url == "https://origin.example/rss"
        assert item.language == "en-gb"
        assert item.base_url.startswith("https://wire.example/")

    def test_raw_is_json_serialisable_with_dates_as_iso_strings(self):
        [item] = parse_feed(rss(self.FULL_ITEM)).items
        raw = json.loads(json.dumps(item.raw))
        assert raw["published_parsed"] == "2024-03-05T13:30:00+00:00"
        assert raw["id"] == "wire-1234"

    def test_description_becomes_the_body_when_there_is_no_content_and_not_also_the_summary(self):
        xml = rss("<item><title>T</title><description>&lt;p&gt;Body&lt;/p&gt;</description></item>")
        [item] = parse_feed(xml).items
        assert item.content_html == "<p>Body</p>"
        assert item.summary == ""

    def test_feedparser_does_not_sanitize_so_the_raw_html_reaches_our_sanitizer(self):
        xml = rss(
            "<item><title>T</title><description>&lt;p&gt;x&lt;/p&gt;&lt;script&gt;bad()"
            "&lt;/script&gt;</description></item>"
        )
        [item] = parse_feed(xml).items
        assert "<script>" in item.content_html  # untouched here; nh3 removes it downstream

    def test_relative_links_resolve_against_the_feed_address(self):
        item_xml = (
            "<item><title>T</title><link>/2024/relative</link>"
            '<description>&lt;a href="/other"&gt;x&lt;/a&gt;</description></item>'
        )
        xml = rss(item_xml).replace(b"<link>https://wire.example/</link>", b"")
        [item] = parse_feed(xml, url="https://news.example/feeds/main.xml").items
        assert item.link == "https://news.example/2024/relative"
        assert 'href="https://news.example/other"' in item.content_html

    def test_media_thumbnail_and_itunes_image_are_lead_image_fallbacks(self):
        xml = rss(
            '<item><title>A</title><media:thumbnail url="https://cdn.example/a.jpg"/></item>'
            '<item><title>B</title><itunes:image href="https://cdn.example/b.png"/></item>'
        )
        first, second = parse_feed(xml).items
        assert first.lead_image.url == "https://cdn.example/a.jpg"
        assert second.lead_image.url == "https://cdn.example/b.png"

    def test_an_svg_enclosure_is_not_taken_as_an_image(self):
        xml = rss(
            '<item><title>A</title><enclosure url="https://cdn.example/x.svg" '
            'type="image/svg+xml"/></item>'
        )
        assert parse_feed(xml).items[0].lead_image is None

    def test_a_player_on_a_known_video_host_is_the_video(self):
        xml = rss(
            '<item><title>A</title><media:player url="https://player.vimeo.com/video/76979871"'
            "/></item>"
        )
        assert parse_feed(xml).items[0].video.url == "https://player.vimeo.com/video/76979871"

    def test_multiple_authors_are_kept_and_a_joined_name_stays_one_author(self):
        xml = atom(
            "<entry><title>T</title><id>urn:1</id><updated>2024-01-01T00:00:00Z</updated>"
            "<author><name>Ann Lee</name><email>ann@example.org</email></author>"
            "<author><name>Bo Chan and Cy Diaz</name></author></entry>"
        )
        [item] = parse_feed(xml).items
        assert [(a.name, a.email) for a in item.authors] == [
            ("Ann Lee", "ann@example.org"),
            ("Bo Chan and Cy Diaz", ""),
        ]


class TestContentPrecedence:
    """Full content over summary, and Media RSS text on the picture, in any element order."""

    RSS_PARTS = {
        "description": "<description>&lt;p&gt;The standfirst.&lt;/p&gt;</description>",
        "content": "<content:encoded><![CDATA[<p>The whole story.</p>]]></content:encoded>",
        "media": (
            '<media:content url="https://cdn.example/dusk.jpg" medium="image">'
            "<media:title>dusk-0412</media:title>"
            "<media:description>The northern cape light at dusk</media:description>"
            "<media:credit>Ola Berg</media:credit></media:content>"
        ),
    }

    @pytest.mark.parametrize("order", list(itertools.permutations(RSS_PARTS)))
    def test_rss_body_summary_and_caption_whatever_the_order(self, order):
        parts = "".join(self.RSS_PARTS[name] for name in order)
        [item] = parse_feed(rss(f"<item><title>Dusk</title>{parts}</item>")).items
        assert item.title == "Dusk"
        assert item.content_html == "<p>The whole story.</p>"
        assert item.summary == "The standfirst."
        assert (item.lead_image.caption, item.lead_image.credit) == (
            "The northern cape light at dusk",
            "Ola Berg",
        )

    @pytest.mark.parametrize("order", list(itertools.permutations(["description", "media"])))
    def test_without_full_content_the_description_is_the_body_never_the_caption(self, order):
        parts = "".join(self.RSS_PARTS[name] for name in order)
        [item] = parse_feed(rss(f"<item><title>Dusk</title>{parts}</item>")).items
        assert item.content_html == "<p>The standfirst.</p>"
        assert item.summary == ""
        assert item.lead_image.caption == "The northern cape light at dusk"

    def test_an_item_whose_only_text_is_a_caption_has_no_body(self):
        [item] = parse_feed(rss(f"<item><title>Dusk</title>{self.RSS_PARTS['media']}</item>")).items
        assert (item.content_html, item.summary) == ("", "")
        assert item.lead_image.caption == "The northern cape light at dusk"

    def test_an_item_level_media_title_before_the_title_does_not_become_the_headline(self):
        xml = rss(
            "<item><media:title>IMG_2041</media:title><title>Dusk over the cape</title>"
            '<media:content url="https://cdn.example/dusk.jpg" medium="image"/>'
            "<description>Text.</description></item>"
        )
        [item] = parse_feed(xml).items
        assert item.title == "Dusk over the cape"

    def test_a_description_that_says_the_same_as_the_caption_is_still_the_article(self):
        xml = rss(
            "<item><title>Dusk</title><description>Light at dusk</description>"
            '<media:content url="https://cdn.example/dusk.jpg" medium="image">'
            "<media:description>Light at dusk</media:description></media:content></item>"
        )
        [item] = parse_feed(xml).items
        assert "Light at dusk" in item.content_html

    def test_a_full_content_that_only_repeats_the_title_gives_way_to_the_description(self):
        xml = rss(
            "<item><title>Harbour lights - Trailer</title>"
            "<description>Two minutes of the harbour at night.</description>"
            "<content:encoded><![CDATA[<span style='font-weight:900'>Harbour Lights: trailer"
            "</span>]]></content:encoded></item>"
        )
        [item] = parse_feed(xml).items
        assert item.content_html == "Two minutes of the harbour at night."
        assert item.summary == ""

    @pytest.mark.parametrize(
        "body",
        [
            "<h1>Dusk over the cape</h1><p>Text.</p>",
            "<p><strong>Dusk over the Cape.</strong></p><p>Text.</p>",
            "<div class='post'><header><h2>DUSK  over the cape</h2></header><p>Text.</p></div>",
        ],
    )
    def test_a_first_line_that_repeats_the_title_is_dropped(self, body):
        xml = rss(
            f"<item><title>Dusk over the cape</title><content:encoded><![CDATA[{body}]]>"
            "</content:encoded></item>"
        )
        [item] = parse_feed(xml).items
        assert "cape" not in item.content_html.lower()
        assert "<p>Text.</p>" in item.content_html

    @pytest.mark.parametrize(
        "body",
        [
            "<p>Dusk over the cape, and what came after.</p>",
            "Dusk over the cape<p>is what they called it.</p>",
            "<p>Text first.</p><h2>Dusk over the cape</h2>",
        ],
    )
    def test_a_first_line_that_says_more_than_the_title_stays(self, body):
        xml = rss(
            f"<item><title>Dusk over the cape</title><content:encoded><![CDATA[{body}]]>"
            "</content:encoded></item>"
        )
        [item] = parse_feed(xml).items
        assert item.content_html == body

    ATOM_PARTS = {
        "summary": "<summary>The standfirst.</summary>",
        "content": '<content type="html">&lt;p&gt;The whole story.&lt;/p&gt;</content>',
        "media": (
            '<media:group><media:content url="https://cdn.example/dusk.jpg" medium="image"/>'
            '<media:description type="html">The cape at &lt;b&gt;dusk&lt;/b&gt;'
            "</media:description></media:group>"
        ),
    }

    @pytest.mark.parametrize("order", list(itertools.permutations(ATOM_PARTS)))
    def test_atom_content_over_summary_and_the_group_caption_on_the_picture(self, order):
        parts = "".join(self.ATOM_PARTS[name] for name in order)
        xml = atom(
            f"<entry><title>Dusk</title><id>urn:dusk</id><updated>2024-01-01T00:00:00Z</updated>"
            f"{parts}</entry>",
            attributes='xmlns:media="http://search.yahoo.com/mrss/"',
        )
        [item] = parse_feed(xml).items
        assert item.content_html == "<p>The whole story.</p>"
        assert item.summary == "The standfirst."
        assert item.lead_image.caption == "The cape at dusk"

    def test_a_caption_that_is_not_markup_is_kept_as_written(self):
        xml = rss(
            '<item><title>T</title><media:content url="https://cdn.example/a.jpg" medium="image">'
            "<media:description>Fish &amp; chips &lt;3, at 5 &lt; 6</media:description>"
            "</media:content><description>Body.</description></item>"
        )
        [item] = parse_feed(xml).items
        assert item.lead_image.caption == "Fish & chips <3, at 5 < 6"

    def test_a_document_lxml_cannot_pair_with_feedparser_keeps_feedparsers_reading(self):
        # An undeclared entity makes the XML ill-formed: feedparser reads it loosely, and the
        # Media RSS reader either reads the same items or is not used at all.
        xml = rss(
            "<item><title>A&nbsp;B</title><description>Body &amp; more.</description>"
            '<enclosure url="https://cdn.example/a.jpg" type="image/jpeg"/></item>'
        )
        [item] = parse_feed(xml).items
        assert "Body" in item.content_html
        assert item.lead_image.url == "https://cdn.example/a.jpg"


class TestAtomMapping:
    def test_text_content_is_escaped_into_html_never_trusted_as_markup(self):
        xml = atom(
            '<entry><title type="text">&lt;b&gt;Bold?&lt;/b&gt;</title><id>urn:a</id>'
            "<updated>2024-01-01T00:00:00Z</updated>"
            '<content type="text">&lt;b&gt;x&lt;/b&gt; &amp; y\n\nsecond</content></entry>'
        )
        [item] = parse_feed(xml).items
        assert item.content_html == "<p>&lt;b&gt;x&lt;/b&gt; &amp; y</p><p>second</p>"
        assert item.title == "<b>Bold?</b>"  # plain text, escaped wherever it is printed

    def test_xhtml_content_and_xml_base_resolve(self):
        xml = atom(
            '<entry xml:base="https://atom.example/posts/"><title>T</title><id>urn:b</id>'
            '<updated>2024-01-01T00:00:00Z</updated><link rel="alternate" href="one"/>'
            '<content type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml">'
            '<p>Hi <a href="two">there</a></p></div></content></entry>'
        )
        [item] = parse_feed(xml).items
        assert item.link == "https://atom.example/posts/one"
        assert 'href="https://atom.example/posts/two"' in item.content_html
        assert item.base_url == "https://atom.example/posts/"

    def test_an_entry_with_only_an_updated_date_is_published_then(self):
        xml = atom(
            "<entry><title>T</title><id>urn:c</id><updated>2024-02-03T04:05:06Z</updated></entry>"
        )
        [item] = parse_feed(xml).items
        assert item.published == item.updated == datetime.datetime(2024, 2, 3, 4, 5, 6, tzinfo=UTC)

    def test_atom_source_is_the_original_publisher(self):
        xml = atom(
            "<entry><title>T</title><id>urn:d</id><updated>2024-01-01T00:00:00Z</updated>"
            '<source><title>First Print</title><link rel="alternate" href="https://first.example/"/>'
            "<id>urn:src</id></source></entry>"
        )
        [item] = parse_feed(xml).items
        assert (item.original_source_name, item.original_source_url) == (
            "First Print",
            "https://first.example/",
        )


class TestHostileFields:
    @pytest.mark.parametrize(
        "link",
        [
            "javascript:alert(1)",
            "JaVaScRiPt:alert(1)",
            "data:text/html;base64,PHNjcmlwdD4=",
            "file:///etc/passwd",
            "//no-scheme.example/x",
        ],
    )
    def test_entry_links_that_are_not_http_are_dropped(self, link):
        xml = rss(f"<item><title>T</title><link>{link}</link></item>")
        [item] = parse_feed(xml).items
        assert item.link == ""
        assert item.base_url in {"", "https://wire.example/"}

    def test_a_permalink_guid_with_a_data_url_gives_no_link(self):
        xml = rss('<item><title>T</title><guid isPermaLink="true">data:text/html,x</guid></item>')
        [item] = parse_feed(xml).items
        assert item.link == ""

    def test_markup_in_metadata_fields_is_kept_as_text_or_reduced_to_text(self):
        payload = "&quot;&gt;&lt;img src=x onerror=alert(1)&gt;Name"
        xml = rss(
            f"<item><title>{payload}</title><dc:creator>{payload}</dc:creator>"
            f"<category>{payload}</category></item>"
        )
        [item] = parse_feed(xml).items
        # A plain-text title is stored literally: templates escape it like any other text.
        assert item.title == '"><img src=x onerror=alert(1)>Name'
        for value in (item.authors[0].name, item.categories[0]):
            assert "<img" not in value
            assert value.endswith("Name")

    def test_an_html_title_becomes_its_text(self):
        xml = atom(
            '<entry><title type="html">&lt;em&gt;Big&lt;/em&gt; &amp;amp; small'
            "&lt;script&gt;x()&lt;/script&gt;</title><id>urn:h</id>"
            "<updated>2024-01-01T00:00:00Z</updated></entry>"
        )
        assert parse_feed(xml).items[0].title == "Big & small"

    def test_control_characters_and_bidi_overrides_are_stripped(self):
        xml = rss(
            "<item><title>Safe&#x202E;txt.exe\x00 title</title><link>https://x.example/a"
            "</link></item>"
        )
        [item] = parse_feed(xml).items
        assert "\u202e" not in item.title and "\x00" not in item.title
        assert item.title.startswith("Safe")

    def test_oversized_fields_are_capped(self):
        categories = "".join(f"<category>topic {n} {'x' * 150}</category>" for n in range(5000))
        xml = rss(f"<item><title>{'word ' * 2000}</title>{categories}</item>")
        [item] = parse_feed(xml).items
        assert len(item.title) <= 300 and item.title.endswith("…")
        assert len(item.categories) == 100
        assert all(len(c) <= 100 for c in item.categories)


class TestDates:
    def test_unparseable_date_is_none_with_the_reason(self):
        xml = rss("<item><title>T</title><pubDate>Mon, 32 Foo 2024</pubDate></item>")
        [item] = parse_feed(xml).items
        assert item.published is None
        assert item.date_problem == "unparseable date 'Mon, 32 Foo 2024'"

    def test_a_date_far_in_the_future_is_refused(self):
        xml = rss("<item><title>T</title><pubDate>Fri, 01 Jan 2999 00:00:00 GMT</pubDate></item>")
        [item] = parse_feed(xml).items
        assert item.published is None
        assert item.date_problem == "date in the future"

    def test_a_date_a_few_hours_ahead_is_kept_for_clock_skew(self):
        soon = datetime.datetime.now(UTC) + datetime.timedelta(hours=3)
        xml = rss(
            f"<item><title>T</title><pubDate>{soon:%a, %d %b %Y %H:%M:%S} GMT</pubDate></item>"
        )
        [item] = parse_feed(xml).items
        assert item.published == soon.replace(microsecond=0)

    def test_a_naive_timestamp_is_taken_as_utc(self):
        xml = rss("<item><title>T</title><dc:date>2024-01-02T03:04:05</dc:date></item>")
        [item] = parse_feed(xml).items
        assert item.published == datetime.datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)
        assert item.published.utcoffset() == datetime.timedelta(0)


class TestItemsThatCannotBeUsed:
    def test_duplicate_guid_keeps_the_first_item(self):
        xml = rss(
            "<item><title>First</title><guid>same</guid></item>"
            "<item><title>Second</title><guid>same</guid></item>"
            "<item><title>Third</title><guid>other</guid></item>"
        )
        feed = parse_feed(xml)
        assert [i.title for i in feed.items] == ["First", "Third"]
        assert [(e.position, e.guid) for e in feed.errors] == [(1, "same")]

    def test_an_item_with_neither_title_nor_link_is_an_error_and_the_rest_go_on(self):
        xml = rss(
            "<item/><item><description>only words</description></item>"
            "<item><title>Kept</title></item>"
        )
        feed = parse_feed(xml)
        assert [i.title for i in feed.items] == ["Kept"]
        assert [(e.position, e.message) for e in feed.errors] == [
            (0, "item has neither a title nor a link"),
            (1, "item has neither a title nor a link"),
        ]

    def test_an_entry_that_breaks_the_mapping_does_not_stop_the_others(self, monkeypatch):
        real_authors = feeds_module._authors

        def exploding_authors(entry):
            if entry.get("author") == "boom":
                raise ValueError("cannot read author")
            return real_authors(entry)

        monkeypatch.setattr(feeds_module, "_authors", exploding_authors)
        xml = rss(
            "<item><title>A</title><dc:creator>boom</dc:creator><guid>g-a</guid></item>"
            "<item><title>B</title></item>"
        )
        feed = parse_feed(xml)
        assert [i.title for i in feed.items] == ["B"]
        [error] = feed.errors
        assert (error.position, error.guid) == (0, "g-a")
        assert "cannot read author" in error.message


class TestXmlAttacks:
    def test_external_file_entity_is_never_read(self, no_escape):
        xml = rss(
            "<item><title>&xxe;</title><link>https://x.example/1</link></item>",
            prolog='<!DOCTYPE rss [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>',
        )
        feed = parse_feed(xml)
        assert "root:" not in all_text(feed)
        assert no_escape == []
        assert "entities" in feed.warning

    def test_external_network_entity_is_never_fetched(self, no_escape):
        xml = rss(
            "<item><title>&net;</title><link>https://x.example/1</link></item>",
            prolog='<!DOCTYPE rss [\n<!ENTITY net SYSTEM "http://127.0.0.1:9/secret">\n]>',
        )
        parse_feed(xml)
        assert no_escape == []

    @pytest.mark.parametrize(
        "doctype",
        [
            '<!DOCTYPE rss PUBLIC "-//Netscape Communications//DTD RSS 0.91//EN" '
            '"http://127.0.0.1:9/rss-0.91.dtd">',
            '<!DOCTYPE rss SYSTEM "file:///etc/hosts">',
            '<!DOCTYPE rss SYSTEM "http://127.0.0.1:9/x.dtd" [<!ENTITY % p SYSTEM '
            '"http://127.0.0.1:9/p.dtd"> %p;]>',
        ],
    )
    def test_no_dtd_is_retrieved(self, no_escape, doctype):
        feed = parse_feed(rss("<item><title>Fine</title></item>", prolog=doctype))
        assert [i.title for i in feed.items] == ["Fine"]
        assert no_escape == []

    def test_billion_laughs_is_defused_in_time_and_memory(self):
        entities = '<!ENTITY lol "lol">' + "".join(
            f'<!ENTITY lol{n} "{("&lol%s;" % (n - 1 if n > 1 else "")) * 10}">'
            for n in range(1, 10)
        )
        xml = rss(
            "<item><title>&lol9;</title><link>https://x.example/1</link></item>",
            prolog=f"<!DOCTYPE rss [{entities}]>",
        )
        outcome = within_budget(lambda: parse_feed(xml))
        if not isinstance(outcome, ParseError):
            assert "lollol" not in all_text(outcome)

    def test_quadratic_blowup_is_defused_in_time_and_memory(self):
        xml = rss(
            "<item><title>t</title><link>https://x.example/1</link><description>"
            + "&big;" * 10_000
            + "</description></item>",
            prolog=f'<!DOCTYPE rss [<!ENTITY big "{"x" * 50_000}">]>',
        )
        outcome = within_budget(lambda: parse_feed(xml))
        if not isinstance(outcome, ParseError):
            assert "x" * 1000 not in all_text(outcome)

    def test_declarations_in_a_utf16_document_are_stripped_too(self, no_escape):
        text = rss(
            "<item><title>&xxe;</title><link>https://x.example/1</link></item>",
            prolog='<!DOCTYPE rss [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>',
        ).decode()
        xml = text.replace('encoding="utf-8"', 'encoding="utf-16"').encode("utf-16")
        feed = parse_feed(xml)
        assert "root:" not in all_text(feed)
        assert no_escape == []

    def test_a_declaration_that_escaped_the_scanner_is_refused_by_the_parser_guard(self):
        with pytest.raises(ParseError, match="declares a document type"):
            refuse_dtd(b'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY a "b">]><rss/>')
        refuse_dtd(b'<?xml version="1.0"?><rss><channel/></rss>')  # no DTD: nothing to say

    def test_content_that_looks_like_a_path_or_url_is_parsed_never_opened(self, no_escape):
        for content in (b"/etc/passwd", b"http://127.0.0.1:9/feed"):
            with pytest.raises(ParseError):
                parse_feed(content)
        assert no_escape == []

    def test_a_document_type_that_never_ends_is_refused(self):
        with pytest.raises(ParseError, match="never ends"):
            parse_feed(b'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY a "b">')

    def test_deep_nesting_is_survived(self):
        body = "<div>" * 10_000 + "deep" + "</div>" * 10_000
        xml = rss(f"<item><title>T</title><description>{body}</description></item>")
        outcome = within_budget(lambda: parse_feed(xml))
        assert isinstance(outcome, ParseError) or outcome.items[0].title == "T"


# H2: a document type hidden by an encoding the byte scanner does not read. The entity below
# expands to 10,000 characters: any title longer than a few characters means it was expanded.
EXPANDING_PROLOG = (
    '<!DOCTYPE rss [<!ENTITY a "' + "x" * 100 + '"><!ENTITY b "' + "&a;" * 100 + '">]>'
)
EXPANDING_ITEM = "<item><title>&b;</title><link>https://x.example/1</link></item>"


def _feed_text(encoding_label: str = "utf-8") -> str:
    return (
        rss(EXPANDING_ITEM, prolog=EXPANDING_PROLOG)
        .decode()
        .replace('encoding="utf-8"', f'encoding="{encoding_label}"')
    )


def _utf7_spelling_markup_in_base64(text: str) -> bytes:
    """UTF-7 as an attacker writes it: every "<" as "+ADw-", which no byte scanner reads as "<"."""
    return text.encode("ascii").replace(b"<", b"+ADw-")


class TestEncodings:
    """Only encodings in which markup is unambiguous are read; the guard runs on decoded text."""

    @pytest.mark.parametrize(
        ("document", "charset"),
        [
            pytest.param(
                b'<?xml version="1.0" encoding="utf-7"?>'
                + _utf7_spelling_markup_in_base64(_feed_text("utf-7").split("?>", 1)[1]),
                "",
                id="utf-7 declared in the document",
            ),
            pytest.param(
                b'<?xml version="1.0"?>'
                + _utf7_spelling_markup_in_base64(_feed_text().split("?>", 1)[1]),
                "utf-7",
                id="ascii served with charset utf-7",
            ),
            pytest.param(_feed_text("cp037").encode("cp037"), "", id="ebcdic cp037"),
            pytest.param(_feed_text("cp500").encode("cp500"), "", id="ebcdic cp500"),
            pytest.param(_feed_text("iso-2022-jp").encode("iso-2022-jp"), "", id="iso-2022-jp"),
        ],
    )
    def test_a_refused_encoding_is_a_parse_error_and_nothing_is_expanded(
        self, no_escape, document, charset
    ):
        with pytest.raises(ParseError, match="refused"):
            parse_feed(document, content_type="application/rss+xml", charset=charset)
        assert no_escape == []

    @pytest.mark.parametrize(
        ("encoding", "bom"),
        [
            ("utf-8", b""),
            ("utf-8", b"\xef\xbb\xbf"),
            ("utf-16-le", b"\xff\xfe"),
            ("utf-16-be", b"\xfe\xff"),
            ("utf-16-le", b""),
            ("utf-32-be", b""),
            ("iso-8859-15", b""),
            ("windows-1251", b""),
            ("shift_jis", b""),
            ("gb18030", b""),
        ],
    )
    def test_in_an_allowed_encoding_declarations_are_stripped_and_text_kept(
        self, no_escape, encoding, bom
    ):
        title = {"windows-1251": "Новости", "shift_jis": "ニュース", "gb18030": "新闻"}.get(
            encoding, "Caf\u00e9"
        )
        text = _feed_text(encoding).replace(EXPANDING_ITEM, EXPANDING_ITEM + (
            f"<item><title>{title}</title><link>https://x.example/2</link></item>"
        ))  # fmt: skip
        feed = parse_feed(bom + text.encode(encoding))
        assert [len(item.title) < 10 for item in feed.items] == [True, True]
        assert feed.items[1].title == title
        assert "entities" in feed.warning
        assert no_escape == []

    def test_the_server_charset_names_the_encoding_of_a_document_that_does_not(self):
        text = rss("<item><title>Новости</title></item>").decode().replace(' encoding="utf-8"', "")
        feed = parse_feed(text.encode("koi8-r"), charset="koi8-r")
        assert feed.items[0].title == "Новости"

    def test_an_unknown_encoding_name_falls_back_to_utf8(self):
        text = rss("<item><title>Caf\u00e9</title></item>").decode()
        feed = parse_feed(text.replace("utf-8", "x-no-such-encoding").encode())
        assert feed.items[0].title == "Caf\u00e9"


class TestDocumentsThatAreNotFeeds:
    @pytest.mark.parametrize(
        "content",
        [
            b"",
            b"   \n",
            b"<!DOCTYPE html><html><head><title>Just a moment...</title></head>"
            b"<body>Checking your browser</body></html>",
            b"<html><body><p>Not found</p></body></html>",
            b"plain words, not markup",
            b'<?xml version="1.0"?><note><to>x</to></note>',
        ],
    )
    def test_they_raise_parse_error(self, content):
        with pytest.raises(ParseError, match="not a feed"):
            parse_feed(content, content_type="text/html")

    def test_a_truncated_document_is_refused_rather_than_half_imported(self):
        whole = rss("<item><title>One</title></item><item><title>Two</title><description>Half")
        with pytest.raises(ParseError, match="ends before its closing </rss>"):
            parse_feed(whole[: whole.index(b"Half") + 4])

    def test_whitespace_before_the_xml_declaration_is_forgiven(self):
        feed = parse_feed(b"\n\n  " + rss("<item><title>T</title></item>"))
        assert (feed.items[0].title, feed.warning) == ("T", "")

    def test_a_valid_feed_with_a_wrong_content_type_is_parsed(self):
        feed = parse_feed(
            rss("<item><title>T</title></item>"), content_type="application/octet-stream"
        )
        assert [i.title for i in feed.items] == ["T"]

    def test_a_channel_without_items_is_an_empty_feed(self):
        feed = parse_feed(rss(""))
        assert (feed.title, feed.items, feed.errors) == ("Example Wire", [], [])

    def test_conflicting_charsets_decode_without_exceptions(self):
        xml = rss("<item><title>\u201csmart\u201d café</title></item>").decode().encode("cp1252")
        feed = parse_feed(xml, content_type="application/rss+xml", charset="iso-8859-1")
        assert feed.items[0].title.endswith("caf\xe9")

    def test_an_ill_formed_feed_is_read_with_a_warning(self):
        xml = rss("<item><title>Kept</title><description>a & b <br></description></item>")
        feed = parse_feed(xml)
        assert [i.title for i in feed.items] == ["Kept"]
        assert feed.warning


def json_feed(items, **extra) -> bytes:
    document = {
        "version": "https://jsonfeed.org/version/1.1",
        "title": "JSON Wire",
        "home_page_url": "https://json.example/",
        "items": items,
        **extra,
    }
    return json.dumps(document).encode()


class TestJsonFeed:
    def test_an_item_is_mapped(self):
        content = json_feed(
            [
                {
                    "id": 42,
                    "url": "https://json.example/42",
                    "external_url": "https://origin.example/story",
                    "title": "Answer",
                    "content_html": "<p>Body</p>",
                    "summary": "Short",
                    "image": "https://json.example/42.jpg",
                    "date_published": "2024-04-05T06:07:08+02:00",
                    "date_modified": "2024-04-06T00:00:00Z",
                    "authors": [{"name": "Dee", "url": "https://json.example/dee"}],
                    "tags": ["one", "two"],
                    "language": "fr-FR",
                    "attachments": [
                        {"url": "https://json.example/v.mp4", "mime_type": "video/mp4"}
                    ],
                }
            ],
            language="en",
        )
        feed = parse_feed(content, content_type="application/feed+json")
        assert (feed.format, feed.title, feed.link) == (
            "json",
            "JSON Wire",
            "https://json.example/",
        )
        [item] = feed.items
        assert item.guid == "42"
        assert item.link == "https://json.example/42"
        assert item.original_source_url == "https://origin.example/story"
        assert (item.title, item.summary, item.content_html) == ("Answer", "Short", "<p>Body</p>")
        assert item.published == datetime.datetime(2024, 4, 5, 4, 7, 8, tzinfo=UTC)
        assert item.updated == datetime.datetime(2024, 4, 6, tzinfo=UTC)
        assert [a.name for a in item.authors] == ["Dee"]
        assert item.tags == ["one", "two"]
        assert item.lead_image.url == "https://json.example/42.jpg"
        assert item.video.url == "https://json.example/v.mp4"
        assert item.language == "fr-fr"
        assert json.loads(json.dumps(item.raw))["id"] == 42

    def test_content_text_is_escaped(self):
        [item] = parse_feed(
            json_feed([{"id": "1", "title": "T", "content_text": "<b>x</b>"}])
        ).items
        assert item.content_html == "<p>&lt;b&gt;x&lt;/b&gt;</p>"

    def test_version_1_0_author_object_and_feed_author_fallback(self):
        content = json.dumps(
            {
                "version": "https://jsonfeed.org/version/1",
                "author": {"name": "Feed Author"},
                "items": [
                    {"id": "1", "title": "A", "author": {"name": "Item Author"}},
                    {"id": "2", "title": "B"},
                ],
            }
        ).encode()
        first, second = parse_feed(content).items
        assert [a.name for a in first.authors] == ["Item Author"]
        assert [a.name for a in second.authors] == ["Feed Author"]

    def test_items_that_are_not_a_list_make_the_document_unusable(self):
        with pytest.raises(ParseError, match="items"):
            parse_feed(json_feed({}))

    def test_a_numeric_title_spoils_only_its_own_item(self):
        feed = parse_feed(
            json_feed([{"id": "1", "title": 7}, {"id": "2", "title": "Fine"}, "not an object"])
        )
        assert [i.title for i in feed.items] == ["Fine"]
        assert [(e.position, e.guid) for e in feed.errors] == [(0, "1"), (2, "")]
        assert '"title" must be text' in feed.errors[0].message

    def test_control_characters_are_stripped_from_the_body(self):
        item = {"id": "1", "title": "T", "content_html": "<p>a\u0000b\u202ec</p>"}
        assert parse_feed(json_feed([item])).items[0].content_html == "<p>abc</p>"

    def test_truncated_json_is_unusable(self):
        with pytest.raises(ParseError, match="JSON cannot be read"):
            parse_feed(json_feed([{"id": "1", "title": "A"}])[:-10])

    def test_pathological_nesting_is_refused_quickly(self):
        content = b'{"version": "https://jsonfeed.org/version/1.1", "items": ' + b"[" * 100_000
        outcome = within_budget(lambda: parse_feed(content))
        assert isinstance(outcome, ParseError)

    def test_bad_and_future_dates_are_flagged(self):
        feed = parse_feed(
            json_feed(
                [
                    {"id": "1", "title": "A", "date_published": 9999999999999},
                    {"id": "2", "title": "B", "date_published": "2999-01-01T00:00:00Z"},
                ]
            )
        )
        first, second = feed.items
        assert (first.published, first.date_problem) == (None, "unparseable date '9999999999999'")
        assert (second.published, second.date_problem) == (None, "date in the future")

    def test_duplicate_ids_keep_the_first(self):
        feed = parse_feed(json_feed([{"id": "1", "title": "A"}, {"id": "1", "title": "B"}]))
        assert [i.title for i in feed.items] == ["A"]


class TestDeduplicationKeys:
    @pytest.mark.parametrize(
        ("url", "expected"),
        [
            (
                "HTTPS://News.Example:443/a/b/?utm_source=x&b=2&a=1&fbclid=z#top",
                "https://news.example/a/b?a=1&b=2",
            ),
            ("http://news.example:80", "http://news.example/"),
            ("http://news.example:8080/x/", "http://news.example:8080/x"),
            ("https://news.example/?gclid=1&UTM_medium=m", "https://news.example/"),
            ("  https://news.example/x\x00  ", "https://news.example/x"),
            ("urn:uuid:1234", "urn:uuid:1234"),
        ],
    )
    def test_normalise_url(self, url, expected):
        assert normalise_url(url) == expected

    def test_guid_wins_over_link(self):
        assert dedupe_key(ParsedItem(guid=" tag:x,2024:1 ", link="https://a.example/")) == (
            "guid:tag:x,2024:1"
        )

    def test_url_variants_share_one_key(self):
        variants = [
            ParsedItem(link="http://a.example/story/"),
            ParsedItem(link="https://a.example/story?utm_campaign=rss"),
            ParsedItem(guid="https://A.example/story#comments"),
        ]
        assert {dedupe_key(item) for item in variants} == {"url:a.example/story"}

    def test_without_guid_or_link_the_content_decides(self):
        one = ParsedItem(title="Same", content_html="<p>body</p>")
        two = ParsedItem(title="Same", content_html="<p>body</p>")
        other = ParsedItem(title="Same", content_html="<p>else</p>")
        assert dedupe_key(one) == dedupe_key(two) != dedupe_key(other)
        assert dedupe_key(one).startswith("sha256:")

    def test_keys_are_bounded(self):
        assert len(dedupe_key(ParsedItem(guid="g" * 5000))) <= 255

    def test_content_hash_ignores_whitespace_but_sees_edits(self):
        original = ParsedItem(title="T", summary="S", content_html="<p>a  b</p>")
        reflowed = ParsedItem(title="T ", summary="S", content_html="<p>a\nb</p>")
        edited = ParsedItem(title="T", summary="S", content_html="<p>a c</p>")
        assert content_hash(original) == content_hash(reflowed) != content_hash(edited)
        assert len(content_hash(original)) == 64


def test_item_error_is_the_type_for_unusable_entries():
    feed = parse_feed(rss("<item/>"))
    assert all(isinstance(error, ItemError) for error in feed.errors)
