"""Background imports through Django's tasks API (the `django_tasks` package).

The default backend stores tasks in the database (`manage.py db_worker` runs them); the RQ
backend (`django_tasks_rq`, `manage.py rqworker`) spreads them over Redis workers. Tasks are
enqueued only when the surrounding transaction commits, so a rolled-back change never runs one.

A cron line or a periodic worker calls `manage.py enqueue_due_feeds` (or the task of the same
name) every few minutes; each due feed gets its own `import_feed_task`, and WebSub leases
due for renewal get a `websub_subscribe_task` (see syndication.websub). The same pass enqueues
`check_originals_task` (the originals watch, syndication/originals.py) at most once every
`ORIGINAL_CHECK_EVERY_MINUTES`, and signs and links the imported articles whose check for
possible duplicates was cut short (syndication/pipeline/duplicates.py).
"""

import datetime
from functools import partial

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone
from django_tasks import task

from articles.models import Source
from syndication.entry import import_feed
from syndication.models import Feed, ImportRun, Trigger
from syndication.originals import check_originals
from syndication.pipeline.duplicates import sign_missed_imports
from syndication.websub import is_enabled as websub_enabled
from syndication.websub import renew_due as renew_websub_leases


@task()
def import_feed_task(feed_id: int, requested_by: int | None = None) -> dict:
    """Import one feed; a feed deleted or switched off since it was enqueued is left alone.

    `requested_by` is the id of the user who asked for it in the admin: the run is theirs,
    so what it may publish is capped by their permissions, as if they had waited for it.
    Delivering the same task twice is harmless: the second run either waits out the first
    (advisory lock: "already running") or finds every item already imported.
    """
    feed = Feed.objects.select_related("source").filter(pk=feed_id).first()
    if feed is None or not feed.is_active:
        return {"feed": feed_id, "status": "inactive"}
    user = None
    if requested_by is not None:
        user = get_user_model().objects.filter(pk=requested_by, is_active=True).first()
        if user is None:
            return {"feed": feed_id, "status": "requester gone"}
    run = import_feed(feed, triggered_by=user or Trigger.TASK)
    return {"feed": feed_id, "run": run.pk, "status": run.status, **run.counts()}


def claim_due_feeds(now: datetime.datetime | None = None) -> list[Feed]:
    """The due feeds, each moved one poll interval ahead so nobody else enqueues it too.

    The import sets the real next fetch time when it finishes; a task lost on the way is
    simply retried one interval later.
    """
    now = now or timezone.now()
    claimed = []
    for feed in Feed.objects.due(now).order_by("next_fetch_at", "pk"):
        still_due = Feed.objects.due(now).filter(pk=feed.pk)
        later = now + datetime.timedelta(minutes=feed.poll_interval)
        if still_due.update(next_fetch_at=later):
            claimed.append(feed)
    return claimed


def enqueue_due_feeds(now: datetime.datetime | None = None) -> list[int]:
    """Enqueue one import task per due feed, once the current transaction commits.

    The same pass renews the WebSub subscriptions whose lease is about to run out, and checks
    for possible duplicates the imported articles a run could not check.
    """
    ImportRun.objects.close_abandoned(now)
    sign_missed_imports(now=now)
    if websub_enabled():
        renew_websub_leases(now)
    feed_ids = [feed.pk for feed in claim_due_feeds(now)]
    for feed_id in feed_ids:
        transaction.on_commit(partial(import_feed_task.enqueue, feed_id))
    enqueue_original_checks()
    return feed_ids


ORIGINAL_CHECKS_CLAIM = "syndication:original-checks-enqueued"


def enqueue_original_checks() -> bool:
    """Enqueue one run of the originals watch, unless one was enqueued in the last
    `ORIGINAL_CHECK_EVERY_MINUTES` (by any process sharing the cache). A claim lost with the
    cache costs at most one early run, which finds only what is due."""
    every = settings.ORIGINAL_CHECK_EVERY_MINUTES * 60
    if every <= 0 or not cache.add(ORIGINAL_CHECKS_CLAIM, True, timeout=every):
        return False
    transaction.on_commit(check_originals_task.enqueue)
    return True


@task()
def check_originals_task(limit: int | None = None, source_slug: str | None = None) -> dict:
    """One run of the originals watch (syndication/originals.py): what it found, by outcome."""
    source = None
    if source_slug is not None:
        source = Source.objects.filter(slug=source_slug).first()
        if source is None:
            return {"status": "no such source", "source": source_slug}
    run = check_originals(limit=limit, source=source)
    return {
        "status": "done",
        "checked": len(run.checked),
        "flagged": run.flagged,
        "withdrawn": run.withdrawn,
        "deferred": run.deferred,
    }


def enqueue_feed_import(feed: Feed, *, requested_by=None) -> None:
    """Enqueue an import of `feed` (the admin's "fetch in the background") on behalf of the
    user `requested_by`."""
    user_id = requested_by.pk if requested_by is not None else None
    transaction.on_commit(partial(import_feed_task.enqueue, feed.pk, requested_by=user_id))


@task()
def enqueue_due_feeds_task() -> list[int]:
    """Periodic entry point for workers that schedule their own recurring tasks."""
    return enqueue_due_feeds()
