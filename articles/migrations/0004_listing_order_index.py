"""Listings read their ids in order from one index: status, newest first, then id."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("articles", "0003_search"),
        ("taggit", "0006_rename_taggeditem_content_type_object_id_taggit_tagg_content_8fc721_idx"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="article",
            index=models.Index(
                fields=["status", "-published_at", "-id"], name="article_status_published_id"
            ),
        ),
        migrations.RemoveIndex(
            model_name="article",
            name="article_status_published",
        ),
    ]
