"""The editorial admin: listing, filtering, bulk workflow, rights in the form, rich text,
images, escaping of third-party metadata and comparable revision history."""

import csv
import datetime
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from articles.models import Article, ArticleStatus, Byline
from articles.models import Image as LibraryImage

from .admin_helpers import (
    PASSWORD,
    article_form_data,
    change_url,
    form_errors,
    message_texts,
)
from .factories import (
    ArticleFactory,
    AuthorFactory,
    ImageFactory,
    LicensedSourceFactory,
    PublishedArticleFactory,
    RightsRecordFactory,
    SourceFactory,
    make_user,
)

pytestmark = pytest.mark.django_db

HOSTILE = '"><img src=x onerror=alert(1)>'
CHANGELIST = "/admin/articles/article/"


@pytest.fixture
def chief(client):
    make_user("chief", is_superuser=True)
    assert client.login(username="chief", password=PASSWORD)
    return client


def expired_source(name="Lapsed Weekly"):
    source = SourceFactory(name=name)
    RightsRecordFactory(
        source=source,
        granted_on=datetime.date(2020, 1, 1),
        expires_on=datetime.date(2021, 6, 30),
    )
    return source


def titles_listed(response) -> set[str]:
    return {article.title for article in response.context["cl"].result_list}


def image_upload(name: str, image_format: str, size=(800, 500), mode="RGB") -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new(mode, size, (200, 80, 40)).save(buffer, format=image_format)
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="application/octet-stream")


class TestChangelist:
    def test_lists_articles_with_their_workflow_status_including_scheduled(self, chief):
        ArticleFactory(title="A fresh draft")
        PublishedArticleFactory(
            title="Goes out tomorrow", published_at=timezone.now() + datetime.timedelta(days=1)
        )
        response = chief.get(CHANGELIST)
        assert response.status_code == 200
        html = response.content.decode()
        assert "A fresh draft" in html
        assert "Goes out tomorrow" in html
        assert ">Scheduled<" in html
        assert ">Draft<" in html

    def test_shows_the_byline_in_order_and_a_thumbnail_of_the_lead_image(self, chief):
        article = ArticleFactory(title="Two writers")
        Byline.objects.create(article=article, author=AuthorFactory(name="Zora Second"), position=2)
        Byline.objects.create(article=article, author=AuthorFactory(name="Amir First"), position=1)
        article.lead_image = ImageFactory()
        article.save()
        html = chief.get(CHANGELIST).content.decode()
        assert "Amir First, Zora Second" in html
        assert f'src="/media/{article.lead_image.renditions[0]["name"]}"' in html

    def test_review_filter_lists_only_articles_in_review(self, chief):
        ArticleFactory(title="Waiting for an editor", status=ArticleStatus.REVIEW)
        ArticleFactory(title="Still a draft")
        response = chief.get(CHANGELIST, {"status": "review"})
        assert titles_listed(response) == {"Waiting for an editor"}

    def test_scheduled_filter_lists_future_publications_only(self, chief):
        PublishedArticleFactory(
            title="Embargoed until Monday",
            published_at=timezone.now() + datetime.timedelta(days=3),
        )
        PublishedArticleFactory(title="Already live")
        scheduled = chief.get(CHANGELIST, {"status": "scheduled"})
        live = chief.get(CHANGELIST, {"status": "published"})
        assert titles_listed(scheduled) == {"Embargoed until Monday"}
        assert titles_listed(live) == {"Already live"}

    def test_search_finds_articles_by_author_and_by_source_name(self, chief):
        article = ArticleFactory(title="Water rights dispute", source=LicensedSourceFactory())
        article.source.name = "Delta Courier"
        article.source.save()
        Byline.objects.create(article=article, author=AuthorFactory(name="Ines Okafor"))
        ArticleFactory(title="Unrelated")
        assert titles_listed(chief.get(CHANGELIST, {"q": "okafor"})) == {"Water rights dispute"}
        assert titles_listed(chief.get(CHANGELIST, {"q": "delta courier"})) == {
            "Water rights dispute"
        }

    def test_announces_how_many_articles_wait_for_review(self, chief):
        ArticleFactory.create_batch(3, status=ArticleStatus.REVIEW)
        html = chief.get(CHANGELIST).content.decode()
        assert "Needs review: 3" in html


class TestBulkActions:
    def post_action(self, client, action, articles):
        return client.post(
            CHANGELIST,
            {"action": action, "_selected_action": [str(a.pk) for a in articles]},
            follow=True,
        )

    def test_send_to_review_moves_drafts(self, chief):
        drafts = ArticleFactory.create_batch(2)
        response = self.post_action(chief, "send_to_review", drafts)
        assert set(Article.objects.values_list("status", flat=True)) == {ArticleStatus.REVIEW}
        assert ("success", "2 article(s) sent to review.") in message_texts(response)

    def test_publish_skips_articles_whose_rights_expired_and_says_why(self, chief):
        allowed = ArticleFactory(title="Cleared for publication")
        blocked = ArticleFactory(title="Rights ran out", source=expired_source())
        response = self.post_action(chief, "publish", [allowed, blocked])
        allowed.refresh_from_db()
        blocked.refresh_from_db()
        assert allowed.is_live
        assert blocked.status == ArticleStatus.DRAFT
        warnings = [text for level, text in message_texts(response) if level == "warning"]
        assert len(warnings) == 1
        assert "Rights ran out" in warnings[0]
        assert "expired on 30 June 2021" in warnings[0]
        assert ("success", "1 article(s) published.") in message_texts(response)

    def test_publish_brings_a_scheduled_article_forward_to_now(self, chief):
        scheduled = PublishedArticleFactory(
            published_at=timezone.now() + datetime.timedelta(days=2)
        )
        self.post_action(chief, "publish", [scheduled])
        scheduled.refresh_from_db()
        assert scheduled.is_live

    def test_withdraw_takes_articles_down_and_records_when(self, chief):
        live = PublishedArticleFactory()
        self.post_action(chief, "withdraw", [live])
        live.refresh_from_db()
        assert live.status == ArticleStatus.WITHDRAWN
        assert live.withdrawn_at is not None
        assert not Article.objects.published().exists()

    def test_export_downloads_the_selection_as_csv_safe_for_spreadsheets(self, chief):
        formula = ArticleFactory(title='=HYPERLINK("https://evil.example")')
        plain = ArticleFactory(
            title="River towns count their bridges",
            lead_image=ImageFactory(alt="A bridge", credit="=cmd|' /C calc'!A0"),
        )
        response = chief.post(
            CHANGELIST,
            {"action": "export_csv", "_selected_action": [str(formula.pk), str(plain.pk)]},
        )
        assert response["Content-Disposition"] == 'attachment; filename="articles.csv"'
        rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
        assert rows[0][:4] == ["id", "title", "source", "status"]
        titles = {row[1] for row in rows[1:]}
        assert titles == {'\'=HYPERLINK("https://evil.example")', "River towns count their bridges"}
        by_id = {row[0]: dict(zip(rows[0], row, strict=True)) for row in rows[1:]}
        assert by_id[str(formula.pk)]["address"].endswith(formula.get_absolute_url())
        assert by_id[str(formula.pk)]["lead image"] == ""
        pictured = by_id[str(plain.pk)]
        assert pictured["lead image"] == f"http://testserver{plain.lead_image.file.url}"
        assert pictured["lead image alt text"] == "A bridge"
        assert pictured["lead image credit"] == "'=cmd|' /C calc'!A0"


class TestChangeForm:
    def test_renders_in_editorial_order_with_rich_text_body_and_preview_link(self, chief):
        article = ArticleFactory()
        response = chief.get(change_url(article))
        assert response.status_code == 200
        html = response.content.decode()
        headings = ["Headline", "Body", "Source and original", "Publishing", "Classification"]
        positions = [html.index(f">{heading}<") for heading in headings]
        assert positions == sorted(positions)
        assert "data-django-prose-editor-configurable" in html
        assert f'href="{reverse("articles:preview", args=[article.pk])}"' in html
        assert "View on site" in html

    def test_prose_editor_offers_only_headings_the_sanitizer_keeps(self, chief):
        response = chief.get(change_url(ArticleFactory()))
        widget = response.context["adminform"].form.fields["body"].widget
        config = widget.get_config()["extensions"]
        assert config["Heading"] == {"levels": [2, 3, 4]}
        assert not {"Color", "Highlight", "TextAlign", "CodeBlock"} & config.keys()

    def test_publishing_with_expired_permission_is_refused_on_the_status_field(self, chief):
        article = ArticleFactory(source=expired_source("Old Permission Gazette"))
        response = chief.post(change_url(article), article_form_data(article, status="published"))
        assert response.status_code == 200
        errors = form_errors(response)["status"]
        assert errors == ["Permission for “Old Permission Gazette” expired on 30 June 2021."]
        article.refresh_from_db()
        assert article.status == ArticleStatus.DRAFT

    def test_publishing_from_a_source_without_rights_record_is_refused(self, chief):
        article = ArticleFactory(source=SourceFactory(name="Unvetted Blog"))
        response = chief.post(change_url(article), article_form_data(article, status="published"))
        assert "has no rights record" in form_errors(response)["status"][0]

    def test_published_with_a_future_date_schedules_the_article(self, chief):
        article = ArticleFactory()
        tomorrow = timezone.now() + datetime.timedelta(days=1)
        response = chief.post(
            change_url(article),
            article_form_data(article, status="published", published_at=tomorrow),
        )
        assert response.status_code == 302
        article.refresh_from_db()
        assert article.is_scheduled
        assert not Article.objects.published().filter(pk=article.pk).exists()

    def test_help_text_explains_scheduling(self, chief):
        html = chief.get(change_url(ArticleFactory())).content.decode()
        assert "To schedule an article, choose Published and a site publication date" in html

    def test_pasted_hostile_html_is_stored_clean(self, chief):
        article = ArticleFactory()
        pasted = (
            "<p>Kept paragraph</p><script>alert(1)</script>"
            '<p><img src="x" onerror="alert(1)"><a href="javascript:alert(2)">bad link</a></p>'
            '<p style="background:url(javascript:alert(3))" onclick="alert(4)">styled</p>'
            '<iframe src="https://evil.example/"></iframe>'
        )
        response = chief.post(change_url(article), article_form_data(article, body=pasted))
        assert response.status_code == 302
        article.refresh_from_db()
        assert "<p>Kept paragraph</p>" in article.body
        for hostile in ("<script", "onerror", "javascript:", "onclick", "style=", "<iframe"):
            assert hostile not in article.body

    def test_withdrawing_through_the_form_records_when(self, chief):
        article = PublishedArticleFactory()
        chief.post(change_url(article), article_form_data(article, status="withdrawn"))
        article.refresh_from_db()
        assert article.status == ArticleStatus.WITHDRAWN
        assert article.withdrawn_at is not None

    def test_byline_inline_keeps_authors_in_the_order_given(self, chief):
        article = ArticleFactory()
        second, first = AuthorFactory(name="Second"), AuthorFactory(name="First")
        data = article_form_data(article)
        data.update(
            {
                "bylines-TOTAL_FORMS": "2",
                "bylines-0-author": str(second.pk),
                "bylines-0-position": "2",
                "bylines-1-author": str(first.pk),
                "bylines-1-position": "1",
            }
        )
        assert chief.post(change_url(article), data).status_code == 302
        assert [a.name for a in Article.objects.get(pk=article.pk).ordered_authors] == [
            "First",
            "Second",
        ]


class TestLeadImage:
    def test_an_upload_becomes_a_re_encoded_library_image_with_renditions(self, chief):
        article = ArticleFactory()
        data = article_form_data(
            article,
            new_lead_image=image_upload("photo.png", "PNG"),
            new_lead_image_alt="A red square",
            new_lead_image_caption="Red, all of it.",
            new_lead_image_credit="Test Studio",
        )
        assert chief.post(change_url(article), data).status_code == 302
        article.refresh_from_db()
        image = article.lead_image
        assert image.file.name.startswith("images/")
        assert image.file.name.endswith(".jpg")  # no transparency: stored as JPEG
        assert [r["width"] for r in image.renditions] == [320, 640, 800]
        assert (image.alt, image.caption, image.credit) == (
            "A red square",
            "Red, all of it.",
            "Test Studio",
        )
        assert image.source == article.source
        assert image.uploaded_by.username == "chief"
        smallest = image.renditions[0]["name"]
        assert f'src="/media/{smallest}"' in chief.get(change_url(article)).content.decode()

    def test_an_image_of_the_library_is_picked_by_its_id(self, chief):
        article, image = ArticleFactory(), ImageFactory()
        data = article_form_data(article, lead_image=str(image.pk))
        assert chief.post(change_url(article), data).status_code == 302
        article.refresh_from_db()
        assert article.lead_image == image

    def test_a_text_file_named_jpg_is_rejected_with_a_form_error(self, chief):
        article = ArticleFactory()
        fake = SimpleUploadedFile("holiday.jpg", b"<?php system($_GET['c']); ?>")
        response = chief.post(change_url(article), article_form_data(article, new_lead_image=fake))
        assert response.status_code == 200
        assert form_errors(response)["new_lead_image"]
        article.refresh_from_db()
        assert article.lead_image is None
        assert not LibraryImage.objects.exists()

    def test_an_image_format_outside_the_allow_list_is_rejected_by_our_validator(self, chief):
        article = ArticleFactory()
        bitmap = image_upload("scan.jpg", "BMP", size=(40, 40))
        response = chief.post(
            change_url(article), article_form_data(article, new_lead_image=bitmap)
        )
        assert form_errors(response)["new_lead_image"] == ["not a JPEG, PNG, GIF or WebP image"]

    @pytest.mark.parametrize(
        ("size", "image_format"), [((1200, 1), "PNG"), ((10799, 1), "GIF"), ((1, 1200), "JPEG")]
    )
    def test_a_strip_of_pixels_is_a_form_error_not_a_server_error(self, chief, size, image_format):
        article = ArticleFactory()
        upload = image_upload("strip.png", image_format, size=size)
        response = chief.post(
            change_url(article), article_form_data(article, new_lead_image=upload)
        )
        assert response.status_code == 200
        assert "strip, not a picture" in form_errors(response)["new_lead_image"][0]
        article.refresh_from_db()
        assert article.lead_image is None


class TestHostileMetadata:
    def test_titles_and_author_names_are_escaped_in_list_and_form(self, chief):
        article = ArticleFactory(title=f"Headline {HOSTILE}", dek=HOSTILE)
        Byline.objects.create(article=article, author=AuthorFactory(name=f"Writer {HOSTILE}"))
        for url in (CHANGELIST, change_url(article)):
            html = chief.get(url).content.decode()
            assert "<img src=x onerror" not in html
            assert "&lt;img src=x onerror=alert(1)&gt;" in html

    def test_source_and_author_lists_escape_names(self, chief):
        AuthorFactory(name=HOSTILE, source=LicensedSourceFactory(name=HOSTILE))
        for url in ("/admin/articles/source/", "/admin/articles/author/"):
            html = chief.get(url).content.decode()
            assert "<img src=x onerror" not in html
            assert "&lt;img src=x onerror=alert(1)&gt;" in html


class TestRevisionHistory:
    def test_history_page_links_each_revision_to_a_comparison(self, chief):
        article = ArticleFactory(title="First wording")
        chief.post(change_url(article), article_form_data(article, title="Second wording"))
        history = chief.get(reverse("admin:articles_article_history", args=[article.pk]))
        assert history.status_code == 200
        assert "Compare with previous" in history.content.decode()

    def test_compare_view_shows_a_title_change_field_by_field(self, chief):
        article = ArticleFactory(title="Before the edit", body="<p>Old paragraph.</p>")
        chief.post(
            change_url(article),
            article_form_data(article, title="After the edit", body="<p>New paragraph.</p>"),
        )
        older, newer = article.history.order_by("history_date")
        url = reverse("admin:articles_article_history_compare", args=[article.pk])
        response = chief.get(url, {"from": older.history_id, "to": newer.history_id})
        assert response.status_code == 200
        changes = {change.label: change for change in response.context["changes"]}
        assert (changes["title"].old, changes["title"].new) == ("Before the edit", "After the edit")
        assert ("removed", "<p>Old paragraph.</p>") in changes["body"].lines
        assert ("added", "<p>New paragraph.</p>") in changes["body"].lines
        html = response.content.decode()
        assert "<del>Before the edit</del>" in html
        assert "<ins>&lt;p&gt;New paragraph.&lt;/p&gt;</ins>" in html

    def test_compare_view_shows_no_change_the_date_widget_cannot_show(self, chief):
        published_at = timezone.now().replace(microsecond=654321) - datetime.timedelta(hours=2)
        article = PublishedArticleFactory(title="Before the edit", published_at=published_at)
        chief.post(
            change_url(article),
            article_form_data(article, title="After the edit", correction_note="New headline."),
        )
        older, newer = article.history.order_by("history_date")
        assert newer.published_at != older.published_at  # the widget dropped the microseconds

        url = reverse("admin:articles_article_history_compare", args=[article.pk])
        response = chief.get(url, {"from": older.history_id, "to": newer.history_id})

        assert [change.label for change in response.context["changes"]] == ["title"]

    def test_compare_view_shows_a_real_date_change_to_the_second(self, chief):
        published_at = datetime.datetime(2026, 3, 2, 9, 15, 30, 250000, tzinfo=datetime.UTC)
        article = PublishedArticleFactory(published_at=published_at)
        chief.post(
            change_url(article),
            article_form_data(article, published_at=published_at + datetime.timedelta(hours=1)),
        )
        older, newer = article.history.order_by("history_date")

        url = reverse("admin:articles_article_history_compare", args=[article.pk])
        response = chief.get(url, {"from": older.history_id, "to": newer.history_id})

        changes = {change.label: change for change in response.context["changes"]}
        assert (changes["site publication date"].old, changes["site publication date"].new) == (
            "2026-03-02 09:15:30",
            "2026-03-02 10:15:30",
        )

    def test_compare_view_escapes_hostile_titles(self, chief):
        article = ArticleFactory(title="Plain")
        chief.post(change_url(article), article_form_data(article, title=HOSTILE))
        url = reverse("admin:articles_article_history_compare", args=[article.pk])
        html = chief.get(url).content.decode()
        assert "<img src=x onerror" not in html
        assert "&lt;img src=x onerror=alert(1)&gt;" in html

    def test_compare_view_needs_permission_to_view_the_article(self, client):
        article = ArticleFactory()
        make_user("intern")
        client.login(username="intern", password=PASSWORD)
        url = reverse("admin:articles_article_history_compare", args=[article.pk])
        assert client.get(url).status_code == 403


class TestOtherScreens:
    @pytest.mark.parametrize(
        "model",
        ["source", "author", "region", "theme", "indepthreport", "siteblock", "redirect"],
    )
    def test_changelist_and_add_form_render(self, chief, model):
        assert chief.get(f"/admin/articles/{model}/").status_code == 200
        assert chief.get(f"/admin/articles/{model}/add/").status_code == 200

    def test_source_list_reports_rights_status_and_article_count(self, chief):
        valid = LicensedSourceFactory(name="Good Terms Daily")
        ArticleFactory.create_batch(2, source=valid)
        expired_source("Lapsed Weekly")
        SourceFactory(name="Nobody Asked")
        response = chief.get("/admin/articles/source/")
        rows = {source.name: source for source in response.context["cl"].result_list}
        assert rows["Good Terms Daily"].article_count == 2
        html = response.content.decode()
        assert "valid" in html
        assert "expired on 30 June 2021" in html
        assert "has no rights record" in html

    def test_region_list_shows_where_a_region_sits(self, chief):
        from .factories import RegionFactory

        africa = RegionFactory(name="Africa")
        east = RegionFactory(name="East Africa", parent=africa)
        RegionFactory(name="Kenya", parent=east)
        html = chief.get("/admin/articles/region/").content.decode()
        assert "Africa › East Africa › Kenya" in html

    def test_featured_reports_are_toggled_from_the_list(self, chief):
        from .factories import ReportFactory

        report = ReportFactory()
        data = {
            "form-TOTAL_FORMS": "1",
            "form-INITIAL_FORMS": "1",
            "form-MIN_NUM_FORMS": "0",
            "form-MAX_NUM_FORMS": "1000",
            "form-0-id": str(report.pk),
            "form-0-is_featured": "on",
            "_save": "Save",
        }
        chief.post("/admin/articles/indepthreport/", data)
        report.refresh_from_db()
        assert report.is_featured

    def test_redirect_form_refuses_an_off_site_old_path_and_a_script_target(self, chief):
        response = chief.post(
            "/admin/articles/redirect/add/",
            {"old_path": "//evil.example/x", "target_url": "javascript:alert(1)"},
        )
        errors = response.context["adminform"].form.errors
        assert "old_path" in errors
        assert "target_url" in errors

    @pytest.mark.parametrize("target", ["//evil.example/", "https://evil.example/", ""])
    def test_a_login_whose_next_is_refused_or_missing_lands_on_the_admin_index(
        self, client, target
    ):
        make_user("desk", groups=("Editors",))
        response = client.post(
            reverse("admin:login"), {"username": "desk", "password": PASSWORD, "next": target}
        )
        assert response.status_code == 302
        assert response["Location"] == reverse("admin:index")
        assert client.get(response["Location"]).status_code == 200
