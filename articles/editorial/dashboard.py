"""The desk: the admin's home page, made of panels each app registers.

A panel is a function of the request returning `Figure`s: a label, a number (or none, for a
line of a list such as the last import runs) and the address of the filtered admin list behind
it. Apps add their panels from `AppConfig.ready()` with `register_panel`, so `articles` shows
figures of `syndication` without knowing it exists. Each panel reads its figures with a fixed
number of queries (one aggregate per model), so the desk costs the same whatever the archive.
"""

import datetime
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlencode

from django.db.models import Count, Q
from django.urls import reverse
from django.utils import timezone

from articles.models import Article, ArticleStatus, RightsRecord

# Permissions expiring within this many days are shown on the desk and its list filter.
EXPIRING_WITHIN_DAYS = 30
SCHEDULE_WINDOW = datetime.timedelta(hours=24)


@dataclass(frozen=True)
class Figure:
    label: str
    url: str
    count: int | None = None
    detail: str = ""
    # "alert" when the figure needs someone's attention now (a failing feed, an expired
    # permission), "" otherwise; a zero is never an alert.
    tone: str = ""

    @property
    def needs_attention(self) -> bool:
        return bool(self.tone) and self.count != 0


@dataclass(frozen=True)
class Panel:
    key: str
    title: str
    figures: Callable[..., list[Figure]]
    permission: str
    order: int = 100


@dataclass
class ShownPanel:
    key: str
    title: str
    figures: list[Figure] = field(default_factory=list)


_PANELS: dict[str, Panel] = {}


def register_panel(key: str, title: str, *, permission: str, order: int = 100):
    """Decorator: add a panel shown to users holding `permission` (registering a key again
    replaces the panel, so a reloaded module does not show it twice)."""

    def decorator(figures: Callable[..., list[Figure]]):
        _PANELS[key] = Panel(key, title, figures, permission, order)
        return figures

    return decorator


def registered_panels() -> list[Panel]:
    return sorted(_PANELS.values(), key=lambda panel: (panel.order, panel.key))


def panels_for(request) -> list[ShownPanel]:
    """The panels `request.user` may see, in order, with their figures read now."""
    return [
        ShownPanel(panel.key, panel.title, panel.figures(request))
        for panel in registered_panels()
        if request.user.has_perm(panel.permission)
    ]


def admin_list(url_name: str, **filters) -> str:
    url = reverse(url_name)
    return f"{url}?{urlencode(filters)}" if filters else url


# --- The panels of articles --------------------------------------------------------------------


@register_panel("articles", "Articles", permission="articles.view_article", order=20)
def article_figures(request) -> list[Figure]:
    now = timezone.now()
    counts = Article.objects.aggregate(
        review=Count("pk", filter=Q(status=ArticleStatus.REVIEW)),
        drafts=Count("pk", filter=Q(status=ArticleStatus.DRAFT)),
        next_day=Count(
            "pk",
            filter=Q(
                status=ArticleStatus.PUBLISHED,
                published_at__gt=now,
                published_at__lte=now + SCHEDULE_WINDOW,
            ),
        ),
    )
    changelist = "admin:articles_article_changelist"
    return [
        Figure("In review", admin_list(changelist, status="review"), counts["review"]),
        Figure(
            "Scheduled in the next 24 hours",
            admin_list(changelist, status="next-24-hours"),
            counts["next_day"],
        ),
        Figure("Drafts", admin_list(changelist, status="draft"), counts["drafts"]),
    ]


@register_panel("rights", "Permissions", permission="articles.view_source", order=40)
def rights_figures(request) -> list[Figure]:
    today = timezone.localdate()
    records = RightsRecord.objects.all()
    counts = records.aggregate(
        expiring=Count(
            "pk",
            filter=Q(pk__in=records.expiring(EXPIRING_WITHIN_DAYS, today).values("pk")),
        ),
        ended=Count("pk", filter=Q(pk__in=records.ended(today).values("pk"))),
    )
    sources = "admin:articles_source_changelist"
    figures = [
        Figure(
            f"Permissions expiring in {EXPIRING_WITHIN_DAYS} days",
            admin_list(sources, rights="expiring"),
            counts["expiring"],
            tone="alert",
        ),
        Figure(
            "Permissions expired or revoked",
            admin_list(sources, rights="ended"),
            counts["ended"],
            tone="alert",
        ),
    ]
    if request.user.has_perm("articles.view_article"):
        figures.append(
            Figure(
                "Live articles whose rights ended",
                admin_list("admin:articles_article_changelist", rights_ended="flagged"),
                Article.objects.flagged_for_rights().count(),
                tone="alert",
            )
        )
    return figures
