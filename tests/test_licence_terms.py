"""Licence terms applied: what counts as typography, the Creative Commons attribution (title,
author, source, licence, and whether changes were made), and the no-derivatives licence
refusing edits, abridgements and translations of a published article."""

import json

import pytest
from django.urls import reverse
from lxml import html

from articles.models import Article, ArticleStatus, LicenceVersion, RightsBasis
from articles.typography import body_fingerprint, differs_beyond_typography, typographic_form
from syndication.items import ParsedItem
from syndication.models import ImportedItem
from syndication.pipeline.payload import item_payload
from syndication.pipeline.upstream import accept_upstream_changes

from .admin_helpers import article_form_data, change_url, form_errors, message_texts
from .factories import (
    ArticleFactory,
    AuthorFactory,
    PublishedArticleFactory,
    RightsRecordFactory,
    SourceFactory,
    make_user,
)
from .test_syndication_admin import imported

pytestmark = pytest.mark.django_db

ORIGINAL = "<p>The mayor said: “We will rebuild the quay — all of it…”</p>"


def licensed_source(basis=RightsBasis.CC_BY, **rights):
    source = SourceFactory(name="Harbour Wire", homepage="https://harbourwire.example/")
    RightsRecordFactory(source=source, basis=basis, copyright_holder="Harbour Wire Co-op", **rights)
    return source


def live_article(basis=RightsBasis.CC_BY, **fields):
    article = PublishedArticleFactory(
        source=licensed_source(basis),
        title="Quay to be rebuilt",
        original_title="The quay will be rebuilt",
        original_url="https://harbourwire.example/quay",
        body=ORIGINAL,
        **fields,
    )
    article.bylines.create(author=AuthorFactory(name="Ana Lima"), position=0)
    return article


def with_upstream_change(record: ImportedItem, content_html: str) -> ImportedItem:
    """Flag a new version of `record`'s original, as a later import would."""
    ImportedItem.objects.filter(pk=record.pk).update(
        upstream_changed=True,
        upstream_hash="f" * 64,
        upstream_payload=item_payload(
            ParsedItem(
                guid=record.guid,
                title="Imported piece",
                link="https://origin.example/piece",
                content_html=content_html,
            )
        ),
    )
    record.refresh_from_db()
    return record


def attribution(client, article):
    tree = html.fromstring(client.get(article.get_absolute_url()).content)
    (block,) = tree.cssselect('[data-block="attribution"]')
    return block


def text_of(element) -> str:
    return " ".join(element.text_content().split())


@pytest.fixture
def chief(client):
    make_user("chief", is_superuser=True)
    assert client.login(username="chief", password="correct horse battery")
    return client


# ---------------------------------------------------------------------------------------------
# Typography


class TestTypography:
    @pytest.mark.parametrize(
        "variant",
        [
            '<p>The mayor said: "We will rebuild the quay - all of it..."</p>',
            "<p>The mayor said:  \u201cWe will rebuild the quay\u00a0\u2013 all of it"
            "\u2026\u201d</p>",
            "<p>The mayor\nsaid: \u00abWe will rebuild the quay--all of it...\u00bb</p>",
            "<p>The <em>mayor</em> said: &ldquo;We will rebuild the qu\u00aday &mdash; all of it"
            "&hellip;&rdquo;</p>",
            "<h2>The mayor said:</h2><p>“We will rebuild the quay — all of it…”</p>",
        ],
    )
    def test_spacing_quotes_dashes_ellipses_and_markup_are_typography(self, variant):
        assert not differs_beyond_typography(ORIGINAL, variant)
        assert body_fingerprint(variant) == body_fingerprint(ORIGINAL)

    @pytest.mark.parametrize(
        "edit",
        [
            "<p>The mayor said: “We will rebuild the pier — all of it…”</p>",
            "<p>The mayor said: “We will rebuild the quay — most of it…”</p>",
            "<p>The mayor said: “We will rebuild the quay…”</p>",
            "<p>The Mayor said: “We will rebuild the quay — all of it…”</p>",
            "<p>The mayor said: “We will rebuild the quay — all of it…” Good.</p>",
        ],
    )
    def test_words_letter_case_and_length_are_not(self, edit):
        assert differs_beyond_typography(ORIGINAL, edit)

    def test_the_typographic_form_is_plain_text(self):
        assert (
            typographic_form(ORIGINAL) == 'The mayor said: "We will rebuild the quay-all of it..."'
        )


# ---------------------------------------------------------------------------------------------
# The original received, and "changes were made"


class TestOriginalReceived:
    def test_the_first_body_stored_is_the_original(self):
        article = ArticleFactory(body=ORIGINAL)

        assert article.received_body_hash == body_fingerprint(ORIGINAL)
        assert article.body_changed_at is None

    def test_an_imported_article_remembers_the_body_it_arrived_with(self):
        record = imported(content_html=ORIGINAL)

        article = record.article
        assert article.received_body_hash == body_fingerprint(article.body)
        assert article.received_body_hash == body_fingerprint(ORIGINAL)

    def test_articles_of_a_long_feed_stored_together_remember_theirs_too(self):
        from syndication.entry import import_document
        from syndication.items import ParsedFeed
        from syndication.models import RunKind
        from syndication.pipeline.runs import start_run

        source = licensed_source()
        items = [
            ParsedItem(guid=f"g-{n}", title=f"Piece {n}", link=f"https://o.example/{n}",
                       content_html=f"<p>Story number {n} — “quoted”.</p>")
            for n in range(5)
        ]  # fmt: skip
        run = start_run(RunKind.FEED, source, fetched_from="memory")
        import_document(source, ParsedFeed(format="rss", items=items), run=run)

        articles = Article.objects.filter(source=source).order_by("title")
        assert [a.received_body_hash for a in articles] == [
            body_fingerprint(f'<p>Story number {n} - "quoted".</p>') for n in range(5)
        ]

    def test_a_plain_text_handed_over_for_a_body_that_sanitizing_changes_is_not_used(self):
        """An import hands over the plain text it worked out for the similarity signature, so
        that it is not worked out twice; it is of the body before sanitizing."""
        article = Article(title="Quay", body="<p>The quay.</p><script>track()</script>")

        article.tidy(body_text="The quay. track()")

        assert article.received_body_hash == body_fingerprint("<p>The quay.</p>")

    def test_a_typographic_edit_is_no_change(self):
        article = ArticleFactory(body=ORIGINAL)

        article.body = '<p>The mayor said: "We will rebuild the quay - all of it..."</p>'
        article.save()

        assert article.body_changed_at is None

    def test_changed_words_are_dated_and_restoring_them_undoes_it(self):
        article = ArticleFactory(body=ORIGINAL)

        article.body = "<p>The mayor said the quay would be rebuilt.</p>"
        article.save()
        changed_at = article.body_changed_at
        article.title = "A new title"
        article.save()
        assert article.body_changed_at == changed_at

        article.body = "<p>The mayor said the quay would be rebuilt soon.</p>"
        article.save()
        assert article.body_changed_at > changed_at

        article.body = ORIGINAL
        article.save()
        assert article.body_changed_at is None

    def test_an_accepted_upstream_version_becomes_the_original(self):
        record = imported(content_html=ORIGINAL)
        article = record.article
        article.body = "<p>Our own shorter version.</p>"
        article.save()
        assert article.body_changed_at is not None
        with_upstream_change(record, "<p>The quay will be rebuilt by 2030, the mayor said.</p>")

        assert accept_upstream_changes(record, download_images=False)

        article.refresh_from_db()
        assert "2030" in article.body
        assert article.received_body_hash == body_fingerprint(article.body)
        assert article.body_changed_at is None


# ---------------------------------------------------------------------------------------------
# The Creative Commons attribution: title, author, source, licence


class TestCreativeCommonsAttribution:
    def test_names_title_author_source_and_licence_with_links(self, client):
        article = live_article()

        block = attribution(client, article)
        (notice,) = block.cssselect(".attribution__licence")

        assert text_of(notice) == (
            "“The quay will be rebuilt” by Ana Lima, published by Harbour Wire, is licensed "
            "under CC BY 4.0."
        )
        links = {a.text_content(): (a.get("href"), a.get("rel")) for a in notice.cssselect("a")}
        assert links["The quay will be rebuilt"][0] == "https://harbourwire.example/quay"
        assert links["Harbour Wire"][0] == "https://harbourwire.example/"
        assert links["CC BY 4.0"] == (
            "https://creativecommons.org/licenses/by/4.0/",
            "license noopener",
        )

    @pytest.mark.parametrize(
        ("basis", "version", "name", "deed"),
        [
            (RightsBasis.CC_BY_SA, LicenceVersion.V4, "CC BY-SA 4.0", "licenses/by-sa/4.0/"),
            (RightsBasis.CC_BY_ND, LicenceVersion.V4, "CC BY-ND 4.0", "licenses/by-nd/4.0/"),
            (RightsBasis.CC_BY, LicenceVersion.V3, "CC BY 3.0", "licenses/by/3.0/"),
            (RightsBasis.CC_BY_SA, LicenceVersion.V2, "CC BY-SA 2.0", "licenses/by-sa/2.0/"),
        ],
    )
    def test_each_licence_links_its_own_deed(self, client, basis, version, name, deed):
        article = live_article(basis)
        article.source.rights.licence_version = version
        article.source.rights.save()

        (link,) = attribution(client, article).cssselect('.attribution__licence a[rel~="license"]')

        assert link.text_content() == name
        assert link.get("href") == "https://creativecommons.org/" + deed

    def test_the_json_ld_carries_the_licence(self, client):
        article = live_article(RightsBasis.CC_BY_SA)

        tree = html.fromstring(client.get(article.get_absolute_url()).content)
        (script,) = tree.cssselect('script[type="application/ld+json"]')

        assert (
            json.loads(script.text)["license"] == "https://creativecommons.org/licenses/by-sa/4.0/"
        )

    def test_changes_to_the_words_are_declared_with_their_date(self, client):
        article = live_article()
        article.body = "<p>The mayor promised to rebuild the whole quay.</p>"
        article.save()

        (notice,) = attribution(client, article).cssselect(".attribution__licence")

        day = f"{article.body_changed_at:%-d %B %Y}"
        assert text_of(notice).endswith(
            f"is licensed under CC BY 4.0. Changes were made to the text on {day}."
        )
        assert (
            notice.cssselect("time")[0]
            .get("datetime")
            .startswith(f"{article.body_changed_at:%Y-%m-%d}")
        )

    def test_typographic_fixes_are_not_declared(self, client):
        article = live_article()
        article.body = '<p>The mayor said: "We will rebuild the quay - all of it..."</p>'
        article.save()

        assert "Changes were made" not in text_of(attribution(client, article))

    def test_an_article_without_authors_names_title_source_and_licence(self, client):
        article = live_article()
        article.bylines.all().delete()

        (notice,) = attribution(client, article).cssselect(".attribution__licence")

        assert text_of(notice).startswith("“The quay will be rebuilt”, published by Harbour Wire,")

    def test_feed_items_carry_the_same_attribution(self, client):
        live_article()

        feed = json.loads(client.get(reverse("discovery:feed_json")).content)

        (item,) = feed["items"]
        assert "is licensed under" in item["content_html"]
        assert "https://creativecommons.org/licenses/by/4.0/" in item["content_html"]

    @pytest.mark.parametrize("basis", [RightsBasis.PERMISSION, RightsBasis.PUBLIC_DOMAIN])
    def test_other_rights_have_no_licence_attribution(self, client, basis):
        article = live_article(basis)

        assert not attribution(client, article).cssselect(".attribution__licence")


# ---------------------------------------------------------------------------------------------
# No derivatives (CC BY-ND)


class TestNoDerivatives:
    def test_a_typographic_fix_to_a_live_article_is_saved(self, chief):
        article = live_article(RightsBasis.CC_BY_ND)
        fixed = '<p>The mayor said: "We will rebuild the quay - all of it..."</p>'

        response = chief.post(change_url(article), article_form_data(article, body=fixed))

        assert response.status_code == 302
        article.refresh_from_db()
        assert article.body == fixed

    def test_changed_words_are_refused_on_the_body_with_the_reason(self, chief):
        article = live_article(RightsBasis.CC_BY_ND)
        edit = "<p>The mayor said: “We will rebuild the pier — all of it…”</p>"

        response = chief.post(
            change_url(article), article_form_data(article, body=edit, correction_note="Pier.")
        )

        assert response.status_code == 200
        (error,) = form_errors(response)["body"]
        assert "“Harbour Wire” publishes this article under CC BY-ND 4.0" in error
        assert "forbids derivatives: only typographic fixes" in error
        article.refresh_from_db()
        assert article.body == ORIGINAL

    def test_an_abridgement_is_refused(self, chief):
        article = live_article(RightsBasis.CC_BY_ND)
        shorter = "<p>The mayor said: “We will rebuild the quay.”</p>"

        response = chief.post(
            change_url(article), article_form_data(article, body=shorter, correction_note="Cut.")
        )

        (error,) = form_errors(response)["body"]
        assert "an abridgement is one" in error
        assert "characters shorter" in error

    def test_a_translation_is_refused(self, chief):
        article = live_article(RightsBasis.CC_BY_ND)

        response = chief.post(change_url(article), article_form_data(article, language="fr"))

        (error,) = form_errors(response)["language"]
        assert "a translation is one: the language stays “en”" in error
        article.refresh_from_db()
        assert article.language == "en"

    def test_other_licences_allow_edits(self, chief):
        article = live_article(RightsBasis.CC_BY_SA)
        edit = "<p>The mayor said: “We will rebuild the pier.”</p>"

        response = chief.post(
            change_url(article), article_form_data(article, body=edit, correction_note="Pier.")
        )

        assert response.status_code == 302

    def test_a_draft_may_be_edited_but_not_published_with_changed_words(self, chief):
        source = licensed_source(RightsBasis.CC_BY_ND)
        article = ArticleFactory(source=source, body=ORIGINAL)
        edit = "<p>The mayor said the quay would be rebuilt.</p>"

        saved = chief.post(change_url(article), article_form_data(article, body=edit))
        article.refresh_from_db()
        refused = chief.post(change_url(article), article_form_data(article, status="published"))

        assert saved.status_code == 302
        assert "forbids derivatives" in form_errors(refused)["body"][0]
        article.refresh_from_db()
        assert article.status == ArticleStatus.DRAFT

    def test_the_publish_action_refuses_a_changed_text_with_the_reason(self, chief):
        article = ArticleFactory(source=licensed_source(RightsBasis.CC_BY_ND), body=ORIGINAL)
        article.body = "<p>The mayor said the quay would be rebuilt.</p>"
        article.save()

        response = chief.post(
            reverse("admin:articles_article_changelist"),
            {"action": "publish", "_selected_action": [str(article.pk)]},
            follow=True,
        )

        article.refresh_from_db()
        assert article.status == ArticleStatus.DRAFT
        warnings = [text for level, text in message_texts(response) if level == "warning"]
        assert any("forbids derivatives" in text for text in warnings)

    def test_restoring_the_original_wording_is_allowed(self):
        article = live_article(RightsBasis.CC_BY_SA)
        article.body = "<p>An older edit made under another licence.</p>"
        article.save()
        rights = article.source.rights
        rights.basis = RightsBasis.CC_BY_ND
        rights.save()
        article = Article.objects.get(pk=article.pk)

        article.body = ORIGINAL

        assert article.derivative_problems() == {}

    def test_the_sources_own_new_version_is_no_derivative(self):
        record = imported(licensed_source(RightsBasis.CC_BY_ND), content_html=ORIGINAL)
        record.article.publish()
        with_upstream_change(record, "<p>The quay will be rebuilt by 2030.</p>")

        assert accept_upstream_changes(
            record, note="The source updated the date.", download_images=False
        )

        article = Article.objects.get(pk=record.article_id)
        assert "2030" in article.body
        assert article.derivative_problems() == {}
