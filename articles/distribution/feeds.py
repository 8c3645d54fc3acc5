"""Feeds out: RSS 2.0, Atom and JSON Feed 1.1 of the latest articles, and RSS/Atom per subject.

Every item carries the full sanitized body followed by the same attribution block the article
page prints (source linked to the original, copyright line, required wording, licence). RSS
items also name the original in `<source url="...">`; Atom entries link to it with
`rel="via"`. The number of queries does not depend on the number of items.

WebSub: with `WEBSUB_HUB_URL` set, every feed names the hub (`<atom:link rel="hub">` in RSS,
`<link rel="hub">` in Atom, `hubs` in JSON Feed) next to its own address (`rel="self"`,
`feed_url`), which is then built from `SITE_URL` so that it is exactly the topic the hub is
pinged with (see articles/distribution/websub.py).

Addresses:
    /feeds/rss/  /feeds/atom/  /feeds/json/               the latest articles
    /feeds/<kind>/<slug>/rss/  /feeds/<kind>/<slug>/atom/  one subject's articles, where
    kind is regions, themes, reports, authors, sources or tags
"""

import copy
import datetime
import json

from django.conf import settings
from django.contrib.syndication.views import Feed
from django.core.serializers.json import DjangoJSONEncoder
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.encoding import iri_to_uri
from django.utils.feedgenerator import Atom1Feed, Rss201rev2Feed
from django.utils.html import escape
from taggit.models import Tag

from articles.models import Article, Author, InDepthReport, Region, Source, Theme
from articles.site.presentation import author_names, lead_image

FEED_SIZE = 30
JSON_FEED_CONTENT_TYPE = "application/feed+json"


def feed_articles():
    """Live articles, newest first, with everything an item prints loaded up front."""
    return (
        Article.objects.published()
        .for_listing()
        .defer(None)
        .defer("search_names", "search_vector")
        .select_related("source__rights", "lead_image")
        .prefetch_related("tags")
    )


def websub_hub() -> str:
    """The WebSub hub the feeds advertise and ping, or '' for none."""
    return getattr(settings, "WEBSUB_HUB_URL", "")


def topic_url(path: str) -> str:
    """A feed's address as the hub knows it: on `SITE_URL`, whatever host a request used."""
    return settings.SITE_URL + path


def self_url(request) -> str:
    """The address a feed gives as its own."""
    return topic_url(request.path) if websub_hub() else request.build_absolute_uri(request.path)


def lead_image_url(article: Article, request) -> str:
    """The absolute address of the article's largest lead image, or ''."""
    image = lead_image(article, request)
    return image["absolute_src"] if image else ""


def original_url(article: Article, request) -> str:
    """Where the article first appeared, or failing that its source's home page."""
    return (
        article.original_url
        or article.source.homepage
        or request.build_absolute_uri(article.source.get_absolute_url())
    )


def item_content_html(article: Article, request) -> str:
    """The body as published, with the lead image first and the attribution block last."""
    return render_to_string(
        "feeds/item_content.html",
        {"article": article, "image": lead_image(article, request)},
        request=request,
    )


def feed_text(value):
    """`value` as plain text for a feed element a reader may show as HTML: `<` and `>` become
    character references, so decoding the XML once gives text, never markup."""
    if value is None:
        return None
    return str(value).replace("<", "&lt;").replace(">", "&gt;")


class PlainTextFields:
    """Every text a feed prints is plain text: the feed's title, description, subtitle,
    copyright and author, and each item's title, author, categories and source name. Only an
    item's description and content are HTML (sanitized bodies), as feed formats define them.

    Django's generators escape each field once for XML; a source named after a hostile feed
    title would still come out as markup to a reader that decodes the XML and shows it as
    HTML, as many do for RSS.
    """

    FEED_TEXT = ("subtitle", "author_name", "feed_copyright")
    ITEM_TEXT = ("author_name", "item_copyright", "source_name")

    def __init__(self, title, link, description, **kwargs):
        for name in self.FEED_TEXT:
            kwargs[name] = feed_text(kwargs.get(name))
        kwargs["categories"] = [feed_text(c) for c in kwargs.get("categories") or ()]
        super().__init__(feed_text(title), link, feed_text(description), **kwargs)

    def add_item(self, title, link, description, **kwargs):
        for name in self.ITEM_TEXT:
            if name in kwargs:
                kwargs[name] = feed_text(kwargs[name])
        kwargs["categories"] = [feed_text(c) for c in kwargs.get("categories") or ()]
        if kwargs.get("source_url"):
            kwargs["source_url"] = iri_to_uri(kwargs["source_url"])
        super().add_item(feed_text(title), link, description, **kwargs)


class SourcedRssFeed(PlainTextFields, Rss201rev2Feed):
    """RSS 2.0 whose items name the original in `<source url="...">`, and which names its
    WebSub hub when there is one."""

    def add_root_elements(self, handler):
        super().add_root_elements(handler)
        if self.feed.get("hub_url"):
            handler.addQuickElement("atom:link", None, {"rel": "hub", "href": self.feed["hub_url"]})

    def add_item_elements(self, handler, item):
        super().add_item_elements(handler, item)
        handler.addQuickElement("source", item["source_name"], {"url": item["source_url"]})


class SourcedAtomFeed(PlainTextFields, Atom1Feed):
    """Atom whose entries carry the full content and link to the original with rel="via", and
    which names its WebSub hub when there is one."""

    def add_root_elements(self, handler):
        super().add_root_elements(handler)
        if self.feed.get("hub_url"):
            handler.addQuickElement("link", "", {"rel": "hub", "href": self.feed["hub_url"]})

    def add_item_elements(self, handler, item):
        super().add_item_elements(handler, item)
        handler.addQuickElement("link", "", {"rel": "via", "href": item["source_url"]})
        handler.addQuickElement("content", item["content_html"], {"type": "html"})


class ArticleFeed(Feed):
    """What every RSS feed of articles shares; Atom variants swap the feed type."""

    feed_type = SourcedRssFeed
    request = None

    def __call__(self, request, *args, **kwargs):
        # One instance serves every request: give each request its own copy to read from.
        feed = copy.copy(self)
        feed.request = request
        return Feed.__call__(feed, request, *args, **kwargs)

    def feed_url(self, obj):
        return self_url(self.request)

    def feed_extra_kwargs(self, obj):
        return {"hub_url": websub_hub()}

    def feed_copyright(self):
        return (
            "Each article remains the copyright of the holder named in it; "
            f"selection and presentation © {settings.SITE_NAME}."
        )

    def author_name(self):
        return settings.SITE_NAME

    def articles(self, obj):
        return feed_articles()

    def items(self, obj):
        return list(self.articles(obj)[:FEED_SIZE])

    def item_title(self, item):
        return f"{item.kicker}: {item.title}" if item.kicker else item.title

    def item_description(self, item):
        return item_content_html(item, self.request)

    def item_link(self, item):
        return item.get_absolute_url()

    def item_author_name(self, item):
        return author_names(item) or None

    def item_pubdate(self, item):
        return item.published_at

    def item_updateddate(self, item):
        return modified_at(item)

    def item_categories(self, item):
        return [
            *(region.name for region in item.regions.all()),
            *(theme.name for theme in item.themes.all()),
            *(tag.name for tag in item.tags.all()),
        ]

    def item_extra_kwargs(self, item):
        return {"source_name": item.source.name, "source_url": original_url(item, self.request)}


class AtomVariant:
    """Atom instead of RSS: the summary is the dek, the full content goes in <content>."""

    feed_type = SourcedAtomFeed

    def subtitle(self, obj):
        return self.description(obj)

    def item_description(self, item):
        return escape(item.dek) if item.dek else None

    def item_extra_kwargs(self, item):
        return {
            **super().item_extra_kwargs(item),
            "content_html": item_content_html(item, self.request),
        }


class LatestArticlesFeed(ArticleFeed):
    def title(self, obj=None):
        return f"{settings.SITE_NAME}: latest articles"

    def link(self, obj=None):
        return reverse("articles:home")

    def description(self, obj=None):
        return (
            f"The latest articles republished on {settings.SITE_NAME}, "
            "credited to their original sources."
        )


class LatestArticlesAtomFeed(AtomVariant, LatestArticlesFeed):
    pass


def _in_region(articles, region):
    return articles.filter(
        pk__in=Article.objects.filter(regions__in=region.descendant_ids()).values("pk")
    )


# kind in the address -> (model, how to narrow the articles to one of them, page URL name)
SUBJECTS = {
    "regions": (Region, _in_region, "articles:region"),
    "themes": (Theme, lambda articles, theme: articles.filter(themes=theme), "articles:theme"),
    "reports": (
        InDepthReport,
        lambda articles, report: articles.filter(reports=report),
        "articles:report",
    ),
    "authors": (
        Author,
        lambda articles, author: articles.filter(bylines__author=author),
        "articles:author",
    ),
    "sources": (Source, lambda articles, source: articles.filter(source=source), "articles:source"),
    "tags": (Tag, lambda articles, tag: articles.filter(tags=tag), "articles:tag"),
}

_KIND_OF_MODEL = {model: kind for kind, (model, _narrow, _url_name) in SUBJECTS.items()}


def subject_feeds(subject) -> list[dict]:
    """RSS and Atom feeds of a listing's subject (a region, theme, report, author, source or
    tag), for <link rel="alternate"> in its head; nothing for anything else."""
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


class SubjectArticlesFeed(ArticleFeed):
    """The latest articles filed under one region (with its sub-regions), theme, report..."""

    def get_object(self, request, kind, slug):
        if kind not in SUBJECTS:
            raise Http404("No such kind of feed.")
        model, narrow, url_name = SUBJECTS[kind]
        return kind, get_object_or_404(model, slug=slug), narrow, url_name

    def articles(self, obj):
        _kind, subject, narrow, _url_name = obj
        return narrow(feed_articles(), subject)

    def title(self, obj):
        return f"{obj[1]}: {settings.SITE_NAME}"

    def link(self, obj):
        _kind, subject, _narrow, url_name = obj
        return reverse(url_name, kwargs={"slug": subject.slug})

    def description(self, obj):
        return f"The latest articles about {obj[1]} on {settings.SITE_NAME}."


class SubjectArticlesAtomFeed(AtomVariant, SubjectArticlesFeed):
    pass


def json_feed(request):
    """The latest articles as JSON Feed 1.1 (https://www.jsonfeed.org/version/1.1/)."""
    articles = list(feed_articles()[:FEED_SIZE])
    document = {
        "version": "https://jsonfeed.org/version/1.1",
        "title": f"{settings.SITE_NAME}: latest articles",
        "home_page_url": request.build_absolute_uri(reverse("articles:home")),
        "feed_url": self_url(request),
        "description": f"The latest articles republished on {settings.SITE_NAME}.",
        "language": settings.LANGUAGE_CODE,
        "authors": [{"name": settings.SITE_NAME}],
        "items": [json_feed_item(article, request) for article in articles],
    }
    if websub_hub():
        document["hubs"] = [{"type": "WebSub", "url": websub_hub()}]
    return HttpResponse(
        json.dumps(document, cls=DjangoJSONEncoder, ensure_ascii=False),
        content_type=f"{JSON_FEED_CONTENT_TYPE}; charset=utf-8",
    )


def modified_at(article: Article) -> datetime.datetime:
    """When readers last saw `article` change: its last save, or its publication if later.

    A scheduled article is saved before it goes live; its modification is then its publication.
    """
    if article.published_at is None:
        return article.updated_at
    return max(article.updated_at, article.published_at)


def json_feed_item(article: Article, request) -> dict:
    url = request.build_absolute_uri(article.get_absolute_url())
    item = {
        "id": url,
        "url": url,
        "external_url": original_url(article, request),
        "title": article.title,
        "content_html": item_content_html(article, request),
        "date_published": article.published_at.isoformat(),
        "date_modified": modified_at(article).isoformat(),
        "authors": [
            {"name": author.name, "url": request.build_absolute_uri(author.get_absolute_url())}
            for author in article.ordered_authors
        ]
        or [{"name": article.source.name}],
        "tags": [
            *(region.name for region in article.regions.all()),
            *(theme.name for theme in article.themes.all()),
            *(tag.name for tag in article.tags.all()),
        ],
        "language": article.language,
    }
    if article.dek:
        item["summary"] = article.dek
    image = lead_image_url(article, request)
    if image:
        item["image"] = image
    return item
