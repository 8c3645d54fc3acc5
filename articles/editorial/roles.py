"""The two editorial roles, created by data migrations and kept in step by them.

Each app grants its own permissions to the groups (syndication adds its feed and import
permissions to Importers in its own migration), so articles never needs to know about imports.
"""

EDITORS = "Editors"
IMPORTERS = "Importers"

ARTICLES_PERMISSIONS = {
    EDITORS: [
        "articles.add_article",
        "articles.change_article",
        "articles.delete_article",
        "articles.view_article",
        "articles.publish_article",
        "articles.preview_article",
        "articles.view_historicalarticle",
        *(
            f"articles.{action}_{model}"
            for model in (
                "author", "region", "theme", "indepthreport", "byline", "articleblockoverride",
                "redirect",
            )
            for action in ("add", "change", "delete", "view")
        ),
        "articles.view_source",
        "articles.view_rightsrecord",
        "articles.change_siteblock",
        "articles.view_siteblock",
        "taggit.add_tag",
        "taggit.change_tag",
        "taggit.delete_tag",
        "taggit.view_tag",
    ],
    IMPORTERS: [
        "articles.add_article",
        "articles.change_article",
        "articles.view_article",
        "articles.preview_article",
        "articles.view_historicalarticle",
        *(
            f"articles.{action}_{model}"
            for model in ("source", "rightsrecord", "author", "byline", "redirect")
            for action in ("add", "change", "view")
        ),
        "articles.view_region",
        "articles.view_theme",
        "articles.view_indepthreport",
        "taggit.view_tag",
    ],
}  # fmt: skip


# Granted by migration 0008, which created the corrections log.
CORRECTION_PERMISSIONS = {
    EDITORS: [f"articles.{action}_correction" for action in ("add", "change", "delete", "view")],
    IMPORTERS: ["articles.view_correction"],
}

# Granted by the migration that created the media library (0010), so the roles' first migration
# never names a model that did not exist yet.
MEDIA_LIBRARY_PERMISSIONS = {
    EDITORS: [f"articles.{action}_image" for action in ("add", "change", "delete", "view")],
    IMPORTERS: [f"articles.{action}_image" for action in ("add", "change", "view")],
}


def ensure_permissions(apps, *app_labels: str):
    """Create the permission rows of `app_labels` now (Django does it only after migrate)."""
    from django.contrib.auth.management import create_permissions

    for label in app_labels:
        app_config = apps.get_app_config(label)
        app_config.models_module = True
        create_permissions(app_config, verbosity=0)
        app_config.models_module = None


def grant(apps, role_permissions: dict[str, list[str]]):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for group_name, dotted in role_permissions.items():
        group, _ = Group.objects.get_or_create(name=group_name)
        for name in dotted:
            app_label, codename = name.split(".", 1)
            permission = Permission.objects.get(
                content_type__app_label=app_label, codename=codename
            )
            group.permissions.add(permission)
