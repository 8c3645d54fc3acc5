"""The public reader site: the home page, the article page, listings and the date archive.

Every listing goes through `PublishedArticlesMixin`, so the rule of what a reader may see
(`Article.objects.published()`), how a page of articles is loaded (`for_listing()`) and how
a listing is paginated (`ListingPaginator`: page 500 costs what page 1 does) is written once.
"""

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.http import Http404
from django.shortcuts import get_object_or_404, render
from django.utils.decorators import method_decorator
from django.utils.functional import cached_property
from django.views.decorators.cache import never_cache
from django.views.generic import DetailView, ListView, MonthArchiveView, YearArchiveView
from taggit.models import Tag

from articles.models import (
    Article,
    ArticleStatus,
    Author,
    InDepthReport,
    Region,
    RegionTree,
    Source,
    Theme,
)
from articles.site.fragments import article_pieces_stamp
from articles.site.pagination import ListingPaginator
from articles.site.presentation import lead_image


class PublishedArticlesMixin:
    """Live articles only, loaded with the listing plan, a page at a time."""

    context_object_name = "articles"
    paginator_class = ListingPaginator

    def get_queryset(self):
        return Article.objects.published().for_listing(with_relations=False)

    def get_paginate_by(self, queryset):
        return settings.ARTICLES_PER_PAGE

    def get_paginator(self, queryset, per_page, **kwargs):
        # A page's articles are found by their ids, which the listing's own filters chose, and
        # read as far as the cards' cache keys need: `article_cards` loads the rest for the
        # cards it does not find in the cache (articles/site/fragments.py).
        keys = Article.objects.only("slug").order_by("-published_at", "-pk")
        return self.paginator_class(
            queryset, per_page, listing=self.listing_name(), rows=keys, **kwargs
        )

    def listing_name(self) -> str:
        """What identifies this listing's articles: its path (the page number is not in it)."""
        return self.request.path

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["canonical_url"] = self.listing_canonical_url(context.get("page_obj"))
        return context

    def listing_canonical_url(self, page_obj) -> str:
        url = self.request.build_absolute_uri(self.request.path)
        if page_obj is not None and page_obj.number > 1:
            url += f"?page={page_obj.number}"
        return url


class HomeView(PublishedArticlesMixin, ListView):
    template_name = "articles/home.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["featured_reports"] = InDepthReport.objects.filter(is_featured=True)
        return context


class SubjectListView(PublishedArticlesMixin, ListView):
    """The articles filed under one subject (a region, theme, author...) found by its slug."""

    subject_model = None
    subject_slug_field = "slug"

    def get(self, request, *args, **kwargs):
        self.subject = get_object_or_404(
            self.subject_model, **{self.subject_slug_field: kwargs["slug"]}
        )
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        return self.filter_by_subject(super().get_queryset(), self.subject)

    def filter_by_subject(self, articles, subject):
        raise NotImplementedError

    def get_context_data(self, **kwargs):
        return super().get_context_data(subject=self.subject, **kwargs)


class RegionView(SubjectListView):
    """A region's articles, including those filed under any region nested inside it."""

    subject_model = Region
    template_name = "articles/region.html"

    @cached_property
    def tree(self) -> RegionTree:
        return RegionTree.load()

    def filter_by_subject(self, articles, region):
        descendants = self.tree.descendant_ids(region)
        filed = Article.regions.through.objects.filter(region_id__in=descendants)
        return articles.filter(pk__in=filed.values("article_id"))

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            ancestors=self.tree.ancestors(self.subject),
            sub_regions=self.tree.children(self.subject),
            **kwargs,
        )


class ThemeView(SubjectListView):
    subject_model = Theme
    template_name = "articles/theme.html"

    def filter_by_subject(self, articles, theme):
        return articles.filter(themes=theme)


class ReportView(SubjectListView):
    subject_model = InDepthReport
    template_name = "articles/report.html"

    def filter_by_subject(self, articles, report):
        return articles.filter(reports=report)


class AuthorView(SubjectListView):
    subject_model = Author
    template_name = "articles/author.html"

    def filter_by_subject(self, articles, author):
        return articles.filter(bylines__author=author)


class SourceView(SubjectListView):
    subject_model = Source
    template_name = "articles/source.html"

    def filter_by_subject(self, articles, source):
        return articles.filter(source=source)


class TagView(SubjectListView):
    subject_model = Tag
    template_name = "articles/tag.html"

    def filter_by_subject(self, articles, tag):
        return articles.filter(tags=tag)


class ArchiveYearView(PublishedArticlesMixin, YearArchiveView):
    template_name = "articles/archive_year.html"
    date_field = "published_at"
    make_object_list = True


class ArchiveMonthView(PublishedArticlesMixin, MonthArchiveView):
    template_name = "articles/archive_month.html"
    date_field = "published_at"
    month_format = "%m"


class ArticlePageMixin:
    """What the article template needs besides the article: its addresses on and off this site."""

    template_name = "articles/article_detail.html"
    context_object_name = "article"

    def get_context_data(self, **kwargs):
        article = self.object
        return super().get_context_data(
            canonical_url=article.canonical_url(self.request),
            page_url=self.request.build_absolute_uri(article.get_absolute_url()),
            image=lead_image(article, self.request),
            **kwargs,
        )


def withdrawn_notice(request, article: Article):
    """410 Gone with a short notice: the one answer for a withdrawn article, at any address.

    An article taken down because its source's rights ended (under a withdraw policy) gets the
    same page, with the end of the permission as its reason.
    """
    context = {
        "article": article,
        "withdrawn_at": article.withdrawn_at,
        "reason": article.withdrawal_reason,
    }
    if article.status != ArticleStatus.WITHDRAWN:
        context.update(withdrawn_at=None, reason=article.rights_end_notice())
    return render(request, "articles/withdrawn.html", context, status=410)


class ArticleDetailView(ArticlePageMixin, DetailView):
    """A live article; a withdrawn one answers 410 Gone with a short notice; anything else 404."""

    def get_queryset(self):
        # The row keeps its bylines and taxonomy; the rarer relations the page prints are
        # read by `article_piece` when its pieces are not in the cache
        # (articles/site/fragments.py).
        return Article.objects.went_live().for_detail(with_relations=False)

    def get_object(self, queryset=None):
        article = super().get_object(queryset)
        # The rest of `published()`, asked of the source and rights record loaded with it.
        if not article.is_public():
            raise Http404("No article here.")
        return article

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["pieces_stamp"] = article_pieces_stamp(self.object, context["page_url"])
        return context

    def get(self, request, *args, **kwargs):
        try:
            return super().get(request, *args, **kwargs)
        except Http404:
            withdrawn = (
                Article.objects.gone()
                .select_related("source__rights")
                .filter(slug=kwargs["slug"])
                .first()
            )
            if withdrawn is None:
                raise
            return withdrawn_notice(request, withdrawn)


@method_decorator(never_cache, name="dispatch")
class ArticlePreviewView(ArticlePageMixin, DetailView):
    """Any article, whatever its status, as readers would see it, for editorial staff.

    Who may look: active staff users holding `articles.preview_article`, and superusers.
    Anonymous visitors are sent to the admin login (whether or not the article exists, so
    the redirect reveals nothing); signed-in users without the permission get a plain 404.
    The response is never cached and asks search engines not to index it.
    """

    def dispatch(self, request, *args, **kwargs):
        user = request.user
        if not user.is_authenticated:
            return redirect_to_login(request.get_full_path(), settings.LOGIN_URL)
        may_preview = user.is_active and (
            user.is_superuser or (user.is_staff and user.has_perm("articles.preview_article"))
        )
        if not may_preview:
            raise Http404("No article here.")
        return super().dispatch(request, *args, **kwargs)

    def get_queryset(self):
        return Article.objects.for_detail(with_relations=False)

    def get_context_data(self, **kwargs):
        return super().get_context_data(is_preview=True, **kwargs)

    def render_to_response(self, context, **response_kwargs):
        response = super().render_to_response(context, **response_kwargs)
        response["X-Robots-Tag"] = "noindex, nofollow"
        return response
