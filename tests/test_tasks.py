"""Background imports: due feeds are enqueued once, after commit, and run through django_tasks."""

import datetime
import socket

import pytest
from django.db import transaction
from django.utils import timezone

from articles.models import Article
from syndication.models import (
    ABANDONED_AFTER,
    HEARTBEAT_EVERY,
    Feed,
    ImportRun,
    RunKind,
    RunStatus,
    Trigger,
)
from syndication.tasks import claim_due_feeds, enqueue_due_feeds, import_feed_task
from tests.factories import LicensedSourceFactory
from tests.feedbuilders import rss, story
from tests.httpserver import LocalServer


@pytest.fixture
def server(settings):
    settings.SYNDICATION_ALLOWED_HOSTS = ["127.0.0.1"]
    with LocalServer() as running:
        running.routes["/feed.xml"] = (
            200,
            {"Content-Type": "application/rss+xml"},
            rss([story(1)]),
        )
        yield running


def make_feed(server, **fields) -> Feed:
    return Feed.objects.create(
        source=LicensedSourceFactory(), url=server.url("/feed.xml"), **fields
    )


@pytest.mark.django_db
def test_the_import_task_imports_the_feed(server):
    feed = make_feed(server)

    result = import_feed_task.enqueue(feed.pk)

    run = ImportRun.objects.get()
    assert result.return_value["status"] == RunStatus.SUCCEEDED
    assert (run.trigger, run.created) == (Trigger.TASK, 1)


@pytest.mark.django_db
def test_the_import_task_leaves_a_switched_off_feed_alone(server):
    feed = make_feed(server, is_active=False)

    result = import_feed_task.enqueue(feed.pk)

    assert result.return_value["status"] == "inactive" and ImportRun.objects.count() == 0


@pytest.mark.django_db
def test_only_due_feeds_are_claimed_and_each_only_once(server):
    now = timezone.now()
    due = make_feed(server, next_fetch_at=now - datetime.timedelta(minutes=1))
    never_fetched = make_feed(server)
    make_feed(server, next_fetch_at=now + datetime.timedelta(minutes=5))
    make_feed(server, is_active=False)

    first = claim_due_feeds(now)
    second = claim_due_feeds(now)

    assert {feed.pk for feed in first} == {due.pk, never_fetched.pk}
    assert second == []
    due.refresh_from_db()
    assert due.next_fetch_at == now + datetime.timedelta(minutes=due.poll_interval)


@pytest.mark.django_db
def test_due_feeds_are_imported_once_the_transaction_commits(
    server, django_capture_on_commit_callbacks
):
    make_feed(server)

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        enqueued = enqueue_due_feeds()
        assert ImportRun.objects.count() == 0  # nothing runs before the commit
    for callback in callbacks:
        callback()

    assert len(enqueued) == 1 and ImportRun.objects.get().created == 1


@pytest.mark.django_db(transaction=True)
def test_a_rolled_back_transaction_never_runs_its_tasks(server):
    make_feed(server)

    with pytest.raises(RuntimeError), transaction.atomic():
        enqueue_due_feeds()
        raise RuntimeError("the surrounding work failed")

    assert ImportRun.objects.count() == 0 and Article.objects.count() == 0


def redis_is_up(host: str = "127.0.0.1", port: int = 6379) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


@pytest.mark.django_db
def test_a_task_enqueued_through_the_rq_backend_lands_in_redis_and_an_rq_worker_runs_it(
    settings, unique_name
):
    if not redis_is_up():
        pytest.skip("Redis is not running on 127.0.0.1:6379")
    import django_rq
    from django_tasks_rq import Job, RQBackend  # noqa: F401 - the backend must import
    from rq import SimpleWorker

    queue_name = unique_name  # a queue of this test's own: no other run's worker takes its job
    redis_db = {"HOST": "127.0.0.1", "PORT": 6379, "DB": 15}
    # django_rq looks results up through its "default" queue's connection.
    settings.RQ_QUEUES = {"default": redis_db, queue_name: redis_db}
    settings.TASKS = {
        "default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"},
        "rq": {"BACKEND": "django_tasks_rq.RQBackend", "QUEUES": [queue_name]},
    }
    queue = django_rq.get_queue(queue_name, job_class=Job)
    queue.empty()
    try:
        on_rq = import_feed_task.using(backend="rq", queue_name=queue_name)
        result = on_rq.enqueue(4242)

        assert result.id in queue.job_ids
        job = queue.fetch_job(result.id)
        assert job.func_name == "syndication.tasks.import_feed_task"
        assert list(job.args) == [4242]

        SimpleWorker([queue], connection=queue.connection, job_class=Job).work(burst=True)

        assert on_rq.get_result(result.id).return_value == {
            "feed": 4242,
            "status": "inactive",
        }
    finally:
        queue.empty()


@pytest.mark.django_db
def test_a_run_whose_worker_died_is_closed_as_failed_by_the_next_scheduling_pass():
    source = LicensedSourceFactory()
    long_ago = timezone.now() - datetime.timedelta(hours=13)
    dead = ImportRun.objects.create(
        kind=RunKind.FEED, source=source, started_at=long_ago, heartbeat_at=long_ago
    )
    live = ImportRun.objects.create(kind=RunKind.FEED, source=source)

    enqueue_due_feeds()

    dead.refresh_from_db()
    live.refresh_from_db()
    assert dead.status == RunStatus.FAILED and "worker stopped" in dead.error_message
    assert live.status == RunStatus.RUNNING


# ---------------------------------------------------------------------------------------------
# H8: a run whose worker was killed (SIGKILL) is closed within minutes, not hours


@pytest.fixture
def now():
    return timezone.now()


def running_run(now, *, started: datetime.timedelta, silent: datetime.timedelta) -> ImportRun:
    return ImportRun.objects.create(
        kind=RunKind.FEED,
        source=LicensedSourceFactory(),
        started_at=now - started,
        heartbeat_at=now - silent,
    )


@pytest.mark.django_db
def test_a_run_silent_past_the_limit_is_closed_as_failed_by_the_next_scheduling_pass(now):
    killed = running_run(now, started=ABANDONED_AFTER * 2, silent=ABANDONED_AFTER * 2)

    enqueue_due_feeds(now)

    killed.refresh_from_db()
    assert killed.status == RunStatus.FAILED
    assert killed.finished_at == now
    assert "stopped before this run finished" in killed.error_message


@pytest.mark.django_db
def test_a_long_run_that_still_beats_is_left_running(now):
    long_export = running_run(now, started=datetime.timedelta(hours=13), silent=ABANDONED_AFTER / 2)

    enqueue_due_feeds(now)

    long_export.refresh_from_db()
    assert long_export.status == RunStatus.RUNNING


@pytest.mark.django_db
def test_a_beat_is_written_at_most_once_a_minute(now):
    run = running_run(now, started=datetime.timedelta(0), silent=datetime.timedelta(0))
    run.beat(now + HEARTBEAT_EVERY / 2)
    assert ImportRun.objects.get(pk=run.pk).heartbeat_at == now
    run.beat(now + HEARTBEAT_EVERY)
    assert ImportRun.objects.get(pk=run.pk).heartbeat_at == now + HEARTBEAT_EVERY
