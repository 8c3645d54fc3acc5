"""The editorial admin: review imported drafts, fix metadata, classify, publish and withdraw."""

import datetime
import re
from dataclasses import dataclass, field

from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.core.files.storage import default_storage
from django.db.models import Count, Prefetch
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from simple_history.admin import SimpleHistoryAdmin

from articles.editorial.bulk import (
    KIND_PERMISSIONS,
    apply_plan,
    articles_for_export,
    export_articles,
    export_sources,
    plan_classification,
    plan_metadata,
)
from articles.editorial.csv_export import csv_response
from articles.editorial.dashboard import EXPIRING_WITHIN_DAYS, SCHEDULE_WINDOW
from articles.editorial.diff import line_diff
from articles.editorial.forms import (
    PUBLISH_PERMISSION,
    ArticleAdminForm,
    ArticleBlockOverrideForm,
    BulkClassificationForm,
    BulkMetadataForm,
    ImageAdminForm,
    RedirectAdminForm,
    SiteBlockForm,
    SourceAdminForm,
)
from articles.models import (
    Article,
    ArticleBlockOverride,
    ArticleStatus,
    Author,
    Byline,
    ContentSignature,
    Correction,
    Image,
    InDepthReport,
    PublishingBlocked,
    Redirect,
    Region,
    RightsRecord,
    SiteBlock,
    SiteBlockKey,
    Source,
    Theme,
)
from articles.search.engine import search_documents_refreshed_once


def rendition_url(renditions: list[dict]) -> str:
    """The URL of the smallest rendition of an image, or '' when there is none."""
    return default_storage.url(renditions[0]["name"]) if renditions else ""


def classify_in_bulk(model_admin, request, selection, articles: list[Article]):
    """The bulk classification action of a list: a form of what to add to the selected
    articles, then (on "apply") one plan of `bulk.plan_classification` applied whole.
    Returns the form page, or None to go back to the list once applied."""
    applying = "apply" in request.POST
    form = BulkClassificationForm(
        request.POST if applying else None, admin_site=model_admin.admin_site
    )
    if applying and form.is_valid():
        data = form.cleaned_data
        plan = plan_classification(
            articles,
            regions=data["regions"],
            themes=data["themes"],
            reports=data["reports"],
            tags=form.tag_names(),
        )
        if plan.errors:
            form.add_error(None, " ".join(plan.errors))
        else:
            with search_documents_refreshed_once():
                changed = apply_plan(plan)
            model_admin.message_user(
                request,
                f"Classification added to {changed} article(s); {plan.unchanged} had it already.",
                messages.SUCCESS,
            )
            return None
    context = {
        **model_admin.admin_site.each_context(request),
        "title": "Classify the selected articles",
        "form": form,
        "articles": articles,
        "selected": request.POST.getlist(ACTION_CHECKBOX_NAME),
        "action": request.POST.get("action", ""),
        "select_across": request.POST.get("select_across", "0"),
        "opts": model_admin.model._meta,
        "media": model_admin.media + form.media,
    }
    return TemplateResponse(request, "admin/desk/bulk_classify.html", context)


def thumbnail_html(image: Image | None, css_class: str = "article-thumbnail"):
    url = rendition_url(image.renditions) if image is not None else ""
    if not url:
        return ""
    return format_html(
        '<img src="{}" alt="" width="64" height="40" class="{}" loading="lazy">', url, css_class
    )


# ---------------------------------------------------------------------------------------------
# Media library


@admin.register(Image)
class ImageAdmin(admin.ModelAdmin):
    form = ImageAdminForm

    class Media:
        css = {"all": ["admin_extra/editorial.css"]}

    list_display = [
        "thumbnail",
        "alt_text",
        "caption",
        "credit",
        "source",
        "licence",
        "dimensions",
        "usage",
        "created_at",
    ]
    list_display_links = ["thumbnail", "alt_text"]
    ordering = ["-created_at", "-pk"]  # Meta.ordering is dropped from the GROUP BY of the usage
    list_filter = [("source", admin.RelatedOnlyFieldListFilter), "licence"]
    search_fields = ["alt", "caption", "credit", "source__name", "original_url"]
    list_select_related = ["source"]
    list_per_page = 50
    autocomplete_fields = ["source"]
    readonly_fields = [
        "preview",
        "dimensions",
        "file_address",
        "used_by",
        "content_hash",
        "created_at",
        "uploaded_by",
    ]
    fieldsets = [
        (None, {"fields": ["file", "preview", "dimensions", "file_address"]}),
        ("What readers see", {"fields": ["alt", "caption", "credit"]}),
        ("Where it comes from", {"fields": ["licence", "source", "original_url"]}),
        ("Use", {"fields": ["used_by", "content_hash", "created_at", "uploaded_by"]}),
    ]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(usage_count=Count("lead_of"))

    def save_model(self, request, obj, form, change):
        if not change:
            obj.uploaded_by = request.user
        super().save_model(request, obj, form, change)

    @admin.display(description="image")
    def thumbnail(self, image):
        return thumbnail_html(image)

    @admin.display(description="alt text", ordering="alt")
    def alt_text(self, image):
        return image.alt or "(no alt text yet)"

    @admin.display(description="size")
    def dimensions(self, image):
        return f"{image.width} × {image.height}" if image.width else ""

    @admin.display(description="lead image of", ordering="usage_count")
    def usage(self, image):
        return image.usage_count

    @admin.display(description="preview")
    def preview(self, image):
        url = rendition_url(image.renditions)
        if not url:
            return "No picture yet."
        return format_html('<img src="{}" alt="{}" class="article-lead-preview">', url, image.alt)

    @admin.display(description="address for article bodies")
    def file_address(self, image):
        return image.file.url if image.file else ""

    @admin.display(description="lead image of")
    def used_by(self, image):
        articles = list(image.lead_of.only("pk", "title").order_by("-pk")[:20])
        if not articles:
            return "No article yet."
        return format_html(
            "<ul>{}</ul>",
            format_html_join(
                "",
                '<li><a href="{}">{}</a></li>',
                (
                    (reverse("admin:articles_article_change", args=[article.pk]), article.title)
                    for article in articles
                ),
            ),
        )


# ---------------------------------------------------------------------------------------------
# Sources and rights


class RightsRecordInline(admin.StackedInline):
    model = RightsRecord
    can_delete = False
    extra = 1
    max_num = 1
    fields = [
        "basis",
        "scope",
        "copyright_holder",
        "attribution_wording",
        ("granted_on", "expires_on"),
        ("revoked_on", "revocation_reason"),
        "evidence",
        "evidence_url",
        "notes",
    ]


class RightsEndingFilter(admin.SimpleListFilter):
    """Sources whose permission or licence runs out soon, or has run out."""

    title = "rights ending"
    parameter_name = "rights"

    def lookups(self, request, model_admin):
        return [
            ("expiring", f"Expiring in the next {EXPIRING_WITHIN_DAYS} days"),
            ("ended", "Expired or revoked"),
        ]

    def queryset(self, request, queryset):
        today = timezone.localdate()
        match self.value():
            case "expiring":
                records = RightsRecord.objects.expiring(EXPIRING_WITHIN_DAYS, today)
                return queryset.filter(rights__in=records)
            case "ended":
                return queryset.filter(pk__in=Source.objects.rights_ended(today).values("pk"))
        return queryset


@admin.register(Source)
class SourceAdmin(admin.ModelAdmin):
    form = SourceAdminForm
    inlines = [RightsRecordInline]
    list_display = [
        "name",
        "rights_basis",
        "rights_status",
        "canonical_policy",
        "is_active",
        "article_count",
    ]
    list_filter = [
        RightsEndingFilter,
        "is_active",
        "canonical_policy",
        "rights__basis",
        "rights__scope",
        "on_rights_end",
        "on_original_gone",
    ]
    ordering = ["name"]  # Meta.ordering is dropped from the GROUP BY of the article count
    search_fields = ["name", "homepage", "rights__copyright_holder"]
    autocomplete_fields = ["default_author"]
    actions = ["export_metadata"]
    readonly_fields = ["created_at", "updated_at"]
    fieldsets = [
        (None, {"fields": ["name", "slug", "homepage", "logo", "description", "is_active"]}),
        ("On the article page", {"fields": ["canonical_policy", "noindex", "support_appeal"]}),
        ("Imports", {"fields": ["default_author"]}),
        (
            "When provenance ends (docs/provenance-watch.md)",
            {"fields": ["on_rights_end", "on_original_gone"]},
        ),
        ("Record", {"fields": ["created_at", "updated_at"], "classes": ["collapse"]}),
    ]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related("rights")
            .annotate(article_count=Count("articles"))
        )

    def changelist_view(self, request, extra_context=None):
        expiring = RightsRecord.objects.expiring(EXPIRING_WITHIN_DAYS).count()
        extra_context = {"expiring_rights_count": expiring, **(extra_context or {})}
        return super().changelist_view(request, extra_context)

    @admin.display(description="rights basis", ordering="rights__basis")
    def rights_basis(self, source):
        rights = getattr(source, "rights", None)
        return rights.get_basis_display() if rights else "—"

    @admin.display(description="rights status")
    def rights_status(self, source):
        problem = source.rights_problem()
        if problem:
            return problem
        expires_on = source.rights.expires_on
        if expires_on and expires_on <= timezone.localdate() + datetime.timedelta(
            days=EXPIRING_WITHIN_DAYS
        ):
            return f"valid, expires on {expires_on:%Y-%m-%d}"
        return "valid"

    @admin.display(description="articles", ordering="article_count")
    def article_count(self, source):
        return source.article_count

    @admin.action(description="Export metadata and rights of selected sources (CSV)")
    def export_metadata(self, request, queryset):
        header, rows = export_sources(queryset.select_related("rights").order_by("slug"))
        return csv_response("sources", header, rows)

    def get_urls(self):
        return [
            path(
                "bulk-metadata/",
                self.admin_site.admin_view(self.bulk_metadata_view),
                name="articles_bulk_metadata",
            ),
            *super().get_urls(),
        ]

    def bulk_metadata_view(self, request):
        """Upload a metadata file: the dry run's changes first, then "Apply" writes them all."""
        if not (
            request.user.has_perm("articles.change_source")
            or request.user.has_perm("articles.change_article")
        ):
            raise PermissionDenied
        form = BulkMetadataForm(request.POST or None, request.FILES or None)
        plan = text = None
        if request.method == "POST" and form.is_valid():
            data, name = form.cleaned_data["data"], form.cleaned_data["name"]
            plan = plan_metadata(data, name)
            for kind in sorted(plan.kinds):
                if not request.user.has_perms(KIND_PERMISSIONS[kind]):
                    plan.errors.append(f"You may not change {kind} in bulk.")
            if not plan.errors and form.cleaned_data["confirm"]:
                applied = apply_plan(plan)
                self.message_user(
                    request, f"Applied: {applied} row(s) changed, {plan.unchanged} unchanged."
                )
                return HttpResponseRedirect(reverse("admin:articles_source_changelist"))
            text = data.decode("utf-8-sig", "replace") if not plan.errors else None
        context = {
            **self.admin_site.each_context(request),
            "title": "Import metadata (sources, rights, article taxonomy)",
            "form": form,
            "plan": plan,
            "content": text,
            "name": form.cleaned_data.get("name", "") if form.is_bound and plan else "",
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/articles/bulk_metadata.html", context)


# ---------------------------------------------------------------------------------------------
# People and taxonomy


@admin.register(Author)
class AuthorAdmin(admin.ModelAdmin):
    list_display = ["name", "source", "link"]
    list_filter = [("source", admin.RelatedOnlyFieldListFilter)]
    list_select_related = ["source"]
    search_fields = ["name", "source__name"]
    autocomplete_fields = ["source"]
    fields = ["name", "slug", "source", "link", "photo", "bio"]


@admin.register(Region)
class RegionAdmin(admin.ModelAdmin):
    list_display = ["name", "place_in_hierarchy", "slug"]
    list_select_related = ["parent", "parent__parent", "parent__parent__parent"]
    search_fields = ["name", "parent__name"]
    autocomplete_fields = ["parent"]
    fields = ["name", "slug", "parent", "description"]

    @admin.display(description="place in hierarchy", ordering="parent__name")
    def place_in_hierarchy(self, region):
        return " › ".join(node.name for node in [*region.ancestors(), region])


@admin.register(Theme)
class ThemeAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "article_count"]
    ordering = ["name"]
    search_fields = ["name"]
    fields = ["name", "slug", "description"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(article_count=Count("articles"))

    @admin.display(description="articles", ordering="article_count")
    def article_count(self, theme):
        return theme.article_count


@admin.register(InDepthReport)
class InDepthReportAdmin(admin.ModelAdmin):
    list_display = ["title", "is_featured", "slug"]
    list_editable = ["is_featured"]
    list_filter = ["is_featured"]
    search_fields = ["title"]
    fields = ["title", "slug", "description", "image", "is_featured"]


# ---------------------------------------------------------------------------------------------
# Site-wide blocks and redirects


@admin.register(SiteBlock)
class SiteBlockAdmin(admin.ModelAdmin):
    form = SiteBlockForm
    list_display = ["__str__", "updated_at"]

    def get_readonly_fields(self, request, obj=None):
        return ["key"] if obj else []

    def has_add_permission(self, request):
        missing = set(SiteBlockKey.values) - set(SiteBlock.objects.values_list("key", flat=True))
        return bool(missing) and super().has_add_permission(request)


@admin.register(Redirect)
class RedirectAdmin(admin.ModelAdmin):
    form = RedirectAdminForm
    list_display = ["old_path", "target", "created_at"]
    list_select_related = ["article"]
    search_fields = ["old_path", "target_url", "article__title"]
    autocomplete_fields = ["article"]

    @admin.display(description="target")
    def target(self, redirect):
        return redirect.target()


# ---------------------------------------------------------------------------------------------
# Articles


class StatusFilter(admin.SimpleListFilter):
    """The workflow as editors say it: a published article whose time is ahead is Scheduled."""

    title = "status"
    parameter_name = "status"

    def lookups(self, request, model_admin):
        return [
            (ArticleStatus.DRAFT, "Draft"),
            (ArticleStatus.REVIEW, "In review"),
            ("scheduled", "Scheduled"),
            ("next-24-hours", "Scheduled in the next 24 hours"),
            (ArticleStatus.PUBLISHED, "Published (live)"),
            (ArticleStatus.WITHDRAWN, "Withdrawn"),
        ]

    def queryset(self, request, queryset):
        match self.value():
            case "scheduled":
                return queryset.scheduled()
            case "next-24-hours":
                return queryset.scheduled_within(SCHEDULE_WINDOW)
            case ArticleStatus.PUBLISHED:
                return queryset.published()
            case ArticleStatus.DRAFT | ArticleStatus.REVIEW | ArticleStatus.WITHDRAWN as status:
                return queryset.filter(status=status)
        return queryset


class RightsEndedFilter(admin.SimpleListFilter):
    """Published articles whose source's permission or licence has ended: still live under a
    flag policy (an editor decides), or taken down under a withdraw policy."""

    title = "rights ended"
    parameter_name = "rights_ended"

    def lookups(self, request, model_admin):
        return [
            ("flagged", "Flagged: still live"),
            ("withdrawn", "Taken down by the source's policy"),
        ]

    def queryset(self, request, queryset):
        match self.value():
            case "flagged":
                return queryset.flagged_for_rights()
            case "withdrawn":
                return queryset.withdrawn_for_rights()
        return queryset


class BylineInline(admin.TabularInline):
    model = Byline
    fields = ["position", "author"]
    autocomplete_fields = ["author"]
    ordering = ["position", "pk"]
    extra = 0
    verbose_name = "author"
    verbose_name_plural = "byline (in order)"


class ArticleBlockOverrideInline(admin.StackedInline):
    model = ArticleBlockOverride
    form = ArticleBlockOverrideForm
    extra = 0
    verbose_name = "site block override"
    verbose_name_plural = "site blocks replaced or hidden on this article"


class CorrectionInline(admin.TabularInline):
    """The corrections and updates log as readers see it; notes are added with an edit (the
    "Note for readers" field), and a mistaken one can be fixed or deleted here."""

    model = Correction
    fields = ["created_at", "kind", "note", "created_by"]
    readonly_fields = ["created_at", "created_by"]
    extra = 0
    verbose_name = "note for readers"
    verbose_name_plural = "corrections and updates (printed on the article page)"

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Article)
class ArticleAdmin(SimpleHistoryAdmin):
    form = ArticleAdminForm

    class Media:
        css = {"all": ["admin_extra/editorial.css"]}

    inlines = [BylineInline, ArticleBlockOverrideInline, CorrectionInline]
    list_display = [
        "title",
        "status_label",
        "source",
        "byline",
        "published_at",
        "updated_at",
        "thumbnail",
    ]
    list_filter = [
        StatusFilter,
        RightsEndedFilter,
        ("source", admin.RelatedOnlyFieldListFilter),
        ("regions", admin.RelatedOnlyFieldListFilter),
        ("themes", admin.RelatedOnlyFieldListFilter),
        ("reports", admin.RelatedOnlyFieldListFilter),
        "published_at",
        "language",
    ]
    search_fields = ["title", "dek", "original_url", "source__name", "authors__name"]
    date_hierarchy = "published_at"
    list_select_related = ["source", "lead_image"]
    list_per_page = 50
    save_on_top = True
    autocomplete_fields = ["source", "regions", "themes", "reports", "lead_image"]
    actions = [
        "send_to_review",
        "publish",
        "withdraw",
        "classify",
        "export_csv",
        "export_taxonomy",
    ]
    history_list_display = ["status"]
    object_history_list_template = "admin/articles/article/object_history_list.html"
    readonly_fields = [
        "lead_image_preview",
        "withdrawn_at",
        "created_at",
        "updated_at",
        "rights_state",
    ]
    fieldsets = [
        ("Headline", {"fields": ["kicker", "title", "slug", "dek"]}),
        ("Body", {"fields": ["body"]}),
        (
            "Corrections and updates",
            {
                "fields": ["correction_note", "correction_kind"],
                "description": "A live article's readers are told what changed, and when.",
            },
        ),
        (
            "Source and original",
            {
                "fields": [
                    "source",
                    "rights_state",
                    "original_url",
                    "original_title",
                    "original_published_at",
                ]
            },
        ),
        ("Publishing", {"fields": ["status", "published_at", "created_at", "updated_at"]}),
        ("Classification", {"fields": ["regions", "themes", "reports", "tags", "language"]}),
        (
            "Lead media",
            {
                "fields": [
                    "lead_image",
                    "lead_image_preview",
                    "new_lead_image",
                    "new_lead_image_alt",
                    "new_lead_image_caption",
                    "new_lead_image_credit",
                    "new_lead_image_licence",
                    "video_url",
                ]
            },
        ),
        ("Withdrawal", {"fields": ["withdrawn_at", "withdrawal_reason"], "classes": ["collapse"]}),
    ]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .prefetch_related(
                Prefetch(
                    "bylines",
                    queryset=Byline.objects.select_related("author").order_by("position", "pk"),
                )
            )
        )

    # -- who may do what ----------------------------------------------------------------------

    def has_publish_permission(self, request):
        return request.user.has_perm(PUBLISH_PERMISSION)

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        form.can_publish = self.has_publish_permission(request)
        return form

    def get_readonly_fields(self, request, obj=None):
        readonly = list(super().get_readonly_fields(request, obj))
        if (
            obj is not None
            and obj.status in (ArticleStatus.PUBLISHED, ArticleStatus.WITHDRAWN)
            and not self.has_publish_permission(request)
        ):
            # Someone who may not publish may still fix a live article's metadata, but not
            # take it down or move its publication date.
            readonly += ["status", "published_at"]
        return readonly

    def save_model(self, request, obj, form, change):
        uploaded = form.uploaded_lead_image(uploaded_by=request.user)
        if uploaded is not None:
            obj.lead_image = uploaded
        if obj.status == ArticleStatus.WITHDRAWN and obj.withdrawn_at is None:
            obj.withdrawn_at = timezone.now()
        elif obj.status != ArticleStatus.WITHDRAWN:
            obj.withdrawn_at = None
        super().save_model(request, obj, form, change)
        if change:
            form.log_correction(obj, request.user)
        if not change or {"title", "body"} & set(form.changed_data):
            # So that later imports of the same story are matched against it.
            ContentSignature.objects.refresh(obj)

    def save_related(self, request, form, formsets, change):
        # Bylines, regions, themes, reports and tags change one by one: the article's search
        # names are then written once, at the end.
        with search_documents_refreshed_once():
            super().save_related(request, form, formsets, change)

    # -- columns ------------------------------------------------------------------------------

    @admin.display(description="status", ordering="status")
    def status_label(self, article):
        return article.display_status

    @admin.display(description="rights")
    def rights_state(self, article):
        """What the source's rights say about this article today, for the change page."""
        if article.pk is None:
            return "—"
        problem = article.source.rights_problem()
        if problem is None:
            return "Valid."
        notice = article.rights_end_notice()
        if notice and article.status == ArticleStatus.PUBLISHED:
            return f"{problem} Taken down by the source's policy: readers get “{notice}”"
        return problem

    @admin.display(description="authors")
    def byline(self, article):
        return ", ".join(byline.author.name for byline in article.bylines.all())

    @admin.display(description="image")
    def thumbnail(self, article):
        return thumbnail_html(article.lead_image)

    @admin.display(description="current lead image")
    def lead_image_preview(self, article):
        image = article.lead_image
        url = rendition_url(image.renditions) if image is not None else ""
        if not url:
            return "No image yet."
        return format_html(
            '<img src="{}" alt="{}" class="article-lead-preview"><br>'
            '<a href="{}">Edit in the media library</a>: alt text “{}”, caption “{}”, credit “{}”',
            url,
            image.alt,
            reverse("admin:articles_image_change", args=[image.pk]),
            image.alt or "none yet",
            image.caption,
            image.credit,
        )

    # -- bulk actions -------------------------------------------------------------------------

    @admin.action(description="Send selected articles to review", permissions=["change"])
    def send_to_review(self, request, queryset):
        moved = [article for article in queryset if article.send_to_review()]
        self.message_user(request, f"{len(moved)} article(s) sent to review.", messages.SUCCESS)

    @admin.action(description="Publish selected articles now", permissions=["publish"])
    def publish(self, request, queryset):
        published, blocked = 0, []
        for article in queryset.select_related("source", "source__rights"):
            if article.is_live:
                continue
            try:
                article.publish()
            except PublishingBlocked as reason:
                blocked.append(f"“{article.title}”: {reason}")
            else:
                published += 1
        self.message_user(request, f"{published} article(s) published.", messages.SUCCESS)
        if blocked:
            self.message_user(
                request,
                f"{len(blocked)} article(s) not published. " + " ".join(blocked),
                messages.WARNING,
            )

    @admin.action(description="Withdraw selected articles", permissions=["publish"])
    def withdraw(self, request, queryset):
        withdrawn = 0
        for article in queryset.exclude(status=ArticleStatus.WITHDRAWN):
            article.withdraw()
            withdrawn += 1
        self.message_user(request, f"{withdrawn} article(s) withdrawn.", messages.SUCCESS)

    @admin.action(description="Classify selected articles…", permissions=["change"])
    def classify(self, request, queryset):
        return classify_in_bulk(self, request, queryset, list(queryset.order_by("-pk")))

    @admin.action(description="Export taxonomy of selected articles (CSV)", permissions=["view"])
    def export_taxonomy(self, request, queryset):
        header, rows = export_articles(articles_for_export(queryset))
        return csv_response("article-taxonomy", header, rows)

    @admin.action(description="Export selected articles as CSV", permissions=["view"])
    def export_csv(self, request, queryset):
        rows = (
            (
                article.pk,
                article.title,
                article.source.name,
                article.display_status,
                article.published_at,
                article.original_url,
                request.build_absolute_uri(article.get_absolute_url()),
                request.build_absolute_uri(article.lead_image.file.url)
                if article.lead_image
                else "",
                article.lead_image.alt if article.lead_image else "",
                article.lead_image.credit if article.lead_image else "",
            )
            for article in queryset.select_related("source", "lead_image").order_by("pk")
        )
        header = [
            "id", "title", "source", "status", "published at", "original URL", "address",
            "lead image", "lead image alt text", "lead image credit",
        ]  # fmt: skip
        return csv_response("articles", header, rows)

    # -- extra screens and links --------------------------------------------------------------

    def get_urls(self):
        compare = path(
            "<path:object_id>/history/compare/",
            self.admin_site.admin_view(self.compare_revisions_view),
            name="articles_article_history_compare",
        )
        # Before the inherited routes: simple_history's history/<version>/ would take it.
        return [compare, *super().get_urls()]

    def changelist_view(self, request, extra_context=None):
        extra_context = {
            "awaiting_review_count": Article.objects.awaiting_review().count(),
            "rights_ended_count": Article.objects.flagged_for_rights().count(),
            **(extra_context or {}),
        }
        return super().changelist_view(request, extra_context)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = {
            "preview_url": reverse("articles:preview", args=[unquote(object_id)]),
            **(extra_context or {}),
        }
        return super().change_view(request, object_id, form_url, extra_context)

    def set_history_delta_changes(self, request, historical_records, **kwargs):
        """Give every revision on the page the id of the one before it, to compare with."""
        super().set_history_delta_changes(request, historical_records, **kwargs)
        records = list(historical_records)
        for newer, older in zip(records, records[1:], strict=False):
            newer.previous_history_id = older.history_id
        if records:
            oldest = records[-1]
            before = (
                Article.history.filter(id=oldest.id, history_date__lt=oldest.history_date)
                .order_by("-history_date")
                .values_list("history_id", flat=True)
                .first()
            )
            oldest.previous_history_id = before

    def compare_revisions_view(self, request, object_id):
        article = get_object_or_404(Article, pk=unquote(object_id))
        if not self.has_view_history_or_change_history_permission(request, article):
            raise PermissionDenied
        revisions = list(
            Article.history.filter(id=article.pk).select_related("history_user", "source")
        )
        if not revisions:
            raise Http404("This article has no recorded revisions.")
        by_id = {str(revision.history_id): revision for revision in revisions}
        newer = by_id.get(request.GET.get("to", ""), revisions[0])
        older = by_id.get(
            request.GET.get("from", ""), revisions[1] if len(revisions) > 1 else revisions[0]
        )
        if older.history_date > newer.history_date:
            older, newer = newer, older
        context = {
            **self.admin_site.each_context(request),
            "title": f"Compare revisions: {article}",
            "opts": self.model._meta,
            "object": article,
            "revisions": revisions,
            "older": older,
            "newer": newer,
            "changes": revision_changes(newer, older),
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, "admin/articles/article/compare_revisions.html", context)


# ---------------------------------------------------------------------------------------------
# Comparing two revisions


@dataclass
class FieldChange:
    label: str
    old: str
    new: str
    lines: list[tuple[str, str]] = field(default_factory=list)

    @property
    def is_long(self) -> bool:
        return bool(self.lines)


# Break HTML between elements so a diff shows changed paragraphs, not one changed line.
_BETWEEN_BLOCKS = re.compile(r"(?<=>)\s*(?=<(?:p|h\d|ul|ol|li|blockquote|figure|table)\b)")
LONG_TEXT_FIELDS = {"body", "dek"}


def _as_shown(value):
    """`value` at the precision the admin shows and edits it: datetimes to the second."""
    if isinstance(value, datetime.datetime):
        if timezone.is_aware(value):
            value = timezone.localtime(value)
        return value.replace(microsecond=0)
    return value


def _as_text(record, field_name: str, value) -> str:
    if value is None or value == "":
        return "—"
    model_field = record._meta.get_field(field_name)
    if model_field.choices:
        return str(dict(model_field.flatchoices).get(value, value))
    if isinstance(value, datetime.datetime):
        return f"{_as_shown(value):%Y-%m-%d %H:%M:%S}"
    return str(value)


def _line_diff(old: str, new: str) -> list[tuple[str, str]]:
    """Changed paragraphs of two HTML texts with one line of context."""
    return line_diff(
        _BETWEEN_BLOCKS.sub("\n", old or "").splitlines(),
        _BETWEEN_BLOCKS.sub("\n", new or "").splitlines(),
    )


def revision_changes(newer, older) -> list[FieldChange]:
    """What changed between two historical records of an article, field by field."""
    if newer.history_id == older.history_id:
        return []
    delta = newer.diff_against(older, foreign_keys_are_objs=True)
    changes = []
    for change in delta.changes:
        # The admin's date-and-time widget drops microseconds: that is not an editor's change.
        if _as_shown(change.old) == _as_shown(change.new):
            continue
        label = str(newer._meta.get_field(change.field).verbose_name)
        old = _as_text(older, change.field, change.old)
        new = _as_text(newer, change.field, change.new)
        lines = _line_diff(change.old, change.new) if change.field in LONG_TEXT_FIELDS else []
        changes.append(FieldChange(label=label, old=old, new=new, lines=lines))
    return changes
