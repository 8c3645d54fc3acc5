"""The media library: an Image entity that lead images (and imported body images) are entries
of, and source logos re-encoded, with their dimensions.

Every article's lead image file becomes a library entry, with the alt text, caption and credit
the article had; two articles showing the same picture share one entry (the first one's texts
win). Going back copies each entry's file and texts onto the articles that use it.
"""

import django.db.models.deletion
from django.conf import settings
from django.core.files.storage import default_storage
from django.db import migrations, models

import articles.models
from articles.editorial.roles import MEDIA_LIBRARY_PERMISSIONS, ensure_permissions, grant
from articles.images import (
    ImageRejected,
    clean_image,
    make_renditions,
    store_clean_image,
    stored_name_digest,
)


def lead_images_into_library(apps, schema_editor):
    Article = apps.get_model("articles", "Article")
    HistoricalArticle = apps.get_model("articles", "HistoricalArticle")
    Image = apps.get_model("articles", "Image")
    entries = {}  # stored file name -> library entry id
    articles = Article.objects.exclude(lead_image="").order_by("pk").iterator()
    for article in articles:
        name = article.lead_image.name
        if name not in entries:
            if not default_storage.exists(name):
                continue  # nothing a page could show
            with default_storage.open(name, "rb") as handle:
                digest = stored_name_digest(handle.read())
            renditions = article.lead_image_renditions or make_renditions(name)
            image, _ = Image.objects.get_or_create(
                content_hash=digest,
                defaults={
                    "file": name,
                    "renditions": renditions,
                    "width": renditions[-1]["width"],
                    "height": renditions[-1]["height"],
                    "alt": article.lead_image_alt,
                    "caption": article.lead_image_caption,
                    "credit": article.lead_image_credit,
                    "source_id": article.source_id,
                },
            )
            entries[name] = image.pk
        Article.objects.filter(pk=article.pk).update(library_lead_image_id=entries[name])
    for name, image_id in entries.items():
        HistoricalArticle.objects.filter(lead_image=name).update(library_lead_image_id=image_id)


def library_into_lead_images(apps, schema_editor):
    Article = apps.get_model("articles", "Article")
    HistoricalArticle = apps.get_model("articles", "HistoricalArticle")
    Image = apps.get_model("articles", "Image")
    for image in Image.objects.iterator():
        Article.objects.filter(library_lead_image=image).update(
            lead_image=image.file.name,
            lead_image_renditions=image.renditions,
            lead_image_alt=image.alt,
            lead_image_caption=image.caption,
            lead_image_credit=image.credit,
        )
        HistoricalArticle.objects.filter(library_lead_image_id=image.pk).update(
            lead_image=image.file.name
        )


def logos_reencoded_and_measured(apps, schema_editor):
    """Logos uploaded before were stored as sent: re-encode each one and record its size. One
    that is missing or not an image we accept is left as it is, unmeasured."""
    Source = apps.get_model("articles", "Source")
    for source in Source.objects.exclude(logo="").iterator():
        try:
            with default_storage.open(source.logo.name, "rb") as handle:
                clean = clean_image(handle.read())
            name = store_clean_image(clean, "logos")
        except (OSError, ImageRejected):
            continue
        Source.objects.filter(pk=source.pk).update(
            logo=name, logo_width=clean.width, logo_height=clean.height
        )


def grant_media_library(apps, schema_editor):
    ensure_permissions(apps, "articles")
    grant(apps, MEDIA_LIBRARY_PERMISSIONS)


class Migration(migrations.Migration):
    dependencies = [
        ("articles", "0009_similarity_signatures"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="source",
            name="logo_height",
            field=models.PositiveIntegerField(blank=True, editable=False, null=True),
        ),
        migrations.AddField(
            model_name="source",
            name="logo_width",
            field=models.PositiveIntegerField(blank=True, editable=False, null=True),
        ),
        migrations.AlterField(
            model_name="source",
            name="logo",
            field=models.ImageField(
                blank=True,
                help_text="Shown in the attribution block under its articles and on its page; re-encoded from its pixels when uploaded.",
                upload_to=articles.models.upload_to_logos,
            ),
        ),
        migrations.CreateModel(
            name="Image",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "file",
                    models.ImageField(max_length=200, upload_to=articles.models.upload_to_library),
                ),
                ("renditions", models.JSONField(blank=True, default=list, editable=False)),
                ("width", models.PositiveIntegerField(default=0, editable=False)),
                ("height", models.PositiveIntegerField(default=0, editable=False)),
                ("content_hash", models.CharField(editable=False, max_length=64, unique=True)),
                (
                    "alt",
                    models.CharField(
                        blank=True,
                        help_text="What the picture shows, for readers who cannot see it. Required before an article using it is published.",
                        max_length=300,
                        verbose_name="alt text",
                    ),
                ),
                ("caption", models.CharField(blank=True, max_length=500)),
                (
                    "credit",
                    models.CharField(blank=True, help_text="Who made the picture.", max_length=200),
                ),
                (
                    "licence",
                    models.CharField(
                        blank=True,
                        choices=[
                            ("source-terms", "Under the source's rights record"),
                            ("own", "Our own work"),
                            ("permission", "Written permission from the copyright holder"),
                            ("cc-by", "Creative Commons Attribution (CC BY)"),
                            ("cc-by-sa", "Creative Commons Attribution-ShareAlike (CC BY-SA)"),
                            ("cc-by-nd", "Creative Commons Attribution-NoDerivatives (CC BY-ND)"),
                            ("public-domain", "Public domain"),
                        ],
                        max_length=20,
                    ),
                ),
                (
                    "original_url",
                    models.URLField(blank=True, max_length=1000, verbose_name="original URL"),
                ),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                (
                    "source",
                    models.ForeignKey(
                        blank=True,
                        help_text="The source it came with, for an imported picture.",
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="images",
                        to="articles.source",
                    ),
                ),
                (
                    "uploaded_by",
                    models.ForeignKey(
                        blank=True,
                        editable=False,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "ordering": ["-created_at", "-pk"],
            },
        ),
        migrations.AddField(
            model_name="article",
            name="library_lead_image",
            field=models.ForeignKey(
                null=True,
                blank=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="articles.image",
            ),
        ),
        migrations.AddField(
            model_name="historicalarticle",
            name="library_lead_image",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                null=True,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="+",
                to="articles.image",
            ),
        ),
        migrations.RunPython(lead_images_into_library, library_into_lead_images),
        migrations.RunPython(grant_media_library, migrations.RunPython.noop),
        migrations.RunPython(logos_reencoded_and_measured, migrations.RunPython.noop),
        migrations.RemoveField(model_name="article", name="lead_image"),
        migrations.RemoveField(model_name="article", name="lead_image_renditions"),
        migrations.RemoveField(model_name="article", name="lead_image_alt"),
        migrations.RemoveField(model_name="article", name="lead_image_caption"),
        migrations.RemoveField(model_name="article", name="lead_image_credit"),
        migrations.RemoveField(model_name="historicalarticle", name="lead_image"),
        migrations.RemoveField(model_name="historicalarticle", name="lead_image_alt"),
        migrations.RemoveField(model_name="historicalarticle", name="lead_image_caption"),
        migrations.RemoveField(model_name="historicalarticle", name="lead_image_credit"),
        migrations.RenameField(
            model_name="article", old_name="library_lead_image", new_name="lead_image"
        ),
        migrations.RenameField(
            model_name="historicalarticle", old_name="library_lead_image", new_name="lead_image"
        ),
        migrations.AlterField(
            model_name="article",
            name="lead_image",
            field=models.ForeignKey(
                blank=True,
                help_text="Chosen from the media library; its alt text, caption and credit are shown.",
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="lead_of",
                to="articles.image",
            ),
        ),
        migrations.AlterField(
            model_name="historicalarticle",
            name="lead_image",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                help_text="Chosen from the media library; its alt text, caption and credit are shown.",
                null=True,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="+",
                to="articles.image",
            ),
        ),
    ]
