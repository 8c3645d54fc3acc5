"""Keys for de-duplication and change detection (E4/E5)."""

import hashlib
import unicodedata
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from articles.sanitize import is_http_url, strip_control_characters
from syndication.items import ParsedItem

TRACKING_PARAMETERS = {"fbclid", "gclid"}
DEFAULT_PORTS = {"http": 80, "https": 443}
MAX_KEY = 255


def _is_tracking(name: str) -> bool:
    name = name.lower()
    return name.startswith("utm_") or name in TRACKING_PARAMETERS


def normalise_url(url: str) -> str:
    """`url` in a canonical spelling, so that trivially different links compare equal.

    Lowercases scheme and host, drops the default port, the fragment and tracking parameters
    (utm_*, fbclid, gclid), sorts the query and strips a trailing slash (except the root path).
    http and https stay distinct here; `dedupe_key` treats them as one. Anything that is not an
    absolute http(s) URL comes back only stripped of whitespace and control characters.
    """
    url = strip_control_characters(url or "").strip()
    if not is_http_url(url):
        return url
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return url
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    if ":" in host:
        host = f"[{host}]"
    if port is not None and port != DEFAULT_PORTS[scheme]:
        host = f"{host}:{port}"
    if parts.username is not None:
        credentials = parts.username + (f":{parts.password}" if parts.password is not None else "")
        host = f"{credentials}@{host}"
    path = parts.path or "/"
    if path != "/":
        path = path.rstrip("/") or "/"
    query = sorted(
        (name, value)
        for name, value in parse_qsl(parts.query, keep_blank_values=True)
        if not _is_tracking(name)
    )
    return urlunsplit((scheme, host, path, urlencode(query), ""))


def _url_key(url: str) -> str:
    return normalise_url(url).split("://", 1)[1]


def _bounded(kind: str, value: str) -> str:
    key = f"{kind}:{value}"
    if len(key) <= MAX_KEY:
        return key
    return f"{kind}-sha256:{hashlib.sha256(value.encode('utf-8')).hexdigest()}"


def dedupe_key(item: ParsedItem) -> str:
    """The stable identity of an item within its source, at most 255 characters.

    1. The guid, stripped: "guid:<guid>"; a guid that is an http(s) URL is treated as a link,
       unless the parser marked it as made unique (`extra["shared_guid"]`).
    2. Else the link: "url:<normalised link without its scheme>", so http/https, utm_*
       parameters, fragments and a trailing slash never make a second article.
    3. Else "sha256:<hash of the title and the content>".
    A key longer than 255 characters is replaced by "<kind>-sha256:<hash of the value>".
    """
    guid = strip_control_characters(item.guid or "").strip()
    if guid and item.extra.get("shared_guid"):
        # A WordPress copy that reused its original's guid: the parser told them apart with a
        # fragment, which URL normalisation would drop.
        return _bounded("guid", guid)
    if guid and is_http_url(guid):
        return _bounded("url", _url_key(guid))
    if guid:
        return _bounded("guid", guid)
    if item.link and is_http_url(item.link):
        return _bounded("url", _url_key(item.link))
    digest = hashlib.sha256(
        "\x1f".join(_normalised_text(t) for t in (item.title, item.content_html)).encode("utf-8")
    )
    return f"sha256:{digest.hexdigest()}"


def _normalised_text(text: str) -> str:
    text = unicodedata.normalize("NFC", strip_control_characters(text or ""))
    return " ".join(text.split())


def content_hash(item: ParsedItem) -> str:
    """sha256 (hex) of the title, summary and body, insensitive to whitespace and Unicode form.

    Stored with each imported article; a different hash on a later run is an upstream edit.
    """
    text = "\x1f".join(_normalised_text(t) for t in (item.title, item.summary, item.content_html))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
