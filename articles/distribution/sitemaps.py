"""Sitemaps for search engines, and robots.txt that points them there.

/sitemap.xml is an index of sections:
    articles-YYYY-MM   the live articles first published on this site in that month
    regions, themes, reports   every taxonomy page
    authors, sources, tags     those with at least one live article
    news               the Google News sitemap: articles published in the last 48 hours
Each section lives at /sitemap-<section>.xml. Only live articles are listed (no drafts,
nothing scheduled, nothing withdrawn), and not the articles of sources that ask search engines
not to index them. Sections are worked out per request, so a new month appears by itself;
building the index costs a fixed number of queries however many articles there are.
"""

import datetime

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.contrib.sitemaps import Sitemap
from django.contrib.sitemaps import views as sitemap_views
from django.core.paginator import Paginator
from django.db.models import Count, Max
from django.db.models.functions import TruncMonth
from django.urls import reverse
from django.utils import timezone
from django.views.generic import TemplateView
from taggit.models import Tag, TaggedItem

from articles.models import Article, Author, Byline, InDepthReport, Region, Source, Theme

NEWS_WINDOW = datetime.timedelta(hours=48)
NEWS_MAX_ITEMS = 1000


def indexable_articles():
    """Live articles whose source lets search engines index them."""
    return Article.objects.published().exclude(source__noindex=True)


class KnownCountPaginator(Paginator):
    """A paginator told its count in advance, so the index does not count each month again."""

    def __init__(self, object_list, per_page, count):
        super().__init__(object_list, per_page)
        self.known_count = count

    @property
    def count(self) -> int:
        return self.known_count


class ArticleMonthSitemap(Sitemap):
    """The live articles published on this site in one calendar month (site time zone)."""

    changefreq = "monthly"

    def __init__(self, month_start: datetime.datetime, count: int, latest: datetime.datetime):
        self.month_start = month_start
        self.count = count
        self.latest = latest

    @property
    def month_end(self) -> datetime.datetime:
        return (self.month_start + datetime.timedelta(days=32)).replace(day=1)

    def items(self):
        return (
            indexable_articles()
            .filter(published_at__gte=self.month_start, published_at__lt=self.month_end)
            .only("slug", "updated_at", "published_at")
            .order_by("published_at", "pk")
        )

    def lastmod(self, article):
        return article.updated_at

    def get_latest_lastmod(self):
        return self.latest

    @property
    def paginator(self):
        return KnownCountPaginator(self._items(), self.limit, self.count)


class SubjectSitemap(Sitemap):
    """Listing pages of one kind of subject: regions, themes, reports, authors, sources, tags."""

    changefreq = "daily"
    url_name = ""

    def __init__(self, queryset, url_name: str):
        self.queryset = queryset
        self.url_name = url_name

    def items(self):
        return self.queryset.order_by("pk").only("pk", "slug")

    def location(self, subject):
        return reverse(self.url_name, kwargs={"slug": subject.slug})


def tags_in_use():
    tagged = TaggedItem.objects.filter(
        content_type=ContentType.objects.get_for_model(Article),
        object_id__in=indexable_articles().values("pk"),
    )
    return Tag.objects.filter(pk__in=tagged.values("tag_id"))


def news_language(language: str) -> str:
    """The ISO 639 code Google News expects: 'en', 'fr'...; Chinese keeps its script."""
    code = (language or settings.LANGUAGE_CODE).lower().replace("_", "-")
    return code if code in ("zh-cn", "zh-tw") else code.split("-")[0]


class NewsSitemap(Sitemap):
    """Articles published in the last 48 hours, with the `news:` elements Google News reads."""

    limit = NEWS_MAX_ITEMS

    def items(self):
        now = timezone.now()
        return (
            indexable_articles()
            .filter(published_at__gte=now - NEWS_WINDOW)
            .only("slug", "title", "language", "published_at", "updated_at")
            .order_by("-published_at", "-pk")[:NEWS_MAX_ITEMS]
        )

    def lastmod(self, article):
        return article.updated_at

    def get_urls(self, *args, **kwargs):
        urls = super().get_urls(*args, **kwargs)
        for url in urls:
            url["news_language"] = news_language(url["item"].language)
        return urls


def article_month_sections() -> dict[str, ArticleMonthSitemap]:
    """One section per month that has live articles, from one aggregate query."""
    months = (
        indexable_articles()
        .annotate(month=TruncMonth("published_at"))
        .values("month")
        .annotate(count=Count("pk"), latest=Max("updated_at"))
        .order_by("-month")
    )
    return {
        f"articles-{row['month']:%Y-%m}": ArticleMonthSitemap(
            row["month"], row["count"], row["latest"]
        )
        for row in months
    }


def subject_sections() -> dict[str, SubjectSitemap]:
    live = indexable_articles()
    return {
        "regions": SubjectSitemap(Region.objects.all(), "articles:region"),
        "themes": SubjectSitemap(Theme.objects.all(), "articles:theme"),
        "reports": SubjectSitemap(InDepthReport.objects.all(), "articles:report"),
        "authors": SubjectSitemap(
            Author.objects.filter(
                pk__in=Byline.objects.filter(article__in=live).values("author_id")
            ),
            "articles:author",
        ),
        "sources": SubjectSitemap(
            Source.objects.filter(pk__in=live.values("source_id")), "articles:source"
        ),
        "tags": SubjectSitemap(tags_in_use(), "articles:tag"),
    }


def sitemap_sections() -> dict[str, Sitemap]:
    return {**article_month_sections(), **subject_sections(), "news": NewsSitemap()}


def sitemap_index(request):
    return sitemap_views.index(
        request, sitemap_sections(), sitemap_url_name="discovery:sitemap_section"
    )


def sitemap_section(request, section):
    if section == "news":
        return news_sitemap(request)
    sections = article_month_sections() if section.startswith("articles-") else subject_sections()
    return sitemap_views.sitemap(request, sections, section=section)


def news_sitemap(request):
    return sitemap_views.sitemap(
        request, {"news": NewsSitemap()}, section="news", template_name="sitemaps/news.xml"
    )


class RobotsTxtView(TemplateView):
    template_name = "robots.txt"
    content_type = "text/plain; charset=utf-8"

    def get_context_data(self, **kwargs):
        absolute = self.request.build_absolute_uri
        return super().get_context_data(
            sitemap_urls=[
                absolute(reverse("discovery:sitemap_index")),
                absolute(reverse("discovery:news_sitemap")),
            ],
            **kwargs,
        )
