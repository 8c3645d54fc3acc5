"""The search page: a query in web-search syntax, optional filters, ranked and highlighted results.

GET parameters: `q` (the words), `region`, `theme`, `report`, `source`, `author` (slugs),
`from` and `to` (dates, inclusive, in the site's time zone), `page`. Filters alone (no `q`)
list the matching articles newest first. How matching and ranking work: articles/search/engine.py.
"""

import datetime
import html

from django import forms
from django.conf import settings
from django.core.cache import cache
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.forms.utils import flatatt
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django.views.generic import TemplateView

from articles.models import (
    Article,
    Author,
    Byline,
    InDepthReport,
    Region,
    Source,
    Theme,
)
from articles.search.engine import normalise_query, search_articles
from articles.site.generation import site_generation


def filter_choices() -> dict[str, list[tuple[str, str]]]:
    """(slug, name) options of every filter menu, cached until a taxonomy or source changes."""
    key = f"articles:search-filters:{site_generation()}"
    choices = cache.get(key)
    if choices is None:
        choices = {
            "region": list(Region.objects.values_list("slug", "name")),
            "theme": list(Theme.objects.values_list("slug", "name")),
            "report": list(InDepthReport.objects.values_list("slug", "title")),
            "source": list(Source.objects.values_list("slug", "name")),
        }
        cache.set(key, choices, 60 * 60)
    return choices


class FilterMenu(forms.Select):
    """A <select> written out in Python.

    The filter menus hold about a hundred options between them; Django's widget templates
    render every option through an include, which made them a few milliseconds of each
    search page.
    """

    def render(self, name, value, attrs=None, renderer=None):
        current = "" if value is None else str(value)
        options = "".join(
            f'<option value="{html.escape(str(option))}"'
            f"{' selected' if str(option) == current else ''}>{html.escape(str(label))}</option>"
            for option, label in self.choices
        )
        attributes = flatatt(self.build_attrs(self.attrs, attrs))
        return format_html('<select name="{}"{}>{}</select>', name, attributes, mark_safe(options))  # noqa: S308 - every option is escaped


class SearchForm(forms.Form):
    q = forms.CharField(label="Search for", required=False, max_length=500)
    region = forms.ChoiceField(required=False, widget=FilterMenu)
    theme = forms.ChoiceField(required=False, widget=FilterMenu)
    report = forms.ChoiceField(label="In-depth report", required=False, widget=FilterMenu)
    source = forms.ChoiceField(required=False, widget=FilterMenu)
    author = forms.SlugField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name, options in filter_choices().items():
            self.fields[name].choices = [("", "Any"), *options]
        # "from" and "to" read best in an address but are not Python names.
        self.fields["from"] = forms.DateField(
            label="Published from", required=False, widget=forms.DateInput(attrs={"type": "date"})
        )
        self.fields["to"] = forms.DateField(
            label="to", required=False, widget=forms.DateInput(attrs={"type": "date"})
        )

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("from"), cleaned.get("to")
        if start and end and start > end:
            self.add_error("to", "The end date is before the start date.")
        return cleaned

    def valid_values(self) -> dict:
        """What the reader asked for, leaving out any field that did not validate."""
        self.is_valid()
        return {name: value for name, value in self.cleaned_data.items() if name not in self.errors}


def filtered_articles(articles: QuerySet, values: dict) -> QuerySet:
    """Narrow `articles` by the filters in a search form's cleaned values.

    Filing filters read the relation tables alone (`pk IN (ids of the articles filed
    under ...)`): no join multiplies rows, and the database can test them before the words.
    """
    filings = []
    if values.get("region"):
        region = Region.objects.filter(slug=values["region"]).first()
        if region is not None:
            regions = Article.regions.through.objects
            filings.append(regions.filter(region_id__in=region.descendant_ids()))
    if values.get("theme"):
        theme_ids = Theme.objects.filter(slug=values["theme"]).values_list("pk", flat=True)
        filings.append(Article.themes.through.objects.filter(theme_id__in=list(theme_ids)))
    if values.get("report"):
        report_ids = InDepthReport.objects.filter(slug=values["report"]).values_list(
            "pk", flat=True
        )
        reports = Article.reports.through.objects
        filings.append(reports.filter(indepthreport_id__in=list(report_ids)))
    if values.get("author"):
        author_ids = Author.objects.filter(slug=values["author"]).values_list("pk", flat=True)
        filings.append(Byline.objects.filter(author_id__in=list(author_ids)))
    for filed in filings:
        articles = articles.filter(pk__in=filed.values("article_id"))
    if values.get("source"):
        articles = articles.filter(source__slug=values["source"])
    zone = timezone.get_current_timezone()
    if values.get("from"):
        start = datetime.datetime.combine(values["from"], datetime.time.min, zone)
        articles = articles.filter(published_at__gte=start)
    if values.get("to"):
        next_day = values["to"] + datetime.timedelta(days=1)
        articles = articles.filter(
            published_at__lt=datetime.datetime.combine(next_day, datetime.time.min, zone)
        )
    return articles


FILTER_NAMES = ("region", "theme", "report", "source", "author", "from", "to")
# What a result card (templates/jinja2/search/_result.html) prints of an article and its source.
RESULT_FIELDS = ("title", "slug", "kicker", "dek", "published_at", "filed_under", "source__name")


def result_cards(articles: QuerySet) -> QuerySet:
    """The loading plan of search results: the card's fields, its authors (kept on the row:
    `Article.filed`) and source name, in one query. Unlike listing cards
    (`ArticleQuerySet.for_listing`), a result card shows no lead image, regions or themes."""
    return articles.select_related("source").only(*RESULT_FIELDS).order_by("-published_at", "-pk")


class SearchView(TemplateView):
    template_name = "search/search.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        form = SearchForm(self.request.GET or None)
        values = form.valid_values() if form.is_bound else {}
        text = normalise_query(values.get("q"))
        filtering = any(values.get(name) for name in FILTER_NAMES)
        articles = filtered_articles(result_cards(Article.objects.published()), values)
        if text:
            articles = search_articles(articles, text)
        elif not filtering:
            articles = articles.none()
        results = Paginator(articles, settings.ARTICLES_PER_PAGE)
        page = results.get_page(self.request.GET.get("page"))
        page.object_list = list(page.object_list)
        context.update(
            form=form,
            query=text,
            searched=bool(text or filtering),
            capped=getattr(articles, "capped", False),
            max_ranked=getattr(articles, "limit", None),
            page_obj=page,
            articles=page.object_list,
            author=self._author(values.get("author")),
        )
        return context

    def _author(self, slug):
        return Author.objects.filter(slug=slug).first() if slug else None
