"""The syndication panels of the desk (articles/editorial/dashboard.py), registered from
`SyndicationConfig.ready()`: the review queue, upstream changes, feed health, what the
originals watch flagged, the last runs."""

from django.db.models import Count, Q
from django.urls import reverse
from django.utils import timezone

from articles.editorial.dashboard import Figure, admin_list, register_panel
from articles.models import ArticleStatus
from syndication.models import (
    Feed,
    FeedQuerySet,
    ImportedItem,
    ImportRun,
    OriginalCheck,
    RunStatus,
)

LAST_RUNS = 5
QUEUE = "admin:syndication_importeditem_changelist"
FEEDS = "admin:syndication_feed_changelist"


@register_panel("review", "Review queue", permission="syndication.view_importeditem", order=10)
def queue_figures(request) -> list[Figure]:
    counts = ImportedItem.objects.aggregate(
        review=Count("pk", filter=Q(article__status=ArticleStatus.REVIEW)),
        drafts=Count("pk", filter=Q(article__status=ArticleStatus.DRAFT)),
        changed=Count("pk", filter=Q(upstream_changed=True)),
        problems=Count("pk", filter=~Q(date_problem="", warnings=[])),
        duplicates=Count(
            "pk", filter=Q(pk__in=ImportedItem.objects.with_undecided_duplicates().values("pk"))
        ),
    )
    return [
        Figure("Awaiting review", admin_list(QUEUE, queue="review"), counts["review"]),
        Figure(
            "Changed upstream", admin_list(QUEUE, queue="changed"), counts["changed"], tone="alert"
        ),
        Figure("Imported drafts", admin_list(QUEUE, queue="drafts"), counts["drafts"]),
        Figure("Date or image problems", admin_list(QUEUE, queue="problems"), counts["problems"]),
        Figure(
            "Possible duplicates to decide",
            admin_list(QUEUE, queue="all", duplicates="undecided"),
            counts["duplicates"],
            tone="alert",
        ),
    ]


@register_panel("feeds", "Feeds", permission="syndication.view_feed", order=30)
def feed_figures(request) -> list[Figure]:
    counts = Feed.objects.aggregate(
        failing=Count("pk", filter=FeedQuerySet.failing_condition()),
        stale=Count("pk", filter=FeedQuerySet.stale_condition(timezone.now())),
        dead=Count("pk", filter=FeedQuerySet.dead_condition()),
    )
    return [
        Figure("Failing", admin_list(FEEDS, health="failing"), counts["failing"], tone="alert"),
        Figure(
            "Stale: nothing new for a day", admin_list(FEEDS, health="stale"), counts["stale"],
            tone="alert",
        ),
        Figure("Switched off after failures", admin_list(FEEDS, health="dead"), counts["dead"],
               tone="alert"),
    ]  # fmt: skip


@register_panel("originals", "Originals", permission="articles.view_article", order=35)
def original_figures(request) -> list[Figure]:
    """What the originals watch (syndication/originals.py) flagged: gone or retracted."""
    return [
        Figure(
            "Originals gone or retracted",
            admin_list("admin:articles_article_changelist", original="gone"),
            OriginalCheck.objects.flagged().count(),
            tone="alert",
        )
    ]


@register_panel("runs", "Last import runs", permission="syndication.view_importrun", order=50)
def run_figures(request) -> list[Figure]:
    runs = ImportRun.objects.select_related("source").order_by("-started_at", "-pk")[:LAST_RUNS]
    figures = [
        Figure(
            f"{timezone.localtime(run.started_at):%d %b %H:%M} · {run.source.name}",
            reverse("admin:syndication_importrun_change", args=[run.pk]),
            detail=run.summary,
            tone="alert" if run.status == RunStatus.FAILED else "",
        )
        for run in runs
    ]
    return [*figures, Figure("All runs", reverse("admin:syndication_importrun_changelist"))]
