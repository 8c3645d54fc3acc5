"""The two editorial roles in the admin: Importers bring content in, Editors decide what goes
out. Every check logs in as a real user of the group created by the roles migration."""

import pytest
from django.urls import reverse

from articles.editorial.roles import EDITORS, IMPORTERS
from articles.models import Article, ArticleStatus, InDepthReport, Region, Source, Theme

from .admin_helpers import (
    PASSWORD,
    article_form_data,
    change_url,
    form_errors,
    management_form,
)
from .factories import ArticleFactory, LicensedSourceFactory, PublishedArticleFactory, make_user

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/articles/article/"


@pytest.fixture
def importer(client):
    make_user("ingest", groups=(IMPORTERS,))
    assert client.login(username="ingest", password=PASSWORD)
    return client


@pytest.fixture
def editor(client):
    make_user("desk", groups=(EDITORS,))
    assert client.login(username="desk", password=PASSWORD)
    return client


def offered_actions(response) -> set[str]:
    return {name for name, _label in response.context["action_form"].fields["action"].choices}


def offered_statuses(response) -> set[str]:
    widget = response.context["adminform"].form.fields["status"].widget
    return {value for value, _label in widget.choices}


def new_source_data(name: str) -> dict:
    data = {
        "name": name,
        "slug": "",
        "homepage": "https://river.example/",
        "description": "",
        "is_active": "on",
        "canonical_policy": "original",
        "support_appeal": "<p>Support our reporting.</p>",
        "default_author": "",
        "on_rights_end": "flag",
        "on_original_gone": "flag",
        "rights-0-basis": "cc-by",
        "rights-0-scope": "full",
        "rights-0-copyright_holder": "River Press Cooperative",
        "rights-0-attribution_wording": "",
        "rights-0-granted_on": "2024-03-01",
        "rights-0-expires_on": "",
        "rights-0-evidence": "",
        "rights-0-evidence_url": "https://river.example/licence",
        "rights-0-notes": "",
    }
    data.update(management_form("rights", total=1))
    data["rights-MAX_NUM_FORMS"] = "1"
    return data


class TestImporters:
    def test_can_add_a_source_with_its_rights_record(self, importer):
        response = importer.post("/admin/articles/source/add/", new_source_data("River Press"))
        assert response.status_code == 302
        source = Source.objects.get(name="River Press")
        assert source.rights.copyright_holder == "River Press Cooperative"
        assert source.rights_problem() is None

    def test_can_change_a_source(self, importer):
        source = LicensedSourceFactory()
        assert importer.get(f"/admin/articles/source/{source.pk}/change/").status_code == 200

    def test_can_add_an_article_as_a_draft(self, importer):
        source = LicensedSourceFactory()
        data = article_form_data(title="Imported by hand", source=str(source.pk))
        assert importer.post("/admin/articles/article/add/", data).status_code == 302
        assert Article.objects.get().status == ArticleStatus.DRAFT

    def test_status_menu_offers_only_draft_and_review(self, importer):
        response = importer.get(change_url(ArticleFactory()))
        assert offered_statuses(response) == {"draft", "review"}
        assert 'value="published"' not in response.content.decode()

    def test_can_send_an_article_to_review_through_the_form(self, importer):
        article = ArticleFactory()
        importer.post(change_url(article), article_form_data(article, status="review"))
        article.refresh_from_db()
        assert article.status == ArticleStatus.REVIEW

    @pytest.mark.parametrize("status", ["published", "withdrawn"])
    def test_a_forged_publish_or_withdraw_is_refused(self, importer, status):
        article = ArticleFactory()
        response = importer.post(change_url(article), article_form_data(article, status=status))
        assert response.status_code == 200
        assert form_errors(response)["status"] == [
            "Only editors can publish or withdraw articles; send it to review instead."
        ]
        article.refresh_from_db()
        assert article.status == ArticleStatus.DRAFT

    def test_is_not_offered_the_publish_or_withdraw_actions(self, importer):
        ArticleFactory()
        actions = offered_actions(importer.get(CHANGELIST))
        assert "send_to_review" in actions
        assert not {"publish", "withdraw"} & actions

    def test_posting_the_publish_action_anyway_publishes_nothing(self, importer):
        article = ArticleFactory()
        importer.post(CHANGELIST, {"action": "publish", "_selected_action": [str(article.pk)]})
        article.refresh_from_db()
        assert article.status == ArticleStatus.DRAFT

    def test_may_fix_a_live_article_without_touching_its_status_or_date(self, importer):
        article = PublishedArticleFactory(title="Typo in the titel")
        published_at = article.published_at
        response = importer.get(change_url(article))
        assert "status" not in response.context["adminform"].form.fields
        data = article_form_data(
            article, title="Typo in the title", correction_note="Fixed a typo in the title."
        )
        del data["status"]
        assert importer.post(change_url(article), data).status_code == 302
        article.refresh_from_db()
        assert (article.title, article.status) == ("Typo in the title", ArticleStatus.PUBLISHED)
        assert article.published_at == published_at

    def test_cannot_change_site_blocks(self, importer):
        assert importer.get("/admin/articles/siteblock/").status_code == 403
        assert importer.get("/admin/articles/siteblock/add/").status_code == 403

    def test_cannot_add_taxonomy(self, importer):
        for model in ("region", "theme", "indepthreport"):
            assert importer.get(f"/admin/articles/{model}/add/").status_code == 403


class TestEditors:
    def test_can_publish_through_the_form(self, editor):
        article = ArticleFactory(status=ArticleStatus.REVIEW)
        response = editor.get(change_url(article))
        assert offered_statuses(response) == {"draft", "review", "published", "withdrawn"}
        editor.post(change_url(article), article_form_data(article, status="published"))
        article.refresh_from_db()
        assert article.is_live

    def test_is_offered_every_bulk_action(self, editor):
        ArticleFactory()
        assert {"send_to_review", "publish", "withdraw"} <= offered_actions(editor.get(CHANGELIST))

    def test_can_publish_in_bulk(self, editor):
        articles = ArticleFactory.create_batch(2, status=ArticleStatus.REVIEW)
        editor.post(
            CHANGELIST, {"action": "publish", "_selected_action": [str(a.pk) for a in articles]}
        )
        assert Article.objects.published().count() == 2

    def test_manage_taxonomy(self, editor):
        editor.post("/admin/articles/region/add/", {"name": "Sahel", "slug": "", "parent": ""})
        editor.post("/admin/articles/theme/add/", {"name": "Water", "slug": ""})
        editor.post(
            "/admin/articles/indepthreport/add/",
            {"title": "The long drought", "slug": "", "description": ""},
        )
        assert Region.objects.filter(name="Sahel").exists()
        assert Theme.objects.filter(name="Water").exists()
        assert InDepthReport.objects.filter(title="The long drought").exists()

    def test_cannot_add_or_change_sources(self, editor):
        source = LicensedSourceFactory()
        assert editor.get("/admin/articles/source/add/").status_code == 403
        response = editor.post(
            f"/admin/articles/source/{source.pk}/change/", new_source_data("Renamed")
        )
        assert response.status_code == 403
        source.refresh_from_db()
        assert source.name != "Renamed"

    def test_can_still_choose_a_source_in_the_article_form(self, editor):
        source = LicensedSourceFactory(name="Highland Dispatch")
        url = reverse("admin:autocomplete")
        response = editor.get(
            url,
            {
                "term": "highland",
                "app_label": "articles",
                "model_name": "article",
                "field_name": "source",
            },
        )
        assert response.status_code == 200
        assert [row["id"] for row in response.json()["results"]] == [str(source.pk)]

    def test_can_edit_site_blocks_but_not_add_them(
        self, editor, django_capture_on_commit_callbacks
    ):
        from articles.models import SiteBlock

        block = SiteBlock.objects.create(key="disclaimer", content="<p>Views are the authors'.</p>")
        assert SiteBlock.objects.as_dict()["disclaimer"] == "<p>Views are the authors'.</p>"
        assert editor.get(f"/admin/articles/siteblock/{block.pk}/change/").status_code == 200
        with django_capture_on_commit_callbacks(execute=True):
            response = editor.post(
                f"/admin/articles/siteblock/{block.pk}/change/",
                {"content": "<p>New wording</p><script>alert(1)</script>"},
            )
        assert response.status_code == 302
        block.refresh_from_db()
        assert block.content == "<p>New wording</p>"
        assert SiteBlock.objects.as_dict()["disclaimer"] == "<p>New wording</p>"
        assert editor.get("/admin/articles/siteblock/add/").status_code == 403
