"""The media library: one entry per picture, reused by any number of articles, described well
enough for readers who cannot see it before it goes out, and shown with its caption and credit."""

import io

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.db.models import ProtectedError
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from lxml import html
from PIL import Image as Pillow

from articles.images import clean_image
from articles.models import (
    Article,
    ArticleStatus,
    Image,
    ImageLicence,
    PublishingBlocked,
)
from syndication.entry import import_feed_file
from syndication.models import ImportedItem
from tests.admin_helpers import article_form_data, change_url, form_errors
from tests.factories import (
    ArticleFactory,
    ImageFactory,
    LicensedSourceFactory,
    PublishedArticleFactory,
    make_user,
)
from tests.feedbuilders import png, rss, story
from tests.httpserver import LocalServer

pytestmark = pytest.mark.django_db

IMAGES = reverse("admin:articles_image_changelist")


def picture_bytes(colour=(30, 120, 90), size=(900, 600), image_format="JPEG", **options) -> bytes:
    buffer = io.BytesIO()
    Pillow.new("RGB", size, colour).save(buffer, format=image_format, **options)
    return buffer.getvalue()


def upload(name="photo.jpg", **options) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, picture_bytes(**options), content_type="image/jpeg")


def page_tree(response):
    assert response.status_code == 200
    return html.fromstring(response.content)


@pytest.fixture
def chief(client):
    client.force_login(make_user("chief", is_superuser=True))
    return client


# ---------------------------------------------------------------------------------------------
# One entry per picture


class TestLibraryEntries:
    def test_an_upload_is_re_encoded_measured_and_given_renditions(self):
        image = ImageFactory(file=upload(size=(1000, 700), exif=b"Exif\x00\x00secret"))

        assert image.file.name.startswith("images/")
        assert (image.width, image.height) == (1000, 700)
        assert [r["width"] for r in image.renditions] == [320, 640, 960, 1000]
        assert b"secret" not in image.file.open("rb").read()
        assert image.content_hash == clean_image(image.file.open("rb").read()).digest

    def test_the_same_picture_stored_twice_is_one_entry_whose_blank_texts_get_filled(self):
        clean = clean_image(picture_bytes())
        first = Image.objects.for_clean_image(clean, folder="lead", caption="At the quay.")
        again = Image.objects.for_clean_image(
            clean, folder="body", alt="Boats moored at a quay", caption="Another caption."
        )

        assert again.pk == first.pk
        assert Image.objects.count() == 1
        first.refresh_from_db()
        assert (first.alt, first.caption) == ("Boats moored at a quay", "At the quay.")
        assert first.file.name.startswith("lead/")

    def test_an_image_an_article_shows_cannot_be_deleted(self):
        article = ArticleFactory(lead_image=ImageFactory())

        with pytest.raises(ProtectedError):
            article.lead_image.delete()


# ---------------------------------------------------------------------------------------------
# Alt text before publishing


class TestAltTextBeforePublishing:
    def test_an_article_whose_lead_image_has_no_alt_text_is_not_published(self):
        article = ArticleFactory(lead_image=ImageFactory(alt=""))

        with pytest.raises(PublishingBlocked, match="lead image has no alt text"):
            article.publish()

        article.refresh_from_db()
        assert article.status == ArticleStatus.DRAFT

    def test_an_article_with_a_body_image_lacking_alt_text_is_not_published(self):
        article = ArticleFactory(
            body='<p>Text.</p><img src="/media/body/aa/x.jpg" alt="A quay">'
            '<figure><img src="/media/body/bb/y.jpg" alt=" "></figure>'
        )

        with pytest.raises(PublishingBlocked, match="1 image\\(s\\) in the body have no alt text"):
            article.publish()

    def test_once_every_picture_is_described_the_article_is_published(self):
        article = ArticleFactory(
            lead_image=ImageFactory(alt="Cranes over the harbour"),
            body='<p>Text.</p><img src="/media/body/aa/x.jpg" alt="A quay">',
        )

        article.publish()

        assert article.is_live

    def test_the_admin_form_refuses_publishing_with_the_reason(self, chief):
        article = ArticleFactory(lead_image=ImageFactory(alt=""))

        response = chief.post(change_url(article), article_form_data(article, status="published"))

        assert "lead image has no alt text" in form_errors(response)["status"][0]
        article.refresh_from_db()
        assert article.status == ArticleStatus.DRAFT

    def test_a_new_upload_needs_its_alt_text_to_be_published_at_once(self, chief):
        article = ArticleFactory()

        response = chief.post(
            change_url(article),
            article_form_data(article, status="published", new_lead_image=upload()),
        )

        assert form_errors(response)["new_lead_image_alt"] == [
            "Describe the new lead image before publishing: alt text is required."
        ]
        assert not Image.objects.exists()


# ---------------------------------------------------------------------------------------------
# The library in the admin


class TestLibraryAdmin:
    def test_the_list_shows_thumbnails_and_finds_images_by_caption_credit_and_source(self, chief):
        source = LicensedSourceFactory(name="Harbour Wire")
        ImageFactory(caption="Cranes at dawn", source=source)
        ImageFactory(credit="Photo: Ines Duarte")
        ImageFactory(alt="A field of sunflowers")

        def found(term):
            response = chief.get(IMAGES, {"q": term})
            return {str(image) for image in response.context["cl"].result_list}, response

        by_source, response = found("harbour wire")
        assert len(by_source) == 1
        assert 'class="article-thumbnail"' in response.content.decode()
        assert len(found("Duarte")[0]) == 1
        assert found("sunflowers")[0] == {"A field of sunflowers"}

    def test_the_list_loads_in_the_same_number_of_queries_for_many_images(self, chief):
        ImageFactory()
        with CaptureQueriesContext(connection) as few:
            chief.get(IMAGES)
        for _ in range(5):
            ArticleFactory(lead_image=ImageFactory(source=LicensedSourceFactory()))
        with CaptureQueriesContext(connection) as many:
            chief.get(IMAGES)
        assert len(many.captured_queries) == len(few.captured_queries)

    def test_an_upload_in_the_library_is_re_encoded_and_records_who_uploaded_it(self, chief):
        response = chief.post(
            reverse("admin:articles_image_add"),
            {"file": upload(image_format="PNG", name="x.png"), "alt": "Green", "licence": "own"},
        )

        assert response.status_code == 302
        image = Image.objects.get()
        assert image.file.name.endswith(".jpg")
        assert image.uploaded_by.username == "chief"
        assert image.licence == ImageLicence.OWN

    def test_uploading_a_picture_already_in_the_library_points_at_the_existing_entry(self, chief):
        existing = ImageFactory(file=upload(), alt="The first copy")

        response = chief.post(
            reverse("admin:articles_image_add"), {"file": upload(), "alt": "A second copy"}
        )

        assert response.status_code == 200
        (error,) = response.context["adminform"].form.errors["file"]
        assert f"already in the library as image {existing.pk}" in error
        assert Image.objects.count() == 1

    def test_the_article_form_finds_library_images_by_autocomplete(self, chief):
        wanted = ImageFactory(alt="Ferry leaving the harbour")
        ImageFactory(alt="Wind turbines on a ridge")

        response = chief.get(
            reverse("admin:autocomplete"),
            {
                "app_label": "articles",
                "model_name": "article",
                "field_name": "lead_image",
                "term": "ferry",
            },
        )

        assert [result["id"] for result in response.json()["results"]] == [str(wanted.pk)]

    def test_the_change_page_lists_the_articles_using_the_image(self, chief):
        image = ImageFactory()
        ArticleFactory(title="First user of the picture", lead_image=image)
        ArticleFactory(title="Second user of the picture", lead_image=image)

        page = chief.get(reverse("admin:articles_image_change", args=[image.pk])).content.decode()

        assert "First user of the picture" in page and "Second user of the picture" in page


# ---------------------------------------------------------------------------------------------
# What readers see


class TestPublicPages:
    def test_one_library_image_leads_two_articles_with_its_caption_and_credit(self, client):
        image = ImageFactory(
            file=upload(size=(1400, 900)),
            alt="A barrage with open gates",
            caption="The lower barrage at dusk.",
            credit="Delta Dispatch",
        )
        first = PublishedArticleFactory(lead_image=image)
        second = PublishedArticleFactory(lead_image=image)

        for article in (first, second):
            tree = page_tree(client.get(article.get_absolute_url()))
            (figure,) = tree.cssselect('figure[data-block="lead_media"]')
            (img,) = figure.cssselect("img")
            assert img.get("src") == image.file.url
            assert (img.get("width"), img.get("height"), img.get("alt")) == (
                "1400",
                "900",
                "A barrage with open gates",
            )
            caption = " ".join(figure.cssselect("figcaption")[0].text_content().split())
            assert caption == "The lower barrage at dusk. Credit: Delta Dispatch"

    def test_the_source_logo_is_in_the_attribution_block_and_on_the_source_page(self, client):
        source = LicensedSourceFactory(name="Harbour Wire")
        source.logo = SimpleUploadedFile(
            "logo.png", picture_bytes(size=(192, 96), image_format="PNG"), "image/png"
        )
        source.save()
        article = PublishedArticleFactory(source=source)

        for address in (article.get_absolute_url(), source.get_absolute_url()):
            (logo,) = page_tree(client.get(address)).cssselect("img.source-logo")
            assert (logo.get("width"), logo.get("height")) == ("192", "96")
            assert logo.get("alt") == "Harbour Wire logo"
            assert logo.get("src") == source.logo.url
        assert source.logo.name.startswith("logos/") and source.logo.name.endswith(".jpg")

    def test_listing_cards_show_lead_images_in_a_constant_number_of_queries(self, client):
        def home_queries():
            cache.clear()  # the whole-page cache: count what a cold page costs
            with CaptureQueriesContext(connection) as queries:
                tree = page_tree(client.get("/"))
            return len(queries.captured_queries), tree

        PublishedArticleFactory(lead_image=ImageFactory())
        few, _ = home_queries()
        for _ in range(4):
            PublishedArticleFactory(lead_image=ImageFactory(), source=LicensedSourceFactory())
        many, tree = home_queries()

        assert many == few
        thumbnails = tree.cssselect(".card img.card__image")
        assert len(thumbnails) == 5
        assert all(img.get("width") and img.get("srcset") for img in thumbnails)

    def test_feeds_and_the_api_carry_the_library_texts(self, client):
        article = PublishedArticleFactory(
            lead_image=ImageFactory(alt="Nets drying", caption="Nets on the wall.", credit="CL")
        )

        lead = client.get(reverse("api:article", kwargs={"slug": article.slug})).json()
        assert {k: lead["lead_image"][k] for k in ("alt", "caption", "credit")} == {
            "alt": "Nets drying",
            "caption": "Nets on the wall.",
            "credit": "CL",
        }
        feed = client.get("/feeds/rss/").content.decode()
        assert "Nets drying" in feed and "Nets on the wall." in feed


# ---------------------------------------------------------------------------------------------
# Imports land in the library


def test_imported_body_images_become_library_entries_the_body_points_at(settings, tmp_path):
    settings.SYNDICATION_ALLOWED_HOSTS = ["127.0.0.1"]
    source = LicensedSourceFactory(name="Harbour Courier")
    with LocalServer() as server:
        server.routes["/quay.png"] = (200, {"Content-Type": "image/png"}, png())
        body = f'<p>Text.</p><img src="{server.url("/quay.png")}" alt="The quay at noon">'
        path = tmp_path / "feed.xml"
        path.write_bytes(rss([story(1, description=body)]))
        import_feed_file(path, source, "draft")

    (image,) = Image.objects.all()
    assert (image.alt, image.source, image.licence) == (
        "The quay at noon",
        source,
        ImageLicence.SOURCE_TERMS,
    )
    assert image.original_url.endswith("/quay.png")
    article = ImportedItem.objects.get(source=source).article
    assert f'src="{image.file.url}"' in article.body
    assert Article.objects.get(pk=article.pk).missing_alt_text() is None


def test_an_import_asked_to_publish_an_undescribed_picture_puts_it_in_review(settings, tmp_path):
    settings.SYNDICATION_ALLOWED_HOSTS = ["127.0.0.1"]
    source = LicensedSourceFactory()
    with LocalServer() as server:
        server.routes["/quay.png"] = (200, {"Content-Type": "image/png"}, png())
        path = tmp_path / "feed.xml"
        path.write_bytes(rss([story(1, image=server.url("/quay.png"))]))
        import_feed_file(path, source, "published")

    record = ImportedItem.objects.select_related("article").get(source=source)
    assert record.article.status == ArticleStatus.REVIEW
    assert record.warnings == [
        "Put in review instead of published: The lead image has no alt text; describe it in "
        "the media library before publishing."
    ]


def test_a_picture_already_described_in_the_library_is_published_with_its_import(
    settings, tmp_path
):
    settings.SYNDICATION_ALLOWED_HOSTS = ["127.0.0.1"]
    described = Image.objects.for_clean_image(
        clean_image(png()), folder="lead", alt="A quay at noon"
    )
    source = LicensedSourceFactory()
    with LocalServer() as server:
        server.routes["/quay.png"] = (200, {"Content-Type": "image/png"}, png())
        path = tmp_path / "feed.xml"
        path.write_bytes(rss([story(1, image=server.url("/quay.png"))]))
        import_feed_file(path, source, "published")

    article = ImportedItem.objects.select_related("article").get(source=source).article
    assert (article.status, article.lead_image) == (ArticleStatus.PUBLISHED, described)
