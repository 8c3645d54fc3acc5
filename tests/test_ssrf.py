"""The fetcher only talks to public servers, however the URL, DNS or a redirect tries otherwise.

Rows B1-B14 of docs/hostile-inputs.md. Name lookups are answered by a fake resolver and every
connection the fetcher opens is recorded, so "refused before connecting" is observed, not assumed.
"""

import ipaddress
import socket

import pytest

from syndication.fetching import addresses as net
from syndication.fetching.client import FetchError, UnsafeURL, fetch, validate_url

from .httpserver import LocalServer, redirect

PUBLIC_IP = "93.184.216.34"


@pytest.fixture(autouse=True)
def _strict_defaults(settings):
    settings.SYNDICATION_ALLOWED_HOSTS = []
    settings.SYNDICATION_ALLOWED_PORTS = [80, 443]
    settings.SYNDICATION_DEADLINE = 5
    settings.SYNDICATION_CONNECT_TIMEOUT = 2
    settings.SYNDICATION_READ_TIMEOUT = 2


class FakeDNS:
    """Answers lookups of made-up names; numeric hosts resolve as usual; anything else fails."""

    def __init__(self):
        self.answers: dict[str, list[list[str]]] = {}
        self.lookups: list[str] = []
        self._real = socket.getaddrinfo

    def set(self, name: str, *answers: list[str]) -> None:
        """Each lookup of `name` gets the next answer; the last one repeats."""
        self.answers[name] = list(answers)

    def getaddrinfo(self, host, port, family=0, type=0, proto=0, flags=0):
        host = host.decode() if isinstance(host, bytes) else host
        if host in self.answers:
            self.lookups.append(host)
            answers = self.answers[host]
            addresses = answers[min(self.lookups.count(host), len(answers)) - 1]
            return [_addrinfo(address, port) for address in addresses]
        if net.parse_ip_literal(host) is not None:
            return self._real(host, port, family, type, proto, flags)
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")


def _addrinfo(address: str, port):
    if ipaddress.ip_address(address).version == 6:
        return (socket.AF_INET6, socket.SOCK_STREAM, 6, "", (address, port, 0, 0))
    return (socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port))


@pytest.fixture
def dns(monkeypatch):
    fake = FakeDNS()
    monkeypatch.setattr(socket, "getaddrinfo", fake.getaddrinfo)
    return fake


@pytest.fixture
def connections(monkeypatch):
    """Every TCP connection the fetcher opens, as (address, port); `.reroute` sends them to a
    local server instead, standing in for the public host the test pretends to reach."""

    class Recorder(list):
        reroute: tuple[str, int] | None = None

    recorder = Recorder()
    real = socket.create_connection

    def create_connection(address, timeout=None, source_address=None, **kwargs):
        recorder.append(tuple(address[:2]))
        return real(recorder.reroute or address, timeout, source_address, **kwargs)

    monkeypatch.setattr(socket, "create_connection", create_connection)
    return recorder


@pytest.fixture
def server():
    with LocalServer({"/feed": (200, {"Content-Type": "application/rss+xml"}, b"<rss/>")}) as s:
        yield s


# --- URLs refused as written (no DNS needed) ---------------------------------------------------

REFUSED_AS_WRITTEN = {
    # B1 loopback
    "http://127.0.0.1:8000/admin/": "loopback",
    "http://127.0.0.1/": "loopback",
    "http://localhost/": "this machine",
    "http://LOCALHOST./": "this machine",
    "http://feeds.localhost/": "this machine",
    # B2 IPv6 loopback and IPv4-mapped loopback
    "http://[::1]/": "loopback",
    "http://[::ffff:127.0.0.1]/": "loopback",
    "http://[::ffff:7f00:1]/": "loopback",
    # B3 cloud metadata
    "http://169.254.169.254/latest/meta-data/": "link-local",
    "http://[fd00:ec2::254]/": "unique-local",
    # B4 unspecified
    "http://0.0.0.0/": "unspecified",
    "http://0/": "unusual form",
    "http://[::]/": "unspecified",
    # B5 alternate IPv4 spellings
    "http://2130706433/": "unusual form",
    "http://0177.0.0.1/": "not a valid URL",
    "http://0x7f.1/": "unusual form",
    "http://127.1/": "unusual form",
    "http://08.0.0.1/": "not a valid URL",
    "http://127.0.1/": "unusual form",
    # B6 special ranges
    "http://10.0.0.1/x.png": "private",
    "http://172.16.0.1/": "private",
    "http://172.31.255.255/": "private",
    "http://192.168.1.1/": "private",
    "http://100.64.0.1/": "shared",
    "http://[64:ff9b::a9fe:a9fe]/": "link-local",
    "http://[fc00::1]/": "unique-local",
    "http://[fe80::1]/": "link-local",
    "http://[fec0::1]/": "site-local",
    "http://224.0.0.1/": "multicast",
    "http://[ff02::1]/": "multicast",
    "http://255.255.255.255/": "reserved",
    "http://[2002:7f00:1::]/": "6to4",
    "http://192.0.2.10/": "documentation",
    # B10 schemes, also behind whitespace and control characters
    "file:///etc/passwd": "only http and https",
    " file:///etc/passwd": "only http and https",
    "\tfile:///etc/passwd": "only http and https",
    "\x00file:///etc/passwd": "only http and https",
    "gopher://example.com/": "only http and https",
    "ftp://example.com/feed.xml": "only http and https",
    "dict://example.com:11211/": "only http and https",
    "javascript:alert(1)": "only http and https",
    "data:text/html,<b>x</b>": "only http and https",
    "//example.com/feed.xml": "only http and https",
    "http:example.com": "not an absolute",
    "http:///feed.xml": "only absolute",
    "": "empty",
    " \t\n": "empty",
    # B11 parser differentials and credentials
    "http://evil.com\\@127.0.0.1/": "backslash",
    "http://127.0.0.1#@evil.com/": "loopback",
    "http://u:p@example.com/": "user name or password",
    "http://@example.com/": "user name or password",
    "http://example.com@127.0.0.1/": "user name or password",
    "http://exa\tmple.com/": "control characters",
    "http://example.com/\r\nHost: internal/": "control characters",
    "http://exa mple.com/": "not a valid host name",
    "http://%31%32%37.0.0.1/": "not a valid host name",
    "http://\u202eexample.com/": "control characters",
    # B12 ports
    "http://public.example:6379/": "port 6379",
    "http://public.example:25/": "port 25",
    "http://public.example:22/": "port 22",
    "https://public.example:8443/": "port 8443",
    "http://public.example:99999/": "not a valid port",
}


@pytest.mark.parametrize(("url", "reason"), REFUSED_AS_WRITTEN.items())
def test_validate_url_refuses_unsafe_urls_with_a_reason(url, reason):
    with pytest.raises(UnsafeURL) as refused:
        validate_url(url)
    assert reason in str(refused.value)


@pytest.mark.parametrize("url", list(REFUSED_AS_WRITTEN)[:12] + ["http://10.0.0.1/x.png"])
def test_fetch_refuses_them_before_any_lookup_or_connection(url, dns, connections):
    with pytest.raises(UnsafeURL):
        fetch(url)
    assert dns.lookups == []
    assert connections == []


@pytest.mark.parametrize(
    ("url", "normalised"),
    [
        ("https://example.com/feed.xml", "https://example.com/feed.xml"),
        ("  HTTPS://Example.COM/feed.xml#top \n", "https://example.com/feed.xml"),
        ("\u200bhttp://example.com/rss\u00a0", "http://example.com/rss"),
        ("http://example.com:80/a b?q=1", "http://example.com/a%20b?q=1"),
        ("https://example.com:443/", "https://example.com/"),
        ("http://bücher.example/feed", "http://xn--bcher-kva.example/feed"),
        ("http://93.184.216.34/feed", "http://93.184.216.34/feed"),
        ("http://[2606:4700::1111]/feed", "http://[2606:4700::1111]/feed"),
        ("http://[64:ff9b::5db8:d822]/", "http://[64:ff9b::5db8:d822]/"),
        ("http://my_host.example/", "http://my_host.example/"),
    ],
)
def test_validate_url_accepts_public_http_urls_and_normalises_them(url, normalised):
    assert validate_url(url) == normalised


# --- The allow-lists ----------------------------------------------------------------------------


def test_extra_ports_can_be_allowed(settings):
    settings.SYNDICATION_ALLOWED_PORTS = [8080]
    assert validate_url("http://public.example:8080/") == "http://public.example:8080/"
    assert validate_url("https://public.example:443/") == "https://public.example/"
    with pytest.raises(UnsafeURL):
        validate_url("http://public.example:6379/")


def test_allowed_hosts_may_use_any_port_and_address(settings):
    settings.SYNDICATION_ALLOWED_HOSTS = ["10.0.0.5", "[::1]", "Feeds.Intranet.Example"]
    assert validate_url("http://10.0.0.5:6379/x") == "http://10.0.0.5:6379/x"
    assert validate_url("http://[::1]:8000/") == "http://[::1]:8000/"
    assert validate_url("http://feeds.intranet.example:81/") == "http://feeds.intranet.example:81/"
    with pytest.raises(UnsafeURL):
        validate_url("http://10.0.0.6/")


def test_without_the_allow_list_the_local_test_server_is_never_contacted(server, dns):
    dns.set("feeds.example.test", ["127.0.0.1"])
    with pytest.raises(UnsafeURL, match="loopback"):
        fetch(server.url("/feed"))
    with pytest.raises(UnsafeURL, match="this machine"):
        fetch(f"http://localhost:{server.port}/feed")
    assert server.connections == 0


def test_with_the_allow_list_the_local_test_server_is_fetched(server, settings):
    settings.SYNDICATION_ALLOWED_HOSTS = ["127.0.0.1"]
    assert fetch(server.url("/feed")).content == b"<rss/>"
    assert server.connections == 1


def test_allowing_an_address_does_not_allow_names_that_resolve_to_it(server, settings, dns):
    settings.SYNDICATION_ALLOWED_HOSTS = ["127.0.0.1"]
    settings.SYNDICATION_ALLOWED_PORTS = [server.port]
    dns.set("sneaky.example.test", ["127.0.0.1"])
    with pytest.raises(UnsafeURL, match="resolves to 127.0.0.1"):
        fetch(f"http://sneaky.example.test:{server.port}/feed")
    assert server.connections == 0


def test_an_allowed_name_may_resolve_to_a_private_address(server, settings, dns):
    settings.SYNDICATION_ALLOWED_HOSTS = ["feeds.intranet.test"]
    dns.set("feeds.intranet.test", ["127.0.0.1"])
    result = fetch(f"http://feeds.intranet.test:{server.port}/feed")
    assert result.content == b"<rss/>"
    assert server.requests[0].headers["host"] == f"feeds.intranet.test:{server.port}"


# --- The check on resolved addresses (B7, B8) --------------------------------------------------


@pytest.mark.parametrize(
    ("answer", "reason"),
    [
        (["10.0.0.5"], "private"),
        (["127.0.0.1"], "loopback"),
        (["169.254.169.254"], "link-local"),
        (["0.0.0.0"], "unspecified"),  # noqa: S104 - an address to refuse, not to bind
        (["::1"], "loopback"),
        (["::ffff:10.0.0.5"], "private"),
        (["fd00::5"], "unique-local"),
        ([PUBLIC_IP, "10.0.0.5"], "private"),  # one bad address is enough
        (["2606:4700::1111", "::ffff:127.0.0.1"], "loopback"),
    ],
)
def test_a_name_resolving_to_any_non_public_address_is_refused(answer, reason, dns, connections):
    dns.set("feed.attacker.test", answer)
    with pytest.raises(UnsafeURL, match=reason):
        fetch("http://feed.attacker.test/rss")
    assert connections == []


def test_the_connection_goes_to_the_address_that_was_checked(server, settings, dns, connections):
    """DNS rebinding: the first answer is public, later ones say 127.0.0.1."""
    settings.SYNDICATION_ALLOWED_PORTS = [server.port]
    dns.set("feed.rebind.test", [PUBLIC_IP], ["127.0.0.1"])
    connections.reroute = (server.host, server.port)  # the local server plays the public host

    result = fetch(f"http://feed.rebind.test:{server.port}/feed")

    assert result.content == b"<rss/>"
    assert dns.lookups == ["feed.rebind.test"]
    assert connections == [(PUBLIC_IP, server.port)]
    assert server.requests[0].headers["host"] == f"feed.rebind.test:{server.port}"

    with pytest.raises(UnsafeURL, match="loopback"):
        fetch(f"http://feed.rebind.test:{server.port}/feed")
    assert connections == [(PUBLIC_IP, server.port)]


def test_a_name_that_does_not_resolve_is_a_plain_fetch_error(dns):
    with pytest.raises(FetchError, match="Could not find the server nowhere.test") as failed:
        fetch("http://nowhere.test/feed")
    assert not isinstance(failed.value, UnsafeURL)


# --- Redirects (B9) ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "location",
    [
        "http://169.254.169.254/latest/meta-data/",
        "http://[::ffff:169.254.169.254]/",
        "file:///etc/passwd",
        "gopher://127.0.0.1:6379/_INFO",
        "http://localhost/admin/",
        "http://internal.attacker.test/",
        "http://evil.example\\@127.0.0.1/",
        "//u:p@example.com/",
        "http://public.example:6379/",
    ],
)
def test_every_redirect_hop_is_checked(location, server, settings, dns, connections):
    settings.SYNDICATION_ALLOWED_HOSTS = ["127.0.0.1"]
    dns.set("internal.attacker.test", ["10.1.2.3"])
    server.routes["/moved"] = redirect(location)
    with pytest.raises(UnsafeURL, match="Refused"):
        fetch(server.url("/moved"))
    assert connections == [("127.0.0.1", server.port)]


def test_a_redirect_from_an_allowed_host_to_another_local_port_needs_no_exception(server, settings):
    """The allow-list is about hosts; a hop to the same allowed host on any port is fine."""
    settings.SYNDICATION_ALLOWED_HOSTS = ["127.0.0.1"]
    server.routes["/moved"] = redirect(server.url("/feed"))
    assert fetch(server.url("/moved")).url == server.url("/feed")


# --- Proxies from the environment (B13) ---------------------------------------------------------


def test_proxy_settings_in_the_environment_are_ignored(server, settings, monkeypatch):
    settings.SYNDICATION_ALLOWED_HOSTS = ["127.0.0.1"]
    with LocalServer() as proxy:
        for variable in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "all_proxy"):
            monkeypatch.setenv(variable, proxy.base_url)
        monkeypatch.setenv("NO_PROXY", "")

        with pytest.raises(UnsafeURL):
            fetch("http://10.0.0.1/feed")
        assert fetch(server.url("/feed")).content == b"<rss/>"

        assert proxy.connections == 0
        assert server.connections == 1


# --- The address table ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "address",
    [
        PUBLIC_IP,
        "8.8.8.8",
        "1.1.1.1",
        "2606:4700::1111",
        "2a00:1450:4001::200e",
        "64:ff9b::808:808",
    ],
)
def test_public_addresses_have_no_objection(address):
    assert net.non_public_reason(ipaddress.ip_address(address)) == ""


@pytest.mark.parametrize(
    "address",
    [
        "0.1.2.3",
        "100.127.255.254",
        "192.0.0.9",
        "192.88.99.1",
        "198.18.0.1",
        "198.51.100.7",
        "203.0.113.9",
        "239.255.255.250",
        "240.0.0.1",
        "::",
        "::127.0.0.1",
        "64:ff9b:1::1",
        "100::1",
        "2001::1",
        "2001:db8::1",
        "3fff::1",
        "fe80::1%1",
    ],
)
def test_special_purpose_addresses_are_not_public(address):
    assert net.non_public_reason(ipaddress.ip_address(address)) != ""
