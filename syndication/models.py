"""Feeds, import runs and the provenance of every imported article.

The database enforces what the importer relies on: one provenance row per (source, dedupe key),
so two imports of the same feed running at once can never create the same article twice.
"""

import datetime
import secrets

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Exists, OuterRef, Q, Subquery
from django.urls import reverse
from django.utils import timezone

from articles.models import AlsoReportedBy, Article, ArticleStatus
from syndication.fetching.client import UnsafeURL, validate_url

# A feed that keeps failing is retried less and less often, but at least once a day.
MAX_BACKOFF = datetime.timedelta(hours=24)
# An active feed with no successful fetch for this long is stale.
STALE_AFTER = datetime.timedelta(hours=24)


def max_consecutive_failures() -> int:
    """After this many failures in a row a feed is switched off and marked dead."""
    return getattr(settings, "SYNDICATION_MAX_FEED_FAILURES", 10)


class FeedFormat(models.TextChoices):
    AUTO = "auto", "Detect automatically"
    RSS = "rss", "RSS (0.9x, 1.0, 2.0)"
    ATOM = "atom", "Atom"
    JSON = "json", "JSON Feed"


class ImportStatus(models.TextChoices):
    """The statuses an import may give a new article; withdrawn is an editor's decision."""

    DRAFT = ArticleStatus.DRAFT.value, ArticleStatus.DRAFT.label
    REVIEW = ArticleStatus.REVIEW.value, ArticleStatus.REVIEW.label
    PUBLISHED = ArticleStatus.PUBLISHED.value, ArticleStatus.PUBLISHED.label


class FeedHealth(models.TextChoices):
    NEW = "new", "New (never fetched)"
    OK = "ok", "OK"
    FAILING = "failing", "Failing"
    DEAD = "dead", "Dead"
    PAUSED = "paused", "Paused"


class FeedQuerySet(models.QuerySet):
    def active(self):
        return self.filter(is_active=True, source__is_active=True)

    def due(self, now: datetime.datetime | None = None):
        """Active feeds whose next fetch time has come (or that were never fetched)."""
        now = now or timezone.now()
        return self.active().filter(Q(next_fetch_at__isnull=True) | Q(next_fetch_at__lte=now))

    # The desk's feed figures, as conditions so one aggregate can count them all.
    @staticmethod
    def failing_condition() -> Q:
        """Still fetched, but the last fetch failed."""
        return Q(is_active=True, consecutive_failures__gt=0)

    @staticmethod
    def dead_condition() -> Q:
        """Switched off automatically after too many failures in a row."""
        return Q(is_active=False) & ~Q(dead_reason="")

    @staticmethod
    def stale_condition(now: datetime.datetime | None = None) -> Q:
        """Active, yet nothing fetched successfully for `STALE_AFTER` (never, for a feed
        older than that)."""
        since = (now or timezone.now()) - STALE_AFTER
        return Q(is_active=True) & (
            Q(last_succeeded_at__lt=since) | Q(last_succeeded_at__isnull=True, created_at__lt=since)
        )


class Feed(models.Model):
    source = models.ForeignKey("articles.Source", on_delete=models.CASCADE, related_name="feeds")
    url = models.URLField("feed URL", max_length=1000)
    title = models.CharField(
        max_length=300, blank=True, help_text="Filled in from the feed on the first fetch."
    )
    format = models.CharField(
        max_length=10,
        choices=FeedFormat.choices,
        default=FeedFormat.AUTO,
        help_text="What the document is expected to be; a different format is noted on the run.",
    )
    is_active = models.BooleanField(
        default=True, help_text="Inactive feeds are never fetched on schedule."
    )
    poll_interval = models.PositiveIntegerField(
        default=60, help_text="Minutes between two fetches while the feed is healthy."
    )
    default_status = models.CharField(
        max_length=20,
        choices=ImportStatus.choices,
        default=ImportStatus.DRAFT,
        help_text="Status of new articles. Published falls back to In review while the source "
        "has no valid rights record.",
    )
    unmapped_categories_as_tags = models.BooleanField(
        default=True,
        help_text="Turn feed categories that no mapping rule matches into tags. Off: ignore them.",
    )
    etag = models.CharField(max_length=500, blank=True, editable=False)
    last_modified = models.CharField(max_length=100, blank=True, editable=False)
    last_fetched_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_succeeded_at = models.DateTimeField(null=True, blank=True, editable=False)
    next_fetch_at = models.DateTimeField(
        null=True, blank=True, help_text="Empty means as soon as possible."
    )
    consecutive_failures = models.PositiveIntegerField(default=0, editable=False)
    last_error = models.TextField(blank=True, editable=False)
    dead_reason = models.CharField(
        max_length=500,
        blank=True,
        help_text="Why the feed was switched off automatically. Clear it and tick Active to "
        "try again.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = FeedQuerySet.as_manager()

    class Meta:
        ordering = ["source__name", "url"]
        constraints = [
            models.UniqueConstraint(fields=["source", "url"], name="feed_unique_url_per_source"),
            models.CheckConstraint(
                condition=Q(poll_interval__gte=1), name="feed_poll_interval_positive"
            ),
        ]
        indexes = [
            models.Index(fields=["is_active", "next_fetch_at"], name="feed_due"),
        ]

    def __str__(self):
        return self.title or self.url

    def get_absolute_url(self):
        return reverse("admin:syndication_feed_change", args=[self.pk])

    def clean(self):
        """Refuse, while the form is still open, an address the fetcher would never fetch."""
        if not self.url:
            return  # the field's own validation has said why
        try:
            self.url = validate_url(self.url)
        except UnsafeURL as problem:
            raise ValidationError({"url": str(problem)}) from problem

    @property
    def health(self) -> str:
        if not self.is_active:
            return FeedHealth.DEAD if self.dead_reason else FeedHealth.PAUSED
        if self.consecutive_failures:
            return FeedHealth.FAILING
        if self.last_fetched_at is None:
            return FeedHealth.NEW
        return FeedHealth.OK

    def backoff(self, failures: int) -> datetime.timedelta:
        """How long to wait after `failures` failures in a row: doubling, capped at a day."""
        minutes = self.poll_interval * 2 ** min(failures, 20)
        return min(datetime.timedelta(minutes=minutes), MAX_BACKOFF)

    def polling_interval(self, now=None) -> datetime.timedelta:
        """Time between polls: `poll_interval`, or the longer fallback interval of
        `WEBSUB_FALLBACK_POLL_INTERVAL` while a hub pushes the feed to us (WebSub)."""
        minutes = self.poll_interval
        subscription = WebSubSubscription.objects.filter(feed=self).first() if self.pk else None
        if subscription is not None and subscription.is_live(now):
            minutes = max(minutes, settings.WEBSUB_FALLBACK_POLL_INTERVAL)
        return datetime.timedelta(minutes=minutes)

    def record_success(self, *, etag: str = "", last_modified: str = "", now=None):
        """A fetch worked (200 or 304): remember the validators and schedule the next poll."""
        now = now or timezone.now()
        self.etag = etag[:500]
        self.last_modified = last_modified[:100]
        self.last_fetched_at = self.last_succeeded_at = now
        self.next_fetch_at = now + self.polling_interval(now)
        self.consecutive_failures = 0
        self.last_error = ""
        self.save(
            update_fields=[
                "etag", "last_modified", "last_fetched_at", "last_succeeded_at",
                "next_fetch_at", "consecutive_failures", "last_error", "updated_at",
            ]
        )  # fmt: skip

    def record_failure(self, message: str, *, now=None):
        """A fetch failed: back off exponentially; switch the feed off after too many failures.

        Articles already imported from the feed are never touched.
        """
        now = now or timezone.now()
        self.consecutive_failures += 1
        self.last_fetched_at = now
        self.last_error = message[:2000]
        self.next_fetch_at = now + self.backoff(self.consecutive_failures)
        limit = max_consecutive_failures()
        if self.consecutive_failures >= limit:
            self.is_active = False
            self.dead_reason = (
                f"Switched off on {now:%Y-%m-%d %H:%M} UTC after {self.consecutive_failures} "
                f"failed fetches in a row. Last error: {message}"
            )[:500]
        self.save(
            update_fields=[
                "consecutive_failures", "last_fetched_at", "last_error", "next_fetch_at",
                "is_active", "dead_reason", "updated_at",
            ]
        )  # fmt: skip


class WebSubState(models.TextChoices):
    PENDING = "pending", "Requested, waiting for the hub to verify"
    ACTIVE = "active", "Active: the hub pushes new items"
    DENIED = "denied", "Denied by the hub"
    FAILED = "failed", "The subscription request failed"


def new_callback_token() -> str:
    return secrets.token_urlsafe(32)


def new_websub_secret() -> str:
    return secrets.token_hex(32)


class WebSubSubscription(models.Model):
    """A feed's subscription at the WebSub hub its document advertises (see syndication.websub).

    The hub pushes new versions of the feed to a callback URL on this site that only the hub
    knows (`callback_token`), signed with `secret`; polling goes on less often meanwhile.
    """

    feed = models.OneToOneField(Feed, on_delete=models.CASCADE, related_name="websub")
    hub_url = models.URLField("hub URL", max_length=1000)
    topic = models.URLField(max_length=1000, help_text="The feed URL the hub knows it by.")
    callback_token = models.CharField(
        max_length=64, unique=True, default=new_callback_token, editable=False
    )
    secret = models.CharField(max_length=128, default=new_websub_secret, editable=False)
    state = models.CharField(
        max_length=10, choices=WebSubState.choices, default=WebSubState.PENDING
    )
    lease_seconds = models.PositiveIntegerField(null=True, blank=True)
    requested_at = models.DateTimeField(null=True, blank=True)
    verified_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    renew_at = models.DateTimeField(
        null=True, blank=True, help_text="When to ask the hub again (before the lease ends)."
    )
    last_notified_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)

    class Meta:
        verbose_name = "WebSub subscription"
        indexes = [models.Index(fields=["renew_at"], name="websub_renew_at")]

    def __str__(self):
        return f"{self.topic} at {self.hub_url}"

    def is_live(self, now: datetime.datetime | None = None) -> bool:
        """The hub has verified the subscription and its lease has not run out."""
        now = now or timezone.now()
        return self.state == WebSubState.ACTIVE and (
            self.expires_at is None or self.expires_at > now
        )


class MatchKind(models.TextChoices):
    EXACT = "exact", "is (ignoring case)"
    CONTAINS = "contains", "contains (ignoring case)"


class MappingRule(models.Model):
    """Turns a feed category into one piece of our taxonomy when an item is imported."""

    feed = models.ForeignKey(Feed, on_delete=models.CASCADE, related_name="mapping_rules")
    category = models.CharField(max_length=200, help_text="The feed's category text to match.")
    match = models.CharField(max_length=10, choices=MatchKind.choices, default=MatchKind.EXACT)
    region = models.ForeignKey(
        "articles.Region", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    theme = models.ForeignKey(
        "articles.Theme", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    report = models.ForeignKey(
        "articles.InDepthReport",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    tag = models.CharField(max_length=100, blank=True, help_text="A tag to add instead.")

    class Meta:
        ordering = ["feed", "category", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(region__isnull=False, theme__isnull=True, report__isnull=True, tag="")
                    | Q(region__isnull=True, theme__isnull=False, report__isnull=True, tag="")
                    | Q(region__isnull=True, theme__isnull=True, report__isnull=False, tag="")
                    | (Q(region__isnull=True, theme__isnull=True, report__isnull=True) & ~Q(tag=""))
                ),
                name="mapping_rule_one_target",
                violation_error_message="Choose exactly one of region, theme, report or tag.",
            ),
        ]

    def __str__(self):
        return f"{self.get_match_display()} “{self.category}” → {self.target_label}"

    @property
    def target_label(self) -> str:
        if self.region_id:
            return f"region {self.region}"
        if self.theme_id:
            return f"theme {self.theme}"
        if self.report_id:
            return f"report {self.report}"
        return f"tag {self.tag}"

    def matches(self, category: str) -> bool:
        wanted, given = self.category.strip().casefold(), category.strip().casefold()
        if not wanted or not given:
            return False
        if self.match == MatchKind.CONTAINS:
            return wanted in given
        return wanted == given


class RunKind(models.TextChoices):
    FEED = "feed", "Feed"
    URL = "url", "Single URL"
    WXR = "wxr", "WordPress export"


class RunStatus(models.TextChoices):
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    PARTIAL = "partial", "Partly failed"
    FAILED = "failed", "Failed"
    NOT_MODIFIED = "not-modified", "Not modified"
    ALREADY_RUNNING = "already-running", "Skipped: already running"


class Trigger(models.TextChoices):
    ADMIN = "admin", "Admin"
    COMMAND = "command", "Command"
    TASK = "task", "Scheduled task"
    WEBSUB = "websub", "WebSub notification"


# A working run beats at least this often (after each item, and while reading a file)...
HEARTBEAT_EVERY = datetime.timedelta(minutes=1)
# ...and one silent this long has lost its worker. The longest stretch without a beat is one
# item: its fetch and its images, each capped by the fetch deadline (a minute), so a few minutes.
ABANDONED_AFTER = datetime.timedelta(minutes=15)


class ImportRunQuerySet(models.QuerySet):
    def abandoned(self, now: datetime.datetime | None = None):
        """Runs still marked running whose worker has given no sign of life for a while: it
        was killed (SIGKILL, out of memory, a lost machine) or crashed."""
        cutoff = (now or timezone.now()) - ABANDONED_AFTER
        return self.filter(status=RunStatus.RUNNING, heartbeat_at__lt=cutoff)

    def close_abandoned(self, now: datetime.datetime | None = None) -> int:
        now = now or timezone.now()
        return self.abandoned(now).update(
            status=RunStatus.FAILED,
            finished_at=now,
            error_message="The worker stopped before this run finished (killed or crashed). "
            "Items it imported are complete; the next run imports the rest.",
        )


class ImportRun(models.Model):
    """One attempt to import a feed, a page or a WordPress export: what happened and why."""

    kind = models.CharField(max_length=10, choices=RunKind.choices)
    feed = models.ForeignKey(
        Feed, null=True, blank=True, on_delete=models.SET_NULL, related_name="runs"
    )
    source = models.ForeignKey(
        "articles.Source", on_delete=models.CASCADE, related_name="import_runs"
    )
    fetched_from = models.CharField(
        max_length=1000, blank=True, help_text="The URL fetched or the name of the file read."
    )
    started_at = models.DateTimeField(default=timezone.now)
    heartbeat_at = models.DateTimeField(
        default=timezone.now,
        help_text="The worker's last sign of life; a running run silent for long is closed.",
    )
    finished_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=20, choices=RunStatus.choices, default=RunStatus.RUNNING)
    requested_status = models.CharField(
        max_length=20, choices=ImportStatus.choices, default=ImportStatus.DRAFT
    )
    dry_run = models.BooleanField(
        default=False, help_text="Counted what would happen; nothing was written."
    )
    trigger = models.CharField(max_length=10, choices=Trigger.choices, default=Trigger.COMMAND)
    triggered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    unchanged = models.PositiveIntegerField(default=0)
    flagged_changed = models.PositiveIntegerField(
        default=0, help_text="Items changed upstream, waiting for an editor to accept them."
    )
    skipped = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)
    possible_duplicates = models.PositiveIntegerField(
        default=0,
        help_text="New articles linked to an article like them (any source) for an editor to "
        "compare; counted beside the outcomes, not as one.",
    )
    error_message = models.TextField(blank=True)
    anomaly = models.CharField(
        max_length=500,
        blank=True,
        help_text="Something looked wrong although the fetch worked, e.g. a feed with no items.",
    )
    notes = models.JSONField(
        default=list, blank=True, help_text="Warnings for the operator, one per line."
    )

    objects = ImportRunQuerySet.as_manager()

    class Meta:
        ordering = ["-started_at", "-pk"]
        get_latest_by = "started_at"
        indexes = [
            models.Index(fields=["-started_at"], name="importrun_started"),
            models.Index(fields=["feed", "-started_at"], name="importrun_feed_started"),
            models.Index(fields=["source", "-started_at"], name="importrun_source_started"),
            models.Index(fields=["status"], name="importrun_status"),
        ]
        permissions = [("run_import", "Can run imports")]

    def __str__(self):
        return (
            f"{self.get_kind_display()} import of {self.source} at {self.started_at:%Y-%m-%d %H:%M}"
        )

    def get_absolute_url(self):
        return reverse("admin:syndication_importrun_change", args=[self.pk])

    COUNT_FIELDS = ("created", "updated", "unchanged", "flagged_changed", "skipped", "failed")

    def counts(self) -> dict[str, int]:
        return {name: getattr(self, name) for name in self.COUNT_FIELDS}

    @property
    def summary(self) -> str:
        counts = ", ".join(
            f"{value} {name.replace('_', ' ')}" for name, value in self.counts().items()
        )
        if self.possible_duplicates:
            counts += f"; {self.possible_duplicates} possible duplicate(s)"
        return f"{self.get_status_display()}: {counts}"

    def beat(self, now: datetime.datetime | None = None) -> None:
        """Tell the scheduler this run's worker is alive (written at most once a minute)."""
        now = now or timezone.now()
        if self.pk is None or now - self.heartbeat_at < HEARTBEAT_EVERY:
            return
        self.heartbeat_at = now
        ImportRun.objects.filter(pk=self.pk, status=RunStatus.RUNNING).update(heartbeat_at=now)

    def add_note(self, message: str):
        if message not in self.notes:
            self.notes.append(message)

    def finish(self, status: str | None = None, *, error: str = ""):
        """Close the run with a final status (worked out from the counts when not given)."""
        if status is None:
            if self.failed and not (
                self.created
                or self.updated
                or self.unchanged
                or self.flagged_changed
                or self.skipped
            ):
                status = RunStatus.FAILED
            elif self.failed:
                status = RunStatus.PARTIAL
            else:
                status = RunStatus.SUCCEEDED
        self.status = status
        if error:
            self.error_message = error[:2000]
        self.finished_at = timezone.now()
        self.save()


class ImportedItemQuerySet(models.QuerySet):
    def upstream_changed(self):
        return self.filter(upstream_changed=True)

    def awaiting_review(self):
        """Imported articles nobody has published or rejected yet."""
        return self.filter(article__status__in=[ArticleStatus.DRAFT, ArticleStatus.REVIEW])

    def in_review(self):
        """The review queue: imported articles sent to an editor's review."""
        return self.filter(article__status=ArticleStatus.REVIEW)

    def drafts(self):
        """Imported articles still drafts: not yet sent to review."""
        return self.filter(article__status=ArticleStatus.DRAFT)

    def queue_order(self):
        """Newest first, as the review queue lists them."""
        return self.order_by("-fetched_at", "-pk")

    def with_possible_duplicates(self):
        """Items whose article was linked to an earlier one like it."""
        return self.filter(Exists(PossibleDuplicate.objects.filter(article=OuterRef("article"))))

    def with_undecided_duplicates(self):
        links = PossibleDuplicate.objects.undecided().filter(article=OuterRef("article"))
        return self.filter(Exists(links))

    def with_best_undecided_duplicate(self):
        """Annotate each item with its closest undecided link (`duplicate_link`, its id, and
        `duplicate_similarity`), or None: two subqueries, whatever the number of rows."""
        best = (
            PossibleDuplicate.objects.undecided()
            .filter(article=OuterRef("article"))
            .order_by("-similarity", "pk")
        )
        return self.annotate(
            duplicate_link=Subquery(best.values("pk")[:1]),
            duplicate_similarity=Subquery(best.values("similarity")[:1]),
        )


class ImportedItem(models.Model):
    """Where an imported article came from, as fetched; the key that stops duplicates."""

    article = models.OneToOneField(
        "articles.Article",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="imported_item",
        help_text="Empty when an editor deleted the article: the item is then never re-created.",
    )
    source = models.ForeignKey(
        "articles.Source", on_delete=models.CASCADE, related_name="imported_items"
    )
    feed = models.ForeignKey(
        Feed, null=True, blank=True, on_delete=models.SET_NULL, related_name="imported_items"
    )
    run = models.ForeignKey(
        ImportRun,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="items",
        help_text="The last run that created or flagged this item.",
    )
    guid = models.CharField("GUID", max_length=1000, blank=True, help_text="As the feed gave it.")
    dedupe_key = models.CharField(max_length=1000)
    normalised_url = models.CharField(max_length=1000, blank=True)
    content_hash = models.CharField(max_length=64)
    original_url = models.URLField("original URL", max_length=1000, blank=True)
    fetched_from = models.CharField(max_length=1000, blank=True)
    fetched_at = models.DateTimeField(default=timezone.now)
    raw_payload = models.JSONField(
        default=dict, blank=True, help_text="The item as parsed, kept for audit."
    )
    upstream_changed = models.BooleanField(
        default=False, help_text="The original changed after import; review and accept it."
    )
    upstream_payload = models.JSONField(default=dict, blank=True)
    upstream_hash = models.CharField(max_length=64, blank=True)
    upstream_seen_at = models.DateTimeField(null=True, blank=True)
    date_problem = models.CharField(
        max_length=300, blank=True, help_text="A date in the item that could not be trusted."
    )
    warnings = models.JSONField(
        default=list, blank=True, help_text="What went wrong without stopping the import."
    )

    objects = ImportedItemQuerySet.as_manager()

    class Meta:
        verbose_name = "imported item"
        verbose_name_plural = "review queue"
        ordering = ["-fetched_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["source", "dedupe_key"], name="imported_item_unique_key_per_source"
            ),
        ]
        indexes = [
            models.Index(fields=["source", "normalised_url"], name="imported_item_url"),
            models.Index(fields=["content_hash"], name="imported_item_hash"),
            models.Index(
                fields=["upstream_changed"],
                name="imported_item_changed",
                condition=Q(upstream_changed=True),
            ),
        ]

    def __str__(self):
        return self.guid or self.original_url or self.dedupe_key


class FailureKind(models.TextChoices):
    FAILED = "failed", "Failed"
    SKIPPED = "skipped", "Skipped"


class ItemFailure(models.Model):
    """One entry of a run that was not imported, and why."""

    run = models.ForeignKey(ImportRun, on_delete=models.CASCADE, related_name="failures")
    kind = models.CharField(max_length=10, choices=FailureKind.choices, default=FailureKind.FAILED)
    position = models.PositiveIntegerField(
        help_text="Where the entry is in the document, counting from 0."
    )
    guid = models.CharField("GUID", max_length=1000, blank=True)
    message = models.TextField()
    raw_excerpt = models.TextField(blank=True)

    class Meta:
        ordering = ["run", "position", "pk"]

    def __str__(self):
        return f"{self.get_kind_display()} #{self.position}: {self.message[:80]}"


class OriginalOutcome(models.TextChoices):
    """What the last check of an article's original found (see syndication/originals.py)."""

    ONLINE = "online", "Still online"
    GONE = "gone", "Gone (404 or 410)"
    REDIRECTED_HOME = "redirected-home", "Redirects to the home page"
    DROPPED_FROM_FEED = "dropped-from-feed", "Dropped from its feed"
    RETRACTED = "retracted", "Retraction notice on the page"
    UNREACHABLE = "unreachable", "Could not be checked"


# Outcomes that say the original is no longer there as it was: the article is flagged.
GONE_OUTCOMES = (
    OriginalOutcome.GONE,
    OriginalOutcome.REDIRECTED_HOME,
    OriginalOutcome.DROPPED_FROM_FEED,
    OriginalOutcome.RETRACTED,
)


class OriginalCheckQuerySet(models.QuerySet):
    def flagged(self):
        return self.filter(flagged=True)


class OriginalCheck(models.Model):
    """The last look at a live article's original: when, what came back, and the validators
    for the next, conditional, request. One row per article."""

    article = models.OneToOneField(
        "articles.Article", on_delete=models.CASCADE, related_name="original_check"
    )
    checked_url = models.URLField(max_length=1000, blank=True)
    last_checked_at = models.DateTimeField(null=True, blank=True)
    etag = models.CharField(max_length=500, blank=True)
    last_modified = models.CharField(max_length=100, blank=True)
    outcome = models.CharField(max_length=20, choices=OriginalOutcome.choices, blank=True)
    evidence = models.TextField(blank=True, help_text="What the check saw, for editors.")
    flagged = models.BooleanField(
        default=False, help_text="The original looks gone or retracted: an editor should look."
    )
    flagged_at = models.DateTimeField(null=True, blank=True)

    objects = OriginalCheckQuerySet.as_manager()

    class Meta:
        indexes = [
            models.Index(fields=["last_checked_at"], name="original_check_due"),
            models.Index(
                fields=["flagged"], name="original_check_flagged", condition=Q(flagged=True)
            ),
        ]

    def __str__(self):
        return f"Original of {self.article_id}: {self.get_outcome_display() or 'not checked'}"


class DuplicateKind(models.TextChoices):
    EXACT = "exact", "Exact copy"
    NEAR = "near", "Near duplicate"


class DuplicateDecision(models.TextChoices):
    UNDECIDED = "", "Undecided"
    KEEP_BOTH = "keep-both", "Kept both"
    DISCARDED = "discarded", "Discarded the later article"
    KEPT_ONE = "kept-one", "Kept one, credited both sources"


class PossibleDuplicateQuerySet(models.QuerySet):
    def undecided(self):
        return self.filter(decision=DuplicateDecision.UNDECIDED)

    def involving(self, article_id: int):
        """Links of an article, as the later or the earlier of the two."""
        return self.filter(Q(article_id=article_id) | Q(duplicate_of_id=article_id))

    def for_comparison(self):
        """What the side-by-side view prints: both articles with their sources and where
        they were imported from, and who decided."""
        return self.select_related(
            "article__source",
            "article__imported_item",
            "duplicate_of__source",
            "duplicate_of__imported_item",
            "decided_by",
        )

    def link_all(self, found, *, run: "ImportRun | None" = None) -> None:
        """Link each article of (article id, matches) pairs to its matches
        (`articles.similarity.Match`), in one INSERT. A pair is stored once, the later
        article (higher id) first, so two imports of the same story that link each other at
        the same moment make one row (the second insert is ignored)."""
        links = []
        for article_id, matches in found:
            for match in matches:
                later, earlier = sorted((article_id, match.article_id), reverse=True)
                links.append(
                    PossibleDuplicate(
                        article_id=later,
                        duplicate_of_id=earlier,
                        similarity=match.similarity,
                        kind=DuplicateKind.EXACT if match.exact else DuplicateKind.NEAR,
                        run=run,
                    )
                )
        if links:
            self.bulk_create(links, ignore_conflicts=True)


class PossibleDuplicate(models.Model):
    """An article that looks like an earlier one, for an editor to compare and decide on.

    `article` is the later of the two (the one an import brought in); `duplicate_of` may be
    any article, of any source and status, imported or written here.
    """

    article = models.ForeignKey(
        Article, on_delete=models.CASCADE, related_name="possible_duplicates"
    )
    duplicate_of = models.ForeignKey(
        Article, on_delete=models.CASCADE, related_name="possible_duplicates_later"
    )
    kind = models.CharField(max_length=10, choices=DuplicateKind.choices)
    similarity = models.FloatField(
        help_text="Estimated share of the shorter text found in the longer one (0 to 1)."
    )
    run = models.ForeignKey(
        "ImportRun", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    decision = models.CharField(
        max_length=10, choices=DuplicateDecision.choices, blank=True, default=""
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)

    objects = PossibleDuplicateQuerySet.as_manager()

    class Meta:
        ordering = ["-similarity", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["article", "duplicate_of"], name="possible_duplicate_once_per_pair"
            ),
            models.CheckConstraint(
                condition=~Q(article=models.F("duplicate_of")),
                name="possible_duplicate_of_another_article",
            ),
        ]
        indexes = [models.Index(fields=["duplicate_of"], name="possible_duplicate_of")]

    def __str__(self):
        return f"“{self.article}” may duplicate “{self.duplicate_of}”"

    def get_absolute_url(self):
        return reverse("admin:syndication_possibleduplicate_compare", args=[self.pk])

    def other_than(self, article_id: int) -> Article:
        return self.duplicate_of if article_id == self.article_id else self.article

    @property
    def is_decided(self) -> bool:
        return self.decision != DuplicateDecision.UNDECIDED

    def keep_both(self, user) -> None:
        self._decide(DuplicateDecision.KEEP_BOTH, user)

    def discard(self, user) -> None:
        """Withdraw the later article, as the review queue's Reject does."""
        self._withdraw(self.article, f"Discarded as a duplicate of “{self.duplicate_of}”.")
        self._decide(DuplicateDecision.DISCARDED, user)

    def keep_one(self, user, kept: Article) -> None:
        """Keep `kept` (either article), crediting the other's source on it, and withdraw the
        other one."""
        if kept.pk not in (self.article_id, self.duplicate_of_id):
            raise ValueError("Only one of the two linked articles can be kept.")
        other = self.duplicate_of if kept.pk == self.article_id else self.article
        if other.source_id != kept.source_id:
            AlsoReportedBy.objects.get_or_create(
                article=kept, source=other.source, defaults={"original_url": other.original_url}
            )
        self._withdraw(other, f"Kept “{kept}” instead, crediting both sources.")
        self._decide(DuplicateDecision.KEPT_ONE, user)

    @staticmethod
    def _withdraw(article: Article, reason: str) -> None:
        if article.status != ArticleStatus.WITHDRAWN:
            article.withdraw(reason)

    def _decide(self, decision: str, user) -> None:
        self.decision = decision
        self.decided_by = user
        self.decided_at = timezone.now()
        self.save(update_fields=["decision", "decided_by", "decided_at"])
