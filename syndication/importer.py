"""The import pipeline: fetch → parse → de-duplicate → map → store, one item at a time.

Parsers hand over plain dataclasses; this module is the only place that turns them into
articles. Its promises:

* Idempotent. An item is identified by its dedupe key (guid, else normalised link, else a
  content hash) and also by its normalised link across the source. Importing the same document
  again creates nothing and writes nothing.
* Upstream edits never overwrite an article. A known item whose content hash changed is flagged
  (`ImportedItem.upstream_changed`) with the new version kept beside it, for an editor to
  review and accept.
* One bad item never sinks the batch. Every item is imported in its own transaction; a failure
  is recorded as an `ItemFailure` and the next item goes on.
* Concurrent runs never duplicate. The provenance row is inserted before the article, under the
  unique constraint (source, dedupe_key): the loser of a race rolls its item back and counts it
  as already imported. On PostgreSQL a per-feed advisory lock also makes a second run of the
  same feed stop at once as "already running".
* Faults are visible. Fetch errors fail the run and back the feed off; a database error mid-run
  marks the run failed in a fresh transaction; a feed that answers with no items is flagged.
"""

import dataclasses
import datetime
import difflib
import html
import json
import logging
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any
from urllib.parse import unquote

from django.contrib.auth.base_user import AbstractBaseUser
from django.db import (
    DatabaseError,
    IntegrityError,
    InterfaceError,
    OperationalError,
    close_old_connections,
    connection,
    transaction,
)
from django.utils import timezone
from django.utils.text import slugify

from articles.models import Article, ArticleStatus, Byline, Redirect, Source
from articles.sanitize import clean_html, is_http_url, plain_text
from syndication.body_images import localise_body_images
from syndication.fetching import FetchError, FetchResult, fetch
from syndication.images import ImageDownloadFailed, download_lead_image
from syndication.items import ItemError, ParsedAuthor, ParsedFeed, ParsedItem, ParsedMedia
from syndication.mapping import Classification, classify, match_authors
from syndication.models import (
    FailureKind,
    Feed,
    ImportedItem,
    ImportRun,
    ImportStatus,
    ItemFailure,
    MappingRule,
    RunKind,
    RunStatus,
    Trigger,
)
from syndication.parsers import (
    ParseError,
    WxrSite,
    content_hash,
    dedupe_key,
    iter_wxr,
    normalise_url,
    parse_feed,
    parse_page,
)
from syndication.parsers.common import NO_TITLE_NOR_LINK

logger = logging.getLogger(__name__)

FEED_ACCEPT = (
    "application/rss+xml, application/atom+xml, application/feed+json, application/json;q=0.9, "
    "application/xml;q=0.9, text/xml;q=0.8, */*;q=0.1"
)
PAGE_ACCEPT = "text/html, application/xhtml+xml;q=0.9, */*;q=0.1"
# Advisory locks are one namespace per database: this first key marks ours as feed imports.
FEED_LOCK_NAMESPACE = 0x5F1D
MAX_EXCERPT = 2000
# WordPress statuses that never go out as they are: kept as drafts for an editor.
WXR_DRAFT_STATUSES = {"draft", "pending", "private", "auto-draft", "inherit"}
WXR_SKIPPED_STATUSES = {"trash"}
# Long runs save their counts as they go, so the admin shows progress (and partial results).
PROGRESS_SAVE_EVERY = 100
ANOMALY_NO_ITEMS = "The fetch worked but the document has no items; nothing was changed."

TriggeredBy = AbstractBaseUser | str | None
ProgressCallback = Callable[[str], None]


class Outcome:
    """What happened to one item; also the name of the run counter it adds to.

    "updated" is a known item that gained something without its article being rewritten
    (today: old WordPress paths that had no redirect yet); upstream edits are "flagged".
    """

    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"
    FLAGGED = "flagged_changed"
    SKIPPED = "skipped"
    FAILED = "failed"


class AbortRun(Exception):
    """The database went away mid-run: stop, and mark the run failed."""


def storable(value: Any) -> Any:
    """`value` (an item, or any part of one) without what no database column accepts.

    PostgreSQL refuses NUL characters in text and JSON, and UTF-8 has no lone surrogates;
    both are dropped everywhere in the item before it is hashed, compared or stored (D9).
    """
    if isinstance(value, str):
        return value.replace("\x00", "").encode("utf-8", "replace").decode("utf-8")
    if isinstance(value, list):
        return [storable(part) for part in value]
    if isinstance(value, dict):
        return {storable(key): storable(part) for key, part in value.items()}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        changes = {f.name: storable(getattr(value, f.name)) for f in dataclasses.fields(value)}
        return dataclasses.replace(value, **changes)
    return value


def is_skip(error: ItemError) -> bool:
    """Parser errors that are not failures: an empty entry, or a repeat of an earlier one."""
    return error.skipped


# ---------------------------------------------------------------------------------------------
# Payloads: a parsed item as JSON, and back


def item_payload(item: ParsedItem) -> dict[str, Any]:
    """The parsed item as JSON, kept for audit and to rebuild the item when accepting a change."""
    payload = dataclasses.asdict(item)
    for name in ("published", "updated"):
        value = payload[name]
        payload[name] = value.isoformat() if value else None
    return payload


def item_from_payload(payload: dict[str, Any]) -> ParsedItem:
    known = {f.name for f in dataclasses.fields(ParsedItem)}
    values = {key: value for key, value in payload.items() if key in known}
    for name in ("published", "updated"):
        if values.get(name):
            values[name] = datetime.datetime.fromisoformat(values[name])
    values["authors"] = [ParsedAuthor(**a) for a in values.get("authors") or []]
    for name in ("lead_image", "video"):
        if values.get(name):
            values[name] = ParsedMedia(**values[name])
    return ParsedItem(**values)


def _excerpt(raw: Any) -> str:
    if isinstance(raw, str):
        return raw[:MAX_EXCERPT]
    return json.dumps(raw, ensure_ascii=False, default=str, indent=1)[:MAX_EXCERPT]


def _user_and_trigger(triggered_by: TriggeredBy) -> tuple[AbstractBaseUser | None, str]:
    if triggered_by is None:
        return None, Trigger.COMMAND
    if isinstance(triggered_by, str):
        return None, Trigger(triggered_by)
    return triggered_by, Trigger.ADMIN


def start_run(
    kind: str,
    source: Source,
    *,
    feed: Feed | None = None,
    fetched_from: str = "",
    status: str = ImportStatus.DRAFT,
    dry_run: bool = False,
    triggered_by: TriggeredBy = None,
) -> ImportRun:
    user, trigger = _user_and_trigger(triggered_by)
    return ImportRun.objects.create(
        kind=kind,
        source=source,
        feed=feed,
        fetched_from=fetched_from[:1000],
        requested_status=status,
        dry_run=dry_run,
        trigger=trigger,
        triggered_by=user,
    )


# ---------------------------------------------------------------------------------------------
# One document, item by item


@dataclass
class ImportOptions:
    status: str = ImportStatus.DRAFT
    mapping_rules: Sequence[MappingRule] = ()
    unmapped_categories_as_tags: bool = True
    download_images: bool = True
    # WordPress exports are this site's own past: their dates are the site publication dates.
    keep_publication_dates: bool = False


class ItemImporter:
    """Imports the items of one run, each in its own transaction, and keeps the run's counts."""

    def __init__(
        self,
        source: Source,
        run: ImportRun,
        options: ImportOptions,
        *,
        feed: Feed | None = None,
        fetched_from: str = "",
        on_item: ProgressCallback | None = None,
    ):
        self.source = source
        self.run = run
        self.options = options
        self.feed = feed
        self.fetched_from = fetched_from or run.fetched_from
        self.on_item = on_item
        self.seen_keys: set[str] = set()
        self.status, downgrade_note = self._effective_status(options.status)
        if downgrade_note:
            run.add_note(downgrade_note)

    def _effective_status(self, requested: str) -> tuple[str, str]:
        if requested != ImportStatus.PUBLISHED:
            return requested, ""
        problem = self.source.rights_problem()
        if not problem:
            return requested, ""
        return (
            ArticleStatus.REVIEW,
            f"Published was requested but {problem} New articles were put in review instead.",
        )

    # -- the loop --------------------------------------------------------------------------

    def import_entries(self, numbered: Iterable[tuple[int, ParsedItem | ItemError]]) -> ImportRun:
        """Import every (position, entry); a database outage stops the loop as AbortRun."""
        for position, entry in numbered:
            if isinstance(entry, ItemError):
                outcome = self._record_error(entry)
            else:
                outcome = self._import_guarded(position, entry)
            self._count(outcome)
        return self.run

    def _count(self, outcome: str) -> None:
        setattr(self.run, outcome, getattr(self.run, outcome) + 1)
        if sum(self.run.counts().values()) % PROGRESS_SAVE_EVERY == 0:
            self.run.save(update_fields=ImportRun.COUNT_FIELDS)
        if self.on_item is not None:
            self.on_item(outcome)

    def _import_guarded(self, position: int, item: ParsedItem) -> str:
        try:
            return self.import_item(position, item)
        except (OperationalError, InterfaceError) as error:
            raise AbortRun(f"database error at item {position}: {error}") from error
        except Exception as error:
            logger.exception("item %s of run %s failed", position, self.run.pk)
            self._record_failure(position, item.guid, f"{type(error).__name__}: {error}", item.raw)
            return Outcome.FAILED

    def _record_error(self, error: ItemError) -> str:
        kind = FailureKind.SKIPPED if is_skip(error) else FailureKind.FAILED
        self._record_failure(error.position, error.guid, error.message, error.raw, kind=kind)
        return Outcome.SKIPPED if kind == FailureKind.SKIPPED else Outcome.FAILED

    def _record_failure(
        self, position: int, guid: str, message: str, raw: Any, *, kind=FailureKind.FAILED
    ) -> None:
        ItemFailure.objects.create(
            run=self.run,
            kind=kind,
            position=max(position, 0),
            guid=storable(guid or "")[:1000],
            message=storable(message)[:2000],
            raw_excerpt=storable(_excerpt(raw)),
        )

    def _skip(self, position: int, item: ParsedItem, reason: str) -> str:
        self._record_failure(position, item.guid, reason, item.raw, kind=FailureKind.SKIPPED)
        return Outcome.SKIPPED

    # -- one item --------------------------------------------------------------------------

    def import_item(self, position: int, item: ParsedItem) -> str:
        """Import one item and return its outcome (see `Outcome`)."""
        item = storable(item)
        if not (item.title.strip() or item.link.strip()):
            return self._skip(position, item, NO_TITLE_NOR_LINK)
        wordpress_status = str(item.extra.get("status") or "").lower()
        if wordpress_status in WXR_SKIPPED_STATUSES:
            return self._skip(
                position, item, f"WordPress status “{wordpress_status}”: not imported"
            )
        key = dedupe_key(item)
        if key in self.seen_keys:
            return self._skip(position, item, "repeats an earlier item of the same document")
        self.seen_keys.add(key)
        normalised = normalise_url(item.link) if is_http_url(item.link) else ""
        digest = content_hash(item)

        existing = self._find_existing(key, normalised)
        if existing is not None:
            return self._revisit(existing, item, digest)
        if self.run.dry_run:
            return Outcome.CREATED

        # The picture is fetched before the transaction opens, so no row waits on the network;
        # its file is named after its content, so a lost race leaves nothing to clean up.
        image_name, image_warning = self._lead_image(item)
        body, body_warnings = self._body(item)
        try:
            with transaction.atomic():
                record = ImportedItem.objects.create(
                    source=self.source,
                    feed=self.feed,
                    run=self.run,
                    guid=item.guid[:1000],
                    dedupe_key=key,
                    normalised_url=normalised[:1000],
                    content_hash=digest,
                    original_url=item.link[:1000] if is_http_url(item.link) else "",
                    fetched_from=self.fetched_from[:1000],
                    raw_payload=item_payload(item),
                    date_problem=item.date_problem[:300],
                    warnings=[*([image_warning] if image_warning else []), *body_warnings],
                )
                record.article = self._create_article(item, image_name, body)
                record.save(update_fields=["article"])
                self._leave_redirects(record.article, item)
        except IntegrityError:
            # Another run stored this item between our lookup and our insert.
            if ImportedItem.objects.filter(source=self.source, dedupe_key=key).exists():
                return Outcome.UNCHANGED
            raise
        return Outcome.CREATED

    def _find_existing(self, key: str, normalised: str) -> ImportedItem | None:
        records = ImportedItem.objects.filter(source=self.source, dedupe_key=key)
        found = records.select_related("article").first()
        if found is None and normalised:
            found = (
                ImportedItem.objects.filter(source=self.source, normalised_url=normalised)
                .select_related("article")
                .order_by("pk")
                .first()
            )
        return found

    def _revisit(self, record: ImportedItem, item: ParsedItem, digest: str) -> str:
        """A known item: unchanged, or flagged for review when its content changed upstream."""
        if record.content_hash == digest or (
            record.upstream_changed and record.upstream_hash == digest
        ):
            if self.run.dry_run or record.article is None:
                return Outcome.UNCHANGED
            added = self._leave_redirects(record.article, item)
            return Outcome.UPDATED if added else Outcome.UNCHANGED
        if self.run.dry_run:
            return Outcome.FLAGGED
        with transaction.atomic():
            locked = ImportedItem.objects.select_for_update().get(pk=record.pk)
            locked.upstream_changed = True
            locked.upstream_payload = item_payload(item)
            locked.upstream_hash = digest
            locked.upstream_seen_at = timezone.now()
            locked.run = self.run
            locked.save(
                update_fields=[
                    "upstream_changed", "upstream_payload", "upstream_hash", "upstream_seen_at",
                    "run",
                ]
            )  # fmt: skip
        return Outcome.FLAGGED

    def _lead_image(self, item: ParsedItem) -> tuple[str, str]:
        if not (self.options.download_images and item.lead_image and item.lead_image.url):
            return "", ""
        try:
            return download_lead_image(item.lead_image.url), ""
        except ImageDownloadFailed as error:
            return "", str(error)

    def _article_status(self, item: ParsedItem) -> str:
        if str(item.extra.get("status") or "").lower() in WXR_DRAFT_STATUSES:
            return ArticleStatus.DRAFT
        if item.extra.get("password_protected"):
            return ArticleStatus.DRAFT
        return self.status

    def _body(self, item: ParsedItem) -> tuple[str, list[str]]:
        """The sanitized body, its pictures stored here or turned into links, and warnings."""
        link = item.link if is_http_url(item.link) else ""
        body = clean_html(item.content_html, base_url=item.base_url or link or None)
        if not body and item.summary:
            body = clean_html(f"<p>{html.escape(item.summary)}</p>")
        return localise_body_images(body, download=self.options.download_images)

    def _create_article(self, item: ParsedItem, image_name: str, body: str) -> Article:
        link = item.link if is_http_url(item.link) else ""
        title = plain_text(item.title) or f"Untitled item from {self.source.name}"
        article = Article(
            source=self.source,
            title=title[:300],
            dek=item.summary,
            body=body,
            original_url=link[:1000],
            original_title=item.title[:300],
            original_published_at=item.published,
            language=(item.language or "en")[:12],
            status=self._article_status(item),
        )
        if item.video and is_http_url(item.video.url):
            article.kicker = "Video"
            article.video_url = item.video.url[:1000]
        if image_name and item.lead_image:
            article.lead_image.name = image_name
            article.lead_image_alt = item.lead_image.alt[:300]
            article.lead_image_caption = item.lead_image.caption[:500]
            article.lead_image_credit = item.lead_image.credit[:200]
        if article.status == ArticleStatus.PUBLISHED:
            keep_date = self.options.keep_publication_dates and item.published is not None
            article.published_at = item.published if keep_date else timezone.now()
        slug = slugify(unquote(str(item.extra.get("slug") or "")), allow_unicode=False)[:200]
        if slug and not Article.objects.filter(slug=slug).exists():
            article.slug = slug
        article.save()

        for position, author in enumerate(match_authors(item.authors, self.source)):
            Byline.objects.create(article=article, author=author, position=position)
        self._classify(article, item)
        return article

    def _classify(self, article: Article, item: ParsedItem) -> Classification:
        classification = classify(
            item.categories,
            item.tags,
            self.options.mapping_rules,
            unmapped_as_tags=self.options.unmapped_categories_as_tags,
        )
        if classification.regions:
            article.regions.add(*classification.regions)
        if classification.themes:
            article.themes.add(*classification.themes)
        if classification.reports:
            article.reports.add(*classification.reports)
        if classification.tags:
            article.tags.add(*classification.tags)
        return classification

    def _leave_redirects(self, article: Article, item: ParsedItem) -> int:
        """Keep every old WordPress path working; returns how many redirects were added."""
        added = 0
        own_path = article.get_absolute_url()
        for old_path in item.extra.get("old_paths") or []:
            old_path = str(old_path)[:500]
            # A redirect from the article's own address would loop; one already taken by
            # another article is left alone rather than stolen.
            if not old_path.startswith("/") or old_path.rstrip("/") == own_path.rstrip("/"):
                continue
            _redirect, created = Redirect.objects.get_or_create(
                old_path=old_path, defaults={"article": article}
            )
            added += int(created)
        return added


# ---------------------------------------------------------------------------------------------
# Entry points


def import_document(
    source: Source,
    parsed_feed: ParsedFeed,
    *,
    run: ImportRun,
    status: str = ImportStatus.DRAFT,
    mapping_rules: Sequence[MappingRule] = (),
    fetched_from: str = "",
    feed: Feed | None = None,
    unmapped_categories_as_tags: bool = True,
    download_images: bool = True,
    on_item: ProgressCallback | None = None,
) -> ImportRun:
    """Import every item of an already parsed document into `source`, counting on `run`.

    The run is finished here (succeeded, partial or failed) unless the database fails, which
    raises `AbortRun` for the caller to record.
    """
    options = ImportOptions(
        status=status,
        mapping_rules=list(mapping_rules),
        unmapped_categories_as_tags=unmapped_categories_as_tags,
        download_images=download_images,
    )
    importer = ItemImporter(
        source, run, options, feed=feed, fetched_from=fetched_from, on_item=on_item
    )
    if parsed_feed.warning:
        run.add_note(f"The document is not well formed: {parsed_feed.warning}")
    importer.import_entries(in_document_order(parsed_feed))
    if not parsed_feed.items and not parsed_feed.errors:
        run.anomaly = ANOMALY_NO_ITEMS
    elif parsed_feed.warning and not parsed_feed.items:
        run.anomaly = "The document looks truncated: nothing could be read from it."
    run.finish()
    return run


def in_document_order(parsed_feed: ParsedFeed) -> Iterator[tuple[int, ParsedItem | ItemError]]:
    """(position, entry) for the items and the parser's errors, in the document's order.

    Errors carry their position; items take the places (from 0) the errors left free.
    """
    errors = sorted(parsed_feed.errors, key=lambda e: e.position)
    taken = {error.position for error in errors}
    error_index, position = 0, 0
    for item in parsed_feed.items:
        while position in taken:
            position += 1
        while error_index < len(errors) and errors[error_index].position < position:
            yield errors[error_index].position, errors[error_index]
            error_index += 1
        yield position, item
        position += 1
    for error in errors[error_index:]:
        yield error.position, error


def _fail_run(run: ImportRun, message: str) -> ImportRun:
    """Mark `run` failed in a fresh transaction, on a fresh connection if the old one broke."""
    if not connection.in_atomic_block:
        # Drops a connection that broke, so the next query opens a fresh one.
        close_old_connections()
    try:
        run.finish(RunStatus.FAILED, error=message)
    except DatabaseError:
        logger.exception("could not mark import run %s as failed", run.pk)
    return run


@contextmanager
def feed_lock(feed: Feed) -> Iterator[bool]:
    """Hold the feed's import lock while the block runs; yields False if another run holds it.

    PostgreSQL only (a session advisory lock, released even if the worker dies with its
    connection). Elsewhere this always yields True: the unique constraint on provenance alone
    keeps concurrent runs from duplicating articles.
    """
    if connection.vendor != "postgresql":
        yield True
        return
    key = (FEED_LOCK_NAMESPACE, feed.pk % 2**31)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", key)
        acquired = bool(cursor.fetchone()[0])
    try:
        yield acquired
    finally:
        if acquired:
            try:
                with connection.cursor() as cursor:
                    cursor.execute("SELECT pg_advisory_unlock(%s, %s)", key)
            except DatabaseError:
                # The connection broke; the lock went with it.
                logger.warning("could not release the import lock of feed %s", feed.pk)


def import_feed(
    feed: Feed,
    *,
    dry_run: bool = False,
    triggered_by: TriggeredBy = None,
    fetched: FetchResult | None = None,
    on_item: ProgressCallback | None = None,
) -> ImportRun:
    """Fetch `feed` (conditionally) and import its items; returns the finished run.

    A 304 finishes the run as not-modified and changes nothing. A fetch or parse failure fails
    the run and backs the feed off (`Feed.record_failure`). A dry run counts what would happen
    and leaves the feed's schedule and validators alone. `fetched` lets a caller that already
    downloaded the document (to learn the feed's title) skip the second request.
    """
    run = start_run(
        RunKind.FEED,
        feed.source,
        feed=feed,
        fetched_from=feed.url,
        status=feed.default_status,
        dry_run=dry_run,
        triggered_by=triggered_by,
    )
    with feed_lock(feed) as acquired:
        if not acquired:
            run.finish(RunStatus.ALREADY_RUNNING, error="Another import of this feed is running.")
            return run
        try:
            return _import_feed_locked(feed, run, fetched=fetched, on_item=on_item)
        except (AbortRun, OperationalError, InterfaceError) as error:
            logger.warning("import of feed %s stopped: %s", feed.pk, error)
            _fail_run(run, str(error))
            if not dry_run:
                _safely(feed.record_failure, f"database error: {error}")
            return run


def _safely(action: Callable[..., Any], *args: Any) -> None:
    try:
        action(*args)
    except (OperationalError, InterfaceError):
        logger.exception("could not record the outcome of an import")


def _import_feed_locked(
    feed: Feed, run: ImportRun, *, fetched: FetchResult | None, on_item: ProgressCallback | None
) -> ImportRun:
    dry_run = run.dry_run
    try:
        result = fetched or fetch(
            feed.url, etag=feed.etag, last_modified=feed.last_modified, accept=FEED_ACCEPT
        )
    except FetchError as error:
        run.finish(RunStatus.FAILED, error=str(error))
        if not dry_run:
            feed.record_failure(str(error))
        return run
    if result.not_modified:
        run.finish(RunStatus.NOT_MODIFIED)
        if not dry_run:
            feed.record_success(
                etag=result.etag or feed.etag,
                last_modified=result.last_modified or feed.last_modified,
            )
        return run
    try:
        parsed = parse_feed(
            result.content, url=result.url, content_type=result.content_type,
            charset=result.charset,
        )  # fmt: skip
    except ParseError as error:
        run.finish(RunStatus.FAILED, error=f"Not a feed: {error}")
        if not dry_run:
            feed.record_failure(f"Not a feed: {error}")
        return run

    if (
        feed.format != "auto"
        and parsed.format != feed.format
        and not (feed.format == "rss" and parsed.format == "rdf")
    ):
        run.add_note(f"The feed is set up as {feed.format} but the document is {parsed.format}.")
    import_document(
        feed.source,
        parsed,
        run=run,
        status=feed.default_status,
        mapping_rules=list(feed.mapping_rules.select_related("region", "theme", "report")),
        fetched_from=result.url,
        feed=feed,
        unmapped_categories_as_tags=feed.unmapped_categories_as_tags,
        on_item=on_item,
    )
    if not dry_run:
        if parsed.title and not feed.title:
            feed.title = parsed.title[:300]
            feed.save(update_fields=["title", "updated_at"])
        # Validators are kept only after the items are in, so an interrupted run re-reads all.
        feed.record_success(etag=result.etag, last_modified=result.last_modified)
    return run


def import_feed_file(
    path: str | Path,
    source: Source,
    status: str = ImportStatus.DRAFT,
    *,
    dry_run: bool = False,
    triggered_by: TriggeredBy = None,
    on_item: ProgressCallback | None = None,
) -> ImportRun:
    """Import a feed document read from a local file (RSS, Atom, RDF or JSON Feed)."""
    path = Path(path)
    run = start_run(
        RunKind.FEED, source, fetched_from=path.name, status=status, dry_run=dry_run,
        triggered_by=triggered_by,
    )  # fmt: skip
    try:
        parsed = parse_feed(path.read_bytes(), url="")
    except (ParseError, OSError) as error:
        run.finish(RunStatus.FAILED, error=f"{path.name}: {error}")
        return run
    try:
        return import_document(
            source, parsed, run=run, status=status, fetched_from=path.name, on_item=on_item
        )
    except (AbortRun, OperationalError, InterfaceError) as error:
        return _fail_run(run, str(error))


def import_url(
    url: str,
    source: Source,
    status: str = ImportStatus.DRAFT,
    *,
    dry_run: bool = False,
    triggered_by: TriggeredBy = None,
) -> ImportRun:
    """Import the single article at `url`: title, author, date, body and lead image."""
    run = start_run(
        RunKind.URL, source, fetched_from=url, status=status, dry_run=dry_run,
        triggered_by=triggered_by,
    )  # fmt: skip
    try:
        result = fetch(url, accept=PAGE_ACCEPT)
        parsed = parse_page(result.content, url=result.url)
    except (FetchError, ParseError) as error:
        run.finish(RunStatus.FAILED, error=str(error))
        return run
    try:
        return import_document(source, parsed, run=run, status=status, fetched_from=result.url)
    except (AbortRun, OperationalError, InterfaceError) as error:
        return _fail_run(run, str(error))


def import_wxr(
    path_or_file: str | Path | IO[bytes],
    source: Source,
    status: str = ImportStatus.DRAFT,
    *,
    download_images: bool = True,
    dry_run: bool = False,
    triggered_by: TriggeredBy = None,
    mapping_rules: Sequence[MappingRule] = (),
    site: WxrSite | None = None,
    on_item: ProgressCallback | None = None,
) -> ImportRun:
    """Migrate a WordPress export (WXR) into `source`, streaming it item by item.

    Posts keep their publication dates, authors become `Author` records (never accounts),
    categories and tags become tags unless `mapping_rules` map them, the featured image is
    downloaded through the same guard as everything else (`download_images=False` skips it),
    and every old permalink path becomes a redirect. WordPress "publish" gets `status`;
    drafts, pending, private and password-protected posts stay drafts; trashed posts are
    skipped and recorded. Every item is its own transaction, so an interrupted import resumes
    by running it again. Pass the `site` from `read_wxr_site` when you already read it.
    """
    name = getattr(path_or_file, "name", None) or str(path_or_file)
    run = start_run(
        RunKind.WXR, source, fetched_from=Path(str(name)).name, status=status, dry_run=dry_run,
        triggered_by=triggered_by,
    )  # fmt: skip
    options = ImportOptions(
        status=status,
        mapping_rules=list(mapping_rules),
        download_images=download_images,
        keep_publication_dates=True,
    )
    importer = ItemImporter(source, run, options, on_item=on_item)
    try:
        importer.import_entries(enumerate(iter_wxr(path_or_file, site=site)))
    except ParseError as error:
        run.finish(RunStatus.FAILED, error=str(error))
        return run
    except (AbortRun, OperationalError, InterfaceError) as error:
        return _fail_run(run, str(error))
    if not (run.created or run.updated or run.unchanged or run.flagged_changed or run.skipped
            or run.failed):  # fmt: skip
        run.anomaly = ANOMALY_NO_ITEMS
    run.finish()
    return run


# ---------------------------------------------------------------------------------------------
# Upstream changes: what an editor sees and accepts


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
    kinds = {"-": "removed", "+": "added", "@": "gap", " ": "same"}
    lines: list[tuple[str, str]] = []
    for line in difflib.unified_diff(before, after, "current", "upstream", n=2, lineterm=""):
        if line.startswith(("---", "+++")):
            continue
        kind = kinds.get(line[:1], "same")
        lines.append((kind, "…" if kind == "gap" else line[1:]))
    return lines


def accept_upstream_changes(record: ImportedItem, *, download_images: bool = True) -> bool:
    """Apply the waiting upstream version to the article (title, summary, body, dates).

    Status, taxonomy, byline and the lead image stay as the editors left them. The new body's
    pictures are fetched before any row is locked, as on import (`download_images=False` links
    them instead). Returns False when there was nothing to accept.
    """
    prepared_hash, prepared_body = "", ("", [])
    pending = (
        ImportedItem.objects.filter(pk=record.pk, upstream_changed=True)
        .select_related("article")
        .first()
    )
    if pending is not None and pending.article is not None:
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
        article.save()
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
    return localise_body_images(body, download=download)


def dismiss_upstream_changes(record: ImportedItem) -> None:
    """Keep the article as it is, and stop flagging this upstream version."""
    ImportedItem.objects.filter(pk=record.pk).update(
        content_hash=record.upstream_hash or record.content_hash,
        upstream_changed=False,
        upstream_payload={},
        upstream_hash="",
    )


def source_named(slug: str, *, name: str, homepage: str = "") -> tuple[Source, bool]:
    """The source with `slug`, created (named `name`) when there is none yet."""
    source = Source.objects.filter(slug=slug).first()
    if source is not None:
        return source, False
    source = Source(slug=slug, name=(name or slug)[:200])
    if is_http_url(homepage):
        source.homepage = homepage[:500]
    source.save()
    return source, True
