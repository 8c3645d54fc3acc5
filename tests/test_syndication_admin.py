"""The import admin: feeds with their health, run logs, the URL import form and the review queue."""

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from articles.editorial.roles import EDITORS, IMPORTERS
from articles.models import Article, ArticleStatus
from syndication.entry import import_feed
from syndication.items import ParsedItem
from syndication.models import Feed, ImportedItem, ImportRun, MappingRule, RunKind
from syndication.pipeline.payload import item_payload
from syndication.pipeline.runs import start_run
from tests.factories import LicensedSourceFactory, RegionFactory, SourceFactory, make_user
from tests.feedbuilders import rss, story
from tests.httpserver import LocalServer

from .admin_helpers import PASSWORD, management_form, message_texts

pytestmark = pytest.mark.django_db

HOSTILE = '"><img src=x onerror=alert(1)>'
FEEDS = "/admin/syndication/feed/"
RUNS = "/admin/syndication/importrun/"
ITEMS = "/admin/syndication/importeditem/"
IMPORT_URL = reverse("admin:syndication_import_url")


def log_in(client, username, **extra):
    make_user(username, **extra)
    assert client.login(username=username, password=PASSWORD)
    return client


@pytest.fixture
def chief(client):
    return log_in(client, "chief", is_superuser=True)


@pytest.fixture
def importer_user(client):
    return log_in(client, "ingest", groups=(IMPORTERS,))


@pytest.fixture
def editor(client):
    return log_in(client, "desk", groups=(EDITORS,))


@pytest.fixture
def server(settings):
    settings.SYNDICATION_ALLOWED_HOSTS = ["127.0.0.1"]
    with LocalServer() as running:
        running.routes["/feed.xml"] = (
            200,
            {"Content-Type": "application/rss+xml"},
            rss([story(1), story(2)]),
        )
        yield running


def imported(source=None, **item_fields) -> ImportedItem:
    """An article imported through the real pipeline from an in-memory item."""
    from syndication.entry import import_document
    from syndication.items import ParsedFeed

    source = source or LicensedSourceFactory()
    values = {"guid": "g-1", "title": "Imported piece", "link": "https://origin.example/piece"}
    values.update(item_fields)
    run = start_run(RunKind.FEED, source, fetched_from="memory")
    import_document(source, ParsedFeed(format="rss", items=[ParsedItem(**values)]), run=run)
    return ImportedItem.objects.select_related("article").get(guid=values["guid"])


def action(client, url, name, objects):
    return client.post(
        url,
        {"action": name, "_selected_action": [str(o.pk) for o in objects]},
        follow=True,
    )


# ---------------------------------------------------------------------------------------------
# Roles


def test_the_roles_migration_grants_import_permissions():
    importers = set(
        Group.objects.get(name=IMPORTERS).permissions.values_list("codename", flat=True)
    )
    editors = set(Group.objects.get(name=EDITORS).permissions.values_list("codename", flat=True))

    assert {"add_feed", "change_feed", "view_feed", "add_mappingrule", "change_mappingrule",
            "view_importrun", "view_importeditem", "run_import"} <= importers  # fmt: skip
    assert {"view_feed", "view_importrun", "view_importeditem"} <= editors
    assert not {"add_feed", "change_feed", "run_import"} & editors


def test_editors_see_feeds_but_cannot_add_them_or_import(editor):
    assert editor.get(FEEDS).status_code == 200
    assert editor.get(FEEDS + "add/").status_code == 403
    assert editor.get(IMPORT_URL).status_code == 403


# ---------------------------------------------------------------------------------------------
# Feeds


def test_the_feed_list_shows_health_last_run_and_escapes_titles(importer_user, server):
    feed = Feed.objects.create(source=LicensedSourceFactory(), url=server.url("/feed.xml"))
    import_feed(feed)
    Feed.objects.filter(pk=feed.pk).update(title=HOSTILE)

    response = importer_user.get(FEEDS)

    html = response.content.decode()
    assert response.status_code == 200
    assert "<img src=x onerror" not in html and "&quot;&gt;&lt;img" in html
    assert ">OK<" in html
    assert reverse("admin:syndication_importrun_change", args=[ImportRun.objects.get().pk]) in html


def test_fetch_now_imports_and_reports_the_counts(importer_user, server):
    feed = Feed.objects.create(source=LicensedSourceFactory(), url=server.url("/feed.xml"))

    response = action(importer_user, FEEDS, "fetch_now", [feed])

    assert Article.objects.count() == 2
    [(level, text)] = message_texts(response)
    assert level == "success" and "2 created" in text
    assert ImportRun.objects.get().triggered_by.username == "ingest"


def test_a_message_naming_the_feed_prints_its_address_as_written(importer_user, server):
    feed = Feed.objects.create(source=LicensedSourceFactory(), url=server.url("/feed.xml"))

    page = action(importer_user, FEEDS, "fetch_now", [feed]).content.decode()

    assert f"Import of {server.url('/feed.xml')}" in page
    assert "Http://" not in page


def test_fetch_now_reports_a_failure_as_an_error(importer_user, server):
    feed = Feed.objects.create(source=LicensedSourceFactory(), url=server.url("/missing.xml"))

    response = action(importer_user, FEEDS, "fetch_now", [feed])

    [(level, text)] = message_texts(response)
    assert level == "error" and "404" in text


def test_a_feed_is_added_with_mapping_rules_inline(importer_user):
    source, region = LicensedSourceFactory(), RegionFactory(name="Baltic")
    data = {
        "source": source.pk,
        "url": "https://courier.example/feed.xml",
        "title": "",
        "format": "auto",
        "is_active": "on",
        "default_status": "draft",
        "unmapped_categories_as_tags": "on",
        "poll_interval": "60",
        "next_fetch_at_0": "",
        "next_fetch_at_1": "",
        "dead_reason": "",
        **management_form("mapping_rules", total=1),
        "mapping_rules-0-category": "Baltic Sea",
        "mapping_rules-0-match": "contains",
        "mapping_rules-0-region": region.pk,
        "mapping_rules-0-tag": "",
    }

    response = importer_user.post(FEEDS + "add/", data)

    assert response.status_code == 302, response.context["adminform"].form.errors
    rule = MappingRule.objects.get()
    assert (rule.feed.url, rule.region, rule.match) == (data["url"], region, "contains")


def test_a_mapping_rule_needs_exactly_one_target(importer_user):
    source = LicensedSourceFactory()
    data = {
        "source": source.pk,
        "url": "https://courier.example/feed.xml",
        "format": "auto",
        "default_status": "draft",
        "poll_interval": "60",
        **management_form("mapping_rules", total=1),
        "mapping_rules-0-category": "Baltic",
        "mapping_rules-0-match": "exact",
        "mapping_rules-0-tag": "",
    }

    response = importer_user.post(FEEDS + "add/", data)

    assert response.status_code == 200 and not Feed.objects.exists()
    assert "Choose exactly one of region, theme, report or tag." in response.content.decode()


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://10.1.2.3/feed.xml", "private"),
        ("http://courier.example:6379/feed.xml", "port"),
        ("http://user:secret@courier.example/feed.xml", "user"),
    ],
)
def test_a_feed_the_fetcher_would_refuse_is_refused_in_the_form(importer_user, url, reason):
    data = {
        "source": LicensedSourceFactory().pk,
        "url": url,
        "format": "auto",
        "default_status": "draft",
        "poll_interval": "60",
        **management_form("mapping_rules", total=0),
    }

    response = importer_user.post(FEEDS + "add/", data)

    assert response.status_code == 200 and not Feed.objects.exists()
    errors = " ".join(response.context["adminform"].form.errors["url"])
    assert reason in errors.lower()


# ---------------------------------------------------------------------------------------------
# Import from URL


def test_import_url_refuses_a_private_address_with_a_form_error(importer_user):
    source = LicensedSourceFactory()

    response = importer_user.post(
        IMPORT_URL, {"url": "http://10.1.2.3/story", "source": source.pk, "status": "draft"}
    )

    assert response.status_code == 200
    [error] = response.context["form"].errors["url"]
    assert "private" in error
    assert Article.objects.count() == 0


def test_import_url_imports_the_page_and_opens_the_article(importer_user, server):
    from tests.test_importer import ARTICLE_PAGE

    server.routes["/tides"] = (200, {"Content-Type": "text/html"}, ARTICLE_PAGE)
    source = LicensedSourceFactory()

    response = importer_user.post(
        IMPORT_URL, {"url": server.url("/tides"), "source": source.pk, "status": "review"}
    )

    article = Article.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:articles_article_change", args=[article.pk])
    assert article.status == ArticleStatus.REVIEW


# ---------------------------------------------------------------------------------------------
# Runs


def test_runs_are_read_only_and_list_their_failures(importer_user, server):
    server.routes["/feed.xml"] = (
        200,
        {"Content-Type": "application/rss+xml"},
        rss([story(1, title="", link="", guid="")]),
    )
    import_feed(Feed.objects.create(source=LicensedSourceFactory(), url=server.url("/feed.xml")))
    run = ImportRun.objects.get()

    listing = importer_user.get(RUNS + "?status=succeeded")
    detail = importer_user.get(f"{RUNS}{run.pk}/change/")

    assert listing.status_code == 200 and list(listing.context["cl"].result_list) == [run]
    assert detail.status_code == 200
    assert "neither a title nor a link" in detail.content.decode()
    assert importer_user.get(RUNS + "add/").status_code == 403


# ---------------------------------------------------------------------------------------------
# Review queue


def test_imported_drafts_are_listed_apart_and_show_the_original_beside_the_stored(editor):
    record = imported(content_html=f"<p>Kept</p><script>alert(1)</script>{HOSTILE}")

    listing = editor.get(ITEMS + "?queue=drafts")
    detail = editor.get(f"{ITEMS}{record.pk}/change/")

    assert [r.pk for r in listing.context["cl"].result_list] == [record.pk]
    html = detail.content.decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html  # the raw payload, as text
    assert "<script>alert(1)" not in html and "onerror=alert(1)>" not in html
    assert "<p>Kept</p>" in html  # the sanitized body, rendered
    assert detail.context["original"] == record  # the admin's own object, so breadcrumbs name it


def test_bulk_approve_publish_and_reject(editor):
    licensed = LicensedSourceFactory()
    first = imported(licensed, guid="a", link="https://o.example/a")
    second = imported(licensed, guid="b", link="https://o.example/b")
    unlicensed = imported(
        SourceFactory(name="No Rights Daily"), guid="c", link="https://o.example/c"
    )

    everything = ITEMS + "?queue=all"
    action(editor, everything, "approve", [first])
    response = action(editor, everything, "publish", [second, unlicensed])
    action(editor, everything, "reject", [first])

    statuses = {r.guid: r.article.status for r in ImportedItem.objects.select_related("article")}
    assert statuses == {"a": "withdrawn", "b": "published", "c": "draft"}
    texts = [text for _level, text in message_texts(response)]
    assert any("Not published" in t and "No Rights Daily" in t for t in texts)


def test_an_upstream_change_shows_an_escaped_diff_and_can_be_accepted(editor):
    record = imported(content_html="<p>The quay was rebuilt in 1890.</p>")
    ImportedItem.objects.filter(pk=record.pk).update(
        upstream_changed=True,
        upstream_hash="f" * 64,
        upstream_payload=item_payload(
            ParsedItem(
                guid="g-1",
                title="Imported piece",
                link="https://origin.example/piece",
                content_html=f"<p>The quay was rebuilt in 1892. {HOSTILE}</p>",
            )
        ),
    )

    detail = editor.get(f"{ITEMS}{record.pk}/change/")
    html = detail.content.decode()
    assert "<del>The quay was rebuilt in 1890.</del>" in html
    assert "<ins>The quay was rebuilt in 1892." in html
    assert "Accept upstream changes" in html

    response = editor.post(
        reverse("admin:syndication_importeditem_accept", args=[record.pk]),
        {"decision": "accept"},
        follow=True,
    )

    record.refresh_from_db()
    record.article.refresh_from_db()
    assert not record.upstream_changed and record.content_hash == "f" * 64
    assert "1892" in record.article.body and "onerror" not in record.article.body
    assert ("info", "Upstream changes applied to the article.") in message_texts(response)


def test_importers_cannot_publish_from_the_queue(importer_user):
    record = imported()

    response = importer_user.get(ITEMS)

    actions = {name for name, _ in response.context["action_form"].fields["action"].choices}
    assert "publish" not in actions and "reject" not in actions
    assert {"approve", "accept_changes"} <= actions
    assert record.article.status == ArticleStatus.DRAFT


def test_accepting_needs_a_post_and_the_right_to_edit_articles(client):
    from django.contrib.auth.models import Permission

    record = imported()
    viewer = make_user("auditor")
    viewer.user_permissions.add(Permission.objects.get(codename="view_importeditem"))
    client.login(username="auditor", password=PASSWORD)
    accept = reverse("admin:syndication_importeditem_accept", args=[record.pk])

    assert client.get(f"{ITEMS}{record.pk}/change/").status_code == 200
    assert client.get(accept).status_code == 405
    assert client.post(accept, {"decision": "accept"}).status_code == 403


def test_items_with_problems_and_deleted_articles_still_list(chief):
    flagged = imported(guid="bad-date", link="https://o.example/d", date_problem="unparseable")
    gone = imported(guid="gone", link="https://o.example/gone")
    gone.article.delete()
    imported(guid="fine", link="https://o.example/fine")

    problems = chief.get(ITEMS + "?queue=problems")
    everything = chief.get(ITEMS + "?queue=all")

    assert [r.pk for r in problems.context["cl"].result_list] == [flagged.pk]
    assert everything.status_code == 200 and "deleted (gone)" in everything.content.decode()
    assert chief.get(f"{ITEMS}{gone.pk}/change/").status_code == 200


def test_switching_a_dead_feed_back_on_starts_it_afresh(importer_user):
    feed = Feed.objects.create(
        source=LicensedSourceFactory(),
        url="https://courier.example/feed.xml",
        is_active=False,
        consecutive_failures=10,
        dead_reason="Switched off after 10 failed fetches in a row.",
    )
    data = {
        "source": feed.source.pk,
        "url": feed.url,
        "title": "",
        "format": "auto",
        "is_active": "on",
        "default_status": "draft",
        "poll_interval": "60",
        "next_fetch_at_0": "",
        "next_fetch_at_1": "",
        "dead_reason": feed.dead_reason,
        **management_form("mapping_rules"),
    }

    response = importer_user.post(f"{FEEDS}{feed.pk}/change/", data)

    assert response.status_code == 302
    feed.refresh_from_db()
    assert (feed.is_active, feed.consecutive_failures, feed.dead_reason) == (True, 0, "")
    assert feed.health == "new"


def test_the_run_list_links_to_the_url_import_for_importers_only(importer_user, client):
    assert IMPORT_URL in importer_user.get(RUNS).content.decode()
    client.logout()
    log_in(client, "desk", groups=(EDITORS,))
    assert IMPORT_URL not in client.get(RUNS).content.decode()


# ---------------------------------------------------------------------------------------------
# H1: only Editors publish or schedule, on every import path. An Importer who asks for
# "published" gets "in review", and is told why.

WHY_IN_REVIEW = "may not publish"


def feed_publishing_by_default(server) -> Feed:
    """A feed an Editor (here a superuser) set to publish what it imports."""
    return Feed.objects.create(
        source=LicensedSourceFactory(), url=server.url("/feed.xml"), default_status="published"
    )


def statuses() -> set[str]:
    return set(Article.objects.values_list("status", flat=True))


def test_an_importer_asking_import_from_url_to_publish_gets_review_and_the_reason(
    importer_user, server
):
    from tests.test_importer import ARTICLE_PAGE

    server.routes["/tides"] = (200, {"Content-Type": "text/html"}, ARTICLE_PAGE)
    source = LicensedSourceFactory()

    response = importer_user.post(
        IMPORT_URL, {"url": server.url("/tides"), "source": source.pk, "status": "published"},
        follow=True,
    )  # fmt: skip

    assert statuses() == {ArticleStatus.REVIEW}
    assert any(WHY_IN_REVIEW in text for _level, text in message_texts(response))
    run = ImportRun.objects.get()
    assert run.requested_status == "published"
    assert any(WHY_IN_REVIEW in note for note in run.notes)


def test_an_importer_fetching_a_publishing_feed_now_gets_review_and_the_reason(
    importer_user, server
):
    feed = feed_publishing_by_default(server)

    response = action(importer_user, FEEDS, "fetch_now", [feed])

    assert statuses() == {ArticleStatus.REVIEW}
    assert any(WHY_IN_REVIEW in text for _level, text in message_texts(response))


def test_an_importer_fetching_a_publishing_feed_in_the_background_gets_review(
    importer_user, server, django_capture_on_commit_callbacks
):
    feed = feed_publishing_by_default(server)

    with django_capture_on_commit_callbacks(execute=True):
        with_task = action(importer_user, FEEDS, "fetch_in_background", [feed])

    assert with_task.status_code == 200
    assert statuses() == {ArticleStatus.REVIEW}
    run = ImportRun.objects.get()
    assert run.triggered_by.username == "ingest"
    assert any(WHY_IN_REVIEW in note for note in run.notes)


def test_someone_who_may_publish_gets_what_they_asked_for(client, server):
    log_in(client, "both", groups=(EDITORS, IMPORTERS))
    feed = feed_publishing_by_default(server)

    action(client, FEEDS, "fetch_now", [feed])

    assert statuses() == {ArticleStatus.PUBLISHED}
    assert ImportRun.objects.get().notes == []


def test_a_scheduled_run_of_a_feed_an_editor_set_to_publish_publishes(server):
    feed = feed_publishing_by_default(server)

    import_feed(feed, triggered_by="task")

    assert statuses() == {ArticleStatus.PUBLISHED}


def feed_form_data(source, **fields) -> dict:
    return {
        "source": source.pk,
        "url": "https://courier.example/feed.xml",
        "format": "auto",
        "is_active": "on",
        "default_status": "draft",
        "unmapped_categories_as_tags": "on",
        "poll_interval": "60",
        **management_form("mapping_rules", total=0),
        **fields,
    }


def test_an_importer_cannot_make_a_feed_publish_by_default(importer_user):
    source = LicensedSourceFactory()

    form_page = importer_user.get(FEEDS + "add/")
    response = importer_user.post(
        FEEDS + "add/", feed_form_data(source, default_status="published")
    )

    offered = [value for value, _label in form_page.context["adminform"].form.fields[
        "default_status"].widget.choices]  # fmt: skip
    assert "published" not in offered
    assert response.status_code == 200 and not Feed.objects.exists()
    assert response.context["adminform"].form.errors["default_status"]


def test_an_importer_may_edit_a_publishing_feed_without_changing_its_status(importer_user, server):
    feed = feed_publishing_by_default(server)
    data = feed_form_data(feed.source, url=feed.url, default_status="published", title="Renamed")

    response = importer_user.post(f"{FEEDS}{feed.pk}/change/", data)

    assert response.status_code == 302, response.context["adminform"].form.errors
    feed.refresh_from_db()
    assert (feed.title, feed.default_status) == ("Renamed", "published")


def test_an_editor_may_make_a_feed_publish_by_default(client):
    log_in(client, "both", groups=(EDITORS, IMPORTERS))
    source = LicensedSourceFactory()

    response = client.post(FEEDS + "add/", feed_form_data(source, default_status="published"))

    assert response.status_code == 302, response.context["adminform"].form.errors
    assert Feed.objects.get().default_status == "published"


def test_an_importer_cannot_publish_from_the_review_queue(importer_user):
    record = imported()

    response = action(importer_user, ITEMS + "?queue=all", "publish", [record])

    assert response.status_code == 200
    record.article.refresh_from_db()
    assert record.article.status != ArticleStatus.PUBLISHED
