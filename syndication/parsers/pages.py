"""A single article page: body, title, authors, date, summary and lead image from its HTML.

trafilatura finds the article; the page's own metadata (Open Graph, JSON-LD Article, <title>,
<meta name=author>) fills in what it misses. Nothing is fetched: images are only referenced.
"""

import json
import re
from html import escape
from typing import Any
from urllib.parse import urljoin

from lxml import etree
from lxml import html as lxml_html
from trafilatura import extract_with_metadata, load_html

from articles.sanitize import strip_control_characters
from syndication.items import ParsedAuthor, ParsedFeed, ParsedItem

from .bodies import ImageText, image_texts, inner_html, parse_fragment, without_leading_title
from .common import (
    MAX_NAME,
    MAX_SUMMARY,
    MAX_TITLE,
    ParseError,
    clean_language,
    clean_terms,
    clean_text,
    clip,
    jsonable,
    make_media,
    safe_link,
    text_of_markup,
)
from .dates import checked_date, join_problems

# Pages above this are not articles, and the extractor's time grows with them.
MAX_PAGE_BYTES = 10 * 1024 * 1024
MAX_JSON_LD_BYTES = 1024 * 1024
ARTICLE_TYPES = {
    "article", "newsarticle", "blogposting", "reportagenews", "analysisnewsarticle",
    "opinionnewsarticle", "reviewnewsarticle", "backgroundnewsarticle", "techarticle",
    "scholarlyarticle", "report", "liveblogposting", "posting", "socialmediaposting",
}  # fmt: skip
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([a-zA-Z0-9_.:-]+)""", re.I)
_AUTHOR_SEPARATORS = re.compile(r"\s*;\s*")


def _decode(page: bytes | str) -> str:
    """Text of the page: UTF-8 when it is, else the charset its <meta> declares, else cp1252."""
    if isinstance(page, str):
        return page
    if page.startswith(b"\xef\xbb\xbf"):
        page = page[3:]
    try:
        return page.decode("utf-8")
    except UnicodeDecodeError:
        pass
    declared = _META_CHARSET.search(page[:8192])
    if declared:
        try:
            return page.decode(declared.group(1).decode("ascii"), "replace")
        except LookupError:
            pass
    return page.decode("cp1252", "replace")


def _meta(tree: Any) -> dict[str, str]:
    """<meta property|name=... content=...>, first value of each key, keys lowercased."""
    values: dict[str, str] = {}
    for element in tree.iter("meta"):
        key = element.get("property") or element.get("name") or element.get("itemprop") or ""
        key = key.strip().lower()
        content = element.get("content")
        if key and content and key not in values:
            values[key] = content.strip()
    return values


def _json_ld_articles(tree: Any) -> list[dict[str, Any]]:
    """JSON-LD objects of an Article type, including those inside @graph and lists."""
    found: list[dict[str, Any]] = []

    def visit(node: Any, depth: int) -> None:
        if depth > 8 or len(found) >= 5:
            return
        if isinstance(node, list):
            for child in node[:50]:
                visit(child, depth + 1)
        elif isinstance(node, dict):
            types = node.get("@type")
            types = types if isinstance(types, list) else [types]
            if any(isinstance(t, str) and t.lower() in ARTICLE_TYPES for t in types):
                found.append(node)
            if "@graph" in node:
                visit(node["@graph"], depth + 1)
            if isinstance(node.get("mainEntity"), dict | list):
                visit(node["mainEntity"], depth + 1)

    for script in tree.iter("script"):
        if (script.get("type") or "").strip().lower() != "application/ld+json":
            continue
        text = script.text or ""
        if not text.strip() or len(text) > MAX_JSON_LD_BYTES:
            continue
        try:
            visit(json.loads(text), 0)
        except (ValueError, RecursionError):
            continue
    return found


def _ld_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, list) and value:
        return _ld_text(value[0])
    if isinstance(value, dict):
        return _ld_text(value.get("name") or value.get("url") or value.get("@value") or "")
    return ""


def _ld_names(value: Any) -> list[str]:
    values = value if isinstance(value, list) else [value]
    names = []
    for entry in values[:20]:
        name = _ld_text(entry.get("name") if isinstance(entry, dict) else entry)
        if name:
            names.append(name)
    return names


def _ld_image(value: Any) -> str:
    if isinstance(value, list) and value:
        return _ld_image(value[0])
    if isinstance(value, dict):
        return _ld_text(value.get("url") or value.get("contentUrl") or "")
    return value if isinstance(value, str) else ""


def _ld_image_text(value: Any) -> tuple[str, str]:
    """(caption, credit) of a JSON-LD ImageObject (`caption`, `creditText`, else its author)."""
    if isinstance(value, list) and value:
        return _ld_image_text(value[0])
    if not isinstance(value, dict):
        return "", ""
    caption = _ld_text(value.get("caption") or value.get("description") or "")
    credit = _ld_text(
        value.get("creditText") or value.get("author") or value.get("copyrightHolder") or ""
    )
    return caption, credit


def _with_figures(body_html: str, pictures: dict[str, ImageText], base_url: str) -> str:
    """The extracted body with each picture's alt text and figure caption from the page put back.

    The extractor keeps an article's images but drops their <figure> and <figcaption>.
    """
    if "<img" not in body_html or not any(p.alt or p.caption for p in pictures.values()):
        return body_html
    root = parse_fragment(body_html)
    if root is None:
        return body_html
    for image in list(root.iter("img")):
        original = pictures.get(urljoin(base_url, (image.get("src") or "").strip()))
        if original is None:
            continue
        if original.alt and not (image.get("alt") or "").strip():
            image.set("alt", original.alt)
        if original.caption and next(image.iterancestors("figure"), None) is None:
            _wrap_in_figure(image, original.caption)
    return inner_html(root)


def _wrap_in_figure(image: Any, caption: str) -> None:
    parent = image.getparent()
    # An image alone in a paragraph: the figure takes the paragraph's place.
    alone = (
        parent.tag == "p"
        and len(parent) == 1
        and not (parent.text or "").strip()
        and not (image.tail or "").strip()
    )
    target = parent if alone else image
    figure = lxml_html.Element("figure")
    figure.tail = target.tail
    target.addprevious(figure)
    target.getparent().remove(target)
    image.tail = None
    figure.append(image)
    figcaption = etree.SubElement(figure, "figcaption")
    figcaption.text = caption


def _body_html(document: Any) -> str:
    """The extracted article as an HTML fragment (the inside of the <body> trafilatura builds)."""
    if document is None or not document.text:
        return ""
    page = lxml_html.fromstring(document.text)
    body = page if page.tag == "body" else page.find("body")
    if body is None:
        return ""
    parts = [body.text or ""]
    parts.extend(etree.tostring(child, encoding="unicode", method="html") for child in body)
    return "".join(parts).strip()


def _authors(names: list[str]) -> list[ParsedAuthor]:
    authors: list[ParsedAuthor] = []
    seen: set[str] = set()
    for value in names:
        for part in _AUTHOR_SEPARATORS.split(value):
            name = clip(text_of_markup(part), MAX_NAME)
            if (
                name
                and not name.lower().startswith(("http:", "https:"))
                and name.casefold() not in seen
            ):
                seen.add(name.casefold())
                authors.append(ParsedAuthor(name=name))
    return authors[:10]


def parse_page(html: bytes | str, *, url: str) -> ParsedFeed:
    """Extract the article of one HTML page, returned as a feed of exactly one item.

    `url` is the address the page was fetched from: relative links and images resolve against
    it and it becomes the item's link. Raises ParseError when the page is empty, too large,
    or holds neither an article body nor a title.
    """
    if isinstance(html, bytes) and len(html) > MAX_PAGE_BYTES:
        raise ParseError("the page is larger than an article page can be")
    text = _decode(html)
    if len(text) > MAX_PAGE_BYTES:
        raise ParseError("the page is larger than an article page can be")
    if not text.strip():
        raise ParseError("the page is empty")
    link = safe_link(url)
    tree = load_html(text)
    if tree is None:
        raise ParseError("the page is not HTML that can be read")
    meta = _meta(tree)
    articles = _json_ld_articles(tree)
    ld = articles[0] if articles else {}
    # Read before the extractor, which prunes the tree it is given (figures included).
    pictures = image_texts(tree, link)
    try:
        document = extract_with_metadata(
            tree,
            url=link or None,
            output_format="html",
            include_images=True,
            include_links=True,
            include_comments=False,
            include_formatting=True,
            include_tables=True,
        )
    except (ValueError, TypeError, etree.LxmlError):
        document = None
    extracted = document or _Empty()

    title = clean_text(
        extracted.title
        or _ld_text(ld.get("headline"))
        or meta.get("og:title")
        or meta.get("twitter:title")
        or tree.findtext(".//title")
        or ""
    )
    content_html = without_leading_title(_with_figures(_body_html(document), pictures, link), title)
    if not title and not content_html:
        raise ParseError("no article could be found on this page")
    summary = extracted.description or meta.get("og:description") or meta.get("description") or ""
    author_names = [extracted.author] if extracted.author else []
    author_names = (
        author_names
        or _ld_names(ld.get("author"))
        or [meta[key] for key in ("author", "article:author", "dc.creator") if meta.get(key)]
    )
    # The page's own timestamp is more precise than the extractor's date-only guess.
    published_text = (
        meta.get("article:published_time")
        or _ld_text(ld.get("datePublished"))
        or extracted.date
        or ""
    )
    updated_text = meta.get("article:modified_time") or _ld_text(ld.get("dateModified")) or ""
    published, published_problem = checked_date(published_text)
    updated, updated_problem = checked_date(updated_text)
    image_url = (
        meta.get("og:image")
        or meta.get("og:image:url")
        or _ld_image(ld.get("image"))
        or meta.get("twitter:image")
        or extracted.image
        or ""
    )
    image_url = urljoin(link, image_url.strip()) if image_url else ""
    shown = pictures.get(image_url, ImageText())
    caption, credit = _ld_image_text(ld.get("image"))
    image = make_media(
        image_url,
        "image",
        caption=caption or escape(shown.caption),
        credit=credit,
        alt=escape(meta.get("og:image:alt", "") or shown.alt),
    )
    keywords = ld.get("keywords")
    if isinstance(keywords, str):
        keywords = keywords.split(",")
    tags = list(extracted.tags or []) + (
        [k for k in keywords if isinstance(k, str)] if isinstance(keywords, list) else []
    )
    categories = list(extracted.categories or []) + (
        [meta["article:section"]] if meta.get("article:section") else []
    )
    language = clean_language(tree.get("lang") or meta.get("og:locale") or extracted.language)
    canonical = safe_link(urljoin(link, extracted.url or "")) if extracted.url else ""
    item = ParsedItem(
        link=link,
        title=clip(title, MAX_TITLE),
        summary=clip(text_of_markup(summary), MAX_SUMMARY),
        content_html=strip_control_characters(content_html),
        published=published or (updated if not published_problem else None),
        updated=updated,
        date_problem=join_problems(published_problem, updated_problem),
        authors=_authors(author_names),
        categories=clean_terms(categories),
        tags=clean_terms(tags),
        lead_image=image,
        language=language,
        base_url=link,
        raw=jsonable({"meta": meta, "json_ld": ld, "extracted": _document_fields(document)}),
        extra={"canonical_url": canonical} if canonical and canonical != link else {},
    )
    feed = ParsedFeed(
        format="html",
        title=clip(clean_text(extracted.sitename or meta.get("og:site_name") or ""), MAX_TITLE),
        link=link,
        language=language,
        items=[item],
    )
    if not content_html:
        feed.warning = "no article text was found on this page"
    return feed


class _Empty:
    """Stands in for trafilatura's Document when it found nothing."""

    title = author = description = date = image = sitename = url = language = None
    tags: list[str] = []
    categories: list[str] = []


def _document_fields(document: Any) -> dict[str, Any]:
    if document is None:
        return {}
    fields = (
        "title",
        "author",
        "url",
        "hostname",
        "description",
        "sitename",
        "date",
        "categories",
        "tags",
        "image",
        "language",
        "license",
    )
    return {name: getattr(document, name, None) for name in fields}
