"""Pieces of every page that are the same for every reader, rendered once per content generation.

The section navigation, the footer and the site-wide feed links cost a page nothing once
rendered: their HTML is kept in the cache under the content generation, which any content
change moves on (`{% content_generation as generation %}` gives templates the same key for
`{% cache %}`).
"""

from django import template
from django.core.cache import cache
from django.template.loader import render_to_string
from django.utils.safestring import mark_safe

from articles.cache import content_generation as current_generation
from articles.models import Region, Theme

register = template.Library()

NAVIGATION_SIZE = 12
KEEP_SECONDS = 60 * 60


def navigation_sections() -> dict[str, list[tuple[str, str]]]:
    """Top-level regions and the themes as (name, url) pairs."""
    return {
        "regions": [
            (region.name, region.get_absolute_url())
            for region in Region.objects.filter(parent=None)[:NAVIGATION_SIZE]
        ],
        "themes": [
            (theme.name, theme.get_absolute_url())
            for theme in Theme.objects.all()[:NAVIGATION_SIZE]
        ],
    }


@register.simple_tag
def site_navigation():
    """The section navigation's HTML, rendered once per content generation."""
    key = f"articles:navigation-html:{current_generation()}"
    html = cache.get(key)
    if html is None:
        html = render_to_string("includes/_site_nav.html", navigation_sections())
        cache.set(key, html, KEEP_SECONDS)
    return mark_safe(html)  # noqa: S308 - our own template's output, escaped when rendered


@register.simple_tag
def content_generation() -> int:
    return current_generation()
