"""The public corrections and updates log: a note for readers whenever a live article's words
change (in the admin, on accepting an upstream change, from the commands), printed with its
date on the page, carried by the JSON-LD and moving the feeds' last update and the page cache."""

import datetime
import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse
from django.utils import timezone
from lxml import html

from articles.editorial.roles import EDITORS
from articles.models import Article, Correction, CorrectionKind
from articles.site import signals
from articles.site.caching import CACHE_STATUS_HEADER
from articles.site.generation import article_scope
from syndication.models import ImportedItem
from syndication.pipeline.upstream import CorrectionNoteRequired, accept_upstream_changes

from .admin_helpers import article_form_data, change_url, form_errors, message_texts
from .factories import ArticleFactory, PublishedArticleFactory, make_user
from .test_licence_terms import with_upstream_change
from .test_query_counts import queries_to_render
from .test_syndication_admin import imported

pytestmark = pytest.mark.django_db

ITEMS = "/admin/syndication/importeditem/"


@pytest.fixture
def editor(client):
    user = make_user("desk", groups=(EDITORS,))
    assert client.login(username="desk", password="correct horse battery")
    client.user = user
    return client


def page(client, article):
    return html.fromstring(client.get(article.get_absolute_url()).content)


def json_ld(tree) -> dict:
    (script,) = tree.cssselect('script[type="application/ld+json"]')
    return json.loads(script.text)


def live_import(**fields) -> ImportedItem:
    record = imported(content_html="<p>The quay was rebuilt in 1890.</p>", **fields)
    record.article.publish()
    return with_upstream_change(record, "<p>The quay was rebuilt in 1892.</p>")


# ---------------------------------------------------------------------------------------------
# Editing a live article in the admin


class TestAdminNote:
    def test_changing_a_live_articles_words_asks_for_a_note(self, editor):
        article = PublishedArticleFactory(title="Mayor opens the quay")

        response = editor.post(
            change_url(article), article_form_data(article, title="Mayor reopens the quay")
        )

        assert response.status_code == 200
        (error,) = form_errors(response)["correction_note"]
        assert "say in one line what changed" in error
        assert "Note for readers" in response.content.decode()
        article.refresh_from_db()
        assert article.title == "Mayor opens the quay"

    @pytest.mark.parametrize(
        "change",
        [
            {"title": "Mayor reopens the quay"},
            {"dek": "A new summary."},
            {"body": "<p>Different words entirely.</p>"},
        ],
    )
    def test_the_note_is_logged_with_its_kind_author_and_date(self, editor, change):
        article = PublishedArticleFactory(title="Mayor opens the quay")
        before = timezone.now()

        response = editor.post(
            change_url(article),
            article_form_data(
                article,
                **change,
                correction_note="  Corrected the\nmayor's name. ",
                correction_kind=CorrectionKind.CORRECTION,
            ),
        )

        assert response.status_code == 302
        (correction,) = article.corrections.all()
        assert correction.note == "Corrected the mayor's name."
        assert correction.kind == CorrectionKind.CORRECTION
        assert correction.created_by == editor.user
        assert correction.created_at >= before

    def test_typographic_fixes_need_no_note(self, editor):
        article = PublishedArticleFactory(body="<p>“Quoted” -- words...</p>", dek="It's here.")

        response = editor.post(
            change_url(article),
            article_form_data(article, body='<p>"Quoted" — words…</p>', dek="It’s here."),
        )

        assert response.status_code == 302
        assert not Correction.objects.exists()

    def test_drafts_and_metadata_need_no_note(self, editor):
        draft = ArticleFactory(title="Draft title")
        live = PublishedArticleFactory()

        edited_draft = editor.post(change_url(draft), article_form_data(draft, title="New title"))
        tagged_live = editor.post(change_url(live), article_form_data(live, tags="harbour"))

        assert edited_draft.status_code == tagged_live.status_code == 302
        assert not Correction.objects.exists()

    def test_the_log_is_listed_on_the_article_form(self, editor):
        article = PublishedArticleFactory()
        article.log_change("Added the council's reply.")

        response = editor.get(change_url(article))

        assert "Added the council&#x27;s reply." in response.content.decode()


# ---------------------------------------------------------------------------------------------
# What readers see


class TestPublicLog:
    def test_the_page_lists_the_notes_with_their_dates_in_order(self, client):
        article = PublishedArticleFactory()
        first = article.log_change("Corrected the year.", kind=CorrectionKind.CORRECTION)
        Correction.objects.filter(pk=first.pk).update(
            created_at=datetime.datetime(2026, 3, 2, 9, 30, tzinfo=datetime.UTC)
        )
        article.log_change("Added the council's reply.")

        (log,) = page(client, article).cssselect('[data-block="corrections"]')

        assert log.cssselect("h2")[0].text_content() == "Corrections and updates"
        items = [" ".join(li.text_content().split()) for li in log.cssselect("li")]
        assert items[0] == "Correction, 2 March 2026, 09:30: Corrected the year."
        assert items[1].startswith("Update, ") and items[1].endswith(": Added the council's reply.")
        assert log.cssselect("time")[0].get("datetime") == "2026-03-02T09:30:00+00:00"

    def test_a_page_without_notes_has_no_log(self, client):
        article = PublishedArticleFactory()

        assert not page(client, article).cssselect('[data-block="corrections"]')

    def test_the_json_ld_carries_each_note_and_the_modification(self, client):
        article = PublishedArticleFactory()
        correction = article.log_change("Corrected the year.", kind=CorrectionKind.CORRECTION)

        data = json_ld(page(client, article))

        assert data["correction"] == [
            {
                "@type": "CorrectionComment",
                "name": "Correction",
                "text": "Corrected the year.",
                "datePublished": correction.created_at.isoformat(),
            }
        ]
        assert data["dateModified"] == correction.created_at.isoformat()

    def test_hostile_notes_are_printed_as_text(self, client):
        article = PublishedArticleFactory()
        article.log_change('<script>alert(1)</script>"><img src=x onerror=alert(2)>')

        response = client.get(article.get_absolute_url())
        tree = html.fromstring(response.content)

        assert not tree.cssselect('[data-block="corrections"] script, img[onerror]')
        assert "<script>alert(1)</script>" in json_ld(tree)["correction"][0]["text"]

    def test_the_page_costs_the_same_queries_with_many_notes(self, client):
        few, many = PublishedArticleFactory(), PublishedArticleFactory()
        few.log_change("The one update.")
        for number in range(5):
            many.log_change(f"Update number {number}.")

        assert queries_to_render(client, few.get_absolute_url()) == queries_to_render(
            client, many.get_absolute_url()
        )


class TestFeeds:
    def test_a_note_moves_the_items_last_update_in_every_feed(self, client):
        article = PublishedArticleFactory(published_at=timezone.now() - datetime.timedelta(days=3))
        Article.objects.filter(pk=article.pk).update(
            updated_at=timezone.now() - datetime.timedelta(days=2)
        )
        correction = article.log_change("Corrected the year.")

        (item,) = json.loads(client.get(reverse("discovery:feed_json")).content)["items"]
        atom = html.fromstring(client.get(reverse("discovery:feed_atom")).content)
        rss = client.get(reverse("discovery:feed_rss")).content.decode()

        assert item["date_modified"] == correction.created_at.isoformat()
        (updated,) = atom.xpath("//entry/updated/text()")
        assert datetime.datetime.fromisoformat(updated) == correction.created_at
        assert "Corrected the year." not in rss  # the note is the page's, not the item's text

    def test_a_note_with_an_earlier_date_does_not_move_it_back(self):
        article = PublishedArticleFactory()
        article.refresh_from_db()
        last_save = article.updated_at

        Correction.objects.create(
            article=article, note="Backfilled note.", created_at=last_save - datetime.timedelta(1)
        )

        article.refresh_from_db()
        assert article.updated_at == last_save


class TestPageCache:
    def test_a_note_on_a_live_article_moves_its_page(
        self, monkeypatch, django_capture_on_commit_callbacks
    ):
        with django_capture_on_commit_callbacks(execute=True):
            article = PublishedArticleFactory()
        moved = []
        monkeypatch.setattr(signals, "move_generations", lambda scopes: moved.append(set(scopes)))

        with django_capture_on_commit_callbacks(execute=True):
            article.log_change("Corrected the year.")

        (scopes,) = moved
        assert article_scope(article.slug) in scopes

    def test_a_cached_page_shows_a_new_note_at_once(
        self, client, django_capture_on_commit_callbacks
    ):
        with django_capture_on_commit_callbacks(execute=True):
            article = PublishedArticleFactory()
        client.get(article.get_absolute_url())
        assert client.get(article.get_absolute_url())[CACHE_STATUS_HEADER] == "hit"

        with django_capture_on_commit_callbacks(execute=True):
            correction = article.log_change("Corrected the year.")
        response = client.get(article.get_absolute_url())

        assert response[CACHE_STATUS_HEADER] == "miss"
        assert b"Corrected the year." in response.content

        with django_capture_on_commit_callbacks(execute=True):
            correction.delete()
        assert b"Corrected the year." not in client.get(article.get_absolute_url()).content

    def test_a_note_on_a_draft_moves_nothing(self, monkeypatch, django_capture_on_commit_callbacks):
        with django_capture_on_commit_callbacks(execute=True):
            draft = ArticleFactory()
        moved = []
        monkeypatch.setattr(signals, "move_generations", lambda scopes: moved.append(scopes))

        with django_capture_on_commit_callbacks(execute=True):
            Correction.objects.create(article=draft, note="Before publication.")

        assert moved == []


class TestNoteRules:
    def test_a_note_is_one_line_of_at_most_300_characters(self):
        article = PublishedArticleFactory()

        correction = article.log_change("First line\r\n\tsecond line\x00 " + "x" * 400)

        assert correction.note.startswith("First line second line x")
        assert len(correction.note) == 300

    def test_an_empty_note_is_refused(self):
        article = PublishedArticleFactory()

        with pytest.raises(Exception, match="Say in one line what changed"):
            article.log_change(" \n ")
        assert not Correction.objects.exists()


# ---------------------------------------------------------------------------------------------
# Accepting an upstream change


class TestUpstreamNote:
    def test_from_code_a_live_article_needs_the_note(self):
        record = live_import()

        with pytest.raises(CorrectionNoteRequired, match="needs a one-line note"):
            accept_upstream_changes(record, download_images=False)

        record.refresh_from_db()
        assert record.upstream_changed
        assert "1890" in record.article.body
        assert not Correction.objects.exists()

    def test_from_code_the_note_is_logged_with_the_change(self):
        record = live_import()

        accept_upstream_changes(
            record,
            note="The source corrected the year.",
            kind=CorrectionKind.CORRECTION,
            download_images=False,
        )

        article = Article.objects.get(pk=record.article_id)
        assert "1892" in article.body
        (correction,) = article.corrections.all()
        assert (correction.note, correction.kind) == (
            "The source corrected the year.",
            CorrectionKind.CORRECTION,
        )

    def test_a_draft_needs_no_note_and_gets_no_log(self):
        record = imported(content_html="<p>The quay was rebuilt in 1890.</p>")
        with_upstream_change(record, "<p>The quay was rebuilt in 1892.</p>")

        assert accept_upstream_changes(record, download_images=False)
        assert not Correction.objects.exists()

    def test_the_review_screen_asks_for_the_note(self, editor):
        record = live_import()
        accept = reverse("admin:syndication_importeditem_accept", args=[record.pk])

        screen = editor.get(f"{ITEMS}{record.pk}/change/").content.decode()
        refused = editor.post(accept, {"decision": "accept"}, follow=True)
        record.refresh_from_db()
        assert record.upstream_changed
        accepted = editor.post(
            accept, {"decision": "accept", "note": "New year from the source."}, follow=True
        )

        assert 'name="note"' in screen and "Note for readers" in screen
        assert any("needs a one-line note" in text for _, text in message_texts(refused))
        assert ("info", "Upstream changes applied to the article.") in message_texts(accepted)
        (correction,) = Correction.objects.all()
        assert correction.note == "New year from the source."
        assert correction.created_by == editor.user

    def test_the_desk_review_screen_offers_the_note_too(self, editor):
        record = imported(content_html="<p>The quay was rebuilt in 1890.</p>")
        record.article.send_to_review()
        with_upstream_change(record, "<p>The quay was rebuilt in 1892.</p>")

        screen = editor.get(reverse("admin:syndication_importeditem_review", args=[record.pk]))

        assert 'name="note"' in screen.content.decode()

    def test_the_bulk_action_asks_for_the_note_on_a_page_of_its_own(self, editor):
        first = live_import(guid="a", link="https://origin.example/a")
        second = live_import(guid="b", link="https://origin.example/b")
        selected = [str(first.pk), str(second.pk)]
        chosen = {"action": "accept_changes", "_selected_action": selected}

        changed = ITEMS + "?queue=changed"  # the list the action is chosen from

        asked = editor.post(changed, chosen)
        without_note = editor.post(changed, {**chosen, "apply": "1", "note": " "})
        assert ImportedItem.objects.upstream_changed().count() == 2
        done = editor.post(
            changed, {**chosen, "apply": "1", "note": "Figures updated.", "kind": "update"}
        )

        assert asked.status_code == 200
        assert "2 of them are live" in asked.content.decode()
        assert without_note.status_code == 200
        assert "say in one line what changed" in without_note.content.decode()
        assert done.status_code == 302
        assert ImportedItem.objects.upstream_changed().count() == 0
        assert Correction.objects.filter(note="Figures updated.").count() == 2


# ---------------------------------------------------------------------------------------------
# Commands


class TestCommands:
    def test_accept_upstream_needs_a_note_for_a_live_article(self):
        record = live_import()

        with pytest.raises(CommandError, match="Give --note"):
            call_command("accept_upstream", str(record.pk), "--link-images")

        assert ImportedItem.objects.get(pk=record.pk).upstream_changed

    def test_accept_upstream_logs_the_note(self, capsys):
        record = live_import()

        call_command(
            "accept_upstream",
            "--source",
            record.source.slug,
            "--note",
            "The source corrected the year.",
            "--kind",
            "correction",
            "--link-images",
        )

        assert "accepted on 1 article(s)" in capsys.readouterr().out
        (correction,) = Correction.objects.all()
        assert correction.kind == CorrectionKind.CORRECTION

    def test_log_correction_adds_a_note_to_a_live_article(self, capsys):
        article = PublishedArticleFactory()

        call_command("log_correction", article.slug, "Corrected the year.")

        (correction,) = article.corrections.all()
        assert (correction.note, correction.kind) == ("Corrected the year.", "correction")
        assert "Correction logged" in capsys.readouterr().out

    def test_log_correction_refuses_a_draft(self):
        draft = ArticleFactory()

        with pytest.raises(CommandError, match="is not live"):
            call_command("log_correction", str(draft.pk), "A note.")
