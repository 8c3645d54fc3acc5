"""Plain data passed between the stages of the import pipeline.

Parsers turn bytes into these dataclasses and never touch the ORM; the importer turns them into
articles. Every datetime is timezone-aware UTC or None; every URL is absolute http(s) or "".
"""

import datetime
from dataclasses import dataclass, field
from typing import Any


@dataclass
class ParsedAuthor:
    name: str
    email: str = ""
    url: str = ""
    login: str = ""  # WordPress author login, kept only to match posts to authors


@dataclass
class ParsedMedia:
    url: str
    kind: str  # "image" or "video"
    mime_type: str = ""
    caption: str = ""
    credit: str = ""
    alt: str = ""


@dataclass
class ParsedItem:
    guid: str = ""  # the id exactly as the document gave it; "" when it had none
    link: str = ""
    title: str = ""  # plain text
    summary: str = ""  # plain text, becomes the dek
    content_html: str = ""  # raw and untrusted: the pipeline sanitizes it
    published: datetime.datetime | None = None
    updated: datetime.datetime | None = None
    date_problem: str = ""  # a date was given but could not be trusted (unparseable, future)
    authors: list[ParsedAuthor] = field(default_factory=list)
    categories: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    lead_image: ParsedMedia | None = None
    video: ParsedMedia | None = None
    original_source_name: str = ""  # RSS <source> / Atom <source>: where the item first ran
    original_source_url: str = ""
    language: str = ""
    base_url: str = ""  # what relative URLs in content_html resolve against
    raw: dict[str, Any] = field(default_factory=dict)  # JSON-serialisable, kept for audit
    extra: dict[str, Any] = field(default_factory=dict)  # format-specific (WXR post id, ...)


@dataclass
class ItemError:
    """One entry that could not be turned into an item; the rest of the document goes on."""

    position: int
    message: str
    guid: str = ""
    raw: dict[str, Any] = field(default_factory=dict)
    skipped: bool = False  # nothing was wrong: an empty entry, or a repeat of an earlier one


@dataclass
class ParsedFeed:
    format: str  # "rss", "atom", "rdf", "json", "wxr", "html"
    title: str = ""
    link: str = ""
    description: str = ""
    language: str = ""
    items: list[ParsedItem] = field(default_factory=list)
    errors: list[ItemError] = field(default_factory=list)
    warning: str = ""  # the document was not well formed but could be read (feedparser "bozo")
    hubs: list[str] = field(default_factory=list)  # WebSub hubs the document advertises
    self_url: str = ""  # the document's own canonical URL (rel="self", JSON Feed feed_url)
