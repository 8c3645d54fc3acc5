"""Addresses of what pages link to over and over: regions, themes, reports, authors, sources
and tags, remembered per process.

An article page links to a dozen of them and a listing page to a hundred; `reverse()` costs
about 20 µs each time, for a handful of distinct answers. An address depends only on the
route, the slug, the URLconf and the script prefix, so it is remembered under exactly those.
"""

import functools

from django.conf import settings
from django.urls import get_script_prefix, get_urlconf, reverse
from taggit.models import Tag

from articles.filing import Filed
from articles.models import Author, InDepthReport, Region, Source, Theme

ROUTES = {
    Region: "articles:region",
    Theme: "articles:theme",
    InDepthReport: "articles:report",
    Author: "articles:author",
    Source: "articles:source",
    Tag: "articles:tag",
}
# The same routes for what an article's row keeps of its subjects (articles/filing.py).
FILED_ROUTES = {
    "authors": ROUTES[Author],
    "regions": ROUTES[Region],
    "themes": ROUTES[Theme],
    "reports": ROUTES[InDepthReport],
    "tags": ROUTES[Tag],
}


@functools.lru_cache(maxsize=20_000)
def _path(route: str, slug: str, urlconf: str, script_prefix: str) -> str:
    return reverse(route, kwargs={"slug": slug}, urlconf=urlconf)


def subject_url(subject) -> str:
    """The path of a region, theme, report, author, source or tag's page on this site (the
    subject itself, or an article's `Filed` copy of it)."""
    urlconf = get_urlconf() or settings.ROOT_URLCONF
    route = FILED_ROUTES[subject.relation] if isinstance(subject, Filed) else ROUTES[type(subject)]
    return _path(route, subject.slug, urlconf, get_script_prefix())
