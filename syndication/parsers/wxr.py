"""WordPress eXtended RSS (WXR 1.0-1.2) exports, streamed with constant memory.

Use:
    site = read_wxr_site(path)               # one full pass: checks the whole file, collects
                                             # authors, terms and attachments, counts posts
    for entry in iter_wxr(path, site=site):  # second pass: one ParsedItem (or ItemError) per post
        ...

`iter_wxr(path)` without `site` makes the first pass itself when the source can be read twice
(a path, or a seekable file), so a malformed file raises ParseError before any item is
yielded. A non-seekable stream is read once: posts are yielded as they come, featured images
resolve only against attachments seen earlier, and a syntax error can surface mid-way.

Only `wp:post_type` "post" becomes an item. The XML parser never loads a DTD, never resolves
entities, never touches the network, ignores processing instructions and XInclude, and refuses
a document type declaration and nesting deeper than `MAX_DEPTH`.
"""

import io
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO
from urllib.parse import urlsplit

from lxml import etree

from articles.sanitize import strip_control_characters
from syndication.items import ItemError, ParsedAuthor, ParsedItem, ParsedMedia

from .common import (
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
    jsonable,
    make_media,
    media_kind,
    safe_link,
    text_of_markup,
)
from .dates import checked_date, join_problems
from .xmlguard import guard_xml

MAX_DEPTH = 32
MAX_ELEMENTS_PER_ENTRY = 100_000
# Far beyond any real export; a bigger file is refused before anything is imported.
MAX_WXR_BYTES = 1024 * 1024 * 1024
MAX_OLD_PATH = 500
_HEAD_BYTES = 64 * 1024
_VERSION = re.compile(r"^\d+\.\d+$")
_WP_NAMESPACE = re.compile(r"^https?://wordpress\.org/export/\d+\.\d+/?$")
_EXCERPT_NAMESPACE = re.compile(r"^https?://wordpress\.org/export/\d+\.\d+/excerpt/?$")
_OTHER_NAMESPACES = {
    "http://purl.org/rss/1.0/modules/content/": "content",
    "http://purl.org/dc/elements/1.1/": "dc",
}
_BLOCK_START = re.compile(
    r"^\s*<(?:p|div|h[1-6]|ul|ol|li|dl|table|blockquote|pre|figure|hr|section|article|aside|"
    r"header|footer|address|form|fieldset|iframe|video|audio|object)\b|^\s*<!--",
    re.IGNORECASE,
)


@dataclass
class WxrTerm:
    name: str
    slug: str = ""
    parent: str = ""  # the parent term's slug
    description: str = ""


@dataclass
class WxrSite:
    """What a WXR file says about the whole site, gathered by `read_wxr_site`."""

    wxr_version: str = ""
    title: str = ""
    link: str = ""
    description: str = ""
    language: str = ""
    base_url: str = ""  # wp:base_site_url
    base_blog_url: str = ""  # wp:base_blog_url: where the blog's own paths start
    authors: list[ParsedAuthor] = field(default_factory=list)
    categories: list[WxrTerm] = field(default_factory=list)
    tags: list[WxrTerm] = field(default_factory=list)
    attachments: dict[str, ParsedMedia] = field(default_factory=dict)  # by wp:post_id
    post_count: int = 0
    complete: bool = False  # the whole file was read (so attachments are all known)

    def author(self, login: str) -> ParsedAuthor | None:
        login = clean_text(login)
        if not login:
            return None
        for author in self.authors:
            if author.login == login:
                return author
        return ParsedAuthor(name=clip(text_of_markup(login), MAX_NAME), login=login)


def _kind(namespace: str) -> str:
    if not namespace:
        return ""
    if _WP_NAMESPACE.match(namespace):
        return "wp"
    if _EXCERPT_NAMESPACE.match(namespace):
        return "excerpt"
    return _OTHER_NAMESPACES.get(namespace, "other")


def _name(element: Any) -> tuple[str, str]:
    """(namespace kind, local name) of an element."""
    tag = element.tag
    if not isinstance(tag, str):
        return "other", ""
    qname = etree.QName(tag)
    return _kind(qname.namespace or ""), qname.localname


def _text(element: Any) -> str:
    """The element's text, including any markup that was not wrapped in CDATA."""
    parts = [element.text or ""]
    parts.extend(etree.tostring(child, encoding="unicode", with_tail=True) for child in element)
    return "".join(parts)


def _children(element: Any) -> dict[str, str]:
    """Text of wp:* children by local name (first one wins)."""
    values: dict[str, str] = {}
    for child in element:
        kind, local = _name(child)
        if kind == "wp" and local not in values:
            values[local] = _text(child).strip()
    return values


class _Replay(io.RawIOBase):
    """A stream that gives back bytes already read from its start, then the rest."""

    def __init__(self, head: bytes, rest: BinaryIO) -> None:
        self.head = head
        self.rest = rest
        self.total = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if self.head:
            size = min(len(buffer), len(self.head))
            buffer[:size] = self.head[:size]
            self.head = self.head[size:]
        else:
            data = self.rest.read(len(buffer))
            size = len(data)
            buffer[:size] = data
        self.total += size
        if self.total > MAX_WXR_BYTES:
            raise ParseError(f"this WXR file is larger than {MAX_WXR_BYTES // 1024**2} MB")
        return size


def _refuse_doctype(head: bytes) -> None:
    """Refuse a file in an encoding we do not allow, or whose prolog declares a document type.

    The prolog is read after decoding, so UTF-7 or EBCDIC cannot hide a declaration; the
    parser's own view is checked again at the root element (`_refuse_parsed_doctype`).
    """
    try:
        guarded = guard_xml(head, unknown_is_refused=True)
    except ParseError as error:
        raise ParseError(f"this WXR file was refused: {error}") from error
    root_name = guarded.root_name
    if guarded.declared_dtd:
        raise ParseError(
            "this WXR file declares a document type"
            + (" with entities" if guarded.dropped_entities else "")
            + "; WordPress never writes one, so the file was refused"
        )
    if root_name and root_name.rsplit(":", 1)[-1].lower() != "rss":
        raise ParseError(f"this is not a WXR file: its root element is <{root_name[:40]}>")


def _refuse_parsed_doctype(root: Any) -> None:
    docinfo = root.getroottree().docinfo
    if docinfo.internalDTD is not None or docinfo.doctype or docinfo.system_url:
        raise ParseError(
            "this WXR file declares a document type; WordPress never writes one, so the file "
            "was refused"
        )


def _fatal_error(log: Any, seen: int) -> str:
    """The first error after `seen` that breaks well-formedness (namespace warnings do not)."""
    for entry in list(log)[seen:]:
        if "Excessive depth" in entry.message:
            return f"elements are nested too deeply (line {entry.line})"
        if entry.domain_name != "NAMESPACE" or entry.level_name == "FATAL":
            return f"{entry.message} (line {entry.line})"
    return ""


def _walk(stream: BinaryIO) -> Iterator[tuple[str, Any]]:
    """("channel", element) for each child of <channel> except items, ("item", element) for items.

    Elements are cleared once handled, so memory stays flat however long the file is. The
    parser runs in recovery mode only so that a namespace oddity (say, a non-ASCII namespace
    URI) does not sink an export; any other error stops the walk with ParseError.
    """
    head = stream.read(_HEAD_BYTES)
    _refuse_doctype(head)
    parser = etree.iterparse(
        _Replay(head, stream),
        events=("start", "end"),
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
        recover=True,
    )
    depth = 0
    errors_seen = 0
    elements_in_entry = 0

    def check() -> None:
        nonlocal errors_seen
        log = parser.error_log
        if len(log) > errors_seen:
            problem = _fatal_error(log, errors_seen)
            errors_seen = len(log)
            if problem:
                raise ParseError(
                    f"this WXR file is not well-formed XML and cannot be read: {problem}"
                )

    try:
        for event, element in parser:
            if event == "start":
                depth += 1
                if depth == 1:
                    _refuse_parsed_doctype(element)
                if depth > MAX_DEPTH:
                    raise ParseError(f"this WXR file nests elements deeper than {MAX_DEPTH} levels")
                elements_in_entry += 1
                if elements_in_entry > MAX_ELEMENTS_PER_ENTRY:
                    raise ParseError("this WXR file has an entry with far too many elements")
                continue
            depth -= 1
            if depth > 2:
                continue
            elements_in_entry = 0
            check()
            parent = element.getparent()
            if depth == 2 and parent is not None and _name(parent) == ("", "channel"):
                yield ("item" if _name(element) == ("", "item") else "channel"), element
            # Whatever was handled (or is not ours) is dropped, so the tree never grows.
            element.clear()
            while parent is not None and element.getprevious() is not None:
                del parent[0]
        check()
    except etree.XMLSyntaxError as error:
        raise ParseError(
            f"this WXR file is not well-formed XML and cannot be read: {error}"
        ) from error


class _Reader:
    """Builds a WxrSite from channel elements and turns item elements into ParsedItems."""

    def __init__(self, site: WxrSite | None = None, *, map_posts: bool = True) -> None:
        self.site = site or WxrSite()
        self.collecting = site is None
        self.map_posts = map_posts
        self.version_checked = site is not None
        self.post_ids = GuidFilter()
        self.guids: dict[str, str] = {}  # guid -> post id that used it first
        self.position = 0

    # channel ------------------------------------------------------------------------------
    def read_channel_element(self, element: Any) -> None:
        if not self.collecting:
            return
        kind, local = _name(element)
        site = self.site
        if kind == "":
            if local == "title":
                site.title = clip(text_of_markup(_text(element)), MAX_TITLE)
            elif local == "link":
                site.link = safe_link(_text(element))
            elif local == "description":
                site.description = text_of_markup(_text(element))
            elif local == "language":
                site.language = clean_language(_text(element))
        elif kind == "wp":
            if local == "wxr_version":
                site.wxr_version = clean_text(_text(element))
            elif local == "base_site_url":
                site.base_url = safe_link(_text(element))
            elif local == "base_blog_url":
                site.base_blog_url = safe_link(_text(element))
            elif local == "author":
                self._add_author(_children(element))
            elif local == "category":
                values = _children(element)
                name = values.get("cat_name") or values.get("category_nicename", "")
                self._add_term(
                    site.categories,
                    name,
                    values.get("category_nicename", ""),
                    values.get("category_parent", ""),
                    values.get("category_description", ""),
                )
            elif local == "tag":
                values = _children(element)
                name = values.get("tag_name") or values.get("tag_slug", "")
                self._add_term(
                    site.tags,
                    name,
                    values.get("tag_slug", ""),
                    "",
                    values.get("tag_description", ""),
                )

    def _add_author(self, values: dict[str, str]) -> None:
        login = clean_text(values.get("author_login"))
        full_name = " ".join(
            part
            for part in (values.get("author_first_name"), values.get("author_last_name"))
            if part
        )
        name = clip(
            text_of_markup(values.get("author_display_name") or full_name or login), MAX_NAME
        )
        if login and name:
            self.site.authors.append(
                ParsedAuthor(
                    name=name, email=clean_text(values.get("author_email"))[:254], login=login
                )
            )

    @staticmethod
    def _add_term(terms: list[WxrTerm], name: str, slug: str, parent: str, description: str):
        name = clip(text_of_markup(name), 100)
        if name:
            terms.append(
                WxrTerm(
                    name=name,
                    slug=clean_text(slug)[:100],
                    parent=clean_text(parent)[:100],
                    description=text_of_markup(description)[:1000],
                )
            )

    def check_version(self) -> None:
        if self.version_checked:
            return
        version = self.site.wxr_version
        if not version:
            raise ParseError("this is not a WXR file: missing WXR version number")
        if not _VERSION.match(version):
            raise ParseError(f"this is not a WXR file: invalid WXR version number '{version[:20]}'")
        self.version_checked = True

    # items --------------------------------------------------------------------------------
    def read_item(self, element: Any) -> ParsedItem | ItemError | None:
        """The post as an item, an ItemError, or None for what is not a post."""
        self.check_version()
        position = self.position
        self.position += 1
        try:
            post = _Post(element)
            if post.type == "attachment":
                if self.collecting or post.id not in self.site.attachments:
                    self._add_attachment(post)
                return None
            if post.type != "post":
                return None
            if self.collecting:
                self.site.post_count += 1
            if not self.map_posts:
                return None
            if self.post_ids.is_repeat(post.id):
                return ItemError(
                    position=position,
                    guid=clean_guid(post.guid),
                    message=f"post {post.id} appears twice in the file; kept the first",
                    skipped=True,
                )
            outcome = check_title_or_link(self._map_post(post), position)
        except Exception as error:  # one bad post never stops the import
            return ItemError(position=position, message=f"could not read this post: {error}")
        if isinstance(outcome, ParsedItem):
            self._keep_guid_unique(outcome, post.id)
        return outcome

    def _keep_guid_unique(self, item: ParsedItem, post_id: str) -> None:
        """Exports reuse a guid for a copied post; the post id tells the two posts apart."""
        if not item.guid:
            return
        first_user = self.guids.setdefault(item.guid, post_id)
        if first_user != post_id:
            item.extra["shared_guid"] = item.guid
            item.guid = f"{item.guid}#wp-post-{post_id}"

    def _add_attachment(self, post: "_Post") -> None:
        url = safe_link(post.wp.get("attachment_url")) or safe_link(post.guid)
        if post.id and url and media_kind(url) == "image":
            image = make_media(
                url,
                "image",
                caption=post.excerpt,
                alt=post.meta.get("_wp_attachment_image_alt", ""),
            )
            if image:
                self.site.attachments[post.id] = image

    def _map_post(self, post: "_Post") -> ParsedItem:
        site = self.site
        published, published_problem = _first_trustworthy_date(
            post.wp.get("post_date_gmt"), post.wp.get("post_date"), post.pub_date
        )
        updated, updated_problem = _first_trustworthy_date(
            post.wp.get("post_modified_gmt"), post.wp.get("post_modified")
        )
        link = safe_link(post.link)
        author = site.author(post.creator)
        thumbnail_id = post.meta.get("_thumbnail_id", "").strip()
        extra: dict[str, Any] = {
            "post_id": post.id,
            "slug": clean_text(post.wp.get("post_name"))[:200],
            "status": clean_text(post.wp.get("status")) or "publish",
            "permalink": link,
            "old_paths": _old_paths(link, post.id, site),
            "sticky": post.wp.get("is_sticky") == "1",
            "password_protected": bool(post.wp.get("post_password")),
        }
        if thumbnail_id:
            extra["thumbnail_id"] = thumbnail_id
        if post.other_terms:
            extra["terms"] = post.other_terms
        return ParsedItem(
            guid=clean_guid(post.guid),
            link=link,
            title=clip(text_of_markup(post.title), MAX_TITLE),
            summary=clip(text_of_markup(post.excerpt), MAX_SUMMARY),
            content_html=autop(strip_control_characters(post.content)),
            published=published,
            updated=updated,
            date_problem=join_problems(published_problem, updated_problem),
            authors=[author] if author else [],
            categories=clean_terms(post.categories),
            tags=clean_terms(post.tags),
            lead_image=site.attachments.get(thumbnail_id) if thumbnail_id else None,
            language=site.language,
            base_url=link or site.base_blog_url or site.base_url or site.link,
            raw=jsonable(post.raw()),
            extra=extra,
        )


class _Post:
    """The fields of one <item>, read once."""

    def __init__(self, element: Any) -> None:
        self.title = self.link = self.guid = self.pub_date = self.creator = ""
        self.content = self.excerpt = ""
        self.wp: dict[str, str] = {}
        self.meta: dict[str, str] = {}
        self.categories: list[str] = []
        self.tags: list[str] = []
        self.other_terms: list[dict[str, str]] = []
        for child in element:
            kind, local = _name(child)
            if kind == "" and local == "category":
                self._add_category(child)
            elif kind == "" and local in {"title", "link", "guid"}:
                setattr(self, local, getattr(self, local) or _text(child).strip())
            elif kind == "" and local == "pubDate":
                self.pub_date = self.pub_date or _text(child).strip()
            elif kind == "dc" and local == "creator":
                self.creator = self.creator or _text(child).strip()
            elif kind == "content" and local == "encoded":
                self.content = self.content or _text(child).strip()
            elif kind == "excerpt" and local == "encoded":
                self.excerpt = self.excerpt or _text(child).strip()
            elif kind == "wp" and local == "postmeta":
                values = _children(child)
                key = values.get("meta_key", "")
                if key and key not in self.meta:
                    self.meta[key] = values.get("meta_value", "")
            elif kind == "wp" and local != "comment" and local not in self.wp:
                self.wp[local] = _text(child).strip()
        self.id = clean_text(self.wp.get("post_id"))[:20]
        self.type = clean_text(self.wp.get("post_type")) or "post"

    def _add_category(self, child: Any) -> None:
        name = _text(child).strip()
        domain = child.get("domain") or "category"
        if domain == "category":
            self.categories.append(name)
        elif domain == "post_tag":
            self.tags.append(name)
        elif len(self.other_terms) < 100:
            self.other_terms.append(
                {
                    "domain": clean_text(domain)[:100],
                    "slug": clean_text(child.get("nicename"))[:100],
                    "name": clip(text_of_markup(name), 100),
                }
            )

    def raw(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "link": self.link,
            "guid": self.guid,
            "pubDate": self.pub_date,
            "creator": self.creator,
            "content": self.content,
            "excerpt": self.excerpt,
            "wp": self.wp,
            "postmeta": self.meta,
            "categories": self.categories,
            "tags": self.tags,
            "terms": self.other_terms,
        }


def _first_trustworthy_date(*candidates: str | None) -> tuple[Any, str]:
    """The first candidate that parses; WordPress writes "0000-00-00 00:00:00" for "none"."""
    problem = ""
    for candidate in candidates:
        text = clean_text(candidate)
        if not text or text.startswith("0000-00-00"):
            continue
        date, problem = checked_date(text)
        if date is not None or problem:
            return date, problem
    if not problem and any(clean_text(c).startswith("0000-00-00") for c in candidates):
        problem = "unparseable date '0000-00-00 00:00:00'"
    return None, problem


def _old_paths(link: str, post_id: str, site: WxrSite) -> list[str]:
    """Paths the post was reachable at on the old site, for redirects."""
    paths: list[str] = []
    if link:
        parts = urlsplit(link)
        paths.append((parts.path or "/") + (f"?{parts.query}" if parts.query else ""))
    if post_id.isdigit():
        blog_path = urlsplit(site.base_blog_url or site.base_url or site.link or link).path or "/"
        if not blog_path.endswith("/"):
            blog_path += "/"
        paths.append(f"{blog_path}?p={post_id}")
    return [p for p in dict.fromkeys(paths) if len(p) <= MAX_OLD_PATH and p.startswith("/")]


def autop(content: str) -> str:
    """WordPress stores classic posts with blank lines for paragraphs; make them HTML paragraphs.

    A simplified `wpautop`: each blank-line-separated chunk that does not already start with a
    block element is wrapped in <p>, and its single line breaks become <br>.
    """
    content = (content or "").replace("\r\n", "\n").replace("\r", "\n").strip()
    if not content:
        return ""
    if "\n\n" not in content and _BLOCK_START.match(content):
        return content
    chunks = [chunk.strip() for chunk in re.split(r"\n\s*\n", content) if chunk.strip()]
    html = []
    for chunk in chunks:
        if _BLOCK_START.match(chunk):
            html.append(chunk)
        else:
            html.append("<p>" + chunk.replace("\n", "<br>\n") + "</p>")
    return "\n".join(html)


def _open(source: BinaryIO | str | Path) -> tuple[BinaryIO, bool]:
    """(binary stream, whether this function opened it)."""
    if isinstance(source, str | Path):
        return open(source, "rb"), True  # noqa: SIM115 - closed by the caller's finally
    return source, False


def _rereadable(source: BinaryIO | str | Path) -> bool:
    if isinstance(source, str | Path):
        return True
    try:
        return bool(source.seekable())
    except (AttributeError, OSError, ValueError):
        return False


def read_wxr_site(source: BinaryIO | str | Path) -> WxrSite:
    """Read the whole file once: checks it is a well-formed WXR file and gathers the site.

    `source` is a path or a binary file object (a str is a path, never XML text). Raises
    ParseError for a file that is not well-formed, not WXR, or has a missing/invalid version.
    """
    stream, opened = _open(source)
    start = stream.tell() if not opened and _rereadable(stream) else 0
    reader = _Reader(map_posts=False)
    try:
        for kind, element in _walk(stream):
            if kind == "channel":
                reader.read_channel_element(element)
            else:
                reader.read_item(element)
        reader.check_version()
    finally:
        if opened:
            stream.close()
        elif _rereadable(stream):
            stream.seek(start)
    reader.site.complete = True
    return reader.site


def iter_wxr(
    source: BinaryIO | str | Path, *, site: WxrSite | None = None
) -> Iterator[ParsedItem | ItemError]:
    """Yield each post of a WXR file: a ParsedItem, or an ItemError for a post that is unusable.

    Pass the `site` from `read_wxr_site` to skip the checking pass. Without it the file is read
    twice when it can be (see the module docstring), else once.
    """
    if site is None and _rereadable(source):
        site = read_wxr_site(source)
    stream, opened = _open(source)
    reader = _Reader(site)
    try:
        for kind, element in _walk(stream):
            if kind == "channel":
                reader.read_channel_element(element)
                continue
            outcome = reader.read_item(element)
            if outcome is not None:
                yield outcome
        reader.check_version()
    finally:
        if opened:
            stream.close()
