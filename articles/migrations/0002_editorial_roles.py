from django.db import migrations

from articles.editorial.roles import ARTICLES_PERMISSIONS, ensure_permissions, grant


def create_roles(apps, schema_editor):
    ensure_permissions(apps, "articles", "taggit")
    grant(apps, ARTICLES_PERMISSIONS)


def remove_roles(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=ARTICLES_PERMISSIONS).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("articles", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("taggit", "0006_rename_taggeditem_content_type_object_id_taggit_tagg_content_8fc721_idx"),
    ]

    operations = [migrations.RunPython(create_roles, remove_roles)]
