"""Feed discovery: from a homepage to the feeds it offers, through the safe fetcher."""

import io

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from articles.editorial.roles import EDITORS, IMPORTERS
from articles.models import Source
from syndication.discovery import COMMON_PATHS, MAX_CANDIDATES, discover_feeds
from syndication.fetching.client import UnsafeURL
from syndication.models import Feed
from tests.factories import SourceFactory, make_user
from tests.feedbuilders import rss, story

from .admin_helpers import PASSWORD
from .httpserver import LocalServer, Response, endless

DISCOVER = reverse("admin:syndication_feed_discover")
RSS_TYPE = {"Content-Type": "application/rss+xml"}
HTML_TYPE = {"Content-Type": "text/html; charset=utf-8"}
ATOM = (
    b'<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"><title>Atom news</title>'
    b'<entry><id>a1</id><title>One</title><link href="https://c.example/1"/></entry></feed>'
)


def page(*links: str, title: str = "The Courier", base: str = "") -> bytes:
    head = f"<title>{title}</title>" + (f'<base href="{base}">' if base else "")
    return (
        f"<!doctype html><html><head>{head}{''.join(links)}</head><body>Hi</body></html>".encode()
    )


def alternate(href: str, kind: str = "application/rss+xml") -> str:
    return f'<link rel="alternate" type="{kind}" href="{href}">'


@pytest.fixture
def server(settings):
    settings.SYNDICATION_ALLOWED_HOSTS = ["127.0.0.1"]
    settings.SYNDICATION_DEADLINE = 10
    with LocalServer() as running:
        running.routes["/news/rss"] = (200, RSS_TYPE, rss([story(1), story(2)], title="Courier"))
        running.routes["/atom"] = (200, {"Content-Type": "application/atom+xml"}, ATOM)
        yield running


def fetched_paths(server) -> list[str]:
    return [request.path for request in server.requests]


def test_autodiscovery_links_are_resolved_checked_and_listed(server):
    server.routes["/"] = (
        200,
        HTML_TYPE,
        page(alternate("news/rss"), alternate("/atom", "application/atom+xml; charset=utf-8")),
    )

    discovery = discover_feeds(server.url("/"))

    assert discovery.page_title == "The Courier"
    assert [(f.url, f.title, f.item_count, f.format) for f in discovery.feeds] == [
        (server.url("/news/rss"), "Courier", 2, "rss"),
        (server.url("/atom"), "Atom news", 1, "atom"),
    ]
    assert {f.found_by for f in discovery.feeds} == {"a link on the page"}
    assert not set(COMMON_PATHS) & set(fetched_paths(server)), "links found: no guessing"


def test_links_resolve_against_the_pages_base(server):
    server.routes["/section/"] = (200, HTML_TYPE, page(alternate("rss"), base="/news/"))

    discovery = discover_feeds(server.url("/section/"))

    assert [f.url for f in discovery.feeds] == [server.url("/news/rss")]


def test_a_feed_url_is_its_own_discovery(server):
    discovery = discover_feeds(server.url("/news/rss"))

    assert [(f.url, f.found_by) for f in discovery.feeds] == [
        (server.url("/news/rss"), "the address itself")
    ]


def test_common_paths_are_tried_only_when_the_page_names_no_feed(server):
    server.routes["/"] = (200, HTML_TYPE, page())
    server.routes["/feed.xml"] = (200, RSS_TYPE, rss([story(3)], title="Guessed"))

    discovery = discover_feeds(server.url("/"))

    assert [(f.title, f.found_by) for f in discovery.feeds] == [("Guessed", "a common path")]
    assert fetched_paths(server) == ["/", *COMMON_PATHS]


def test_a_link_that_is_not_a_feed_is_not_offered(server):
    server.routes["/"] = (200, HTML_TYPE, page(alternate("/fake"), alternate("/news/rss")))
    server.routes["/fake"] = (200, RSS_TYPE, b"<html><body>Not a feed</body></html>")

    discovery = discover_feeds(server.url("/"))

    assert [f.url for f in discovery.feeds] == [server.url("/news/rss")]
    assert any(line.startswith(server.url("/fake")) for line in discovery.problems)


@pytest.mark.parametrize(
    "href",
    [
        "http://10.0.0.8/feed",
        "http://169.254.169.254/latest/meta-data/",
        "http://localhost/feed",
        "http://[::1]/feed",
        "http://192.168.1.1:8080/rss",
        "javascript:alert(document.cookie)",
        "data:application/rss+xml,<rss/>",
        "file:///etc/passwd",
        "https://user:pw@example.org/feed",
    ],
)
def test_links_to_private_addresses_and_other_schemes_are_refused_unfetched(server, href):
    server.routes["/"] = (200, HTML_TYPE, page(alternate(href), alternate("/news/rss")))

    discovery = discover_feeds(server.url("/"))

    assert [f.url for f in discovery.feeds] == [server.url("/news/rss")]
    assert any(line.startswith("Refused") for line in discovery.problems)
    assert fetched_paths(server) == ["/", "/news/rss"]


def test_a_private_homepage_is_refused_outright(settings):
    settings.SYNDICATION_ALLOWED_HOSTS = []

    with pytest.raises(UnsafeURL):
        discover_feeds("http://127.0.0.1:8000/")


def test_a_huge_page_is_cut_off_and_the_common_paths_still_tried(server):
    server.routes["/"] = Response(200, HTML_TYPE, endless(b"<p>" * 8192))
    server.routes["/rss"] = (200, RSS_TYPE, rss([story(1)], title="Behind a huge page"))

    discovery = discover_feeds(server.url("/"))

    assert [f.title for f in discovery.feeds] == ["Behind a huge page"]
    assert "larger than the limit" in discovery.problems[0]


def test_only_the_first_candidates_are_fetched_from_a_page_full_of_links(server):
    links = [alternate(f"/feed-{n}") for n in range(500)]
    server.routes["/"] = (200, HTML_TYPE, page(*links))

    discovery = discover_feeds(server.url("/"))

    assert len(server.requests) == 1 + MAX_CANDIDATES
    assert discovery.feeds == []
    assert any(line.startswith("Not checked") for line in discovery.problems)


def test_repeated_links_are_fetched_once(server):
    server.routes["/"] = (200, HTML_TYPE, page(*[alternate("/news/rss")] * 5))

    discovery = discover_feeds(server.url("/"))

    assert len(discovery.feeds) == 1
    assert fetched_paths(server) == ["/", "/news/rss"]


# --- The command -----------------------------------------------------------------------------


@pytest.mark.django_db
def test_discover_feeds_command_lists_and_adds_the_chosen_feed(server):
    server.routes["/"] = (200, HTML_TYPE, page(alternate("/atom"), alternate("/news/rss")))
    out = io.StringIO()

    call_command("discover_feeds", server.url("/"), "--add", "2", "--source", "courier", stdout=out)

    listing = out.getvalue()
    assert f"1. {server.url('/atom')}" in listing
    assert f"2. {server.url('/news/rss')}  “Courier”, 2 item(s)" in listing
    feed = Feed.objects.get()
    assert (feed.url, feed.source.slug, feed.source.name) == (
        server.url("/news/rss"),
        "courier",
        "Courier",
    )


@pytest.mark.django_db
def test_discover_feeds_command_fails_clearly_when_nothing_is_found(server):
    server.routes["/"] = (200, HTML_TYPE, page())

    with pytest.raises(CommandError, match="No feed found"):
        call_command("discover_feeds", server.url("/"), stdout=io.StringIO())


# --- The admin -------------------------------------------------------------------------------


@pytest.fixture
def importer_client(client, db):
    make_user("ingest", groups=(IMPORTERS,))
    assert client.login(username="ingest", password=PASSWORD)
    return client


def test_the_feed_list_links_to_discovery(importer_client):
    assert DISCOVER.encode() in importer_client.get("/admin/syndication/feed/").content


def test_the_admin_lists_candidates_then_adds_the_chosen_one_to_a_new_source(
    importer_client, server
):
    server.routes["/"] = (200, HTML_TYPE, page(alternate("/news/rss"), alternate("/atom")))

    listing = importer_client.post(DISCOVER, {"url": server.url("/"), "source": ""})

    assert listing.status_code == 200
    assert b"Atom news" in listing.content
    assert b"Courier" in listing.content
    assert not Feed.objects.exists()

    added = importer_client.post(
        DISCOVER,
        {"url": server.url("/"), "source": "", "feed": server.url("/atom"), "name": "Atom news"},
    )

    feed = Feed.objects.select_related("source").get()
    assert added.status_code == 302
    assert added["Location"] == reverse("admin:syndication_feed_change", args=[feed.pk])
    assert (feed.url, feed.source.name, feed.source.homepage) == (
        server.url("/atom"),
        "Atom news",
        server.url("/"),
    )


def test_the_admin_adds_to_a_chosen_source_once(importer_client, server):
    source = SourceFactory()
    fields = {"url": server.url("/"), "source": source.pk, "feed": server.url("/atom")}

    importer_client.post(DISCOVER, fields)
    again = importer_client.post(DISCOVER, fields)

    assert list(source.feeds.values_list("url", flat=True)) == [server.url("/atom")]
    assert b"is already a feed of" in again.content
    assert Source.objects.count() == 1


def test_the_admin_refuses_a_private_address_posted_as_the_feed(importer_client, settings):
    settings.SYNDICATION_ALLOWED_HOSTS = []
    fields = {"url": "https://example.org/", "source": "", "feed": "http://10.0.0.1/feed"}

    page_ = importer_client.post(DISCOVER, fields)

    assert b"not a public address" in page_.content
    assert not Feed.objects.exists()
    assert not Source.objects.exists()


def test_the_admin_shows_why_a_homepage_is_refused(importer_client, settings):
    settings.SYNDICATION_ALLOWED_HOSTS = []

    page_ = importer_client.post(DISCOVER, {"url": "http://127.0.0.1:9/", "source": ""})

    assert b"not a public address" in page_.content


@pytest.mark.django_db
def test_editors_cannot_use_discovery(client):
    make_user("desk", groups=(EDITORS,))
    client.login(username="desk", password=PASSWORD)

    assert client.get(DISCOVER).status_code == 403
