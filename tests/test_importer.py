"""The import pipeline, end to end against feeds served by the test on 127.0.0.1."""

import datetime
import io

import pytest
from django.db import OperationalError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from PIL import Image
from taggit.models import Tag

from articles.models import Article, ArticleStatus, Author, ImageLicence, Redirect
from articles.models import Image as LibraryImage
from articles.search.engine import refresh_search_documents
from syndication.entry import import_document, import_feed, import_url, import_wxr
from syndication.items import ParsedAuthor, ParsedFeed, ParsedItem
from syndication.models import (
    FailureKind,
    Feed,
    FeedHealth,
    ImportedItem,
    ImportRun,
    MappingRule,
    MatchKind,
    RunKind,
    RunStatus,
)
from syndication.pipeline import store as importer
from syndication.pipeline.classify import match_authors
from syndication.pipeline.runs import ANOMALY_NO_ITEMS, start_run
from syndication.pipeline.upstream import accept_upstream_changes, upstream_diff
from tests.factories import (
    ArticleFactory,
    AuthorFactory,
    LicensedSourceFactory,
    RegionFactory,
    ReportFactory,
    SourceFactory,
    ThemeFactory,
)
from tests.feedbuilders import Entry, Post, png, png_declaring, rss, story, wxr
from tests.httpserver import LocalServer

pytestmark = pytest.mark.django_db

RSS_TYPE = {"Content-Type": "application/rss+xml; charset=utf-8"}


@pytest.fixture
def server(settings):
    settings.SYNDICATION_ALLOWED_HOSTS = ["127.0.0.1"]
    with LocalServer() as running:
        yield running


def serve_feed(server, entries, path="/feed.xml", **headers):
    server.routes[path] = (200, {**RSS_TYPE, **headers}, rss(entries))
    return server.url(path)


@pytest.fixture
def feed(server):
    source = LicensedSourceFactory(name="Harbour Courier")
    return Feed.objects.create(source=source, url=server.url("/feed.xml"))


def articles_of(feed):
    return Article.objects.filter(source=feed.source).order_by("title")


# ---------------------------------------------------------------------------------------------
# Creating, and re-running


def test_a_feed_import_creates_sanitized_articles_with_their_provenance(server, feed):
    serve_feed(
        server,
        [
            story(
                1, description='<p>Safe text<script>alert(1)</script> <a href="/admin/">x</a></p>'
            ),
            story(2),
            story(3),
        ],
    )

    run = import_feed(feed)

    assert (run.status, run.created, run.failed, run.kind) == (RunStatus.SUCCEEDED, 3, 0, "feed")
    first = Article.objects.get(original_title="Harbour story 1")
    assert first.status == ArticleStatus.DRAFT
    assert "<script" not in first.body and "alert(1)" not in first.body
    assert "Safe text" in first.body
    # A relative link resolves against the document's base (here, the feed's own address).
    assert f'href="{server.url("/admin/")}"' in first.body
    assert first.original_url == "https://courier.example/news/story-1"
    assert first.original_published_at == datetime.datetime(2026, 3, 3, 10, 0, tzinfo=datetime.UTC)
    assert [a.name for a in first.ordered_authors] == ["Ada Lovelace"]
    assert list(first.tags.names()) == ["Harbour"]
    record = first.imported_item
    assert record.source == feed.source and record.feed == feed and record.run == run
    assert record.guid == "courier-1"
    assert record.dedupe_key and len(record.content_hash) == 64
    assert record.fetched_from == feed.url
    assert record.raw_payload["title"] == "Harbour story 1"
    feed.refresh_from_db()
    assert feed.health == FeedHealth.OK and feed.title == "The Harbour Courier"


def test_importing_the_same_feed_again_creates_and_changes_nothing(server, feed):
    serve_feed(server, [story(1), story(2), story(3)])
    import_feed(feed)
    before = {a.pk: a.updated_at for a in Article.objects.all()}
    provenance_before = list(ImportedItem.objects.values_list("pk", "run_id", "content_hash"))

    again = import_feed(feed)

    assert (again.created, again.unchanged, again.flagged_changed) == (0, 3, 0)
    assert again.status == RunStatus.SUCCEEDED
    assert {a.pk: a.updated_at for a in Article.objects.all()} == before
    assert list(ImportedItem.objects.values_list("pk", "run_id", "content_hash")) == (
        provenance_before
    )


def test_link_variants_of_one_story_do_not_make_a_second_article(server, feed):
    serve_feed(server, [story(1, guid="", link="http://courier.example/news/a?utm_source=rss")])
    import_feed(feed)
    serve_feed(server, [story(1, guid="", link="https://courier.example/news/a/")])

    run = import_feed(feed)

    assert run.created == 0 and Article.objects.count() == 1


def test_a_new_guid_for_a_known_link_is_the_same_article(server, feed):
    serve_feed(server, [story(1, guid="first-id")])
    import_feed(feed)
    serve_feed(server, [story(1, guid="rotated-id")])

    run = import_feed(feed)

    assert (run.created, run.unchanged) == (0, 1)


def test_an_upstream_edit_is_flagged_not_applied_until_an_editor_accepts_it(server, feed):
    serve_feed(server, [story(1, description="<p>The harbour opened at dawn.</p>")])
    import_feed(feed)
    article = Article.objects.get()
    serve_feed(server, [story(1, description="<p>The harbour opened at noon.</p>")])

    run = import_feed(feed)

    assert (run.created, run.flagged_changed) == (0, 1)
    article.refresh_from_db()
    assert "dawn" in article.body
    record = article.imported_item
    assert record.upstream_changed and record.upstream_hash != record.content_hash
    assert ("removed", "The harbour opened at dawn.") in upstream_diff(record)
    assert ("added", "The harbour opened at noon.") in upstream_diff(record)

    assert import_feed(feed).flagged_changed == 0  # the same change is flagged once

    assert accept_upstream_changes(record)
    article.refresh_from_db()
    record.refresh_from_db()
    assert "noon" in article.body and not record.upstream_changed
    assert import_feed(feed).unchanged == 1


def test_a_dry_run_counts_without_writing(server, feed):
    serve_feed(server, [story(1), story(2)], ETag='"v1"')

    run = import_feed(feed, dry_run=True)

    assert run.dry_run and run.created == 2
    assert Article.objects.count() == 0 and ImportedItem.objects.count() == 0
    feed.refresh_from_db()
    assert feed.etag == "" and feed.last_fetched_at is None


# ---------------------------------------------------------------------------------------------
# Bad items never sink the batch


def test_one_failing_item_is_recorded_and_the_others_import(server, feed, monkeypatch):
    real_match_authors = importer.match_authors

    def fail_for_one_author(authors, source, **options):
        if any(a.name == "Broken Author" for a in authors):
            raise ValueError("this byline cannot be stored")
        return real_match_authors(authors, source, **options)

    monkeypatch.setattr(importer, "match_authors", fail_for_one_author)
    serve_feed(server, [story(1), story(2, author="Broken Author"), story(3)])

    run = import_feed(feed)

    assert (run.status, run.created, run.failed) == (RunStatus.PARTIAL, 2, 1)
    failure = run.failures.get()
    assert failure.kind == FailureKind.FAILED and failure.guid == "courier-2"
    assert "this byline cannot be stored" in failure.message
    assert not Article.objects.filter(original_title="Harbour story 2").exists()
    assert not ImportedItem.objects.filter(guid="courier-2").exists()  # rolled back whole


def test_items_without_title_or_link_are_skipped_with_a_reason(server, feed):
    serve_feed(server, [story(1), Entry(description="<p>orphan text</p>")])

    run = import_feed(feed)

    assert (run.created, run.skipped, run.failed) == (1, 1, 0)
    assert "neither a title nor a link" in run.failures.get(kind=FailureKind.SKIPPED).message


def test_a_guid_repeated_in_one_document_makes_one_article(server, feed):
    serve_feed(server, [story(1), story(1, title="Harbour story 1, again")])

    run = import_feed(feed)

    assert run.created == 1 and run.skipped == 1 and Article.objects.count() == 1


def test_an_unparseable_date_is_stored_as_none_and_flagged(server, feed):
    serve_feed(server, [story(1, published="Mon, 32 Foo 2024")])

    import_feed(feed)

    article = Article.objects.get()
    assert article.original_published_at is None
    assert "Mon, 32 Foo 2024" in article.imported_item.date_problem


def test_an_item_without_title_gets_a_placeholder_and_keeps_its_link(server, feed):
    serve_feed(server, [story(1, title="")])

    import_feed(feed)

    article = Article.objects.get()
    assert article.title == "Untitled item from Harbour Courier"
    assert article.original_url == "https://courier.example/news/story-1"


# ---------------------------------------------------------------------------------------------
# Status and rights


def test_published_is_downgraded_to_review_when_the_source_has_no_rights(server):
    source = SourceFactory(name="Unlicensed Times")
    feed = Feed.objects.create(
        source=source, url=server.url("/feed.xml"), default_status="published"
    )
    serve_feed(server, [story(1)])

    run = import_feed(feed)

    assert Article.objects.get().status == ArticleStatus.REVIEW
    assert any("Published was requested but" in note for note in run.notes)


def test_published_is_honoured_for_a_licensed_source(server, feed):
    feed.default_status = "published"
    feed.save()
    serve_feed(server, [story(1)])

    run = import_feed(feed)

    article = Article.objects.get()
    assert article.is_live and run.notes == []


# ---------------------------------------------------------------------------------------------
# Taxonomy and authors


def test_mapping_rules_turn_categories_into_taxonomy(server, feed):
    africa, climate, report = RegionFactory(name="Africa"), ThemeFactory(), ReportFactory()
    MappingRule.objects.create(feed=feed, category="africa", region=africa)
    MappingRule.objects.create(
        feed=feed, category="climate", match=MatchKind.CONTAINS, theme=climate
    )
    MappingRule.objects.create(feed=feed, category="Ports", report=report)
    MappingRule.objects.create(feed=feed, category="Ships", tag="shipping")
    serve_feed(
        server, [story(1, categories=["AFRICA", "Climate crisis", "Ports", "Ships", "Misc"])]
    )

    import_feed(feed)

    article = Article.objects.get()
    assert list(article.regions.all()) == [africa]
    assert list(article.themes.all()) == [climate]
    assert list(article.reports.all()) == [report]
    assert sorted(article.tags.names()) == ["Misc", "shipping"]


def test_unmapped_categories_are_ignored_when_the_feed_says_so(server, feed):
    feed.unmapped_categories_as_tags = False
    feed.save()
    serve_feed(server, [story(1, categories=["Misc"])])

    import_feed(feed)

    assert list(Article.objects.get().tags.names()) == []


def test_authors_are_matched_by_name_or_created_and_default_author_fills_gaps(server, feed):
    existing = AuthorFactory(name="Grace Hopper")
    feed.source.default_author = AuthorFactory(name="Desk Editor")
    feed.source.save()
    serve_feed(
        server,
        [story(1, author="grace hopper"), story(2, author="New Writer"), story(3, author="")],
    )

    import_feed(feed)

    by_title = {a.original_title: a.ordered_authors for a in Article.objects.all()}
    assert by_title["Harbour story 1"] == [existing]
    new_writer = Author.objects.get(name="New Writer")
    assert by_title["Harbour story 2"] == [new_writer] and new_writer.source == feed.source
    assert [a.name for a in by_title["Harbour story 3"]] == ["Desk Editor"]


def test_a_video_item_gets_the_video_kicker(server, feed):
    serve_feed(server, [story(1, video="https://cdn.courier.example/clip.mp4")])

    import_feed(feed)

    article = Article.objects.get()
    assert (article.kicker, article.video_url) == ("Video", "https://cdn.courier.example/clip.mp4")


def test_non_finite_numbers_in_a_json_feed_are_dropped_from_the_kept_payload(server, feed):
    # Python's json reads NaN, Infinity and 1e400 (an overflow to infinity); no database stores
    # them in JSON (H7). The item is imported; the numbers become null.
    document = (
        b'{"version": "https://jsonfeed.org/version/1.1", "title": "Wire", "items": [{"id": "1",'
        b' "url": "https://courier.example/1", "title": "Tides", "content_html": "<p>Tides.</p>",'
        b' "_metrics": {"ratio": NaN, "peak": Infinity, "floor": -Infinity, "huge": 1e400,'
        b' "kept": 1.5, "list": [NaN, 2]}}]}'
    )
    server.routes["/feed.xml"] = (200, {"Content-Type": "application/feed+json"}, document)

    run = import_feed(feed)

    assert (run.status, run.created, run.failed) == (RunStatus.SUCCEEDED, 1, 0), run.summary
    record = ImportedItem.objects.get()
    assert record.raw_payload["raw"]["_metrics"] == {
        "ratio": None, "peak": None, "floor": None, "huge": None, "kept": 1.5, "list": [None, 2]
    }  # fmt: skip


# ---------------------------------------------------------------------------------------------
# Lead images


def test_a_lead_image_is_downloaded_reencoded_and_given_renditions(server, feed):
    server.routes["/picture.png"] = (200, {"Content-Type": "image/png"}, png())
    serve_feed(server, [story(1, image=server.url("/picture.png"))])

    import_feed(feed)

    article = Article.objects.get()
    assert article.lead_image.file.name.startswith("lead/")
    assert [r["width"] for r in article.lead_image.renditions] == [320, 640, 960, 1280, 1400]
    assert article.imported_item.warnings == []


def test_an_imported_lead_image_lands_in_the_library_once_however_often_it_comes(server, feed):
    server.routes["/picture.png"] = (200, {"Content-Type": "image/png"}, png())
    server.routes["/same-picture.png"] = (200, {"Content-Type": "image/png"}, png())
    serve_feed(
        server,
        [
            story(1, image=server.url("/picture.png")),
            story(2, image=server.url("/same-picture.png")),
        ],
    )

    import_feed(feed)

    (image,) = LibraryImage.objects.all()
    assert set(Article.objects.values_list("lead_image", flat=True)) == {image.pk}
    assert image.source == feed.source
    assert image.licence == ImageLicence.SOURCE_TERMS
    assert image.original_url == server.url("/picture.png")


def test_an_image_on_a_private_address_is_refused_and_the_article_kept(server, feed):
    serve_feed(server, [story(1, image="http://10.0.0.1/secret.png")])

    run = import_feed(feed)

    article = Article.objects.get()
    assert run.created == 1 and not article.lead_image
    assert "http://10.0.0.1/secret.png" in article.imported_item.warnings[0]


def gif(width: int, height: int) -> bytes:
    buffer = io.BytesIO()
    Image.new("P", (width, height), 3).save(buffer, format="GIF")
    return buffer.getvalue()


@pytest.mark.parametrize(("width", "height"), [(10799, 1), (1200, 1), (1, 1200)])
def test_a_strip_of_pixels_as_lead_image_is_dropped_with_a_warning_and_the_article_kept(
    server, feed, width, height
):
    server.routes["/strip.gif"] = (200, {"Content-Type": "image/gif"}, gif(width, height))
    serve_feed(server, [story(1, image=server.url("/strip.gif"))])

    run = import_feed(feed)

    article = Article.objects.get()
    assert (run.status, run.created, run.failed) == (RunStatus.SUCCEEDED, 1, 0)
    assert not article.lead_image
    assert "strip, not a picture" in article.imported_item.warnings[0]


def test_a_decompression_bomb_is_rejected_and_the_article_kept(server, feed):
    server.routes["/bomb.png"] = (200, {"Content-Type": "image/png"}, png_declaring(30000, 30000))
    serve_feed(server, [story(1, image=server.url("/bomb.png"))])

    run = import_feed(feed)

    article = Article.objects.get()
    assert run.status == RunStatus.SUCCEEDED and not article.lead_image
    assert "rejected" in article.imported_item.warnings[0]


# ---------------------------------------------------------------------------------------------
# Fetching, health and back-off


def test_a_304_changes_nothing(server, feed):
    document = rss([story(1)])

    def conditional(request):
        if request.headers.get("if-none-match") == '"v1"':
            return (304, {"ETag": '"v1"'}, b"")
        return (200, {**RSS_TYPE, "ETag": '"v1"'}, document)

    server.routes["/feed.xml"] = conditional
    import_feed(feed)
    feed.refresh_from_db()
    assert feed.etag == '"v1"'

    run = import_feed(feed)

    assert run.status == RunStatus.NOT_MODIFIED and run.counts() == dict.fromkeys(
        run.COUNT_FIELDS, 0
    )
    assert server.requests[-1].headers["if-none-match"] == '"v1"'
    assert Article.objects.count() == 1


def test_a_failing_feed_backs_off_exponentially(server, feed):
    server.routes["/feed.xml"] = (500, {}, b"oops")
    feed.poll_interval = 30
    feed.save()

    first = import_feed(feed)
    feed.refresh_from_db()
    first_delay = feed.next_fetch_at - feed.last_fetched_at
    import_feed(feed)
    feed.refresh_from_db()
    second_delay = feed.next_fetch_at - feed.last_fetched_at

    assert first.status == RunStatus.FAILED and "500" in first.error_message
    assert feed.health == FeedHealth.FAILING and feed.consecutive_failures == 2
    assert first_delay == datetime.timedelta(minutes=60)
    assert second_delay == datetime.timedelta(minutes=120)
    assert feed.backoff(30) == datetime.timedelta(hours=24)  # capped at a day


def test_a_feed_dies_after_too_many_failures_and_its_articles_stay(server, feed, settings):
    serve_feed(server, [story(1)])
    import_feed(feed)
    Article.objects.update(status=ArticleStatus.PUBLISHED, published_at=timezone.now())
    server.routes["/feed.xml"] = (410, {}, b"gone")
    settings.SYNDICATION_MAX_FEED_FAILURES = 3

    for _attempt in range(3):
        import_feed(feed)

    feed.refresh_from_db()
    assert feed.health == FeedHealth.DEAD and not feed.is_active
    assert "3 failed fetches" in feed.dead_reason
    assert Article.objects.published().count() == 1
    assert feed not in Feed.objects.due(timezone.now() + datetime.timedelta(days=30))


def test_a_success_resets_the_failure_count(server, feed):
    server.routes["/feed.xml"] = (503, {}, b"busy")
    import_feed(feed)
    serve_feed(server, [story(1)])

    import_feed(feed)

    feed.refresh_from_db()
    assert feed.consecutive_failures == 0 and feed.health == FeedHealth.OK


def test_html_instead_of_a_feed_fails_the_run_and_touches_nothing(server, feed):
    serve_feed(server, [story(1)])
    import_feed(feed)
    server.routes["/feed.xml"] = (
        200,
        {"Content-Type": "text/html"},
        b"<!doctype html><html><body><h1>Checking your browser</h1></body></html>",
    )

    run = import_feed(feed)

    assert run.status == RunStatus.FAILED and Article.objects.count() == 1
    feed.refresh_from_db()
    assert feed.consecutive_failures == 1


def test_a_feed_with_no_items_is_flagged_and_nothing_is_unpublished(server, feed):
    serve_feed(server, [story(1)])
    import_feed(feed)
    Article.objects.update(status=ArticleStatus.PUBLISHED, published_at=timezone.now())
    serve_feed(server, [])

    run = import_feed(feed)

    assert run.anomaly == ANOMALY_NO_ITEMS and run.status == RunStatus.SUCCEEDED
    assert Article.objects.published().count() == 1


def test_a_database_error_mid_run_fails_the_run_and_a_rerun_converges(server, feed, monkeypatch):
    serve_feed(server, [story(1), story(2), story(3)])
    real_prepare = importer.ItemImporter._prepare

    def database_goes_away(self, position, item):
        if item.guid == "courier-2":
            raise OperationalError("server closed the connection unexpectedly")
        return real_prepare(self, position, item)

    monkeypatch.setattr(importer, "LOOKAHEAD", 1)  # item 1 is stored before item 2 is read
    monkeypatch.setattr(importer.ItemImporter, "_prepare", database_goes_away)
    broken = import_feed(feed)
    monkeypatch.undo()

    broken.refresh_from_db()
    assert broken.status == RunStatus.FAILED and "server closed" in broken.error_message
    assert broken.created == 1 and Article.objects.count() == 1
    feed.refresh_from_db()
    assert feed.etag == "" and feed.consecutive_failures == 1

    rerun = import_feed(feed)

    assert (rerun.created, rerun.unchanged) == (2, 1)
    assert sorted(ImportedItem.objects.values_list("guid", flat=True)) == [
        "courier-1", "courier-2", "courier-3",
    ]  # fmt: skip


def test_a_race_lost_at_insert_counts_as_already_imported(server, feed, monkeypatch):
    """Another run stores the item between our lookup and our insert: no duplicate, no error."""
    serve_feed(server, [story(1)])
    import_feed(feed)
    monkeypatch.setattr(importer.ItemImporter, "_find_existing", lambda self, key, url: None)

    run = import_feed(feed)

    assert (run.created, run.unchanged, run.failed) == (0, 1, 0)
    assert Article.objects.count() == 1


# ---------------------------------------------------------------------------------------------
# Documents without a feed: parsed feeds, single pages, WordPress exports


def test_import_document_takes_an_already_parsed_feed():
    source = LicensedSourceFactory()
    run = start_run(RunKind.FEED, source, fetched_from="memory")
    parsed = ParsedFeed(
        format="rss",
        items=[ParsedItem(guid="x-1", title="From memory", link="https://m.example/1")],
    )

    import_document(source, parsed, run=run, status="review", fetched_from="memory")

    article = Article.objects.get()
    assert article.status == ArticleStatus.REVIEW and run.created == 1
    assert article.imported_item.fetched_from == "memory"


def test_import_url_refuses_a_private_address():
    source = LicensedSourceFactory()

    run = import_url("http://169.254.169.254/latest/meta-data/", source)

    assert run.status == RunStatus.FAILED and run.error_message
    assert Article.objects.count() == 0


ARTICLE_PAGE = b"""<!doctype html><html lang="en"><head>
<title>Tides of the old harbour | Courier</title>
<meta property="og:title" content="Tides of the old harbour">
<meta name="author" content="Mary Somerville">
<meta property="article:published_time" content="2026-02-01T09:00:00Z">
</head><body><article><h1>Tides of the old harbour</h1>
<p>The tide came in twice a day, as it always had, and the harbour master wrote it down.</p>
<p>Every entry in his ledger was signed, dated and checked against the church clock.</p>
<p>Nobody remembers when the ledger stopped, but the last line is a storm warning.</p>
</article></body></html>"""


def test_import_url_makes_one_article_and_a_second_import_changes_nothing(server):
    source = LicensedSourceFactory()
    server.routes["/tides"] = (200, {"Content-Type": "text/html; charset=utf-8"}, ARTICLE_PAGE)

    first = import_url(server.url("/tides"), source)
    second = import_url(server.url("/tides"), source)

    article = Article.objects.get()
    assert first.created == 1 and (second.created, second.unchanged) == (0, 1)
    assert "Tides of the old harbour" in article.title
    assert "ledger" in article.body
    assert article.original_url == server.url("/tides")


def test_a_wordpress_export_keeps_statuses_authors_and_old_urls(tmp_path):
    source = LicensedSourceFactory(name="Old Quay Journal")
    path = tmp_path / "export.xml"
    path.write_bytes(
        wxr(
            [
                Post(1, "Published post", categories=["Harbour"], tags=["boats"]),
                Post(2, "Draft post", status="draft"),
                Post(3, "Pending post", status="pending"),
                Post(4, "Trashed post", status="trash"),
            ]
        )
    )

    run = import_wxr(path, source, "published", download_images=False)

    assert (run.status, run.created, run.skipped) == (RunStatus.SUCCEEDED, 3, 1)
    assert "trash" in run.failures.get().message
    published = Article.objects.get(title="Published post")
    assert published.status == ArticleStatus.PUBLISHED
    assert published.published_at == datetime.datetime(2019, 5, 4, 8, 30, tzinfo=datetime.UTC)
    assert sorted(published.tags.names()) == ["Harbour", "boats"]
    assert [a.name for a in published.ordered_authors] == ["Jane Doe"]
    jane = Author.objects.get(name="Jane Doe")
    assert jane.source == source
    assert set(Redirect.objects.filter(article=published).values_list("old_path", flat=True)) == {
        "/2019/05/post-1/",
        "/?p=1",
    }
    assert Article.objects.get(title="Draft post").status == ArticleStatus.DRAFT
    assert Article.objects.get(title="Pending post").status == ArticleStatus.DRAFT

    again = import_wxr(path, source, "published", download_images=False)

    assert (again.created, again.unchanged, again.skipped) == (0, 3, 1)
    assert Redirect.objects.count() == 6


def test_a_wordpress_author_never_becomes_a_user(tmp_path, django_user_model):
    source = LicensedSourceFactory()
    path = tmp_path / "export.xml"
    path.write_bytes(wxr([Post(1, "A post", author="admin")]))

    import_wxr(path, source, download_images=False)

    assert django_user_model.objects.count() == 0
    assert Author.objects.filter(name="admin").exists()


def test_a_wordpress_featured_image_is_fetched_through_the_guard(server, tmp_path):
    source = LicensedSourceFactory()
    server.routes["/wp-content/uploads/quay.png"] = (200, {"Content-Type": "image/png"}, png())
    path = tmp_path / "export.xml"
    path.write_bytes(
        wxr(
            [Post(1, "With picture", thumbnail_id=10), Post(2, "Private pic", thumbnail_id=11)],
            attachments={
                10: server.url("/wp-content/uploads/quay.png"),
                11: "http://192.168.1.1/wp-content/uploads/router.png",
            },
        )
    )

    run = import_wxr(path, source)

    assert run.created == 2
    assert Article.objects.get(title="With picture").lead_image.file.name.startswith("lead/")
    refused = Article.objects.get(title="Private pic")
    assert not refused.lead_image and "192.168.1.1" in refused.imported_item.warnings[0]


def test_an_article_an_editor_deleted_is_not_imported_again(server, feed):
    serve_feed(server, [story(1)])
    import_feed(feed)
    Article.objects.get().delete()

    run = import_feed(feed)

    assert (run.created, run.unchanged) == (0, 1) and Article.objects.count() == 0
    assert ImportedItem.objects.get().article is None


def test_nul_characters_and_lone_surrogates_never_reach_the_database():
    source = LicensedSourceFactory()
    run = start_run(RunKind.FEED, source, fetched_from="memory")
    hostile = ParsedItem(
        guid="nul\x00guid",
        title="Title with a NUL\x00 and a lone \ud800 surrogate",
        link="https://m.example/nul",
        summary="Summary\x00",
        content_html="<p>Body\x00 text</p>",
        categories=["Cat\x00egory"],
        raw={"title": "raw\x00"},
    )

    import_document(source, ParsedFeed(format="rss", items=[hostile]), run=run)

    article = Article.objects.get()
    assert run.created == 1
    assert "\x00" not in article.title + article.original_title + article.body + article.dek
    assert article.imported_item.guid == "nulguid"
    assert article.imported_item.raw_payload["raw"] == {"title": "raw"}


# ---------------------------------------------------------------------------------------------
# What storing an item costs


class TestQueriesPerStoredItem:
    """Storing an item takes a constant number of queries, whatever it is filed under."""

    @pytest.fixture
    def store(self):
        source = LicensedSourceFactory(name="Harbour Courier")
        feed = Feed.objects.create(source=source, url="https://courier.example/feed.xml")
        AuthorFactory(name="Ada Berg", source=source)
        AuthorFactory(name="Bruno Costa")
        for category, name in (("sahel", "Sahel"), ("andes", "Andes")):
            MappingRule.objects.create(
                feed=feed, category=category, region=RegionFactory(name=name)
            )
        MappingRule.objects.create(feed=feed, category="water", theme=ThemeFactory(name="Water"))
        for name in ("dams", "rivers", "rain"):
            Tag.objects.create(name=name)
        rules = list(feed.mapping_rules.select_related("region", "theme", "report"))
        run = start_run(RunKind.FEED, source, fetched_from=feed.url)
        options = importer.ImportOptions(status=ArticleStatus.REVIEW, mapping_rules=rules)
        return importer.ItemImporter(source, run, options, feed=feed)

    @staticmethod
    def item(number: int, **changes) -> ParsedItem:
        values = {
            "guid": f"courier-{number}",
            "link": f"https://courier.example/news/{number}",
            "title": f"Dams on the rivers, part {number}",
            "summary": "Water levels are falling.",
            "content_html": "".join(f"<p>Paragraph {n} about the dams.</p>" for n in range(8)),
            "authors": [ParsedAuthor("ada berg"), ParsedAuthor("Bruno Costa")],
            "categories": ["sahel", "andes", "water"],
            "tags": ["Dams", "rivers", "rain"],
        }
        return ParsedItem(**{**values, **changes})

    def test_an_item_with_two_authors_two_regions_a_theme_and_three_tags(
        self, store, django_assert_max_num_queries
    ):
        store.import_item(0, self.item(0))  # the first item may warm caches (content types)
        # 11 statements, and the savepoints of two atomic blocks that a test runs nested; then
        # the similarity signature and its lookup keys, the candidates sharing a key and their
        # shingles, and the link to item 0, which tells much the same story
        # (syndication/pipeline/duplicates.py).
        with django_assert_max_num_queries(15 + 5):
            assert store.import_item(1, self.item(1)) == "created"

        article = Article.objects.get(original_url="https://courier.example/news/1")
        assert [author.name for author in article.ordered_authors] == ["Ada Berg", "Bruno Costa"]
        assert sorted(article.regions.values_list("name", flat=True)) == ["Andes", "Sahel"]
        assert list(article.themes.values_list("name", flat=True)) == ["Water"]
        assert sorted(article.tags.names()) == ["dams", "rain", "rivers"]
        assert Tag.objects.count() == 3 and Author.objects.count() == 2
        assert article.imported_item.dedupe_key and article.history.count() == 1
        assert article.search_names == (
            "Harbour Courier · Ada Berg · Bruno Costa · Andes · Sahel · Water"
            " · dams · rain · rivers"
        )

    def test_the_search_document_is_written_once_and_is_what_a_refresh_would_write(
        self, store, django_assert_max_num_queries
    ):
        with CaptureQueriesContext(connection) as queries:
            store.import_item(0, self.item(0))
        writes = [q["sql"] for q in queries if q["sql"].startswith('UPDATE "articles_article"')]
        assert writes == []  # one INSERT, filed already: the trigger ran once
        article = Article.objects.get()
        assert refresh_search_documents([article.pk]) == 0

    def test_the_second_import_of_an_item_reads_one_row(self, store, django_assert_num_queries):
        store.import_item(0, self.item(0))
        store.seen_keys.clear()
        with django_assert_num_queries(1):
            assert store.import_item(0, self.item(0)) == "unchanged"

    def test_new_authors_and_tags_cost_a_few_queries_more_and_are_created_once(self, store):
        item = self.item(0, authors=[ParsedAuthor("Nadia Okafor")] * 2, tags=["New", "new"])
        store.import_item(0, item)
        article = Article.objects.get()
        assert [author.name for author in article.ordered_authors] == ["Nadia Okafor"]
        assert list(article.tags.names()) == ["New"]
        assert "Nadia Okafor" in article.search_names


class TestItemsStoredTogether:
    """New items that need only rows (no picture, not published, no WordPress slug or old
    paths) are stored a chunk at a time: one INSERT per table for the whole chunk."""

    store = TestQueriesPerStoredItem.store
    item = staticmethod(TestQueriesPerStoredItem.item)

    def entries(self, count: int, **changes):
        return [(n, self.item(n, **changes)) for n in range(count)]

    def test_a_chunk_costs_the_same_statements_whether_it_holds_ten_items_or_forty(self, store):
        def statements_for(entries):
            with CaptureQueriesContext(connection) as queries:
                store.import_entries(entries)
            if connection.vendor == "sqlite":
                # SQLite takes 999 variables a statement: the similarity lookup keys (33 rows
                # an item) and the links to possible duplicates go in INSERTs of a few hundred
                # rows there, in one INSERT each on PostgreSQL.
                batched = (
                    'INSERT INTO "articles_similaritykey"',
                    'INSERT OR IGNORE INTO "syndication_possibleduplicate"',
                )
                return len([query for query in queries if not query["sql"].startswith(batched)])
            return len(queries)

        ten = statements_for(self.entries(10))
        forty = statements_for([(n, self.item(n)) for n in range(100, 140)])

        assert (store.run.created, store.run.failed) == (50, 0)
        assert forty <= ten

    def test_items_stored_together_are_stored_as_one_by_one(self, store):
        store.import_entries(self.entries(3))
        store.import_item(9, self.item(9))

        together = Article.objects.get(original_url="https://courier.example/news/1")
        alone = Article.objects.get(original_url="https://courier.example/news/9")
        for article in (together, alone):
            assert [a.name for a in article.ordered_authors] == ["Ada Berg", "Bruno Costa"]
            assert sorted(article.regions.values_list("name", flat=True)) == ["Andes", "Sahel"]
            assert list(article.themes.values_list("name", flat=True)) == ["Water"]
            assert sorted(article.tags.names()) == ["dams", "rain", "rivers"]
            assert article.history.count() == 1 and article.status == ArticleStatus.REVIEW
            assert article.imported_item.run_id == store.run.pk
            assert refresh_search_documents([article.pk]) == 0  # its search names are right
        assert together.search_names == alone.search_names
        assert together.slug == "dams-on-the-rivers-part-1"

    def test_titles_that_repeat_get_free_slugs(self, store):
        ArticleFactory(title="Same title", slug="same-title")
        store.import_entries(self.entries(3, title="Same title"))

        slugs = sorted(Article.objects.filter(source=store.source).values_list("slug", flat=True))
        assert slugs == ["same-title-2", "same-title-3", "same-title-4"]

    def test_a_chunk_that_fails_as_a_whole_is_stored_one_item_at_a_time(self, store, monkeypatch):
        """Another run stored item 1 after this run read what was stored: the chunk's INSERT
        breaks the unique key, and item by item, 1 is counted as already imported."""
        store.import_item(1, self.item(1))
        store.seen_keys.clear()
        store.run.created = 0
        monkeypatch.setattr(
            importer.StoredKeys, "of", classmethod(lambda cls, *args: cls(set(), set()))
        )

        store.import_entries(self.entries(3))

        assert (store.run.created, store.run.unchanged, store.run.failed) == (2, 1, 0)
        assert ImportedItem.objects.filter(source=store.source).count() == 3

    def test_one_bad_item_in_a_chunk_fails_alone(self, store, monkeypatch):
        real_file_all = importer.ItemImporter._file_all

        def refuse_one(filed):
            if any(article.title.endswith("part 1") for article, _filing in filed):
                raise ValueError("this one cannot be filed")
            return real_file_all(filed)

        monkeypatch.setattr(importer.ItemImporter, "_file_all", staticmethod(refuse_one))

        store.import_entries(self.entries(3))

        assert (store.run.created, store.run.failed) == (2, 1)
        assert "cannot be filed" in store.run.failures.get().message
        assert not Article.objects.filter(title__endswith="part 1").exists()

    def test_published_items_are_stored_one_by_one(self, store):
        store.status = ArticleStatus.PUBLISHED
        with CaptureQueriesContext(connection) as queries:
            store.import_entries(self.entries(3))
        article_inserts = [
            q for q in queries if q["sql"].startswith('INSERT INTO "articles_article"')
        ]
        assert len(article_inserts) == 3 and store.run.created == 3


class TestKnownNames:
    """A run asks the database about an author or tag name once."""

    store = TestQueriesPerStoredItem.store
    item = staticmethod(TestQueriesPerStoredItem.item)

    def test_names_met_once_are_not_looked_up_again(self, store):
        store.import_item(0, self.item(0))
        with CaptureQueriesContext(connection) as queries:
            store.import_item(1, self.item(1))
        lookups = [q for q in queries if 'FROM "articles_author"' in q["sql"]]
        lookups += [q for q in queries if 'FROM "taggit_tag"' in q["sql"]]
        assert lookups == []

    def test_a_name_created_in_a_rolled_back_item_is_not_remembered(self, store):
        names = importer.KnownNames()
        with pytest.raises(RuntimeError), transaction.atomic():
            match_authors([ParsedAuthor("Nadia Okafor")], store.source, known_names=names)
            raise RuntimeError("the item fails after its author was created")

        assert names.authors == {} and not Author.objects.filter(name="Nadia Okafor").exists()
        [author] = match_authors([ParsedAuthor("Nadia Okafor")], store.source, known_names=names)
        assert author.pk is not None


def test_a_run_beats_while_it_imports():
    """H8: the heartbeat that lets the scheduler tell a working run from a killed one."""
    source = LicensedSourceFactory()
    run = start_run(RunKind.FEED, source, fetched_from="memory")
    long_ago = timezone.now() - datetime.timedelta(hours=1)
    ImportRun.objects.filter(pk=run.pk).update(heartbeat_at=long_ago)
    run.refresh_from_db()
    items = [ParsedItem(guid="b-1", title="Beat", link="https://origin.example/beat")]

    import_document(source, ParsedFeed(format="rss", items=items), run=run)

    assert ImportRun.objects.get(pk=run.pk).heartbeat_at > long_ago
