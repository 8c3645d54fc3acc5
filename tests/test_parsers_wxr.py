"""WordPress exports: streamed, posts only, authors and images resolved, attacks refused."""

import datetime
import io
import json
import resource

import pytest

from syndication.items import ItemError, ParsedItem
from syndication.parsers import ParseError, dedupe_key, iter_wxr, read_wxr_site
from syndication.parsers import wxr as wxr_module
from syndication.parsers.wxr import autop

UTC = datetime.UTC
WP = "http://wordpress.org/export/1.2/"


def wxr(body: str, *, version: str = "1.2", namespace: str = WP, prolog: str = "") -> bytes:
    version_element = f"<wp:wxr_version>{version}</wp:wxr_version>" if version else ""
    return (
        '<?xml version="1.0" encoding="UTF-8"?>' + prolog + '<rss version="2.0"'
        f' xmlns:excerpt="{namespace}excerpt/"'
        ' xmlns:content="http://purl.org/rss/1.0/modules/content/"'
        ' xmlns:dc="http://purl.org/dc/elements/1.1/"'
        f' xmlns:wp="{namespace}"><channel><title>Old Blog</title>'
        "<link>https://old.example/blog</link><language>de-DE</language>"
        + version_element
        + "<wp:base_site_url>https://old.example/</wp:base_site_url>"
        "<wp:base_blog_url>https://old.example/blog</wp:base_blog_url>" + body + "</channel></rss>"
    ).encode()


AUTHOR = (
    "<wp:author><wp:author_id>2</wp:author_id><wp:author_login>jdoe</wp:author_login>"
    "<wp:author_email>jdoe@old.example</wp:author_email>"
    "<wp:author_display_name><![CDATA[Jane Doe]]></wp:author_display_name></wp:author>"
)
TERMS = (
    "<wp:category><wp:term_id>3</wp:term_id><wp:category_nicename>world</wp:category_nicename>"
    "<wp:category_parent></wp:category_parent><wp:cat_name><![CDATA[World]]></wp:cat_name>"
    "</wp:category><wp:category><wp:term_id>4</wp:term_id><wp:category_nicename>asia"
    "</wp:category_nicename><wp:category_parent>world</wp:category_parent><wp:cat_name>"
    "<![CDATA[Asia]]></wp:cat_name></wp:category><wp:tag><wp:term_id>5</wp:term_id>"
    "<wp:tag_slug>rice</wp:tag_slug><wp:tag_name><![CDATA[Rice]]></wp:tag_name></wp:tag>"
)


def post(
    post_id: int,
    *,
    post_type: str = "post",
    title: str = "A post",
    extra: str = "",
    gmt: str = "2020-05-06 07:08:09",
    status: str = "publish",
    guid: str = "",
) -> str:
    guid = guid or f"https://old.example/blog/?p={post_id}"
    return (
        f"<item><title>{title}</title>"
        f"<link>https://old.example/blog/2020/05/post-{post_id}/</link>"
        f'<guid isPermaLink="false">{guid}</guid><dc:creator><![CDATA[jdoe]]></dc:creator>'
        f"<content:encoded><![CDATA[First paragraph.\n\nSecond line one\nline two]]>"
        f"</content:encoded><excerpt:encoded><![CDATA[<b>Short</b> excerpt]]></excerpt:encoded>"
        f"<wp:post_id>{post_id}</wp:post_id><wp:post_date>2020-05-06 09:08:09</wp:post_date>"
        f"<wp:post_date_gmt>{gmt}</wp:post_date_gmt><wp:post_name>post-{post_id}</wp:post_name>"
        f"<wp:status>{status}</wp:status><wp:post_type>{post_type}</wp:post_type>"
        '<category domain="category" nicename="asia"><![CDATA[Asia]]></category>'
        '<category domain="post_tag" nicename="rice"><![CDATA[Rice]]></category>'
        '<category domain="post_format" nicename="post-format-video"><![CDATA[Video]]></category>'
        f"{extra}</item>"
    )


def attachment(post_id: int, url: str) -> str:
    return (
        f"<item><title>photo</title><wp:post_id>{post_id}</wp:post_id>"
        "<wp:post_type>attachment</wp:post_type>"
        f"<wp:attachment_url>{url}</wp:attachment_url>"
        "<excerpt:encoded><![CDATA[A caption]]></excerpt:encoded>"
        "<wp:postmeta><wp:meta_key>_wp_attachment_image_alt</wp:meta_key>"
        "<wp:meta_value><![CDATA[Alt text]]></wp:meta_value></wp:postmeta></item>"
    )


def thumbnail(attachment_id: int) -> str:
    return (
        "<wp:postmeta><wp:meta_key>_thumbnail_id</wp:meta_key>"
        f"<wp:meta_value><![CDATA[{attachment_id}]]></wp:meta_value></wp:postmeta>"
    )


def items_of(content: bytes) -> list:
    return list(iter_wxr(io.BytesIO(content)))


class TestSite:
    def test_site_details_authors_and_terms_are_gathered(self):
        site = read_wxr_site(io.BytesIO(wxr(AUTHOR + TERMS + post(1) + post(2, post_type="page"))))
        assert (site.wxr_version, site.title, site.language) == ("1.2", "Old Blog", "de-de")
        assert (site.base_url, site.base_blog_url) == (
            "https://old.example/",
            "https://old.example/blog",
        )
        [author] = site.authors
        assert (author.name, author.email, author.login) == ("Jane Doe", "jdoe@old.example", "jdoe")
        assert [(c.name, c.slug, c.parent) for c in site.categories] == [
            ("World", "world", ""),
            ("Asia", "asia", "world"),
        ]
        assert [t.name for t in site.tags] == ["Rice"]
        assert site.post_count == 1
        assert site.complete

    def test_reading_the_site_leaves_a_seekable_file_where_it_was(self):
        stream = io.BytesIO(wxr(post(1)))
        site = read_wxr_site(stream)
        assert stream.tell() == 0
        assert [item.title for item in iter_wxr(stream, site=site)] == ["A post"]

    def test_both_namespace_spellings_are_understood(self):
        for namespace in ("http://wordpress.org/export/1.1/", "https://wordpress.org/export/1.2/"):
            [item] = items_of(wxr(post(1), namespace=namespace, version="1.1"))
            assert item.extra["post_id"] == "1"


class TestPosts:
    def test_a_post_is_mapped(self):
        [item] = items_of(wxr(AUTHOR + post(7)))
        assert item.title == "A post"
        assert item.guid == "https://old.example/blog/?p=7"
        assert item.link == "https://old.example/blog/2020/05/post-7/"
        assert item.summary == "Short excerpt"
        assert item.content_html == (
            "<p>First paragraph.</p>\n<p>Second line one<br>\nline two</p>"
        )
        assert item.published == datetime.datetime(2020, 5, 6, 7, 8, 9, tzinfo=UTC)
        assert [(a.name, a.login) for a in item.authors] == [("Jane Doe", "jdoe")]
        assert (item.categories, item.tags) == (["Asia"], ["Rice"])
        assert item.language == "de-de"
        assert item.extra["status"] == "publish"
        assert item.extra["slug"] == "post-7"
        assert item.extra["permalink"] == item.link
        assert item.extra["terms"] == [
            {"domain": "post_format", "slug": "post-format-video", "name": "Video"}
        ]
        json.dumps(item.raw)

    def test_old_paths_cover_the_permalink_and_the_post_id(self):
        [item] = items_of(wxr(post(7)))
        assert item.extra["old_paths"] == ["/blog/2020/05/post-7/", "/blog/?p=7"]

    def test_only_posts_become_items(self):
        body = post(1) + post(2, post_type="page") + post(3, post_type="nav_menu_item")
        body += attachment(4, "https://old.example/wp-content/uploads/a.jpg")
        assert [item.extra["post_id"] for item in items_of(wxr(body))] == ["1"]

    def test_every_status_is_kept_for_the_importer_to_decide(self):
        statuses = ["publish", "draft", "pending", "private", "future", "trash"]
        body = "".join(post(n, status=s) for n, s in enumerate(statuses, start=1))
        assert [item.extra["status"] for item in items_of(wxr(body))] == statuses

    @pytest.mark.parametrize("attachment_first", [True, False])
    def test_the_featured_image_is_resolved_wherever_the_attachment_is(self, attachment_first):
        pieces = [
            attachment(9, "https://old.example/wp-content/uploads/lead.jpg"),
            post(1, extra=thumbnail(9)),
        ]
        body = "".join(pieces if attachment_first else reversed(pieces))
        [item] = items_of(wxr(body))
        assert item.lead_image.url == "https://old.example/wp-content/uploads/lead.jpg"
        assert (item.lead_image.alt, item.lead_image.caption) == ("Alt text", "A caption")
        assert item.extra["thumbnail_id"] == "9"

    def test_an_author_missing_from_the_list_is_named_by_login(self):
        [item] = items_of(wxr(post(1)))
        assert [(a.name, a.login) for a in item.authors] == [("jdoe", "jdoe")]

    def test_html_in_author_names_is_reduced_to_text(self):
        hostile = AUTHOR.replace("Jane Doe", '"><img src=x onerror=alert(1)>Jane')
        [item] = items_of(wxr(hostile + post(1)))
        assert item.authors[0].name == '">Jane'

    def test_draft_dates_fall_back_to_the_local_date(self):
        [item] = items_of(wxr(post(1, gmt="0000-00-00 00:00:00", status="draft")))
        assert item.published == datetime.datetime(2020, 5, 6, 9, 8, 9, tzinfo=UTC)
        assert item.date_problem == ""

    def test_no_usable_date_at_all_is_flagged(self):
        body = post(1, gmt="0000-00-00 00:00:00").replace(
            "<wp:post_date>2020-05-06 09:08:09</wp:post_date>",
            "<wp:post_date>0000-00-00 00:00:00</wp:post_date>",
        )
        [item] = items_of(wxr(body))
        assert item.published is None
        assert item.date_problem == "unparseable date '0000-00-00 00:00:00'"

    def test_future_dates_are_flagged(self):
        [item] = items_of(wxr(post(1, gmt="2999-01-01 00:00:00", status="future")))
        assert (item.published, item.date_problem) == (None, "date in the future")

    def test_backslashes_and_split_cdata_survive(self):
        body = post(1, extra="").replace(
            "<![CDATA[First paragraph.\n\nSecond line one\nline two]]>",
            r"<![CDATA[C:\path\to ]]]]><![CDATA[> done \"quoted\"]]>",
        )
        [item] = items_of(wxr(body))
        assert item.content_html == r"<p>C:\path\to ]]> done \"quoted\"</p>"

    def test_a_post_id_repeated_is_dropped_and_a_reused_guid_is_told_apart(self):
        body = post(1) + post(1, title="Again") + post(2, guid="https://old.example/blog/?p=1")
        outcomes = items_of(wxr(body))
        first, error, second = outcomes
        assert isinstance(error, ItemError) and "post 1 appears twice" in error.message
        assert first.guid == "https://old.example/blog/?p=1"
        assert second.guid == "https://old.example/blog/?p=1#wp-post-2"
        assert second.extra["shared_guid"] == "https://old.example/blog/?p=1"

    def test_a_post_with_neither_title_nor_link_is_an_error(self):
        body = post(1, title="").replace(
            "<link>https://old.example/blog/2020/05/post-1/</link>", ""
        )
        [error] = items_of(wxr(body + post(2)))[:1]
        assert error.message == "item has neither a title nor a link"

    def test_oversized_title_and_terms_are_capped(self):
        terms = "".join(
            f'<category domain="post_tag"><![CDATA[t{n}]]></category>' for n in range(500)
        )
        [item] = items_of(wxr(post(1, title="long " * 500, extra=terms)))
        assert len(item.title) <= 300
        assert len(item.tags) == 100


class TestUnusableFiles:
    def test_missing_version(self):
        with pytest.raises(ParseError, match="missing WXR version number"):
            read_wxr_site(io.BytesIO(wxr(post(1), version="")))

    def test_invalid_version(self):
        with pytest.raises(ParseError, match="invalid WXR version number"):
            list(iter_wxr(io.BytesIO(wxr(post(1), version="abc"))))

    def test_malformed_xml_raises_before_any_post_is_yielded(self):
        broken = wxr(post(1) + post(2)).replace(b"</channel>", b"<unclosed></channel>")
        stream = iter_wxr(io.BytesIO(broken))
        with pytest.raises(ParseError, match="not well-formed"):
            next(stream)

    def test_a_plain_rss_feed_is_not_a_wxr_file(self):
        with pytest.raises(ParseError, match="missing WXR version"):
            read_wxr_site(
                io.BytesIO(b'<rss version="2.0"><channel><title>x</title></channel></rss>')
            )

    def test_another_root_element_is_refused(self):
        with pytest.raises(ParseError, match="root element"):
            read_wxr_site(io.BytesIO(b"<html><body>hello</body></html>"))

    def test_a_non_seekable_stream_is_read_once(self):
        class OneWay(io.RawIOBase):
            def __init__(self, data):
                self.data = io.BytesIO(data)

            def readable(self):
                return True

            def readinto(self, buffer):
                chunk = self.data.read(len(buffer))
                buffer[: len(chunk)] = chunk
                return len(chunk)

        body = attachment(9, "https://old.example/lead.jpg") + post(1, extra=thumbnail(9))
        [item] = list(iter_wxr(OneWay(wxr(body))))
        assert item.lead_image.url == "https://old.example/lead.jpg"

    def test_a_path_is_accepted(self, tmp_path):
        path = tmp_path / "export.xml"
        path.write_bytes(wxr(post(1)))
        assert [item.extra["post_id"] for item in iter_wxr(path)] == ["1"]
        assert [item.extra["post_id"] for item in iter_wxr(str(path))] == ["1"]


class TestXmlAttacks:
    @pytest.mark.parametrize(
        "doctype",
        [
            '<!DOCTYPE rss [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>',
            '<!DOCTYPE rss [<!ENTITY net SYSTEM "http://127.0.0.1:9/x">]>',
            '<!DOCTYPE rss SYSTEM "http://127.0.0.1:9/wxr.dtd">',
            '<!DOCTYPE rss [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>',
        ],
    )
    def test_a_document_type_is_refused_without_touching_network_or_disk(self, no_network, doctype):
        content = wxr(post(1, title="&xxe;&net;&b;"), prolog=doctype)
        with pytest.raises(ParseError, match="document type"):
            read_wxr_site(io.BytesIO(content))
        assert no_network == []

    @pytest.mark.parametrize(
        "encode",
        [
            pytest.param(
                lambda text: (
                    text.replace('encoding="UTF-8"', 'encoding="UTF-7"')
                    .encode("ascii")
                    .replace(b"<!", b"+ADw-!")
                ),
                id="utf-7 spelling the declaration in base64",
            ),
            pytest.param(
                lambda text: text.replace('encoding="UTF-8"', 'encoding="cp037"').encode("cp037"),
                id="ebcdic",
            ),
            pytest.param(
                lambda text: text.replace('encoding="UTF-8"', 'encoding="UTF-16"').encode(
                    "utf-16-be"
                ),
                id="utf-16 without a mark",
            ),
            pytest.param(
                lambda text: text.replace('encoding="UTF-8"', 'encoding="UTF-16"').encode("utf-16"),
                id="utf-16 with a mark",
            ),
            pytest.param(
                lambda text: text.replace('encoding="UTF-8"', 'encoding="x-unheard-of"').encode(),
                id="an encoding nobody knows",
            ),
        ],
    )
    def test_a_document_type_in_any_encoding_is_refused(self, no_network, encode):
        doctype = '<!DOCTYPE rss [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;">]>'
        content = encode(wxr(post(1, title="&b;"), prolog=doctype).decode())
        with pytest.raises(ParseError, match="refused"):
            read_wxr_site(io.BytesIO(content))
        assert no_network == []

    def test_an_undeclared_entity_is_a_syntax_error_not_an_expansion(self):
        with pytest.raises(ParseError, match="not well-formed"):
            read_wxr_site(io.BytesIO(wxr(post(1, title="&lol9;"))))

    def test_xinclude_and_stylesheet_instructions_are_ignored(self, no_network):
        prolog = '<?xml-stylesheet type="text/xsl" href="http://127.0.0.1:9/x.xsl"?>'
        include = (
            '<xi:include xmlns:xi="http://www.w3.org/2001/XInclude" href="file:///etc/passwd"'
            ' parse="text"/>'
        )
        [item] = items_of(wxr(post(1, extra=include), prolog=prolog))
        assert "root:" not in json.dumps(item.raw)
        assert no_network == []

    @pytest.mark.parametrize("depth", [100, 10_000])
    def test_deep_nesting_is_refused(self, depth):
        nested = "<x>" * depth + "</x>" * depth
        with pytest.raises(ParseError, match="nested too deeply|deeper than"):
            read_wxr_site(io.BytesIO(wxr(post(1, extra=nested))))

    def test_a_file_over_the_size_cap_is_refused(self, monkeypatch):
        monkeypatch.setattr(wxr_module, "MAX_WXR_BYTES", 2000)
        with pytest.raises(ParseError, match="larger than"):
            read_wxr_site(io.BytesIO(wxr(post(1) + post(2) + post(3))))

    def test_an_entry_with_too_many_elements_is_refused(self, monkeypatch):
        monkeypatch.setattr(wxr_module, "MAX_ELEMENTS_PER_ENTRY", 50)
        crowd = "<wp:postmeta><wp:meta_key>k</wp:meta_key></wp:postmeta>" * 30
        with pytest.raises(ParseError, match="too many elements"):
            read_wxr_site(io.BytesIO(wxr(post(1, extra=crowd))))
        assert read_wxr_site(io.BytesIO(wxr(post(1) + post(2) + post(3)))).post_count == 3

    def test_nul_and_bidi_controls_are_stripped(self):
        body = post(1, title="Safe\u202etxt").replace("First paragraph.", "Fir\u202est\ufeff")
        [item] = items_of(wxr(body))
        assert "\u202e" not in item.title + item.content_html

    def test_a_large_export_streams_in_flat_memory(self):
        count = 3000
        padding = "<p>" + "words " * 300 + "</p>"
        body = "".join(post(n).replace("First paragraph.", padding) for n in range(1, count + 1))
        content = wxr(body)
        peak_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        seen = 0
        for outcome in iter_wxr(io.BytesIO(content)):
            assert isinstance(outcome, ParsedItem)
            seen += 1
        grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - peak_before) / 1024
        assert seen == count
        # The document alone is several MB; a tree of it would be many times that.
        assert grown_mb < 3 * len(content) / 1024 / 1024 + 20


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("one\n\ntwo", "<p>one</p>\n<p>two</p>"),
        ("<p>already</p>", "<p>already</p>"),
        ("<h2>Head</h2>\n\ntext", "<h2>Head</h2>\n<p>text</p>"),
        (
            "<!-- wp:paragraph -->\n<p>block</p>\n<!-- /wp:paragraph -->",
            "<!-- wp:paragraph -->\n<p>block</p>\n<!-- /wp:paragraph -->",
        ),
        ("", ""),
    ],
)
def test_autop_makes_paragraphs_of_classic_content(content, expected):
    assert autop(content) == expected


def test_a_guid_made_unique_by_the_parser_keeps_its_own_dedupe_key():
    original = ParsedItem(guid="https://blog.example/?p=1", title="Original")
    copy = ParsedItem(
        guid="https://blog.example/?p=1#wp-post-2",
        title="Copy",
        extra={"shared_guid": "https://blog.example/?p=1"},
    )
    assert dedupe_key(original) != dedupe_key(copy)
