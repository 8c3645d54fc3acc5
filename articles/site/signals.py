"""Which cached pages a change makes stale, decided from what readers could see.

Only what was or is visible to readers moves a generation (articles/site/generation.py): an
article is visible while it is published with a publication time that has come. So saving,
importing or classifying drafts, articles in review and scheduled articles (with their bylines,
taxonomy, tags and block overrides) moves nothing readers are served; nor does anything of
the syndication app (feeds, runs, imported items).

A change of an article that was visible before it or is visible after it (publish, withdraw,
edit, a byline, region, theme, report, tag, block override or “also reported by” credit
added or taken away) makes stale: the article's page (at its old and new address), `LISTS`
(home, search, the site-wide feeds, the sitemaps), the listings and subject feeds of every
subject it was or is filed under (a region's listing includes its sub-regions', so its parent
regions too) and its year and month archives. An edit of a library image does the same for
every visible article it leads. Site-wide blocks, rights records, any edit of a source,
region, theme, report, author or tag (a new source, author or tag, as imports create,
excepted) move `SITE`: every page.

What a transaction changes is collected while it runs and the generations are moved once, when
it commits (`transaction.on_commit`), in one cache round trip; a rolled-back transaction moves
nothing. The queries that find an article's subjects run then, and only for visible articles.
"""

import threading
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models.signals import m2m_changed, post_delete, post_save, pre_delete, pre_save
from django.dispatch import receiver
from django.utils import timezone
from taggit.models import Tag, TaggedItem

from articles import models
from articles.site.generation import (
    LISTS,
    REDIRECTS,
    SCHEDULE,
    SITE,
    archive_scopes,
    article_scope,
    move_generations,
    subject_scope,
)

# The m2m relations of an article: the kind of subject of each through model, and the name
# of the relation from the article.
_FILINGS = {
    models.Article.regions.through: "region",
    models.Article.themes.through: "theme",
    models.Article.reports.through: "report",
    TaggedItem: "tag",
}
_RELATION_OF_KIND = {"region": "regions", "theme": "themes", "report": "reports", "tag": "tags"}
# How to read an article's current subjects of each kind, from the article.
_CURRENT_SUBJECTS = {
    "theme": "themes__slug",
    "report": "reports__slug",
    "author": "bylines__author__slug",
    "tag": "tags__slug",
}
_SUBJECT_MODELS = {
    "region": models.Region,
    "theme": models.Theme,
    "report": models.InDepthReport,
    "author": models.Author,
    "tag": Tag,
}
_BROAD_MODELS = (
    models.SiteBlock,
    models.RightsRecord,
    models.Region,
    models.Theme,
    models.InDepthReport,
)
# Imports create these for drafts (a new outlet's source, its authors, new tags): no page shows
# one until an article filed under it goes live, which moves that article's scopes. Only an
# edit or a deletion changes a page.
_BROAD_WHEN_EDITED = (models.Source, models.Author, Tag)


def is_visible(status, published_at, now=None) -> bool:
    return (
        status == models.ArticleStatus.PUBLISHED
        and published_at is not None
        and published_at <= (now or timezone.now())
    )


def is_scheduled(status, published_at, now=None) -> bool:
    return (
        status == models.ArticleStatus.PUBLISHED
        and published_at is not None
        and published_at > (now or timezone.now())
    )


@dataclass
class Trace:
    """What a visible article was before the transaction changed it."""

    slugs: set = field(default_factory=set)
    source_ids: set = field(default_factory=set)
    moments: set = field(default_factory=set)
    subject_ids: dict = field(default_factory=dict)  # kind -> ids it was filed under

    def add_subjects(self, kind: str, ids) -> None:
        self.subject_ids.setdefault(kind, set()).update(ids)


@dataclass
class Pending:
    scopes: set = field(default_factory=set)
    articles: dict = field(default_factory=dict)  # pk -> Trace


class _PerThread(threading.local):
    def __init__(self):
        self.pending = {}  # database alias -> Pending


_local = _PerThread()


def pending_changes(using: str) -> Pending:
    """What the transaction running on `using` changed so far; flushed when it commits.

    Every change registers its own on-commit hook, so a change made inside a savepoint that
    is rolled back cannot take the hook of the others with it; the first hook to run moves
    the generations for all of them and the others find nothing left to do. What a rolled-back
    transaction left behind is dropped when the next change comes outside any transaction,
    or else flushed with the next commit: at worst pages are refreshed for nothing.
    """
    pending = _local.pending.get(using)
    if pending is not None and transaction.get_autocommit(using):
        pending = None
    if pending is None:
        pending = _local.pending[using] = Pending()
    # Robust: the change is committed whatever happens to the cache; a failure is logged.
    transaction.on_commit(lambda: flush(using), using=using, robust=True)
    return pending


def flush(using: str) -> None:
    """Move, in one call, the generations of everything changed on `using` since last time."""
    pending = _local.pending.pop(using, None)
    if pending is None:
        return
    scopes = set(pending.scopes)
    if pending.articles and SITE not in scopes:  # SITE is in every page's key
        scopes |= scopes_of_articles(pending.articles, using)
    move_generations(scopes)


def is_traced(article_id, using: str) -> bool:
    pending = _local.pending.get(using)
    return pending is not None and article_id in pending.articles


def trace(article_id, using: str) -> Trace:
    return pending_changes(using).articles.setdefault(article_id, Trace())


# ---------------------------------------------------------------------------------------------
# Which scopes show visible articles


def scopes_of_articles(traces: dict, using: str) -> set[str]:
    """The scopes of pages that show (or showed) these articles, now and as traced."""
    ids = list(traces)
    articles = models.Article._default_manager.using(using).filter(pk__in=ids)
    scopes = {LISTS}
    source_ids = set()
    for slug, moment, source_id in articles.values_list("slug", "published_at", "source_id"):
        scopes.add(article_scope(slug))
        if moment is not None:
            scopes.update(archive_scopes(moment))
        source_ids.add(source_id)
    subject_ids = {}
    for traced in traces.values():
        scopes.update(article_scope(slug) for slug in traced.slugs if slug)
        for moment in traced.moments:
            if moment is not None:
                scopes.update(archive_scopes(moment))
        source_ids |= traced.source_ids
        for kind, subject in traced.subject_ids.items():
            subject_ids.setdefault(kind, set()).update(subject)

    sources = models.Source._default_manager.using(using).filter(pk__in=source_ids)
    scopes.update(subject_scope("source", slug) for slug in sources.values_list("slug", flat=True))
    scopes.update(_region_scopes(articles, subject_ids.pop("region", set()), using))
    for kind, lookup in _CURRENT_SUBJECTS.items():
        slugs = set(articles.values_list(lookup, flat=True))
        if subject_ids.get(kind):
            model = _SUBJECT_MODELS[kind]._default_manager.using(using)
            slugs.update(model.filter(pk__in=subject_ids[kind]).values_list("slug", flat=True))
        scopes.update(subject_scope(kind, slug) for slug in slugs if slug)
    return scopes


def _region_scopes(articles, traced_ids: set, using: str) -> set[str]:
    """A region's listing includes its sub-regions' articles: the regions and their parents."""
    ids = {pk for pk in articles.values_list("regions__pk", flat=True) if pk is not None}
    ids |= traced_ids
    if not ids:
        return set()
    tree = {
        pk: (parent_id, slug)
        for pk, parent_id, slug in models.Region._default_manager.using(using).values_list(
            "pk", "parent_id", "slug"
        )
    }
    scopes, seen = set(), set()
    for pk in ids:
        while pk in tree and pk not in seen:
            seen.add(pk)
            parent_id, slug = tree[pk]
            scopes.add(subject_scope("region", slug))
            pk = parent_id
    return scopes


# ---------------------------------------------------------------------------------------------
# Articles


_BEFORE = "reader_state_before_save"


def _state(article) -> tuple:
    return (article.status, article.published_at, article.slug, article.source_id)


@receiver(pre_save, sender=models.Article)
def remember_article_before_save(sender, instance, using, **kwargs):
    before = None
    if instance.pk is not None:
        before = (
            sender._default_manager.using(using)
            .filter(pk=instance.pk)
            .values_list("status", "published_at", "slug", "source_id")
            .first()
        )
    setattr(instance, _BEFORE, before)


@receiver(post_save, sender=models.Article)
def article_saved(sender, instance, using, **kwargs):
    before = vars(instance).pop(_BEFORE, None)
    after = _state(instance)
    now = timezone.now()
    if (before and is_scheduled(*before[:2], now)) or is_scheduled(*after[:2], now):
        pending_changes(using).scopes.add(SCHEDULE)
    if (before and is_visible(*before[:2], now)) or is_visible(*after[:2], now):
        traced = trace(instance.pk, using)
        if before:
            traced.slugs.add(before[2])
            traced.moments.add(before[1])
            traced.source_ids.add(before[3])


@receiver(pre_delete, sender=models.Article)
def article_deleted(sender, instance, using, **kwargs):
    if is_scheduled(instance.status, instance.published_at):
        pending_changes(using).scopes.add(SCHEDULE)
    if not is_visible(instance.status, instance.published_at):
        return
    # The row and its filings are about to go: note now everything that listed it.
    traced = trace(instance.pk, using)
    traced.slugs.add(instance.slug)
    traced.moments.add(instance.published_at)
    traced.source_ids.add(instance.source_id)
    for kind in _RELATION_OF_KIND:
        traced.add_subjects(kind, _filed_ids(kind, [instance.pk], using))
    traced.add_subjects(
        "author",
        models.Byline._default_manager.using(using)
        .filter(article_id=instance.pk)
        .values_list("author_id", flat=True),
    )


def _is_or_was_visible(article, using: str) -> bool:
    return is_traced(article.pk, using) or is_visible(article.status, article.published_at)


def _filed_ids(kind: str, article_ids, using: str) -> list:
    relation = _RELATION_OF_KIND[kind]
    filed = (
        models.Article._default_manager.using(using)
        .filter(pk__in=article_ids)
        .values_list(f"{relation}__pk", flat=True)
    )
    return [pk for pk in filed if pk is not None]


def filing_changed(sender, instance, action, reverse, pk_set, using, **kwargs):
    kind = _FILINGS[sender]
    if not reverse:
        if not _is_or_was_visible(instance, using):
            return
        if action == "pre_clear":
            pk_set = _filed_ids(kind, [instance.pk], using)
        trace(instance.pk, using).add_subjects(kind, pk_set or ())
        return
    # From the subject's side: `pk_set` holds articles (or nothing, on a clear).
    if not action.startswith("pre_"):
        return
    if action == "pre_clear":
        pk_set = instance.articles.values_list("pk", flat=True)
    visible = (
        models.Article._default_manager.using(using)
        .published()
        .filter(pk__in=list(pk_set or ()))
        .values_list("pk", flat=True)
    )
    for article_id in visible:
        trace(article_id, using).add_subjects(kind, [instance.pk])


# ---------------------------------------------------------------------------------------------
# What hangs off an article: bylines, block overrides; redirects


@receiver(pre_save, sender=models.Byline)
def byline_saving(sender, instance, using, **kwargs):
    article = instance.article
    if not _is_or_was_visible(article, using):
        return
    authors = {instance.author_id}
    if instance.pk is not None:
        authors.update(
            sender._default_manager.using(using)
            .filter(pk=instance.pk)
            .values_list("author_id", flat=True)
        )
    trace(article.pk, using).add_subjects("author", authors)


@receiver(pre_delete, sender=models.Byline)
def byline_deleted(sender, instance, using, **kwargs):
    article = instance.article
    if _is_or_was_visible(article, using):
        trace(article.pk, using).add_subjects("author", [instance.author_id])


@receiver(post_save, sender=models.ArticleBlockOverride)
@receiver(pre_delete, sender=models.ArticleBlockOverride)
def block_override_changed(sender, instance, using, **kwargs):
    article = instance.article
    if _is_or_was_visible(article, using):
        trace(article.pk, using)


@receiver(post_save, sender=models.Correction)
@receiver(pre_delete, sender=models.Correction)
def correction_changed(sender, instance, using, **kwargs):
    # A note in the corrections log is an edit of a live article: its page, its JSON-LD and
    # (through its last-modified time) its feed items change.
    article = instance.article
    if _is_or_was_visible(article, using):
        trace(article.pk, using)


@receiver(post_save, sender=models.AlsoReportedBy)
@receiver(pre_delete, sender=models.AlsoReportedBy)
def credit_changed(sender, instance, using, **kwargs):
    article = instance.article
    if _is_or_was_visible(article, using):
        trace(article.pk, using)


@receiver(post_save, sender=models.Redirect)
@receiver(pre_delete, sender=models.Redirect)
def redirect_changed(sender, instance, using, **kwargs):
    # Only whether some old address has a query string is cached (articles/site/redirects.py);
    # redirects and 404s themselves never are. One to an unpublished article does not count
    # until the article goes live, which moves LISTS.
    if "?" not in instance.old_path:
        return
    if instance.article_id is None or _is_or_was_visible(instance.article, using):
        pending_changes(using).scopes.add(REDIRECTS)


@receiver(post_save, sender=models.Image)
def image_edited(sender, instance, using, created=False, **kwargs):
    # A new picture leads no article yet; an edited one changes what its articles show.
    if created:
        return
    visible = (
        models.Article._default_manager.using(using)
        .published()
        .filter(lead_image=instance)
        .values_list("pk", flat=True)
    )
    for article_id in visible:
        trace(article_id, using)


# ---------------------------------------------------------------------------------------------
# Broad changes


def _broad_change(sender, using, **kwargs):
    pending_changes(using).scopes.add(SITE)


def _broad_when_edited(sender, using, created=False, **kwargs):
    if not created:
        pending_changes(using).scopes.add(SITE)


for _through in _FILINGS:
    m2m_changed.connect(filing_changed, sender=_through, dispatch_uid=f"filing-{_through.__name__}")
for _model in _BROAD_MODELS:
    post_save.connect(_broad_change, sender=_model, dispatch_uid=f"broad-save-{_model.__name__}")
    post_delete.connect(
        _broad_change, sender=_model, dispatch_uid=f"broad-delete-{_model.__name__}"
    )
for _model in _BROAD_WHEN_EDITED:
    post_save.connect(
        _broad_when_edited, sender=_model, dispatch_uid=f"broad-edit-{_model.__name__}"
    )
    post_delete.connect(
        _broad_change, sender=_model, dispatch_uid=f"broad-delete-{_model.__name__}"
    )
