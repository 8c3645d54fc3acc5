"""Fetching from a server we run ourselves: politeness, redirects, limits and failures.

Rows D1-D5, R5 (network faults) and R11 (conditional GET) of docs/hostile-inputs.md. Every test
serves its own responses on 127.0.0.1.
"""

import gzip
import socket
import time
import tracemalloc
import zlib

import pytest

from syndication.fetching.client import (
    FetchError,
    FetchResult,
    FetchTimeout,
    HTTPStatusError,
    ResponseTooLarge,
    fetch,
)

from .httpserver import LocalServer, Response, endless, redirect

RSS = b'<?xml version="1.0"?><rss version="2.0"><channel><title>T</title></channel></rss>'


@pytest.fixture(autouse=True)
def _local_and_fast(settings):
    settings.SYNDICATION_ALLOWED_HOSTS = ["127.0.0.1"]
    settings.SYNDICATION_CONNECT_TIMEOUT = 2
    settings.SYNDICATION_READ_TIMEOUT = 2
    settings.SYNDICATION_DEADLINE = 5
    settings.SYNDICATION_MAX_BYTES = 1_000_000
    settings.SYNDICATION_MAX_REDIRECTS = 5


@pytest.fixture
def server():
    with LocalServer() as running:
        yield running


def _gzip_of_zeros(megabytes: int) -> bytes:
    compressor = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    zeros = bytes(1024 * 1024)
    return b"".join(compressor.compress(zeros) for _ in range(megabytes)) + compressor.flush()


@pytest.fixture(scope="module")
def gzip_bomb() -> bytes:
    """About 100 KB that inflates to 100 MB."""
    return _gzip_of_zeros(100)


def _peak_python_memory(call) -> int:
    """Bytes of Python memory `call` held at its peak (what inflating a body would allocate)."""
    tracemalloc.start()
    try:
        call()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


# --- What comes back ----------------------------------------------------------------------------


def test_a_feed_comes_back_with_its_metadata(server):
    server.routes["/feed.xml"] = (
        200,
        {
            "Content-Type": "application/rss+xml; charset=UTF-8",
            "ETag": '"v1"',
            "Last-Modified": "Wed, 01 May 2024 10:00:00 GMT",
            "X-Custom": "yes",
        },
        RSS,
    )
    result = fetch(server.url("/feed.xml"))
    assert result == FetchResult(
        url=server.url("/feed.xml"),
        status=200,
        content=RSS,
        headers=result.headers,
        content_type="application/rss+xml",
        charset="utf-8",
        etag='"v1"',
        last_modified="Wed, 01 May 2024 10:00:00 GMT",
    )
    assert result.headers["x-custom"] == "yes"
    assert all(name == name.lower() for name in result.headers)
    assert not result.not_modified


@pytest.mark.parametrize(
    ("content_type", "media_type", "charset"),
    [
        ("application/rss+xml; charset=ISO-8859-1", "application/rss+xml", "iso-8859-1"),
        ('text/xml;charset="windows-1252"', "text/xml", "windows-1252"),
        ("Application/Atom+XML", "application/atom+xml", ""),
        ("application/json; profile=x", "application/json", ""),
        (None, "", ""),
    ],
)
def test_content_type_and_charset_are_parsed(server, content_type, media_type, charset):
    headers = {"Content-Type": content_type} if content_type else {}
    server.routes["/doc"] = (200, headers, b"x")
    result = fetch(server.url("/doc"))
    assert (result.content_type, result.charset) == (media_type, charset)


def test_the_request_is_polite_and_says_who_we_are(server, settings):
    settings.SYNDICATION_USER_AGENT = "SyndiCMS-test/1.0 (+https://example.org/bot)"
    server.routes["/feed.xml"] = (200, {}, RSS)
    fetch(server.url("/feed.xml"), accept="application/rss+xml, */*;q=0.1")
    headers = server.requests[0].headers
    assert headers["user-agent"] == "SyndiCMS-test/1.0 (+https://example.org/bot)"
    assert headers["accept"] == "application/rss+xml, */*;q=0.1"
    assert headers["accept-encoding"] == "gzip, deflate"
    assert headers["host"] == f"127.0.0.1:{server.port}"
    assert "if-none-match" not in headers


def test_html_where_a_feed_was_expected_is_returned_for_the_caller_to_judge(server):
    server.routes["/feed"] = (200, {"Content-Type": "text/html"}, b"<html>Just a moment...</html>")
    result = fetch(server.url("/feed"), accept="application/rss+xml")
    assert result.content_type == "text/html"
    assert result.content.startswith(b"<html>")


# --- Conditional GET (R11) ------------------------------------------------------------------------


def _conditional(request):
    if request.headers.get("if-none-match") == '"v1"':
        return 304, {"ETag": '"v1"'}, b""
    return 200, {"ETag": '"v1"', "Last-Modified": "Wed, 01 May 2024 10:00:00 GMT"}, RSS


def test_a_conditional_get_with_the_last_validators_gets_not_modified(server):
    server.routes["/feed.xml"] = _conditional
    first = fetch(server.url("/feed.xml"))
    second = fetch(server.url("/feed.xml"), etag=first.etag, last_modified=first.last_modified)
    assert second.not_modified
    assert second.status == 304
    assert second.content == b""
    sent = server.requests[1].headers
    assert sent["if-none-match"] == '"v1"'
    assert sent["if-modified-since"] == "Wed, 01 May 2024 10:00:00 GMT"


def test_a_changed_etag_gets_the_full_document(server):
    server.routes["/feed.xml"] = _conditional
    result = fetch(server.url("/feed.xml"), etag='"v0"')
    assert result.status == 200
    assert result.content == RSS


def test_validators_that_would_inject_headers_are_not_sent(server):
    server.routes["/feed.xml"] = _conditional
    fetch(server.url("/feed.xml"), etag='"v1"\r\nX-Injected: 1', last_modified="\x00")
    sent = server.requests[0].headers
    assert "if-none-match" not in sent
    assert "if-modified-since" not in sent
    assert "x-injected" not in sent


# --- Status codes ------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [400, 403, 404, 410, 429, 500, 503])
def test_error_statuses_raise_with_the_code(server, status):
    server.routes["/feed"] = (status, {}, b"nope")
    with pytest.raises(HTTPStatusError) as failed:
        fetch(server.url("/feed"))
    assert failed.value.status_code == status
    assert str(status) in str(failed.value)


# --- Redirects (D5) ---------------------------------------------------------------------------


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_redirects_are_followed_and_the_final_url_reported(server, status):
    server.routes["/old"] = redirect("/middle", status)
    server.routes["/middle"] = redirect(server.url("/feed.xml?page=1"), status)
    server.routes["/feed.xml"] = (200, {}, RSS)
    result = fetch(server.url("/old"))
    assert result.content == RSS
    assert result.url == server.url("/feed.xml?page=1")
    assert [request.target for request in server.requests] == [
        "/old",
        "/middle",
        "/feed.xml?page=1",
    ]


def test_a_redirect_loop_is_cut_off(server):
    server.routes["/a"] = redirect("/b")
    server.routes["/b"] = redirect("/a")
    with pytest.raises(FetchError, match="after 5 redirects"):
        fetch(server.url("/a"))
    assert len(server.requests) == 6


def test_a_long_redirect_chain_stops_at_the_configured_limit(server, settings):
    settings.SYNDICATION_MAX_REDIRECTS = 2
    for hop in range(50):
        server.routes[f"/{hop}"] = redirect(f"/{hop + 1}")
    with pytest.raises(FetchError, match="after 2 redirects"):
        fetch(server.url("/0"))
    assert len(server.requests) == 3


def test_a_redirect_without_a_location_is_an_error(server):
    server.routes["/moved"] = (302, {}, b"")
    with pytest.raises(HTTPStatusError) as failed:
        fetch(server.url("/moved"))
    assert failed.value.status_code == 302


# --- Size limits (D1, D2, D4) -----------------------------------------------------------------


def test_a_huge_declared_length_is_refused_before_reading_the_body(server):
    server.routes["/huge"] = Response(200, {"Content-Length": "10737418240"}, endless(b"x" * 65536))
    with pytest.raises(ResponseTooLarge, match="announced 10,737,418,240 bytes"):
        fetch(server.url("/huge"))


def test_an_endless_stream_stops_at_the_byte_cap(server, settings):
    settings.SYNDICATION_DEADLINE = 600  # only the cap can end this fetch
    server.routes["/forever"] = Response(body=endless())
    with pytest.raises(ResponseTooLarge, match="200,000 bytes"):
        fetch(server.url("/forever"), max_bytes=200_000)


def test_the_cap_is_inclusive(server):
    server.routes["/exact"] = (200, {}, b"x" * 5000)
    assert len(fetch(server.url("/exact"), max_bytes=5000).content) == 5000
    with pytest.raises(ResponseTooLarge):
        fetch(server.url("/exact"), max_bytes=4999)


def test_the_cap_defaults_to_the_setting(server, settings):
    settings.SYNDICATION_MAX_BYTES = 1000
    server.routes["/doc"] = Response(body=[b"x" * 600, b"x" * 600])  # chunked, no length
    with pytest.raises(ResponseTooLarge, match="1,000 bytes"):
        fetch(server.url("/doc"))


def test_compressed_responses_are_decoded(server):
    text = RSS * 200
    deflater = zlib.compressobj(wbits=-zlib.MAX_WBITS)
    raw_deflate = deflater.compress(text) + deflater.flush()
    server.routes["/gzip"] = (200, {"Content-Encoding": "gzip"}, gzip.compress(text))
    server.routes["/zlib"] = (200, {"Content-Encoding": "deflate"}, zlib.compress(text))
    server.routes["/raw-deflate"] = (200, {"Content-Encoding": "deflate"}, raw_deflate)
    server.routes["/members"] = (
        200,
        {"Content-Encoding": "gzip"},
        gzip.compress(text[:1000]) + gzip.compress(text[1000:]),
    )
    server.routes["/twice"] = (
        200,
        {"Content-Encoding": "deflate, gzip"},
        gzip.compress(zlib.compress(text)),
    )
    server.routes["/chunked-gzip"] = Response(
        200,
        {"Content-Encoding": "gzip"},
        [gzip.compress(text)[i : i + 7] for i in range(0, 9000, 7)],
    )
    for path in ("/gzip", "/zlib", "/raw-deflate", "/members", "/twice", "/chunked-gzip"):
        assert fetch(server.url(path)).content == text, path


def test_a_gzip_bomb_stops_at_the_cap_without_inflating_everything(server, gzip_bomb):
    server.routes["/bomb"] = (200, {"Content-Encoding": "gzip"}, gzip_bomb)
    peak = _peak_python_memory(
        lambda: pytest.raises(ResponseTooLarge, fetch, server.url("/bomb"), max_bytes=1_000_000)
    )
    assert peak < 20 * 1024 * 1024  # the bomb inflates to 100 MB


def test_a_nested_gzip_bomb_stops_at_the_cap(server, gzip_bomb):
    nested = gzip.compress(gzip_bomb)  # a few hundred bytes for 100 MB
    server.routes["/bomb"] = (200, {"Content-Encoding": "gzip, gzip"}, nested)
    with pytest.raises(ResponseTooLarge, match="decompresses"):
        fetch(server.url("/bomb"), max_bytes=1_000_000)


def test_more_compression_layers_than_we_asked_for_are_refused(server):
    body = gzip.compress(gzip.compress(gzip.compress(b"x")))
    server.routes["/layers"] = (200, {"Content-Encoding": "gzip, gzip, gzip"}, body)
    with pytest.raises(FetchError, match="3 times"):
        fetch(server.url("/layers"))


@pytest.mark.parametrize(
    ("encoding", "body", "message"),
    [
        ("br", b"\x0b\x02\x80hello\x03", "unsupported compression"),
        ("gzip", b"\x1f\x8b\x08\x00garbage-garbage", "corrupt"),
        ("deflate", b"definitely not deflate", "corrupt"),
    ],
)
def test_unknown_or_corrupt_compression_is_an_error(server, encoding, body, message):
    server.routes["/odd"] = (200, {"Content-Encoding": encoding}, body)
    with pytest.raises(FetchError, match=message):
        fetch(server.url("/odd"))


# --- Time limits (D3) -------------------------------------------------------------------------


def test_a_slowloris_body_is_cut_off_at_the_total_deadline(server, settings):
    """Each byte arrives well within the read timeout; only the deadline can stop it."""
    settings.SYNDICATION_READ_TIMEOUT = 2
    settings.SYNDICATION_DEADLINE = 1.5
    server.routes["/trickle"] = Response(body=[b"x"] * 120, delay=0.5)  # a minute of body
    started = time.monotonic()
    with pytest.raises(FetchTimeout, match="1.5 seconds in total"):
        fetch(server.url("/trickle"))
    assert time.monotonic() - started > 1.4  # not before the deadline


def test_slow_headers_are_cut_off_at_the_total_deadline(server, settings):
    settings.SYNDICATION_DEADLINE = 1
    status_line_and_headers = [b"HTTP/1.1 200 OK\r\n"] + [b"X-Pad: %d\r\n" % i for i in range(50)]
    server.routes["/trickle"] = Response(raw=status_line_and_headers, delay=0.2)
    started = time.monotonic()
    with pytest.raises(FetchTimeout, match="1 seconds in total"):
        fetch(server.url("/trickle"))
    assert time.monotonic() - started > 0.9  # not before the deadline; the headers take 10 s


def test_a_server_that_goes_quiet_hits_the_read_timeout(server, settings):
    settings.SYNDICATION_READ_TIMEOUT = 0.3
    server.routes["/silent"] = Response(before=30, body=b"too late")
    with pytest.raises(FetchTimeout, match="stopped sending data"):
        fetch(server.url("/silent"))  # answering at all would take 30 seconds


# --- Network faults (R5) --------------------------------------------------------------------------


def test_a_refused_connection_is_a_short_plain_message(refused_port):
    with pytest.raises(FetchError) as failed:
        fetch(f"http://127.0.0.1:{refused_port}/feed")
    assert str(failed.value) == "127.0.0.1 refused the connection."


def test_a_failed_dns_lookup_is_a_short_plain_message(monkeypatch):
    def no_such_name(*args, **kwargs):
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", no_such_name)
    with pytest.raises(FetchError) as failed:
        fetch("https://feeds.example.test/rss")
    assert str(failed.value) == "Could not find the server feeds.example.test (DNS lookup failed)."


def test_a_tls_failure_is_a_short_plain_message(server):
    server.routes["/feed"] = (200, {}, RSS)
    with pytest.raises(FetchError) as failed:
        fetch(f"https://127.0.0.1:{server.port}/feed")
    assert str(failed.value) == "The secure (TLS) connection to 127.0.0.1 failed."


@pytest.mark.parametrize(
    "raw",
    [
        b"this is not HTTP\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly ten b",
        b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 7\r\n\r\nhello",
    ],
)
def test_a_broken_response_is_a_short_plain_message(server, raw):
    server.routes["/broken"] = Response(raw=raw)
    with pytest.raises(FetchError, match=r"^127\.0\.0\.1 sent a broken or incomplete HTTP"):
        fetch(server.url("/broken"))
