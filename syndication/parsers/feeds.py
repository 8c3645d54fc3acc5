"""RSS 0.9x/1.0/2.0, Atom 0.3/1.0, RDF and CDF through feedparser, mapped to ParsedFeed.

feedparser never fetches here: it is handed a byte stream, with HTML sanitizing off (the
pipeline sanitizes with nh3, and feedparser's own cleaning is not trusted) and the document's
declarations removed first (see xmlguard).
"""

import io
from typing import Any

import feedparser

from articles.sanitize import strip_control_characters
from articles.site.media import video_kind
from syndication.items import ItemError, ParsedAuthor, ParsedFeed, ParsedItem, ParsedMedia

from .common import (
    MAX_ITEMS,
    MAX_NAME,
    MAX_SUMMARY,
    MAX_TITLE,
    GuidFilter,
    ParseError,
    check_title_or_link,
    clean_guid,
    clean_language,
    clean_terms,
    clean_text,
    clip,
    collect,
    jsonable,
    make_media,
    media_kind,
    note_truncation,
    safe_link,
    text_as_html,
    text_of_markup,
)
from .dates import checked_date, from_struct_time, join_problems
from .xmlguard import strip_doctype

PLAIN_TYPES = {"text/plain", "text"}
# Root elements of RSS, Atom, RDF and CDF: such a document is a feed even when it has no items.
FEED_ROOTS = {"rss", "feed", "rdf", "channel"}


def _format_of(version: str) -> str:
    if version.startswith("atom"):
        return "atom"
    if version in {"rss090", "rss10"}:
        return "rdf"
    return "rss"


def _response_headers(url: str, content_type: str, charset: str) -> dict[str, str]:
    headers: dict[str, str] = {}
    content_type = clean_text(content_type)
    charset = clean_text(charset)
    # Without a type feedparser complains; XML's own declaration then decides the encoding.
    content_type = content_type or "application/xml"
    if charset and "charset=" not in content_type.lower():
        content_type = f"{content_type}; charset={charset}"
    headers["content-type"] = content_type
    if safe_link(url):
        headers["content-location"] = url
    return headers


def parse_xml_feed(
    content: bytes, *, url: str = "", content_type: str = "", charset: str = ""
) -> ParsedFeed:
    """The XML half of `parse_feed`."""
    # Whitespace before the XML declaration is a common server bug that makes XML invalid.
    if content[:1].isspace():
        content = content.lstrip()
    guarded = strip_doctype(content)
    root_name = guarded.root_name
    if root_name.lower() == "html":
        raise ParseError("not a feed: the address returned an HTML page")
    if root_name and not guarded.closed:
        # Half a feed would import half an article: refuse it as a failed fetch.
        raise ParseError(f"not a feed: the document ends before its closing </{root_name[:40]}>")
    result = feedparser.parse(
        io.BytesIO(guarded.data),
        response_headers=_response_headers(url, content_type, charset),
        sanitize_html=False,
        resolve_relative_uris=True,
    )
    version = result.get("version") or ""
    entries = result.get("entries") or []
    problem = _bozo_message(result)
    feed_data = result.get("feed") or {}
    if not version and not entries and root_name.rsplit(":", 1)[-1].lower() not in FEED_ROOTS:
        raise ParseError(f"not a feed: {problem or 'no RSS, Atom or RDF elements were found'}")
    feed = ParsedFeed(
        format=_format_of(version),
        title=clip(_text_field(feed_data, "title"), MAX_TITLE),
        link=safe_link(feed_data.get("link")),
        description=text_of_markup(feed_data.get("subtitle") or ""),
        language=clean_language(feed_data.get("language")),
    )
    warnings = []
    if problem:
        warnings.append(problem)
    if guarded.dropped_entities:
        warnings.append("the document declared its own entities; they were left unexpanded")
    feed.warning = "; ".join(warnings)
    seen = GuidFilter()
    for position, entry in enumerate(entries[:MAX_ITEMS]):
        try:
            outcome = check_title_or_link(_map_entry(entry, feed), position)
        except Exception as error:  # one bad entry never stops the others
            feed.errors.append(
                ItemError(
                    position=position,
                    message=f"could not read this entry: {error}",
                    guid=clean_guid(entry.get("id")),
                    raw=_safe_raw(entry),
                )
            )
            continue
        collect(feed, position, outcome, seen)
    note_truncation(feed, len(entries), "entries")
    return feed


def _bozo_message(result: Any) -> str:
    if not result.get("bozo"):
        return ""
    error = result.get("bozo_exception")
    return clean_text(getattr(error, "getMessage", lambda: str(error))())[:300]


def _safe_raw(entry: Any) -> dict[str, Any]:
    try:
        raw = jsonable(entry)
    except Exception:  # noqa: BLE001 - auditing data must never sink an item
        return {}
    return raw if isinstance(raw, dict) else {}


def _text_field(data: Any, name: str) -> str:
    """A title-like field as plain text, whatever type the document declared."""
    detail = data.get(f"{name}_detail") or {}
    value = data.get(name) or ""
    if detail.get("type") in PLAIN_TYPES:
        return clean_text(value)
    return text_of_markup(value)


def _body(entry: Any) -> tuple[str, Any]:
    """(raw body HTML, the detail it came from): content first, else the description."""
    candidates = list(entry.get("content") or [])
    if entry.get("summary_detail"):
        candidates.append(entry["summary_detail"])
    for detail in candidates:
        value = detail.get("value") or ""
        if not value.strip():
            continue
        if detail.get("type") in PLAIN_TYPES:
            return text_as_html(value), detail
        return value, detail
    return "", {}


def _authors(entry: Any) -> list[ParsedAuthor]:
    authors = []
    seen_names: set[str] = set()
    seen_emails: set[str] = set()
    for detail in entry.get("authors") or []:
        name = clip(text_of_markup(detail.get("name") or ""), MAX_NAME)
        email = clean_text(detail.get("email"))[:254]
        # feedparser carries an author's email over to the next author that has none.
        if email.lower() in seen_emails:
            email = ""
        if not name and email:
            name = email.split("@", 1)[0]
        if not name or name.casefold() in seen_names:
            continue
        seen_names.add(name.casefold())
        if email:
            seen_emails.add(email.lower())
        authors.append(ParsedAuthor(name=name, email=email, url=safe_link(detail.get("href"))))
    if not authors and entry.get("author"):
        name = clip(text_of_markup(entry["author"]), MAX_NAME)
        if name:
            authors.append(ParsedAuthor(name=name))
    return authors


def _media(entry: Any) -> tuple[ParsedMedia | None, ParsedMedia | None]:
    """(lead image, video) from enclosures, Media RSS and iTunes images, first one wins."""
    credit = ""
    for detail in entry.get("media_credit") or []:
        credit = detail.get("content") or ""
        if credit:
            break
    caption = entry.get("media_description") or ""
    image: ParsedMedia | None = None
    video: ParsedMedia | None = None
    references = [(e.get("href"), e.get("type"), "") for e in entry.get("enclosures") or []] + [
        (m.get("url"), m.get("type"), m.get("medium")) for m in entry.get("media_content") or []
    ]
    for url, mime_type, medium in references:
        url = safe_link(url)
        if not url:
            continue
        kind = media_kind(url, mime_type or "", medium or "")
        if kind == "image" and image is None:
            image = make_media(
                url, "image", mime_type=mime_type or "", caption=caption, credit=credit
            )
        elif kind == "video" and video is None:
            video = make_media(
                url, "video", mime_type=mime_type or "", caption=caption, credit=credit
            )
    if video is None:
        player = entry.get("media_player") or {}
        url = safe_link(player.get("url"))
        if url and video_kind(url) in {"youtube", "vimeo", "file"}:
            video = make_media(url, "video", caption=caption, credit=credit)
    if image is None:
        for thumbnail in entry.get("media_thumbnail") or []:
            image = make_media(thumbnail.get("url"), "image", caption=caption, credit=credit)
            if image:
                break
    if image is None:
        itunes_image = entry.get("image") or {}
        if isinstance(itunes_image, dict):
            image = make_media(itunes_image.get("href"), "image")
    return image, video


def _original_source(entry: Any) -> tuple[str, str]:
    source = entry.get("source") or {}
    if not isinstance(source, dict):
        return "", ""
    name = clip(text_of_markup(source.get("title") or ""), MAX_NAME)
    url = safe_link(source.get("href")) or safe_link(source.get("link"))
    return name, url


def _map_entry(entry: Any, feed: ParsedFeed) -> ParsedItem:
    content_html, content_detail = _body(entry)
    summary = ""
    if entry.get("summary"):
        summary_detail = entry.get("summary_detail") or {}
        if summary_detail.get("type") in PLAIN_TYPES:
            summary = clean_text(entry["summary"])
        else:
            summary = text_of_markup(entry["summary"])
    published, published_problem = checked_date(
        entry.get("published") or entry.get("created") or "",
        from_struct_time(entry.get("published_parsed") or entry.get("created_parsed")),
    )
    updated, updated_problem = checked_date(
        entry.get("updated") or "", from_struct_time(entry.get("updated_parsed"))
    )
    link = safe_link(entry.get("link"))
    guid = clean_guid(entry.get("id"))
    image, video = _media(entry)
    source_name, source_url = _original_source(entry)
    language = (
        clean_language((content_detail or {}).get("language"))
        or clean_language((entry.get("title_detail") or {}).get("language"))
        or feed.language
    )
    base = safe_link((content_detail or {}).get("base"))
    return ParsedItem(
        guid=guid,
        link=link,
        title=clip(_text_field(entry, "title"), MAX_TITLE),
        summary=clip(summary, MAX_SUMMARY),
        content_html=strip_control_characters(content_html),
        # An entry that only says when it was updated was published then as far as we know.
        published=published or (updated if not published_problem else None),
        updated=updated,
        date_problem=join_problems(published_problem, updated_problem),
        authors=_authors(entry),
        categories=clean_terms(
            tag.get("label") or tag.get("term") for tag in entry.get("tags") or []
        ),
        lead_image=image,
        video=video,
        original_source_name=source_name,
        original_source_url=source_url,
        language=language,
        base_url=base or link or feed.link,
        raw=_safe_raw(entry),
    )
