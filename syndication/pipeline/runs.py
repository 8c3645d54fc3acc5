"""Import runs: starting and finishing them, what one item can come to, and the per-feed lock."""

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from django.contrib.auth.base_user import AbstractBaseUser
from django.db import (
    DatabaseError,
    InterfaceError,
    OperationalError,
    close_old_connections,
    connection,
)

from articles.models import Source
from syndication.models import (
    Feed,
    ImportRun,
    ImportStatus,
    RunStatus,
    Trigger,
)

logger = logging.getLogger(__name__)

# Advisory locks are one namespace per database: this first key marks ours as feed imports.
FEED_LOCK_NAMESPACE = 0x5F1D
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


def user_and_trigger(triggered_by: TriggeredBy) -> tuple[AbstractBaseUser | None, str]:
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
    user, trigger = user_and_trigger(triggered_by)
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


def fail_run(run: ImportRun, message: str) -> ImportRun:
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


def safely(action: Callable[..., Any], *args: Any) -> None:
    try:
        action(*args)
    except (OperationalError, InterfaceError):
        logger.exception("could not record the outcome of an import")


@contextmanager
def commits_without_waiting_for_the_disk():
    """Inside the block, PostgreSQL confirms a commit before it has flushed it to disk.

    An imported item is cheap to lose and easy to get back: should the database server crash in
    the fraction of a second before the flush, the item is missing as a whole (article and
    provenance row alike: the database stays consistent) and the next run of the feed imports
    it again. Waiting for the disk at every item costs a large share of an import's time.
    The setting is the connection's until the block ends; editors' saves keep the default.
    """
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("SET synchronous_commit TO OFF")
    try:
        yield
    finally:
        if connection.is_usable():
            with connection.cursor() as cursor:
                cursor.execute("RESET synchronous_commit")
