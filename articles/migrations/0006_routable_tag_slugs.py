"""Tags saved with an empty slug (names such as "!!!" or an emoji) get one a URL can carry."""

from django.db import migrations

from articles.models import routable_tag_slug


def fill_empty_tag_slugs(apps, schema_editor):
    Tag = apps.get_model("taggit", "Tag")
    for tag in Tag.objects.filter(slug=""):
        slug, suffix = routable_tag_slug(tag.name), 1
        while Tag.objects.filter(slug=slug).exclude(pk=tag.pk).exists():
            slug, suffix = f"{routable_tag_slug(tag.name)}_{suffix}", suffix + 1
        tag.slug = slug
        tag.save(update_fields=["slug"])


class Migration(migrations.Migration):
    dependencies = [
        ("articles", "0005_search_vector_on_change"),
        ("taggit", "0006_rename_taggeditem_content_type_object_id_taggit_tagg_content_8fc721_idx"),
    ]

    operations = [migrations.RunPython(fill_empty_tag_slugs, migrations.RunPython.noop)]
