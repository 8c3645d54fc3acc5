"""The API's endpoints: published articles with their provenance, and what they are filed
under. Every article listing goes through `Article.objects.published()` and the site's loading
plans, so drafts, articles in review and scheduled articles never appear, and a page costs the
same number of queries however many authors, regions or tags its articles have."""

import datetime
import json

from django.conf import settings
from django.http import QueryDict
from django.urls import reverse
from django.utils import timezone
from ninja import NinjaAPI, Query, Status
from ninja.errors import ValidationError
from ninja.renderers import JSONRenderer
from ninja.responses import NinjaJSONEncoder
from taggit.models import Tag

from articles.distribution.feeds import modified_at
from articles.models import (
    Article,
    ArticleStatus,
    Author,
    InDepthReport,
    Region,
    RightsRecord,
    Source,
    Theme,
    load_rarely_filled,
)
from articles.models import subjects as prefetch_subjects
from articles.site.links import subject_url
from articles.site.presentation import attribution_line, copyright_line, lead_image

from . import cursor, schemas

# Inside HTML an escaped "<" cannot start a tag: a client that pastes our JSON into a page
# or a <script> element cannot be tricked by a title or body into running markup.
_HTML_SAFE = {ord("<"): "\\u003C", ord(">"): "\\u003E", ord("&"): "\\u0026"}

# Relations every article in an answer carries, loaded together in one query.


class HtmlSafeJSONRenderer(JSONRenderer):
    def render(self, request, data, *, response_status):
        text = json.dumps(data, cls=NinjaJSONEncoder, ensure_ascii=False)
        return text.translate(_HTML_SAFE)


api = NinjaAPI(
    title=f"{settings.SITE_NAME} API",
    version="1",
    description=(
        "Read-only access to the articles this site republishes, with their provenance, and "
        "to the sources, authors and taxonomy they are filed under. Anonymous clients are "
        "rate-limited; see docs/api.md."
    ),
    urls_namespace="api",
    docs_url=None,
    renderer=HtmlSafeJSONRenderer(),
)

ERRORS = {400: schemas.Error, 429: schemas.Error}


@api.exception_handler(ValidationError)
def invalid_parameters(request, error):
    problems = "; ".join(
        f"{'.'.join(str(part) for part in problem['loc'][1:]) or 'query'}: {problem['msg']}"
        for problem in error.errors
    )
    return api.create_response(request, {"detail": problems}, status=400)


@api.exception_handler(cursor.BadCursor)
def bad_cursor(request, error):
    return api.create_response(request, {"detail": str(error)}, status=400)


def read(path: str, **options):
    """A GET endpoint that answers HEAD too (as the page cache does), documented once."""

    def register(view):
        # GET first: the path's URL takes its name from the first operation registered.
        api.get(path, **options)(view)
        head_options = {key: value for key, value in options.items() if key != "url_name"}
        return api.api_operation(["HEAD"], path, include_in_schema=False, **head_options)(view)

    return register


def absolute(request, path: str) -> str:
    return request.build_absolute_uri(path)


def next_page(request, token: str | None, parameters) -> dict:
    """The next page's cursor, and its address with the declared `parameters` of this one."""
    if token is None:
        return {"next_cursor": None, "next": None}
    query = QueryDict(mutable=True)
    for name in parameters:
        if name in request.GET:
            query.setlist(name, request.GET.getlist(name))
    query["cursor"] = token
    return {
        "next_cursor": token,
        "next": absolute(request, f"{request.path}?{query.urlencode()}"),
    }


# -- articles ---------------------------------------------------------------------------------


def licence_data(source) -> dict | None:
    try:
        rights = source.rights
    except RightsRecord.DoesNotExist:
        return None
    return {
        "kind": rights.basis,
        "label": rights.get_basis_display(),
        "licence_url": rights.licence_url or None,
        "copyright_holder": rights.copyright_holder or source.name,
        "attribution_wording": rights.attribution_wording,
        "scope": rights.scope,
    }


def source_data(request, source) -> dict:
    return {
        "name": source.name,
        "slug": source.slug,
        "homepage": source.homepage or None,
        "url": absolute(request, subject_url(source)),
        "licence": licence_data(source),
    }


def subjects(request, objects) -> list[dict]:
    return [
        {"name": str(subject), "slug": subject.slug, "url": absolute(request, subject_url(subject))}
        for subject in objects
    ]


def article_data(request, article: Article) -> dict:
    image = lead_image(article, request)
    return {
        "id": article.pk,
        "slug": article.slug,
        "url": absolute(request, article.get_absolute_url()),
        "api_url": absolute(request, reverse("api:article", kwargs={"slug": article.slug})),
        "title": article.title,
        "kicker": article.kicker,
        "summary": article.dek,
        "language": article.language,
        "published_at": article.published_at,
        "updated_at": modified_at(article),
        "authors": subjects(request, article.ordered_authors),
        "regions": subjects(request, article.regions.all()),
        "themes": subjects(request, article.themes.all()),
        "reports": subjects(request, article.reports.all()),
        "tags": subjects(request, article.tags.all()),
        "lead_image": {
            "src": image["absolute_src"],
            "width": image["width"],
            "height": image["height"],
            "alt": image["alt"],
            "caption": image["caption"],
            "credit": image["credit"],
        }
        if image
        else None,
        "video_url": article.video_url or None,
        "original_url": article.original_url or None,
        "original_title": article.original_title or None,
        "original_published_at": article.original_published_at,
        "source": source_data(request, article.source),
        "attribution": attribution_line(article),
        "copyright": copyright_line(article),
        "excerpt_only": article.is_excerpt_only,
    }


def day_start(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


def filtered_articles(filters: schemas.ArticleFilters):
    articles = Article.objects.published()
    if filters.region:
        region = Region.objects.filter(slug=filters.region).first()
        if region is None:
            return articles.none()
        filed = Article.regions.through.objects.filter(region_id__in=region.descendant_ids())
        articles = articles.filter(pk__in=filed.values("article_id"))
    if filters.theme:
        filed = Article.themes.through.objects.filter(theme__slug=filters.theme)
        articles = articles.filter(pk__in=filed.values("article_id"))
    if filters.report:
        filed = Article.reports.through.objects.filter(indepthreport__slug=filters.report)
        articles = articles.filter(pk__in=filed.values("article_id"))
    if filters.tag:
        articles = articles.filter(
            pk__in=Article.objects.filter(tags__slug=filters.tag).values("pk")
        )
    if filters.author:
        articles = articles.filter(
            pk__in=Article.objects.filter(bylines__author__slug=filters.author).values("pk")
        )
    if filters.source:
        articles = articles.filter(source__slug=filters.source)
    if filters.language:
        articles = articles.filter(language=filters.language)
    if filters.published_from:
        articles = articles.filter(published_at__gte=day_start(filters.published_from))
    if filters.published_to:
        next_day = filters.published_to + datetime.timedelta(days=1)
        articles = articles.filter(published_at__lt=day_start(next_day))
    return articles


@read(
    "/articles/",
    response={200: schemas.ArticlePage, **ERRORS},
    url_name="articles",
    summary="Published articles, newest first",
)
def list_articles(request, filters: Query[schemas.ArticleFilters]):
    """Live articles, newest first, a page at a time. Follow `next` (or pass `next_cursor`
    as `cursor`) for the next page: pages are cut after the last article of the previous
    one, so articles published meanwhile never shift or repeat what you are paging through."""
    articles = filtered_articles(filters)
    if filters.cursor:
        published_at, pk = cursor.decode(filters.cursor, datetime.datetime, int)
        articles = articles.filter(published_at__lte=published_at).exclude(
            published_at=published_at, pk__gte=pk
        )
    listed = (
        articles.for_listing()
        .select_related("source__rights", "lead_image")
        .prefetch_related(prefetch_subjects("reports"), "tags")
    )
    rows = list(listed[: filters.limit + 1])
    page, more = rows[: filters.limit], len(rows) > filters.limit
    token = cursor.encode(page[-1].published_at, page[-1].pk) if more else None
    return {
        "items": [article_data(request, article) for article in page],
        **next_page(request, token, schemas.ArticleFilters.model_fields),
    }


@read(
    "/articles/{slug}/",
    response={200: schemas.Article, 404: schemas.Error, 410: schemas.Gone, **ERRORS},
    url_name="article",
    summary="One published article, with its body",
)
def get_article(request, slug: str):
    """A live article with its sanitized body (its first paragraph when the source allows only
    an excerpt). A withdrawn article, or one whose source's rights ended under a withdraw
    policy, answers 410 Gone with when and why; drafts, articles in review and scheduled
    articles answer 404."""
    article = Article.objects.published().for_detail().filter(slug=slug).first()
    if article is None:
        withdrawn = (
            Article.objects.gone().select_related("source__rights").filter(slug=slug).first()
        )
        if withdrawn is None:
            return Status(404, {"detail": "No published article has this slug."})
        by_editor = withdrawn.status == ArticleStatus.WITHDRAWN
        return Status(
            410,
            {
                "detail": "This article has been withdrawn.",
                "title": withdrawn.title,
                "withdrawn_at": withdrawn.withdrawn_at if by_editor else None,
                "reason": withdrawn.withdrawal_reason
                if by_editor
                else withdrawn.rights_end_notice(),
            },
        )
    load_rarely_filled(article)
    return {**article_data(request, article), "body": article.public_body}


# -- sources, authors and taxonomy --------------------------------------------------------------


def subject_page(request, queryset, filters: schemas.SubjectFilters, describe) -> dict:
    """One page of subjects in slug order, after the cursor's slug."""
    if filters.cursor:
        (after,) = cursor.decode(filters.cursor, str)
        queryset = queryset.filter(slug__gt=after)
    rows = list(queryset.order_by("slug")[: filters.limit + 1])
    page, more = rows[: filters.limit], len(rows) > filters.limit
    token = cursor.encode(page[-1].slug) if more else None
    return {
        "items": [describe(row) for row in page],
        **next_page(request, token, schemas.SubjectFilters.model_fields),
    }


def _named(request, subject) -> dict:
    return subjects(request, [subject])[0]


@read("/sources/", response={200: schemas.SourcePage, **ERRORS}, url_name="sources")
def list_sources(request, filters: Query[schemas.SubjectFilters]):
    """Every source, with the kind of permission or licence its articles are republished
    under."""
    return subject_page(
        request,
        Source.objects.select_related("rights"),
        filters,
        lambda source: {**source_data(request, source), "description": source.description},
    )


@read("/authors/", response={200: schemas.AuthorPage, **ERRORS}, url_name="authors")
def list_authors(request, filters: Query[schemas.SubjectFilters]):
    return subject_page(
        request,
        Author.objects.select_related("source"),
        filters,
        lambda author: {
            **_named(request, author),
            "link": author.link or None,
            "source": author.source.slug if author.source else None,
        },
    )


@read("/regions/", response={200: schemas.RegionPage, **ERRORS}, url_name="regions")
def list_regions(request, filters: Query[schemas.SubjectFilters]):
    return subject_page(
        request,
        Region.objects.select_related("parent"),
        filters,
        lambda region: {
            **_named(request, region),
            "parent": region.parent.slug if region.parent else None,
        },
    )


@read("/themes/", response={200: schemas.ThemePage, **ERRORS}, url_name="themes")
def list_themes(request, filters: Query[schemas.SubjectFilters]):
    return subject_page(
        request,
        Theme.objects.all(),
        filters,
        lambda theme: {**_named(request, theme), "description": theme.description},
    )


@read("/reports/", response={200: schemas.ReportPage, **ERRORS}, url_name="reports")
def list_reports(request, filters: Query[schemas.SubjectFilters]):
    return subject_page(
        request,
        InDepthReport.objects.all(),
        filters,
        lambda report: {
            **_named(request, report),
            "description": report.description,
            "is_featured": report.is_featured,
        },
    )


@read("/tags/", response={200: schemas.TagPage, **ERRORS}, url_name="tags")
def list_tags(request, filters: Query[schemas.SubjectFilters]):
    return subject_page(request, Tag.objects.all(), filters, lambda tag: _named(request, tag))
