"""Every feed of the shared corpus (feedparser, feed-rs, gofeed) through parse_feed.

Well-formed documents must parse; ill-formed ones may be refused with ParseError but must never
raise anything else; whatever is returned keeps the promises of syndication.items.
"""

import datetime
import json
from pathlib import Path
from urllib.parse import urljoin

import pytest

from articles.sanitize import is_http_url
from syndication.items import ItemError, ParsedFeed
from syndication.parsers import ParseError, parse_feed

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"
FEEDS = CORPUS / "feeds"
ABSENT = "the shared corpus (../shared/corpus) is not present in this checkout"
# feedparser's harness serves files whose path contains "http" from this address.
HARNESS_URL = "http://127.0.0.1:8097/tests/"
FORMATS = {"rss", "atom", "rdf", "json"}


def _params(paths, ids):
    if not FEEDS.is_dir():
        return [pytest.param(None, marks=pytest.mark.skip(reason=ABSENT))]
    return [pytest.param(path, id=identifier) for path, identifier in zip(paths, ids, strict=True)]


def _feedparser_cases():
    if not FEEDS.is_dir():
        return _params([], [])
    cases = json.loads((FEEDS / "feedparser" / "EXPECTATIONS.json").read_text())["files"]
    return _params(cases, [case["file"] for case in cases])


def _data_files(folder):
    if not FEEDS.is_dir():
        return _params([], [])
    paths = sorted(
        path
        for path in (FEEDS / folder).rglob("*")
        if path.suffix in {".xml", ".json"}
        and not path.name.endswith((".serde.json", "_expected.json"))
    )
    return _params(paths, [str(path.relative_to(FEEDS)) for path in paths])


def assert_keeps_its_promises(feed: ParsedFeed):
    """What every consumer of a ParsedFeed relies on, whatever the input was."""
    assert feed.format in FORMATS
    for item in feed.items:
        assert item.title or item.link
        assert len(item.title) <= 300
        assert "\x00" not in item.title + item.summary + item.content_html
        for url in (item.link, item.original_source_url, item.base_url):
            assert url == "" or is_http_url(url)
        for media in (item.lead_image, item.video):
            assert media is None or is_http_url(media.url)
        for date in (item.published, item.updated):
            assert date is None or date.utcoffset() == datetime.timedelta(0)
        assert len(item.categories) <= 100 and all(len(c) <= 100 for c in item.categories)
        json.dumps(item.raw)
    assert all(isinstance(error, ItemError) for error in feed.errors)
    guids = [item.guid for item in feed.items if item.guid]
    assert len(guids) == len(set(guids))


def _headers(case):
    headers = {}
    for line in case["http_headers"]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return headers


@pytest.mark.parametrize("case", _feedparser_cases())
def test_feedparser_suite(case):
    content = (FEEDS / "feedparser" / case["file"]).read_bytes()
    headers = _headers(case)
    url = HARNESS_URL + case["file"] if "http" in case["file"] else ""
    if "content-location" in headers:
        url = urljoin(url, headers["content-location"])
    parse = lambda: parse_feed(content, url=url, content_type=headers.get("content-type", ""))  # noqa: E731
    if case["bozo_expected"] is False:
        feed = parse()
    else:
        try:
            feed = parse()
        except ParseError:
            return
    assert_keeps_its_promises(feed)


# Documents that are not feeds at all, or are broken beyond use.
NOT_FEEDS = {
    "feed-rs/fixture/rss2/rss_2.0_invalid_1.xml",
    "feed-rs/fixture/xml/xml_sample_1.xml",
    "feed-rs/fixture/xml/xml_sample_2.xml",
    "gofeed/parser/json/invalid/invalid.json",
    "gofeed/parser/universal/invalid.json",
    "gofeed/parser/universal/empty_feed.xml",
    "gofeed/parser/universal/unknown_feed.xml",
}
# Plain XML samples: no promise either way, only no crash.
UNDECIDED = {"feed-rs/fixture/xml/xml_iso8859.xml"}


@pytest.mark.parametrize("path", _data_files("feed-rs") + _data_files("gofeed"))
def test_feed_rs_and_gofeed_fixtures(path):
    name = str(path.relative_to(FEEDS))
    if name in NOT_FEEDS:
        with pytest.raises(ParseError, match="not a feed"):
            parse_feed(path.read_bytes())
        return
    try:
        feed = parse_feed(path.read_bytes())
    except ParseError:
        if name in UNDECIDED:
            return
        raise
    assert_keeps_its_promises(feed)
    expected = path.with_name(path.stem + ".serde.json")
    if expected.exists():
        entries = json.loads(expected.read_text())["entries"]
        # Entries with neither title nor link are reported as errors instead (E6).
        assert len(feed.items) + len(feed.errors) == len(entries)


@pytest.mark.skipif(not FEEDS.is_dir(), reason=ABSENT)
@pytest.mark.parametrize(
    ("name", "expected_format"),
    [
        ("atom03_feed.xml", "atom"),
        ("atom10_feed.xml", "atom"),
        ("rss_feed.xml", "rss"),
        ("rss_feed_bom.xml", "rss"),
        ("rss_feed_leading_spaces.xml", "rss"),
        ("rdf_feed.xml", "rdf"),
        ("json10_feed.json", "json"),
        ("json11_feed.json", "json"),
    ],
)
def test_gofeed_format_detection(name, expected_format):
    content = (FEEDS / "gofeed" / "parser" / "universal" / name).read_bytes()
    assert parse_feed(content).format == expected_format


@pytest.mark.skipif(not FEEDS.is_dir(), reason=ABSENT)
@pytest.mark.parametrize(
    "name", ["version_json_10", "version_json_11", "version_json_11_deprecated_author"]
)
def test_gofeed_json_feeds_match_their_expected_model(name):
    folder = FEEDS / "gofeed" / "parser" / "json"
    expected = json.loads((folder / f"{name}_expected.json").read_text())
    feed = parse_feed((folder / f"{name}.json").read_bytes())
    assert feed.title == expected["title"]
    assert feed.link == expected["home_page_url"]
    [item] = feed.items
    [expected_item] = expected["items"]
    assert item.guid == expected_item["id"]
    assert item.link == expected_item["url"]
    assert item.title == expected_item["title"]
    assert item.content_html == expected_item["content_html"]
    assert item.summary == expected_item["summary"]
    assert item.lead_image.url == expected_item["image"]
    assert item.tags == expected_item["tags"]
    published = datetime.datetime.fromisoformat(expected_item["date_published"])
    assert item.published == published
    author = expected_item.get("author") or (expected_item.get("authors") or [{}])[0]
    assert [a.name for a in item.authors][:1] == [author["name"]]


@pytest.mark.skipif(not FEEDS.is_dir(), reason=ABSENT)
def test_feedparser_json_example_keeps_its_script_for_the_sanitizer():
    feed = parse_feed((FEEDS / "feedparser" / "json" / "example.json").read_bytes())
    assert len(feed.items) == 2
    assert any("<script>" in item.content_html for item in feed.items)
