"""The import commands: arguments, the summary table, and one-line errors on bad input."""

import re
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from articles.models import Article, ArticleStatus, Redirect, RightsBasis, Source
from syndication.models import Feed, ImportRun, RunStatus, Trigger
from tests.factories import LicensedSourceFactory
from tests.feedbuilders import Post, rss, story, wxr
from tests.httpserver import LocalServer

pytestmark = pytest.mark.django_db

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"
THEME_UNIT_TEST = CORPUS / "wxr" / "theme-test-data" / "themeunittestdata.wordpress.xml"


@pytest.fixture
def server(settings):
    settings.SYNDICATION_ALLOWED_HOSTS = ["127.0.0.1"]
    with LocalServer() as running:
        yield running


def run_command(*args, **options) -> tuple[str, str]:
    stdout, stderr = StringIO(), StringIO()
    call_command(*args, stdout=stdout, stderr=stderr, **options)
    return stdout.getvalue(), stderr.getvalue()


def table_row(output: str, label: str) -> list[str]:
    """The cells of the summary-table row that mentions `label` (a run id, a name, "total")."""
    for line in output.splitlines():
        if label in line and (line.startswith("#") or line.strip().startswith("total")):
            return re.split(r"\s{2,}", line.strip())
    raise AssertionError(f"no row for {label!r} in:\n{output}")


@pytest.fixture
def feed_file(tmp_path) -> Path:
    path = tmp_path / "courier.xml"
    path.write_bytes(rss([story(1), story(2), story(3)], title="Harbour Courier"))
    return path


# ---------------------------------------------------------------------------------------------
# import_feed


def test_import_feed_from_a_file_creates_the_source_and_prints_a_summary(feed_file):
    output, _ = run_command("import_feed", str(feed_file), "--source", "courier")

    source = Source.objects.get(slug="courier")
    assert source.name == "Harbour Courier"
    assert Article.objects.filter(source=source).count() == 3
    assert "created  updated  unchanged  flagged  skipped  failed  possible duplicates" in output
    assert table_row(output, "courier.xml")[-7:] == ["3", "0", "0", "0", "0", "0", "0"]
    assert "has no rights record" in output  # said once, before the import


def test_import_feed_twice_reports_everything_unchanged(feed_file):
    run_command("import_feed", str(feed_file), "--source", "courier")

    output, _ = run_command("import_feed", str(feed_file), "--source", "courier")

    assert table_row(output, "courier.xml")[-7:] == ["0", "0", "3", "0", "0", "0", "0"]
    assert Article.objects.count() == 3


def test_import_feed_from_a_url_records_rights_feed_and_publishes(server):
    server.routes["/rss"] = (
        200,
        {"Content-Type": "application/rss+xml"},
        rss([story(1), story(2)], title="Harbour Courier"),
    )

    day_before = timezone.localdate()
    output, _ = run_command(
        "import_feed", server.url("/rss"), "--source", "courier", "--status", "published",
        "--rights", "cc-by",
    )  # fmt: skip

    source = Source.objects.get(slug="courier")
    assert source.rights.basis == RightsBasis.CC_BY
    assert source.rights.copyright_holder == "Harbour Courier"
    # The day of the import: either day if the import ran across midnight.
    assert day_before <= source.rights.granted_on <= timezone.localdate()
    feed = Feed.objects.get(source=source)
    assert (feed.url, feed.default_status) == (server.url("/rss"), "published")
    assert Article.objects.published().count() == 2
    assert len(server.requests) == 1  # the document fetched to name the source is reused
    assert "Added the feed" in output


def test_import_feed_run_again_on_a_url_asks_conditionally_and_a_304_changes_nothing(server):
    def answer(request):
        if request.headers.get("if-none-match") == '"v1"':
            return 304, {"ETag": '"v1"'}, b""
        headers = {
            "Content-Type": "application/rss+xml",
            "ETag": '"v1"',
            "Last-Modified": "Tue, 03 Mar 2026 10:00:00 GMT",
        }
        return 200, headers, rss([story(1), story(2)], title="Harbour Courier")

    server.routes["/rss"] = answer
    run_command("import_feed", server.url("/rss"), "--source", "courier")

    output, _ = run_command("import_feed", server.url("/rss"), "--source", "courier")

    second = server.requests[-1].headers
    assert second["if-none-match"] == '"v1"'
    assert second["if-modified-since"] == "Tue, 03 Mar 2026 10:00:00 GMT"
    assert ImportRun.objects.latest("pk").status == RunStatus.NOT_MODIFIED
    assert Article.objects.count() == 2
    assert "Not modified" in output


def test_the_message_for_an_unknown_source_names_the_slug_to_use():
    with pytest.raises(CommandError) as raised:
        run_command("import_url", "https://example.com/a", "--source", "harbour-post")

    assert "`import_feed URL --source harbour-post`" in str(raised.value)
    assert "{slug}" not in str(raised.value)


def test_import_feed_with_permission_needs_evidence(feed_file):
    with pytest.raises(CommandError, match="Say where the written permission is recorded"):
        run_command("import_feed", str(feed_file), "--source", "courier", "--rights", "permission")


def test_import_feed_reports_a_missing_file_in_one_line():
    with pytest.raises(CommandError, match=r"^No such file: /nowhere/feed\.xml$"):
        run_command("import_feed", "/nowhere/feed.xml", "--source", "courier")


def test_import_feed_refuses_other_schemes_and_private_addresses():
    with pytest.raises(CommandError, match="Only http"):
        run_command("import_feed", "ftp://example.com/feed.xml", "--source", "courier")
    with pytest.raises(CommandError, match="Could not fetch http://10.0.0.5/feed"):
        run_command("import_feed", "http://10.0.0.5/feed", "--source", "courier")
    assert Source.objects.count() == 0


def test_import_feed_refuses_a_document_that_is_not_a_feed(tmp_path):
    page = tmp_path / "page.html"
    page.write_text("<!doctype html><html><body><p>Hello</p></body></html>")

    with pytest.raises(CommandError, match="is not a feed we can read"):
        run_command("import_feed", str(page), "--source", "courier")


def test_import_feed_refuses_a_bad_slug(feed_file):
    with pytest.raises(CommandError, match="not a valid slug"):
        run_command("import_feed", str(feed_file), "--source", "no spaces please")


def test_import_feed_shows_progress_on_request(feed_file):
    _, errors = run_command("import_feed", str(feed_file), "--source", "courier", progress=True)

    assert "items" in errors


# ---------------------------------------------------------------------------------------------
# import_feeds


def make_feed(server, path="/feed.xml", entries=None, **fields) -> Feed:
    server.routes[path] = (200, {"Content-Type": "application/rss+xml"}, rss(entries or [story(1)]))
    return Feed.objects.create(source=LicensedSourceFactory(), url=server.url(path), **fields)


def test_import_feeds_imports_the_due_feeds_only(server):
    due = make_feed(server, "/due.xml")
    make_feed(server, "/later.xml", next_fetch_at=timezone.now() + timezone.timedelta(hours=1))

    output, _ = run_command("import_feeds")

    run = ImportRun.objects.get()
    assert run.feed == due and run.trigger == Trigger.COMMAND
    assert table_row(output, f"#{run.pk}")[1:3] == ["The Harbour Courier", "Succeeded"]


def test_import_feeds_by_id_or_url_and_dry_run(server):
    first = make_feed(server, "/one.xml")
    second = make_feed(server, "/two.xml", entries=[story(1), story(2)])

    output, _ = run_command(
        "import_feeds", "--feed", str(first.pk), "--feed", second.url, "--dry-run"
    )

    assert Article.objects.count() == 0
    assert table_row(output, "total")[-7:] == ["3", "0", "0", "0", "0", "0", "0"]
    assert "(dry run)" in output


def test_import_feeds_of_one_source(server):
    feed = make_feed(server, next_fetch_at=timezone.now() + timezone.timedelta(hours=1))

    run_command("import_feeds", "--source", feed.source.slug)

    assert ImportRun.objects.get().feed == feed


def test_import_feeds_fails_with_a_clear_message(server):
    server.routes["/broken.xml"] = (500, {}, b"")
    Feed.objects.create(source=LicensedSourceFactory(), url=server.url("/broken.xml"))

    with pytest.raises(CommandError, match=r"^1 of 1 feed import\(s\) failed\.$"):
        run_command("import_feeds")
    with pytest.raises(CommandError, match="no feed with the id or URL “999”"):
        run_command("import_feeds", "--feed", "999")
    with pytest.raises(CommandError, match="no source with the slug “nobody”"):
        run_command("import_feeds", "--source", "nobody")


def test_import_feeds_with_nothing_due_says_so():
    output, _ = run_command("import_feeds")

    assert output.strip() == "Nothing to import."


# ---------------------------------------------------------------------------------------------
# import_url and enqueue_due_feeds


def test_import_url_needs_a_known_source_and_an_http_url():
    with pytest.raises(CommandError, match="There is no source with the slug “ghost”"):
        run_command("import_url", "https://example.com/a", "--source", "ghost")
    LicensedSourceFactory(slug="courier")
    with pytest.raises(CommandError, match="Not an http"):
        run_command("import_url", "javascript:alert(1)", "--source", "courier")
    with pytest.raises(CommandError, match="The import failed"):
        run_command("import_url", "http://127.0.0.1:9/x", "--source", "courier")


def test_enqueue_due_feeds_runs_one_import_per_due_feed(server, django_capture_on_commit_callbacks):
    make_feed(server, "/a.xml")
    make_feed(server, "/b.xml")

    with django_capture_on_commit_callbacks(execute=True):
        output, _ = run_command("enqueue_due_feeds")

    assert output.strip() == "Enqueued 2 feed import(s)."
    assert ImportRun.objects.filter(trigger=Trigger.TASK).count() == 2  # immediate backend


# ---------------------------------------------------------------------------------------------
# import_wxr


def test_import_wxr_names_the_source_after_the_site_and_keeps_old_urls(tmp_path):
    path = tmp_path / "export.xml"
    path.write_bytes(wxr([Post(1, "Quay walls"), Post(2, "Old lamps", status="trash")]))

    output, _ = run_command("import_wxr", str(path), "--no-images")

    source = Source.objects.get(slug="old-quay-journal")
    assert source.name == "Old Quay Journal"
    article = Article.objects.get(source=source)
    assert article.status == ArticleStatus.DRAFT
    assert Redirect.objects.filter(article=article, old_path="/2019/05/post-1/").exists()
    assert table_row(output, "export.xml")[-7:] == ["1", "0", "0", "0", "1", "0", "0"]
    assert "skipped item" in output and "trash" in output


def test_import_wxr_into_a_given_source(tmp_path):
    source = LicensedSourceFactory(slug="archive")
    path = tmp_path / "export.xml"
    path.write_bytes(wxr([Post(1, "Quay walls")]))

    run_command("import_wxr", str(path), "--source", "archive", "--status", "published")

    assert Article.objects.get().source == source and Article.objects.published().count() == 1


def test_import_wxr_reports_unreadable_files(tmp_path):
    with pytest.raises(CommandError, match="No such file"):
        run_command("import_wxr", str(tmp_path / "missing.xml"))
    broken = tmp_path / "broken.xml"
    broken.write_text("<rss><channel><title>half")
    with pytest.raises(CommandError, match="is not a WordPress export we can read"):
        run_command("import_wxr", str(broken))


def test_the_wordpress_theme_unit_test_export_imports_completely():
    if not THEME_UNIT_TEST.is_file():
        pytest.skip(f"corpus file not found: {THEME_UNIT_TEST}")
    text = THEME_UNIT_TEST.read_text(encoding="utf-8")
    posts_in_file = len(
        re.findall(r"<wp:post_type>(?:<!\[CDATA\[)?post(?:\]\]>)?</wp:post_type>", text)
    )
    assert posts_in_file > 0

    output, _ = run_command("import_wxr", str(THEME_UNIT_TEST), "--no-images")

    run = ImportRun.objects.get()
    assert run.status in (RunStatus.SUCCEEDED, RunStatus.PARTIAL), output
    assert run.created + run.skipped + run.failed == posts_in_file, output
    assert Article.objects.count() == run.created
    assert run.failed == 0, output
    assert Redirect.objects.count() >= run.created

    again, _ = run_command("import_wxr", str(THEME_UNIT_TEST), "--no-images")

    rerun = ImportRun.objects.latest()
    assert (rerun.created, rerun.unchanged) == (0, run.created)
    assert Article.objects.count() == run.created
