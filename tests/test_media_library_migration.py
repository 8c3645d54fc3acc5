"""Migration 0010 moves every article's lead image, and the texts it had, into the media library
and back, and re-encodes and measures the logos uploaded before."""

import io

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from PIL import Image as Pillow

from articles.images import clean_image, store_clean_image

from .migration_helpers import migrate, migrated_back_to

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("articles", "0009_similarity_signatures")]
AFTER = [("articles", "0010_media_library")]


def stored_picture(colour) -> str:
    buffer = io.BytesIO()
    Pillow.new("RGB", (700, 400), colour).save(buffer, format="PNG")
    return store_clean_image(clean_image(buffer.getvalue()), "lead")


@pytest.fixture
def before_the_library():
    with migrated_back_to(BEFORE) as apps:
        yield apps


def test_lead_images_become_library_entries_and_come_back(before_the_library):
    Source = before_the_library.get_model("articles", "Source")
    Article = before_the_library.get_model("articles", "Article")
    source = Source.objects.create(name="Harbour Wire", slug="harbour-wire")
    harbour, field = stored_picture((20, 90, 160)), stored_picture((160, 140, 20))
    texts = {"lead_image_alt": "Cranes", "lead_image_caption": "Dawn.", "lead_image_credit": "HW"}
    first = Article.objects.create(
        title="One", slug="one", source=source, lead_image=harbour, **texts
    )
    second = Article.objects.create(
        title="Two", slug="two", source=source, lead_image=harbour, lead_image_alt="Other"
    )
    third = Article.objects.create(title="Three", slug="three", source=source, lead_image=field)
    bare = Article.objects.create(title="Four", slug="four", source=source)
    buffer = io.BytesIO()
    Pillow.new("RGB", (120, 60), (200, 30, 30)).save(buffer, format="PNG", dpi=(300, 300))
    raw_logo = default_storage.save("logos/as-uploaded.png", ContentFile(buffer.getvalue()))
    Source.objects.filter(pk=source.pk).update(logo=raw_logo)

    apps = migrate(AFTER)
    Image = apps.get_model("articles", "Image")
    Article = apps.get_model("articles", "Article")
    shared = Image.objects.get(file=harbour)
    assert (shared.alt, shared.caption, shared.credit, shared.source_id) == (
        "Cranes",
        "Dawn.",
        "HW",
        source.pk,
    )
    assert [r["width"] for r in shared.renditions] == [320, 640, 700]
    assert (shared.width, shared.height) == (700, 400)
    leads = dict(Article.objects.values_list("pk", "lead_image__file"))
    assert leads == {first.pk: harbour, second.pk: harbour, third.pk: field, bare.pk: None}
    assert Image.objects.count() == 2
    logo = apps.get_model("articles", "Source").objects.get(pk=source.pk)
    assert logo.logo.name != raw_logo and logo.logo.name.startswith("logos/")
    assert (logo.logo_width, logo.logo_height) == (120, 60)

    apps = migrate(BEFORE)
    Article = apps.get_model("articles", "Article")
    restored = Article.objects.get(pk=first.pk)
    assert (restored.lead_image.name, restored.lead_image_alt, restored.lead_image_credit) == (
        harbour,
        "Cranes",
        "HW",
    )
    assert Article.objects.get(pk=second.pk).lead_image_alt == "Cranes"  # the library's text
    assert Article.objects.get(pk=bare.pk).lead_image.name == ""
