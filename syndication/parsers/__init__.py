"""Parsers of the import pipeline: bytes in, `syndication.items` dataclasses out, never the ORM.

- `parse_feed(content, url=, content_type=, charset=)`: RSS, Atom, RDF, CDF or JSON Feed.
- `parse_page(html, url=)`: one article page, as a feed of one item.
- `read_wxr_site(source)` and `iter_wxr(source)`: a WordPress export, streamed.
- `normalise_url`, `dedupe_key`, `content_hash`: identity and change detection of items.

Every parser raises `ParseError` when the whole document is unusable, and reports an entry it
cannot use as an `ItemError` while the other entries go on.
"""

from syndication.items import ParsedFeed

from .common import ParseError
from .feeds import parse_xml_feed
from .jsonfeed import looks_like_json, parse_json_feed
from .pages import parse_page
from .urls import content_hash, dedupe_key, normalise_url
from .wxr import WxrSite, WxrTerm, iter_wxr, read_wxr_site

__all__ = [
    "ParseError",
    "WxrSite",
    "WxrTerm",
    "content_hash",
    "dedupe_key",
    "iter_wxr",
    "normalise_url",
    "parse_feed",
    "parse_page",
    "read_wxr_site",
]


def parse_feed(
    content: bytes | str, *, url: str = "", content_type: str = "", charset: str = ""
) -> ParsedFeed:
    """Parse a fetched feed document.

    `url` is where it was fetched from (relative links resolve against it); `content_type` and
    `charset` are what the server declared. JSON Feed is recognised by its media type or by
    a document that starts with "{"; anything else goes to the XML parser. A document that is
    not a feed at all (empty, HTML, unreadable JSON) raises ParseError("not a feed: ...").
    """
    if isinstance(content, str):
        content = content.encode("utf-8")
    if not content or not content.strip():
        raise ParseError("not a feed: the document is empty")
    if looks_like_json(content) or (
        "json" in content_type.lower() and content.lstrip()[:1] != b"<"
    ):
        return parse_json_feed(content)
    return parse_xml_feed(content, url=url, content_type=content_type, charset=charset)
