"""The import admin: feeds and their mapping rules, run logs, and the review queue of imports."""

from urllib.parse import urlsplit

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import OuterRef, Subquery
from django.http import (
    Http404,
    HttpResponse,
    HttpResponseBadRequest,
    HttpResponseNotAllowed,
    HttpResponseRedirect,
)
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join

from articles.editorial.admin import ArticleAdmin, classify_in_bulk
from articles.editorial.forms import ClassificationForm
from articles.models import (
    Article,
    ArticleStatus,
    CorrectionKind,
    PublishingBlocked,
    Source,
    may_publish,
)
from articles.sanitize import is_http_url
from articles.search.engine import search_documents_refreshed_once
from syndication import review
from syndication.discovery import discover_feeds
from syndication.entry import import_feed, import_url
from syndication.fetching.client import UnsafeURL, validate_url
from syndication.models import (
    Feed,
    FeedHealth,
    FeedQuerySet,
    ImportedItem,
    ImportRun,
    ImportStatus,
    ItemFailure,
    MappingRule,
    OriginalCheck,
    PossibleDuplicate,
    RunStatus,
    WebSubSubscription,
)
from syndication.opml import MAX_OPML_BYTES, OpmlError, export_opml, import_opml, read_opml
from syndication.pipeline.upstream import (
    CorrectionNoteRequired,
    accept_upstream_changes,
    dismiss_upstream_changes,
    upstream_diff,
)
from syndication.tasks import enqueue_feed_import

RUN_IMPORT_PERMISSION = "syndication.run_import"
# "Fetch now" runs imports inside the request; more feeds than this go to the task queue.
MAX_SYNCHRONOUS_FEEDS = 5


def run_summary(run: ImportRun) -> str:
    # Never starts with the address: the admin capitalises the first letter of every message.
    text = f"Import of {run.fetched_from or run.source} — {run.summary}"
    for problem in (run.error_message, run.anomaly, *run.notes):
        if problem:
            text += f" — {problem}"
    return text


def run_message_level(run: ImportRun) -> int:
    if run.status == RunStatus.FAILED:
        return messages.ERROR
    if run.status in (RunStatus.PARTIAL, RunStatus.ALREADY_RUNNING) or run.anomaly or run.notes:
        return messages.WARNING
    return messages.SUCCESS


# ---------------------------------------------------------------------------------------------
# Feeds


class MappingRuleInline(admin.TabularInline):
    model = MappingRule
    extra = 1
    fields = ["category", "match", "region", "theme", "report", "tag"]
    autocomplete_fields = ["region", "theme", "report"]


class WebSubInline(admin.StackedInline):
    """The feed's WebSub subscription, as the hub last confirmed it (never its secret)."""

    model = WebSubSubscription
    verbose_name_plural = "WebSub (push from the feed's hub)"
    fields = [
        ("state", "hub_url", "topic"),
        ("verified_at", "expires_at", "renew_at"),
        ("last_notified_at", "lease_seconds"),
        "last_error",
    ]
    readonly_fields = [
        name for line in fields for name in (line if isinstance(line, tuple) else (line,))
    ]
    extra = 0

    def has_add_permission(self, request, obj=None):
        return False


class FeedAdminForm(forms.ModelForm):
    """The feed form. `can_publish` is set per request by `FeedAdmin.get_form`: only someone
    who may publish can make a feed publish what it imports (the menu offers Draft and In
    review to everyone else, and a forged "published" is refused here). A feed an Editor set
    to publish keeps that setting when an Importer edits its other fields."""

    can_publish = False

    class Meta:
        model = Feed
        fields = ["default_status"]  # the admin adds the others from its fieldsets

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields.get("default_status")
        if field is not None and not self.can_publish:
            kept = self.instance.default_status if self.instance.pk else None
            field.widget.choices = [
                choice
                for choice in field.choices
                if choice[0] != ImportStatus.PUBLISHED or choice[0] == kept
            ]

    def clean_default_status(self):
        status = self.cleaned_data["default_status"]
        unchanged = self.instance.pk and status == self.instance.default_status
        if status == ImportStatus.PUBLISHED and not self.can_publish and not unchanged:
            raise forms.ValidationError(
                "Only editors can make a feed publish what it imports; choose In review.",
                code="publish_permission",
            )
        return status


class HealthFilter(admin.SimpleListFilter):
    """Feeds by health, as the desk counts them."""

    title = "health"
    parameter_name = "health"

    def lookups(self, request, model_admin):
        return [
            ("failing", "Failing"),
            ("stale", "Stale: nothing new for a day"),
            ("dead", "Switched off after failures"),
        ]

    def queryset(self, request, queryset):
        match self.value():
            case "failing":
                return queryset.filter(FeedQuerySet.failing_condition())
            case "stale":
                return queryset.filter(FeedQuerySet.stale_condition())
            case "dead":
                return queryset.filter(FeedQuerySet.dead_condition())
        return queryset


@admin.register(Feed)
class FeedAdmin(admin.ModelAdmin):
    form = FeedAdminForm
    inlines = [MappingRuleInline, WebSubInline]

    class Media:
        css = {"all": ["admin_extra/syndication.css"]}

    list_display = [
        "__str__",
        "source",
        "health_badge",
        "last_run",
        "next_fetch_at",
        "consecutive_failures",
        "is_active",
    ]
    list_filter = [HealthFilter, "is_active", "format", "default_status", "source"]
    list_select_related = ["source"]
    search_fields = ["url", "title", "source__name"]
    autocomplete_fields = ["source"]
    actions = ["fetch_now", "fetch_in_background", "export_as_opml"]
    readonly_fields = [
        "health_badge",
        "last_fetched_at",
        "last_succeeded_at",
        "consecutive_failures",
        "last_error",
        "etag",
        "last_modified",
    ]
    fieldsets = [
        (None, {"fields": ["source", "url", "title", "format", "is_active"]}),
        (
            "Importing",
            {"fields": ["default_status", "unmapped_categories_as_tags", "poll_interval"]},
        ),
        (
            "Health",
            {
                "fields": [
                    "health_badge",
                    "next_fetch_at",
                    "last_fetched_at",
                    "last_succeeded_at",
                    "consecutive_failures",
                    "last_error",
                    "dead_reason",
                    "etag",
                    "last_modified",
                ]
            },
        ),
    ]

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        form.can_publish = may_publish(request.user)
        return form

    def save_model(self, request, obj, form, change):
        if change and "is_active" in form.changed_data and obj.is_active:
            # Switched back on by hand: start afresh rather than one failure from dead again.
            obj.consecutive_failures = 0
            obj.dead_reason = ""
            obj.next_fetch_at = None
        super().save_model(request, obj, form, change)

    def get_queryset(self, request):
        latest = ImportRun.objects.filter(feed=OuterRef("pk")).order_by("-started_at", "-pk")
        return (
            super()
            .get_queryset(request)
            .annotate(
                last_run_pk=Subquery(latest.values("pk")[:1]),
                last_run_status=Subquery(latest.values("status")[:1]),
                last_run_started=Subquery(latest.values("started_at")[:1]),
            )
        )

    @admin.display(description="health")
    def health_badge(self, feed: Feed):
        health = FeedHealth(feed.health)
        return format_html(
            '<strong class="feed-health feed-health-{}" title="{}">{}</strong>',
            health.value,
            feed.last_error or feed.dead_reason,
            health.label,
        )

    @admin.display(description="last run", ordering="last_run_started")
    def last_run(self, feed: Feed):
        if not getattr(feed, "last_run_pk", None):
            return "—"
        return format_html(
            '<a href="{}">{} ({})</a>',
            reverse("admin:syndication_importrun_change", args=[feed.last_run_pk]),
            RunStatus(feed.last_run_status).label,
            # format_html escapes its arguments into strings first: format the date here.
            f"{feed.last_run_started:%Y-%m-%d %H:%M}",
        )

    def has_run_import_permission(self, request) -> bool:
        return request.user.has_perm(RUN_IMPORT_PERMISSION)

    @admin.action(description="Fetch now and import", permissions=["run_import"])
    def fetch_now(self, request, queryset):
        feeds = list(queryset.select_related("source"))
        if len(feeds) > MAX_SYNCHRONOUS_FEEDS:
            for feed in feeds:
                enqueue_feed_import(feed, requested_by=request.user)
            self.message_user(
                request,
                f"{len(feeds)} feeds are too many to fetch while you wait: they were queued.",
                messages.INFO,
            )
            return
        for feed in feeds:
            run = import_feed(feed, triggered_by=request.user)
            self.message_user(request, run_summary(run), run_message_level(run))

    @admin.action(description="Fetch in the background", permissions=["run_import"])
    def fetch_in_background(self, request, queryset):
        feeds = list(queryset)
        for feed in feeds:
            enqueue_feed_import(feed, requested_by=request.user)
        self.message_user(request, f"{len(feeds)} feed(s) queued for import.", messages.SUCCESS)

    @admin.action(description="Export selected feeds as OPML")
    def export_as_opml(self, request, queryset):
        document = export_opml(queryset.select_related("source"), title="Feeds")
        response = HttpResponse(document, content_type="text/x-opml; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="feeds.opml"'
        return response

    def get_urls(self):
        return [
            path(
                "discover/",
                self.admin_site.admin_view(self.discover_view),
                name="syndication_feed_discover",
            ),
            path(
                "import-opml/",
                self.admin_site.admin_view(self.import_opml_view),
                name="syndication_feed_import_opml",
            ),
            *super().get_urls(),
        ]

    def import_opml_view(self, request):
        """Upload an OPML file: a dry run lists what would be added; "Add" writes it."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = OpmlUploadForm(request.POST or None, request.FILES or None)
        outcome = None
        if request.method == "POST" and form.is_valid():
            try:
                document = read_opml(form.cleaned_data["file"].read(MAX_OPML_BYTES + 1))
            except OpmlError as error:
                form.add_error("file", str(error))
            else:
                source = form.cleaned_data["source"]
                outcome = import_opml(
                    document,
                    source=source,
                    source_per_outline=source is None,
                    dry_run=form.cleaned_data["dry_run"],
                )
                if not outcome.dry_run:
                    self.message_user(request, f"OPML import: {outcome.summary()}.")
                    return HttpResponseRedirect(reverse("admin:syndication_feed_changelist"))
        context = {
            **self.admin_site.each_context(request),
            "title": "Import feeds from OPML",
            "form": form,
            "outcome": outcome,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/syndication/import_opml.html", context)

    def discover_view(self, request):
        """From a homepage URL to its feeds: list them with title and item count; add one."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = DiscoverForm(request.POST or None)
        discovery = None
        if request.method == "POST" and form.is_valid():
            if form.cleaned_data["feed"]:
                feed = self._add_discovered(request, form)
                if feed is not None:
                    return HttpResponseRedirect(
                        reverse("admin:syndication_feed_change", args=[feed.pk])
                    )
            else:
                try:
                    discovery = discover_feeds(form.cleaned_data["url"])
                except UnsafeURL as problem:
                    form.add_error("url", str(problem))
        context = {
            **self.admin_site.each_context(request),
            "title": "Discover feeds",
            "form": form,
            "discovery": discovery,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/syndication/discover_feeds.html", context)

    def _add_discovered(self, request, form) -> Feed | None:
        data = form.cleaned_data
        try:
            url = validate_url(data["feed"])
        except UnsafeURL as problem:
            form.add_error(None, str(problem))
            return None
        source = data["source"]
        if source is not None and source.feeds.filter(url=url).exists():
            form.add_error(None, f"{url} is already a feed of “{source.name}”.")
            return None
        with transaction.atomic():
            if source is None:
                name = data["name"] or urlsplit(data["url"]).hostname or "New source"
                homepage = data["url"] if is_http_url(data["url"]) else ""
                source = Source.objects.create(name=name[:200], homepage=homepage[:500])
            feed = Feed.objects.create(source=source, url=url, title=data["name"][:300])
        self.message_user(request, f"Added the feed {feed.url} to “{source.name}”.")
        return feed


class DiscoverForm(forms.Form):
    url = forms.URLField(
        label="Homepage or feed URL", max_length=1000, assume_scheme="https",
        help_text="Fetched through the same guard as feeds; its feeds are listed to choose from.",
    )  # fmt: skip
    source = forms.ModelChoiceField(
        queryset=Source.objects.all(),
        required=False,
        empty_label="A new source named after the feed",
        help_text="Where a feed you add goes.",
    )
    feed = forms.CharField(required=False, widget=forms.HiddenInput, max_length=1000)
    name = forms.CharField(required=False, widget=forms.HiddenInput, max_length=200)


class OpmlUploadForm(forms.Form):
    file = forms.FileField(
        label="OPML file", help_text=f"At most {MAX_OPML_BYTES // (1024 * 1024)} MB."
    )
    source = forms.ModelChoiceField(
        queryset=Source.objects.all(),
        required=False,
        empty_label="A source per folder outline",
        help_text="Every feed goes to this source; leave empty to use (or create) a source per "
        "folder of the file, and one per feed outside any folder.",
    )
    dry_run = forms.BooleanField(
        required=False, initial=True, label="Dry run: only show what would be added"
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_OPML_BYTES:
            raise forms.ValidationError(
                f"The file is larger than the limit of {MAX_OPML_BYTES:,} bytes."
            )
        return upload


# ---------------------------------------------------------------------------------------------
# Import runs


class ItemFailureInline(admin.TabularInline):
    model = ItemFailure
    fields = ["position", "kind", "guid", "message", "raw_excerpt"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class ImportUrlForm(forms.Form):
    url = forms.URLField(
        label="Article URL", max_length=1000, assume_scheme="https",
        help_text="The address of one article page on the source's site.",
    )  # fmt: skip
    source = forms.ModelChoiceField(queryset=Source.objects.all())
    status = forms.ChoiceField(choices=ImportStatus.choices, initial=ImportStatus.DRAFT)


class ImportRecordAdmin(admin.ModelAdmin):
    """Records of what imports did: read-only for everyone; only superusers may delete them."""

    def get_readonly_fields(self, request, obj=None):
        return [
            name for line in self.fields for name in (line if isinstance(line, tuple) else (line,))
        ]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser


@admin.register(ImportRun)
class ImportRunAdmin(ImportRecordAdmin):
    inlines = [ItemFailureInline]
    list_display = [
        "started_at",
        "kind",
        "source",
        "feed",
        "status",
        "created",
        "unchanged",
        "flagged_changed",
        "skipped",
        "failed",
        "possible_duplicates",
        "anomaly_flag",
        "dry_run",
        "trigger",
    ]
    list_filter = ["status", "kind", "trigger", "dry_run", "source"]
    list_select_related = ["source", "feed"]
    search_fields = ["fetched_from", "error_message", "source__name", "feed__url"]
    date_hierarchy = "started_at"
    fields = [
        ("kind", "status", "dry_run"),
        ("source", "feed"),
        "fetched_from",
        ("started_at", "heartbeat_at", "finished_at"),
        ("trigger", "triggered_by", "requested_status"),
        ("created", "updated", "unchanged", "flagged_changed", "skipped", "failed"),
        "possible_duplicates",
        "error_message",
        "anomaly",
        "notes_text",
    ]

    @admin.display(description="anomaly", boolean=True)
    def anomaly_flag(self, run: ImportRun) -> bool:
        return bool(run.anomaly)

    @admin.display(description="notes")
    def notes_text(self, run: ImportRun) -> str:
        return "\n".join(run.notes) or "—"

    def get_urls(self):
        return [
            path(
                "import-url/",
                self.admin_site.admin_view(self.import_url_view),
                name="syndication_import_url",
            ),
            *super().get_urls(),
        ]

    def import_url_view(self, request):
        """Import one article page: a form with URL, source and status."""
        if not request.user.has_perm(RUN_IMPORT_PERMISSION):
            raise PermissionDenied
        form = ImportUrlForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            run = import_url(
                form.cleaned_data["url"],
                form.cleaned_data["source"],
                form.cleaned_data["status"],
                triggered_by=request.user,
            )
            if run.status == RunStatus.FAILED:
                form.add_error("url", run.error_message or "The import failed.")
            else:
                self.message_user(request, run_summary(run), run_message_level(run))
                item = run.items.select_related("article").first()
                if item is not None and item.article_id:
                    target = reverse("admin:articles_article_change", args=[item.article_id])
                else:
                    target = reverse("admin:syndication_importrun_change", args=[run.pk])
                return HttpResponseRedirect(target)
        context = {
            **self.admin_site.each_context(request),
            "title": "Import an article from its URL",
            "form": form,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/syndication/import_url.html", context)


# ---------------------------------------------------------------------------------------------
# Imported items: provenance and the review queue


def as_fetched(payload: dict) -> dict:
    """What the feed said about an item, as the review screens print it (as text)."""
    return {
        "title": payload.get("title", ""),
        "link": payload.get("link", ""),
        "published": payload.get("published") or "",
        "summary": payload.get("summary", ""),
        "content_html": payload.get("content_html", ""),
        "categories": ", ".join(payload.get("categories") or []),
    }


class ReviewForm(ClassificationForm):
    """The review screen's form: the article's classification, and a date to schedule it."""

    publish_at = forms.DateTimeField(
        label="Schedule for",
        required=False,
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
        widget=forms.DateTimeInput(
            attrs={
                "type": "datetime-local",
                "data-desk-key": "s",
                "data-desk-submit": "decision-schedule",
            },
            format="%Y-%m-%dT%H:%M",
        ),
        help_text="A date and time in the future, in the newsroom's time zone.",
    )

    def classification_fields(self):
        return [field for field in self if field.name != "publish_at"]


class QueueFilter(admin.SimpleListFilter):
    """Which part of the imports to list; the review queue itself unless asked otherwise."""

    title = "queue"
    parameter_name = "queue"
    default = "review"

    def lookups(self, request, model_admin):
        return [
            ("review", "In review (the queue)"),
            ("drafts", "Drafts, not yet sent to review"),
            ("changed", "Changed upstream"),
            ("problems", "Date or image problems"),
            ("all", "Everything imported"),
        ]

    def value(self):
        return super().value() or self.default

    def choices(self, changelist):
        # Django's own "All" means "no parameter", which is the queue here: "all" replaces it.
        choices = list(super().choices(changelist))
        return choices[1:]

    def queryset(self, request, queryset):
        match self.value():
            case "review":
                return queryset.in_review()
            case "drafts":
                return queryset.drafts()
            case "changed":
                return queryset.upstream_changed()
            case "problems":
                return queryset.exclude(date_problem="", warnings=[])
        return queryset


class UpstreamNoteForm(forms.Form):
    """The note for readers that accepting an upstream change on a live article needs."""

    note = forms.CharField(
        label="Note for readers",
        required=False,
        max_length=300,
        help_text="One line, printed with today's date under “Corrections and updates” on "
        "each live article, e.g. “Updated with the source's new casualty figures.” Required "
        "when an article is live.",
    )
    kind = forms.ChoiceField(
        label="Kind of note",
        choices=CorrectionKind.choices,
        initial=CorrectionKind.UPDATE,
        required=False,
    )

    def __init__(self, *args, note_required: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.note_required = note_required

    def clean_note(self):
        note = " ".join(self.cleaned_data["note"].split())
        if self.note_required and not note:
            raise forms.ValidationError(
                "A live article changes: say in one line what changed, for its readers."
            )
        return note

    def clean_kind(self):
        return self.cleaned_data["kind"] or CorrectionKind.UPDATE


class PossibleDuplicateFilter(admin.SimpleListFilter):
    title = "possible duplicates"
    parameter_name = "duplicates"

    def lookups(self, request, model_admin):
        return [
            ("undecided", "Waiting for a decision"),
            ("any", "Any, decided or not"),
        ]

    def queryset(self, request, queryset):
        if self.value() == "undecided":
            return queryset.with_undecided_duplicates()
        if self.value() == "any":
            return queryset.with_possible_duplicates()
        return queryset


@admin.register(ImportedItem)
class ImportedItemAdmin(ImportRecordAdmin):
    """The review queue: imported articles waiting for an editor, newest first, each opening
    on its review screen (`review_view`); the change view is the item's provenance record."""

    list_display = [
        "title",
        "source",
        "article_status",
        "possible_duplicate",
        "upstream_flag",
        "fetched_at",
        "original_link",
        "problems",
    ]
    list_display_links = None
    list_filter = [
        QueueFilter,
        PossibleDuplicateFilter,
        "upstream_changed",
        "article__status",
        "source",
        "feed",
    ]
    list_select_related = ["article", "source"]
    search_fields = ["guid", "original_url", "article__title"]
    date_hierarchy = "fetched_at"
    actions = [
        "classify",
        "approve",
        "publish",
        "reject",
        "accept_changes",
        "dismiss_changes",
    ]
    fields = [
        "article",
        ("source", "feed", "run"),
        "guid",
        "original_url",
        ("fetched_from", "fetched_at"),
        ("dedupe_key", "content_hash"),
        "date_problem",
        "warnings",
        "upstream_changed",
        "upstream_seen_at",
        "duplicate_links",
    ]
    change_form_template = "admin/syndication/importeditem/change_form.html"
    change_list_template = "admin/syndication/importeditem/change_list.html"

    class Media:
        css = {"all": ["admin_extra/revisions.css"]}

    def has_edit_article_permission(self, request) -> bool:
        return request.user.has_perm("articles.change_article")

    def has_publish_article_permission(self, request) -> bool:
        return may_publish(request.user)

    def changelist_view(self, request, extra_context=None):
        return super().changelist_view(
            request,
            {
                "title": "Review queue",
                "subtitle": None,
                "can_publish": may_publish(request.user),
                **(extra_context or {}),
            },
        )

    @admin.display(description="article", ordering="article__title")
    def title(self, record: ImportedItem):
        if record.article is None:
            return format_html(
                '<a href="{}"><em>{}</em></a>',
                reverse("admin:syndication_importeditem_change", args=[record.pk]),
                f"deleted ({record})",
            )
        return format_html(
            '<a href="{}" class="desk-row-link">{}</a>',
            reverse("admin:syndication_importeditem_review", args=[record.pk]),
            record.article.title,
        )

    @admin.display(description="status", ordering="article__status")
    def article_status(self, record: ImportedItem) -> str:
        return record.article.display_status if record.article else "—"

    @admin.display(description="upstream", ordering="upstream_changed")
    def upstream_flag(self, record: ImportedItem):
        if not record.upstream_changed:
            return format_html('<span class="desk-quiet" title="{}">—</span>', "Not changed")
        return format_html('<strong class="desk-badge desk-badge-warning">{}</strong>', "Changed")

    def get_queryset(self, request):
        return super().get_queryset(request).with_best_undecided_duplicate()

    @admin.display(description="possible duplicate", ordering="duplicate_similarity")
    def possible_duplicate(self, record: ImportedItem):
        if getattr(record, "duplicate_link", None) is None:
            return "—"
        return format_html(
            '<a href="{}">compare ({})</a>',
            reverse("admin:syndication_possibleduplicate_compare", args=[record.duplicate_link]),
            f"{record.duplicate_similarity:.0%}",
        )

    @admin.display(description="possible duplicates")
    def duplicate_links(self, record: ImportedItem):
        if record.article_id is None:
            return "—"
        links = PossibleDuplicate.objects.involving(record.article_id).select_related(
            "article", "duplicate_of"
        )
        rows = [
            (
                link.get_absolute_url(),
                link.other_than(record.article_id).title,
                f"{link.similarity:.0%} {link.get_kind_display().lower()}",
                link.get_decision_display().lower(),
            )
            for link in links
        ]
        if not rows:
            return "—"
        items = format_html_join("", '<li><a href="{}">Compare with “{}”</a> ({}, {})</li>', rows)
        return format_html("<ul>{}</ul>", items)

    @admin.display(description="original")
    def original_link(self, record: ImportedItem):
        if not record.original_url:
            return "—"
        return format_html(
            '<a href="{}" rel="noopener noreferrer" target="_blank">open'
            '<span class="visually-hidden"> the original of “{}” (new tab)</span></a>',
            record.original_url,
            record.article.title if record.article else record,
        )

    @admin.display(description="problems")
    def problems(self, record: ImportedItem) -> str:
        return "; ".join(filter(None, [record.date_problem, *record.warnings])) or "—"

    # -- bulk actions ------------------------------------------------------------------

    def _articles(self, queryset):
        return [record.article for record in queryset.select_related("article") if record.article]

    @admin.action(description="Classify selected articles…", permissions=["edit_article"])
    def classify(self, request, queryset):
        return classify_in_bulk(self, request, queryset, self._articles(queryset))

    @admin.action(description="Approve: send to review", permissions=["edit_article"])
    def approve(self, request, queryset):
        moved = sum(article.send_to_review() for article in self._articles(queryset))
        self.message_user(request, f"{moved} article(s) sent to review.", messages.SUCCESS)

    @admin.action(description="Publish", permissions=["publish_article"])
    def publish(self, request, queryset):
        published, refused = 0, []
        for article in self._articles(queryset):
            if article.status == ArticleStatus.PUBLISHED:
                continue
            try:
                article.publish()
                published += 1
            except PublishingBlocked as reason:
                refused.append(f"“{article.title}”: {reason}")
        if published:
            self.message_user(request, f"{published} article(s) published.", messages.SUCCESS)
        for line in refused:
            self.message_user(request, f"Not published: {line}", messages.ERROR)

    @admin.action(description="Reject: withdraw", permissions=["publish_article"])
    def reject(self, request, queryset):
        rejected = 0
        for article in self._articles(queryset):
            if article.status != ArticleStatus.WITHDRAWN:
                article.withdraw("Rejected in the import review queue.")
                rejected += 1
        self.message_user(request, f"{rejected} article(s) withdrawn.", messages.SUCCESS)

    @admin.action(description="Accept upstream changes…", permissions=["edit_article"])
    def accept_changes(self, request, queryset):
        """A page asking for the note for readers first; its "Accept" posts the action again."""
        records = list(queryset.upstream_changed().select_related("article"))
        live = [record for record in records if record.article and record.article.is_live]
        form = UpstreamNoteForm(
            request.POST if "apply" in request.POST else None, note_required=bool(live)
        )
        if not records:
            self.message_user(request, "None of the selected items changed upstream.")
            return None
        if form.is_bound and form.is_valid():
            accepted, refused = 0, []
            for record in records:
                try:
                    accepted += accept_upstream_changes(
                        record,
                        note=form.cleaned_data["note"],
                        kind=form.cleaned_data["kind"],
                        by=request.user,
                    )
                except CorrectionNoteRequired as reason:
                    refused.append(str(reason))
            self.message_user(request, f"Upstream changes accepted on {accepted} article(s).")
            for reason in refused:
                self.message_user(request, reason, messages.ERROR)
            return None
        context = {
            **self.admin_site.each_context(request),
            "title": "Accept upstream changes",
            "opts": self.model._meta,
            "records": records,
            "live": live,
            "form": form,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(
            request, "admin/syndication/importeditem/accept_upstream.html", context
        )

    @admin.action(description="Dismiss upstream changes", permissions=["edit_article"])
    def dismiss_changes(self, request, queryset):
        records = list(queryset.upstream_changed())
        for record in records:
            dismiss_upstream_changes(record)
        self.message_user(request, f"Upstream changes dismissed on {len(records)} article(s).")

    # -- the review screen -------------------------------------------------------------

    # -- possible duplicates -------------------------------------------------------------

    def compare_duplicates_view(self, request, link_id):
        """The later article beside the earlier one it looks like, and the three decisions."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        link = get_object_or_404(PossibleDuplicate.objects.for_comparison(), pk=link_id)
        context = {
            **self.admin_site.each_context(request),
            "title": "Possible duplicate",
            "opts": self.model._meta,
            "link": link,
            "pair": [("Later", link.article), ("Earlier", link.duplicate_of)],
            "may_keep_both": self.has_edit_article_permission(request),
            "may_withdraw": self.has_publish_article_permission(request),
        }
        return TemplateResponse(request, "admin/syndication/possible_duplicate.html", context)

    def decide_duplicate_view(self, request, link_id):
        """Keep both, discard the later article, or keep one crediting both sources; POST only."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        decision = request.POST.get("decision", "")
        if decision not in DUPLICATE_DECISIONS:
            return HttpResponseBadRequest("Unknown decision.")
        needs_publish = decision != "keep-both"
        allowed = (
            self.has_publish_article_permission(request)
            if needs_publish
            else self.has_edit_article_permission(request)
        )
        if not allowed:
            raise PermissionDenied
        with transaction.atomic():
            link = get_object_or_404(PossibleDuplicate.objects.select_for_update(), pk=link_id)
            if link.is_decided:
                self.message_user(
                    request,
                    f"Already decided: {link.get_decision_display().lower()}.",
                    messages.WARNING,
                )
            else:
                DUPLICATE_DECISIONS[decision](link, request.user)
                self.message_user(request, f"{link.get_decision_display()}.", messages.SUCCESS)
        return HttpResponseRedirect(link.get_absolute_url())

    def get_urls(self):
        return [
            path(
                "possible-duplicates/<int:link_id>/",
                self.admin_site.admin_view(self.compare_duplicates_view),
                name="syndication_possibleduplicate_compare",
            ),
            path(
                "possible-duplicates/<int:link_id>/decide/",
                self.admin_site.admin_view(self.decide_duplicate_view),
                name="syndication_possibleduplicate_decide",
            ),
            path(
                "<path:object_id>/accept-upstream/",
                self.admin_site.admin_view(self.accept_upstream_view),
                name="syndication_importeditem_accept",
            ),
            path(
                "<path:object_id>/review/",
                self.admin_site.admin_view(self.review_view),
                name="syndication_importeditem_review",
            ),
            *super().get_urls(),
        ]

    def review_view(self, request, object_id):
        """One item of the queue: the original beside the cleaned article, its classification
        and the decisions (publish, schedule, send back, discard); after a decision, the next
        item of the queue."""
        record = get_object_or_404(
            ImportedItem.objects.select_related("article__source__rights", "source", "feed"),
            pk=unquote(object_id),
        )
        if not self.has_view_permission(request, record):
            raise PermissionDenied
        if record.article is None:
            return HttpResponseRedirect(
                reverse("admin:syndication_importeditem_change", args=[record.pk])
            )
        form = ReviewForm(
            request.POST if request.method == "POST" else None,
            instance=record.article,
            admin_site=self.admin_site,
        )
        if request.method == "POST":
            response = self._decide(request, record, form)
            if response is not None:
                return response
        return TemplateResponse(
            request,
            "admin/syndication/importeditem/review.html",
            self._review_context(request, record, form),
        )

    def _decide(self, request, record: ImportedItem, form: "ReviewForm"):
        decision = request.POST.get("decision", review.Decision.SAVE)
        adding_suggestions = decision == "suggestions"
        if adding_suggestions:
            decision = review.Decision.SAVE
        if not review.may_decide(request.user, decision):
            raise PermissionDenied
        if not form.is_valid():
            return None
        try:
            with transaction.atomic(), search_documents_refreshed_once():
                form.save()
                if adding_suggestions:
                    review.apply_suggestions(record, review.suggestions(record))
                done = review.decide(
                    record, decision, user=request.user, at=form.cleaned_data.get("publish_at")
                )
        except (review.DecisionRefused, PublishingBlocked) as reason:
            form.add_error(None, str(reason))
            return None
        self.message_user(request, done, messages.SUCCESS)
        if decision == review.Decision.SAVE:
            return HttpResponseRedirect(request.path)
        following = review.next_to_review(record)
        if following is None:
            self.message_user(request, "The review queue is clear.", messages.SUCCESS)
            return HttpResponseRedirect(reverse("admin:syndication_importeditem_changelist"))
        return HttpResponseRedirect(
            reverse("admin:syndication_importeditem_review", args=[following.pk])
        )

    def _review_context(self, request, record: ImportedItem, form) -> dict:
        payload = record.raw_payload or {}
        queue = review.review_queue()
        return {
            **self.admin_site.each_context(request),
            "title": record.article.title,
            "opts": self.model._meta,
            "record": record,
            "article": record.article,
            "as_fetched": as_fetched(payload),
            "diff": upstream_diff(record) if record.upstream_changed else None,
            "form": form,
            "media": self.media + form.media,
            "suggestions": review.suggestions(record),
            "decisions": {decision.value for decision in review.decisions_for(request.user)},
            "can_accept": self.has_edit_article_permission(request),
            "note_form": UpstreamNoteForm(note_required=record.article.is_live),
            "previous": review.previous_in_queue(record),
            "next": review.next_in_queue(record),
            "queue_size": queue.count(),
            "in_queue": record.article.status == ArticleStatus.REVIEW,
        }

    def change_view(self, request, object_id, form_url="", extra_context=None):
        record = self.get_object(request, unquote(object_id))
        extra = {}
        if record is not None:
            extra = {
                "record": record,
                "as_fetched": as_fetched(record.raw_payload or {}),
                "diff": upstream_diff(record),
                "can_accept": self.has_edit_article_permission(request),
                "note_form": UpstreamNoteForm(
                    note_required=bool(record.article and record.article.is_live)
                ),
            }
        return super().change_view(
            request, object_id, form_url, extra_context={**extra, **(extra_context or {})}
        )

    def accept_upstream_view(self, request, object_id):
        """Accept (or dismiss) the upstream change waiting on one item; POST only."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        if not self.has_edit_article_permission(request):
            raise PermissionDenied
        record = get_object_or_404(ImportedItem, pk=unquote(object_id))
        if record.article_id is None:
            raise Http404("The article of this item was deleted.")
        form = UpstreamNoteForm(request.POST)
        if request.POST.get("decision") == "dismiss":
            dismiss_upstream_changes(record)
            self.message_user(request, "Upstream changes dismissed.")
        elif not form.is_valid():
            self.message_user(request, "Choose correction or update.", messages.ERROR)
        else:
            try:
                accepted = accept_upstream_changes(
                    record,
                    note=form.cleaned_data["note"],
                    kind=form.cleaned_data["kind"],
                    by=request.user,
                )
            except CorrectionNoteRequired as reason:
                self.message_user(request, str(reason), messages.ERROR)
            else:
                if accepted:
                    self.message_user(request, "Upstream changes applied to the article.")
                else:
                    self.message_user(request, "There were no upstream changes to accept.")
        return HttpResponseRedirect(
            reverse("admin:syndication_importeditem_change", args=[record.pk])
        )


# ---------------------------------------------------------------------------------------------
# The originals watch (syndication/originals.py), in the article admin


class OriginalGoneFilter(admin.SimpleListFilter):
    title = "original"
    parameter_name = "original"

    def lookups(self, request, model_admin):
        return [("gone", "Gone or retracted"), ("unchecked", "Never checked")]

    def queryset(self, request, queryset):
        match self.value():
            case "gone":
                return queryset.filter(original_check__flagged=True)
            case "unchecked":
                return queryset.filter(original_check__isnull=True)
        return queryset


class OriginalCheckInline(admin.StackedInline):
    """The last check of the original and its evidence; an editor who has dealt with a flag
    unticks it (the original is then checked again on the next due run)."""

    model = OriginalCheck
    can_delete = False
    extra = 0
    max_num = 1
    verbose_name = "check of the original"
    verbose_name_plural = "check of the original"
    fields = [("outcome", "last_checked_at", "flagged_at"), "checked_url", "evidence", "flagged"]
    readonly_fields = ["outcome", "last_checked_at", "flagged_at", "checked_url", "evidence"]

    def has_add_permission(self, request, obj=None):
        return False


class WatchedArticleAdmin(ArticleAdmin):
    """The editorial article admin with what the originals watch found (syndication depends
    on articles, so the filter and the evidence are added here rather than there)."""

    list_filter = [ArticleAdmin.list_filter[0], OriginalGoneFilter, *ArticleAdmin.list_filter[1:]]

    def get_inlines(self, request, obj):
        """The check's evidence, on the change page of an article whose original was checked."""
        inlines = super().get_inlines(request, obj)
        if obj is not None and OriginalCheck.objects.filter(article=obj).exists():
            return [*inlines, OriginalCheckInline]
        return inlines

    def changelist_view(self, request, extra_context=None):
        extra_context = {
            # The same articles as the "original: gone or retracted" filter and the desk.
            "flagged_originals_count": OriginalCheck.objects.flagged().count(),
            **(extra_context or {}),
        }
        return super().changelist_view(request, extra_context)


admin.site.unregister(Article)
admin.site.register(Article, WatchedArticleAdmin)


@admin.register(OriginalCheck)
class OriginalCheckAdmin(admin.ModelAdmin):
    list_display = ["article", "source", "outcome", "flagged", "last_checked_at"]
    list_filter = ["flagged", "outcome", ("article__source", admin.RelatedOnlyFieldListFilter)]
    list_select_related = ["article__source"]
    search_fields = ["article__title", "checked_url", "evidence"]
    date_hierarchy = "last_checked_at"
    ordering = ["-flagged", "-last_checked_at"]
    actions = ["clear_flags"]
    fields = [
        "article",
        ("outcome", "last_checked_at", "flagged_at"),
        "checked_url",
        ("etag", "last_modified"),
        "evidence",
        "flagged",
    ]
    readonly_fields = [
        "article",
        "outcome",
        "last_checked_at",
        "flagged_at",
        "checked_url",
        "etag",
        "last_modified",
        "evidence",
    ]

    def has_add_permission(self, request):
        return False

    @admin.display(description="source", ordering="article__source__name")
    def source(self, check):
        return check.article.source

    @admin.action(description="Clear the flag (an editor has looked)", permissions=["change"])
    def clear_flags(self, request, queryset):
        cleared = queryset.filter(flagged=True).update(flagged=False)
        self.message_user(request, f"{cleared} flag(s) cleared.", messages.SUCCESS)


DUPLICATE_DECISIONS = {
    "keep-both": lambda link, user: link.keep_both(user),
    "discard": lambda link, user: link.discard(user),
    "keep-later": lambda link, user: link.keep_one(user, link.article),
    "keep-earlier": lambda link, user: link.keep_one(user, link.duplicate_of),
}
