"""The one HTML sanitizer of the project: an nh3 allow-list applied wherever HTML is stored.

Imported HTML is cleaned on the way in and again when an editor saves it, so templates can
print stored HTML as it is.
"""

import html as html_lib
import re
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import lxml.html
import nh3
from django.conf import settings
from lxml import etree

# Feeds legitimately carry bodies of a few hundred kilobytes; anything past this is
# truncated before the parser sees it, which bounds the sanitizer's time.
MAX_HTML_BYTES = 2 * 1024 * 1024

ALLOWED_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "caption", "cite", "code", "dd", "del", "dfn", "div",
    "dl", "dt", "em", "figcaption", "figure", "h2", "h3", "h4", "h5", "h6", "hr", "i", "img",
    "ins", "kbd", "li", "mark", "ol", "p", "pre", "q", "s", "small", "span", "strong", "sub",
    "sup", "table", "tbody", "td", "tfoot", "th", "thead", "time", "tr", "u", "ul",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title", "hreflang"},
    "abbr": {"title"},
    "blockquote": {"cite"},
    "img": {"src", "alt", "title", "width", "height"},
    "q": {"cite"},
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan", "scope"},
    "time": {"datetime"},
    "ol": {"start", "reversed"},
}
# The HTML5 tree builder is quadratic in nesting depth; no real article nests this deep.
MAX_NESTING_DEPTH = 256
_TAG = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9-]*)[^>]*?(/?)>")
# Elements that close themselves or an open sibling, so they do not deepen a real tree.
_FLAT_ELEMENTS = {
    "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
    "track", "wbr", "p", "li", "dt", "dd", "option", "tr", "td", "th",
}  # fmt: skip
# Boundaries of these elements separate words, so text extraction puts a space there.
_BLOCK_BOUNDARY = re.compile(
    r"(?=<\s*/?\s*(?:p|div|br|hr|h[1-6]|li|dt|dd|tr|td|th|blockquote|pre|figure|figcaption"
    r"|section|article|header|footer|ul|ol|dl|table|caption)\b)",
    re.IGNORECASE,
)
URL_ATTRIBUTES = {"href", "src", "cite"}
ALLOWED_URL_SCHEMES = {"http", "https", "mailto"}
# A picture this site stored itself (`articles.images.store_clean_image` names files by content),
# linked by its path under MEDIA_URL. Only that exact shape is kept relative, so an upstream's own
# relative "/media/..." image still resolves against the upstream's address.
_STORED_IMAGE_NAME = re.compile(r"[a-z]+/[0-9a-f]{2}/[0-9a-f]{32}(?:_[A-Za-z0-9]{7})?\.(?:jpg|png)")
# Bidirectional overrides and other invisible controls that can disguise text.
_CONTROL_CHARACTERS = dict.fromkeys(
    [0, *range(1, 9), 11, 12, *range(14, 32), 0x202A, 0x202B, 0x202C, 0x202D, 0x202E,
     0x2066, 0x2067, 0x2068, 0x2069],
)  # fmt: skip


def strip_control_characters(text: str) -> str:
    """Remove NUL, C0 controls (keeping tab and newlines) and bidi overrides."""
    if not text:
        return ""
    text = text.translate(_CONTROL_CHARACTERS)
    # Lone surrogates cannot be stored by PostgreSQL or encoded as UTF-8.
    return text.encode("utf-8", "replace").decode("utf-8")


def nesting_depth_exceeds(html: str, limit: int = MAX_NESTING_DEPTH) -> bool:
    """A linear over-estimate of element nesting, to refuse pathological trees cheaply."""
    depth = 0
    for closing, name, self_closing in _TAG.findall(html):
        if name.lower() in _FLAT_ELEMENTS or self_closing:
            continue
        depth += -1 if closing else 1
        if depth > limit:
            return True
        depth = max(depth, 0)
    return False


_SCRIPT_OR_STYLE = re.compile(r"<(script|style)\b.*?(</\1\s*>|$)", re.IGNORECASE | re.DOTALL)


def _text_only(html: str) -> str:
    return " ".join(html_lib.unescape(_TAG.sub(" ", _SCRIPT_OR_STYLE.sub(" ", html))).split())


def _text_paragraphs(html: str) -> str:
    return "<p>" + html_lib.escape(_text_only(html)) + "</p>"


def is_stored_image_path(url: str) -> bool:
    """True for the site-relative address of an image this site stored itself."""
    media_url = settings.MEDIA_URL
    if not media_url.startswith("/") or media_url.startswith("//"):
        return False
    return url.startswith(media_url) and bool(
        _STORED_IMAGE_NAME.fullmatch(url.removeprefix(media_url))
    )


def _url_filter(base_url: str | None):
    def filter_attribute(tag: str, attribute: str, value: str) -> str | None:
        if attribute not in URL_ATTRIBUTES:
            return value
        value = value.strip()
        if tag == "img" and attribute == "src" and is_stored_image_path(value):
            return value
        scheme = urlsplit(value).scheme.lower()
        if scheme:
            return value if scheme in ALLOWED_URL_SCHEMES else None
        if value.startswith("#"):
            return value
        if not base_url:
            # A relative link would point into this site (say, at /admin/): drop it.
            return None
        absolute = urljoin(base_url, value)
        return absolute if urlsplit(absolute).scheme in {"http", "https"} else None

    return filter_attribute


def clean_html(html: str | None, base_url: str | None = None) -> str:
    """Return `html` reduced to the allow-list, with relative URLs made absolute or dropped.

    Idempotent: clean_html(clean_html(x)) == clean_html(x).
    """
    if not html:
        return ""
    html = strip_control_characters(html)
    if len(html.encode("utf-8")) > MAX_HTML_BYTES:
        html = html.encode("utf-8")[:MAX_HTML_BYTES].decode("utf-8", "ignore")
    if nesting_depth_exceeds(html):
        return _text_paragraphs(html)
    if base_url and urlsplit(base_url).scheme not in {"http", "https"}:
        base_url = None
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=ALLOWED_URL_SCHEMES,
        attribute_filter=_url_filter(base_url),
        link_rel="noopener noreferrer",
        strip_comments=True,
        clean_content_tags={"script", "style"},
    ).strip()


EXCERPT_FALLBACK_WORDS = 60


def first_paragraph(html: str | None) -> str:
    """The first paragraph with text of a sanitized body, as sanitized HTML; for a body with
    no <p> at all, its first words as one paragraph. What an excerpt-only permission shows."""
    if not html:
        return ""
    if not nesting_depth_exceeds(html):
        try:
            fragments = lxml.html.fragments_fromstring(html)
        except (etree.ParserError, ValueError):
            fragments = []
        for fragment in fragments:
            if isinstance(fragment, str):
                continue
            candidates = [fragment] if fragment.tag == "p" else fragment.iter("p")
            for paragraph in candidates:
                if paragraph.text_content().strip():
                    paragraph.tail = None
                    return clean_html(lxml.html.tostring(paragraph, encoding="unicode"))
    words = plain_text(html).split()
    if not words:
        return ""
    shown = " ".join(words[:EXCERPT_FALLBACK_WORDS])
    return f"<p>{html_lib.escape(shown)}{' …' if len(words) > EXCERPT_FALLBACK_WORDS else ''}</p>"


def plain_text(html: str | None) -> str:
    """Text content of an HTML fragment, for titles, summaries and search."""
    if not html:
        return ""
    html = strip_control_characters(html)
    if nesting_depth_exceeds(html):
        return _text_only(html)
    html = _BLOCK_BOUNDARY.sub(" ", html)
    text = nh3.clean(html, tags=set(), clean_content_tags={"script", "style"})
    return " ".join(html_lib.unescape(text).split())


def is_http_url(url: str | None) -> bool:
    """True for an absolute http(s) URL with a host: the only kind we link to as an original."""
    if not url:
        return False
    parts = urlsplit(strip_control_characters(url).strip())
    return parts.scheme in {"http", "https"} and bool(parts.netloc)


class _ImageAltCounter(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.without_alt = 0

    def handle_starttag(self, tag, attrs):
        if tag == "img" and not (dict(attrs).get("alt") or "").strip():
            self.without_alt += 1

    handle_startendtag = handle_starttag


def images_without_alt(html: str | None) -> int:
    """How many pictures in a (sanitized) body have no alt text for readers who cannot see them."""
    if not html or "<img" not in html.lower():
        return 0
    counter = _ImageAltCounter()
    counter.feed(html)
    counter.close()
    return counter.without_alt
