"""Fetching feeds, pages and images from other people's servers, safely and politely.

`fetch(url)` returns the body as bytes or raises a `FetchError` whose message an editor can
read. Whatever a feed, a page or a redirect says, it guarantees:

* Only http and https. Surrounding whitespace and control characters are stripped first; URLs
  with a user name or password, a backslash, a control character inside, an invalid host name or
  a numeric host in an unusual form (`2130706433`, `0x7f.1`, `127.1`) are refused. One parse
  (httpx's) drives both the checks and the request.
* Only public addresses. The host name is resolved and the fetch is refused if ANY address is
  loopback, private, link-local (cloud metadata), shared, multicast, reserved or otherwise not
  globally reachable; IPv4 addresses carried in IPv6 (`::ffff:127.0.0.1`, NAT64) are judged by the
  IPv4 part. The check runs inside the connection layer, on the addresses the socket then
  connects to, so a DNS answer that changes between check and use (rebinding) gains nothing.
* Only ports 80 and 443, plus `SYNDICATION_ALLOWED_PORTS`. Hosts listed in
  `SYNDICATION_ALLOWED_HOSTS` (exactly as written in the URL) may use any port and any address.
* Redirects are followed by hand, at most `SYNDICATION_MAX_REDIRECTS`, and every hop passes the
  same checks. Proxy settings from the environment are ignored, so no proxy can carry a request
  past the checks.
* Bounded cost: connect and read timeouts, a total wall-clock deadline (`SYNDICATION_DEADLINE`)
  that also bounds DNS, TLS and a server trickling one byte at a time, and a byte cap
  (`SYNDICATION_MAX_BYTES` or `max_bytes`) applied to the declared length, to the bytes received
  and to every decompression stage, so neither an endless stream nor a gzip bomb fills memory.
* Polite: a descriptive User-Agent, conditional GET with the ETag and Last-Modified of the last
  fetch (a 304 comes back as `FetchResult.not_modified`), gzip/deflate only.

The caller decides what the bytes are: HTML served where a feed was expected is returned like
any other 200. Nothing the server says (a `Content-Disposition` file name, a URL path) is ever
used as a file name here; only bytes and headers come back.
"""

import ipaddress
import socket
import ssl
import threading
import time
import unicodedata
import zlib
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache

import httpcore
import httpx
from django.conf import settings
from django.utils.http import parse_header_parameters

from syndication.fetching import addresses as net

__all__ = [
    "FetchError",
    "FetchResult",
    "FetchTimeout",
    "HTTPStatusError",
    "ResponseTooLarge",
    "UnsafeURL",
    "fetch",
    "post_form",
    "validate_url",
]


class FetchError(Exception):
    """A document could not be fetched; the message says why in plain words."""


class UnsafeURL(FetchError):
    """The URL's scheme, host, port or address is one we refuse to fetch from."""


class ResponseTooLarge(FetchError):
    """The response (declared, received or decompressed) is larger than the byte cap."""


class FetchTimeout(FetchError):
    """The server was too slow: a connect or read timeout, or the total deadline."""


class HTTPStatusError(FetchError):
    """The server answered with a status other than 2xx or 304."""

    def __init__(self, status_code: int, message: str = ""):
        self.status_code = status_code
        super().__init__(message or f"The server answered HTTP {status_code}.")


@dataclass(frozen=True)
class FetchResult:
    url: str  # final URL, after redirects
    status: int  # 2xx (normally 200) or 304
    content: bytes  # decoded from gzip/deflate; b"" for 304
    headers: dict[str, str]  # lower-cased names; repeated headers joined with ", "
    content_type: str  # "application/rss+xml", without parameters; "" when missing
    charset: str  # lower-cased charset parameter of Content-Type; "" when none
    etag: str
    last_modified: str

    @property
    def not_modified(self) -> bool:
        return self.status == 304


_DEFAULT_PORTS = {"http": 80, "https": 443}
_REDIRECT_STATUSES = {301, 302, 303, 307, 308}
_DECOMPRESSED_PIECE = 64 * 1024
_MAX_ENCODING_LAYERS = 2


def validate_url(url: str) -> str:
    """The URL normalised (no fragment, lower-case scheme and host), or raise `UnsafeURL`.

    Checks everything that can be checked without DNS; `fetch()` checks the resolved addresses.
    """
    return str(_safe_url(url))


def fetch(
    url: str,
    *,
    etag: str = "",
    last_modified: str = "",
    accept: str = "*/*",
    max_bytes: int | None = None,
) -> FetchResult:
    """GET `url` within the guarantees described at the top of this module.

    Pass the `etag` and `last_modified` of the previous fetch to make a conditional request.
    Raises `UnsafeURL`, `ResponseTooLarge`, `FetchTimeout`, `HTTPStatusError` or `FetchError`.
    """
    target = _safe_url(url)
    limit = settings.SYNDICATION_MAX_BYTES if max_bytes is None else max_bytes
    deadline = _Deadline(settings.SYNDICATION_DEADLINE)
    headers = {
        "User-Agent": settings.SYNDICATION_USER_AGENT,
        "Accept": accept,
        "Accept-Encoding": "gzip, deflate",
    }
    for name, value in (("If-None-Match", etag), ("If-Modified-Since", last_modified)):
        if _usable_header_value(value):
            headers[name] = value.strip()

    with _client(deadline) as client:
        for _hop in range(settings.SYNDICATION_MAX_REDIRECTS + 1):
            with (
                _plain_errors(target.host, deadline),
                client.stream("GET", target, headers=headers) as response,
            ):
                if response.status_code in _REDIRECT_STATUSES:
                    target = _redirect_target(response, target)
                    continue
                return _result(response, target, limit, deadline)
    raise FetchError(
        f"Gave up after {settings.SYNDICATION_MAX_REDIRECTS} redirects "
        "(the server keeps redirecting, perhaps in a loop)."
    )


def post_form(url: str, fields: dict[str, str], *, max_bytes: int = 64 * 1024) -> FetchResult:
    """POST `fields` (form-encoded) to `url` within the same guarantees as `fetch()`.

    For the few requests the importer sends rather than reads, such as a WebSub subscription
    to a hub named by a third-party feed: the URL, every address it resolves to, the port, the
    deadline and the byte cap on the answer are checked exactly as for a GET. Redirects are
    not followed (a redirected POST would resend the data somewhere else): a 3xx answer raises
    `HTTPStatusError`, like any other status outside 2xx.
    """
    target = _safe_url(url)
    deadline = _Deadline(settings.SYNDICATION_DEADLINE)
    headers = {
        "User-Agent": settings.SYNDICATION_USER_AGENT,
        "Accept": "*/*",
        "Accept-Encoding": "gzip, deflate",
    }
    with (
        _client(deadline) as client,
        _plain_errors(target.host, deadline),
        client.stream("POST", target, data=fields, headers=headers) as response,
    ):
        if response.status_code in _REDIRECT_STATUSES or response.status_code == 304:
            raise HTTPStatusError(
                response.status_code,
                f"The server answered HTTP {response.status_code}; data sent by POST is not "
                "resent to another address.",
            )
        return _result(response, target, max_bytes, deadline)


# --- The URL as written --------------------------------------------------------------------


def _safe_url(url: str) -> httpx.URL:
    text = _strip_outer(url)
    shown = repr(text[:200])
    problem = _raw_url_problem(text)
    if problem:
        raise UnsafeURL(f"Refused {shown}: {problem}.")
    try:
        parsed = httpx.URL(text)
    except httpx.InvalidURL as exc:
        raise UnsafeURL(f"Refused {shown}: it is not a valid URL ({exc}).") from None
    if parsed.scheme not in _DEFAULT_PORTS or not parsed.raw_host:
        raise UnsafeURL(f"Refused {shown}: only absolute http and https URLs can be fetched.")
    if parsed.userinfo:
        raise UnsafeURL(f"Refused {shown}: URLs with a user name or password are not fetched.")

    host = parsed.raw_host.decode("ascii").lower()
    allowed = _is_allowed_host(host)
    address = net.parse_ip_literal(host)
    if address is None:
        problem = net.host_name_problem(host)
        if problem:
            raise UnsafeURL(f"Refused {shown}: the host {host!r} {problem}.")
        if net.is_local_name(host) and not allowed:
            raise UnsafeURL(f"Refused {shown}: {host} is this machine, not a public server.")
    elif not allowed:
        reason = net.non_public_reason(address)
        if reason:
            raise UnsafeURL(f"Refused {shown}: {address} is {reason}, not a public address.")

    port = parsed.port or _DEFAULT_PORTS[parsed.scheme]
    if not 0 < port < 65536:
        raise UnsafeURL(f"Refused {shown}: {port} is not a valid port.")
    if not allowed and port not in _allowed_ports():
        raise UnsafeURL(f"Refused {shown}: port {port} is not one the importer may use.")
    return parsed.copy_with(fragment=None)


def _is_junk(character: str) -> bool:
    return character.isspace() or unicodedata.category(character) in {"Cc", "Cf", "Zl", "Zp"}


def _strip_outer(url: str) -> str:
    start, end = 0, len(url)
    while start < end and _is_junk(url[start]):
        start += 1
    while end > start and _is_junk(url[end - 1]):
        end -= 1
    return url[start:end]


def _raw_url_problem(text: str) -> str:
    """What is wrong with the URL as a string, before any parser interprets it."""
    if not text:
        return "the URL is empty"
    if any(unicodedata.category(character) in {"Cc", "Cf"} for character in text):
        return "it contains control characters"
    if "\\" in text:
        return "it contains a backslash, which parsers read differently"
    scheme, colon, rest = text.partition(":")
    if not colon or scheme.lower() not in _DEFAULT_PORTS:
        return "only http and https URLs can be fetched"
    if not rest.startswith("//"):
        return "it is not an absolute http(s) URL"
    authority = rest[2:]
    for delimiter in "/?#":
        authority = authority.split(delimiter, 1)[0]
    if "@" in authority:
        return "URLs with a user name or password are not fetched"
    return ""


def _usable_header_value(value: str) -> bool:
    value = value.strip()
    return bool(value) and value.isascii() and value.isprintable()


def _allowed_hosts() -> set[str]:
    hosts = set()
    for host in settings.SYNDICATION_ALLOWED_HOSTS:
        host = net.normalise_host(host)
        address = net.parse_ip_literal(host)
        hosts.add(str(address) if address else host)
    return hosts


def _is_allowed_host(host: str) -> bool:
    host = net.normalise_host(host)
    address = net.parse_ip_literal(host)
    return (str(address) if address else host) in _allowed_hosts()


def _allowed_ports() -> set[int]:
    return {80, 443, *(int(port) for port in settings.SYNDICATION_ALLOWED_PORTS)}


def _redirect_target(response: httpx.Response, current: httpx.URL) -> httpx.URL:
    status = response.status_code
    location = _strip_outer(response.headers.get("location", ""))
    if not location:
        raise HTTPStatusError(status, f"The server answered HTTP {status} but named no new URL.")
    if "\\" in location or any(unicodedata.category(c) in {"Cc", "Cf"} for c in location):
        raise UnsafeURL(
            f"Refused the redirect to {location[:200]!r}: "
            "it contains a backslash or control characters."
        )
    try:
        joined = current.join(location)
    except httpx.InvalidURL as exc:
        raise UnsafeURL(f"Refused the redirect to {location[:200]!r}: {exc}.") from None
    return _safe_url(str(joined))


# --- The connection: resolve, vet, connect, all against one deadline --------------------------


class _Deadline:
    def __init__(self, seconds: float):
        self.seconds = seconds
        self._end = time.monotonic() + seconds

    def remaining(self) -> float:
        return self._end - time.monotonic()

    def expired(self) -> bool:
        return self.remaining() <= 0

    def check(self) -> None:
        if self.expired():
            raise FetchTimeout(f"Gave up after {self.seconds:g} seconds in total.")

    def cap(self, timeout: float | None) -> float:
        """The timeout for one socket operation: never past the deadline."""
        self.check()
        remaining = self.remaining()
        return remaining if timeout is None else min(timeout, remaining)


def _resolve(host: str, port: int, deadline: _Deadline) -> list[tuple]:
    """getaddrinfo() in a helper thread, so a hanging resolver cannot outlast the deadline."""
    outcome: dict[str, object] = {}
    finished = threading.Event()

    def lookup():
        try:
            outcome["answer"] = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except (OSError, UnicodeError) as exc:
            outcome["error"] = exc
        finally:
            finished.set()

    threading.Thread(target=lookup, name=f"resolve {host}", daemon=True).start()
    if not finished.wait(deadline.cap(None)):
        raise FetchTimeout(f"Looking up {host} took longer than {deadline.seconds:g} seconds.")
    if "error" in outcome:
        raise FetchError(f"Could not find the server {host} (DNS lookup failed).")
    return outcome["answer"]


def _vetted_addresses(host: str, port: int, deadline: _Deadline) -> list[str]:
    """Every address `host` resolves to, or UnsafeURL if any of them is not public."""
    allowed = _is_allowed_host(host)
    addresses: list[str] = []
    for family, _type, _proto, _name, sockaddr in _resolve(host, port, deadline):
        if family not in (socket.AF_INET, socket.AF_INET6):
            continue
        address = ipaddress.ip_address(sockaddr[0])
        reason = "" if allowed else net.non_public_reason(address)
        if reason:
            raise UnsafeURL(
                f"Refused {host}: it resolves to {address}, which is {reason}, "
                "not a public address."
            )
        if str(address) not in addresses:
            addresses.append(str(address))
    if not addresses:
        raise FetchError(f"Could not find the server {host} (no usable address).")
    return addresses


class _GuardedBackend(httpcore.NetworkBackend):
    """The only way the fetcher opens a socket: resolve, vet every address, connect to one."""

    def __init__(self, deadline: _Deadline):
        self._deadline = deadline
        self._sockets = httpcore.SyncBackend()

    def connect_tcp(self, host, port, timeout=None, local_address=None, socket_options=None):
        failure: Exception | None = None
        for address in _vetted_addresses(host, port, self._deadline):
            try:
                stream = self._sockets.connect_tcp(
                    address,
                    port,
                    timeout=self._deadline.cap(timeout),
                    local_address=local_address,
                    socket_options=socket_options,
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                failure = exc
                continue
            return _DeadlineStream(stream, self._deadline)
        raise failure

    def connect_unix_socket(self, path, timeout=None, socket_options=None):
        raise UnsafeURL("Refused: the importer never connects to local sockets.")

    def sleep(self, seconds: float) -> None:
        time.sleep(min(seconds, max(self._deadline.remaining(), 0)))


class _DeadlineStream(httpcore.NetworkStream):
    """A socket whose every read, write and TLS handshake ends by the deadline."""

    def __init__(self, stream: httpcore.NetworkStream, deadline: _Deadline):
        self._stream = stream
        self._deadline = deadline

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._stream.read(max_bytes, self._deadline.cap(timeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._stream.write(buffer, self._deadline.cap(timeout))

    def close(self) -> None:
        self._stream.close()

    def start_tls(self, ssl_context, server_hostname=None, timeout=None):
        secured = self._stream.start_tls(ssl_context, server_hostname, self._deadline.cap(timeout))
        return _DeadlineStream(secured, self._deadline)

    def get_extra_info(self, info: str):
        return self._stream.get_extra_info(info)


class _GuardedTransport(httpx.BaseTransport):
    """httpx's default transport, minus proxies, over the guarded backend."""

    def __init__(self, deadline: _Deadline):
        self._pool = httpcore.ConnectionPool(
            ssl_context=_ssl_context(),
            max_connections=4,
            http1=True,
            http2=False,
            retries=0,
            network_backend=_GuardedBackend(deadline),
        )

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self._pool.handle_request(
            httpcore.Request(
                method=request.method,
                url=httpcore.URL(
                    scheme=request.url.raw_scheme,
                    host=request.url.raw_host,
                    port=request.url.port,
                    target=request.url.raw_path,
                ),
                headers=request.headers.raw,
                content=request.stream,
                extensions=request.extensions,
            )
        )
        return httpx.Response(
            status_code=response.status,
            headers=response.headers,
            stream=_ResponseStream(response),
            extensions=response.extensions,
        )

    def close(self) -> None:
        self._pool.close()


class _ResponseStream(httpx.SyncByteStream):
    def __init__(self, response: httpcore.Response):
        self._response = response

    def __iter__(self) -> Iterator[bytes]:
        yield from self._response.iter_stream()

    def close(self) -> None:
        self._response.close()


@cache
def _ssl_context() -> ssl.SSLContext:
    return httpx.create_ssl_context()


def _client(deadline: _Deadline) -> httpx.Client:
    return httpx.Client(
        transport=_GuardedTransport(deadline),
        # No proxy may carry a request past the address checks. httpx already skips proxy
        # variables when given a transport; this keeps it so if that ever changes.
        trust_env=False,
        follow_redirects=False,  # every hop is checked by fetch()
        timeout=httpx.Timeout(
            connect=settings.SYNDICATION_CONNECT_TIMEOUT,
            read=settings.SYNDICATION_READ_TIMEOUT,
            write=settings.SYNDICATION_READ_TIMEOUT,
            pool=settings.SYNDICATION_CONNECT_TIMEOUT,
        ),
    )


@contextmanager
def _plain_errors(host: str, deadline: _Deadline):
    """Turn transport exceptions into FetchErrors an editor can read (no traceback text)."""
    try:
        yield
    except FetchError:
        raise
    except (httpcore.TimeoutException, httpx.TimeoutException) as exc:
        if deadline.expired():
            message = f"Gave up on {host} after {deadline.seconds:g} seconds in total."
        elif isinstance(exc, httpcore.ConnectTimeout | httpx.ConnectTimeout):
            message = f"{host} did not accept a connection in time."
        else:
            message = f"{host} stopped sending data for too long."
        raise FetchTimeout(message) from None
    except (httpcore.ConnectError, httpx.ConnectError) as exc:
        raise FetchError(_connect_failure(host, exc)) from None
    except (httpcore.ProtocolError, httpx.ProtocolError):
        raise FetchError(f"{host} sent a broken or incomplete HTTP response.") from None
    except (httpcore.NetworkError, httpx.TransportError, OSError):
        raise FetchError(f"The connection to {host} broke off.") from None


def _connect_failure(host: str, exc: Exception) -> str:
    cause = exc.__cause__ or exc.__context__
    if isinstance(cause, ssl.SSLCertVerificationError):
        return f"The certificate of {host} could not be verified ({cause.verify_message})."
    if isinstance(cause, ssl.SSLError):
        return f"The secure (TLS) connection to {host} failed."
    if isinstance(cause, ConnectionRefusedError):
        return f"{host} refused the connection."
    return f"Could not connect to {host}."


# --- The response ---------------------------------------------------------------------------


def _result(
    response: httpx.Response, url: httpx.URL, limit: int, deadline: _Deadline
) -> FetchResult:
    status = response.status_code
    headers = {name.lower(): value for name, value in response.headers.items()}
    if status == 304:
        content = b""
    elif 200 <= status < 300:
        content = _read_body(response, headers, limit, deadline)
    else:
        reason = response.reason_phrase
        raise HTTPStatusError(status, f"The server answered HTTP {status} {reason}".strip() + ".")
    content_type, charset = _parse_content_type(headers.get("content-type", ""))
    return FetchResult(
        url=str(url),
        status=status,
        content=content,
        headers=headers,
        content_type=content_type,
        charset=charset,
        etag=headers.get("etag", ""),
        last_modified=headers.get("last-modified", ""),
    )


def _parse_content_type(value: str) -> tuple[str, str]:
    if not value.strip():
        return "", ""
    media_type, params = parse_header_parameters(value)
    return media_type.strip().lower(), params.get("charset", "").strip().lower()


def _read_body(
    response: httpx.Response, headers: dict[str, str], limit: int, deadline: _Deadline
) -> bytes:
    declared = headers.get("content-length", "").strip()
    if declared.isdigit() and int(declared) > limit:
        raise ResponseTooLarge(
            f"The server announced {int(declared):,} bytes; the limit is {limit:,} bytes."
        )
    chunks: Iterable[bytes] = _capped(response.iter_raw(), limit, deadline)
    for encoding in _content_encodings(headers.get("content-encoding", "")):
        chunks = _inflate(chunks, encoding, limit, deadline)
    return b"".join(chunks)


def _capped(chunks: Iterable[bytes], limit: int, deadline: _Deadline) -> Iterator[bytes]:
    received = 0
    for chunk in chunks:
        received += len(chunk)
        if received > limit:
            raise ResponseTooLarge(f"The response is larger than the limit of {limit:,} bytes.")
        deadline.check()
        yield chunk


def _content_encodings(header: str) -> list[str]:
    """The decoders to apply, outermost first (the header lists them in the order applied)."""
    layers = [part.strip().lower() for part in header.split(",") if part.strip()]
    layers = [layer for layer in layers if layer != "identity"]
    unknown = [layer for layer in layers if layer not in {"gzip", "x-gzip", "deflate"}]
    if unknown:
        raise FetchError(f"The server used an unsupported compression ({unknown[0]}).")
    if len(layers) > _MAX_ENCODING_LAYERS:
        raise FetchError(f"The server compressed the response {len(layers)} times over.")
    return list(reversed(layers))


def _inflate(
    chunks: Iterable[bytes], encoding: str, limit: int, deadline: _Deadline
) -> Iterator[bytes]:
    """Decompress lazily, one bounded piece at a time, and stop past `limit` bytes."""
    decompressor = None
    produced = 0
    for chunk in chunks:
        data = chunk
        while data:
            if decompressor is None or decompressor.eof:
                if decompressor is not None and not _starts_gzip_member(encoding, data):
                    return  # whatever follows the compressed body is ignored
                decompressor = zlib.decompressobj(_window_bits(encoding, data))
            more = True
            while more:
                try:
                    piece = decompressor.decompress(data, _DECOMPRESSED_PIECE)
                except zlib.error:
                    raise FetchError(f"The {encoding} compressed response is corrupt.") from None
                produced += len(piece)
                if produced > limit:
                    raise ResponseTooLarge(
                        f"The response decompresses to more than the limit of {limit:,} bytes."
                    )
                deadline.check()
                if piece:
                    yield piece
                if decompressor.eof:
                    data, more = decompressor.unused_data, False
                else:
                    # A full piece may leave output pending even when all input was taken.
                    data = decompressor.unconsumed_tail
                    more = bool(data) or len(piece) == _DECOMPRESSED_PIECE


def _starts_gzip_member(encoding: str, data: bytes) -> bool:
    return encoding != "deflate" and data.startswith(b"\x1f\x8b")


def _window_bits(encoding: str, first_chunk: bytes) -> int:
    if encoding in {"gzip", "x-gzip"}:
        return 16 + zlib.MAX_WBITS
    # HTTP "deflate" means a zlib stream, but some servers send raw deflate data.
    looks_like_zlib = (
        len(first_chunk) >= 2
        and first_chunk[0] & 0x0F == 8
        and (first_chunk[0] << 8 | first_chunk[1]) % 31 == 0
    )
    return zlib.MAX_WBITS if looks_like_zlib else -zlib.MAX_WBITS
