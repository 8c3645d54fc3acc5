from django.db import migrations

from articles.editorial.roles import EDITORS, IMPORTERS, ensure_permissions, grant

SYNDICATION_PERMISSIONS = {
    IMPORTERS: [
        *(
            f"syndication.{action}_{model}"
            for model in ("feed", "mappingrule")
            for action in ("add", "change", "view")
        ),
        "syndication.view_importrun",
        "syndication.view_importeditem",
        "syndication.view_itemfailure",
        "syndication.run_import",
    ],
    EDITORS: [
        "syndication.view_feed",
        "syndication.view_mappingrule",
        "syndication.view_importrun",
        "syndication.view_importeditem",
        "syndication.view_itemfailure",
    ],
}


def grant_import_permissions(apps, schema_editor):
    ensure_permissions(apps, "syndication")
    grant(apps, SYNDICATION_PERMISSIONS)


def revoke_import_permissions(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    syndication_permissions = Permission.objects.filter(content_type__app_label="syndication")
    for group in Group.objects.filter(name__in=SYNDICATION_PERMISSIONS):
        group.permissions.remove(*syndication_permissions)


class Migration(migrations.Migration):
    dependencies = [
        ("syndication", "0001_initial"),
        ("articles", "0002_editorial_roles"),
    ]

    operations = [migrations.RunPython(grant_import_permissions, revoke_import_permissions)]
