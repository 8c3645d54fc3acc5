"""WebSub out: tell the configured hub when the feeds showing an article change.

When `WEBSUB_HUB_URL` is set, the feeds name the hub (see `articles.distribution.feeds`), and an
article that goes live, is withdrawn or is taken back to draft gets the hub pinged, once the
transaction commits, by `ping_hub_task`: one `POST hub.mode=publish&hub.url=<feed>` per feed
that shows the article (the site-wide RSS, Atom and JSON feeds, and the RSS and Atom feeds of
each of its regions and their parent regions, themes, reports, authors, source and tags). The
hub then fetches those feeds and pushes them to its subscribers. An article scheduled for
later is pinged for when it goes live, where the task backend can defer tasks.

The hub is configured by the site's operators, not by editors or imported content, so it may
be on a private address; the ping still follows no redirect, sends nothing but the topic, and
gives up after `WEBSUB_PING_TIMEOUT` seconds. A failed ping is logged, not retried: the
subscribers' own polling is the fallback.

Knowing whether a save changed the status costs one query on the saved row, made only when a
hub is configured.
"""

import logging
from functools import partial

import httpx
from django.conf import settings
from django.db import transaction
from django.db.models.signals import post_save, pre_save
from django.dispatch import receiver
from django.urls import reverse
from django.utils import timezone
from django_tasks import task

from articles.distribution.feeds import subject_feeds, topic_url, websub_hub
from articles.models import Article, ArticleStatus

logger = logging.getLogger(__name__)

SITE_FEEDS = ("discovery:feed_rss", "discovery:feed_atom", "discovery:feed_json")


def feeds_showing(article: Article) -> list[str]:
    """The addresses (topics) of every feed the article appears in while it is live."""
    subjects = [
        *article.regions.all(),
        *(ancestor for region in article.regions.all() for ancestor in region.ancestors()),
        *article.themes.all(),
        *article.reports.all(),
        *article.authors.all(),
        article.source,
        *article.tags.all(),
    ]
    paths = [reverse(name) for name in SITE_FEEDS]
    paths += [feed["href"] for subject in subjects for feed in subject_feeds(subject)]
    return [topic_url(path) for path in dict.fromkeys(paths)]


def ping_hub(topics: list[str], hub: str | None = None) -> dict[str, str]:
    """POST each topic to the hub; what the hub answered (a status code, or the error) by
    topic."""
    hub = hub or websub_hub()
    answers = {}
    timeout = getattr(settings, "WEBSUB_PING_TIMEOUT", 5.0)
    headers = {"User-Agent": f"SyndiCMS WebSub publisher (+{settings.SITE_URL}/)"}
    with httpx.Client(timeout=timeout, follow_redirects=False, headers=headers) as client:
        for topic in topics:
            try:
                response = client.post(hub, data={"hub.mode": "publish", "hub.url": topic})
            except httpx.HTTPError as error:
                answers[topic] = f"{type(error).__name__}: {error}"
                logger.warning("WebSub hub %s unreachable for %s: %s", hub, topic, error)
                continue
            answers[topic] = str(response.status_code)
            if not response.is_success:
                logger.warning("WebSub hub %s answered %s for %s", hub, response.status_code, topic)
    return answers


@task()
def ping_hub_task(article_id: int) -> dict[str, str]:
    """Ping the hub for every feed that shows (or showed) the article; nothing without a hub
    or once the article is deleted."""
    hub = websub_hub()
    article = Article.objects.select_related("source").filter(pk=article_id).first()
    if not hub or article is None:
        return {}
    return ping_hub(feeds_showing(article), hub)


def enqueue_ping(article_id: int, when=None) -> None:
    """Enqueue the ping now, or for `when` where the task backend can wait."""
    if when is not None and when > timezone.now() and ping_hub_task.get_backend().supports_defer:
        ping_hub_task.using(run_after=when).enqueue(article_id)
    else:
        ping_hub_task.enqueue(article_id)


@receiver(pre_save, sender=Article)
def remember_stored_status(sender, instance, raw=False, **kwargs):
    if raw or not websub_hub():
        return
    stored = None
    if instance.pk is not None:
        stored = (
            Article._default_manager.filter(pk=instance.pk).values_list("status", flat=True).first()
        )
    instance.websub_stored_status = stored


@receiver(post_save, sender=Article)
def ping_when_feeds_change(sender, instance, raw=False, **kwargs):
    """Published, withdrawn or sent back: the feeds that show the article change."""
    if raw or not websub_hub() or not hasattr(instance, "websub_stored_status"):
        return
    before, after = instance.websub_stored_status, instance.status
    del instance.websub_stored_status
    if before == after or ArticleStatus.PUBLISHED not in (before, after):
        return
    when = instance.published_at if after == ArticleStatus.PUBLISHED else None
    transaction.on_commit(partial(enqueue_ping, instance.pk, when))
