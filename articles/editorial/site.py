"""The admin site editors work in: named after the site, with the desk as its home page."""

from django.conf import settings
from django.contrib import admin

from articles.editorial.dashboard import panels_for


class DeskAdminSite(admin.AdminSite):
    index_template = "admin/desk.html"
    index_title = "Desk"

    @property
    def site_header(self):
        return settings.SITE_NAME

    @property
    def site_title(self):
        return f"{settings.SITE_NAME} desk"

    def index(self, request, extra_context=None):
        return super().index(request, {"panels": panels_for(request), **(extra_context or {})})
