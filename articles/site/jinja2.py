"""The template environment of the public site (`templates/jinja2/`).

Reader pages are rendered with Jinja2 rather than Django's template language; the admin keeps
Django templates (docs/reading.md says what that buys, with figures). The names templates use,
beyond Jinja2's own, are registered here: Django's own filters and helpers where Django has
them, and what lives in `articles.site.presentation` and the models.
"""

from django.conf import settings
from django.template import defaultfilters, defaulttags
from django.templatetags.static import static
from django.urls import reverse
from django.utils import timezone
from jinja2 import Environment

from articles.distribution import feeds
from articles.site import presentation
from articles.site.fragments import article_cards, article_piece, site_fragment
from articles.site.links import subject_url


def url(name: str, *args, **kwargs) -> str:
    return reverse(name, args=args or None, kwargs=kwargs or None)


def date(value, format_string: str | None = None) -> str:
    """Django's `date` filter, given the value in the current time zone as Django's template
    engine gives it ("c" is ISO 8601; a setting's name such as "DATE_FORMAT" is looked up)."""
    return defaultfilters.date(timezone.template_localtime(value), format_string)


def querystring(request, **changes) -> str:
    """Django's `querystring` tag on the request's parameters: some replaced, None removes one."""
    return defaulttags.querystring(None, request.GET, **changes)


def environment(**options) -> Environment:
    options.pop("autoescape", None)
    env = Environment(autoescape=True, **options)
    env.globals.update(
        SITE_NAME=settings.SITE_NAME,
        SITE_URL=settings.SITE_URL,
        static=static,
        url=url,
        querystring=querystring,
        site_fragment=site_fragment,
        article_cards=article_cards,
        article_piece=article_piece,
        navigation_sections=presentation.navigation_sections,
        subject_feeds=feeds.subject_feeds,
        taxonomy=presentation.taxonomy,
        share_links=presentation.share_links,
        article_json_ld=presentation.article_json_ld,
        licence_notice=presentation.licence_notice,
        source_logo=presentation.source_logo,
    )
    env.filters.update(
        date=date,
        subject_url=subject_url,
        kicker=presentation.kicker,
        picture=presentation.picture,
        author_names=presentation.author_names,
        copyright_line=presentation.copyright_line,
        video_mime_type=presentation.video_mime_type,
        privacy_embed_url=presentation.privacy_embed_url,
        truncatechars=defaultfilters.truncatechars,
        truncatewords=defaultfilters.truncatewords,
        pluralize=defaultfilters.pluralize,
    )
    return env
