"""Field rules shared by every parser: text cleaning, size caps, safe links, JSON-safe raw data."""

import datetime
import html
import math
import re
import time
from collections.abc import Iterable, Mapping
from typing import Any

from articles.sanitize import is_http_url, plain_text, strip_control_characters
from syndication.items import ItemError, ParsedFeed, ParsedItem, ParsedMedia

# Column limits of the store, applied here so an oversized field never fails a whole item (E7).
MAX_TITLE = 300
MAX_SUMMARY = 1000
MAX_NAME = 200
MAX_URL = 1000
MAX_CATEGORIES = 100
MAX_CATEGORY = 100
MAX_CAPTION = 500
MAX_CREDIT = 200
MAX_ALT = 300
MAX_LANGUAGE = 12
MAX_GUID = 1000
# Stops a pathological document from holding millions of items in memory.
MAX_ITEMS = 10_000

NO_TITLE_NOR_LINK = "item has neither a title nor a link"
_LANGUAGE = re.compile(r"^[a-z]{2,3}(-[a-z0-9]{1,8})*$")
_IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".gif", ".webp", ".avif")
_VIDEO_EXTENSIONS = (".mp4", ".webm", ".ogv", ".m4v", ".mov")


class ParseError(Exception):
    """The whole document is unusable; the message is written for the editor who imported it."""


def clean_text(value: Any) -> str:
    """One line of plain text: control characters gone, whitespace collapsed."""
    if value is None:
        return ""
    return " ".join(strip_control_characters(str(value)).split())


def text_of_markup(value: str | None) -> str:
    """Plain text of a field that may hold HTML (titles, summaries, names)."""
    return plain_text(value or "")


def clip(text: str, limit: int) -> str:
    """`text` cut to `limit` characters, at a word boundary when one is near, with an ellipsis."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    if space > limit * 0.6:
        cut = cut[:space]
    return cut.rstrip() + "…"


def safe_link(url: Any) -> str:
    """`url` when it is an absolute http(s) URL of sane length, else "" (A12)."""
    if not isinstance(url, str):
        return ""
    url = strip_control_characters(url).strip()
    if len(url) > MAX_URL or not is_http_url(url):
        return ""
    return url


def clean_guid(value: Any) -> str:
    if value is None:
        return ""
    return strip_control_characters(str(value)).strip()[:MAX_GUID]


def clean_language(value: Any) -> str:
    language = clean_text(value).lower().replace("_", "-")
    if not _LANGUAGE.match(language):
        return ""
    return language[:MAX_LANGUAGE].rstrip("-")


def clean_terms(values: Iterable[Any]) -> list[str]:
    """Categories or tags: plain text, de-duplicated in order, each and all of them capped."""
    terms: list[str] = []
    seen: set[str] = set()
    for value in values:
        term = clip(text_of_markup(str(value)) if value is not None else "", MAX_CATEGORY)
        if term and term.casefold() not in seen:
            seen.add(term.casefold())
            terms.append(term)
            if len(terms) >= MAX_CATEGORIES:
                break
    return terms


def text_as_html(text: str) -> str:
    """Plain text made into HTML paragraphs, every character escaped (A11)."""
    text = strip_control_characters(text).replace("\r\n", "\n").replace("\r", "\n")
    paragraphs = [p.strip() for p in re.split(r"\n\s*\n", text) if p.strip()]
    return "".join(
        "<p>" + "<br>".join(html.escape(line) for line in p.split("\n")) + "</p>"
        for p in paragraphs
    )


def media_kind(url: str, mime_type: str = "", medium: str = "") -> str:
    """ "image", "video" or "" for an enclosure-like reference."""
    mime_type = (mime_type or "").lower()
    medium = (medium or "").lower()
    path = url.lower().split("?", 1)[0]
    if medium == "image" or mime_type.startswith("image/"):
        return "image" if mime_type != "image/svg+xml" else ""
    if medium == "video" or mime_type.startswith("video/"):
        return "video"
    if mime_type or medium:
        return ""
    if path.endswith(_IMAGE_EXTENSIONS):
        return "image"
    if path.endswith(_VIDEO_EXTENSIONS):
        return "video"
    return ""


def make_media(url: Any, kind: str, *, mime_type: str = "", caption: str = "", credit: str = "",
               alt: str = "") -> ParsedMedia | None:  # fmt: skip
    """A media reference, or None when `url` is not a safe link.

    `caption` and `credit` may hold markup (reduced to text here). The alt text is the
    original's, else the caption: an image with a caption is never left without a description.
    """
    url = safe_link(url)
    if not url:
        return None
    return ParsedMedia(
        url=url,
        kind=kind,
        mime_type=clean_text(mime_type)[:100],
        caption=clip(text_of_markup(caption), MAX_CAPTION),
        credit=clip(text_of_markup(credit), MAX_CREDIT),
        alt=clip(text_of_markup(alt) or text_of_markup(caption), MAX_ALT),
    )


def jsonable(value: Any, depth: int = 0) -> Any:
    """`value` converted to plain JSON types (struct_time and datetimes become ISO strings).

    NaN and the infinities are not JSON (Python's json module reads them, databases refuse
    them): they become None.
    """
    if depth > 20:
        return None
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, str):
        return strip_control_characters(value)
    if isinstance(value, bytes):
        return strip_control_characters(value.decode("utf-8", "replace"))
    if isinstance(value, time.struct_time):
        try:
            return datetime.datetime(*value[:6], tzinfo=datetime.UTC).isoformat()
        except ValueError:
            return None
    if isinstance(value, datetime.datetime | datetime.date):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(key): jsonable(item, depth + 1) for key, item in value.items()}
    if isinstance(value, list | tuple | set):
        return [jsonable(item, depth + 1) for item in value]
    return strip_control_characters(str(value))


def check_title_or_link(item: ParsedItem, position: int) -> ParsedItem | ItemError:
    """An item needs a title or a link to be findable by an editor (E6)."""
    if item.title or item.link:
        return item
    return ItemError(
        position=position, message=NO_TITLE_NOR_LINK, guid=item.guid, raw=item.raw, skipped=True
    )


REPEATED_ID = "the same id appears earlier in the document; kept the first"


def collect(
    feed: ParsedFeed, position: int, outcome: ParsedItem | ItemError, seen: "GuidFilter"
) -> None:
    """File one mapped entry under the feed's items or errors; later repeats of an id skip."""
    if isinstance(outcome, ItemError):
        feed.errors.append(outcome)
    elif seen.is_repeat(outcome.guid):
        feed.errors.append(
            ItemError(position=position, guid=outcome.guid, message=REPEATED_ID, skipped=True)
        )
    else:
        feed.items.append(outcome)


def note_truncation(feed: ParsedFeed, total: int, noun: str) -> None:
    if total > MAX_ITEMS:
        feed.errors.append(
            ItemError(position=MAX_ITEMS, message=f"only the first {MAX_ITEMS} {noun} were read")
        )


class GuidFilter:
    """Drops the later copies of an id already seen in the same document (E3)."""

    def __init__(self) -> None:
        self.seen: set[str] = set()

    def is_repeat(self, guid: str) -> bool:
        if not guid:
            return False
        if guid in self.seen:
            return True
        self.seen.add(guid)
        return False


MAX_HUBS = 5


def unique_links(urls: Any, limit: int = MAX_HUBS) -> list[str]:
    """The absolute http(s) URLs among `urls`, without repeats, at most `limit` of them."""
    links: list[str] = []
    for url in urls if isinstance(urls, list) else []:
        link = safe_link(url)
        if link and link not in links:
            links.append(link)
        if len(links) >= limit:
            break
    return links
