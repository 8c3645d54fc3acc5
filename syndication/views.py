"""The WebSub callback: hubs verify our subscriptions and push new feed documents here.

A notification is imported inline, within the hub's request, through the same pipeline as a
poll (`import_feed(fetched=...)`), so a pushed article exists by the time the hub gets its
answer. Answers:

* unknown callback token: 404, for verifications and notifications alike;
* verification: the challenge (200) when mode and topic match a subscription we asked for,
  else 404 (see `syndication.websub.verify_intent`);
* notification larger than `SYNDICATION_MAX_BYTES`: 413, unread;
* notification with a missing or wrong `X-Hub-Signature`: 202 and ignored. WebSub §8 lets a
  subscriber acknowledge a message it discards, which tells a forger nothing;
* notification for a lapsed subscription or a switched-off feed: 410, so the hub stops;
* otherwise the document is imported and the answer is 204, whatever the import found
  (its run is in the admin's import log, triggered by "WebSub notification").
"""

import logging

from django.conf import settings
from django.http import HttpResponse, HttpResponseNotFound
from django.shortcuts import get_object_or_404
from django.utils.http import parse_header_parameters
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from syndication import websub
from syndication.entry import import_feed
from syndication.models import Trigger, WebSubSubscription

logger = logging.getLogger(__name__)


@csrf_exempt  # hubs are other servers: the token in the URL and the signature authenticate
@never_cache
@require_http_methods(["GET", "POST"])
def websub_callback(request, token: str):
    subscription = get_object_or_404(
        WebSubSubscription.objects.select_related("feed__source"), callback_token=token
    )
    if request.method == "GET":
        challenge = websub.verify_intent(subscription, request.GET)
        if challenge is None:
            return HttpResponseNotFound("No such subscription request.")
        return HttpResponse(challenge, content_type="text/plain; charset=utf-8")
    return _notification(request, subscription)


def _notification(request, subscription: WebSubSubscription):
    limit = settings.SYNDICATION_MAX_BYTES
    declared = request.headers.get("Content-Length", "").strip()
    if declared.isdigit() and int(declared) > limit:
        return HttpResponse("Too large.", status=413, content_type="text/plain")
    body = request.read(limit + 1)
    if len(body) > limit:
        return HttpResponse("Too large.", status=413, content_type="text/plain")
    signature = request.headers.get("X-Hub-Signature", "")
    if not websub.signature_matches(subscription.secret, signature, body):
        logger.warning("WebSub notification for %s ignored: bad signature", subscription.topic)
        return HttpResponse(status=202)
    feed = subscription.feed
    if not subscription.is_live() or not (feed.is_active and feed.source.is_active):
        return HttpResponse("Not subscribed.", status=410, content_type="text/plain")
    content_type, params = parse_header_parameters(request.headers.get("Content-Type", ""))
    fetched = websub.notification(subscription, body, content_type, params.get("charset", ""))
    run = import_feed(feed, triggered_by=Trigger.WEBSUB, fetched=fetched)
    WebSubSubscription.objects.filter(pk=subscription.pk).update(last_notified_at=run.started_at)
    return HttpResponse(status=204)
