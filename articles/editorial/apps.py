from django.contrib.admin.apps import AdminConfig


class DeskAdminConfig(AdminConfig):
    """Django's admin with the site's own admin site: named after the site, the desk as home."""

    default_site = "articles.editorial.site.DeskAdminSite"
