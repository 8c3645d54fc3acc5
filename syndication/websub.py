"""WebSub in: feeds whose document names a hub are pushed to us instead of only being polled.

The W3C WebSub recommendation (https://www.w3.org/TR/websub/), subscriber side:

1. **Discovery.** After a successful poll, `note_hubs(feed, parsed)` looks at the hubs the
   response's `Link` header names, else those the document advertises (`<atom:link
   rel="hub">` in Atom or RSS, `hubs` in JSON Feed). When
   `WEBSUB_CALLBACK_BASE` is set, the first hub is asked for a subscription, in a task.
2. **Subscription.** `subscribe()` POSTs `hub.mode=subscribe`, `hub.topic` (the document's
   `rel="self"` URL, else the feed URL), `hub.callback` (a URL on this site carrying a random
   token, one per feed), `hub.secret` (random, per subscription) and `hub.lease_seconds`.
   The hub URL comes from a third-party document, so the request goes through the fetcher's
   `post_form`: the same address, port, deadline and size rules as every fetch.
3. **Intent verification.** The hub GETs the callback with `hub.challenge`; `verify_intent()`
   echoes it only when mode and topic match a subscription we asked for (pending or active),
   records the lease and schedules renewal; anything else is answered 404. We never ask to
   unsubscribe, so an unsubscribe verification is always refused.
4. **Notifications.** The hub POSTs the new feed document to the callback. The view checks
   `X-Hub-Signature` (`sha1=`, `sha256=`, `sha384=` or `sha512=` HMAC of the raw body with the
   secret, compared in constant time) before anything is parsed; see `syndication/views.py`.
5. **Renewal.** `renew_due()` (from `enqueue_due_feeds` and `renew_websub_leases_task`)
   subscribes again before the lease runs out, and retries failed requests an hour later.

While a subscription is live the feed is still polled, at the longer
`WEBSUB_FALLBACK_POLL_INTERVAL` (`Feed.polling_interval`).
"""

import datetime
import hashlib
import hmac
import logging
import re
from functools import partial

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django_tasks import task

from articles.sanitize import is_http_url
from syndication.fetching.client import FetchError, FetchResult, post_form
from syndication.items import ParsedFeed
from syndication.models import Feed, WebSubState, WebSubSubscription

logger = logging.getLogger(__name__)

RETRY_AFTER = datetime.timedelta(hours=1)
DENIED_RETRY_AFTER = datetime.timedelta(days=1)
# Renew when 90% of the lease has passed, but at least this long before it ends.
RENEWAL_MARGIN = datetime.timedelta(hours=1)
MIN_LEASE_SECONDS = 60
MAX_LEASE_SECONDS = 365 * 24 * 3600
MAX_CHALLENGE = 1000
SIGNATURE_METHODS = {
    "sha1": hashlib.sha1,
    "sha256": hashlib.sha256,
    "sha384": hashlib.sha384,
    "sha512": hashlib.sha512,
}


def is_enabled() -> bool:
    """Subscribing needs a public address hubs can call back: `WEBSUB_CALLBACK_BASE`."""
    return bool(settings.WEBSUB_CALLBACK_BASE)


def callback_url(subscription: WebSubSubscription) -> str:
    """The subscription's callback: only the hub learns it, and it names no feed."""
    path = reverse("syndication:websub-callback", args=[subscription.callback_token])
    return settings.WEBSUB_CALLBACK_BASE + path


_LINK = re.compile(r"<([^>]*)>\s*((?:;[^,]*)*)")
_REL = re.compile(r""";\s*rel\s*=\s*(?:"([^"]*)"|([^;\s]*))""", re.IGNORECASE)


def header_links(header: str) -> dict[str, list[str]]:
    """The http(s) targets of an HTTP `Link` header by relation: {"hub": [...], "self": [...]}."""
    links: dict[str, list[str]] = {}
    for target, params in _LINK.findall(header[:8192]):
        rel = _REL.search(params)
        target = target.strip()
        if rel is None or not is_http_url(target):
            continue
        for name in (rel.group(1) or rel.group(2)).lower().split():
            links.setdefault(name, []).append(target[:1000])
    return links


def note_hubs(
    feed: Feed,
    parsed: ParsedFeed,
    now: datetime.datetime | None = None,
    *,
    link_header: str = "",
) -> bool:
    """Ask the advertised hub for a subscription when there is none yet (or it moved).

    The HTTP `Link` header of the fetch is read first (WebSub §4), then the document. Returns
    True when a subscription request was queued (it is sent once the current transaction
    commits). Nothing happens when WebSub is off or nothing names a hub.
    """
    if not is_enabled() or not feed.pk:
        return False
    linked = header_links(link_header)
    hubs = linked.get("hub") or parsed.hubs
    if not hubs:
        return False
    now = now or timezone.now()
    self_url = next(iter(linked.get("self", [])), "") if linked.get("hub") else parsed.self_url
    hub, topic = hubs[0], self_url or feed.url
    subscription = WebSubSubscription.objects.filter(feed=feed).first()
    if subscription is None:
        subscription = WebSubSubscription(feed=feed)
    elif subscription.hub_url == hub and subscription.topic == topic:
        if subscription.renew_at is not None and subscription.renew_at > now:
            return False  # requested, verified or denied recently: renew_due takes it from here
    else:
        subscription.state = WebSubState.PENDING
        subscription.expires_at = subscription.verified_at = None
    subscription.hub_url, subscription.topic = hub[:1000], topic[:1000]
    subscription.renew_at = now + RETRY_AFTER  # claimed: nobody else queues it meanwhile
    subscription.save()
    transaction.on_commit(partial(websub_subscribe_task.enqueue, subscription.pk))
    return True


def subscribe(subscription: WebSubSubscription, now: datetime.datetime | None = None) -> bool:
    """Send the subscription request to the hub; True when the hub accepted it (2xx).

    Verification arrives separately (`verify_intent`). A failed request is retried by
    `renew_due` an hour later; an active subscription stays active meanwhile.
    """
    now = now or timezone.now()
    fields = {
        "hub.mode": "subscribe",
        "hub.topic": subscription.topic,
        "hub.callback": callback_url(subscription),
        "hub.secret": subscription.secret,
        "hub.lease_seconds": str(settings.WEBSUB_LEASE_SECONDS),
    }
    subscription.requested_at = now
    subscription.renew_at = now + RETRY_AFTER
    try:
        post_form(subscription.hub_url, fields)
    except FetchError as error:
        logger.warning("WebSub subscription to %s failed: %s", subscription.hub_url, error)
        subscription.last_error = f"Subscribing at {subscription.hub_url[:200]}: {error}"[:500]
        if subscription.state != WebSubState.ACTIVE:
            subscription.state = WebSubState.FAILED
        subscription.save()
        return False
    if subscription.state != WebSubState.ACTIVE:
        subscription.state = WebSubState.PENDING
    subscription.last_error = ""
    subscription.save()
    return True


@task()
def websub_subscribe_task(subscription_id: int) -> dict:
    """Send one subscription request (a subscription deleted since is left alone)."""
    subscription = WebSubSubscription.objects.filter(pk=subscription_id).first()
    if subscription is None or not is_enabled():
        return {"subscription": subscription_id, "status": "gone or WebSub off"}
    accepted = subscribe(subscription)
    return {"subscription": subscription_id, "accepted": accepted, "state": subscription.state}


def verify_intent(
    subscription: WebSubSubscription, params, now: datetime.datetime | None = None
) -> str | None:
    """The challenge to echo when the hub's verification matches what we asked for, else None.

    `params` is the query string (`request.GET`). "subscribe" with our topic, while the
    subscription is pending or active, is confirmed and starts (or extends) the lease;
    "denied" with our topic is recorded. Everything else is refused.
    """
    now = now or timezone.now()
    mode, topic = params.get("hub.mode", ""), params.get("hub.topic", "")
    if topic != subscription.topic:
        return None
    if mode == "denied":
        subscription.state = WebSubState.DENIED
        reason = params.get("hub.reason", "")
        subscription.last_error = f"The hub denied the subscription: {reason}"[:500]
        subscription.renew_at = now + DENIED_RETRY_AFTER
        subscription.save()
        return ""
    challenge = params.get("hub.challenge", "")
    if mode != "subscribe" or not challenge or len(challenge) > MAX_CHALLENGE:
        return None
    if subscription.state not in (WebSubState.PENDING, WebSubState.ACTIVE):
        return None
    try:
        lease = int(params.get("hub.lease_seconds") or settings.WEBSUB_LEASE_SECONDS)
    except ValueError:
        lease = settings.WEBSUB_LEASE_SECONDS
    lease = min(max(lease, MIN_LEASE_SECONDS), MAX_LEASE_SECONDS)
    subscription.state = WebSubState.ACTIVE
    subscription.lease_seconds = lease
    subscription.verified_at = now
    subscription.expires_at = now + datetime.timedelta(seconds=lease)
    margin = max(datetime.timedelta(seconds=lease / 10), RENEWAL_MARGIN)
    subscription.renew_at = max(subscription.expires_at - margin, now)
    subscription.last_error = ""
    subscription.save()
    return challenge


def signature_matches(secret: str, header: str, body: bytes) -> bool:
    """Whether `X-Hub-Signature: method=hexdigest` is the HMAC of `body` with `secret`."""
    method, _, digest = header.strip().partition("=")
    algorithm = SIGNATURE_METHODS.get(method.strip().lower())
    if algorithm is None or not digest:
        return False
    expected = hmac.new(secret.encode("utf-8"), body, algorithm).hexdigest()
    return hmac.compare_digest(expected, digest.strip().lower())


def notification(
    subscription: WebSubSubscription, body: bytes, content_type: str, charset: str
) -> FetchResult:
    """A verified notification as if it had been fetched, for `import_feed(fetched=...)`.

    The feed's own validators are kept, so the next fallback poll is still conditional.
    """
    feed = subscription.feed
    return FetchResult(
        url=subscription.topic,
        status=200,
        content=body,
        headers={"content-type": content_type},
        content_type=content_type.lower(),
        charset=charset.lower(),
        etag=feed.etag,
        last_modified=feed.last_modified,
    )


def renew_due(now: datetime.datetime | None = None) -> list[int]:
    """Queue a new subscription request for every subscription whose renewal time has come.

    Each is claimed first (its next renewal moved an hour on), so two passes never both
    queue it. Subscriptions of switched-off feeds are left to lapse.
    """
    now = now or timezone.now()
    due = WebSubSubscription.objects.filter(
        renew_at__lte=now, feed__is_active=True, feed__source__is_active=True
    )
    claimed = []
    for subscription_id in due.values_list("pk", flat=True):
        if due.filter(pk=subscription_id).update(renew_at=now + RETRY_AFTER):
            claimed.append(subscription_id)
            transaction.on_commit(partial(websub_subscribe_task.enqueue, subscription_id))
    return claimed


@task()
def renew_websub_leases_task() -> list[int]:
    """Periodic entry point: renew the WebSub subscriptions that are due."""
    if not is_enabled():
        return []
    return renew_due()
