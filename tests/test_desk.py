"""The editorial desk: the admin named after the site, the desk as its home with figures that
link to the lists behind them, the review queue and its review screen, bulk classification."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from articles.editorial.dashboard import Figure, panels_for, register_panel
from articles.editorial.roles import EDITORS, IMPORTERS
from articles.models import ArticleStatus
from syndication.items import ParsedFeed, ParsedItem
from syndication.models import (
    DuplicateKind,
    Feed,
    ImportedItem,
    MappingRule,
    OriginalCheck,
    PossibleDuplicate,
    RunKind,
)
from syndication.pipeline.runs import start_run
from tests.factories import (
    LicensedSourceFactory,
    PublishedArticleFactory,
    RegionFactory,
    RightsRecordFactory,
    SourceFactory,
    ThemeFactory,
    make_user,
)

from .admin_helpers import PASSWORD, message_texts

pytestmark = pytest.mark.django_db

DESK = reverse("admin:index")
QUEUE = reverse("admin:syndication_importeditem_changelist")
HOSTILE = '"><img src=x onerror=alert(1)>'


def review_url(item) -> str:
    return reverse("admin:syndication_importeditem_review", args=[item.pk])


def log_in(client, username, **extra):
    make_user(username, **extra)
    assert client.login(username=username, password=PASSWORD)
    return client


@pytest.fixture
def editor(client):
    return log_in(client, "desk", groups=(EDITORS,))


@pytest.fixture
def importer(client):
    return log_in(client, "ingest", groups=(IMPORTERS,))


def queued(
    source=None, *, guid="g-1", status=ArticleStatus.REVIEW, feed=None, **fields
) -> ImportedItem:
    """An article imported through the real pipeline, in review unless told otherwise."""
    from syndication.entry import import_document

    source = source or LicensedSourceFactory()
    values = {"guid": guid, "title": f"Story {guid}", "link": f"https://origin.example/{guid}"}
    values.update(fields)
    run = start_run(RunKind.FEED, source, feed=feed, fetched_from="memory")
    parsed = ParsedFeed(format="rss", items=[ParsedItem(**values)])
    import_document(source, parsed, run=run, feed=feed, status=status)
    return ImportedItem.objects.select_related("article").get(source=source, guid=guid)


def queue_of(count: int) -> list[ImportedItem]:
    """`count` items in review, fetched a minute apart: the last is the newest."""
    source = LicensedSourceFactory()
    items = []
    start = timezone.now() - datetime.timedelta(hours=1)
    for number in range(count):
        item = queued(source, guid=f"q{number}")
        ImportedItem.objects.filter(pk=item.pk).update(
            fetched_at=start + datetime.timedelta(minutes=number)
        )
        items.append(item)
    return items


def figures(response) -> dict[str, Figure]:
    return {
        figure.label: figure for panel in response.context["panels"] for figure in panel.figures
    }


# --- The admin site ---------------------------------------------------------------------------


def test_the_admin_is_named_after_the_site(editor, settings):
    html = editor.get(DESK).content.decode()

    assert f'<a href="{DESK}">{settings.SITE_NAME}</a>' in html
    assert "Django administration" not in html
    assert f"<title>Desk | {settings.SITE_NAME} desk</title>" in html
    assert "admin_extra/desk.css" in html and "admin_extra/desk.js" in html


def test_a_login_lands_on_the_desk(client):
    make_user("desk", groups=(EDITORS,))

    response = client.post(
        reverse("admin:login"), {"username": "desk", "password": PASSWORD}, follow=True
    )

    assert response.redirect_chain[-1][0] == DESK
    assert [panel.title for panel in response.context["panels"]][:2] == [
        "Review queue",
        "Articles",
    ]


# --- The desk -----------------------------------------------------------------------------------


def test_every_figure_counts_what_its_link_lists(editor):
    now = timezone.now()
    in_review = queued(guid="r1")
    queued(guid="d1", status=ArticleStatus.DRAFT)
    ImportedItem.objects.filter(pk=in_review.pk).update(upstream_changed=True)
    PossibleDuplicate.objects.create(
        article=in_review.article,
        duplicate_of=PublishedArticleFactory(),
        kind=DuplicateKind.NEAR,
        similarity=0.8,
    )
    PublishedArticleFactory(published_at=now + datetime.timedelta(hours=3))
    PublishedArticleFactory(published_at=now + datetime.timedelta(days=3))
    RightsRecordFactory(expires_on=timezone.localdate() + datetime.timedelta(days=10))
    ended = RightsRecordFactory(
        granted_on=timezone.localdate() - datetime.timedelta(days=100),
        expires_on=timezone.localdate() - datetime.timedelta(days=1),
    )
    PublishedArticleFactory(source=ended.source)  # its source's policy flags it, live
    OriginalCheck.objects.create(article=PublishedArticleFactory(), flagged=True)
    source = LicensedSourceFactory()
    Feed.objects.create(source=source, url="https://a.example/feed", consecutive_failures=2)
    Feed.objects.create(
        source=source,
        url="https://b.example/feed",
        is_active=False,
        dead_reason="Switched off after 10 failures",
    )

    shown = figures(editor.get(DESK))

    expected = {
        "Awaiting review": 1,
        "Changed upstream": 1,
        "Imported drafts": 1,
        "Possible duplicates to decide": 1,
        "In review": 1,
        "Drafts": 1,
        "Scheduled in the next 24 hours": 1,
        "Permissions expiring in 30 days": 1,
        "Permissions expired or revoked": 1,
        "Live articles whose rights ended": 1,
        "Originals gone or retracted": 1,
        "Failing": 1,
        "Switched off after failures": 1,
    }
    for label, count in expected.items():
        figure = shown[label]
        listing = editor.get(figure.url)
        assert listing.status_code == 200, label
        assert (figure.count, listing.context["cl"].result_count) == (count, count), label


def test_a_figure_that_needs_attention_stands_out_only_when_it_is_not_zero(editor):
    queued(guid="r1")

    html = editor.get(DESK).content.decode()

    assert html.count("desk-figure-attention") == 0
    Feed.objects.create(
        source=LicensedSourceFactory(), url="https://a.example/feed", consecutive_failures=1
    )
    assert editor.get(DESK).content.decode().count("desk-figure-attention") == 1


def test_the_desk_lists_the_last_import_runs_with_links(editor):
    item = queued(guid="r1")

    shown = figures(editor.get(DESK))

    run_lines = [f for f in shown.values() if f.count is None and "·" in f.label]
    assert [line.url for line in run_lines] == [
        reverse("admin:syndication_importrun_change", args=[item.run_id])
    ]
    assert "Succeeded" in run_lines[0].detail


def test_the_desk_reads_the_same_number_of_queries_whatever_the_data(editor):
    editor.get(DESK)  # sessions, permissions and content types are read once per process
    with CaptureQueriesContext(connection) as empty:
        editor.get(DESK)

    queue_of(6)
    for days in (1, 2, 3):
        RightsRecordFactory(expires_on=timezone.localdate() + datetime.timedelta(days=days))
        PublishedArticleFactory(published_at=timezone.now() + datetime.timedelta(hours=days))
    with CaptureQueriesContext(connection) as full:
        response = editor.get(DESK)

    assert figures(response)["Awaiting review"].count == 6
    assert len(full) == len(empty), [q["sql"] for q in full.captured_queries]


def test_an_importer_sees_the_panels_of_their_permissions(importer):
    panels = [panel.key for panel in importer.get(DESK).context["panels"]]

    assert panels == ["review", "articles", "feeds", "originals", "rights", "runs"]


def test_other_apps_add_panels_without_articles_knowing_them(rf, django_user_model):
    calls = []

    @register_panel("test-extra", "Extra", permission="articles.view_article", order=99)
    def extra(request):
        calls.append(request)
        return [Figure("Possible duplicates", "/admin/", 3)]

    try:
        request = rf.get("/admin/")
        request.user = django_user_model.objects.create_superuser("boss", password="x")
        shown = panels_for(request)
    finally:
        from articles.editorial import dashboard

        dashboard._PANELS.pop("test-extra")

    assert shown[-1].title == "Extra" and shown[-1].figures[0].count == 3
    assert calls == [request]


# --- The review queue ------------------------------------------------------------------------


def test_the_queue_opens_on_what_awaits_review_newest_first(editor):
    items = queue_of(3)
    queued(guid="draft", status=ArticleStatus.DRAFT)
    published = queued(guid="done")
    published.article.publish()

    response = editor.get(QUEUE)

    assert response.context["title"] == "Review queue"
    assert [r.pk for r in response.context["cl"].result_list] == [i.pk for i in reversed(items)]
    html = response.content.decode()
    assert review_url(items[-1]) in html
    assert "icon-no.svg" not in html  # "not changed upstream" is a quiet dash, not a red cross


def test_the_queue_lists_in_a_constant_number_of_queries(editor, django_assert_max_num_queries):
    queue_of(2)
    editor.get(QUEUE)
    with CaptureQueriesContext(connection) as few:
        editor.get(QUEUE)
    queue_of(8)
    with django_assert_max_num_queries(len(few)):
        response = editor.get(QUEUE)
    assert response.context["cl"].result_count == 10


def test_the_review_screen_shows_the_original_as_text_beside_the_cleaned_article(editor):
    item = queued(content_html=f"<p>Kept</p><script>alert(1)</script>{HOSTILE}")

    response = editor.get(review_url(item))

    html = response.content.decode()
    assert response.status_code == 200
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<script>alert(1)" not in html and "onerror=alert(1)>" not in html
    assert "<p>Kept</p>" in html
    for decision in ("publish", "schedule", "send_back", "discard"):
        assert f'name="decision" value="{decision}"' in html


def test_publishing_from_the_review_screen_moves_on_to_the_next_item(editor):
    older, newer = queue_of(2)

    response = editor.post(review_url(newer), {"decision": "publish"})

    assert response.status_code == 302 and response["Location"] == review_url(older)
    newer.article.refresh_from_db()
    assert newer.article.is_live


def test_each_decision_takes_the_item_out_of_the_queue_until_it_is_clear(editor):
    first, second, third, fourth = reversed(queue_of(4))  # newest first, as the queue shows
    at = timezone.localtime() + datetime.timedelta(days=1)

    editor.post(review_url(first), {"decision": "publish"})
    editor.post(
        review_url(second), {"decision": "schedule", "publish_at": at.strftime("%Y-%m-%dT%H:%M")}
    )
    editor.post(review_url(third), {"decision": "send_back"})
    last = editor.post(review_url(fourth), {"decision": "discard"}, follow=True)

    statuses = {
        item.pk: (item.article.display_status)
        for item in ImportedItem.objects.select_related("article")
    }
    assert statuses == {
        first.pk: "Published",
        second.pk: "Scheduled",
        third.pk: "Draft",
        fourth.pk: "Withdrawn",
    }
    assert last.redirect_chain[-1][0] == QUEUE
    assert "The review queue is clear." in [text for _level, text in message_texts(last)]
    assert last.context["cl"].result_count == 0


def test_classification_is_saved_with_the_decision(editor):
    item = queued(guid="c1", categories=["Harbours"])  # an unmapped category: a tag
    region, theme = RegionFactory(name="Europe"), ThemeFactory(name="Oceans")
    item.article.tags.add("ports")

    editor.post(
        review_url(item),
        {
            "decision": "publish",
            "regions": [region.pk],
            "themes": [theme.pk],
            "tags": [item.article.tags.get(name="ports").pk],
            "new_tags": "cold chain, fishing",
        },
    )

    article = item.article
    article.refresh_from_db()
    assert article.is_live
    assert list(article.regions.all()) == [region] and list(article.themes.all()) == [theme]
    assert sorted(article.tags.names()) == ["cold chain", "fishing", "ports"]  # Harbours removed


def test_a_refused_decision_says_why_and_saves_nothing(editor):
    item = queued(SourceFactory(name="No Rights Daily"))
    region = RegionFactory()

    response = editor.post(review_url(item), {"decision": "publish", "regions": [region.pk]})

    assert response.status_code == 200
    assert "No Rights Daily" in " ".join(response.context["form"].non_field_errors())
    item.article.refresh_from_db()
    assert item.article.status == ArticleStatus.REVIEW
    assert not item.article.regions.exists()


def test_scheduling_needs_a_time_in_the_future(editor):
    item = queued()
    past = timezone.localtime() - datetime.timedelta(hours=1)

    response = editor.post(
        review_url(item), {"decision": "schedule", "publish_at": past.strftime("%Y-%m-%dT%H:%M")}
    )

    assert "in the future" in " ".join(response.context["form"].non_field_errors())
    item.article.refresh_from_db()
    assert item.article.status == ArticleStatus.REVIEW


def test_an_importer_classifies_and_sends_back_but_may_not_publish_or_discard(importer):
    item = queued()

    html = importer.get(review_url(item)).content.decode()
    refused = [
        importer.post(review_url(item), {"decision": decision}).status_code
        for decision in ("publish", "schedule", "discard")
    ]
    sent_back = importer.post(review_url(item), {"decision": "send_back"})

    assert 'value="publish"' not in html and 'value="discard"' not in html
    assert 'value="send_back"' in html
    assert refused == [403, 403, 403]
    assert sent_back.status_code == 302
    item.article.refresh_from_db()
    assert item.article.status == ArticleStatus.DRAFT


def test_the_mapping_rules_suggest_a_classification_an_editor_adds_with_one_button(editor):
    source = LicensedSourceFactory()
    feed = Feed.objects.create(source=source, url="https://o.example/feed")
    item = queued(source, feed=feed, categories=["Harbours", "Fisheries"])
    europe = RegionFactory(name="Europe")
    MappingRule.objects.create(feed=feed, category="Harbours", region=europe)
    MappingRule.objects.create(feed=feed, category="Harbours", tag="ports")

    suggested = editor.get(review_url(item)).context["suggestions"]
    editor.post(review_url(item), {"decision": "suggestions"})

    assert (suggested.regions, suggested.tags) == ([europe], ["ports"])
    assert list(item.article.regions.all()) == [europe]
    assert "ports" in item.article.tags.names()
    assert editor.get(review_url(item)).context["suggestions"].regions == []


def test_keys_are_shown_and_marked_for_the_script(editor):
    older, newer = queue_of(2)

    html = editor.get(review_url(newer)).content.decode()

    for key in ("j", "p", "s", "b", "d", "u"):
        assert f'data-desk-key="{key}"' in html
    assert 'data-desk-submit="decision-schedule"' in html
    assert 'id="decision-schedule"' in html
    assert review_url(older) in html  # j: the next item down the queue


# --- Bulk classification -----------------------------------------------------------------------


def test_a_selection_is_classified_in_bulk_after_a_form(editor):
    first, second = queue_of(2)
    region = RegionFactory(name="Asia")
    first.article.regions.add(RegionFactory(name="Europe"))
    selection = {"action": "classify", "_selected_action": [first.pk, second.pk]}

    form_page = editor.post(QUEUE, selection)
    applied = editor.post(
        QUEUE, {**selection, "apply": "1", "regions": [region.pk], "new_tags": "ferries"}
    )

    assert form_page.status_code == 200 and "Classify the selected articles" in (
        form_page.content.decode()
    )
    assert applied.status_code == 302
    for item in (first, second):
        assert region in item.article.regions.all()
        assert item.article.tags.names()[0] == "ferries"
    assert first.article.regions.count() == 2  # what it had stays


def test_bulk_classification_with_nothing_chosen_says_so(editor):
    (item,) = queue_of(1)

    response = editor.post(
        QUEUE, {"action": "classify", "_selected_action": [item.pk], "apply": "1"}
    )

    assert response.status_code == 200
    assert "Choose at least one" in response.content.decode()


def test_the_article_list_classifies_a_selection_too(editor):
    first, second = PublishedArticleFactory(), PublishedArticleFactory()
    theme = ThemeFactory(name="Energy")
    articles = reverse("admin:articles_article_changelist")

    response = editor.post(
        articles,
        {
            "action": "classify",
            "_selected_action": [first.pk, second.pk],
            "apply": "1",
            "themes": [theme.pk],
        },
    )

    assert response.status_code == 302
    assert [list(a.themes.all()) for a in (first, second)] == [[theme], [theme]]
