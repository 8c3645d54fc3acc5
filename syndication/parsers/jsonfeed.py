"""JSON Feed 1.0 and 1.1 (https://jsonfeed.org/version/1.1), mapped to ParsedFeed."""

import html
import json
from typing import Any

from articles.sanitize import strip_control_characters
from syndication.items import ItemError, ParsedAuthor, ParsedFeed, ParsedItem, ParsedMedia

from .bodies import image_text_in_body, without_leading_title
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
from .dates import checked_date, join_problems


class InvalidItem(ValueError):
    """A JSON Feed item breaks the format in a way that makes it unusable."""


def looks_like_json(content: bytes) -> bool:
    start = content[:1024].lstrip(b"\xef\xbb\xbf \t\r\n")
    return start.startswith(b"{")


def parse_json_feed(content: bytes) -> ParsedFeed:
    """The JSON half of `parse_feed`."""
    try:
        text = content.decode(json.detect_encoding(content), "replace")
        document = json.loads(text)
    except (ValueError, RecursionError) as error:
        raise ParseError(f"not a feed: the JSON cannot be read ({str(error)[:200]})") from error
    if not isinstance(document, dict):
        raise ParseError("not a feed: the JSON document is not an object")
    version = document.get("version")
    items = document.get("items")
    declared = isinstance(version, str) and (
        "jsonfeed.org/version/1" in version or version.startswith("1.")
    )
    if not isinstance(items, list):
        if declared:
            raise ParseError('not a feed: "items" must be a list of items')
        raise ParseError("not a feed: this JSON has no JSON Feed version and no items")
    language = clean_language(document.get("language"))
    feed = ParsedFeed(
        format="json",
        title=clip(text_of_markup(_text(document, "title")), MAX_TITLE),
        link=safe_link(document.get("home_page_url")),
        description=text_of_markup(_text(document, "description")),
        language=language,
        hubs=unique_links(_hub_urls(document)),
        self_url=safe_link(document.get("feed_url")),
    )
    feed_authors = _authors(document)
    seen = GuidFilter()
    for position, entry in enumerate(items[:MAX_ITEMS]):
        try:
            outcome = check_title_or_link(_map_item(entry, feed, feed_authors), position)
        except (InvalidItem, ValueError, TypeError, AttributeError) as error:
            guid = clean_guid(entry.get("id")) if isinstance(entry, dict) else ""
            raw = jsonable(entry) if isinstance(entry, dict) else {}
            feed.errors.append(ItemError(position=position, message=str(error), guid=guid, raw=raw))
            continue
        collect(feed, position, outcome, seen)
    note_truncation(feed, len(items), "items")
    return feed


def _hub_urls(document: dict[str, Any]) -> list[Any]:
    """The URLs of the feed's WebSub hubs ("hubs": [{"type": "WebSub", "url": ...}])."""
    hubs = document.get("hubs")
    return [
        hub.get("url")
        for hub in (hubs if isinstance(hubs, list) else [])
        if isinstance(hub, dict) and str(hub.get("type", "")).lower() == "websub"
    ]


def _text(data: dict[str, Any], key: str) -> str:
    value = data.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise InvalidItem(f'"{key}" must be text, not {type(value).__name__}')
    return value


def _authors(data: dict[str, Any]) -> list[ParsedAuthor]:
    candidates = data.get("authors")
    if not isinstance(candidates, list):
        candidates = [data["author"]] if isinstance(data.get("author"), dict) else []
    authors = []
    for candidate in candidates:
        if not isinstance(candidate, dict):
            continue
        name = candidate.get("name")
        name = clip(text_of_markup(name), MAX_NAME) if isinstance(name, str) else ""
        if name:
            authors.append(ParsedAuthor(name=name, url=safe_link(candidate.get("url"))))
    return authors


def _media(
    entry: dict[str, Any], body: str, base_url: str
) -> tuple[ParsedMedia | None, ParsedMedia | None]:
    """(lead image, video): `image`, else `banner_image`, else the first image attachment.

    JSON Feed has no alt text or caption for them: when the body shows the same picture, its
    alt text and its figure's caption are used.
    """
    image = None
    for key in ("image", "banner_image"):
        url = safe_link(entry.get(key))
        if url:
            shown = image_text_in_body(body, url, base_url)
            image = make_media(
                url, "image", caption=html.escape(shown.caption), alt=html.escape(shown.alt)
            )
            break
    video = None
    attachments = entry.get("attachments")
    for attachment in attachments if isinstance(attachments, list) else []:
        if not isinstance(attachment, dict):
            continue
        url = safe_link(attachment.get("url"))
        mime_type = (
            attachment.get("mime_type") if isinstance(attachment.get("mime_type"), str) else ""
        )
        title = attachment.get("title") if isinstance(attachment.get("title"), str) else ""
        kind = media_kind(url, mime_type) if url else ""
        if kind == "image" and image is None:
            image = make_media(url, "image", mime_type=mime_type, caption=title)
        elif kind == "video" and video is None:
            video = make_media(url, "video", mime_type=mime_type, caption=title)
    return image, video


def _map_item(entry: Any, feed: ParsedFeed, feed_authors: list[ParsedAuthor]) -> ParsedItem:
    if not isinstance(entry, dict):
        raise InvalidItem(f"an item must be an object, not {type(entry).__name__}")
    raw_id = entry.get("id")
    if isinstance(raw_id, dict | list):
        raise InvalidItem('"id" must be text')
    title = _text(entry, "title")
    content_html = _text(entry, "content_html")
    content_text = _text(entry, "content_text")
    summary = _text(entry, "summary")
    link = safe_link(entry.get("url"))
    external = safe_link(entry.get("external_url"))
    published, published_problem = checked_date(_date_text(entry.get("date_published")))
    updated, updated_problem = checked_date(_date_text(entry.get("date_modified")))
    tags = entry.get("tags")
    body, summary = _body_and_summary(content_html, content_text, summary)
    body = without_leading_title(body, text_of_markup(title))
    image, video = _media(entry, body, link or feed.link)
    return ParsedItem(
        guid=clean_guid(raw_id),
        link=link or external,
        title=clip(text_of_markup(title), MAX_TITLE),
        summary=clip(summary, MAX_SUMMARY),
        content_html=body,
        published=published or (updated if not published_problem else None),
        updated=updated,
        date_problem=join_problems(published_problem, updated_problem),
        authors=_authors(entry) or list(feed_authors),
        tags=clean_terms(t for t in tags if isinstance(t, str)) if isinstance(tags, list) else [],
        lead_image=image,
        video=video,
        original_source_url=external if external != link else "",
        language=clean_language(entry.get("language")) or feed.language,
        base_url=link or feed.link,
        raw=jsonable(entry),
        extra={"external_url": external} if external else {},
    )


def _body_and_summary(content_html: str, content_text: str, summary: str) -> tuple[str, str]:
    """(body HTML, plain-text summary): `content_html` over `content_text` over `summary`.

    The summary is the dek only when it is not the text the body was made of.
    """
    body = strip_control_characters(content_html)
    if not body.strip():
        body = text_as_html(content_text)
    summary_text = text_of_markup(summary)
    if not body:
        return text_as_html(summary), ""
    if summary_text == text_of_markup(body):
        return body, ""
    return body, summary_text


def _date_text(value: Any) -> str:
    if value is None:
        return ""
    return value if isinstance(value, str) else str(value)
