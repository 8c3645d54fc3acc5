"""Pieces of reader pages kept in the cache under the generations of what they show.

The page cache (articles/site/caching.py) keeps whole pages; these keep the pieces pages are
built from, so a page that must be rendered again (its listing moved on when an article was
published, a new query string, a page that was never asked for) reuses the pieces that did not
change instead of reading and rendering them again:

* the site's chrome (navigation, footer), under the `SITE` generation;
* an article's card, the same in every listing that shows it, under `SITE` and the article's
  own generation;
* the article page's head and body, under the same two generations and the page's address.

A piece's key holds the generations of everything it shows (articles/site/generation.py): any
change readers could see moves one of them, in every process sharing the cache, exactly when it
makes the article's cached page stale. A miss reads the rows the piece prints (one query for all
missing cards of a page, plus the rarer relations of an article page it has) and renders it; a
hit reads nothing but the cache.
Previews are never kept: a draft changes without moving any generation.
"""

import hashlib

from django.core.cache import cache
from django.utils import timezone
from jinja2 import pass_context
from markupsafe import Markup

from articles.models import Article, load_detail_relations
from articles.site.generation import SITE, article_scope, generations, site_generation, stamp

KEEP_SECONDS = 60 * 60
CARD_TEMPLATE = "includes/_article_card.html"


def _markup(html: str) -> Markup:
    return Markup(html)  # noqa: S704 - our own templates' output, escaped when rendered


def _kept(key: str, render) -> Markup:
    """The piece kept under `key`, rendered (and kept) when it is not there."""
    html = cache.get(key)
    if html is None:
        html = render()
        cache.set(key, html, KEEP_SECONDS)
    return _markup(html)


def article_pieces_stamp(article, page_url: str) -> str:
    """What the article page's pieces are kept under: the generations of the site and of the
    article, and the page's address (sharing links and og:url are absolute, and differ between
    the site's host names). Worked out once for a page, by its view."""
    address = hashlib.sha256(page_url.encode()).hexdigest()[:16]
    return f"{stamp([SITE, article_scope(article.slug)])}:{article.pk}:{address}"


@pass_context
def site_fragment(context, template_name: str) -> Markup:
    """A piece of chrome that is the same for every reader (navigation, footer, site feeds),
    rendered once per `SITE` generation and year."""
    year = timezone.localdate().year
    template = context.environment.get_template(template_name)
    key = f"articles:fragment:{template_name}:{site_generation()}:{year}"
    return _kept(key, lambda: template.render(this_year=year))


@pass_context
def article_cards(context, articles) -> list[Markup]:
    """The cards of a listing's articles, in order: those in the cache read in one round trip,
    the others rendered after reading their rows in one query (a row keeps the bylines,
    regions and themes a card prints: `Article.filed`).

    `articles` need only carry their ids and slugs (what the cache keys are made of); a card
    is rendered from the article as `for_listing()` reads it, and an article that is not
    published (any more) has none."""
    articles = list(articles)
    if not articles:
        return []
    level = context.get("heading_level") or 2
    current = generations([SITE, *(article_scope(article.slug) for article in articles)])
    keys = {
        article.pk: (
            f"articles:card:{level}:{current[SITE]}:{current[article_scope(article.slug)]}:"
            f"{article.pk}"
        )
        for article in articles
    }
    found = cache.get_many(list(keys.values()))
    missing = [article.pk for article in articles if keys[article.pk] not in found]
    if missing:
        rows = Article.objects.published().for_listing(with_relations=False).filter(pk__in=missing)
        template = context.environment.get_template(CARD_TEMPLATE)
        rendered = {
            keys[article.pk]: template.render({**context.get_all(), "article": article})
            for article in rows
        }
        cache.set_many(rendered, KEEP_SECONDS)
        found.update(rendered)
    return [_markup(found[keys[article.pk]]) for article in articles if keys[article.pk] in found]


@pass_context
def article_piece(context, template_name: str) -> Markup:
    """A part of the article page (its head or its body) for the article in `context`, from
    the cache when neither the site nor the article changed since it was rendered; a preview
    (no `pieces_stamp` in its context) is always rendered."""
    article = context["article"]
    template = context.environment.get_template(template_name)

    def render() -> str:
        load_detail_relations(article)
        return template.render(context.get_all())

    pieces_stamp = context.get("pieces_stamp")
    if not pieces_stamp:
        return _markup(render())
    return _kept(f"articles:piece:{template_name}:{pieces_stamp}", render)
