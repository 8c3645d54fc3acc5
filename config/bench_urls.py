"""The benchmark server's URLs: the whole site, plus the floor, the cheapest Django page.

Only config.settings.bench points here; production URLs never include the floor.
"""

from django.http import HttpResponse
from django.urls import path

from .urls import urlpatterns as site_urlpatterns


def floor(request):
    """A response through the full middleware stack with no template and no query."""
    return HttpResponse(b"floor\n", content_type="text/plain")


urlpatterns = [path("bench/floor/", floor, name="bench_floor"), *site_urlpatterns]
