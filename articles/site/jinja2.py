"""The template environment of the public site (`templates/jinja2/`).

Reader pages are rendered with Jinja2 rather than Django's template language: the article
page, with its dozen named partials, renders several times faster, which is most of what an
uncached article costs (bench/README.md has the figures). The admin keeps Django templates.

The names templates use, beyond Jinja2's own, are registered here; what they compute lives in
`articles.site.presentation` and the models.
"""

from django.conf import settings
from django.core.cache import cache
from django.template import defaultfilters
from django.templatetags.static import static
from django.urls import reverse
from django.utils import dateformat, timezone
from jinja2 import Environment, pass_context
from markupsafe import Markup

from articles.distribution import feeds
from articles.site import presentation
from articles.site.generation import site_generation
from articles.site.links import subject_url

FRAGMENT_KEEP_SECONDS = 60 * 60


def url(name: str, *args, **kwargs) -> str:
    return reverse(name, args=args or None, kwargs=kwargs or None)


def date(value, format_string: str = "") -> str:
    """A date or time in the current time zone, in a format of Django's `date` filter ("c" is
    ISO 8601); a setting's name such as "DATE_FORMAT" is looked up as the filter does."""
    if value is None or value == "":
        return ""
    value = timezone.template_localtime(value)
    if format_string == "c":
        return value.isoformat()
    if not format_string or format_string.isupper():
        return defaultfilters.date(value, format_string or None)
    return dateformat.format(value, format_string)


def truncatechars(value, length: int) -> str:
    """At most `length` characters, with an ellipsis when cut (Django's filter)."""
    text = str(value)
    return text if len(text) <= length else defaultfilters.truncatechars(text, length)


def querystring(request, **changes) -> str:
    """The current query string with some parameters replaced (None removes one)."""
    query = request.GET.copy()
    for name, value in changes.items():
        if value is None:
            query.pop(name, None)
        else:
            query[name] = str(value)
    return "?" + query.urlencode()


@pass_context
def site_fragment(context, template_name: str) -> Markup:
    """A piece of chrome that is the same for every reader (navigation, footer, site feeds),
    rendered once per `SITE` generation (articles/site/generation.py) and year: a taxonomy or
    site-wide change moves the key on in every process sharing the cache."""
    year = timezone.localdate().year
    key = f"articles:fragment:{template_name}:{site_generation()}:{year}"
    html = cache.get(key)
    if html is None:
        html = context.environment.get_template(template_name).render(this_year=year)
        cache.set(key, html, FRAGMENT_KEEP_SECONDS)
    return Markup(html)  # noqa: S704 - our own template's output, escaped when rendered


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
        navigation_sections=presentation.navigation_sections,
        subject_feeds=feeds.subject_feeds,
        taxonomy=presentation.taxonomy,
        share_links=presentation.share_links,
        article_json_ld=presentation.article_json_ld,
    )
    env.filters.update(
        date=date,
        subject_url=subject_url,
        kicker=presentation.kicker,
        author_names=presentation.author_names,
        copyright_line=presentation.copyright_line,
        video_mime_type=presentation.video_mime_type,
        privacy_embed_url=presentation.privacy_embed_url,
        truncatechars=truncatechars,
        truncatewords=defaultfilters.truncatewords,
        pluralize=defaultfilters.pluralize,
    )
    return env
