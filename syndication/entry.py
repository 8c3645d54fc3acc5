"""Entry points of the import pipeline: a feed, a feed file, one URL, a WordPress export.

Each starts a run, fetches and parses, then hands the document to the store stage
(`syndication.pipeline.store`) item by item, and reports through the run.
"""

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import IO

from django.db import (
    InterfaceError,
    OperationalError,
)

from articles.models import Source
from articles.sanitize import is_http_url
from syndication.fetching.client import FetchError, FetchResult, fetch
from syndication.items import ParsedFeed
from syndication.models import (
    Feed,
    ImportRun,
    ImportStatus,
    MappingRule,
    RunKind,
    RunStatus,
)
from syndication.parsers import (
    ParseError,
    WxrSite,
    iter_wxr,
    parse_feed,
    parse_page,
)
from syndication.pipeline.runs import (
    ANOMALY_NO_ITEMS,
    AbortRun,
    ProgressCallback,
    TriggeredBy,
    fail_run,
    feed_lock,
    safely,
    start_run,
)
from syndication.pipeline.store import ImportOptions, ItemImporter, in_document_order
from syndication.websub import note_hubs

logger = logging.getLogger(__name__)

FEED_ACCEPT = (
    "application/rss+xml, application/atom+xml, application/feed+json, application/json;q=0.9, "
    "application/xml;q=0.9, text/xml;q=0.8, */*;q=0.1"
)
PAGE_ACCEPT = "text/html, application/xhtml+xml;q=0.9, */*;q=0.1"


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
            fail_run(run, str(error))
            if not dry_run:
                safely(feed.record_failure, f"database error: {error}")
            return run


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
        note_hubs(feed, parsed, link_header=result.headers.get("link", ""))
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
        return fail_run(run, str(error))


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
        return fail_run(run, str(error))


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
    skipped and recorded. No item is ever half-stored, so an interrupted import resumes by
    running it again. Pass the `site` from `read_wxr_site` when you already read it.
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
        return fail_run(run, str(error))
    if not (run.created or run.updated or run.unchanged or run.flagged_changed or run.skipped
            or run.failed):  # fmt: skip
        run.anomaly = ANOMALY_NO_ITEMS
    run.finish()
    return run


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
