"""Pieces of every page: the section navigation, cached until any content changes."""

from django import template
from django.core.cache import cache

from articles.cache import content_generation
from articles.models import Region, Theme

register = template.Library()

NAVIGATION_SIZE = 12


def navigation_sections() -> dict[str, list[tuple[str, str]]]:
    """Top-level regions and the themes as (name, url) pairs, cached per content generation."""
    key = f"articles:navigation:{content_generation()}"
    sections = cache.get(key)
    if sections is None:
        sections = {
            "regions": [
                (region.name, region.get_absolute_url())
                for region in Region.objects.filter(parent=None)[:NAVIGATION_SIZE]
            ],
            "themes": [
                (theme.name, theme.get_absolute_url())
                for theme in Theme.objects.all()[:NAVIGATION_SIZE]
            ],
        }
        cache.set(key, sections, 60 * 60)
    return sections


@register.inclusion_tag("includes/_site_nav.html")
def site_navigation():
    return navigation_sections()
