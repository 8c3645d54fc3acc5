"""Content, taxonomy and rights: what the site republishes and on what terms."""

import datetime
import hashlib
import uuid

from django.conf import settings
from django.contrib.postgres.search import SearchVectorField
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connections, models, transaction
from django.db.models import Prefetch, Q, prefetch_related_objects
from django.db.models.functions import Lower
from django.db.models.signals import pre_save
from django.dispatch import receiver
from django.urls import reverse
from django.utils import timezone
from django.utils.text import slugify
from simple_history.models import HistoricalRecords
from taggit.managers import TaggableManager
from taggit.models import Tag

from . import filing, similarity
from .sanitize import clean_html, first_paragraph, images_without_alt, strip_control_characters
from .typography import body_fingerprint, fingerprint_of_text, typographic_form

SLUG_MAX_LENGTH = 200


def slug_base(value: str) -> str:
    """The slug `value` gets when no other row has taken it."""
    base = slugify(strip_control_characters(value), allow_unicode=False)[: SLUG_MAX_LENGTH - 10]
    return base.strip("-") or "item"


def give_free_slugs(instances: list[models.Model], slug_source_field: str = "name") -> None:
    """Give every instance without a slug one no row of its model has, and that no other
    instance of the list takes: one query, plus one per slug already taken. For bulk inserts,
    which skip `save()`; a row that takes a slug meanwhile makes the insert fail, not collide."""
    wanted = [instance for instance in instances if not instance.slug]
    if not wanted:
        return
    model = type(wanted[0])
    bases = {id(i): slug_base(getattr(i, slug_source_field)) for i in wanted}
    taken = set(
        model._default_manager.filter(slug__in=set(bases.values())).values_list("slug", flat=True)
    )
    taken.update(instance.slug for instance in instances if instance.slug)
    rows = model._default_manager
    for instance in wanted:
        base = bases[id(instance)]
        candidate, suffix = base, 2
        # Every base was looked up above; a suffixed candidate is looked up on its own.
        while candidate in taken or (candidate != base and rows.filter(slug=candidate).exists()):
            candidate, suffix = f"{base}-{suffix}", suffix + 1
        instance.slug = candidate
        taken.add(candidate)


def unique_slugify(instance: models.Model, value: str, slug_field: str = "slug") -> str:
    """A slug for `value` that no other row of the instance's model uses yet."""
    base = slug_base(value)
    model = type(instance)
    candidate, suffix = base, 2
    others = (
        model._default_manager.exclude(pk=instance.pk) if instance.pk else model._default_manager
    )
    while others.filter(**{slug_field: candidate}).exists():
        candidate, suffix = f"{base}-{suffix}", suffix + 1
    return candidate


def routable_tag_slug(name: str) -> str:
    """A slug that a tag page's address can carry: the name's Unicode slug, or, for a name with
    no letters or digits at all ("!!!", an emoji, markup), "tag-" and a hash of the name."""
    slug = slugify(strip_control_characters(name), allow_unicode=True).strip("-_")[:90]
    if slug:
        return slug
    return "tag-" + hashlib.sha256(name.strip().lower().encode()).hexdigest()[:12]


@receiver(pre_save, sender=Tag)
def give_tag_a_routable_slug(sender, instance: Tag, **kwargs):
    """Every tag, whoever creates it (a feed's category, an editor), gets a slug a URL can use:
    taggit leaves it empty when the name has no letters or digits."""
    if not instance.slug:
        instance.slug = routable_tag_slug(instance.name)


class SluggedModel(models.Model):
    """Generates a unique slug on first save; a racing duplicate retries with a new suffix."""

    slug_source_field = "name"

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if self.slug:
            return super().save(*args, **kwargs)
        # Most names are new: the plain slug is tried first, and only a taken one costs the
        # search for a free suffix.
        self.slug = slug_base(getattr(self, self.slug_source_field))
        for _attempt in range(5):
            try:
                with transaction.atomic():
                    return super().save(*args, **kwargs)
            except IntegrityError:
                if not type(self)._default_manager.filter(slug=self.slug).exists():
                    raise
            self.slug = unique_slugify(self, getattr(self, self.slug_source_field))
        raise IntegrityError(f"could not find a free slug for {self}")


def server_generated_name(folder: str, filename: str) -> str:
    """What the uploader called the file never becomes a path: we name every stored file."""
    extension = filename.rsplit(".", 1)[-1].lower() if "." in filename else "bin"
    if extension not in {"jpg", "jpeg", "png", "gif", "webp"}:
        extension = "bin"
    return f"{folder}/{uuid.uuid4().hex}.{extension}"


def upload_to_logos(instance, filename):
    return server_generated_name("logos", filename)


def upload_to_authors(instance, filename):
    return server_generated_name("authors", filename)


def upload_to_reports(instance, filename):
    return server_generated_name("reports", filename)


def upload_to_lead_images(instance, filename):
    return server_generated_name("lead", filename)


def upload_to_library(instance, filename):
    return server_generated_name("images", filename)


# ---------------------------------------------------------------------------------------------
# Sources and rights


class RightsBasis(models.TextChoices):
    PERMISSION = "permission", "Written permission from the copyright holder"
    CC_BY = "cc-by", "Creative Commons Attribution (CC BY)"
    CC_BY_SA = "cc-by-sa", "Creative Commons Attribution-ShareAlike (CC BY-SA)"
    CC_BY_ND = "cc-by-nd", "Creative Commons Attribution-NoDerivatives (CC BY-ND)"
    PUBLIC_DOMAIN = "public-domain", "Public domain"


class LicenceVersion(models.TextChoices):
    V4 = "4.0", "4.0 (International)"
    V3 = "3.0", "3.0"
    V2 = "2.0", "2.0"


# Creative Commons licences: the part of the deed's address and the short name, by basis.
CREATIVE_COMMONS = {
    RightsBasis.CC_BY: ("by", "CC BY"),
    RightsBasis.CC_BY_SA: ("by-sa", "CC BY-SA"),
    RightsBasis.CC_BY_ND: ("by-nd", "CC BY-ND"),
}
PUBLIC_DOMAIN_MARK = (
    "https://creativecommons.org/publicdomain/mark/1.0/",
    "Public Domain Mark 1.0",
)


class CanonicalPolicy(models.TextChoices):
    ORIGINAL = "original", "Point rel=canonical at the original article"
    SITE = "site", "Point rel=canonical at this site"


class ProvenancePolicy(models.TextChoices):
    """What happens to a source's live articles when something about their provenance ends
    (the original is gone, the permission ran out): see docs/provenance-watch.md."""

    FLAG = "flag", "Flag them for editors (they stay live)"
    WITHDRAW = "withdraw", "Withdraw them (readers get a 410 page with the reason)"


class RightsScope(models.TextChoices):
    FULL = "full", "Full republication"
    EXCERPT = "excerpt", "Excerpt only (summary and first paragraph, linked to the original)"


def first_moment_of(day: datetime.date) -> datetime.datetime:
    """Midnight at the start of `day` in the newsroom's time zone."""
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


class SourceQuerySet(models.QuerySet):
    def rights_ended(self, on: datetime.date):
        """Sources whose permission or licence has expired or been revoked by `on`."""
        return self.filter(
            Q(rights__expires_on__lt=on) | Q(rights__revoked_on__lte=on),
        )

    def withdrawn_for_rights(self, on: datetime.date):
        """Sources whose live articles leave the site when their rights end, and whose rights
        have ended by `on`: their articles are no longer published (see `Article.objects`)."""
        return self.rights_ended(on).filter(on_rights_end=ProvenancePolicy.WITHDRAW)


class Source(SluggedModel):
    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=SLUG_MAX_LENGTH, unique=True, blank=True)
    homepage = models.URLField(max_length=500, blank=True)
    logo = models.ImageField(
        upload_to=upload_to_logos,
        blank=True,
        help_text="Shown in the attribution block under its articles and on its page; "
        "re-encoded from its pixels when uploaded.",
    )
    # Measured when the logo is stored (not by the field's width_field, which would open the
    # file whenever a source is loaded without them).
    logo_width = models.PositiveIntegerField(null=True, blank=True, editable=False)
    logo_height = models.PositiveIntegerField(null=True, blank=True, editable=False)
    description = models.TextField(blank=True)
    canonical_policy = models.CharField(
        max_length=20,
        choices=CanonicalPolicy.choices,
        default=CanonicalPolicy.ORIGINAL,
        help_text="Where search engines are told the authoritative copy lives.",
    )
    noindex = models.BooleanField(
        default=False,
        help_text="Ask search engines not to index this source's articles on this site.",
    )
    support_appeal = models.TextField(
        blank=True,
        help_text="The source's own appeal for support, shown under its articles when set.",
    )
    default_author = models.ForeignKey(
        "Author",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="Credited when an imported article names no author.",
    )
    is_active = models.BooleanField(default=True)
    on_rights_end = models.CharField(
        "when the rights end",
        max_length=10,
        choices=ProvenancePolicy.choices,
        default=ProvenancePolicy.FLAG,
        help_text="What happens to live articles once the permission or licence expires or "
        "is revoked. Withdraw takes them down at that moment, with no job to run.",
    )
    on_original_gone = models.CharField(
        "when an original is gone",
        max_length=10,
        choices=ProvenancePolicy.choices,
        default=ProvenancePolicy.FLAG,
        help_text="What the originals check does when an article's original is deleted, "
        "retracted or dropped from its feed.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = SourceQuerySet.as_manager()

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name

    def save(self, *args, **kwargs):
        self.support_appeal = clean_html(self.support_appeal)
        if self.logo and not self.logo.storage.exists(self.logo.name):
            from .images import clean_upload, store_clean_image

            clean = clean_upload(self.logo)
            # A name assigned to the field stands for a file already in storage.
            self.logo = store_clean_image(clean, "logos")
            self.logo_width, self.logo_height = clean.width, clean.height
        elif not self.logo:
            self.logo_width = self.logo_height = None
        super().save(*args, **kwargs)

    def get_absolute_url(self):
        return reverse("articles:source", kwargs={"slug": self.slug})

    def rights_problem(self, on: datetime.date | None = None) -> str | None:
        """Why this source's articles may not be published on `on` (today), or None."""
        try:
            rights = self.rights
        except RightsRecord.DoesNotExist:
            return f"“{self.name}” has no rights record; add one before publishing its articles."
        return rights.problem(on)

    def rights_record(self) -> "RightsRecord | None":
        try:
            return self.rights
        except RightsRecord.DoesNotExist:
            return None

    def withdraws_articles(self, on: datetime.date | None = None) -> bool:
        """Whether its articles have left the site by `on` (today) because its rights ended
        and its policy is to withdraw them: one of `Source.objects.withdrawn_for_rights(on)`."""
        if self.on_rights_end != ProvenancePolicy.WITHDRAW:
            return False
        rights = self.rights_record()
        return rights is not None and rights.ended_on(on) is not None


class RightsRecordQuerySet(models.QuerySet):
    def ended(self, on: datetime.date | None = None):
        on = on or timezone.localdate()
        return self.filter(Q(expires_on__lt=on) | Q(revoked_on__lte=on))

    def expiring(self, within_days: int = 30, on: datetime.date | None = None):
        """Still valid on `on`, expiring within the next `within_days` days."""
        on = on or timezone.localdate()
        return self.filter(
            expires_on__gte=on,
            expires_on__lte=on + datetime.timedelta(days=within_days),
        ).exclude(revoked_on__lte=on)

    def with_live_article_counts(self, now: datetime.datetime | None = None):
        """Each record with `live_articles`: its source's published articles whose time has
        come (hidden ones of an ended withdraw-policy source included: those are affected)."""
        now = now or timezone.now()
        return self.annotate(
            live_articles=models.Count(
                "source__articles",
                filter=Q(
                    source__articles__status=ArticleStatus.PUBLISHED,
                    source__articles__published_at__lte=now,
                ),
            )
        )

    def next_withdrawal_moment(
        self, now: datetime.datetime | None = None
    ) -> datetime.datetime | None:
        """When the next source whose policy is to withdraw loses its rights, or None: the page
        cache is trusted only until then (articles/site/generation.py)."""
        now = now or timezone.now()
        today = timezone.localdate(now)
        upcoming = self.filter(source__on_rights_end=ProvenancePolicy.WITHDRAW)
        next_expiry = (
            upcoming.filter(expires_on__gte=today)
            .order_by("expires_on")
            .values_list("expires_on", flat=True)
            .first()
        )
        next_revocation = (
            upcoming.filter(revoked_on__gt=today)
            .order_by("revoked_on")
            .values_list("revoked_on", flat=True)
            .first()
        )
        moments = []
        if next_expiry is not None:
            moments.append(first_moment_of(next_expiry + datetime.timedelta(days=1)))
        if next_revocation is not None:
            moments.append(first_moment_of(next_revocation))
        return min(moments, default=None)


class RightsRecord(models.Model):
    """On what terms we may republish a source's articles, and how to credit them."""

    source = models.OneToOneField(Source, on_delete=models.CASCADE, related_name="rights")
    basis = models.CharField(max_length=20, choices=RightsBasis.choices)
    copyright_holder = models.CharField(
        max_length=200, help_text="Printed in the copyright line, e.g. the outlet's legal name."
    )
    attribution_wording = models.CharField(
        max_length=500,
        blank=True,
        help_text="Wording the holder asked for, printed under the attribution line.",
    )
    evidence = models.TextField(
        blank=True, help_text="Where the permission is recorded: an email, a contract, a page."
    )
    evidence_url = models.URLField(max_length=500, blank=True)
    granted_on = models.DateField(null=True, blank=True)
    expires_on = models.DateField(
        null=True,
        blank=True,
        help_text="The last day it is valid; leave empty when the permission does not expire.",
    )
    scope = models.CharField(
        max_length=10,
        choices=RightsScope.choices,
        default=RightsScope.FULL,
        help_text="Excerpt: pages, feeds and the API show the summary and the first paragraph, "
        "with a link to the original.",
    )
    revoked_on = models.DateField(
        null=True,
        blank=True,
        help_text="The day the holder withdrew the permission: from then on it no longer holds.",
    )
    revocation_reason = models.CharField(max_length=300, blank=True)
    licence_version = models.CharField(
        max_length=8,
        choices=LicenceVersion.choices,
        default=LicenceVersion.V4,
        help_text="The version of the Creative Commons licence the source publishes under; "
        "ignored for permission and public domain.",
    )
    notes = models.TextField(blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = RightsRecordQuerySet.as_manager()

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(expires_on__isnull=True)
                | Q(granted_on__isnull=True)
                | Q(expires_on__gte=models.F("granted_on")),
                name="rights_expiry_after_grant",
            ),
        ]

    def __str__(self):
        return f"{self.get_basis_display()} for {self.source}"

    def clean(self):
        if self.basis == RightsBasis.PERMISSION and not (self.evidence or self.evidence_url):
            raise ValidationError({"evidence": "Say where the written permission is recorded."})
        if self.expires_on and self.granted_on and self.expires_on < self.granted_on:
            raise ValidationError({"expires_on": "The permission cannot expire before it starts."})

    def problem(self, on: datetime.date | None = None) -> str | None:
        on = on or timezone.localdate()
        if self.granted_on and self.granted_on > on:
            return f"Permission for “{self.source}” starts on {self.granted_on:%d %B %Y}."
        if self.revoked_on and self.revoked_on <= on:
            reason = f": {self.revocation_reason}" if self.revocation_reason else "."
            return (
                f"Permission for “{self.source}” was revoked on {self.revoked_on:%d %B %Y}{reason}"
            )
        if self.expires_on and self.expires_on < on:
            return f"Permission for “{self.source}” expired on {self.expires_on:%d %B %Y}."
        return None

    def ended_on(self, on: datetime.date | None = None) -> datetime.date | None:
        """The day the permission stopped holding (the day it expired or was revoked), if it
        has by `on` (today), else None."""
        on = on or timezone.localdate()
        if self.revoked_on and self.revoked_on <= on:
            return self.revoked_on
        if self.expires_on and self.expires_on < on:
            return self.expires_on
        return None

    def end_notice(self, on: datetime.date | None = None) -> str:
        """Why readers can no longer read the source's articles here, or '' while it holds."""
        ended = self.ended_on(on)
        if ended is None:
            return ""
        day = f"{ended.day} {ended:%B %Y}"
        if self.revoked_on == ended:
            return f"The permission to republish this article was withdrawn on {day}."
        return f"The permission to republish this article ended on {day}."

    @property
    def is_excerpt_only(self) -> bool:
        return self.scope == RightsScope.EXCERPT

    @property
    def is_creative_commons(self) -> bool:
        return self.basis in CREATIVE_COMMONS

    @property
    def forbids_derivatives(self) -> bool:
        return self.basis == RightsBasis.CC_BY_ND

    @property
    def licence_url(self) -> str:
        """The canonical deed of the licence (or of the public domain mark); '' for a
        permission."""
        if self.basis in CREATIVE_COMMONS:
            path = CREATIVE_COMMONS[self.basis][0]
            return f"https://creativecommons.org/licenses/{path}/{self.licence_version}/"
        return PUBLIC_DOMAIN_MARK[0] if self.basis == RightsBasis.PUBLIC_DOMAIN else ""

    @property
    def licence_name(self) -> str:
        """The licence as its deed names it: "CC BY-SA 4.0", "Public Domain Mark 1.0"."""
        if self.basis in CREATIVE_COMMONS:
            return f"{CREATIVE_COMMONS[self.basis][1]} {self.licence_version}"
        return PUBLIC_DOMAIN_MARK[1] if self.basis == RightsBasis.PUBLIC_DOMAIN else ""


# ---------------------------------------------------------------------------------------------
# People and taxonomy


class Author(SluggedModel):
    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=SLUG_MAX_LENGTH, unique=True, blank=True)
    bio = models.TextField(blank=True)
    photo = models.ImageField(upload_to=upload_to_authors, blank=True)
    link = models.URLField(max_length=500, blank=True, help_text="The author's own page.")
    source = models.ForeignKey(
        Source, null=True, blank=True, on_delete=models.SET_NULL, related_name="authors"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("articles:author", kwargs={"slug": self.slug})


class Region(SluggedModel):
    name = models.CharField(max_length=150)
    slug = models.SlugField(max_length=SLUG_MAX_LENGTH, unique=True, blank=True)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    description = models.TextField(blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("articles:region", kwargs={"slug": self.slug})

    def clean(self):
        ancestor = self.parent
        while ancestor is not None:
            if ancestor.pk == self.pk:
                raise ValidationError({"parent": "A region cannot sit inside itself."})
            ancestor = ancestor.parent

    def ancestors(self) -> list["Region"]:
        chain, node = [], self.parent
        while node is not None:
            chain.append(node)
            node = node.parent
        return list(reversed(chain))

    def descendant_ids(self) -> set[int]:
        """This region and every region nested inside it, for listings that include sub-regions."""
        return RegionTree.load().descendant_ids(self)


class RegionTree:
    """Every region with its name and slug, read in one query (a site has hundreds of regions,
    not millions): a region's sub-regions, its ancestors and the ids of all the regions nested
    inside it, whatever the depth, with no query per level."""

    def __init__(self, regions):
        self.regions = {region.pk: region for region in regions}
        self.by_parent: dict[int | None, list[Region]] = {}
        for region in self.regions.values():  # in name order, as they were read
            self.by_parent.setdefault(region.parent_id, []).append(region)

    @classmethod
    def load(cls) -> "RegionTree":
        return cls(Region.objects.only("name", "slug", "parent").order_by("name", "pk"))

    def children(self, region: Region) -> list[Region]:
        return self.by_parent.get(region.pk, [])

    def ancestors(self, region: Region) -> list[Region]:
        chain, parent = [], self.regions.get(region.parent_id)
        while parent is not None and parent not in chain:
            chain.append(parent)
            parent = self.regions.get(parent.parent_id)
        return list(reversed(chain))

    def descendant_ids(self, region: Region) -> set[int]:
        ids, frontier = {region.pk}, [region.pk]
        while frontier:
            frontier = [
                child.pk
                for parent in frontier
                for child in self.by_parent.get(parent, ())
                if child.pk not in ids
            ]
            ids.update(frontier)
        return ids


class Theme(SluggedModel):
    name = models.CharField(max_length=150)
    slug = models.SlugField(max_length=SLUG_MAX_LENGTH, unique=True, blank=True)
    description = models.TextField(blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("articles:theme", kwargs={"slug": self.slug})


class InDepthReport(SluggedModel):
    slug_source_field = "title"

    title = models.CharField(max_length=200)
    slug = models.SlugField(max_length=SLUG_MAX_LENGTH, unique=True, blank=True)
    description = models.TextField(blank=True)
    image = models.ImageField(upload_to=upload_to_reports, blank=True)
    is_featured = models.BooleanField(default=False, help_text="Shown on the home page.")

    class Meta:
        ordering = ["title"]
        verbose_name = "in-depth report"

    def __str__(self):
        return self.title

    def get_absolute_url(self):
        return reverse("articles:report", kwargs={"slug": self.slug})


# ---------------------------------------------------------------------------------------------
# Site-wide blocks


class SiteBlockKey(models.TextChoices):
    NOTE_TO_READERS = "note_to_readers", "Note to readers"
    DISCLAIMER = "disclaimer", "Disclaimer"
    FAIR_USE = "fair_use", "Fair-use notice"
    MEDIA_INQUIRIES = "media_inquiries", "Media inquiries"
    COMMUNITY_LINKS = "community_links", "Community links"


class SiteBlockQuerySet(models.QuerySet):
    CACHE_KEY = "articles:site-blocks:v1"

    def as_dict(self) -> dict[str, str]:
        """Every block's HTML by key, from the cache; saving a block clears it."""
        blocks = cache.get(self.CACHE_KEY)
        if blocks is None:
            blocks = dict(self.model.objects.values_list("key", "content"))
            cache.set(self.CACHE_KEY, blocks, 60 * 60)
        return blocks

    @classmethod
    def forget_cached(cls):
        cache.delete(cls.CACHE_KEY)


class SiteBlock(models.Model):
    """Editable boilerplate printed on every article page (unless an article overrides it)."""

    key = models.CharField(max_length=40, choices=SiteBlockKey.choices, unique=True)
    content = models.TextField(blank=True, help_text="HTML; sanitized on save.")
    updated_at = models.DateTimeField(auto_now=True)

    objects = SiteBlockQuerySet.as_manager()

    class Meta:
        ordering = ["key"]

    def __str__(self):
        return self.get_key_display()

    def save(self, *args, **kwargs):
        self.content = clean_html(self.content)
        super().save(*args, **kwargs)
        transaction.on_commit(SiteBlockQuerySet.forget_cached)

    def delete(self, *args, **kwargs):
        result = super().delete(*args, **kwargs)
        transaction.on_commit(SiteBlockQuerySet.forget_cached)
        return result


# ---------------------------------------------------------------------------------------------
# Media library


class ImageLicence(models.TextChoices):
    SOURCE_TERMS = "source-terms", "Under the source's rights record"
    OWN = "own", "Our own work"
    PERMISSION = RightsBasis.PERMISSION.value, RightsBasis.PERMISSION.label
    CC_BY = RightsBasis.CC_BY.value, RightsBasis.CC_BY.label
    CC_BY_SA = RightsBasis.CC_BY_SA.value, RightsBasis.CC_BY_SA.label
    CC_BY_ND = RightsBasis.CC_BY_ND.value, RightsBasis.CC_BY_ND.label
    PUBLIC_DOMAIN = RightsBasis.PUBLIC_DOMAIN.value, RightsBasis.PUBLIC_DOMAIN.label


class ImageQuerySet(models.QuerySet):
    def for_clean_image(self, clean, *, folder: str, **details) -> "Image":
        """The library entry of a re-encoded picture (`articles.images.CleanImage`).

        The same picture stored twice (imported by two feeds, uploaded again) is one entry:
        an existing entry keeps its texts and only has its blank ones filled from `details`;
        a new one has its file stored under `folder`.
        """
        from .images import store_clean_image

        image = self.filter(content_hash=clean.digest).first()
        if image is None:
            image, created = self.get_or_create(
                content_hash=clean.digest,
                defaults={
                    "file": store_clean_image(clean, folder),
                    "width": clean.width,
                    "height": clean.height,
                    **details,
                },
            )
            if created:
                return image
        blanks = {
            name: value
            for name, value in details.items()
            if value not in ("", None) and getattr(image, name) in ("", None)
        }
        if blanks:
            for name, value in blanks.items():
                setattr(image, name, value)
            image.save(update_fields=list(blanks))  # through save(): pages showing it refresh
        return image


class Image(models.Model):
    """A picture of the media library, used as lead image or in bodies by any number of
    articles. Its file is always re-encoded from pixels (`articles.images`), and named after
    its content, so `content_hash` finds the same picture stored again."""

    file = models.ImageField(upload_to=upload_to_library, max_length=200)
    renditions = models.JSONField(default=list, blank=True, editable=False)
    width = models.PositiveIntegerField(default=0, editable=False)
    height = models.PositiveIntegerField(default=0, editable=False)
    content_hash = models.CharField(max_length=64, unique=True, editable=False)
    alt = models.CharField(
        "alt text",
        max_length=300,
        blank=True,
        help_text="What the picture shows, for readers who cannot see it. Required before an "
        "article using it is published.",
    )
    caption = models.CharField(max_length=500, blank=True)
    credit = models.CharField(max_length=200, blank=True, help_text="Who made the picture.")
    licence = models.CharField(max_length=20, choices=ImageLicence.choices, blank=True)
    source = models.ForeignKey(
        Source,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="images",
        help_text="The source it came with, for an imported picture.",
    )
    original_url = models.URLField("original URL", max_length=1000, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
    )

    objects = ImageQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self):
        return self.alt or self.caption or f"Image {self.pk}"

    def save(self, *args, **kwargs):
        self.alt = strip_control_characters(self.alt).strip()
        self.caption = strip_control_characters(self.caption).strip()
        self.credit = strip_control_characters(self.credit).strip()
        self._prepare_file()
        super().save(*args, **kwargs)

    def _prepare_file(self):
        """Re-encode a new upload and (re)build the renditions.

        A name not in storage yet is an upload: it is decoded, re-encoded and the clean copy
        stored instead. A name our own code stored (an import, the demo) only needs its
        renditions, and its content hash when it has none yet.
        """
        from .images import clean_upload, make_renditions, store_clean_image, stored_name_digest

        if not self.file.storage.exists(self.file.name):
            clean = clean_upload(self.file)
            # A name assigned to the field stands for a file already in storage.
            self.file = store_clean_image(clean, "images")
            self.content_hash = clean.digest
        elif not self.content_hash:
            with self.file.storage.open(self.file.name, "rb") as handle:
                self.content_hash = stored_name_digest(handle.read())
        current = self.renditions or []
        if not current or current[-1].get("name") != self.file.name:
            self.renditions = make_renditions(self.file.name)
        largest = self.renditions[-1]
        self.width, self.height = largest["width"], largest["height"]


# ---------------------------------------------------------------------------------------------
# Articles


class ArticleStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    REVIEW = "review", "In review"
    PUBLISHED = "published", "Published"
    WITHDRAWN = "withdrawn", "Withdrawn"


PUBLISH_PERMISSION = "articles.publish_article"


def may_publish(user) -> bool:
    """Whether `user` may publish, schedule or withdraw articles (the Editors' permission).

    Every path that can make an article live asks this of whoever asked for it: the article
    form and actions, the review queue, and imports started by a person (see syndication).
    """
    return user is not None and user.has_perm(PUBLISH_PERMISSION)


class PublishingBlocked(Exception):
    """Publishing was refused; the message is meant for the editor."""


# What the public pages print of an article's relations, and in which order: bylines by
# position (then the author's name), regions and themes by name, reports by title, names
# compared case-insensitively, ties broken by id; tags in the order they were added (the
# `ordering` of `Article.tags`). Related objects carry the names and slugs pages print; their
# other fields are deferred, so reading one (an author's bio) costs a query of its own.
SUBJECT_NAME_FIELDS = {"regions": "name", "themes": "name", "reports": "title"}


def subjects(relation: str) -> Prefetch:
    """Prefetch an article's regions, themes or reports: names and slugs, in name order."""
    model = Article._meta.get_field(relation).related_model
    name = SUBJECT_NAME_FIELDS[relation]
    return Prefetch(relation, queryset=model.objects.only(name, "slug").order_by(Lower(name), "pk"))


def bylines_with_authors() -> Prefetch:
    """Prefetch an article's bylines in order, each with its author's name and slug."""
    return Prefetch(
        "bylines",
        queryset=Byline.objects.select_related("author")
        .only("article", "position", "author__name", "author__slug")
        .order_by("position", Lower("author__name"), "pk"),
    )


class ArticleQuerySet(models.QuerySet):
    def published(self, now: datetime.datetime | None = None):
        """Live on the public site: published, with a publication time that has come, from a
        source that still has the right to show it (for one article: `Article.is_public`).

        A scheduled article is simply a published one whose time is still ahead, so it
        appears at that time with no job having to flip a flag. In the same way, the articles
        of a source whose policy is to withdraw them when its rights end leave the site at
        that moment (`Source.objects.withdrawn_for_rights`).
        """
        now = now or timezone.now()
        return self.went_live(now).exclude(
            source__in=Source.objects.withdrawn_for_rights(timezone.localdate(now))
        )

    def went_live(self, now: datetime.datetime | None = None):
        """Published, with a publication time that has come, whatever its source's rights:
        `published()` without the rights test, for a lookup that makes it in Python on the
        rights record it loads anyway (`Article.is_public`)."""
        return self.filter(status=ArticleStatus.PUBLISHED, published_at__lte=now or timezone.now())

    def withdrawn_for_rights(self, now: datetime.datetime | None = None):
        """Published articles no longer shown because their source's rights ended and its
        policy is to withdraw them."""
        now = now or timezone.now()
        return self.filter(
            status=ArticleStatus.PUBLISHED,
            source__in=Source.objects.withdrawn_for_rights(timezone.localdate(now)),
        )

    def gone(self, now: datetime.datetime | None = None):
        """Articles readers get a 410 Gone for: withdrawn by an editor, or taken down because
        their source's rights ended (see `withdrawn_for_rights`)."""
        now = now or timezone.now()
        return self.filter(
            Q(status=ArticleStatus.WITHDRAWN)
            | Q(
                status=ArticleStatus.PUBLISHED,
                source__in=Source.objects.withdrawn_for_rights(timezone.localdate(now)),
            )
        )

    def flagged_for_rights(self, now: datetime.datetime | None = None):
        """Live articles whose source's rights ended while its policy keeps them live: they
        wait for an editor's decision."""
        now = now or timezone.now()
        return self.published(now).filter(
            source__in=Source.objects.rights_ended(timezone.localdate(now))
        )

    def scheduled(self, now: datetime.datetime | None = None):
        return self.filter(status=ArticleStatus.PUBLISHED, published_at__gt=now or timezone.now())

    def scheduled_within(self, window: datetime.timedelta, now: datetime.datetime | None = None):
        """Scheduled to go live between now and `window` from now."""
        now = now or timezone.now()
        return self.scheduled(now).filter(published_at__lte=now + window)

    def next_publication_time(self, now: datetime.datetime | None = None):
        """When the next scheduled article goes live, or None when none is scheduled."""
        return (
            self.scheduled(now)
            .order_by("published_at")
            .values_list("published_at", flat=True)
            .first()
        )

    def withdrawn(self):
        return self.filter(status=ArticleStatus.WITHDRAWN)

    def awaiting_review(self):
        return self.filter(status=ArticleStatus.REVIEW)

    def for_listing(self, *, with_relations: bool = True):
        """The loading plan of every listing: the rows with their sources and lead images,
        then one query each for the bylines (with their authors), regions and themes that cards
        print, for readers of the relations themselves (feeds, the API). `with_relations=False`
        is the rows alone: cards print bylines, regions and themes from the row
        (`Article.filed`)."""
        listing = (
            self.select_related("source", "lead_image")
            .defer(
                "body",
                "search_names",
                "search_vector",
                "source__description",
                "source__support_appeal",
            )
            .order_by("-published_at", "-pk")
        )
        return listing.prefetch_related(*listing_relations()) if with_relations else listing

    def for_detail(self, *, with_relations: bool = True):
        """The loading plan of one article: its row with its source, rights record and lead
        image, then one query for each relation every article has (bylines, regions, themes,
        reports, tags), in the order described above `subjects`, for readers of the relations
        themselves (the API). The relations most articles leave empty (block overrides,
        corrections, other sources' credits) are only tested for in the article's own query;
        `load_rarely_filled` then reads those present. `with_relations=False` is the article's
        own query alone: the article page prints bylines and taxonomy from the row
        (`Article.filed`), and `load_detail_relations` completes it when it is rendered
        rather than read from the cache."""
        detail = self.select_related("source__rights", "lead_image").defer(
            "search_names", "search_vector"
        )
        if not with_relations:
            return detail
        return detail.annotate(
            **{
                f"has_{relation}": models.Exists(related().filter(article=models.OuterRef("pk")))
                for relation, related in RARELY_FILLED.items()
            }
        ).prefetch_related(*detail_relations())


def listing_relations() -> list:
    """What a card prints of an article's relations."""
    return [bylines_with_authors(), subjects("regions"), subjects("themes")]


def detail_relations() -> list:
    """What `for_detail()` reads of the relations (nearly) every article has."""
    return [*listing_relations(), "tags", subjects("reports")]


def load_detail_relations(article: "Article") -> None:
    """Complete an article loaded with `for_detail(with_relations=False)` to what its page
    prints beyond its row (which keeps its bylines, taxonomy and tags, `Article.filed`, and
    which of the relations most articles leave empty it has): one query per such relation
    it has (`RARELY_FILLED`)."""
    if not hasattr(article, "has_corrections"):
        note_optional_relations(article)
    load_rarely_filled(article)


def note_optional_relations(article: "Article") -> None:
    """Set `has_<relation>` on `article` for each relation of `RARELY_FILLED`, from what its
    row keeps (articles/filing.py): no query."""
    for relation in RARELY_FILLED:
        setattr(article, f"has_{relation}", filing.has(article.filed_under, relation))


def _overrides_shown():
    return ArticleBlockOverride.objects.only("article", "key", "content", "hide")


def _corrections_shown():
    return Correction.objects.only("article", "kind", "note", "created_at")


def _credits_shown():
    return AlsoReportedBy.objects.select_related("source").only(
        "article", "original_url", "source__name", "source__slug", "source__homepage"
    )


# Relations of the article page that most articles leave empty, and what is read of them.
RARELY_FILLED = {
    "block_overrides": _overrides_shown,
    "corrections": _corrections_shown,
    "also_reported_by": _credits_shown,
}


def load_rarely_filled(*articles: "Article") -> None:
    """Read the rarely filled relations of articles loaded with `for_detail()`: one query per
    relation that some of them have, none for a relation they all leave empty (their
    `rarely_filled(relation)` is then empty at no cost)."""
    for relation, related in RARELY_FILLED.items():
        having = [a for a in articles if getattr(a, f"has_{relation}", True)]
        if having:
            prefetch_related_objects(having, Prefetch(relation, queryset=related()))


class Article(SluggedModel):
    slug_source_field = "title"

    title = models.CharField(max_length=300)
    slug = models.SlugField(max_length=SLUG_MAX_LENGTH, unique=True, blank=True)
    kicker = models.CharField(
        max_length=60, blank=True, help_text="A short label printed before the title, e.g. Video."
    )
    dek = models.TextField("summary", blank=True, help_text="One or two sentences under the title.")
    body = models.TextField(blank=True, help_text="HTML; sanitized on save.")

    source = models.ForeignKey(Source, on_delete=models.PROTECT, related_name="articles")
    authors = models.ManyToManyField(Author, through="Byline", related_name="articles", blank=True)
    original_url = models.URLField("original URL", max_length=1000, blank=True)
    original_title = models.CharField(max_length=300, blank=True)
    original_published_at = models.DateTimeField("original publication date", null=True, blank=True)

    status = models.CharField(
        max_length=20, choices=ArticleStatus.choices, default=ArticleStatus.DRAFT, db_index=False
    )
    published_at = models.DateTimeField(
        "site publication date",
        null=True,
        blank=True,
        help_text="A time in the future schedules the article: it goes live then by itself.",
    )
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    withdrawal_reason = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField("last modified", auto_now=True)

    regions = models.ManyToManyField(Region, related_name="articles", blank=True)
    themes = models.ManyToManyField(Theme, related_name="articles", blank=True)
    reports = models.ManyToManyField(InDepthReport, related_name="articles", blank=True)
    # Tags keep the order they were added in, also when prefetched (django-taggit orders
    # only an instance's own tags by default).
    tags = TaggableManager(blank=True, ordering=["taggit_taggeditem_items__pk"])

    # PROTECT: a library image a page shows cannot be deleted from under it; the library
    # says which articles use it.
    lead_image = models.ForeignKey(
        "Image",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="lead_of",
        help_text="Chosen from the media library; its alt text, caption and credit are shown.",
    )
    video_url = models.URLField(
        "video URL",
        max_length=1000,
        blank=True,
        help_text="A direct video file (mp4, webm) or a YouTube/Vimeo link; shown instead of "
        "the lead image.",
    )
    language = models.CharField(max_length=12, default="en")
    # Licence terms (docs/licence-terms.md): the body as first stored (an import, an accepted
    # upstream version, the first save of an article typed in), and when an edit last made
    # its words differ from it.
    received_body_hash = models.CharField(
        max_length=64,
        blank=True,
        editable=False,
        help_text="Fingerprint of the body's words as received (articles.typography).",
    )
    body_changed_at = models.DateTimeField(
        "body changed from the original",
        null=True,
        blank=True,
        editable=False,
        help_text="When an edit last made the body's words differ from the original received.",
    )

    # Search (see articles/search/engine.py): Python keeps `search_names` current; on PostgreSQL a
    # trigger rebuilds `search_vector` from the text columns and a GIN index serves queries,
    # both created by migration 0003 only there. Neither is an editorial fact, so no history.
    search_names = models.TextField(
        blank=True,
        default="",
        editable=False,
        help_text="Names of the source, authors, regions, themes, reports and tags, for search.",
    )
    search_vector = SearchVectorField(null=True, editable=False)
    # What pages print of its bylines, regions, themes, reports and tags, kept beside
    # `search_names` and with it (articles/filing.py): the relations remain the record.
    filed_under = models.JSONField(default=dict, blank=True, editable=False)

    history = HistoricalRecords(
        excluded_fields=[
            "updated_at",
            "filed_under",
            "search_names",
            "search_vector",
            "received_body_hash",
            "body_changed_at",
        ]
    )
    objects = ArticleQuerySet.as_manager()

    class Meta:
        ordering = ["-published_at", "-pk"]
        indexes = [
            # Listings read ids in their order (status, newest first, id) from this index alone.
            models.Index(
                fields=["status", "-published_at", "-id"], name="article_status_published_id"
            ),
            models.Index(fields=["source", "-published_at"], name="article_source_published"),
            models.Index(fields=["-updated_at"], name="article_updated"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~Q(status=ArticleStatus.PUBLISHED) | Q(published_at__isnull=False),
                name="article_published_has_date",
            ),
        ]
        permissions = [
            ("publish_article", "Can publish and withdraw articles"),
            ("preview_article", "Can preview unpublished articles"),
        ]

    def __str__(self):
        return self.title

    def save(self, *args, **kwargs):
        self.tidy()
        stored = (
            Article._default_manager.filter(pk=self.pk).values("slug", "body").first()
            if self.pk
            else None
        )
        old_slug = stored["slug"] if stored and self.slug else None
        update_fields = kwargs.get("update_fields")
        if update_fields is None or "body" in update_fields:
            self._note_body_change(stored["body"] if stored else None)
        # No savepoint of its own: inside a caller's transaction (an import, the admin) a
        # failure rolls that back whole; the slug's retry keeps its own savepoint.
        with transaction.atomic(savepoint=False):
            super().save(*args, **kwargs)
            if old_slug and old_slug != self.slug:
                self._leave_redirect_from(old_slug)

    def get_absolute_url(self):
        return reverse("articles:article", kwargs={"slug": self.slug})

    def tidy(self, *, body_text: str | None = None):
        """What every save does to the text fields: control characters out, the body
        sanitized, a publication date for a published article, and for a new article the
        fingerprint of the body received. Bulk inserts call it too.

        `body_text`: the plain text of the body as it is, when the caller has it already (an
        import works it out for the similarity signature); the fingerprint is made from it
        when sanitizing leaves the body as it was, as it does an import's sanitized body."""
        self.title = strip_control_characters(self.title).strip()[:300]
        sanitized = clean_html(self.body, base_url=self.original_url or None)
        if sanitized != self.body:
            body_text = None
        self.body = sanitized
        self.dek = strip_control_characters(self.dek).strip()
        if self.status == ArticleStatus.PUBLISHED and self.published_at is None:
            self.published_at = timezone.now()
        if self._state.adding and not self.received_body_hash:
            # The first version stored (an import's, or one typed in) is the one received.
            self.received_body_hash = (
                body_fingerprint(self.body) if body_text is None else fingerprint_of_text(body_text)
            )

    # -- the original received, and changes to it -----------------------------------------

    def mark_body_as_received(self):
        """The current body is the original as its source published it (an accepted upstream
        version): "changes were made" is measured from it from now on."""
        self.received_body_hash = body_fingerprint(self.body)
        self.body_changed_at = None

    def _note_body_change(self, stored_body: str | None):
        if not self.received_body_hash:  # stored before fingerprints were kept
            return
        fingerprint = body_fingerprint(self.body)
        if fingerprint == self.received_body_hash:
            self.body_changed_at = None
        elif (
            self.body_changed_at is None
            or stored_body is None
            or body_fingerprint(stored_body) != fingerprint
        ):
            self.body_changed_at = timezone.now()

    @property
    def differs_from_original(self) -> bool:
        """Whether readers get words other than the source's (typography aside)."""
        return self.body_changed_at is not None

    def _leave_redirect_from(self, old_slug: str):
        old_path = reverse("articles:article", kwargs={"slug": old_slug})
        Redirect.objects.filter(old_path=self.get_absolute_url()).delete()
        Redirect.objects.update_or_create(
            old_path=old_path, defaults={"article": self, "target_url": ""}
        )

    def clean(self):
        if self.status == ArticleStatus.PUBLISHED and self.source_id:
            problem = self.source.rights_problem()
            if problem:
                raise ValidationError({"status": problem})
            derivatives = self.derivative_problems()
            if derivatives:
                raise ValidationError(derivatives)
        if self.status == ArticleStatus.PUBLISHED:
            problem = self.missing_alt_text()
            if problem:
                raise ValidationError({"status": problem})
        if self.original_url:
            from .sanitize import is_http_url

            if not is_http_url(self.original_url):
                raise ValidationError({"original_url": "Only http and https links are allowed."})

    # -- workflow ---------------------------------------------------------------------------

    @property
    def is_live(self) -> bool:
        return (
            self.status == ArticleStatus.PUBLISHED
            and self.published_at is not None
            and self.published_at <= timezone.now()
        )

    @property
    def is_scheduled(self) -> bool:
        return (
            self.status == ArticleStatus.PUBLISHED
            and self.published_at is not None
            and self.published_at > timezone.now()
        )

    @property
    def display_status(self) -> str:
        return "Scheduled" if self.is_scheduled else self.get_status_display()

    def rights_end_notice(self) -> str:
        """Why a published article is no longer shown, when its source's rights ended under a
        withdraw policy; '' otherwise (the article page then answers 410 with it)."""
        if not self.source.withdraws_articles():
            return ""
        return self.source.rights.end_notice()

    def is_public(self, now: datetime.datetime | None = None) -> bool:
        """Whether readers may read it: whether `Article.objects.published(now)` holds this
        article (`is_live` and its source's rights allow it), worked out from its row, its
        source and the source's rights record (load them with it:
        `select_related("source__rights")`)."""
        now = now or timezone.now()
        return (
            self.status == ArticleStatus.PUBLISHED
            and self.published_at is not None
            and self.published_at <= now
            and not self.source.withdraws_articles(timezone.localdate(now))
        )

    def publishing_problem(self) -> str | None:
        if not self.title.strip():
            return "An article needs a title before it can be published."
        problem = self.source.rights_problem()
        if problem is None:
            derivatives = self.derivative_problems(status=ArticleStatus.PUBLISHED)
            problem = " ".join(derivatives.values()) or None
        return problem or self.missing_alt_text()

    def missing_alt_text(self) -> str | None:
        """Why the article's pictures are not ready for readers who cannot see them, or None."""
        if self.lead_image_id and not self.lead_image.alt.strip():
            return (
                "The lead image has no alt text; describe it in the media library "
                "before publishing."
            )
        missing = images_without_alt(self.body)
        if missing:
            return (
                f"{missing} image(s) in the body have no alt text; describe each one "
                "before publishing."
            )
        return None

    # -- licence terms ----------------------------------------------------------------------

    def derivative_problems(self, status: str | None = None) -> dict[str, str]:
        """Why this version of the article may not be published, by field, when its source's
        licence forbids derivatives (CC BY-ND); {} when it may.

        A published body may change only typographically (articles.typography): its words must
        stay those received, or, for an article with no record of them, those published. A
        shortened body is an abridgement and a changed language a translation: derivatives too.
        `status` is the status the article is about to take (its own by default).
        """
        rights = self.source.rights_record() if self.source_id else None
        if rights is None or not rights.forbids_derivatives:
            return {}
        if (status or self.status) != ArticleStatus.PUBLISHED:
            return {}
        stored = (
            Article._default_manager.filter(pk=self.pk).values("status", "body", "language").first()
            if self.pk
            else None
        )
        was_published = stored is not None and stored["status"] == ArticleStatus.PUBLISHED
        terms = f"“{self.source}” publishes this article under {rights.licence_name}, which "
        problems = {}
        if was_published and self.language != stored["language"]:
            problems["language"] = (
                terms + "forbids derivatives, and a translation is one: the language stays "
                f"“{stored['language']}”."
            )
        text = typographic_form(self.body)
        published_text = typographic_form(stored["body"]) if stored else None
        if was_published and text == published_text:
            return problems
        if self.received_body_hash:
            allowed = body_fingerprint(self.body) == self.received_body_hash
        else:
            allowed = not was_published
        if not allowed:
            if published_text is not None and len(text) < len(published_text):
                problems["body"] = (
                    terms + "forbids derivatives, and an abridgement is one: the text is "
                    f"{len(published_text) - len(text)} characters shorter than before. "
                    "Restore the full text, or withdraw the article."
                )
            else:
                problems["body"] = (
                    terms + "forbids derivatives: only typographic fixes (spacing, quotes, "
                    "dashes) may be made to the text received. Restore its wording, or "
                    "withdraw the article."
                )
        return problems

    # -- corrections and updates ------------------------------------------------------------

    def log_change(self, note: str, *, kind: str | None = None, by=None) -> "Correction":
        """Record a one-line note for readers about a change to this (live) article."""
        return Correction.objects.create(
            article=self, note=note, kind=kind or CorrectionKind.UPDATE, created_by=by
        )

    def send_to_review(self):
        if self.status not in (ArticleStatus.DRAFT, ArticleStatus.WITHDRAWN):
            return False
        self.status = ArticleStatus.REVIEW
        self.save()
        return True

    def send_back(self) -> bool:
        """From review back to draft, for more work before it is reviewed again."""
        if self.status != ArticleStatus.REVIEW:
            return False
        self.status = ArticleStatus.DRAFT
        self.save()
        return True

    def publish(self, at: datetime.datetime | None = None):
        """Publish now, or schedule for `at`; refuse with the reason when rights do not allow it."""
        problem = self.publishing_problem()
        if problem:
            raise PublishingBlocked(problem)
        self.status = ArticleStatus.PUBLISHED
        if at is not None:
            self.published_at = at
        elif self.published_at is None or self.published_at > timezone.now():
            self.published_at = timezone.now()
        self.withdrawn_at = None
        self.withdrawal_reason = ""
        self.save()

    def withdraw(self, reason: str = ""):
        self.status = ArticleStatus.WITHDRAWN
        self.withdrawn_at = timezone.now()
        self.withdrawal_reason = reason[:300]
        self.save()

    # -- attribution, derived from the source's rights record -------------------------------

    @property
    def ordered_authors(self) -> list[Author]:
        return [byline.author for byline in self.bylines.all()]

    @property
    def copyright_year(self) -> int:
        moment = self.original_published_at or self.published_at or self.created_at
        return (moment or timezone.now()).year

    @property
    def copyright_holder(self) -> str:
        try:
            return self.source.rights.copyright_holder or self.source.name
        except RightsRecord.DoesNotExist:
            return self.source.name

    @property
    def attribution_wording(self) -> str:
        try:
            return self.source.rights.attribution_wording
        except RightsRecord.DoesNotExist:
            return ""

    @property
    def licence_url(self) -> str:
        try:
            return self.source.rights.licence_url
        except RightsRecord.DoesNotExist:
            return ""

    # -- what readers may read: the whole body, or an excerpt -----------------------------

    @property
    def is_excerpt_only(self) -> bool:
        """The source's permission or licence allows only an excerpt of its articles."""
        rights = self.source.rights_record()
        return rights is not None and rights.is_excerpt_only

    @property
    def public_body(self) -> str:
        """The HTML readers get (on the page, in feeds and the API): the whole body, or its
        first paragraph when only an excerpt may be shown."""
        if self.is_excerpt_only:
            return first_paragraph(self.body)
        return self.body

    def canonical_url(self, request=None) -> str:
        if self.source.canonical_policy == CanonicalPolicy.ORIGINAL and self.original_url:
            return self.original_url
        path = self.get_absolute_url()
        return request.build_absolute_uri(path) if request else settings.SITE_URL + path

    @property
    def robots(self) -> str:
        return "noindex, follow" if self.source.noindex else "index, follow"

    # -- lead media -------------------------------------------------------------------------

    @property
    def video_kind(self) -> str:
        """'file' for a direct video, 'youtube' or 'vimeo' for a privacy-friendly embed."""
        from articles.site.media import video_kind

        return video_kind(self.video_url)

    def filed(self, relation: str) -> list[filing.Filed]:
        """What the article is filed under in `relation` ("authors", "regions", "themes",
        "reports" or "tags"), as its pages print it: read from its row, no query."""
        return filing.subjects(self.filed_under, relation)

    def rarely_filled(self, relation: str):
        """The rows of a relation as its loading plan read them; none, and no query, when the
        plan found it empty (`has_<relation>`, see `for_detail` and `load_detail_relations`)."""
        return getattr(self, relation).all() if getattr(self, f"has_{relation}", True) else ()

    def site_blocks(self) -> dict[str, str]:
        """Site-wide blocks with this article's overrides applied; a hidden block is ''."""
        blocks = dict(SiteBlock.objects.as_dict())
        for override in self.rarely_filled("block_overrides"):
            blocks[override.key] = "" if override.hide else override.content
        return blocks


class CorrectionKind(models.TextChoices):
    CORRECTION = "correction", "Correction"
    UPDATE = "update", "Update"


class Correction(models.Model):
    """A note for readers about a change to a live article, printed under "Corrections and
    updates" on its page with its date, and in its JSON-LD."""

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="corrections")
    kind = models.CharField(
        max_length=20,
        choices=CorrectionKind.choices,
        default=CorrectionKind.UPDATE,
        help_text="A correction fixes a mistake; an update adds or changes information.",
    )
    note = models.CharField(max_length=300, help_text="One line for readers: what changed.")
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        ordering = ["created_at", "pk"]
        constraints = [
            models.CheckConstraint(condition=~Q(note=""), name="correction_has_note"),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} to {self.article}: {self.note}"

    def save(self, *args, **kwargs):
        self.note = one_line(self.note)[:300]
        if not self.note:
            raise ValidationError({"note": "Say in one line what changed."})
        with transaction.atomic(savepoint=False):
            super().save(*args, **kwargs)
            # A note is a change readers see: the article's last-modified time (its page's
            # dateModified, its feeds' updated and date_modified, the sitemaps) moves with it.
            Article._default_manager.filter(
                pk=self.article_id, updated_at__lt=self.created_at
            ).update(updated_at=self.created_at)

    def clean(self):
        if not one_line(self.note):
            raise ValidationError({"note": "Say in one line what changed."})


def one_line(text: str) -> str:
    return " ".join(strip_control_characters(text or "").split())


class Byline(models.Model):
    """An author's place in an article's byline."""

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="bylines")
    author = models.ForeignKey(Author, on_delete=models.PROTECT, related_name="bylines")
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["article", "author"], name="byline_unique_author"),
        ]

    def __str__(self):
        return f"{self.author} on {self.article}"


class ArticleBlockOverride(models.Model):
    """Replaces (or hides) one site-wide block on one article."""

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="block_overrides")
    key = models.CharField(max_length=40, choices=SiteBlockKey.choices)
    content = models.TextField(blank=True, help_text="HTML; sanitized on save.")
    hide = models.BooleanField(default=False, help_text="Hide this block on this article.")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["article", "key"], name="block_override_unique_key"),
        ]

    def __str__(self):
        return f"{self.get_key_display()} on {self.article}"

    def save(self, *args, **kwargs):
        self.content = clean_html(self.content)
        super().save(*args, **kwargs)


class Redirect(models.Model):
    """An old path that now lives elsewhere: a changed slug or a migrated WordPress permalink."""

    old_path = models.CharField(max_length=500, unique=True)
    article = models.ForeignKey(
        Article, null=True, blank=True, on_delete=models.CASCADE, related_name="redirects"
    )
    target_url = models.CharField(max_length=1000, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(article__isnull=False) | ~Q(target_url=""),
                name="redirect_has_target",
            ),
        ]

    def __str__(self):
        return f"{self.old_path} → {self.target()}"

    def target(self) -> str:
        return self.article.get_absolute_url() if self.article_id else self.target_url


# ---------------------------------------------------------------------------------------------
# Similarity: what finds the same story under another source (articles/similarity.py)


# The lookup keys asked for in one query: those of this many articles, about a thousand (see
# `SimilarityKeyQuerySet.sharing`).
LOOKUP_ARTICLES = 30
KEYS_PER_ARTICLE = similarity.BANDS + 1


class ContentSignatureQuerySet(models.QuerySet):
    def store(self, pairs) -> int:
        """Store the signatures of (article, signature or None) pairs of articles that have
        none yet: one INSERT of signatures and one of their lookup keys, whatever their
        number. Returns how many were stored."""
        stored = [(article, signature) for article, signature in pairs if signature is not None]
        if not stored:
            return 0
        connection = connections[self.db]
        if connection.vendor == "postgresql":
            self._copy_in(connection, stored)
        else:
            self.bulk_create(
                ContentSignature(
                    article=article,
                    minhash=signature.minhash_bytes(),
                    shingles=signature.shingle_bytes(),
                    text_hash=signature.text_hash,
                )
                for article, signature in stored
            )
        article_ids, keys = [], []
        for article, signature in stored:
            article_ids.extend([article.pk] * len(signature.lookup_keys))
            keys.extend(signature.lookup_keys)
        SimilarityKey.objects.using(self.db).add_keys(article_ids, keys)
        return len(stored)

    def _copy_in(self, connection, stored) -> None:
        """The signature rows with PostgreSQL's COPY (psycopg's `Cursor.copy`): a model
        instance, a compiled placeholder group and an adapted parameter per row cost the
        import more than the rows do."""
        quote = connection.ops.quote_name
        columns = ", ".join(
            quote(ContentSignature._meta.get_field(name).column)
            for name in ("article", "minhash", "shingles", "text_hash", "computed_at")
        )
        now = timezone.now()
        with connection.cursor() as cursor:
            statement = f"COPY {quote(ContentSignature._meta.db_table)} ({columns}) FROM STDIN"
            with cursor.copy(statement) as copy:
                for article, signature in stored:
                    copy.write_row(
                        (
                            article.pk,
                            signature.minhash_bytes(),
                            signature.shingle_bytes(),
                            signature.text_hash,
                            now,
                        )
                    )

    def forget(self, article_ids) -> None:
        SimilarityKey.objects.filter(article_id__in=article_ids).delete()
        self.filter(article_id__in=article_ids).delete()

    def refresh(self, article: "Article") -> None:
        """Recompute an article's signature from its current title and body."""
        self.forget([article.pk])
        self.store([(article, similarity.signature(article.title, article.body))])

    def refresh_many(self, articles) -> int:
        """Recompute the signatures of many articles at once (backfills); returns how many
        were stored (an article with no words has none)."""
        articles = list(articles)
        self.forget([article.pk for article in articles])
        return self.store(
            (article, similarity.signature(article.title, article.body)) for article in articles
        )

    def candidates(
        self, signature: similarity.Signature, *, exclude=None
    ) -> list[similarity.Match]:
        """Articles whose text is like `signature`'s, best first (see `candidates_of`)."""
        key = exclude.pk if exclude is not None else 0
        return self.candidates_of({key: signature})[key]

    def candidates_of(
        self, signatures: dict[int, similarity.Signature]
    ) -> dict[int, list[similarity.Match]]:
        """For each article id of `signatures`, the other articles whose text is like its
        signature's, best first. Indexed queries only: the articles sharing a lookup key (an
        LSH band, or the exact text's key) with it, then the shingles of those candidates, on
        which each is scored. An import asks after its commit, its keys stored already: an
        article is never its own candidate, and two articles it stored together are each
        other's."""
        article_ids, keys = [], []
        for article_id, signature in signatures.items():
            article_ids.extend([article_id] * len(signature.lookup_keys))
            keys.extend(signature.lookup_keys)
        found: dict[int, set[int]] = {article_id: set() for article_id in signatures}
        for article_id, other in SimilarityKey.objects.using(self.db).sharing(article_ids, keys):
            found[article_id].add(other)
        for article_id, others in found.items():
            if len(others) > similarity.MAX_CANDIDATES:
                found[article_id] = set(sorted(others)[-similarity.MAX_CANDIDATES :])
        wanted = set().union(*found.values())
        rows = self.filter(article_id__in=wanted).values_list("article_id", "shingles", "text_hash")
        stored = {row[0]: row[1:] for row in rows} if wanted else {}
        return {
            article_id: similarity.best_matches(
                signature,
                [(other, *stored[other]) for other in found[article_id] if other in stored],
            )
            for article_id, signature in signatures.items()
        }


class ContentSignature(models.Model):
    """An article's similarity signature (articles/similarity.py): its MinHash (what its band
    keys were made from), its shingles (what candidates are scored on) and the hash of its
    exact text. Derived from the title and body, so not an editorial fact."""

    article = models.OneToOneField(
        Article, on_delete=models.CASCADE, primary_key=True, related_name="signature"
    )
    minhash = models.BinaryField()
    shingles = models.BinaryField()
    text_hash = models.CharField(max_length=64)
    computed_at = models.DateTimeField(auto_now=True)

    objects = ContentSignatureQuerySet.as_manager()

    def __str__(self):
        return f"signature of {self.article_id}"


def array_literal(numbers) -> str:
    """A PostgreSQL array literal of integers: '{1,2,3}'."""
    return "{" + ",".join(map(str, map(int, numbers))) + "}"


class SimilarityKeyQuerySet(models.QuerySet):
    def add_keys(self, article_ids: list[int], keys: list[int]) -> None:
        """Insert the rows (article_ids[i], keys[i]) with one statement, without a model
        instance per row: an article has `similarity.BANDS` + 1 keys, and building, then
        reading back, that many instances cost more than all the rest of storing its
        signature."""
        if not keys:
            return
        connection = connections[self.db]
        quote = connection.ops.quote_name
        table, key, article = (
            quote(name) for name in (SimilarityKey._meta.db_table, *_column_names("key", "article"))
        )
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                # Two array literals, written by str.join: the driver's own list adaptation
                # costs more than the insert.
                cursor.execute(
                    f"INSERT INTO {table} ({article}, {key}) "  # noqa: S608 - our names
                    "SELECT * FROM unnest(%s::bigint[], %s::bigint[])",
                    [array_literal(article_ids), array_literal(keys)],
                )
            else:
                cursor.executemany(
                    f"INSERT INTO {table} ({article}, {key}) VALUES (%s, %s)",  # noqa: S608
                    list(zip(article_ids, keys, strict=True)),
                )

    def sharing(self, article_ids: list[int], keys: list[int]):
        """The distinct (article id, other article id) pairs where the other article has the
        key keys[i] of article article_ids[i]; never an article with itself.

        Indexed: one probe of the primary key (key, article) per key, asked for about a
        thousand keys at a time (`LOOKUP_ARTICLES` articles' keys, in the order given). Given
        the thousands of keys of an import's chunk in one `IN` list, PostgreSQL estimated the
        probes dearer than reading the whole key table, and did (a quarter of a second at 3.3
        million keys); on PostgreSQL they are sent as two arrays and joined, so only the
        articles found come back, not each key's own row."""
        connection = connections[self.db]
        size = LOOKUP_ARTICLES * KEYS_PER_ARTICLE
        for start in range(0, len(keys), size):
            batch_ids, batch_keys = article_ids[start : start + size], keys[start : start + size]
            if connection.vendor == "postgresql":
                quote = connection.ops.quote_name
                table = quote(SimilarityKey._meta.db_table)
                key, article = (quote(name) for name in _column_names("key", "article"))
                with connection.cursor() as cursor:
                    cursor.execute(
                        f"SELECT DISTINCT mine.holder, other.{article} "  # noqa: S608
                        "FROM unnest(%s::bigint[], %s::bigint[]) AS mine (holder, wanted) "
                        f"JOIN {table} other ON other.{key} = mine.wanted "
                        f"AND other.{article} <> mine.holder",
                        [array_literal(batch_ids), array_literal(batch_keys)],
                    )
                    rows = cursor.fetchall()
                yield from rows
                continue
            holders: dict[int, list[int]] = {}
            for article_id, key in zip(batch_ids, batch_keys, strict=True):
                holders.setdefault(key, []).append(article_id)
            pairs = set()
            for key, other in self.filter(key__in=holders).values_list("key", "article_id"):
                pairs.update((mine, other) for mine in holders[key] if mine != other)
            yield from pairs


def _column_names(*fields: str) -> list[str]:
    return [SimilarityKey._meta.get_field(name).column for name in fields]


class SimilarityKey(models.Model):
    """One lookup key of an article's signature (an LSH band, or its exact text); articles
    sharing a key are candidates.

    The primary key (key, article) is the lookup index: no serial id, so one index fewer to
    write per key and no sequence to draw from. The article's index serves deleting an
    article's keys. The database keeps no foreign key constraint: checking one costs every key
    row a probe and a row lock of its article at each import, and the keys are derived data
    that Django deletes with their article (a key left over by a deletion outside Django names
    an article with no signature, which the lookup never scores)."""

    pk = models.CompositePrimaryKey("key", "article")
    key = models.BigIntegerField()
    article = models.ForeignKey(
        Article, on_delete=models.CASCADE, related_name="similarity_keys", db_constraint=False
    )

    objects = SimilarityKeyQuerySet.as_manager()

    def __str__(self):
        return f"{self.key} of {self.article_id}"


class AlsoReportedBy(models.Model):
    """Another outlet that ran the same story: credited in the article's attribution block
    when an editor kept one of two duplicates and credited both sources."""

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="also_reported_by")
    source = models.ForeignKey(Source, on_delete=models.CASCADE, related_name="+")
    original_url = models.URLField("original URL", max_length=1000, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "also reported by"
        verbose_name_plural = "also reported by"
        ordering = ["created_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["article", "source"], name="also_reported_by_once_per_source"
            ),
        ]

    def __str__(self):
        return f"{self.article} also reported by {self.source}"

    @property
    def link(self) -> str:
        return self.original_url or self.source.homepage or self.source.get_absolute_url()
