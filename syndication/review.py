"""The review queue: imported articles sent to review, and what an editor decides about each.

The queue is every imported item whose article is in review, newest first. An editor
publishes it, schedules it, sends it back to draft (for more work, out of the queue) or
discards it (withdrawn: kept as a record, never imported again); all four go through the
article's own workflow methods, so rights and the publish permission are checked there and by
`may_decide`. Importers may classify and send back; publishing, scheduling and discarding are
editors' decisions (`articles.models.may_publish`).
"""

import datetime

from django.core.exceptions import PermissionDenied
from django.db import models, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.formats import date_format

from articles.models import Article, may_publish
from syndication.models import ImportedItem, MappingRule
from syndication.pipeline.classify import Classification, classify

DISCARD_REASON = "Discarded in the review queue."


class Decision(models.TextChoices):
    SAVE = "save", "Save classification"
    PUBLISH = "publish", "Publish now"
    SCHEDULE = "schedule", "Schedule"
    SEND_BACK = "send_back", "Send back to draft"
    DISCARD = "discard", "Discard"


EDITORS_DECISIONS = {Decision.PUBLISH, Decision.SCHEDULE, Decision.DISCARD}


class DecisionRefused(Exception):
    """The decision cannot be carried out; the message is meant for the editor."""


def may_decide(user, decision: str) -> bool:
    if decision in EDITORS_DECISIONS:
        return may_publish(user)
    return user.has_perm("articles.change_article")


def decisions_for(user) -> list[Decision]:
    return [decision for decision in Decision if may_decide(user, decision)]


def review_queue():
    return ImportedItem.objects.in_review().queue_order()


def _after(item: ImportedItem) -> Q:
    """Items after `item` in queue order (older, or as old with a smaller id)."""
    return Q(fetched_at__lt=item.fetched_at) | Q(fetched_at=item.fetched_at, pk__lt=item.pk)


def _before(item: ImportedItem) -> Q:
    return Q(fetched_at__gt=item.fetched_at) | Q(fetched_at=item.fetched_at, pk__gt=item.pk)


def previous_in_queue(item: ImportedItem) -> ImportedItem | None:
    return review_queue().filter(_before(item)).order_by("fetched_at", "pk").first()


def next_in_queue(item: ImportedItem) -> ImportedItem | None:
    return review_queue().filter(_after(item)).exclude(pk=item.pk).first()


def next_to_review(item: ImportedItem) -> ImportedItem | None:
    """Where an editor goes once `item` is decided: the next one down the queue, or the top
    of what is left when `item` was the last, or None when the queue is empty."""
    return next_in_queue(item) or review_queue().exclude(pk=item.pk).first()


def decide(item: ImportedItem, decision: str, *, user, at: datetime.datetime | None = None) -> str:
    """Carry out `decision` on the item's article for `user`; return what happened, in words.

    Raises PermissionDenied when `user` may not take it and DecisionRefused (with the reason)
    when the article's rules refuse it: rights missing or expired, a date not in the future.
    """
    if not may_decide(user, decision):
        raise PermissionDenied
    article: Article | None = item.article
    if article is None:
        raise DecisionRefused("The article of this item was deleted.")
    match decision:
        case Decision.SAVE:
            return f"Classification of “{article.title}” saved."
        case Decision.PUBLISH:
            article.publish()
            return f"“{article.title}” is published."
        case Decision.SCHEDULE:
            if at is None or at <= timezone.now():
                raise DecisionRefused("Choose a date and time in the future to schedule it.")
            article.publish(at=at)
            when = date_format(timezone.localtime(at), "DATETIME_FORMAT")
            return f"“{article.title}” is scheduled for {when}."
        case Decision.SEND_BACK:
            if not article.send_back():
                raise DecisionRefused(f"“{article.title}” is not in review.")
            return f"“{article.title}” is back in drafts."
        case Decision.DISCARD:
            article.withdraw(DISCARD_REASON)
            return f"“{article.title}” is discarded."
    raise DecisionRefused(f"Unknown decision “{decision}”.")


def suggestions(item: ImportedItem) -> Classification:
    """What the feed's mapping rules make of the item's categories today, less what the
    article already has: rules added after the import still help classify it."""
    payload = item.raw_payload or {}
    if item.feed_id is None or item.article is None:
        return Classification()
    rules = list(
        MappingRule.objects.filter(feed_id=item.feed_id).select_related("region", "theme", "report")
    )
    found = classify(
        payload.get("categories") or [], payload.get("tags") or [], rules, unmapped_as_tags=False
    )
    article = item.article
    has = {
        "regions": {region.pk for region in article.regions.all()},
        "themes": {theme.pk for theme in article.themes.all()},
        "reports": {report.pk for report in article.reports.all()},
    }
    tags = {tag.name.casefold() for tag in article.tags.all()}
    return Classification(
        regions=[region for region in found.regions if region.pk not in has["regions"]],
        themes=[theme for theme in found.themes if theme.pk not in has["themes"]],
        reports=[report for report in found.reports if report.pk not in has["reports"]],
        tags=[name for name in found.tags if name.casefold() not in tags],
    )


def apply_suggestions(item: ImportedItem, found: Classification) -> None:
    article = item.article
    with transaction.atomic():
        article.regions.add(*found.regions)
        article.themes.add(*found.themes)
        article.reports.add(*found.reports)
        if found.tags:
            article.tags.add(*found.tags)
