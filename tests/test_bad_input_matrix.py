"""The bad-input matrix: every hostile input the project handles, as one table.

Each row of CASES names a row of the project's catalogue, docs/hostile-inputs.md (A1, B7, ...),
the input, the entry point it goes through (the sanitizer, a real import rendered as a public
page, the URL guard, the fetcher against a local server, the XML parsers, image intake, upload
naming, the admin...) and the safe outcome expected. Entry points return what happened (a
value, or the exception raised) and never let an exception escape, so "refused" is an outcome
like any other. No case asserts how long it took: each asserts what stopped the input (the
byte cap, the deadline's own message, the nesting limit, an entity left unexpanded).

Deeper tests of each area live in their own modules (test_ssrf, test_fetching, test_parsers_*,
test_importer...); this table is the one place that shows the whole list and proves each case
end to end, on SQLite and on PostgreSQL (CI runs the suite on both). The catalogue names these
cases as `matrix` and the other tests by their node IDs; the last tests below keep the two in
step.
"""

import csv
import datetime
import gzip
import hashlib
import importlib
import io
import json
import re
import socket
import struct
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import lxml.etree
import lxml.html
import pytest
from django.contrib.auth import get_user_model
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from articles.editorial import csv_export
from articles.images import ImageRejected, clean_image, store_clean_image
from articles.models import Article, Author, Byline, upload_to_lead_images
from articles.sanitize import MAX_HTML_BYTES, clean_html
from syndication.entry import import_feed, import_feed_file, import_wxr
from syndication.fetching import client as fetching
from syndication.fetching.client import FetchError, FetchTimeout, ResponseTooLarge, UnsafeURL
from syndication.models import Feed, ImportedItem, ImportRun, RunKind
from syndication.parsers import ParseError, iter_wxr, parse_feed
from syndication.tasks import enqueue_due_feeds
from tests.admin_helpers import article_form_data, change_url
from tests.browser.content import Item, rss
from tests.factories import (
    ArticleFactory,
    AuthorFactory,
    LicensedSourceFactory,
    PublishedArticleFactory,
    make_user,
)
from tests.feedbuilders import Post, png, png_declaring, wxr
from tests.httpserver import LocalServer, Response, endless, redirect
from tests.test_importer import ARTICLE_PAGE

pytestmark = pytest.mark.django_db

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"
PASSWD_MARKER = "root:x:0:0"


# ---------------------------------------------------------------------------------------------
# The table's machinery


@dataclass
class Env:
    """What an entry point may use: Django's settings, monkeypatch, a temp dir, a local server."""

    settings: Any
    monkeypatch: pytest.MonkeyPatch
    tmp_path: Path
    server: LocalServer
    connections: list = field(default_factory=list)


@dataclass(frozen=True)
class Case:
    row: str  # the row of docs/hostile-inputs.md
    name: str
    through: Callable[[Env, Any], Any]
    given: Any
    expect: Callable[[Any], None]
    xfail: str = ""  # a known gap, with the reason; strict, so fixing it turns the case red

    @property
    def id(self) -> str:
        slug = re.sub(r"[^a-z0-9]+", "-", self.name.lower()).strip("-")
        return f"{self.row}-{slug}-via-{self.through.__name__.replace('_', '-')}"


def outcome_of(action: Callable[[], Any]) -> Any:
    try:
        return action()
    except Exception as error:  # noqa: BLE001 - the exception is the outcome being checked
        return error


# ---------------------------------------------------------------------------------------------
# Entry points


def sanitized(env: Env, html: str) -> str:
    return clean_html(html, base_url="https://origin.example/news/story")


def sanitized_twice(env: Env, html: str) -> tuple[str, str]:
    once = sanitized(env, html)
    return once, sanitized(env, once)


@dataclass
class Rendered:
    run: Any
    article: Article | None
    page: str  # the public article page
    admin: str  # the article's admin change page


def imported_and_rendered(env: Env, fields: dict) -> Rendered:
    """Import one RSS item from a file, publish it, and render its public and admin pages."""
    source = LicensedSourceFactory()
    item = Item(
        guid=fields.get("guid", "hostile-item"),
        title=fields.get("title", "An ordinary title"),
        link=fields.get("link", "https://origin.example/news/hostile"),
        body_html=fields.get("body", "<p>Ordinary body.</p>"),
        summary=fields.get("summary", ""),
        author=fields.get("author", ""),
        categories=fields.get("categories", []),
    )
    path = env.tmp_path / "feed.xml"
    path.write_bytes(
        rss(fields.get("feed_title", "Hostile feed"), "https://origin.example/", [item])
    )
    run = import_feed_file(path, source, "published")
    article = Article.objects.filter(source=source).first()
    if article is None:
        return Rendered(run, None, "", "")
    page = Client().get(article.get_absolute_url())
    assert page.status_code == 200
    admin_client = Client()
    admin_client.force_login(superuser())
    admin = admin_client.get(reverse("admin:articles_article_change", args=[article.pk]))
    assert admin.status_code == 200
    return Rendered(run, article, page.content.decode(), admin.content.decode())


def pictured_imported_and_rendered(env: Env, media_xml: str) -> Rendered:
    """Import one RSS item whose picture (served here) carries `media_xml`, publish, render."""
    env.settings.SYNDICATION_ALLOWED_HOSTS = ["127.0.0.1"]
    env.server.routes["/picture.png"] = (200, {"Content-Type": "image/png"}, png())
    document = (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0" '
        'xmlns:media="http://search.yahoo.com/mrss/"><channel><title>Pictures</title>'
        "<link>https://origin.example/</link><item><guid>pictured</guid><title>Pictured</title>"
        "<link>https://origin.example/news/pictured</link>"
        "<description>&lt;p&gt;The article's own text.&lt;/p&gt;</description>"
        f'<media:content url="{env.server.url("/picture.png")}" medium="image">{media_xml}'
        "</media:content></item></channel></rss>"
    ).encode()
    path = env.tmp_path / "pictured.xml"
    path.write_bytes(document)
    source = LicensedSourceFactory()
    run = import_feed_file(path, source, "published")
    article = Article.objects.filter(source=source).first()
    if article is None:
        return Rendered(run, None, "", "")
    page = Client().get(article.get_absolute_url())
    assert page.status_code == 200
    admin_client = Client()
    admin_client.force_login(superuser())
    admin = admin_client.get(reverse("admin:articles_article_change", args=[article.pk]))
    return Rendered(run, article, page.content.decode(), admin.content.decode())


def superuser():
    User = get_user_model()
    return User.objects.filter(username="matrix-admin").first() or User.objects.create_superuser(
        "matrix-admin", "admin@example.org", "correct horse battery"
    )


def validated(env: Env, url: str):
    return outcome_of(lambda: fetching.validate_url(url))


def fetched(env: Env, url: str):
    """fetch() with a fake resolver (names below) and every TCP connection recorded."""
    answers = {
        "feed.attacker.test": ["10.0.0.5"],
        "public.example": ["93.184.216.34"],
        "rebind.example": ["93.184.216.34"],
    }
    real_getaddrinfo = socket.getaddrinfo
    lookups: list[str] = []

    def fake_getaddrinfo(host, port, *args, **kwargs):
        host = host.decode() if isinstance(host, bytes) else host
        lookups.append(host)
        if host == "rebind.example" and lookups.count(host) > 1:
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", port))]
        if host in answers:
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, port)) for a in answers[host]]
        if re.fullmatch(r"[\d.]+|\[?[0-9a-fA-F:]+\]?", host):
            return real_getaddrinfo(host, port, *args, **kwargs)
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    real_connect = socket.create_connection

    def recording_connect(address, *args, **kwargs):
        env.connections.append(tuple(address[:2]))
        raise OSError("the matrix never connects anywhere but its own server")

    env.monkeypatch.setattr(socket, "getaddrinfo", fake_getaddrinfo)
    env.monkeypatch.setattr(socket, "create_connection", recording_connect)
    try:
        return Fetched(outcome_of(lambda: fetching.fetch(url)), list(env.connections))
    finally:
        env.monkeypatch.setattr(socket, "create_connection", real_connect)


@dataclass
class Fetched:
    result: Any
    connections: list  # (address, port) of every TCP connection attempted


def fetched_through_proxy_settings(env: Env, url: str):
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "ALL_PROXY"):
        env.monkeypatch.setenv(name, env.server.url("/proxy"))
    env.server.routes["/proxy"] = (200, {}, b"the proxy answered")
    return fetched(env, url)


def imported_from_url_in_the_admin(env: Env, url: str):
    """The editor's "Import from URL" form, submitted by a member of Importers."""
    source = LicensedSourceFactory()
    client = Client()
    client.force_login(make_user("matrix-importer", groups=("Importers",)))
    response = client.post(
        reverse("admin:syndication_import_url"),
        {"url": url, "source": source.pk, "status": "draft"},
    )
    return response, Article.objects.filter(source=source).count()


def served(env: Env, response: Response):
    """fetch() of a local route serving `response`, with small caps so the case runs fast."""
    env.settings.SYNDICATION_ALLOWED_HOSTS = ["127.0.0.1"]
    env.settings.SYNDICATION_MAX_BYTES = 1024 * 1024
    env.settings.SYNDICATION_DEADLINE = 2
    env.settings.SYNDICATION_READ_TIMEOUT = 1.5
    env.server.routes["/doc"] = response
    return outcome_of(lambda: fetching.fetch(env.server.url("/doc")))


def feed_import_of(env: Env, response: Response):
    """A feed on the local server imported by import_feed: (run, feed, articles of the source)."""
    env.settings.SYNDICATION_ALLOWED_HOSTS = ["127.0.0.1"]
    env.settings.SYNDICATION_DEADLINE = 3
    env.server.routes["/feed"] = response
    source = LicensedSourceFactory()
    feed = Feed.objects.create(source=source, url=env.server.url("/feed"))
    run = import_feed(feed)
    feed.refresh_from_db()
    return run, feed, list(Article.objects.filter(source=source))


@dataclass
class Parsed:
    result: Any  # what the parser returned, or the exception it raised
    connections: list  # every connection or name lookup it attempted (each one refused)


def without_network(env: Env, parse: Callable[[], Any]) -> Parsed:
    attempts: list = []

    def refuse(*args, **kwargs):
        attempts.append(args)
        raise OSError("the matrix's parsers have no network")

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(socket.socket, "connect", refuse)
        patch.setattr(socket, "create_connection", refuse)
        patch.setattr(socket, "getaddrinfo", refuse)
        result = outcome_of(parse)
    return Parsed(result, attempts)


def parsed_feed(env: Env, document: bytes) -> Parsed:
    return without_network(env, lambda: parse_feed(document, url="https://origin.example/feed"))


def wxr_entries(env: Env, document: bytes) -> Parsed:
    return without_network(env, lambda: list(iter_wxr(io.BytesIO(document))))


def feed_imported_twice(env: Env, documents: tuple[bytes, bytes]):
    """One feed fetched twice from the local server, its document changing in between."""
    env.settings.SYNDICATION_ALLOWED_HOSTS = ["127.0.0.1"]
    source = LicensedSourceFactory()
    feed = Feed.objects.create(source=source, url=env.server.url("/feed"))
    runs = []
    for document in documents:
        env.server.routes["/feed"] = Response(200, RSS_TYPE, document)
        runs.append(import_feed(feed))
    return runs, list(Article.objects.filter(source=source))


def image_cleaned(env: Env, data: bytes):
    return outcome_of(lambda: clean_image(data))


def imported_with_lead_image(env: Env, route: Response | str):
    """An item whose lead image is served by `route` (or is the given URL)."""
    env.settings.SYNDICATION_ALLOWED_HOSTS = ["127.0.0.1"]
    if isinstance(route, str):
        image_url = route
    else:
        env.server.routes["/a/../../x.php"] = route
        env.server.routes["/image"] = route
        image_url = env.server.url("/image")
    source = LicensedSourceFactory()
    body = rss("Images", "https://origin.example/", [Item(
        guid="with-image", title="A story with a picture", link="https://origin.example/s",
        body_html="<p>Body.</p>", image_url=image_url,
    )])  # fmt: skip
    path = env.tmp_path / "feed.xml"
    path.write_bytes(body)
    run = import_feed_file(path, source, "draft")
    record = ImportedItem.objects.select_related("article").get(source=source)
    return run, record


def upload_named(env: Env, filename: str):
    name = upload_to_lead_images(None, filename)
    stored = default_storage.save(name, ContentFile(b"x"))
    return name, Path(default_storage.path(stored)).resolve()


def csv_exported(env: Env, values: list):
    response = csv_export.csv_response("export", ["value"], [[value] for value in values])
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"), newline="")))
    return list(zip(values, (row[0] for row in rows[1:]), strict=True))


def downloaded_as(env: Env, title: str):
    return outcome_of(lambda: csv_export.csv_response(title, ["a"], [["b"]]))


def admin_login_redirect(env: Env, next_url: str):
    make_user("matrix-editor", groups=("Editors",))
    response = Client().post(
        f"{reverse('admin:login')}?next={next_url}",
        {"username": "matrix-editor", "password": "correct horse battery", "next": next_url},
    )
    return response


def wxr_imported_with_author(env: Env, author: tuple[str, str]):
    """A WordPress export whose author has this (login, display name); an admin exists."""
    login, display = author
    admin = get_user_model().objects.create_superuser("admin", "root@example.org", "x" * 20)
    users_before = get_user_model().objects.count()
    document = (
        wxr([Post(1, "Imported by an impostor", author=login)])
        .replace(
            b"<![CDATA[jdoe]]></wp:author_login>", f"<![CDATA[{login}]]></wp:author_login>".encode()
        )
        .replace(b"<![CDATA[Jane Doe]]>", f"<![CDATA[{display}]]>".encode())
    )
    path = env.tmp_path / "export.xml"
    path.write_bytes(document)
    source = LicensedSourceFactory()
    run = import_wxr(path, source, "published", download_images=False)
    admin.refresh_from_db()
    article = Article.objects.filter(source=source).first()
    page = Client().get(article.get_absolute_url()).content.decode() if article else ""
    return run, admin, users_before, get_user_model().objects.count(), page


def publish_requested_by_an_importer(env: Env, route: str):
    """An Importer asks for "published" through one of the admin's import paths (H1)."""
    env.settings.SYNDICATION_ALLOWED_HOSTS = ["127.0.0.1"]
    env.server.routes["/feed"] = (200, RSS_TYPE, RSS_ONE)
    env.server.routes["/page"] = (200, {"Content-Type": "text/html"}, ARTICLE_PAGE)
    source = LicensedSourceFactory()
    client = Client()
    client.force_login(make_user("matrix-importer", groups=("Importers",)))
    if route == "import from url":
        response = client.post(
            reverse("admin:syndication_import_url"),
            {"url": env.server.url("/page"), "source": source.pk, "status": "published"},
            follow=True,
        )
    else:
        feed = Feed.objects.create(
            source=source, url=env.server.url("/feed"), default_status="published"
        )
        response = client.post(
            reverse("admin:syndication_feed_changelist"),
            {"action": "fetch_now", "_selected_action": [feed.pk]},
            follow=True,
        )
    notices = [str(message) for message in response.context["messages"]]
    return list(Article.objects.filter(source=source)), notices


def feed_parsed_as_served(env: Env, served: tuple[bytes, str]) -> Parsed:
    """parse_feed() of a document with the charset its server declared."""
    document, charset = served
    return without_network(
        env, lambda: parse_feed(document, url="https://origin.example/feed", charset=charset)
    )


def tag_pages_of_an_import(env: Env, categories: list[str]):
    """One published import carrying these categories: its page, tag pages and tag sitemap."""
    rendered = imported_and_rendered(env, {"categories": categories})
    client = Client()
    answers = {"sitemap": client.get("/sitemap-tags.xml").status_code}
    for tag in rendered.article.tags.all():
        answers[tag.name] = client.get(
            reverse("articles:tag", kwargs={"slug": tag.slug})
        ).status_code
    return rendered, answers


def requested(env: Env, address: str):
    PublishedArticleFactory()
    return Client().get(address).status_code


def uploaded_in_the_admin(env: Env, data: bytes):
    article = ArticleFactory()
    client = Client()
    client.force_login(superuser())
    data_for_form = article_form_data(
        article, new_lead_image=SimpleUploadedFile("picture.png", data, "image/png")
    )
    response = client.post(change_url(article), data_for_form)
    article.refresh_from_db()
    return response, article


def outbound_feeds_of(env: Env, name: str):
    """A live article whose source, author, tag and title carry `name`: its RSS and Atom feeds."""
    source = LicensedSourceFactory(name=name)
    article = PublishedArticleFactory(source=source, title=f"Title {name}")
    Byline.objects.create(article=article, author=AuthorFactory(name=name))
    article.tags.add(name)
    client = Client()
    return [
        client.get(address).content
        for address in (
            "/feeds/rss/",
            "/feeds/atom/",
            f"/feeds/sources/{source.slug}/rss/",
            f"/feeds/tags/{article.tags.get().slug}/atom/",
        )
    ]


def stored_name_of(env: Env, data: bytes):
    clean = clean_image(data)
    return clean, store_clean_image(clean, "lead")


def scheduling_pass_after_silence(env: Env, silence: datetime.timedelta):
    """A run still marked running whose worker went silent `silence` ago (killed)."""
    now = timezone.now()
    run = ImportRun.objects.create(
        kind=RunKind.FEED, source=LicensedSourceFactory(), started_at=now - silence,
        heartbeat_at=now - silence,
    )  # fmt: skip
    enqueue_due_feeds(now)
    run.refresh_from_db()
    return run


# ---------------------------------------------------------------------------------------------
# Expectations


def html_elements(html: str, selector: str = "*"):
    return lxml.html.fromstring(html).cssselect(selector) if html.strip() else []


def inert(html: str) -> list[str]:
    """What in an HTML fragment or page could run, load or navigate; [] when nothing."""
    problems = []
    for element in html_elements(f"<div>{html}</div>" if "<html" not in html else html):
        tag = element.tag if isinstance(element.tag, str) else ""
        if tag == "script":
            src = element.get("src") or ""
            safe = (
                element.get("type") in {"application/ld+json", "importmap"}
                or (src.startswith("/") and not src.startswith("//"))
                or (element.get("nonce") and not src)
            )
            if not safe:
                problems.append(f"script {src or element.text_content()[:40]!r}")
        if tag in {"iframe", "object", "embed", "svg", "math", "base", "frame", "applet", "set"}:
            problems.append(tag)
        if tag == "meta" and (element.get("http-equiv") or "").lower() == "refresh":
            problems.append("meta refresh")
        if tag == "style" and "@import" in element.text_content():
            problems.append("style @import")
        for attribute, value in element.attrib.items():
            name = attribute.lower()
            if name.startswith("on"):
                problems.append(f"{tag} {name}")
            if name in {"href", "src", "action", "formaction", "xlink:href", "data", "srcdoc"}:
                scheme = re.sub(r"[\s\x00-\x1f]", "", value).split(":", 1)[0].lower()
                if ":" in value and scheme in {"javascript", "data", "vbscript"}:
                    problems.append(f"{tag} {name}={value[:40]!r}")
            if name == "style" and re.search(r"expression|javascript|url\(", value, re.I):
                problems.append(f"{tag} style={value[:40]!r}")
    return problems


def admin_content(html: str) -> str:
    """The admin page without its own chrome (icon sprites, scripts): where content shows."""
    (main,) = html_elements(html, "#content-main")
    return lxml.html.tostring(main, encoding="unicode")


def clean_output(*forbidden: str):
    def expect(output: str):
        assert inert(output) == [], output
        for text in forbidden:
            assert text.lower() not in output.lower(), (text, output)

    return expect


def idempotent_and_inert(outputs: tuple[str, str]):
    once, twice = outputs
    assert once == twice
    assert inert(once) == []


def rendered_inert(*forbidden: str):
    """Stored as data; the public page and the admin page carry nothing live of it."""

    def expect(rendered: Rendered):
        assert rendered.article is not None, rendered.run.summary
        body = html_elements(rendered.page, '[data-block="body"]')
        assert len(body) == 1
        assert inert(rendered.page) == []
        assert inert(admin_content(rendered.admin)) == []
        for text in forbidden:
            assert text not in rendered.article.body
            assert text not in rendered.page
            assert text not in rendered.admin
        for script in html_elements(rendered.page, 'script[type="application/ld+json"]'):
            json.loads(script.text_content())

    return expect


def text_not_markup(marker: str):
    """A metadata field keeps the hostile text as text: escaped wherever it is printed."""

    def expect(rendered: Rendered):
        rendered_inert(marker)(rendered)
        for html in (rendered.page, rendered.admin):
            assert html_elements(html, 'img[src="x"]') == []

    return expect


def caption_on_the_picture(caption: str, *forbidden: str):
    """The caption is the picture's, as plain text, shown escaped under it; never the article."""

    def expect(rendered: Rendered):
        rendered_inert(*forbidden)(rendered)
        article = rendered.article
        assert article.body == "<p>The article's own text.</p>"
        assert article.lead_image.caption == caption
        (figcaption,) = html_elements(rendered.page, 'figure[data-block="lead_media"] figcaption')
        assert caption in figcaption.text_content()
        assert html_elements(rendered.page, 'img[src="x"]') == []

    return expect


def refused(kind: type[Exception] = UnsafeURL):
    def expect(outcome):
        assert isinstance(outcome, kind), outcome

    return expect


def refused_before_connecting(outcome: Fetched):
    assert isinstance(outcome.result, UnsafeURL), outcome.result
    assert outcome.connections == []


def connected_only_to_the_vetted_address(outcome: Fetched):
    assert isinstance(outcome.result, FetchError), outcome.result
    assert outcome.connections == [("93.184.216.34", 80)]


def form_error_no_article(outcome):
    response, articles = outcome
    assert response.status_code == 200
    errors = html_elements(response.content.decode(), ".errorlist")
    assert errors, "the editor sees why the URL was refused"
    assert articles == 0


def fetch_stopped(kind: type[Exception], because: str):
    """The fetch raised `kind` and its message says which limit stopped it."""

    def expect(outcome):
        assert isinstance(outcome, kind), outcome
        assert re.search(because, str(outcome)), outcome

    return expect


def feed_failed_and_articles_untouched(outcome):
    run, feed, articles = outcome
    assert run.status == "failed"
    assert run.error_message
    assert feed.consecutive_failures == 1 and feed.next_fetch_at is not None
    assert articles == []


def feed_imported(count: int):
    def expect(outcome):
        run, _feed, articles = outcome
        assert run.status == "succeeded", run.summary
        assert len(articles) == count

    return expect


def nothing_read_fetched_or_expanded(*expanded: str):
    """Refused, or parsed with no file read, no connection tried and no entity expanded."""

    def expect(outcome: Parsed):
        assert outcome.connections == []
        if isinstance(outcome.result, Exception):
            assert isinstance(outcome.result, ParseError), outcome.result
            return
        text = repr(outcome.result)
        assert PASSWD_MARKER not in text and "localhost" not in text.lower()
        for marker in expanded:
            assert marker not in text

    return expect


def parse_refused(outcome: Parsed):
    assert isinstance(outcome.result, ParseError), outcome.result
    assert outcome.connections == []


def text_content_escaped(outcome: Parsed):
    assert not isinstance(outcome.result, Exception), outcome.result
    (entry,) = outcome.result.items
    assert inert(entry.content_html) == []
    assert "&lt;b onmouseover" in entry.content_html


def one_article_after_both_runs(outcome):
    (first, second), articles = outcome
    assert first.status == second.status == "succeeded", (first.summary, second.summary)
    assert (first.created, second.created) == (1, 0), second.summary
    assert len(articles) == 1


def image_refused(outcome):
    assert isinstance(outcome, ImageRejected), outcome


def re_encoded_from_pixels(outcome):
    assert not isinstance(outcome, Exception), outcome
    assert b"<script" not in outcome.content
    assert b"Exif" not in outcome.content and b"GPS" not in outcome.content


def article_kept_without_image(outcome):
    run, record = outcome
    assert run.created == 1
    assert record.article is not None and not record.article.lead_image
    assert record.warnings and "lead image" in record.warnings[0]


def article_kept_with_server_named_image(outcome):
    run, record = outcome
    name = record.article.lead_image.file.name
    assert re.fullmatch(r"lead/[0-9a-f]{2}/[0-9a-f]{32}\.(jpg|png)", name), name


def server_generated_name(outcome):
    name, stored = outcome
    assert re.fullmatch(r"lead/[0-9a-f]{32}\.(jpg|jpeg|png|gif|webp|bin)", name), name
    media_root = Path(default_storage.location).resolve()
    assert media_root in stored.parents


def formula_neutralised(outcome: list[tuple[str, str]]):
    for value, cell in outcome:
        assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), cell
        assert cell in {value, "'" + value}


def safe_download_header(outcome):
    assert not isinstance(outcome, Exception), outcome
    header = outcome["Content-Disposition"]
    assert "\r" not in header and "\n" not in header
    assert re.fullmatch(r'attachment; filename="[A-Za-z0-9._-]+\.csv"', header), header
    assert not outcome.has_header("Set-Cookie") and not outcome.cookies


def stays_on_site(response):
    assert response.status_code == 302
    location = response["Location"]
    assert location == reverse("admin:index"), location  # H8: a page, not /accounts/profile/


def author_is_never_an_account(outcome):
    run, admin, users_before, users_after, page = outcome
    assert run.created == 1, run.summary
    assert users_after == users_before
    assert admin.is_superuser and admin.is_staff and admin.has_usable_password()
    author = Author.objects.get(articles__isnull=False)
    assert "<" not in author.name
    assert inert(page) == []


def empty_item_skipped_with_a_reason(outcome):
    run, _feed, articles = outcome
    assert [article.title for article in articles] == ["Story ok"]
    assert run.skipped + run.failed == 1
    assert run.failures.get().message


def one_article(outcome):
    run, _feed, articles = outcome
    assert len(articles) == 1, run.summary


def aware_dates_not_in_the_future(outcome):
    run, _feed, articles = outcome
    assert run.status == "succeeded", run.summary
    assert articles
    for article in articles:
        for value in (article.original_published_at, article.published_at):
            assert value is None or (timezone.is_aware(value) and value.year < 2900)


def bad_date_flagged(outcome):
    aware_dates_not_in_the_future(outcome)
    run, _feed, articles = outcome
    assert len(articles) == 2
    flagged = ImportedItem.objects.filter(run=run).exclude(date_problem="")
    assert flagged.count() == 1


def truncated_to_columns(outcome):
    run, _feed, articles = outcome
    assert len(articles) == 1, run.summary
    assert len(articles[0].title) <= 300
    assert articles[0].tags.count() <= 5000


def no_control_characters(outcome):
    run, _feed, articles = outcome
    assert len(articles) == 1, run.summary
    article = articles[0]
    for text in (article.title, article.body, article.slug):
        assert "\x00" not in text and "\u202e" not in text


def flattened_to_text(output: str):
    """Nesting past MAX_NESTING_DEPTH is reduced to its text before any HTML parser sees it."""
    assert inert(output) == []
    assert output == "<p>x</p>"


def cut_to_the_size_limit(output: str):
    assert inert(output) == []
    # The input is cut at the limit before it is parsed; closing its open elements adds a tag.
    assert 0 < len(output.encode()) <= MAX_HTML_BYTES + len("</p>")


def in_review_and_told_why(outcome):
    articles, notices = outcome
    assert articles and {article.status for article in articles} == {"review"}
    assert any("may not publish" in notice for notice in notices), notices


def every_tag_page_answers(outcome):
    rendered, answers = outcome
    rendered_inert()(rendered)
    assert set(answers.values()) == {200}, answers
    assert len(answers) > 1


def bad_request(status: int):
    assert status == 400


def form_error_no_server_error(outcome):
    response, article = outcome
    assert response.status_code == 200
    assert html_elements(response.content.decode(), ".errorlist")
    assert not article.lead_image


def no_live_markup_in_feeds(documents: list[bytes]):
    for document in documents:
        for element in lxml.etree.fromstring(document).iter():
            if not isinstance(element.tag, str):
                continue
            local = element.tag.rsplit("}", 1)[-1]
            if local in {"description", "content", "summary"} and element.getparent().tag.rsplit(
                "}", 1
            )[-1] in {"item", "entry"}:
                assert inert(element.text or "") == [], element.text
                continue
            for text in [element.text or "", *element.attrib.values()]:
                assert "<" not in text, (element.tag, text)


def name_not_computable_from_the_picture(outcome):
    clean, name = outcome
    assert hashlib.sha256(clean.content).hexdigest()[:32] not in name


def closed_as_failed(run):
    assert run.status == "failed" and run.error_message


def still_running(run):
    assert run.status == "running"


# ---------------------------------------------------------------------------------------------
# Documents and bytes the cases use


XXE_FILE = (
    b'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
    b"<rss version='2.0'><channel><title>t</title><item><title>&x;</title>"
    b"<link>https://origin.example/a</link></item></channel></rss>"
)
XXE_NETWORK = XXE_FILE.replace(b"file:///etc/passwd", b"http://127.0.0.1:9/")
BILLION_LAUGHS = (
    b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    + b"".join(
        b'<!ENTITY lol%d "%s">' % (n, (b"&lol%d;" % (n - 1) if n > 1 else b"&lol;") * 10)
        for n in range(1, 10)
    )
    + b"]><rss version='2.0'><channel><title>&lol9;</title><item><title>&lol9;</title>"
    b"</item></channel></rss>"
)
QUADRATIC = (
    b'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY a "'
    + b"A" * 50_000
    + b'">]><rss version="2.0"><channel><title>t</title><item><title>'
    + b"&a;" * 10_000
    + b"</title></item></channel></rss>"
)
DTD_RETRIEVAL = (
    b'<?xml version="1.0"?><!DOCTYPE rss PUBLIC "-//Netscape//DTD RSS 0.91//EN" '
    b'"http://127.0.0.1:9/rss-0.91.dtd"><rss version="0.91"><channel><title>t</title>'
    b"<item><title>fine</title><link>https://origin.example/a</link></item></channel></rss>"
)
DTD_FILE = DTD_RETRIEVAL.replace(b"http://127.0.0.1:9/rss-0.91.dtd", b"file:///etc/hosts")
WXR_XXE = (
    wxr([Post(1, "&x;")])
    .replace(
        b'<?xml version="1.0" encoding="UTF-8"?>\n',
        b'<?xml version="1.0" encoding="UTF-8"?>\n'
        b'<!DOCTYPE rss [<!ENTITY x SYSTEM "file:///etc/passwd">]>',
    )
    .replace(b"<title>&amp;x;</title>", b"<title>&x;</title>")
)
WXR_BOMB = (
    wxr([Post(1, "&lol9;")])
    .replace(
        b'<?xml version="1.0" encoding="UTF-8"?>\n',
        BILLION_LAUGHS.split(b"<rss")[0],
    )
    .replace(b"<title>&amp;lol9;</title>", b"<title>&lol9;</title>")
)
WXR_XINCLUDE = wxr(
    [Post(1, "XInclude", content='<xi:include href="file:///etc/passwd" parse="text"/>')]
).replace(
    b"<rss ",
    b'<?xml-stylesheet href="http://127.0.0.1:9/x.xsl"?><rss '
    b'xmlns:xi="http://www.w3.org/2001/XInclude" ',
)
WXR_DEEP = wxr([Post(1, "deep")]).replace(
    b"<wp:post_type>post</wp:post_type>",
    b"<wp:post_type>post</wp:post_type>" + b"<x>" * 10_000 + b"</x>" * 10_000,
)


def gzip_bomb() -> bytes:
    buffer = io.BytesIO()
    with gzip.GzipFile(fileobj=buffer, mode="wb", compresslevel=9) as packed:
        chunk = b"\0" * (1024 * 1024)
        for _ in range(64):
            packed.write(chunk)
    return buffer.getvalue()


def jpeg_with_exif() -> bytes:
    image = Image.new("RGB", (40, 30), "#336699")
    exif = Image.Exif()
    exif[0x010E] = "<script>alert(1)</script>"  # ImageDescription
    exif[0x8825] = {1: "N", 2: (48.0, 51.0, 24.0)}  # GPS
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", exif=exif.tobytes())
    return buffer.getvalue()


def zip_of(name: str, data: bytes) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(name, data)
    return buffer.getvalue()


def gif_with_huge_screen() -> bytes:
    header = b"GIF89a" + struct.pack("<HH", 65535, 65535) + b"\x00\x00\x00"
    return header + b",\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;"


RSS_ONE = rss(
    "One", "https://origin.example/",
    [Item(guid="g1", title="Fine", link="https://origin.example/1", body_html="<p>x</p>")],
)  # fmt: skip
ATOM_TEXT_CONTENT = (
    b'<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">'
    b"<title>t</title><id>urn:x</id><updated>2024-05-01T00:00:00Z</updated><entry>"
    b"<id>urn:x:1</id><title>Plain</title><link href='https://origin.example/a11'/>"
    b"<updated>2024-05-01T00:00:00Z</updated><content type='text'>&lt;b onmouseover=alert(1)&gt;"
    b"bold?&lt;/b&gt; &lt;script&gt;alert(2)&lt;/script&gt;</content></entry></feed>"
)
EPS = b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 10 10\nshowpage\n"
ICO = b"\x00\x00\x01\x00\x01\x00\x10\x10\x00\x00\x01\x00\x20\x00" + b"\x00" * 64
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
SVG_IMAGE = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'


def feed_of(*items: Item, title: str = "Feed") -> bytes:
    return rss(title, "https://origin.example/", list(items))


def item(guid: str = "g", **fields) -> Item:
    defaults = {
        "title": f"Story {guid}",
        "link": f"https://origin.example/{guid}",
        "body_html": "<p>Body.</p>",
    }
    defaults.update(fields)
    return Item(guid=guid, **defaults)


RSS_TYPE = {"Content-Type": "application/rss+xml"}


# H2: a document type in an encoding a byte scanner does not read. "b" expands to 10,000 "x".
_EXPANDING = (
    '<!DOCTYPE rss [<!ENTITY a "' + "x" * 100 + '"><!ENTITY b "' + "&a;" * 100 + '">]>'
    "<rss version='2.0'><channel><title>t</title><item><title>&b;</title>"
    "<link>https://origin.example/a</link></item></channel></rss>"
)
UTF7_DOCTYPE = b'<?xml version="1.0" encoding="utf-7"?>' + _EXPANDING.encode().replace(
    b"<", b"+ADw-"
)
ASCII_AS_UTF7 = b'<?xml version="1.0"?>' + _EXPANDING.encode().replace(b"<!", b"+ADw-!")
EBCDIC_DOCTYPE = ('<?xml version="1.0" encoding="cp037"?>' + _EXPANDING).encode("cp037")
WXR_UTF7_DOCTYPE = (
    wxr([Post(1, "&b;")])
    .replace(b'encoding="UTF-8"?>\n', b'encoding="UTF-7"?>\n' + _EXPANDING.split("<rss")[0]
             .encode().replace(b"<", b"+ADw-"))
    .replace(b"<title>&amp;b;</title>", b"<title>&b;</title>")
)  # fmt: skip
JSON_FEED_NAN = (
    b'{"version": "https://jsonfeed.org/version/1.1", "title": "t", "items": [{"id": "1",'
    b' "url": "https://origin.example/1", "title": "Tides", "content_html": "<p>x</p>",'
    b' "_ext": {"ratio": NaN, "peak": Infinity, "floor": -Infinity, "huge": 1e400}}]}'
)


def strip(width: int, height: int, image_format: str = "PNG") -> bytes:
    buffer = io.BytesIO()
    Image.new("P" if image_format == "GIF" else "RGB", (width, height)).save(
        buffer, format=image_format
    )
    return buffer.getvalue()


# ---------------------------------------------------------------------------------------------
# The table


CASES = [
    # A. Malicious HTML: through the sanitizer, then through a real import and the public page.
    Case("A1", "script element", sanitized, "<p>x<script>alert(1)</script></p>",
         clean_output("<script", "alert(1)")),
    Case("A1", "script element", imported_and_rendered,
         {"body": "<p>x<script>alert('A1')</script></p>"}, rendered_inert("alert('A1')")),
    Case("A2", "event handler", sanitized, '<img src="a.png" onerror=alert(1)><body onload=x()>',
         clean_output("onerror", "onload")),
    Case("A2", "event handler", imported_and_rendered,
         {"body": "<p>x</p><img src=x onerror=alert('A2')><div onmouseover=alert(2)>y</div>"},
         rendered_inert("onerror", "onmouseover")),
    Case("A3", "javascript url variants", sanitized,
         '<a href="javascript:alert(1)">a</a><a href="JaVaScRiPt:alert(1)">b</a>'
         '<a href="jav&#x09;ascript:alert(1)">c</a><a href="javascrip%0at:alert(1)">d</a>',
         clean_output("javascript:")),
    Case("A3", "javascript url variants", imported_and_rendered,
         {"body": '<a href="  JaVaScRiPt:alert(3)">x</a><a href="jav&#x09;ascript:alert(3)">y</a>'},
         rendered_inert("alert(3)")),
    Case("A4", "data urls", sanitized,
         '<a href="data:text/html;base64,PHNjcmlwdD4=">a</a><img src="data:image/svg+xml,<svg/>">',
         clean_output("data:")),
    Case("A5", "svg animate", sanitized,
         '<svg><a><set attributeName=href to=javascript:alert(1) /><text>x</text></a></svg>',
         clean_output("<svg", "<set", "javascript")),
    Case("A6", "mathml mxss", sanitized,
         '<math><annotation-xml encoding="text/html"><style><img src=x onerror=alert(1)>'
         "</style></annotation-xml></math>", clean_output("<math", "onerror")),
    Case("A7", "noscript mxss", sanitized_twice,
         '<noscript><p title="</noscript><img src=x onerror=alert(1)>"></noscript>',
         idempotent_and_inert),
    Case("A8", "css", sanitized,
         '<p style="background:url(javascript:alert(1))">a</p><p style="x:expression(alert(1))">b'
         "</p><style>@import 'https://evil.example/x.css';</style>",
         clean_output("style", "expression", "@import")),
    Case("A9", "embedding forms base and refresh", sanitized,
         '<iframe src="https://evil.example"></iframe><object data=x></object><embed src=x>'
         '<form action="https://evil.example"><button formaction=x>b</button></form>'
         '<base href="https://evil.example/"><meta http-equiv="refresh" content="0;url=x">',
         clean_output("<iframe", "<object", "<embed", "<form", "formaction", "<base", "<meta")),
    Case("A9", "embedding forms base and refresh", imported_and_rendered,
         {"body": '<p>a</p><iframe src="https://evil.example/"></iframe><base href="https://e.'
                  'example/"><meta http-equiv="refresh" content="0;url=https://evil.example/">'},
         rendered_inert("evil.example")),
    Case("A10", "metadata fields carry markup", imported_and_rendered,
         {"title": "\"><img src=x onerror=alert('A10')>",
          "author": "<img src=x onerror=alert(1)>Eve",
          "categories": ["<img src=x onerror=alert(1)>"], "feed_title": "<script>x</script>",
          "summary": "<img src=x onerror=alert('dek')>"},
         text_not_markup("onerror=alert('A10')")),
    Case("A10", "title closing the json-ld block", imported_and_rendered,
         {"title": "</script><script>alert('ld')</script>"}, rendered_inert("<script>alert('ld')")),
    Case("A11", "text content that looks like markup", parsed_feed, ATOM_TEXT_CONTENT,
         text_content_escaped),
    Case("A12", "entry link with javascript url", imported_and_rendered,
         {"link": "javascript:alert(1)"}, rendered_inert("javascript:alert(1)")),
    Case("A13", "relative links", sanitized, '<a href="/admin/" target="_blank">a</a>',
         lambda out: (clean_output()(out), _check_a13(out))),
    Case("A14", "deep nesting", sanitized, "<div>" * 100_000 + "x" + "</div>" * 100_000,
         flattened_to_text),
    Case("A14", "ten megabyte body", sanitized, "<p>" + "word " * 2_000_000 + "</p>",
         cut_to_the_size_limit),
    # B. SSRF: the URL guard, the fetcher (fake DNS, no connection) and the admin's form.
    *[Case(row, name, validated, url, refused())
      for row, name, url in [
          ("B1", "loopback", "http://127.0.0.1:8000/admin/"),
          ("B1", "localhost name", "http://LOCALHOST./"),
          ("B2", "ipv6 loopback", "http://[::1]/"),
          ("B2", "ipv4 mapped ipv6", "http://[::ffff:127.0.0.1]/"),
          ("B3", "cloud metadata", "http://169.254.169.254/latest/meta-data/"),
          ("B3", "ipv6 metadata", "http://[fd00:ec2::254]/"),
          ("B4", "unspecified", "http://0.0.0.0/"),
          ("B5", "decimal ipv4", "http://2130706433/"),
          ("B5", "octal ipv4", "http://0177.0.0.1/"),
          ("B5", "hex short ipv4", "http://0x7f.1/"),
          ("B5", "short ipv4", "http://127.1/"),
          ("B6", "private ten", "http://10.1.2.3/"),
          ("B6", "shared address space", "http://100.64.0.1/"),
          ("B6", "nat64 metadata", "http://[64:ff9b::a9fe:a9fe]/"),
          ("B6", "ipv6 link local", "http://[fe80::1]/"),
          ("B10", "file scheme", "file:///etc/passwd"),
          ("B10", "gopher scheme", "gopher://example.org/"),
          ("B10", "leading space file", " file:///etc/passwd"),
          ("B10", "tab file", "\tfile:///etc/passwd"),
          ("B11", "backslash userinfo", "http://evil.com\\@127.0.0.1/"),
          ("B11", "credentials", "http://u:p@origin.example/"),
      ]],  # fmt: skip
    Case("B7", "dns answers a private address", fetched, "http://feed.attacker.test/feed",
         refused_before_connecting),
    Case("B8", "dns rebinding", fetched, "http://rebind.example/feed",
         connected_only_to_the_vetted_address),
    Case("B11", "fragment hiding the host", fetched, "http://127.0.0.1#@evil.com/",
         refused_before_connecting),
    Case("B12", "port other than 80 and 443", fetched, "http://public.example:6379/",
         refused_before_connecting),
    Case("B13", "proxy in the environment is not used", fetched_through_proxy_settings,
         "http://public.example/feed", connected_only_to_the_vetted_address),
    Case("B13", "proxy in the environment cannot carry a refused url",
         fetched_through_proxy_settings, "http://169.254.169.254/latest/",
         refused_before_connecting),
    Case("B1", "loopback in import from url", imported_from_url_in_the_admin,
         "http://127.0.0.1:8000/admin/", form_error_no_article),
    Case("B3", "metadata in import from url", imported_from_url_in_the_admin,
         "http://169.254.169.254/latest/meta-data/", form_error_no_article),
    Case("B9", "redirect to metadata", served, redirect("http://169.254.169.254/latest/"),
         fetch_stopped(UnsafeURL, r"^Refused 'http://169\.254\.169\.254/")),
    Case("B9", "redirect to file", served, redirect("file:///etc/passwd"),
         fetch_stopped(UnsafeURL, "^Refused 'file:")),
    Case("B14", "lead image at a private address", imported_with_lead_image,
         "http://10.0.0.1/x.png", article_kept_without_image),
    Case("B14", "body image at a private address", imported_and_rendered,
         {"body": '<p>x</p><img src="http://10.0.0.1/x.png" alt="">'},
         lambda rendered: _assert_no_private_image(rendered)),
    # C. XML: entities, DTDs, XInclude and depth, in feeds and in WordPress exports.
    Case("C1", "xxe file in a feed", parsed_feed, XXE_FILE, nothing_read_fetched_or_expanded()),
    Case("C1", "xxe file in wxr", wxr_entries, WXR_XXE, nothing_read_fetched_or_expanded()),
    Case("C2", "xxe network in a feed", parsed_feed, XXE_NETWORK,
         nothing_read_fetched_or_expanded()),
    Case("C3", "billion laughs in a feed", parsed_feed, BILLION_LAUGHS,
         nothing_read_fetched_or_expanded("lollol")),
    Case("C3", "billion laughs in wxr", wxr_entries, WXR_BOMB, parse_refused),
    Case("C4", "quadratic blowup in a feed", parsed_feed, QUADRATIC,
         nothing_read_fetched_or_expanded("A" * 1000)),
    Case("C5", "dtd retrieval over http", parsed_feed, DTD_RETRIEVAL,
         nothing_read_fetched_or_expanded()),
    Case("C5", "dtd retrieval from a file", parsed_feed, DTD_FILE,
         nothing_read_fetched_or_expanded()),
    Case("C6", "xinclude and stylesheet pi in wxr", wxr_entries, WXR_XINCLUDE,
         nothing_read_fetched_or_expanded()),
    Case("C7", "ten thousand levels of nesting in wxr", wxr_entries, WXR_DEEP, parse_refused),
    # D. Oversized, slow or odd responses from a local server.
    Case("D1", "huge declared size", served,
         Response(200, {"Content-Length": "10737418240"}, [b"x" * 1024]),
         fetch_stopped(ResponseTooLarge, "announced 10,737,418,240 bytes")),
    Case("D2", "endless chunked stream", served, Response(body=endless()),
         fetch_stopped(ResponseTooLarge, "larger than the limit")),
    # A minute of body, a byte every half second: only the 2-second deadline can stop it.
    Case("D3", "slowloris", served, Response(body=[b"x"] * 120, delay=0.5),
         fetch_stopped(FetchTimeout, "2 seconds in total")),
    Case("D4", "gzip bomb", served, Response(200, {"Content-Encoding": "gzip"}, gzip_bomb()),
         fetch_stopped(ResponseTooLarge, "decompresses to more than the limit")),
    Case("D4", "stacked encodings", served,
         Response(200, {"Content-Encoding": "gzip, gzip, gzip, gzip"}, gzip_bomb()),
         fetch_stopped(FetchError, "compressed the response 4 times over")),
    Case("D5", "redirect loop", served, redirect("/doc"),
         fetch_stopped(FetchError, "Gave up after [0-9]+ redirects")),
    Case("D6", "html instead of a feed", feed_import_of,
         Response(200, {"Content-Type": "text/html"}, b"<html><body>Checking your browser"
                  b"</body></html>"), feed_failed_and_articles_untouched),
    Case("D6", "server error", feed_import_of, Response(503, {}, b"down"),
         feed_failed_and_articles_untouched),
    Case("D7", "rss served as octet stream", feed_import_of,
         Response(200, {"Content-Type": "application/octet-stream"}, RSS_ONE), feed_imported(1)),
    Case("D8", "charset conflict", feed_import_of,
         Response(200, {"Content-Type": "application/rss+xml; charset=iso-8859-1"},
                  RSS_ONE.replace(b"Fine", "Caf\u00e9 \u201cquoted\u201d".encode("cp1252"))),
         feed_imported(1)),
    Case("D9", "control characters", feed_import_of,
         Response(200, RSS_TYPE, feed_of(item(
             "nul", title="Nul\x00 and \u202eoverride", body_html="<p>a\x00b\u202ec</p>")
         )), no_control_characters),  # fmt: skip
    Case("D10", "json feed items not a list", parsed_feed,
         b'{"version": "https://jsonfeed.org/version/1.1", "title": "t", "items": {}}',
         lambda outcome: _json_feed_degrades(outcome)),
    Case("D10", "json feed title as a number", parsed_feed,
         b'{"version": "https://jsonfeed.org/version/1.1", "title": "t", "items": '
         b'[{"id": "1", "title": 5, "url": "https://origin.example/1"}, {"id": 2}]}',
         lambda outcome: _json_feed_degrades(outcome)),
    # E. Data quality.
    Case("E1", "bad and naive dates", feed_import_of,
         Response(200, RSS_TYPE, feed_of(item("d1"), item("d2"))
                  .replace(b"<pubDate>", b"<pubDate>Mon, 32 Foo 2024 ", 1)),
         bad_date_flagged),
    Case("E2", "year 2999", feed_import_of,
         Response(200, RSS_TYPE, re.sub(rb"<pubDate>[^<]*", b"<pubDate>Fri, 01 Jan 2999 "
                                        b"00:00:00 GMT", feed_of(item("future")))),
         aware_dates_not_in_the_future),
    Case("E3", "duplicate guid in one document", feed_import_of,
         Response(200, RSS_TYPE, feed_of(item("same"), item("same", title="Again"))),
         one_article),
    Case("E4", "items without a guid", feed_imported_twice,
         (feed_of(item("", link="https://origin.example/e4")),) * 2, one_article_after_both_runs),
    Case("E5", "one story under several addresses", feed_imported_twice,
         (feed_of(item("", link="http://origin.example/e5/")),
          feed_of(item("", link="https://origin.example/e5?utm_source=rss"))),
         one_article_after_both_runs),
    Case("E6", "empty item", feed_import_of,
         Response(200, RSS_TYPE, feed_of(item("ok")).replace(b"</channel>", b"<item/></channel>")),
         empty_item_skipped_with_a_reason),
    Case("E7", "oversized fields", feed_import_of,
         Response(200, RSS_TYPE, feed_of(item("big", title="T" * 10_000, categories=[
             f"category {n}" for n in range(5000)]))), truncated_to_columns),  # fmt: skip
    # F. Images: image intake directly, and a lead image fetched during an import.
    Case("F1", "pixel bomb", image_cleaned, png_declaring(30_000, 30_000), image_refused),
    Case("F1", "pixel bomb as a lead image", imported_with_lead_image,
         Response(200, {"Content-Type": "image/png"}, png_declaring(30_000, 30_000)),
         article_kept_without_image),
    Case("F2", "gif with a huge logical screen", image_cleaned, gif_with_huge_screen(),
         image_refused),
    Case("F3", "eps named jpg", image_cleaned, EPS, image_refused),
    Case("F3", "ico", image_cleaned, ICO, image_refused),
    Case("F3", "pdf", image_cleaned, PDF, image_refused),
    Case("F4", "truncated jpeg", image_cleaned, jpeg_with_exif()[:300], image_refused),
    Case("F5", "png html polyglot", image_cleaned, png(20, 20) + b"<script>alert(1)</script>",
         re_encoded_from_pixels),
    Case("F6", "svg image", image_cleaned, SVG_IMAGE, image_refused),
    Case("F6", "svg as a lead image", imported_with_lead_image,
         Response(200, {"Content-Type": "image/svg+xml"}, SVG_IMAGE), article_kept_without_image),
    Case("F7", "hostile exif and gps", image_cleaned, jpeg_with_exif(), re_encoded_from_pixels),
    Case("F8", "html served as image jpeg", imported_with_lead_image,
         Response(200, {"Content-Type": "image/jpeg"}, b"<html><script>alert(1)</script>"),
         article_kept_without_image),
    # G. File names, exports, redirects and accounts.
    *[Case("G1", name, upload_named, filename, server_generated_name)
      for name, filename in [
          ("parent directories", "../../settings.py"),
          ("windows parent directories", "..\\..\\x.jpg"),
          ("absolute path", "/etc/cron.d/x.png"),
          ("three hundred characters", "a" * 300 + ".jpg"),
          ("nul byte", "photo\x00.php.jpg"),
      ]],  # fmt: skip
    Case("G2", "remote file name in content disposition", imported_with_lead_image,
         Response(200, {"Content-Type": "image/png",
                        "Content-Disposition": 'attachment; filename="../../x.php"'}, png(30, 20)),
         article_kept_with_server_named_image),
    Case("G3", "gzipped export", wxr_entries, gzip.compress(wxr([Post(1, "Packed")])),
         parse_refused),
    Case("G3", "zipped export with a traversing entry", wxr_entries,
         zip_of("../../settings.py", wxr([Post(1, "Packed")])), parse_refused),
    Case("G4", "wxr author named like the admin", wxr_imported_with_author,
         ("admin", "<b onmouseover=alert(1)>Site Admin</b>"), author_is_never_an_account),
    Case("G5", "csv formula", csv_exported,
         ["=HYPERLINK(\"https://evil.example\")", "+1+1", "-2+3", "@SUM(A1)", "\tTab",
          "\rReturn", "plain"], formula_neutralised),
    Case("G6", "header injection in a download name", downloaded_as,
         "Report\r\nSet-Cookie: session=stolen\"; x=\"", safe_download_header),
    *[Case("G7", name, admin_login_redirect, target, stays_on_site)
      for name, target in [
          ("protocol relative", "//evil.com"),
          ("backslashes", "http:\\\\\\evil.com"),
          ("scheme without slashes", "https:evil.com"),
      ]],  # fmt: skip
    # I. Import fidelity (issue 11): text that belongs to a picture stays on the picture.
    Case("I1", "markup in a media caption", pictured_imported_and_rendered,
         '<media:description type="html">&lt;img src=x onerror=alert(\'I1\')&gt;The pier at '
         "dusk</media:description><media:credit>&lt;b&gt;Ola&lt;/b&gt;</media:credit>",
         caption_on_the_picture("The pier at dusk", "onerror")),
    Case("I1", "a plain caption that looks like markup", pictured_imported_and_rendered,
         "<media:description>&lt;script&gt;alert('I1')&lt;/script&gt; at dusk"
         "</media:description>",
         caption_on_the_picture("<script>alert('I1')</script> at dusk")),
    Case("I2", "hostile figure caption in a body", sanitized,
         '<figure><img src="a.png" alt="x" onerror=alert(1)><figcaption onclick=alert(2)>'
         "<script>alert(3)</script>The pier</figcaption></figure>",
         lambda output: (
             clean_output("onerror", "onclick", "<script", "alert(3)")(output),
             _assert_figure_kept(output),
         )),
    # H. Found by the hardening sweep of issue 11.
    *[Case("H1", f"importer asks {route} to publish", publish_requested_by_an_importer, route,
           in_review_and_told_why)
      for route in ("import from url", "a publishing feed fetched now")],
    Case("H2", "utf-7 doctype in a feed", parsed_feed, UTF7_DOCTYPE, parse_refused),
    Case("H2", "ascii served as utf-7", feed_parsed_as_served, (ASCII_AS_UTF7, "utf-7"),
         parse_refused),
    Case("H2", "ebcdic doctype in a feed", parsed_feed, EBCDIC_DOCTYPE, parse_refused),
    Case("H2", "utf-7 doctype in wxr", wxr_entries, WXR_UTF7_DOCTYPE, parse_refused),
    Case("H3", "categories without letters", tag_pages_of_an_import,
         ["!!!", "\U0001f980", "<b></b>", "\u2014 \u2014"], every_tag_page_answers),
    *[Case("H4", name, requested, address, bad_request)
      for name, address in [
          ("nul in a 404", "/nowhere%00/"),
          ("nul in a tag address", "/tags/a%00b/"),
          ("nul in a search", "/search/?q=harbour%00"),
          ("nul in a wordpress address", "/?p=12%00"),
      ]],
    Case("H5", "ten thousand by one gif as a lead image", imported_with_lead_image,
         Response(200, {"Content-Type": "image/gif"}, strip(10799, 1, "GIF")),
         article_kept_without_image),
    Case("H5", "twelve hundred by one png", image_cleaned, strip(1200, 1), image_refused),
    Case("H5", "twelve hundred by one upload", uploaded_in_the_admin, strip(1200, 1),
         form_error_no_server_error),
    Case("H6", "markup in a source feed title", outbound_feeds_of, "<svg onload=alert(1)>Wire",
         no_live_markup_in_feeds),
    Case("H7", "nan and infinity in a json feed", feed_import_of,
         Response(200, {"Content-Type": "application/feed+json"}, JSON_FEED_NAN),
         feed_imported(1)),
    Case("H8", "lead image name from the picture", stored_name_of, strip(40, 30),
         name_not_computable_from_the_picture),
    Case("H8", "killed worker silent for twenty minutes", scheduling_pass_after_silence,
         datetime.timedelta(minutes=20), closed_as_failed),
    Case("H8", "long run still beating", scheduling_pass_after_silence,
         datetime.timedelta(minutes=5), still_running),
    Case("H8", "login without next", admin_login_redirect, "", stays_on_site),
]  # fmt: skip


def _check_a13(output: str):
    (link,) = html_elements(output, "a")
    assert link.get("href") == "https://origin.example/admin/"  # resolved against the entry
    assert link.get("rel") == "noopener noreferrer"
    assert link.get("target") is None
    without_base = clean_html('<a href="/admin/">a</a>')
    assert html_elements(without_base, "a")[0].get("href") is None  # nothing to resolve: dropped


def _assert_figure_kept(output: str):
    (figure,) = html_elements(output, "figure")
    assert figure.cssselect("img")[0].get("alt") == "x"
    assert figure.cssselect("figcaption")[0].text_content() == "The pier"


def _assert_no_private_image(rendered: Rendered):
    """Refused by the guard, the image survives only as a link: nothing loads by itself."""
    assert not re.search(r"<img\b[^>]*10\.0\.0\.1", rendered.article.body + rendered.page)
    assert '<a href="http://10.0.0.1/x.png"' in rendered.article.body


def _json_feed_degrades(outcome: Parsed):
    result = outcome.result
    if isinstance(result, Exception):
        assert isinstance(result, ParseError), result
        return
    for parsed in result.items:
        assert isinstance(parsed.title, str)


@pytest.fixture
def env(settings, monkeypatch, tmp_path):
    settings.SYNDICATION_ALLOWED_HOSTS = []
    settings.SYNDICATION_ALLOWED_PORTS = [80, 443]
    settings.SYNDICATION_DEADLINE = 3
    settings.SYNDICATION_CONNECT_TIMEOUT = 1
    settings.SYNDICATION_READ_TIMEOUT = 1
    with LocalServer() as server:
        yield Env(settings, monkeypatch, tmp_path, server)


@pytest.mark.parametrize(
    "case",
    [
        pytest.param(
            case,
            id=case.id,
            marks=[pytest.mark.xfail(strict=True, reason=case.xfail)] if case.xfail else [],
        )
        for case in CASES
    ],
)
def test_hostile_input_is_handled_safely(case: Case, env: Env):
    outcome = case.through(env, case.given)
    case.expect(outcome)


# ---------------------------------------------------------------------------------------------
# The catalogue (docs/hostile-inputs.md) and this table name the same rows

CATALOGUE = Path(__file__).resolve().parents[1] / "docs" / "hostile-inputs.md"
CATALOGUE_ROW = re.compile(r"^\|\s*([A-Z][0-9]+)\s*\|(.*)\|\s*$")
NODE_ID = re.compile(r"`(tests/[\w/]+\.py)::([\w:]+)`")


def catalogue_rows() -> dict[str, str]:
    """Each row's ID and its last column, "Proved by"."""
    rows: dict[str, str] = {}
    for line in CATALOGUE.read_text(encoding="utf-8").splitlines():
        if match := CATALOGUE_ROW.match(line):
            row, cells = match.groups()
            assert row not in rows, f"{row} is in the catalogue twice"
            rows[row] = cells.rsplit("|", 1)[-1].strip()
    return rows


def test_the_catalogue_and_the_matrix_name_the_same_rows():
    catalogue = catalogue_rows()
    in_matrix = {case.row for case in CASES}
    says_matrix = {row for row, proof in catalogue.items() if re.search(r"\bmatrix\b", proof)}

    assert in_matrix - catalogue.keys() == set(), "cases cite rows the catalogue does not have"
    assert says_matrix - in_matrix == set(), "rows say `matrix` but no case proves them"
    assert in_matrix - says_matrix == set(), "rows have cases but do not say `matrix`"
    assert {
        row
        for row, proof in catalogue.items()
        if row not in says_matrix and not NODE_ID.search(proof)
    } == set(), "rows proved by nothing"


def test_every_test_the_catalogue_names_exists():
    named = [
        (row, *found) for row, proof in catalogue_rows().items() for found in NODE_ID.findall(proof)
    ]
    assert named
    for row, path, name in named:
        target = importlib.import_module(path.removesuffix(".py").replace("/", "."))
        for part in name.split("::"):
            target = getattr(target, part, None)
            assert target is not None, f"{row} names {path}::{name}, which does not exist"
        assert name.rsplit("::", 1)[-1].startswith("test_") and callable(target), (row, name)


def test_bleach_corpus_inputs_come_out_inert():
    """A15: every input of mozilla/bleach's test data, through our sanitizer."""
    folder = CORPUS / "xss" / "bleach"
    if not folder.is_dir():
        pytest.skip(f"corpus not found at {folder} (shared/corpus is beside the repository)")
    inputs = [path.read_text().split("\n--\n")[0] for path in sorted(folder.rglob("*.test"))]
    assert len(inputs) >= 20
    for html in inputs:
        output = clean_html(html)
        assert inert(output) == [], (html, output)
        assert clean_html(output) == output


def test_payload_list_comes_out_inert():
    """A15, wider: the 6,000-line payloadbox XSS list, through the sanitizer."""
    path = CORPUS / "xss" / "payloadbox" / "Intruder" / "xss-payload-list.txt"
    if not path.is_file():
        pytest.skip(f"corpus not found at {path} (shared/corpus is beside the repository)")
    payloads = [line for line in path.read_text(errors="replace").splitlines() if line.strip()]
    for payload in payloads:
        output = clean_html(payload, base_url="https://origin.example/")
        assert inert(output) == [], (payload, output)
