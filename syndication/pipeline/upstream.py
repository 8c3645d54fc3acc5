"""Upstream changes: what an editor sees of a changed original, and accepting or dismissing it."""

from django.db import (
    transaction,
)

from articles.editorial.diff import line_diff
from articles.models import Article, ContentSignature, CorrectionKind, one_line
from articles.sanitize import clean_html, is_http_url, plain_text
from syndication.models import (
    ImportedItem,
)
from syndication.pipeline.body_images import localise_body_images
from syndication.pipeline.payload import item_from_payload


def _comparable_lines(title: str, summary: str, body_html: str) -> list[str]:
    body = clean_html(body_html)
    for closing in ("</p>", "</h2>", "</h3>", "</h4>", "</li>", "</blockquote>", "<br>"):
        body = body.replace(closing, closing + "\n")
    paragraphs = [plain_text(line) for line in body.split("\n")]
    return [f"Title: {title}", f"Summary: {summary}", "", *[p for p in paragraphs if p]]


def upstream_diff(record: ImportedItem) -> list[tuple[str, str]]:
    """The change waiting on `record` as (kind, text) lines: same, removed, added or gap.

    Text is plain (no markup), so templates can print it with ordinary escaping.
    """
    if not record.upstream_changed or record.article is None:
        return []
    article = record.article
    new = item_from_payload(record.upstream_payload)
    before = _comparable_lines(article.title, article.dek, article.body)
    after = _comparable_lines(
        plain_text(new.title) or article.title,
        new.summary,
        new.content_html,
    )
    return line_diff(before, after, context=2)


class CorrectionNoteRequired(ValueError):
    """A live article changes only with a note for its readers; the message says so."""


NOTE_REQUIRED = (
    "“{title}” is live: accepting the upstream change needs a one-line note for its "
    "corrections and updates log."
)


def accept_upstream_changes(
    record: ImportedItem,
    *,
    note: str = "",
    kind: str = CorrectionKind.UPDATE,
    by=None,
    download_images: bool = True,
) -> bool:
    """Apply the waiting upstream version to the article (title, summary, body, dates).

    Status, taxonomy, byline and the lead image stay as the editors left them. The new body is
    the original received from now on (see docs/licence-terms.md). On a live article `note`
    is required (`CorrectionNoteRequired` otherwise) and goes to its corrections and updates
    log, as `kind`, written `by` a user. The new body's pictures are fetched before any row is
    locked, as on import (`download_images=False` links them instead). Returns False when
    there was nothing to accept.
    """
    prepared_hash, prepared_body = "", ("", [])
    note = one_line(note)
    pending = (
        ImportedItem.objects.filter(pk=record.pk, upstream_changed=True)
        .select_related("article")
        .first()
    )
    if pending is not None and pending.article is not None:
        if pending.article.is_live and not note:
            raise CorrectionNoteRequired(NOTE_REQUIRED.format(title=pending.article.title))
        prepared_hash = pending.upstream_hash
        prepared_body = _upstream_body(pending, pending.article, download=download_images)
    with transaction.atomic():
        record = ImportedItem.objects.select_for_update().get(pk=record.pk)
        if not record.upstream_changed or record.article_id is None:
            return False
        article = Article.objects.select_for_update().get(pk=record.article_id)
        new = item_from_payload(record.upstream_payload)
        link = new.link if is_http_url(new.link) else article.original_url
        article.title = (plain_text(new.title) or article.title)[:300]
        article.original_title = new.title[:300] or article.original_title
        article.dek = new.summary
        if record.upstream_hash == prepared_hash:
            article.body, body_warnings = prepared_body
        else:  # a newer version arrived meanwhile: no download while rows are locked
            article.body, body_warnings = _upstream_body(record, article, download=False)
        article.original_url = link[:1000]
        if new.published is not None:
            article.original_published_at = new.published
        if article.is_live and not note:
            raise CorrectionNoteRequired(NOTE_REQUIRED.format(title=article.title))
        article.mark_body_as_received()
        article.save()
        ContentSignature.objects.refresh(article)
        if article.is_live:
            article.log_change(note, kind=kind, by=by)
        record.raw_payload = record.upstream_payload
        record.content_hash = record.upstream_hash
        record.upstream_changed = False
        record.upstream_payload = {}
        record.upstream_hash = ""
        record.date_problem = new.date_problem[:300]
        record.warnings = list(dict.fromkeys([*record.warnings, *body_warnings]))
        record.save()
    return True


def _upstream_body(
    record: ImportedItem, article: Article, *, download: bool
) -> tuple[str, list[str]]:
    """The sanitized body of `record`'s waiting version, pictures localised, and warnings."""
    new = item_from_payload(record.upstream_payload)
    link = new.link if is_http_url(new.link) else article.original_url
    body = clean_html(new.content_html, base_url=new.base_url or link or None)
    return localise_body_images(body, download=download, source=article.source)


def dismiss_upstream_changes(record: ImportedItem) -> None:
    """Keep the article as it is, and stop flagging this upstream version."""
    ImportedItem.objects.filter(pk=record.pk).update(
        content_hash=record.upstream_hash or record.content_hash,
        upstream_changed=False,
        upstream_payload={},
        upstream_hash="",
    )
