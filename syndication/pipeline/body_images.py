"""Pictures inside imported article bodies: stored here, or turned into plain links.

A remote `<img>` left in a stored body makes every reader's browser ask a third party for it,
and for an address such as http://10.0.0.1/ it asks the reader's own network. So each body
image is fetched through the importer's guard, re-encoded and stored like a lead image, as an
entry of the media library (with its alt text, original address and source), and its `src`
rewritten to that entry's file. An image that cannot or may not be fetched becomes a link to the
original instead: nothing is lost, and nothing loads until a reader follows the link.
"""

import time
from dataclasses import dataclass

import lxml.html
import nh3
from django.conf import settings
from lxml import etree

from articles.images import ImageRejected, clean_image
from articles.models import Image, ImageLicence, Source
from articles.sanitize import (
    ALLOWED_ATTRIBUTES,
    ALLOWED_TAGS,
    ALLOWED_URL_SCHEMES,
    clean_html,
    is_http_url,
    is_stored_image_path,
    nesting_depth_exceeds,
)
from syndication.fetching.client import FetchError, fetch
from syndication.pipeline.lead_images import IMAGE_ACCEPT

MAX_BODY_IMAGES = 20
BODY_IMAGE_FOLDER = "body"
_MAX_URL_IN_WARNING = 200
# libxml2 stops reading, silently, past 255 levels unless told the tree may be huge; sanitized
# bodies are flatter than this limit, which stays as a guard against a silent cut.
_PARSER = lxml.html.HTMLParser(huge_tree=True)
_MAX_DEPTH = 1000


@dataclass(frozen=True)
class StoredImage:
    url: str
    width: int
    height: int


def localise_body_images(
    html_text: str,
    *,
    download: bool,
    max_images: int = MAX_BODY_IMAGES,
    source: Source | None = None,
) -> tuple[str, list[str]]:
    """Return `html_text` (already sanitized) with no image left on another site, and warnings.

    With `download`, each distinct remote image is fetched (at most `max_images` of them, within
    one fetch deadline for the whole body) and served from our media storage; every other one
    becomes `<a href="original">Image: alt</a>`. Images already in our storage are left alone,
    so running this again over its own output changes nothing. Opting out of downloads is not
    a problem worth a warning; refusals are. Each stored picture is a library entry, credited
    to `source`.
    """
    if "<img" not in html_text.lower():
        return html_text, []
    unreadable = ["body images were removed: the body could not be read"]
    if nesting_depth_exceeds(html_text, _MAX_DEPTH):
        return _without_images(html_text), unreadable
    try:
        root = lxml.html.fragment_fromstring(html_text, create_parent="div", parser=_PARSER)
    except (etree.ParserError, etree.XMLSyntaxError, ValueError):
        return _without_images(html_text), unreadable
    localiser = _Localiser(download=download, max_images=max_images, source=source)
    for image in list(root.iter("img")):
        localiser.localise(image)
    serialised = lxml.html.tostring(root, encoding="unicode")
    inner = serialised.removeprefix("<div>").removesuffix("</div>")
    return clean_html(inner), localiser.warnings()


class _Localiser:
    def __init__(self, *, download: bool, max_images: int, source: Source | None):
        self.download = download
        self.source = source
        self.max_images = max_images
        self.deadline = time.monotonic() + settings.SYNDICATION_DEADLINE
        self.outcomes: dict[str, StoredImage | None] = {}
        self.refusals: list[str] = []
        self.over_limit = 0
        self.out_of_time = 0

    def localise(self, image) -> None:
        src = (image.get("src") or "").strip()
        if not src or is_stored_image_path(src) or src.startswith(settings.MEDIA_URL):
            return
        if not is_http_url(src):
            # mailto: or a fragment: nothing worth keeping as an image, or as a link to one.
            _replace_with_text(image, _label(image))
            return
        stored = self._stored(src, alt=image.get("alt") or "")
        if stored is None:
            _replace_with_link(image, src)
            return
        image.set("src", stored.url)
        image.set("width", str(stored.width))
        image.set("height", str(stored.height))

    def _stored(self, url: str, alt: str) -> StoredImage | None:
        if url in self.outcomes:
            return self.outcomes[url]
        stored = None
        if not self.download:
            pass
        elif len(self.outcomes) >= self.max_images:
            self.over_limit += 1
        elif time.monotonic() >= self.deadline:
            self.out_of_time += 1
        else:
            stored = self._download(url, alt)
        self.outcomes[url] = stored
        return stored

    def _download(self, url: str, alt: str) -> StoredImage | None:
        shown = url[:_MAX_URL_IN_WARNING]
        try:
            result = fetch(url, accept=IMAGE_ACCEPT, max_bytes=settings.IMAGE_MAX_BYTES)
            clean = clean_image(result.content)
            entry = Image.objects.for_clean_image(
                clean,
                folder=BODY_IMAGE_FOLDER,
                alt=" ".join(alt.split())[:300],
                licence=ImageLicence.SOURCE_TERMS,
                source=self.source,
                original_url=url[:1000],
            )
        except FetchError as error:
            self.refusals.append(f"body image {shown} was not fetched: {error}")
        except ImageRejected as error:
            self.refusals.append(f"body image {shown} was rejected: {error}")
        except OSError as error:
            self.refusals.append(f"body image {shown} could not be stored: {error}")
        else:
            return StoredImage(entry.file.url, entry.width, entry.height)
        return None

    def warnings(self) -> list[str]:
        warnings = list(self.refusals)
        if self.over_limit:
            warnings.append(
                f"{self.over_limit} more body images were linked, not downloaded: "
                f"the limit is {self.max_images} per article"
            )
        if self.out_of_time:
            warnings.append(
                f"{self.out_of_time} more body images were linked, not downloaded: fetching "
                f"the others took more than {settings.SYNDICATION_DEADLINE:g} seconds"
            )
        return warnings


def _label(image) -> str:
    alt = " ".join((image.get("alt") or "").split())
    return f"Image: {alt or 'original image'}"


def _replace_with_link(image, url: str) -> None:
    """Swap the image for a link to it; inside another link, for text plus a link after that one."""
    enclosing = next(image.iterancestors("a"), None)
    if enclosing is None:
        link = lxml.html.Element("a", href=url)
        link.text = _label(image)
        link.tail = image.tail
        image.getparent().replace(image, link)
        return
    label = _label(image)
    _replace_with_text(image, label)
    if (enclosing.get("href") or "").strip() != url:
        link = lxml.html.Element("a", href=url)
        link.text = label
        link.tail = enclosing.tail
        enclosing.tail = " "
        enclosing.addnext(link)


def _replace_with_text(image, text: str) -> None:
    span = lxml.html.Element("span")
    span.text = text
    span.tail = image.tail
    image.getparent().replace(image, span)


def _without_images(html_text: str) -> str:
    """A last resort for a body lxml cannot read: the same allow-list, minus images."""
    return nh3.clean(
        html_text,
        tags=ALLOWED_TAGS - {"img"},
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=ALLOWED_URL_SCHEMES,
        link_rel="noopener noreferrer",
    ).strip()
