"""Two imports of the same feed at once never duplicate an article (PostgreSQL, real threads)."""

import threading

import pytest
from django.db import connection

from articles.models import Article
from syndication.entry import import_document, import_feed
from syndication.items import ParsedFeed, ParsedItem
from syndication.models import Feed, ImportedItem, RunKind, RunStatus
from syndication.pipeline.runs import start_run
from tests.factories import LicensedSourceFactory
from tests.feedbuilders import rss, story
from tests.httpserver import LocalServer, Response

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]

ITEMS = 12


def run_together(count: int, work) -> tuple[list, list[BaseException]]:
    """Start `count` threads that wait for each other, then call work(); collect what happens."""
    barrier = threading.Barrier(count)
    results, errors = [], []

    def worker():
        try:
            barrier.wait(timeout=60)
            results.append(work())
        except BaseException as error:  # noqa: BLE001 - the test asserts that there are none
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    return results, errors


def test_two_runs_of_one_feed_at_once_make_one_article_per_guid(postgres_only, settings):
    settings.SYNDICATION_ALLOWED_HOSTS = ["127.0.0.1"]
    document = rss([story(n) for n in range(ITEMS)])
    with LocalServer() as server:
        # A slow answer keeps the first run inside its lock while the second one arrives.
        server.routes["/feed.xml"] = Response(
            200, {"Content-Type": "application/rss+xml"}, document, before=0.3
        )
        feed = Feed.objects.create(source=LicensedSourceFactory(), url=server.url("/feed.xml"))

        runs, errors = run_together(2, lambda: import_feed(Feed.objects.get(pk=feed.pk)))

    assert errors == []
    assert sorted(run.status for run in runs) == [RunStatus.ALREADY_RUNNING, RunStatus.SUCCEEDED]
    assert Article.objects.count() == ITEMS
    assert ImportedItem.objects.values("dedupe_key").distinct().count() == ITEMS


def test_concurrent_imports_without_the_lock_are_kept_apart_by_the_constraint(postgres_only):
    """Even two importers that bypass the feed lock race only to the unique constraint."""
    source = LicensedSourceFactory()
    parsed = ParsedFeed(
        format="rss",
        items=[
            ParsedItem(guid=f"race-{n}", title=f"Race {n}", link=f"https://race.example/{n}")
            for n in range(ITEMS)
        ],
    )

    def import_once():
        run = start_run(RunKind.FEED, source, fetched_from="memory")
        return import_document(source, parsed, run=run, fetched_from="memory")

    runs, errors = run_together(4, import_once)

    assert errors == []
    assert len(runs) == 4 and all(run.failed == 0 for run in runs)
    assert sum(run.created for run in runs) == ITEMS
    assert sum(run.unchanged for run in runs) == ITEMS * 3
    assert Article.objects.count() == ITEMS
    assert ImportedItem.objects.filter(article__isnull=True).count() == 0
