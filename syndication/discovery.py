"""Feed discovery: from a homepage URL to the feeds it offers, each checked to be a feed.

`discover_feeds(url)` fetches the page through the safe fetcher and collects candidates:

1. the URL itself, when it already is a feed;
2. the page's autodiscovery links, `<link rel="alternate" type="application/rss+xml">`
   (or `atom+xml`, `feed+json`, `json`), resolved against the page (or its `<base href>`);
3. only when the page names none, the common paths `/feed`, `/rss`, `/atom.xml`, `/feed.xml`,
   `/index.xml` and `/rss.xml` of the page's site.

Every candidate goes through `validate_url` (no private addresses, odd ports, credentials or
`javascript:`) and is fetched and parsed like any feed before it is offered, with its title and
item count. The page is read up to `MAX_PAGE_BYTES`, at most `MAX_LINKS` `<link>` elements are
looked at, and at most `MAX_CANDIDATES` URLs are fetched, so a hostile page costs a bounded
amount of work. Nothing is stored here: the caller (the admin's "Discover feeds" screen or
`manage.py discover_feeds`) lets the importer choose.
"""

from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit

import lxml.html
from lxml import etree

from syndication.entry import FEED_ACCEPT, PAGE_ACCEPT
from syndication.fetching.client import FetchError, FetchResult, UnsafeURL, fetch, validate_url
from syndication.parsers import ParseError, parse_feed

MAX_PAGE_BYTES = 2 * 1024 * 1024
MAX_LINKS = 200
MAX_CANDIDATES = 8
COMMON_PATHS = ("/feed", "/rss", "/atom.xml", "/feed.xml", "/index.xml", "/rss.xml")
FEED_TYPES = {
    "application/rss+xml",
    "application/atom+xml",
    "application/feed+json",
    "application/json",
    "application/rdf+xml",
}


@dataclass(frozen=True)
class FoundFeed:
    url: str  # where the feed answered (after redirects)
    title: str
    item_count: int
    format: str  # "rss", "atom", "rdf" or "json"
    found_by: str  # "the address itself", "a link on the page", "a common path"


@dataclass
class Discovery:
    page_url: str
    page_title: str = ""
    feeds: list[FoundFeed] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # what was refused or failed, and why


def _as_feed(result: FetchResult, found_by: str) -> FoundFeed:
    parsed = parse_feed(
        result.content, url=result.url, content_type=result.content_type, charset=result.charset
    )
    return FoundFeed(
        url=result.url,
        title=parsed.title,
        item_count=len(parsed.items),
        format=parsed.format,
        found_by=found_by,
    )


def _page_links(result: FetchResult) -> tuple[str, list[str]]:
    """(the page's title, the raw hrefs of its feed autodiscovery links, resolved)."""
    try:
        document = lxml.html.document_fromstring(result.content)
    except (etree.ParserError, ValueError):
        return "", []
    base = result.url
    for element in document.iter("base"):
        href = (element.get("href") or "").strip()
        if href:
            base = urljoin(result.url, href)
        break
    title = " ".join((document.findtext(".//title") or "").split())[:300]
    links = []
    for position, element in enumerate(document.iter("link")):
        if position >= MAX_LINKS:
            break
        rel = (element.get("rel") or "").lower().split()
        kind = (element.get("type") or "").split(";")[0].strip().lower()
        href = (element.get("href") or "").strip()
        if "alternate" in rel and kind in FEED_TYPES and href:
            links.append(urljoin(base, href))
    return title, links


def discover_feeds(url: str) -> Discovery:
    """The feeds offered at `url` (a homepage or a feed), each fetched and parsed once.

    Raises `UnsafeURL` when `url` itself may not be fetched; every other problem (a page that
    is too large, a link to a private address, a candidate that is not a feed) is listed in
    `Discovery.problems` and the search goes on.
    """
    page_url = validate_url(url)
    discovery = Discovery(page_url=page_url)
    seen: set[str] = set()
    budget = MAX_CANDIDATES

    def consider(candidate: str, found_by: str) -> None:
        nonlocal budget
        try:
            candidate = validate_url(candidate)
        except UnsafeURL as problem:
            discovery.problems.append(str(problem))
            return
        if candidate in seen:
            return
        seen.add(candidate)
        if budget <= 0:
            discovery.problems.append(
                f"Not checked: {candidate} (only {MAX_CANDIDATES} candidates are fetched)."
            )
            return
        budget -= 1
        try:
            result = fetch(candidate, accept=FEED_ACCEPT)
            feed = _as_feed(result, found_by)
        except (FetchError, ParseError) as problem:
            discovery.problems.append(f"{candidate}: {problem}")
            return
        if all(known.url != feed.url for known in discovery.feeds):
            discovery.feeds.append(feed)

    links: list[str] = []
    try:
        page = fetch(page_url, accept=f"{PAGE_ACCEPT}, {FEED_ACCEPT}", max_bytes=MAX_PAGE_BYTES)
    except FetchError as problem:
        discovery.problems.append(f"{page_url}: {problem}")
    else:
        seen.add(page_url)
        try:
            discovery.feeds.append(_as_feed(page, "the address itself"))
            return discovery
        except ParseError:
            discovery.page_title, links = _page_links(page)
    for link in links:
        consider(link, "a link on the page")
    if not discovery.feeds:
        parts = urlsplit(page_url)
        for path in COMMON_PATHS:
            consider(f"{parts.scheme}://{parts.netloc}{path}", "a common path")
    return discovery
