"""Real-browser fixtures: Debian's Chromium, driven by Playwright, against the live test server.

Nothing is downloaded: the browser is the system's `/usr/bin/chromium` (CI installs it with
apt-get) and axe-core comes from `node_modules/` (CI installs it with npm). Without them the
tests are skipped with a reason; CI always has them.

Every page opened through `open_page` is watched: JavaScript dialogs are dismissed and recorded,
and any request to a host other than this machine is aborted and recorded, so a test can assert
that a page talked to nobody else and that no script of an attacker ran.
"""

import io
import re
import shutil
import tempfile
from dataclasses import dataclass, field
from importlib import import_module
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.core.management import call_command
from django.db import connection, connections

from tests.httpserver import LocalServer

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
AXE = REPO / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOTS = REPO / "var" / "screenshots"
LOCAL_HOSTS = {"127.0.0.1", "localhost", "[::1]", "::1"}
# What a closed network needs: no background updates, sync, QUIC or first-run chatter.
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-quic",
    "--no-first-run",
    "--disable-sync",
    "--disable-dev-shm-usage",
]
# Scenario steps wait at most this long for an element or a page (milliseconds).
TIMEOUT_MS = 15_000


def pytest_collection_modifyitems(items):
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.browser)


def _playwright_api():
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing: apt-get install chromium (.ci/run does)")
    return pytest.importorskip(
        "playwright.sync_api", reason="playwright is missing: pip install -e '.[test]'"
    )


@pytest.fixture
def browser(monkeypatch):
    """A fresh headless Chromium per test.

    Playwright's sync API keeps an asyncio loop running in this thread while the browser is
    open, which trips Django's async-safety check on every ORM call of the test itself; the
    check is switched off for the test only (the ORM is still used from one thread at a time).
    Each launch gets a new temporary profile directory from Playwright, removed on close
    (Playwright refuses a `--user-data-dir` flag and creates its own instead).
    """
    sync_api = _playwright_api()
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    downloads = tempfile.mkdtemp(prefix="syndicms-browser-")
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            args=CHROMIUM_FLAGS,
            headless=True,
            downloads_path=downloads,
            timeout=60_000,
        )
        try:
            yield chromium
        finally:
            # While Playwright's loop runs, asgiref keeps this thread's database connections
            # apart from the ones opened before (as for async code): close those now, or they
            # outlive the test and PostgreSQL refuses to drop the test database.
            connections.close_all()
            chromium.close()
            shutil.rmtree(downloads, ignore_errors=True)


def is_local(url: str) -> bool:
    parts = urlsplit(url)
    if parts.scheme in {"data", "blob", "about"}:
        return True
    return parts.scheme in {"http", "https"} and (parts.hostname or "") in LOCAL_HOSTS


@dataclass
class PageWatch:
    """What a page did besides rendering: dialogs, requests elsewhere, errors."""

    dialogs: list[str] = field(default_factory=list)
    foreign_requests: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)

    @property
    def csp_violations(self) -> list[str]:
        return [line for line in self.console_errors if "Content Security Policy" in line]

    def assert_quiet(self):
        assert self.dialogs == [], f"a script opened dialogs: {self.dialogs}"
        assert self.foreign_requests == [], f"requests left this machine: {self.foreign_requests}"
        assert self.page_errors == [], f"scripts failed: {self.page_errors}"


@pytest.fixture
def open_page(browser, live_server):
    """`open_page(bypass_csp=False)` → (page, watch): a page in a new browser context.

    Requests to other hosts are aborted (and recorded) before they leave, so the tests pass
    or fail the same way on a machine with a network as on CI's closed one.
    """
    contexts = []

    def opener(*, bypass_csp: bool = False, **options):
        context = browser.new_context(base_url=live_server.url, bypass_csp=bypass_csp, **options)
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        watch = PageWatch()

        def guard(route):
            url = route.request.url
            if is_local(url):
                route.continue_()
            else:
                watch.foreign_requests.append(url)
                route.abort("blockedbyclient")

        context.route("**/*", guard)
        page = context.new_page()

        def on_dialog(dialog):
            watch.dialogs.append(f"{dialog.type}: {dialog.message}")
            dialog.dismiss()

        page.on("dialog", on_dialog)
        page.on("pageerror", lambda error: watch.page_errors.append(str(error)))
        page.on(
            "console",
            lambda message: message.type == "error" and watch.console_errors.append(message.text),
        )
        return page, watch

    yield opener
    for context in contexts:
        context.close()


def screenshot(page, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{connection.vendor}-{re.sub(r'[^a-z0-9-]+', '-', name.lower())}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def axe_violations(page, impacts=("serious", "critical")) -> list[dict]:
    """Run axe-core in the page; return its violations of the given impacts.

    The script is evaluated through the DevTools protocol, which the page's CSP does not
    govern, so the site's policy stays exactly as it is served.
    """
    if not AXE.exists():
        pytest.skip(f"{AXE.relative_to(REPO)} is missing: npm install axe-core (.ci/run does)")
    page.evaluate(AXE.read_text(encoding="utf-8"))
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    return [
        {
            "id": violation["id"],
            "impact": violation["impact"],
            "help": violation["help"],
            "targets": [node["target"] for node in violation["nodes"]][:5],
        }
        for violation in result["violations"]
        if violation["impact"] in impacts
    ]


def restore_editorial_roles():
    """Re-create the Editors and Importers groups that the data migrations made.

    Browser tests share the database with the live server, so they run as transactional tests,
    and each one ends by emptying every table: the groups are gone for the next test.
    (`serialized_rollback` would restore them, but leaves the database without content types
    for any transactional test that runs afterwards.)
    """
    from django.apps import apps

    from articles.editorial.roles import ARTICLES_PERMISSIONS, MEDIA_LIBRARY_PERMISSIONS, grant

    import_roles = import_module("syndication.migrations.0002_import_roles")
    grant(apps, ARTICLES_PERMISSIONS)
    grant(apps, MEDIA_LIBRARY_PERMISSIONS)
    grant(apps, import_roles.SYNDICATION_PERMISSIONS)


@pytest.fixture
def demo_site(transactional_db):
    """The demo content: sources with rights, regions, themes, site blocks, thirteen articles."""
    restore_editorial_roles()
    call_command("load_demo", verbosity=0, stdout=io.StringIO())


@pytest.fixture
def feed_server(settings):
    """A local HTTP server the importer may fetch from (127.0.0.1 is allowed for the test)."""
    settings.SYNDICATION_ALLOWED_HOSTS = ["127.0.0.1"]
    with LocalServer() as server:
        yield server


@dataclass
class Story:
    article: object
    video_problem: str  # why no playable video could be made, or ""


STORY_TITLE = "Mangrove nurseries hold back the tide"
STORY_BODY = (
    "<p>Villagers on the lower delta have planted forty thousand mangrove seedlings since the "
    "spring floods.</p><h2>Roots against the sea</h2><p>The young trees already slow the "
    "water at high tide, say the fishermen who tend them.</p>"
    "<blockquote><p>We plant before the rains, and we count them after.</p></blockquote>"
)


@pytest.fixture
def published_story(demo_site, feed_server, live_server, settings):
    """One article imported from a local feed into a demo source, published at once.

    Its lead video is a real WebM file served by the live server itself (media are same-origin
    under the site's CSP); its poster is the feed's photo, fetched and re-encoded on import.
    """
    from articles.models import Article, Region, Source
    from syndication.entry import import_feed
    from syndication.models import Feed, MappingRule

    from .content import Item, jpeg, rss, write_tiny_webm

    video_problem = write_tiny_webm(Path(settings.MEDIA_ROOT) / "test-video" / "tiny.webm")
    feed_server.routes["/photo.jpg"] = (200, {"Content-Type": "image/jpeg"}, jpeg())
    item = Item(
        guid="delta-2024-mangroves",
        title=STORY_TITLE,
        link=feed_server.url("/stories/mangroves"),
        summary="Forty thousand seedlings later, the delta's villages see the water slow.",
        body_html=STORY_BODY,
        author="Amina Diallo",
        categories=["West Africa", "Environment"],
        image_url=feed_server.url("/photo.jpg"),
        image_caption="Mangrove seedlings along the edge of the delta",
        video_url=f"{live_server.url}/media/test-video/tiny.webm",
    )
    feed_server.routes["/feed.xml"] = (
        200,
        {"Content-Type": "application/rss+xml"},
        rss("Delta Dispatch", feed_server.url("/"), [item]),
    )
    feed = Feed.objects.create(
        source=Source.objects.get(slug="delta-dispatch"),
        url=feed_server.url("/feed.xml"),
        default_status="published",
    )
    MappingRule.objects.create(
        feed=feed, category="West Africa", region=Region.objects.get(name="Africa")
    )
    run = import_feed(feed)
    assert (run.status, run.created) == ("succeeded", 1), run.summary
    article = Article.objects.published().get(imported_item__guid=item.guid)
    return Story(article=article, video_problem=video_problem)
