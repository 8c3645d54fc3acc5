"""OPML: a feed reader's subscription list in and out, with the safety rules of every input."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse

from articles.editorial.roles import EDITORS, IMPORTERS
from articles.models import Source
from syndication.models import Feed
from syndication.opml import (
    MAX_DEPTH,
    MAX_OPML_BYTES,
    MAX_OUTLINES,
    OpmlError,
    export_opml,
    import_opml,
    read_opml,
)
from tests.factories import SourceFactory, make_user

from .admin_helpers import PASSWORD, message_texts

pytestmark = pytest.mark.django_db

FEEDS = "/admin/syndication/feed/"
IMPORT_OPML = reverse("admin:syndication_feed_import_opml")


def opml(body: str, *, head: str = "<head><title>Mine</title></head>") -> bytes:
    return f'<?xml version="1.0"?><opml version="2.0">{head}<body>{body}</body></opml>'.encode()


def feed_outline(url: str, title: str = "A feed", html: str = "") -> str:
    html_attribute = f' htmlUrl="{html}"' if html else ""
    return f'<outline type="rss" text="{title}" xmlUrl="{url}"{html_attribute}/>'


READER_EXPORT = opml(
    '<outline text="Harbour Post">'
    + feed_outline("https://harbour.example/feed.xml", "Harbour Post news")
    + feed_outline("https://harbour.example/opinion.xml", "Harbour Post opinion")
    + "</outline>"
    + '<outline text="Tech"><outline text="Valley Wire">'
    + feed_outline("https://valley.example/rss", "Valley Wire")
    + "</outline></outline>"
    + feed_outline("https://loner.example/atom.xml", "Loner Daily", "https://loner.example/")
)


# --- Reading ---------------------------------------------------------------------------------


def test_feeds_are_read_in_document_order_with_their_nearest_folder():
    document = read_opml(READER_EXPORT)

    assert document.title == "Mine"
    assert [(feed.url, feed.title, feed.folder) for feed in document.feeds] == [
        ("https://harbour.example/feed.xml", "Harbour Post news", "Harbour Post"),
        ("https://harbour.example/opinion.xml", "Harbour Post opinion", "Harbour Post"),
        ("https://valley.example/rss", "Valley Wire", "Valley Wire"),
        ("https://loner.example/atom.xml", "Loner Daily", ""),
    ]
    assert document.feeds[-1].html_url == "https://loner.example/"
    assert document.refused == []


def test_a_document_type_declaration_is_refused_so_no_entity_is_ever_expanded():
    bomb = (
        b'<?xml version="1.0"?><!DOCTYPE opml [<!ENTITY a "aaaaaaaaaa">'
        b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>'
        b'<opml version="2.0"><head><title>&b;</title></head><body/></opml>'
    )
    with pytest.raises(OpmlError, match="document type"):
        read_opml(bomb)


def test_an_external_entity_is_refused_before_anything_is_read():
    xxe = (
        b'<?xml version="1.0"?><!DOCTYPE opml [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        b'<opml version="2.0"><head><title>&x;</title></head><body/></opml>'
    )
    with pytest.raises(OpmlError, match="document type"):
        read_opml(xxe)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"<opml><body><outline", "not well-formed"),
        (b"<html><body></body></html>", "not OPML"),
        (b'<opml version="2.0"><head/></opml>', "no <body>"),
    ],
)
def test_what_is_not_an_opml_file_is_refused_with_a_reason(data, message):
    with pytest.raises(OpmlError, match=message):
        read_opml(data)


def test_a_file_over_the_size_cap_is_refused_unread():
    with pytest.raises(OpmlError, match="larger than the limit"):
        read_opml(opml(" " * MAX_OPML_BYTES))


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/feed",
        "http://10.0.0.5/feed",
        "http://169.254.169.254/latest/meta-data/",
        "http://localhost/feed",
        "file:///etc/passwd",
        "javascript:alert(1)",
        "https://user:secret@example.org/feed",
        "http://example.org:6379/",
    ],
)
def test_unsafe_feed_addresses_are_refused_and_listed(url):
    document = read_opml(opml(feed_outline("https://fine.example/feed") + feed_outline(url)))

    assert [feed.url for feed in document.feeds] == ["https://fine.example/feed"]
    assert len(document.refused) == 1
    assert document.refused[0].startswith("outline 2: Refused")


def test_outlines_nested_past_the_depth_limit_are_refused():
    deep = '<outline text="f">' * MAX_DEPTH + feed_outline("https://deep.example/feed")
    document = read_opml(opml(deep + "</outline>" * MAX_DEPTH))

    assert document.feeds == []
    assert document.refused == [f"outline {MAX_DEPTH + 1}: nested deeper than {MAX_DEPTH} levels"]


def test_only_the_first_outlines_up_to_the_cap_are_read():
    many = "".join(feed_outline(f"https://many.example/{n}") for n in range(MAX_OUTLINES + 5))
    document = read_opml(opml(many))

    assert len(document.feeds) == MAX_OUTLINES
    assert document.refused == [
        f"outline {MAX_OUTLINES + 1} and after: more than {MAX_OUTLINES:,} outlines were not read"
    ]


def test_control_characters_and_markup_in_titles_stay_plain_text():
    document = read_opml(opml(feed_outline("https://x.example/f", "Bad\u202e &lt;b&gt;title")))

    assert document.feeds[0].title == "Bad <b>title"


# --- Importing -------------------------------------------------------------------------------


def test_a_source_per_outline_turns_folders_into_sources_and_lone_feeds_into_their_own():
    outcome = import_opml(read_opml(READER_EXPORT), source_per_outline=True)

    assert outcome.summary() == "added 4 feed(s) and 3 new source(s); 0 already known, 0 refused"
    feeds = {feed.url: feed.source.name for feed in Feed.objects.select_related("source")}
    assert feeds == {
        "https://harbour.example/feed.xml": "Harbour Post",
        "https://harbour.example/opinion.xml": "Harbour Post",
        "https://valley.example/rss": "Valley Wire",
        "https://loner.example/atom.xml": "Loner Daily",
    }
    assert Source.objects.get(name="Loner Daily").homepage == "https://loner.example/"


def test_an_existing_source_with_the_folder_name_is_reused():
    existing = SourceFactory(name="Harbour Post")

    import_opml(read_opml(READER_EXPORT), source_per_outline=True)

    assert Source.objects.filter(name="Harbour Post").count() == 1
    assert existing.feeds.count() == 2


def test_known_feed_urls_and_repeats_within_the_file_are_skipped():
    source = SourceFactory()
    Feed.objects.create(source=SourceFactory(), url="https://harbour.example/feed.xml")
    twice = opml(
        feed_outline("https://harbour.example/feed.xml")
        + feed_outline("https://new.example/feed")
        + feed_outline("https://new.example/feed")
    )

    outcome = import_opml(read_opml(twice), source=source)

    assert [feed.url for feed in outcome.added] == ["https://new.example/feed"]
    assert outcome.duplicates == [
        "outline 1: https://harbour.example/feed.xml is already a feed",
        "outline 3: https://new.example/feed is already a feed",
    ]
    assert list(source.feeds.values_list("url", flat=True)) == ["https://new.example/feed"]


def test_a_dry_run_reports_the_same_and_writes_nothing():
    outcome = import_opml(read_opml(READER_EXPORT), source_per_outline=True, dry_run=True)

    assert outcome.summary() == (
        "would add 4 feed(s) and 3 new source(s); 0 already known, 0 refused"
    )
    assert not Feed.objects.exists()
    assert not Source.objects.exists()


def test_export_then_import_gives_the_same_sources_and_feeds():
    harbour = SourceFactory(name="Harbour Post", homepage="https://harbour.example/")
    valley = SourceFactory(name="Valley Wire & Co <Ltd>", homepage="")
    Feed.objects.create(source=harbour, url="https://harbour.example/feed.xml", title="News")
    Feed.objects.create(source=harbour, url="https://harbour.example/opinion.xml", title="")
    Feed.objects.create(source=valley, url="https://valley.example/rss?x=1&y=2", title="Wire")

    def snapshot():
        return sorted(
            (feed.source.name, feed.source.homepage, feed.url, feed.title)
            for feed in Feed.objects.select_related("source")
        )

    before = snapshot()
    exported = export_opml(Feed.objects.select_related("source"))
    Feed.objects.all().delete()
    Source.objects.all().delete()

    outcome = import_opml(read_opml(exported), source_per_outline=True)

    assert len(outcome.added) == 3
    assert snapshot() == before
    # Importing the same file again adds nothing.
    assert import_opml(read_opml(exported), source_per_outline=True).added == []


# --- Commands --------------------------------------------------------------------------------


def test_import_opml_command_with_a_source_per_outline(tmp_path):
    path = tmp_path / "subscriptions.opml"
    path.write_bytes(READER_EXPORT)
    out = io.StringIO()

    call_command("import_opml", str(path), "--source-per-outline", stdout=out)

    assert "added 4 feed(s) and 3 new source(s)" in out.getvalue()
    assert Feed.objects.count() == 4


def test_import_opml_command_dry_run_into_one_source(tmp_path):
    source = SourceFactory(slug="wire")
    path = tmp_path / "subscriptions.opml"
    path.write_bytes(READER_EXPORT)
    out = io.StringIO()

    call_command("import_opml", str(path), "--source", "wire", "--dry-run", stdout=out)

    assert "Dry run: would add 4 feed(s) and 0 new source(s)" in out.getvalue()
    assert not source.feeds.exists()


def test_import_opml_command_refuses_a_dtd_with_a_clear_error(tmp_path):
    path = tmp_path / "bomb.opml"
    path.write_bytes(b'<!DOCTYPE opml [<!ENTITY a "x">]><opml><body/></opml>')

    with pytest.raises(CommandError, match="document type"):
        call_command("import_opml", str(path), "--source-per-outline")


def test_export_opml_command_writes_a_file_that_reads_back(tmp_path):
    Feed.objects.create(source=SourceFactory(name="Harbour"), url="https://h.example/feed")
    path = tmp_path / "out.opml"

    call_command("export_opml", str(path), stdout=io.StringIO())

    feeds = read_opml(path.read_bytes()).feeds
    assert [(feed.url, feed.folder) for feed in feeds] == [("https://h.example/feed", "Harbour")]


# --- Admin -----------------------------------------------------------------------------------


@pytest.fixture
def importer_client(client):
    make_user("ingest", groups=(IMPORTERS,))
    assert client.login(username="ingest", password=PASSWORD)
    return client


def upload(client, data: bytes, **fields):
    return client.post(
        IMPORT_OPML,
        {"file": SimpleUploadedFile("feeds.opml", data, "text/x-opml"), **fields},
        follow=True,
    )


def test_the_feed_list_links_to_the_opml_upload(importer_client):
    page = importer_client.get(FEEDS)

    assert IMPORT_OPML.encode() in page.content


def test_the_admin_upload_shows_a_dry_run_then_adds_the_feeds(importer_client):
    preview = upload(importer_client, READER_EXPORT, dry_run="on")

    assert b"would add 4 feed(s) and 3 new source(s)" in preview.content
    assert b"https://valley.example/rss" in preview.content
    assert not Feed.objects.exists()

    done = upload(importer_client, READER_EXPORT)

    assert Feed.objects.count() == 4
    assert any("added 4 feed(s)" in text for _level, text in message_texts(done))


def test_the_admin_upload_shows_why_a_file_is_refused(importer_client):
    page = upload(importer_client, b'<!DOCTYPE x [<!ENTITY a "b">]><opml/>')

    assert b"document type" in page.content
    assert not Feed.objects.exists()


def test_editors_without_the_add_feed_permission_cannot_upload(client):
    make_user("desk", groups=(EDITORS,))
    client.login(username="desk", password=PASSWORD)

    assert upload(client, READER_EXPORT).status_code == 403


def test_the_export_action_downloads_the_selected_feeds_as_opml(importer_client):
    wanted = Feed.objects.create(source=SourceFactory(name="Kept"), url="https://k.example/f")
    Feed.objects.create(source=SourceFactory(name="Other"), url="https://o.example/f")

    response = importer_client.post(
        FEEDS, {"action": "export_as_opml", "_selected_action": [str(wanted.pk)]}
    )

    assert response["Content-Disposition"] == 'attachment; filename="feeds.opml"'
    feeds = read_opml(response.content).feeds
    assert [(feed.url, feed.folder) for feed in feeds] == [("https://k.example/f", "Kept")]
