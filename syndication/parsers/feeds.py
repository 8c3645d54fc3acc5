"""RSS 0.9x/1.0/2.0, Atom 0.3/1.0, RDF and CDF through feedparser, mapped to ParsedFeed.

feedparser never fetches here: it is handed a byte stream, with HTML sanitizing off (the
pipeline sanitizes with nh3, and feedparser's own cleaning is not trusted). xmlguard reads the
document first, in an allowed encoding, and hands feedparser UTF-8 without DTD declarations:
feedparser never decides an encoding or sees a DOCTYPE.
"""

import html
import io
from typing import Any

import feedparser

from articles.sanitize import strip_control_characters
from articles.site.media import video_kind
from syndication.items import ItemError, ParsedAuthor, ParsedFeed, ParsedItem, ParsedMedia

from .bodies import ImageText, image_text_in_body, without_leading_title
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
    unique_links,
)
from .dates import checked_date, from_struct_time, join_problems
from .mediarss import ItemMedia, read_item_media
from .xmlguard import guard_xml

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
    content_type = clean_text(content_type).split(";", 1)[0].strip()
    charset = clean_text(charset)
    # Without a type feedparser complains; XML's own declaration then decides the encoding.
    content_type = content_type or "application/xml"
    if charset and "charset=" not in content_type.lower():
        content_type = f"{content_type}; charset={charset}"
    headers["content-type"] = content_type
    if safe_link(url):
        headers["content-location"] = url
    return headers


def _link_targets(feed_data: Any, rel: str) -> list[Any]:
    """The hrefs of the document's <link rel=...> (Atom, or atom:link inside RSS)."""
    return [
        link.get("href")
        for link in (feed_data.get("links") or [])
        if isinstance(link, dict) and str(link.get("rel", "")).lower() == rel
    ]


def _charset_of(content_type: str) -> str:
    for parameter in content_type.split(";")[1:]:
        name, _, value = parameter.partition("=")
        if name.strip().lower() == "charset":
            return value.strip().strip("\"'")
    return ""


def parse_xml_feed(
    content: bytes, *, url: str = "", content_type: str = "", charset: str = ""
) -> ParsedFeed:
    """The XML half of `parse_feed`."""
    # Whitespace before the XML declaration is a common server bug that makes XML invalid.
    if content[:1].isspace():
        content = content.lstrip()
    guarded = guard_xml(content, charset=charset or _charset_of(content_type))
    root_name = guarded.root_name
    if root_name.lower() == "html":
        raise ParseError("not a feed: the address returned an HTML page")
    if root_name and not guarded.closed:
        # Half a feed would import half an article: refuse it as a failed fetch.
        raise ParseError(f"not a feed: the document ends before its closing </{root_name[:40]}>")
    result = feedparser.parse(
        io.BytesIO(guarded.data),
        # The document is UTF-8 now, whatever the server said (see xmlguard).
        response_headers=_response_headers(url, content_type, "utf-8"),
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
        hubs=unique_links(_link_targets(feed_data, "hub")),
        self_url=next(iter(unique_links(_link_targets(feed_data, "self"))), ""),
    )
    warnings = []
    if problem:
        warnings.append(problem)
    if guarded.dropped_entities:
        warnings.append("the document declared its own entities; they were left unexpanded")
    feed.warning = "; ".join(warnings)
    item_media = read_item_media(guarded.data) if entries else None
    if item_media is not None and len(item_media) != len(entries):
        # lxml recovered a broken document differently from feedparser: items cannot be paired.
        item_media = None
    seen = GuidFilter()
    for position, entry in enumerate(entries[:MAX_ITEMS]):
        media = item_media[position] if item_media is not None else ItemMedia()
        try:
            outcome = check_title_or_link(_map_entry(entry, feed, media), position)
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


def _body_and_summary(entry: Any, media: ItemMedia, title: str) -> tuple[str, Any, str]:
    """(raw body HTML, the detail it came from, plain-text summary) of an entry.

    The precedence (docs/importing.md): the full content (RSS `content:encoded`, Atom
    `content`) over the summary (RSS `description`, Atom `summary`), which is the body only when
    there is no full content, and then not also the summary. A first line repeating the `title`
    is dropped from the body. Media RSS text (`media:description`, `media:title`) belongs to
    the image, never to the article: feedparser files it as the entry's description or content,
    so anything that is one of the item's media texts and none of its own texts is left out.
    """
    contents, demoted = [], []
    for detail in entry.get("content") or []:
        value = detail.get("value") or ""
        if not value.strip() or media.is_media_text(value):
            continue
        (demoted if media.is_summary_text(value) else contents).append(detail)
    summary_detail = _summary_detail(entry, media) or (demoted[0] if demoted else None)
    candidates = [*contents, summary_detail] if summary_detail else contents
    body, body_detail = "", {}
    for detail in candidates:
        value = detail.get("value") or ""
        body = text_as_html(value) if detail.get("type") in PLAIN_TYPES else value
        # A content that only repeats the headline is no content: the next field is the body.
        body = without_leading_title(body, title)
        if body.strip():
            body_detail = detail
            break
    summary = ""
    if summary_detail and summary_detail is not body_detail:
        value = summary_detail.get("value") or ""
        if summary_detail.get("type") in PLAIN_TYPES:
            summary = clean_text(value)
        else:
            summary = text_of_markup(value)
        # feedparser copies content into the summary when an entry has no summary of its own.
        if summary == text_of_markup(body):
            summary = ""
    return body, body_detail, summary


def _summary_detail(entry: Any, media: ItemMedia) -> Any:
    """The entry's own summary as a detail (value, type), or None.

    When a caption follows the description, feedparser keeps the description in `summary` but
    points `summary_detail` at the caption; the description is then read as HTML, as RSS has it.
    """
    detail = entry.get("summary_detail") or {}
    if (detail.get("value") or "").strip() and not media.is_media_text(detail.get("value")):
        return detail
    summary = entry.get("summary") or ""
    if summary.strip() and not media.is_media_text(summary):
        return {**detail, "value": summary, "type": "text/html"}
    return None


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


def _media(
    entry: Any, media: ItemMedia, body: str = "", base_url: str = ""
) -> tuple[ParsedMedia | None, ParsedMedia | None]:
    """(lead image, video) from enclosures, Media RSS and iTunes images, first one wins.

    A `media:content` marked `isDefault` goes before the others. Captions and credits come
    from Media RSS as read by `mediarss` (the object's own, else its group's, else the item's);
    feedparser's `media_credit` is the fallback when the document could not be read a second
    time. When the body shows the same picture, its alt text (and its figure's caption, if
    Media RSS gave none) are the lead image's too.
    """
    fallback_credit = ""
    if not media.by_url and not media.item_level.credits:
        for detail in entry.get("media_credit") or []:
            fallback_credit = detail.get("content") or ""
            if fallback_credit:
                break

    def described(url: str, kind: str, mime_type: str = "") -> ParsedMedia | None:
        text = media.text_for(url)
        caption = text.caption if text.caption_is_html else html.escape(text.caption)
        shown = image_text_in_body(body, url, base_url) if kind == "image" else ImageText()
        return make_media(
            url, kind, mime_type=mime_type, caption=caption or html.escape(shown.caption),
            credit=text.credit or fallback_credit, alt=html.escape(shown.alt),
        )  # fmt: skip

    image: ParsedMedia | None = None
    video: ParsedMedia | None = None
    contents = sorted(
        entry.get("media_content") or [],
        key=lambda m: (m.get("url") or "").strip() not in media.default_urls,
    )
    references = [(e.get("href"), e.get("type"), "") for e in entry.get("enclosures") or []] + [
        (m.get("url"), m.get("type"), m.get("medium")) for m in contents
    ]
    for url, mime_type, medium in references:
        url = safe_link(url)
        if not url:
            continue
        kind = media_kind(url, mime_type or "", medium or "")
        if kind == "image" and image is None:
            image = described(url, "image", mime_type or "")
        elif kind == "video" and video is None:
            video = described(url, "video", mime_type or "")
    if video is None:
        player = entry.get("media_player") or {}
        url = safe_link(player.get("url"))
        if url and video_kind(url) in {"youtube", "vimeo", "file"}:
            video = described(url, "video")
    if image is None:
        for thumbnail in entry.get("media_thumbnail") or []:
            image = described(safe_link(thumbnail.get("url")), "image")
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


def _map_entry(entry: Any, feed: ParsedFeed, media: ItemMedia) -> ParsedItem:
    title = _text_field(entry, "title")
    if media.is_media_text(entry.get("title")) and media.own_title.strip():
        # An item-level media:title written before the item's <title> won the title.
        title = text_of_markup(media.own_title)
    content_html, content_detail, summary = _body_and_summary(entry, media, title)
    published, published_problem = checked_date(
        entry.get("published") or entry.get("created") or "",
        from_struct_time(entry.get("published_parsed") or entry.get("created_parsed")),
    )
    updated, updated_problem = checked_date(
        entry.get("updated") or "", from_struct_time(entry.get("updated_parsed"))
    )
    link = safe_link(entry.get("link"))
    guid = clean_guid(entry.get("id"))
    source_name, source_url = _original_source(entry)
    language = (
        clean_language((content_detail or {}).get("language"))
        or clean_language((entry.get("title_detail") or {}).get("language"))
        or feed.language
    )
    base = safe_link((content_detail or {}).get("base"))
    image, video = _media(entry, media, content_html, base or link or feed.link)
    return ParsedItem(
        guid=guid,
        link=link,
        title=clip(title, MAX_TITLE),
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
