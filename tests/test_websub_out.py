"""WebSub out: the feeds name the configured hub, and the hub (a small one of our own on
127.0.0.1) is pinged for every feed that shows an article when it is published or withdrawn."""

import datetime
import logging
from urllib.parse import parse_qs

import feedparser
import pytest
from django.conf import settings as django_settings
from django.urls import reverse
from django.utils import timezone
from django_tasks import task_backends

from articles.distribution.websub import feeds_showing, ping_hub, ping_hub_task
from articles.models import ArticleStatus, Byline

from .factories import (
    ArticleFactory,
    AuthorFactory,
    PublishedArticleFactory,
    RegionFactory,
    ReportFactory,
    ThemeFactory,
)
from .httpserver import LocalServer, Response

pytestmark = pytest.mark.django_db


class Hub(LocalServer):
    """A hub that accepts every publish ping (202) and remembers the topics."""

    def __init__(self):
        super().__init__({"/hub": (202, {}, b"")})

    @property
    def pings(self) -> list[dict[str, list[str]]]:
        return [parse_qs(r.body.decode()) for r in self.requests if r.path == "/hub"]

    @property
    def topics(self) -> list[str]:
        return [topic for ping in self.pings for topic in ping["hub.url"]]


@pytest.fixture
def hub(settings):
    with Hub() as running:
        settings.WEBSUB_HUB_URL = running.url("/hub")
        yield running


@pytest.fixture
def commits(django_capture_on_commit_callbacks):
    """Changes made inside run their on-commit hooks, as in production."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


def site(path: str) -> str:
    return django_settings.SITE_URL + path


def feed(kind: str, slug: str, variant: str) -> str:
    name = f"discovery:subject_feed_{variant}"
    return site(reverse(name, kwargs={"kind": kind, "slug": slug}))


SITE_FEEDS = ["/feeds/rss/", "/feeds/atom/", "/feeds/json/"]


@pytest.fixture
def draft():
    """A draft filed under one of everything, its region nested in another."""
    article = ArticleFactory(title="Harbour cranes return", source__name="Port Gazette")
    coast = RegionFactory(name="Coast")
    article.regions.add(RegionFactory(name="Harbour", parent=coast))
    article.themes.add(ThemeFactory(name="Shipping"))
    article.reports.add(ReportFactory(title="Ports"))
    article.tags.add("cranes")
    Byline.objects.create(article=article, author=AuthorFactory(name="Lena Ortiz"), position=0)
    return article


def feeds_of(draft) -> set[str]:
    subjects = {
        "regions": ["harbour", "coast"],
        "themes": ["shipping"],
        "reports": ["ports"],
        "authors": ["lena-ortiz"],
        "sources": ["port-gazette"],
        "tags": ["cranes"],
    }
    return {site(path) for path in SITE_FEEDS} | {
        feed(kind, slug, variant)
        for kind, slugs in subjects.items()
        for slug in slugs
        for variant in ("rss", "atom")
    }


class TestFeedsNameTheHub:
    @pytest.mark.parametrize("path", ["/feeds/rss/", "/feeds/atom/", "/feeds/themes/t/rss/"])
    def test_rss_and_atom_link_the_hub_and_themselves(self, client, settings, path):
        settings.WEBSUB_HUB_URL = "https://hub.example/"
        ThemeFactory(name="T")

        document = feedparser.parse(client.get(path).content)

        assert not document.bozo
        links = {link.rel: link.href for link in document.feed.links}
        assert links["hub"] == "https://hub.example/"
        assert links["self"] == site(path)

    def test_json_feed_names_the_hub(self, client, settings):
        settings.WEBSUB_HUB_URL = "https://hub.example/"

        document = client.get("/feeds/json/").json()

        assert document["hubs"] == [{"type": "WebSub", "url": "https://hub.example/"}]
        assert document["feed_url"] == site("/feeds/json/")

    def test_without_a_hub_the_feeds_name_none(self, client, settings):
        settings.WEBSUB_HUB_URL = ""

        rss = feedparser.parse(client.get("/feeds/rss/").content)
        json_feed = client.get("/feeds/json/").json()

        assert "hub" not in {link.rel for link in rss.feed.links}
        assert "hubs" not in json_feed


class TestPings:
    def test_publishing_pings_every_feed_that_shows_the_article(self, hub, commits, draft):
        with commits():
            draft.publish()

        assert set(hub.topics) == feeds_of(draft)
        assert len(hub.topics) == len(feeds_of(draft))
        assert all(ping["hub.mode"] == ["publish"] for ping in hub.pings)
        assert all(len(ping["hub.url"]) == 1 for ping in hub.pings)
        assert {r.method for r in hub.requests} == {"POST"}
        assert hub.requests[0].headers["content-type"] == "application/x-www-form-urlencoded"

    def test_withdrawing_pings_them_too(self, hub, commits, draft):
        draft.publish()
        hub.requests.clear()

        with commits():
            draft.withdraw("Complaint upheld")

        assert set(hub.topics) == feeds_of(draft)

    def test_sending_a_live_article_back_to_review_pings(self, hub, commits):
        article = PublishedArticleFactory()

        with commits():
            article.status = ArticleStatus.REVIEW
            article.save()

        assert site("/feeds/rss/") in hub.topics

    def test_an_article_imported_as_published_pings(self, hub, commits):
        with commits():
            PublishedArticleFactory()

        assert site("/feeds/atom/") in hub.topics

    def test_edits_that_change_no_status_do_not_ping(self, hub, commits, draft):
        live = PublishedArticleFactory()

        with commits():
            draft.title = "Harbour cranes are back"
            draft.save()
            draft.send_to_review()
            live.title = "A typo fixed"
            live.save()

        assert hub.topics == []

    def test_a_rolled_back_publication_pings_nothing(
        self, hub, draft, django_capture_on_commit_callbacks
    ):
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            draft.publish()

        assert hub.requests == []
        assert callbacks, "the ping waits for the commit"

    def test_without_a_hub_nothing_is_sent(self, settings, commits, draft):
        settings.WEBSUB_HUB_URL = ""
        with Hub() as idle, commits():
            draft.publish()
            draft.withdraw()

        assert idle.requests == []

    def test_a_scheduled_article_is_pinged_when_it_goes_live(self, hub, commits, draft, settings):
        settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
        when = timezone.now() + datetime.timedelta(hours=3)

        with commits():
            draft.publish(at=when)

        (queued,) = task_backends["default"].results
        assert queued.task.name == ping_hub_task.name
        assert queued.args == [draft.pk]
        assert queued.task.run_after == when
        assert hub.requests == []


class TestThePing:
    def test_feeds_showing_an_article_include_its_parent_regions(self, draft):
        assert set(feeds_showing(draft)) == feeds_of(draft)

    def test_a_hub_error_is_logged_and_publishing_goes_on(self, settings, draft, commits, caplog):
        with LocalServer({"/hub": (500, {}, b"down")}) as broken:
            settings.WEBSUB_HUB_URL = broken.url("/hub")
            with caplog.at_level(logging.WARNING, "articles.distribution.websub"), commits():
                draft.publish()

        draft.refresh_from_db()
        assert draft.status == ArticleStatus.PUBLISHED
        assert "answered 500" in caplog.text

    def test_redirects_are_not_followed(self, settings):
        routes = {"/hub": Response(307, {"Location": "/elsewhere"}), "/elsewhere": (202, {}, b"")}
        with LocalServer(routes) as hub:
            answers = ping_hub(["https://site.example/feeds/rss/"], hub.url("/hub"))

        assert answers == {"https://site.example/feeds/rss/": "307"}
        assert [r.path for r in hub.requests] == ["/hub"]

    def test_a_slow_hub_is_given_up_on(self, settings):
        settings.WEBSUB_PING_TIMEOUT = 0.2
        with LocalServer({"/hub": Response(202, before=5)}) as slow:
            answers = ping_hub(["https://site.example/feeds/rss/"], slow.url("/hub"))

        assert answers["https://site.example/feeds/rss/"].startswith("ReadTimeout")

    def test_a_deleted_article_pings_nothing(self, hub):
        assert ping_hub_task.call(10**9) == {}
        assert hub.requests == []
