"""A small threaded HTTP server on 127.0.0.1, so tests can fetch without touching the network.

Routes map a path (without the query string) to what the server answers:

* a `Response(status, headers, body, delay=..., before=...)`;
* a tuple `(status, headers, body)`;
* a callable taking the `Request` and returning either of the above.

A `bytes` body gets a Content-Length. Any other iterable of bytes is sent chunked, one chunk per
item, unless the headers carry their own Content-Length (which may lie, on purpose). `delay`
pauses before each chunk, `before` pauses before the status line. `Response(raw=...)` writes the
given bytes (or iterable of bytes) verbatim, status line and all, for responses no well-behaved
server would send. Unknown paths answer 404. Every response closes its connection.

    from tests.httpserver import LocalServer, Response, endless, redirect

    routes = {
        "/feed.xml": (200, {"Content-Type": "application/rss+xml"}, b"<rss/>"),
        "/old": redirect("/feed.xml"),
        "/echo-agent": lambda request: (200, {}, request.headers["user-agent"].encode()),
        "/forever": Response(body=endless()),
        "/trickle": Response(body=endless(b"x"), delay=0.2),
    }
    with LocalServer(routes) as server:
        url = server.url("/feed.xml")  # http://127.0.0.1:<port>/feed.xml
        ...
        server.requests[-1].headers["user-agent"]
        server.connections  # TCP connections accepted so far

As a pytest fixture:

    @pytest.fixture
    def server():
        with LocalServer() as running:
            yield running

    def test_something(server):
        server.routes["/x"] = (200, {}, b"hello")

Stopping the server (leaving the `with` block) also ends slow and endless responses.
"""

import itertools
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

Headers = Mapping[str, str] | Iterable[tuple[str, str]]


@dataclass
class Request:
    method: str
    target: str  # path and query string exactly as requested
    path: str
    query: str
    headers: dict[str, str]  # lower-cased names
    body: bytes = b""


@dataclass
class Response:
    status: int = 200
    headers: Headers = field(default_factory=dict)
    body: bytes | Iterable[bytes] = b""
    delay: float = 0.0  # seconds before each body chunk (or each raw piece)
    before: float = 0.0  # seconds before anything is sent
    raw: bytes | Iterable[bytes] | None = None  # sent verbatim instead of the above


Route = Response | tuple | Callable[[Request], Response | tuple]


def redirect(location: str, status: int = 302) -> Response:
    return Response(status, {"Location": location})


def endless(chunk: bytes = b"x" * 16384) -> Iterator[bytes]:
    """A body that never ends: the server stops when the client hangs up or the test ends."""
    return itertools.repeat(chunk)


class LocalServer:
    def __init__(self, routes: dict[str, Route] | None = None):
        self.routes: dict[str, Route] = dict(routes or {})
        self.requests: list[Request] = []
        self.connections = 0
        self.host = "127.0.0.1"
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        assert self._httpd is not None, "the server is not running"
        return self._httpd.server_address[1]

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def url(self, path: str = "/") -> str:
        return f"{self.base_url}{path}"

    def start(self) -> "LocalServer":
        self._httpd = _Server((self.host, 0), _Handler, self)
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> "LocalServer":
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()

    def _count_connection(self) -> None:
        with self._lock:
            self.connections += 1

    def _record(self, request: Request) -> None:
        with self._lock:
            self.requests.append(request)

    def _answer(self, request: Request) -> Response:
        route = self.routes.get(request.path)
        if route is None:
            return Response(404, {"Content-Type": "text/plain"}, b"not found")
        if callable(route):
            route = route(request)
        if isinstance(route, tuple):
            route = Response(*route)
        return route

    def _pause(self, seconds: float) -> bool:
        """Wait, unless the server is stopping; True when the response should go on."""
        if seconds:
            self._stopping.wait(seconds)
        return not self._stopping.is_set()


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def __init__(self, address, handler, owner: LocalServer):
        self.owner = owner
        super().__init__(address, handler)

    def process_request(self, request, client_address):
        self.owner._count_connection()
        super().process_request(request, client_address)

    def handle_error(self, request, client_address):
        """Clients hanging up mid-response is what many tests are about: stay quiet."""


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def do_GET(self):
        self._serve()

    do_HEAD = do_POST = do_PUT = do_DELETE = do_GET

    def log_message(self, format, *args):
        pass

    def _serve(self):
        owner = self.server.owner
        length = int(self.headers.get("Content-Length") or 0)
        parts = urlsplit(self.path)
        request = Request(
            method=self.command,
            target=self.path,
            path=parts.path,
            query=parts.query,
            headers={name.lower(): value for name, value in self.headers.items()},
            body=self.rfile.read(length) if length else b"",
        )
        owner._record(request)
        response = owner._answer(request)
        self.close_connection = True
        try:
            if not owner._pause(response.before):
                return
            if response.raw is not None:
                self._send_raw(response)
            else:
                self._send(response, head_only=self.command == "HEAD")
        except (BrokenPipeError, ConnectionResetError, ConnectionAbortedError):
            pass

    def _send_raw(self, response: Response):
        pieces = [response.raw] if isinstance(response.raw, bytes) else response.raw
        for piece in pieces:
            if not self.server.owner._pause(response.delay):
                return
            self.wfile.write(piece)
            self.wfile.flush()

    def _send(self, response: Response, head_only: bool):
        headers = list(
            response.headers.items() if isinstance(response.headers, Mapping) else response.headers
        )
        names = {name.lower() for name, _ in headers}
        body = response.body
        chunked = not isinstance(body, bytes) and "content-length" not in names
        if isinstance(body, bytes) and "content-length" not in names:
            headers.append(("Content-Length", str(len(body))))
        if chunked:
            headers.append(("Transfer-Encoding", "chunked"))
        headers.append(("Connection", "close"))

        self.send_response_only(response.status)
        for name, value in headers:
            self.send_header(name, value)
        self.end_headers()
        self.wfile.flush()
        if head_only:
            return
        for chunk in [body] if isinstance(body, bytes) else body:
            if not self.server.owner._pause(response.delay):
                return
            if chunked and chunk:
                self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            elif not chunked:
                self.wfile.write(chunk)
            self.wfile.flush()
        if chunked:
            self.wfile.write(b"0\r\n\r\n")
            self.wfile.flush()
