from django.conf import settings
from django.contrib import admin
from django.urls import include, path, re_path
from django.views.static import serve as serve_file

from articles.distribution.api.views import api

urlpatterns = [
    path("admin/", admin.site.urls),
    path("", include("syndication.urls")),
    path("", include("articles.site.urls")),
    path("", include("articles.distribution.urls")),
    path("api/v1/", api.urls),
]

if settings.SERVE_MEDIA:
    media_prefix = settings.MEDIA_URL.lstrip("/")
    urlpatterns.insert(
        0,
        re_path(
            rf"^{media_prefix}(?P<path>.*)$",
            serve_file,
            {"document_root": settings.MEDIA_ROOT},
        ),
    )
