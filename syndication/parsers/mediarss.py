"""Media RSS read where the specification puts it: on the media object, never on the article.

feedparser handles `media:description` as if it were the item's own `description` and
`media:title` as its `title`, so an image caption can take the place of the article's body,
summary or headline, and with several `media:content` it keeps one caption and loses which image
it belonged to. This module reads the same (already guarded) document with lxml, item by item,
and returns for each item what belongs to its media and what belongs to the item itself, so the
feed parser can keep the two apart:

- each media object's caption (`media:description`) and credits (`media:credit`), inherited as
  the specification says: the `media:content` element's own, else its `media:group`'s, else the
  item's (item-level Media RSS elements describe all its media);
- which `media:content` is `isDefault="true"`;
- the normalised text of every Media RSS text element, and of the item's own title, description,
  summary and content, to recognise a caption that feedparser filed as article text.

lxml never resolves entities, loads a DTD or touches the network here; the guard (xmlguard) has
already removed any declarations.
"""

from dataclasses import dataclass, field

from lxml import etree

from articles.sanitize import plain_text

MEDIA_NAMESPACES = {"http://search.yahoo.com/mrss/", "http://search.yahoo.com/mrss"}
# RSS 0.9x/2.0 items have no namespace; RSS 1.0 and 0.90 (RDF) and Atom 1.0 and 0.3 do.
ITEM_NAMESPACES = {
    None,
    "http://purl.org/rss/1.0/",
    "http://my.netscape.com/rdf/simple/0.9/",
    "http://www.w3.org/2005/Atom",
    "http://purl.org/atom/ns#",
}
ITEM_NAMES = {"item", "entry"}
# The item's own text elements, whatever their namespace (content:encoded, xhtml:body...).
SUMMARY_NAMES = {"description", "summary", "abstract"}
CONTENT_NAMES = {"content", "encoded", "body", "fullitem"}
OWN_TEXT_NAMES = {"title"} | SUMMARY_NAMES | CONTENT_NAMES
MEDIA_TEXT_NAMES = {"description", "title", "text"}
MAX_CREDITS = 3


@dataclass
class MediaText:
    """What Media RSS says about one media object (or, on the item, about all of them)."""

    caption: str = ""
    caption_is_html: bool = False
    credits: list[str] = field(default_factory=list)

    @property
    def credit(self) -> str:
        return " / ".join(self.credits)

    def inherit(self, parent: "MediaText") -> "MediaText":
        """This object's text, with what it lacks taken from the enclosing group or item."""
        return MediaText(
            caption=self.caption or parent.caption,
            caption_is_html=self.caption_is_html if self.caption else parent.caption_is_html,
            credits=self.credits or parent.credits,
        )


@dataclass
class ItemMedia:
    """Media RSS of one item, and the texts needed to tell the item's text from its media's."""

    item_level: MediaText = field(default_factory=MediaText)
    by_url: dict[str, MediaText] = field(default_factory=dict)
    default_urls: set[str] = field(default_factory=set)
    media_texts: set[str] = field(default_factory=set)
    own_texts: set[str] = field(default_factory=set)
    summary_texts: set[str] = field(default_factory=set)
    content_texts: set[str] = field(default_factory=set)
    own_title: str = ""

    def text_for(self, url: str) -> MediaText:
        """The caption and credits of the media object at `url` (else the item's)."""
        return self.by_url.get(url.strip(), self.item_level)

    def is_media_text(self, value: str | None) -> bool:
        """True when `value` is a Media RSS text of this item and none of the item's own texts."""
        if not value or not self.media_texts:
            return False
        text = normalised(value)
        return bool(text) and text in self.media_texts and text not in self.own_texts

    def is_summary_text(self, value: str | None) -> bool:
        """True when `value` is the item's description or summary and none of its contents.

        feedparser files a description that follows a caption as content; this tells it apart.
        Only known for items with Media RSS text, the only ones where that happens.
        """
        if not value or not self.summary_texts:
            return False
        text = normalised(value)
        return text in self.summary_texts and text not in self.content_texts


def normalised(value: str) -> str:
    """Plain text with collapsed whitespace: how a caption is compared wherever it landed."""
    return plain_text(value)


def read_item_media(data: bytes) -> list[ItemMedia] | None:
    """One `ItemMedia` per item or entry of the document, in document order.

    Returns None when lxml cannot read the document even in recovery mode; the caller then
    has no Media RSS to go on and keeps feedparser's reading.
    """
    root = _root(data)
    if root is None:
        return None
    items = []
    for element in root.iter(etree.Element):
        if _is_item(element) and not any(_is_item(a) for a in element.iterancestors()):
            items.append(_read_item(element))
    return items


def _root(data: bytes):
    for recover in (False, True):
        parser = etree.XMLParser(
            resolve_entities=False,
            no_network=True,
            load_dtd=False,
            huge_tree=False,
            recover=recover,
        )
        try:
            root = etree.fromstring(data, parser)
        except (etree.XMLSyntaxError, ValueError):
            continue
        if root is not None:
            return root
    return None


def _name(element) -> tuple[str | None, str]:
    qname = etree.QName(element)
    return qname.namespace, qname.localname


def _is_item(element) -> bool:
    namespace, name = _name(element)
    return name in ITEM_NAMES and namespace in ITEM_NAMESPACES


def _is_media(element) -> bool:
    return _name(element)[0] in MEDIA_NAMESPACES


def _text(element) -> str:
    return "".join(element.itertext())


def _own_media_text(element) -> MediaText:
    """The Media RSS text elements directly inside `element` (an item, group or content)."""
    text = MediaText()
    for child in element.iterchildren(etree.Element):
        if not _is_media(child):
            continue
        name = _name(child)[1]
        value = _text(child).strip()
        if not value:
            continue
        if name == "description" and not text.caption:
            text.caption = value
            text.caption_is_html = (child.get("type") or "").strip().lower() == "html"
        elif name == "credit" and len(text.credits) < MAX_CREDITS:
            credit = " ".join(value.split())
            if credit not in text.credits:
                text.credits.append(credit)
    return text


def _read_item(item) -> ItemMedia:
    media = ItemMedia(item_level=_own_media_text(item))
    for element in item.iter(etree.Element):
        if not _is_media(element):
            continue
        name = _name(element)[1]
        if name in MEDIA_TEXT_NAMES:
            text = normalised(_text(element))
            if text:
                media.media_texts.add(text)
        elif name in {"content", "thumbnail"}:
            _add_object(media, element)
    for child in item.iterchildren(etree.Element):
        if _is_media(child) or _name(child)[1] not in OWN_TEXT_NAMES:
            continue
        if _name(child)[1] == "title" and not media.own_title:
            media.own_title = _text(child)
        # Only an item with Media RSS text needs its own texts to compare them with.
        if media.media_texts:
            text = normalised(_text(child))
            if text:
                media.own_texts.add(text)
                if _name(child)[1] in SUMMARY_NAMES:
                    media.summary_texts.add(text)
                elif _name(child)[1] in CONTENT_NAMES:
                    media.content_texts.add(text)
    return media


def _add_object(media: ItemMedia, element) -> None:
    url = (element.get("url") or "").strip()
    if not url:
        return
    parent = element.getparent()
    inherited = media.item_level
    if parent is not None and _is_media(parent) and _name(parent)[1] == "group":
        inherited = _own_media_text(parent).inherit(media.item_level)
    elif parent is not None and _is_media(parent) and _name(parent)[1] == "content":
        # A thumbnail of a media:content shows that object: it shares its text.
        inherited = _own_media_text(parent).inherit(media.item_level)
    own = _own_media_text(element).inherit(inherited)
    media.by_url.setdefault(url, own)
    if (element.get("isDefault") or "").strip().lower() == "true":
        media.default_urls.add(url)
