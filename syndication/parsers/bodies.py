"""What an article body says about itself: its pictures' alt text and captions, and a first line
that only repeats the headline.

Both work on the raw, untrusted HTML a parser found, before the sanitizer: they only read it, or
remove one element from it, and the pipeline sanitizes the result as it would have anyway.
"""

import re
import unicodedata
from dataclasses import dataclass
from urllib.parse import urljoin

import lxml.html
from lxml import etree

from articles.sanitize import MAX_NESTING_DEPTH, nesting_depth_exceeds

# Elements a repeated headline is written in, and containers looked into to find one.
TITLE_ELEMENTS = {"h1", "h2", "h3", "h4", "h5", "h6", "p", "span", "strong", "b", "header"}
CONTAINERS = {"div", "section", "article", "header", "main"}
_WORD = re.compile(r"\w+")
_PARSER = lxml.html.HTMLParser(no_network=True, remove_comments=True, recover=True)


@dataclass(frozen=True)
class ImageText:
    alt: str = ""
    caption: str = ""


def comparable(text: str) -> str:
    """`text` reduced to its words, case-folded: "Harbour Lights!" and "harbour lights" match."""
    text = unicodedata.normalize("NFKC", text or "").casefold()
    return " ".join(_WORD.findall(text))


def parse_fragment(body_html: str):
    """`body_html` as the children of a <div>, or None when it cannot (or should not) be read."""
    if not body_html.strip() or nesting_depth_exceeds(body_html, MAX_NESTING_DEPTH):
        return None
    try:
        return lxml.html.fragment_fromstring(body_html, create_parent="div", parser=_PARSER)
    except (etree.ParserError, etree.XMLSyntaxError, ValueError):
        return None


def _text(element) -> str:
    return " ".join(element.text_content().split())


def image_texts(root, base_url: str = "") -> dict[str, ImageText]:
    """{absolute src: alt text and caption} of every <img> under `root`, an lxml element.

    The caption is the text of the <figcaption> of the <figure> the image is in.
    """
    found: dict[str, ImageText] = {}
    for image in root.iter("img"):
        src = (image.get("src") or "").strip()
        if not src:
            continue
        src = urljoin(base_url, src) if base_url else src
        caption = ""
        figure = next((a for a in image.iterancestors("figure")), None)
        if figure is not None:
            captions = list(figure.iter("figcaption"))
            caption = _text(captions[0]) if captions else ""
        alt = " ".join((image.get("alt") or "").split())
        if src not in found or not (found[src].alt or found[src].caption):
            found[src] = ImageText(alt=alt, caption=caption)
    return found


def image_text_in_body(body_html: str, url: str, base_url: str = "") -> ImageText:
    """The alt text and caption the body gives the picture at `url`, if the body shows it."""
    if not url or url.rsplit("/", 1)[-1] not in body_html:
        return ImageText()
    root = parse_fragment(body_html)
    if root is None:
        return ImageText()
    return image_texts(root, base_url).get(url, ImageText())


def without_leading_title(body_html: str, title: str) -> str:
    """`body_html` without a first heading or paragraph that says nothing but the title.

    Pages and some feeds (Drupal's) start the body with the headline; the article page prints
    the title above the body, so that line would be read twice. The element is looked for at
    the start of the body, inside at most three wrapping containers, and compared by its words
    (case, punctuation and spacing ignored). Anything else leaves the body as it was.
    """
    key = comparable(title)
    if not key or key not in comparable(body_html[: len(title) * 4 + 2000]):
        return body_html
    root = parse_fragment(body_html)
    if root is None:
        return body_html
    element = root
    for _depth in range(4):
        if (element.text or "").strip():
            return body_html
        first = next(element.iterchildren(etree.Element), None)
        if first is None:
            return body_html
        if first.tag in TITLE_ELEMENTS and comparable(_text(first)) == key:
            _remove(first)
            return inner_html(root)
        if first.tag not in CONTAINERS:
            return body_html
        element = first
    return body_html


def _remove(element) -> None:
    """Remove `element`, keeping the text that follows it."""
    parent = element.getparent()
    tail = (element.tail or "").lstrip()
    previous = element.getprevious()
    if tail:
        if previous is not None:
            previous.tail = (previous.tail or "") + tail
        else:
            parent.text = (parent.text or "") + tail
    parent.remove(element)


def inner_html(root) -> str:
    """The HTML inside `root`, an element made by `parse_fragment`."""
    parts = [root.text or ""]
    parts.extend(lxml.html.tostring(child, encoding="unicode") for child in root)
    return "".join(parts).strip()
