"""Real WordPress exports of the shared corpus (theme test data, wordpress-importer fixtures)."""

import json
from pathlib import Path

import pytest
from lxml import etree

from syndication.items import ItemError, ParsedItem
from syndication.parsers import ParseError, iter_wxr, read_wxr_site

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"
WXR = CORPUS / "wxr"
IMPORTER = WXR / "wordpress-importer" / "phpunit" / "data"
pytestmark = pytest.mark.skipif(
    not WXR.is_dir(), reason="the shared corpus (../shared/corpus) is not present in this checkout"
)

UNREADABLE = {
    # Not well-formed XML: "]]>" inside CDATA content without splitting it (see the -escaped twin).
    "crazy-cdata.xml": "not well-formed",
    "malformed.xml": "not well-formed",
    "malformed-simple.xml": "not well-formed",
    "missing-version-tag.xml": "missing WXR version number",
    "invalid-version-tag.xml": "invalid WXR version number",
}


def posts_in(path: Path) -> int:
    """Items whose wp:post_type is "post", counted independently of the parser under test."""
    count = 0
    for _, element in etree.iterparse(
        str(path), tag="item", resolve_entities=False, no_network=True, recover=True
    ):
        types = [
            (child.text or "").strip()
            for child in element
            if isinstance(child.tag, str) and etree.QName(child).localname == "post_type"
        ]
        count += types[:1] in (["post"], [])
        element.clear()
    return count


def items_and_errors(path: Path):
    outcomes = list(iter_wxr(path))
    return (
        [o for o in outcomes if isinstance(o, ParsedItem)],
        [o for o in outcomes if isinstance(o, ItemError)],
    )


def readable_exports():
    if not WXR.is_dir():
        return []
    return sorted(path for path in WXR.rglob("*.xml") if path.name not in UNREADABLE)


@pytest.mark.parametrize("path", readable_exports(), ids=lambda p: str(p.relative_to(WXR)))
def test_every_post_of_a_readable_export_is_yielded(path):
    site = read_wxr_site(path)
    items, errors = items_and_errors(path)
    assert site.post_count == posts_in(path)
    assert len(items) + len(errors) == site.post_count
    for item in items:
        assert item.title or item.link
        assert item.published is None or item.published.utcoffset().total_seconds() == 0
        assert item.extra["status"]
        assert all(path.startswith("/") for path in item.extra["old_paths"])
        json.dumps(item.raw)


@pytest.mark.parametrize(("name", "message"), sorted(UNREADABLE.items()))
def test_unreadable_exports_are_refused_before_any_post(name, message):
    with pytest.raises(ParseError, match=message):
        read_wxr_site(IMPORTER / name)
    with pytest.raises(ParseError, match=message):
        next(iter_wxr(IMPORTER / name))


def test_theme_unit_test_data_uses_the_https_namespace_and_is_read_whole():
    path = WXR / "theme-test-data" / "themeunittestdata.wordpress.xml"
    site = read_wxr_site(path)
    items, errors = items_and_errors(path)
    assert site.wxr_version == "1.2"
    assert [a.login for a in site.authors] == ["themedemos", "themereviewteam"]
    assert len(items) == posts_in(path) == 58
    assert errors == []
    # The file reuses a guid for two different posts: both are kept, told apart by post id.
    shared = [item for item in items if "shared_guid" in item.extra]
    assert len({item.guid for item in items}) == len(items)
    assert shared and all(
        item.guid.endswith(f"#wp-post-{item.extra['post_id']}") for item in shared
    )
    with_images = [item for item in items if item.lead_image]
    assert with_images
    assert all(
        i.lead_image.url.startswith("https://wpthemetestdata.files.wordpress.com/")
        for i in with_images
    )
    longest = max(items, key=lambda item: len(item.raw["title"]))
    assert longest.title == longest.raw["title"]  # an 85-letter word, under the cap: intact


def test_valid_wxr_1_0():
    site = read_wxr_site(IMPORTER / "valid-wxr-1.0.xml")
    assert site.base_url == "http://localhost/"
    assert site.authors == []  # WXR 1.0 has no author list
    assert ("alpha", "The alpha category") in [(c.name, c.description) for c in site.categories]
    assert "chicken" in [t.slug for t in site.tags]
    items, _ = items_and_errors(IMPORTER / "valid-wxr-1.0.xml")
    # Upstream counts 6 "posts": 3 posts and 3 pages; only posts become items here.
    assert len(items) == posts_in(IMPORTER / "valid-wxr-1.0.xml") == 3


def test_valid_wxr_1_1():
    site = read_wxr_site(IMPORTER / "valid-wxr-1.1.xml")
    assert site.base_url == "http://localhost/"
    [author] = site.authors
    assert (author.login, author.name, author.email) == ("john", "John Doe", "johndoe@example.org")
    [item] = items_and_errors(IMPORTER / "valid-wxr-1.1.xml")[0]  # plus one page upstream
    assert item.title == "Hello world!"
    assert [(a.name, a.login) for a in item.authors] == [("John Doe", "john")]
    assert item.categories == ["alpha"]
    assert item.tags == ["Clippable"]
    assert item.extra["old_paths"] == ["/?p=1"]


def test_small_export():
    site = read_wxr_site(IMPORTER / "small-export.xml")
    assert len(site.authors) == 3
    items, errors = items_and_errors(IMPORTER / "small-export.xml")
    # Upstream's 11 "posts" are 6 posts and 5 pages.
    assert (len(items), errors) == (6, [])
    assert max(len(item.categories) for item in items) == 27
    again, _ = items_and_errors(IMPORTER / "small-export.xml")
    assert [i.guid for i in again] == [i.guid for i in items]  # stable keys for re-runs


def test_slashes_and_backslashes_survive():
    [item] = items_and_errors(IMPORTER / "slashes.xml")[0]
    assert 'Slashes aren\\\'t \\"cool\\"' in item.content_html
    assert item.categories == ['a \\"great\\" category']
    [item] = items_and_errors(IMPORTER / "backslashes.xml")[0]
    assert "C:\\xampp\\htdocs\\wp-content" in item.content_html


def test_split_and_multiple_cdata_sections_are_joined_intact():
    [item] = items_and_errors(IMPORTER / "crazy-cdata-escaped.xml")[0]
    assert item.content_html == "<p>Content with nested <![CDATA[ tags ]]> :)</p>"
    assert item.raw["postmeta"]["Closing CDATA"] == "]]>"
    [item] = items_and_errors(IMPORTER / "multiple-cdata.xml")[0]
    assert "line oneline twoline three" in item.content_html
    [item] = items_and_errors(IMPORTER / "cdata-edge.xml")[0]
    assert "ends with sequence ]] >" in item.content_html


def test_blank_lines_become_paragraphs():
    [item] = items_and_errors(IMPORTER / "post-content-blank-lines.xml")[0]
    assert item.content_html.count("<p>") == 2
    assert "And more lines with text." in item.content_html


def test_bidi_controls_are_stripped_from_titles():
    [item] = items_and_errors(IMPORTER / "wxr-utf-8-challenges.xml")[0]
    assert not any(ch in item.title for ch in "\u202a\u202b\u202c\u202d\u202e")
    assert "Frost" in item.title


def test_hostile_namespaces_do_not_sink_the_export():
    items, errors = items_and_errors(IMPORTER / "namespace-edge-cases.xml")
    assert errors == []
    assert "Unicode Namespace" in [item.title for item in items]
    hijacked = next(item for item in items if item.title == "Hijacked Namespace")
    assert hijacked.extra["post_id"] == ""  # its wp: elements are not WordPress's


def test_three_hundred_authors():
    assert len(read_wxr_site(IMPORTER / "large-authors.xml").authors) == 300
