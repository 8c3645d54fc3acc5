"""The store stage: one parsed item becomes (or updates) one article, never half of one.

Parsers hand over plain dataclasses; this module is the only place that turns them into
articles. Its promises:

* Idempotent. An item is identified by its dedupe key (guid, else normalised link, else a
  content hash) and also by its normalised link across the source. Importing the same document
  again creates nothing and writes nothing.
* Upstream edits never overwrite an article. A known item whose content hash changed is flagged
  (`ImportedItem.upstream_changed`) with the new version kept beside it, for an editor to
  review and accept.
* Fast for long feeds. Items are read a chunk (`LOOKAHEAD`) at a time: one query says which of
  them are stored already, and the new ones that need only rows (no picture, not published,
  no WordPress slug or old paths) are inserted together, one INSERT per table and chunk, in one
  transaction. The others are stored one by one, each in its own transaction. Authors and tags
  are looked up once per run (`KnownNames`), and on PostgreSQL commits do not wait for the disk
  during an import (`commits_without_waiting_for_the_disk`).
* One bad item never sinks the batch. When a chunk's INSERT fails, its items are stored again
  one by one, each in its own transaction; a failure is recorded as an `ItemFailure` and the
  next item goes on. A database outage loses at most the chunk in hand, whole; the next run
  imports it.
* Concurrent runs never duplicate. The provenance row is inserted with the article, in its
  transaction, under the unique constraint (source, dedupe_key): the loser of a race rolls its
  item (article included) back and counts it as already imported. On PostgreSQL a per-feed
  advisory lock also makes a second run of the same feed stop at once as "already running".
* Faults are visible. Fetch errors fail the run and back the feed off; a database error mid-run
  marks the run failed in a fresh transaction; a feed that answers with no items is flagged.
"""

import html
import logging
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

from django.db import (
    IntegrityError,
    InterfaceError,
    OperationalError,
    transaction,
)
from django.db.models import Case, Q, Value, When
from django.utils import timezone
from django.utils.text import slugify
from simple_history.utils import bulk_create_with_history
from taggit.models import TaggedItem

from articles import filing
from articles.models import (
    Article,
    ArticleStatus,
    Byline,
    Image,
    Redirect,
    Source,
    give_free_slugs,
    may_publish,
)
from articles.sanitize import clean_html, is_http_url, plain_text
from articles.search.engine import filing_columns, search_documents_refreshed_once
from syndication.items import ItemError, ParsedFeed, ParsedItem
from syndication.models import (
    FailureKind,
    Feed,
    ImportedItem,
    ImportRun,
    ImportStatus,
    ItemFailure,
    MappingRule,
)
from syndication.parsers import (
    content_hash,
    dedupe_key,
    normalise_url,
)
from syndication.parsers.common import NO_TITLE_NOR_LINK
from syndication.pipeline import duplicates
from syndication.pipeline.body_images import localise_body_images
from syndication.pipeline.classify import (
    Classification,
    KnownNames,
    classify,
    match_authors,
    tags_named,
)
from syndication.pipeline.lead_images import ImageDownloadFailed, download_lead_image
from syndication.pipeline.payload import excerpt, item_payload, storable
from syndication.pipeline.runs import (
    PROGRESS_SAVE_EVERY,
    AbortRun,
    Outcome,
    ProgressCallback,
    commits_without_waiting_for_the_disk,
)

logger = logging.getLogger(__name__)

# WordPress statuses that never go out as they are: kept as drafts for an editor.
WXR_DRAFT_STATUSES = {"draft", "pending", "private", "auto-draft", "inherit"}
WXR_SKIPPED_STATUSES = {"trash"}
# Items read ahead to learn in one query which of them are stored already.
LOOKAHEAD = 200


def is_skip(error: ItemError) -> bool:
    """Parser errors that are not failures: an empty entry, or a repeat of an earlier one."""
    return error.skipped


@dataclass
class ImportOptions:
    status: str = ImportStatus.DRAFT
    mapping_rules: Sequence[MappingRule] = ()
    unmapped_categories_as_tags: bool = True
    download_images: bool = True
    # WordPress exports are this site's own past: their dates are the site publication dates.
    keep_publication_dates: bool = False


class ItemImporter:
    """Imports the items of one run, never half an item, and keeps the run's counts."""

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
        # What this source already stores among the items ahead (`_recall_stored`); None when
        # unknown, and then every item is looked up on its own.
        self.stored: StoredKeys | None = None
        self.known_names = KnownNames()
        # The run's signing and linking of what it stores, while `import_entries` runs.
        self.duplicate_check: duplicates.DuplicateCheck | None = None
        self.status, downgrade_note = self._effective_status(options.status)
        if downgrade_note:
            run.add_note(downgrade_note)

    def _effective_status(self, requested: str) -> tuple[str, str]:
        """The status new articles get, and why it is not the one requested.

        Published needs both a valid rights record and, for a run someone started (from the
        admin, or a background fetch they asked for), a person who may publish: only Editors
        publish or schedule. Runs nobody started (a schedule, a command) take the status an
        Editor or the operator set.
        """
        if requested != ImportStatus.PUBLISHED:
            return requested, ""
        requester = self.run.triggered_by if self.run.triggered_by_id else None
        if requester is not None and not may_publish(requester):
            return (
                ArticleStatus.REVIEW,
                f"Published was requested by {requester.get_username()}, who may not publish "
                "(only Editors publish or schedule). New articles were put in review instead.",
            )
        problem = self.source.rights_problem()
        if not problem:
            return requested, ""
        return (
            ArticleStatus.REVIEW,
            f"Published was requested but {problem} New articles were put in review instead.",
        )

    # -- the loop --------------------------------------------------------------------------

    def import_entries(self, numbered: Iterable[tuple[int, ParsedItem | ItemError]]) -> ImportRun:
        """Import every (position, entry); a database outage stops the loop as AbortRun.

        Entries are read `LOOKAHEAD` at a time: which of them are stored already is asked in
        one query, and the new ones that need nothing but rows are stored together at the end
        of the chunk (`_store_in_bulk`); the others are stored one by one as they come.
        """
        self.duplicate_check = duplicates.DuplicateCheck(self.run)
        try:
            with commits_without_waiting_for_the_disk():
                self._import_chunks(numbered)
        finally:
            self.run.possible_duplicates += self.duplicate_check.finish()
            self.duplicate_check = None
        return self.run

    def _import_chunks(self, numbered: Iterable[tuple[int, ParsedItem | ItemError]]) -> None:
        for chunk in chunked(numbered, LOOKAHEAD):
            chunk = [
                (position, entry if isinstance(entry, ItemError) else storable(entry))
                for position, entry in chunk
            ]
            self._recall_stored(entry for _position, entry in chunk)
            batch: list[NewItem] = []
            for position, entry in chunk:
                if isinstance(entry, ItemError):
                    self._count(self._record_error(entry))
                    continue
                prepared = self._guarded(position, entry, self._prepare, position, entry)
                if isinstance(prepared, NewItem) and self._may_store_in_bulk(prepared):
                    batch.append(prepared)
                    continue
                if isinstance(prepared, NewItem):
                    prepared = self._guarded(position, entry, self._store, prepared)
                self._count(prepared)
            for outcome in self._store_in_bulk(batch):
                self._count(outcome)

    def _recall_stored(self, entries: Iterable[ParsedItem | ItemError]) -> None:
        """Read in one query which of the next items this source already stores, so that a
        new item (most of a first import) costs no lookup of its own."""
        keys, urls = set(), set()
        for item in entries:
            if isinstance(item, ParsedItem):
                keys.add(dedupe_key(item))
                if is_http_url(item.link):
                    urls.add(normalise_url(item.link))
        self.stored = StoredKeys.of(self.source, keys, urls)

    def _count(self, outcome: str) -> None:
        setattr(self.run, outcome, getattr(self.run, outcome) + 1)
        if sum(self.run.counts().values()) % PROGRESS_SAVE_EVERY == 0:
            self.run.save(update_fields=ImportRun.COUNT_FIELDS)
        self.run.beat()
        if self.on_item is not None:
            self.on_item(outcome)

    def _guarded(self, position: int, item: ParsedItem, step, *arguments):
        """`step(*arguments)`; a failure is recorded against the item and the run goes on,
        except a database outage, which stops it."""
        try:
            return step(*arguments)
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
            raw_excerpt=storable(excerpt(raw)),
        )

    def _skip(self, position: int, item: ParsedItem, reason: str) -> str:
        self._record_failure(position, item.guid, reason, item.raw, kind=FailureKind.SKIPPED)
        return Outcome.SKIPPED

    # -- one item --------------------------------------------------------------------------

    def import_item(self, position: int, item: ParsedItem) -> str:
        """Import one item and return its outcome (see `Outcome`)."""
        prepared = self._prepare(position, storable(item))
        if isinstance(prepared, NewItem):
            return self._store(prepared)
        return prepared

    def _prepare(self, position: int, item: ParsedItem) -> "NewItem | str":
        """The item (already `storable`) identified, checked against what is stored and with
        its pictures and body ready to store; or, when there is nothing to store, its outcome."""
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

        existing = (
            self._find_existing(key, normalised)
            if self.stored is None or self.stored.may_hold(key, normalised)
            else None
        )
        if existing is not None:
            return self._revisit(existing, item, digest)
        if self.run.dry_run:
            return Outcome.CREATED

        # The picture is fetched before the transaction opens, so no row waits on the network;
        # its library entry is found by its content, so a lost race leaves nothing to clean up.
        image, image_warning = self._lead_image(item)
        body, body_warnings = self._body(item)
        body_text = plain_text(body)
        return NewItem(
            position=position,
            item=item,
            key=key,
            normalised=normalised,
            digest=digest,
            image=image,
            body=body,
            body_text=body_text,
            warnings=[*([image_warning] if image_warning else []), *body_warnings],
        )

    def _store(self, new: "NewItem") -> str:
        """Store one new item in its own transaction."""
        try:
            with transaction.atomic(), search_documents_refreshed_once():
                article = self._create_article(new.item, new.image, new.body)
                self._provenance(new, article).save(force_insert=True)
                self._leave_redirects(article, new.item)
        except IntegrityError:
            # Another run stored this item between our lookup and our insert.
            if ImportedItem.objects.filter(source=self.source, dedupe_key=new.key).exists():
                return Outcome.UNCHANGED
            # Perhaps an author or tag the run remembered was deleted meanwhile: ask again.
            self.known_names.forget()
            raise
        if self.stored is not None:
            self.stored.remember(new.key, new.normalised)
        self._check_duplicates([(article, new)])
        return Outcome.CREATED

    def _may_store_in_bulk(self, new: "NewItem") -> bool:
        """Items that need nothing a bulk insert skips: no lead image (an item that waited for
        its picture is stored at once), no publication (whose signals refresh the public
        pages), no WordPress slug or old paths."""
        return not (
            new.image is not None
            or self._article_status(new.item) == ArticleStatus.PUBLISHED
            or new.item.extra.get("slug")
            or new.item.extra.get("old_paths")
        )

    def _store_in_bulk(self, batch: list["NewItem"]) -> list[str]:
        """Store new items with one INSERT per table in one transaction; when that fails
        (a lost race, one bad item), store each in its own transaction instead."""
        if not batch:
            return []
        try:
            with transaction.atomic():
                articles = self._insert_all(batch)
        except (OperationalError, InterfaceError) as error:
            positions = f"{batch[0].position}–{batch[-1].position}"
            raise AbortRun(f"database error at items {positions}: {error}") from error
        except Exception:
            logger.info("bulk insert of %s items failed; storing them one by one", len(batch))
            self.known_names.forget()
            return [self._guarded(new.position, new.item, self._store, new) for new in batch]
        if self.stored is not None:
            for new in batch:
                self.stored.remember(new.key, new.normalised)
        self._check_duplicates(zip(articles, batch, strict=True))
        return [Outcome.CREATED] * len(batch)

    def _check_duplicates(self, stored: Iterable[tuple[Article, "NewItem"]]) -> None:
        """Once articles are committed: sign them and link them to the articles they look
        like, those of a concurrent import included (see pipeline/duplicates.py); in the
        background during `import_entries`."""
        articles = [(article, new.item.title, new.body_text) for article, new in stored]
        if self.duplicate_check is not None:
            self.duplicate_check.add(articles)
            return
        check = duplicates.DuplicateCheck(self.run, in_background=False)
        check.add(articles)
        self.run.possible_duplicates += check.finish()

    def _insert_all(self, batch: list["NewItem"]) -> list[Article]:
        filed = [self._new_article(new.item, new.image, new.body) for new in batch]
        articles = [article for article, _filing in filed]
        give_free_slugs(articles, Article.slug_source_field)
        for new, article in zip(batch, articles, strict=True):
            article.tidy(body_text=new.body_text)
        requester = self.run.triggered_by if self.run.triggered_by_id else None
        bulk_create_with_history(articles, Article, default_user=requester)
        self._file_all(filed)
        ImportedItem.objects.bulk_create(
            self._provenance(new, article) for new, article in zip(batch, articles, strict=True)
        )
        return articles

    def _provenance(self, new: "NewItem", article: Article) -> ImportedItem:
        item = new.item
        return ImportedItem(
            source=self.source,
            feed=self.feed,
            run=self.run,
            article=article,
            guid=item.guid[:1000],
            dedupe_key=new.key,
            normalised_url=new.normalised[:1000],
            content_hash=new.digest,
            original_url=item.link[:1000] if is_http_url(item.link) else "",
            fetched_from=self.fetched_from[:1000],
            raw_payload=item_payload(item),
            date_problem=item.date_problem[:300],
            warnings=[*new.warnings, *self._held_for_alt_text(article)],
        )

    def _find_existing(self, key: str, normalised: str) -> ImportedItem | None:
        """The item stored under `key`, else the oldest stored under the same link: one query."""
        same = Q(dedupe_key=key)
        if normalised:
            same |= Q(normalised_url=normalised)
        by_key_first = Case(When(dedupe_key=key, then=Value(0)), default=Value(1))
        return (
            ImportedItem.objects.filter(same, source=self.source)
            .select_related("article")
            .order_by(by_key_first, "pk")
            .first()
        )

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

    def _lead_image(self, item: ParsedItem) -> tuple[Image | None, str]:
        picture = item.lead_image
        if not (self.options.download_images and picture and picture.url):
            return None, ""
        try:
            return download_lead_image(
                picture.url,
                source=self.source,
                alt=picture.alt,
                caption=picture.caption,
                credit=picture.credit,
            ), ""
        except ImageDownloadFailed as error:
            return None, str(error)

    def _held_for_alt_text(self, article: Article) -> list[str]:
        """Why an article asked to be published went to review: a picture without alt text."""
        if self.status != ArticleStatus.PUBLISHED or article.status != ArticleStatus.REVIEW:
            return []
        problem = article.missing_alt_text()
        return [f"Put in review instead of published: {problem}"] if problem else []

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
        return localise_body_images(body, download=self.options.download_images, source=self.source)

    def _create_article(self, item: ParsedItem, image: Image | None, body: str) -> Article:
        """Save the article once, already filed: its byline, taxonomy and tags are read in
        two queries at most (authors, tags: none once the run knows the names) and written
        with one INSERT per relation, and its search names are set before the INSERT, so the
        search vector is computed once."""
        article, filing = self._new_article(item, image, body)
        slug = slugify(unquote(str(item.extra.get("slug") or "")), allow_unicode=False)[:200]
        if slug and not Article.objects.filter(slug=slug).exists():
            article.slug = slug
        article.save()
        self._file_all([(article, filing)])
        return article

    def _new_article(self, item: ParsedItem, image: Image | None, body: str):
        """The unsaved article of an item, with its search names and what its pages print of
        its filing (articles/filing.py), and how it is filed."""
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
        article.lead_image = image
        if article.status == ArticleStatus.PUBLISHED and article.missing_alt_text():
            article.status = ArticleStatus.REVIEW
        if article.status == ArticleStatus.PUBLISHED:
            keep_date = self.options.keep_publication_dates and item.published is not None
            article.published_at = item.published if keep_date else timezone.now()

        authors = match_authors(item.authors, self.source, known_names=self.known_names)
        classification = self._classify(item)
        tags = tags_named(classification.tags, known_names=self.known_names)
        rows = filing.rows_of(
            authors, classification.regions, classification.themes, classification.reports, tags
        )
        article.search_names, article.filed_under = filing_columns(self.source.name, rows).values()
        return article, Filing(authors, classification, tags)

    @staticmethod
    def _file_all(filed: "list[tuple[Article, Filing]]") -> None:
        """Bylines, taxonomy and tags of saved articles: one INSERT per relation in all."""
        Byline.objects.bulk_create(
            Byline(article=article, author=author, position=position)
            for article, filing in filed
            for position, author in enumerate(filing.authors)
        )
        for relation, attribute, field_name in (
            (Article.regions.through, "regions", "region"),
            (Article.themes.through, "themes", "theme"),
            (Article.reports.through, "reports", "indepthreport"),
        ):
            links = [
                relation(article=article, **{field_name: target})
                for article, filing in filed
                for target in getattr(filing.classification, attribute)
            ]
            if links:
                relation.objects.bulk_create(links)
        tagged = [
            TaggedItem(content_object=article, tag=tag)
            for article, filing in filed
            for tag in filing.tags
        ]
        if tagged:
            TaggedItem.objects.bulk_create(tagged)

    def _classify(self, item: ParsedItem) -> Classification:
        return classify(
            item.categories,
            item.tags,
            self.options.mapping_rules,
            unmapped_as_tags=self.options.unmapped_categories_as_tags,
        )

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


@dataclass
class Filing:
    """Where an article is filed: its byline, taxonomy and tags."""

    authors: list
    classification: Classification
    tags: list


@dataclass
class NewItem:
    """An item to store: identified, and its pictures and body ready."""

    position: int
    item: ParsedItem
    key: str
    normalised: str
    digest: str
    image: Image | None
    body: str
    body_text: str  # its plain text: the signature's and the received body's fingerprint's
    warnings: list[str]


@dataclass
class StoredKeys:
    """The dedupe keys and normalised links a source already stores, among those asked for."""

    keys: set[str]
    urls: set[str]

    @classmethod
    def of(cls, source: Source, keys: set[str], urls: set[str]) -> "StoredKeys":
        if not (keys or urls):
            return cls(set(), set())
        rows = list(
            ImportedItem.objects.filter(
                Q(dedupe_key__in=keys) | Q(normalised_url__in=urls), source=source
            ).values_list("dedupe_key", "normalised_url")
        )
        return cls({key for key, _url in rows}, {url for _key, url in rows if url})

    def remember(self, key: str, normalised: str) -> None:
        self.keys.add(key)
        if normalised:
            self.urls.add(normalised)

    def may_hold(self, key: str, normalised: str) -> bool:
        """False only when no stored item has this key or link (as of the query)."""
        return key in self.keys or bool(normalised and normalised in self.urls)


def chunked(iterable: Iterable, size: int) -> Iterator[list]:
    """Lists of up to `size` consecutive elements (itertools.batched, which needs Python 3.12)."""
    chunk = []
    for element in iterable:
        chunk.append(element)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


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
