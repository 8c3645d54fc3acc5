"""Feed autodiscovery: the feeds a page offers, for <link rel="alternate"> in its head."""

from django import template
from django.urls import reverse

from articles.feeds import SUBJECTS

register = template.Library()

_KIND_OF_MODEL = {model: kind for kind, (model, _narrow, _url_name) in SUBJECTS.items()}


@register.simple_tag
def subject_feeds(subject) -> list[dict]:
    """RSS and Atom feeds of a listing's subject (a region, theme, report, author, source or
    tag); nothing for anything else."""
    kind = _KIND_OF_MODEL.get(type(subject))
    if kind is None or not getattr(subject, "slug", ""):
        return []
    name = str(subject)
    kwargs = {"kind": kind, "slug": subject.slug}
    return [
        {
            "type": "application/rss+xml",
            "title": f"{name} (RSS)",
            "href": reverse("discovery:subject_feed_rss", kwargs=kwargs),
        },
        {
            "type": "application/atom+xml",
            "title": f"{name} (Atom)",
            "href": reverse("discovery:subject_feed_atom", kwargs=kwargs),
        },
    ]
