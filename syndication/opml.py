"""OPML subscription lists in and out: the feeds of a feed reader or another CMS.

`read_opml(data)` parses an OPML 1.0/2.0 document into plain `OpmlFeed`s; `import_opml(...)`
adds them as `Feed`s; `export_opml(feeds)` writes them back. An OPML file is untrusted input
like any feed:

* The XML parser (defusedxml) refuses a document type declaration outright, so no entity is
  ever expanded and nothing is loaded from the network.
* At most `MAX_OPML_BYTES` are read, at most `MAX_OUTLINES` outlines are looked at and
  outlines nested deeper than `MAX_DEPTH` are refused.
* Every `xmlUrl` goes through the fetcher's `validate_url` before it becomes a feed: private
  addresses, odd ports, credentials and non-http schemes are reported and skipped.
* A feed URL already known (to any source, or earlier in the same file) is skipped.

With `source_per_outline` the folder outline around a feed names its source (the nearest
folder wins when folders nest), and a feed outside any folder becomes a source of its own,
named after the feed. `export_opml` writes one folder per source, so exporting and importing
again gives the same sources and feeds.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field
from xml.etree.ElementTree import Element, ParseError, SubElement, tostring  # noqa: S405

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring
from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify

from articles.models import Source
from articles.sanitize import is_http_url, strip_control_characters
from syndication.fetching.client import UnsafeURL, validate_url
from syndication.models import Feed

MAX_OPML_BYTES = 5 * 1024 * 1024
MAX_OUTLINES = 5000
MAX_DEPTH = 32
MAX_TEXT = 200


class OpmlError(ValueError):
    """The document is not an OPML file we can read; the message says why."""


@dataclass(frozen=True)
class OpmlFeed:
    url: str  # normalised by validate_url
    title: str
    html_url: str  # "" unless an http(s) URL
    folder: str  # the nearest enclosing folder outline's text; "" at the top level
    folder_html_url: str  # that folder's htmlUrl (an export names the source's homepage there)
    position: int  # outline number in document order, counting from 1


@dataclass
class OpmlDocument:
    title: str = ""
    feeds: list[OpmlFeed] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)  # "outline 3: why"


def _text(value: str | None, limit: int = MAX_TEXT) -> str:
    return " ".join(strip_control_characters(value or "").split())[:limit]


def read_opml(data: bytes) -> OpmlDocument:
    """The feeds listed in an OPML document, in document order, and the outlines refused."""
    if len(data) > MAX_OPML_BYTES:
        raise OpmlError(f"The file is larger than the limit of {MAX_OPML_BYTES:,} bytes.")
    try:
        root = fromstring(data, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException:
        raise OpmlError("The file declares a document type (DTD); OPML never needs one.") from None
    except ParseError as error:
        raise OpmlError(f"The file is not well-formed XML ({error}).") from None
    if root.tag != "opml":
        raise OpmlError(f"The file is not OPML (its root element is <{_text(root.tag, 40)}>).")
    body = root.find("body")
    if body is None:
        raise OpmlError("The file has no <body>, so it lists no feeds.")
    document = OpmlDocument(title=_text(root.findtext("head/title")))
    seen = 0
    # Depth-first, in document order, without recursion: (element, depth, enclosing folder).
    pending = [(child, 1, ("", "")) for child in reversed(list(body))]
    while pending:
        element, depth, folder = pending.pop()
        if element.tag != "outline":
            continue
        seen += 1
        if seen > MAX_OUTLINES:
            document.refused.append(
                f"outline {seen} and after: more than {MAX_OUTLINES:,} outlines were not read"
            )
            break
        if depth > MAX_DEPTH:
            document.refused.append(f"outline {seen}: nested deeper than {MAX_DEPTH} levels")
            continue
        title = _text(element.get("title") or element.get("text"))
        html_url = _text(element.get("htmlUrl") or element.get("htmlurl"), 500)
        html_url = html_url if is_http_url(html_url) else ""
        raw_url = element.get("xmlUrl") or element.get("xmlurl")
        if raw_url is None:
            inner = (title, html_url) if title else folder
            pending.extend(reversed([(child, depth + 1, inner) for child in element]))
            continue
        try:
            url = validate_url(raw_url)
        except UnsafeURL as problem:
            document.refused.append(f"outline {seen}: {problem}")
            continue
        document.feeds.append(
            OpmlFeed(
                url=url,
                title="" if title == _text(raw_url) else title,  # untitled: text is the URL
                html_url=html_url,
                folder=folder[0],
                folder_html_url=folder[1],
                position=seen,
            )
        )
    return document


@dataclass
class OpmlImport:
    """What an import did (or, in a dry run, would do)."""

    added: list[Feed] = field(default_factory=list)
    created_sources: list[Source] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    dry_run: bool = False

    def summary(self) -> str:
        verb = "would add" if self.dry_run else "added"
        return (
            f"{verb} {len(self.added)} feed(s) and {len(self.created_sources)} new source(s); "
            f"{len(self.duplicates)} already known, {len(self.refused)} refused"
        )


def _source_for(name: str, homepage: str, made: dict[str, Source]) -> tuple[Source, bool]:
    name = name or "Untitled source"
    key = name.casefold()
    if key in made:
        return made[key], False
    source = (
        Source.objects.filter(name__iexact=name).order_by("pk").first()
        or Source.objects.filter(slug=slugify(name)).first()
    )
    created = source is None
    if created:
        source = Source(name=name, homepage=homepage if is_http_url(homepage) else "")
    made[key] = source
    return source, created


def import_opml(
    document: OpmlDocument,
    *,
    source: Source | None = None,
    source_per_outline: bool = False,
    dry_run: bool = False,
) -> OpmlImport:
    """Add the document's feeds to `source`, or to a source per folder outline.

    All or nothing: the feeds and sources are written in one transaction. A dry run writes
    nothing and reports the same counts (new sources then have no primary key).
    """
    if (source is None) == (not source_per_outline):
        raise ValueError("Pass either a source or source_per_outline=True.")
    outcome = OpmlImport(refused=list(document.refused), dry_run=dry_run)
    urls = [entry.url for entry in document.feeds]
    known = set(Feed.objects.filter(url__in=urls).values_list("url", flat=True))
    made: dict[str, Source] = {}
    for entry in document.feeds:
        if entry.url in known:
            outcome.duplicates.append(f"outline {entry.position}: {entry.url} is already a feed")
            continue
        known.add(entry.url)
        target = source
        if target is None:
            if entry.folder:
                target, created = _source_for(entry.folder, entry.folder_html_url, made)
            else:
                target, created = _source_for(entry.title or entry.url, entry.html_url, made)
            if created:
                outcome.created_sources.append(target)
        outcome.added.append(Feed(source=target, url=entry.url, title=entry.title[:300]))
    if dry_run:
        return outcome
    with transaction.atomic():
        for new_source in outcome.created_sources:
            new_source.save()
        for feed in outcome.added:
            feed.save()
    return outcome


def export_opml(feeds: Iterable[Feed], *, title: str = "") -> bytes:
    """An OPML 2.0 document of `feeds`, one folder outline per source, sources by name."""
    by_source: dict[int, tuple[Source, list[Feed]]] = {}
    for feed in feeds:
        by_source.setdefault(feed.source_id, (feed.source, []))[1].append(feed)
    root = Element("opml", version="2.0")
    head = SubElement(root, "head")
    SubElement(head, "title").text = title or "Feeds"
    SubElement(head, "dateCreated").text = timezone.now().strftime("%a, %d %b %Y %H:%M:%S GMT")
    body = SubElement(root, "body")
    for source, source_feeds in sorted(by_source.values(), key=lambda pair: pair[0].name):
        name = _text(source.name)
        folder = SubElement(body, "outline", text=name, title=name)
        if source.homepage:
            folder.set("htmlUrl", source.homepage)
        for feed in sorted(source_feeds, key=lambda feed: feed.url):
            feed_title = _text(feed.title, 300)
            attributes = {"type": "rss", "text": feed_title or feed.url, "xmlUrl": feed.url}
            if feed_title:
                attributes["title"] = feed_title
            if source.homepage:
                attributes["htmlUrl"] = source.homepage
            SubElement(folder, "outline", attributes)
    text = tostring(root, encoding="unicode")
    return ('<?xml version="1.0" encoding="utf-8"?>\n' + text + "\n").encode("utf-8")
