"""WebSub in: a feed that names a hub is subscribed to, verified, renewed and pushed to us.

The hub is our own, on 127.0.0.1: it verifies intent against the site's callback and then
delivers a signed notification, and the pushed article exists with no poll in between.
"""

import datetime
import hashlib
import hmac
import threading
from urllib.parse import parse_qs, urlencode

import httpx
import pytest
from django.urls import reverse
from django.utils import timezone

from articles.models import Article
from syndication.entry import import_feed
from syndication.fetching.client import HTTPStatusError, UnsafeURL, post_form
from syndication.models import Feed, ImportRun, Trigger, WebSubState, WebSubSubscription
from syndication.parsers import parse_feed
from syndication.websub import note_hubs, renew_due, signature_matches, subscribe
from tests.factories import LicensedSourceFactory

from .httpserver import LocalServer

pytestmark = pytest.mark.django_db

SECRET = "s3cret-of-the-subscription"


def rss_with_hub(hub: str, self_url: str, stories: list[tuple[str, str]]) -> bytes:
    items = "".join(
        f"<item><guid>{guid}</guid><title>{title}</title>"
        f"<link>https://courier.example/{guid}</link></item>"
        for guid, title in stories
    )
    return (
        '<?xml version="1.0"?><rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom">'
        "<channel><title>Courier</title><link>https://courier.example/</link>"
        f'<atom:link rel="hub" href="{hub}"/><atom:link rel="self" href="{self_url}"/>'
        f"{items}</channel></rss>"
    ).encode()


def signed(body: bytes, secret: str = SECRET, method: str = "sha256") -> str:
    return f"{method}={hmac.new(secret.encode(), body, getattr(hashlib, method)).hexdigest()}"


@pytest.fixture
def local_fetches(settings):
    settings.SYNDICATION_ALLOWED_HOSTS = ["127.0.0.1"]
    settings.SYNDICATION_DEADLINE = 10


@pytest.fixture
def subscription():
    feed = Feed.objects.create(source=LicensedSourceFactory(), url="https://courier.example/rss")
    now = timezone.now()
    return WebSubSubscription.objects.create(
        feed=feed,
        hub_url="https://hub.example/",
        topic="https://courier.example/rss",
        secret=SECRET,
        state=WebSubState.ACTIVE,
        verified_at=now,
        expires_at=now + datetime.timedelta(days=5),
        renew_at=now + datetime.timedelta(days=4),
    )


def callback(subscription) -> str:
    return reverse("syndication:websub-callback", args=[subscription.callback_token])


def notify(client, subscription, body: bytes, signature: str | None, **headers):
    if signature is not None:
        headers["HTTP_X_HUB_SIGNATURE"] = signature
    return client.post(callback(subscription), body, content_type="application/rss+xml", **headers)


# --- End to end: our own hub on 127.0.0.1 ------------------------------------------------------


class Hub:
    """A minimal WebSub hub: accepts a subscription (202), then, in the background, verifies
    intent with a challenge and delivers one signed notification, like a real hub does."""

    def __init__(self, notification: bytes):
        self.notification = notification
        self.subscriptions: list[dict[str, str]] = []
        self.verification: httpx.Response | None = None
        self.delivery: httpx.Response | None = None
        self.done = threading.Event()

    def __call__(self, request):
        fields = {name: values[0] for name, values in parse_qs(request.body.decode()).items()}
        self.subscriptions.append(fields)
        threading.Thread(target=self.verify_then_deliver, args=(fields,), daemon=True).start()
        return (202, {}, b"")

    def verify_then_deliver(self, fields: dict[str, str]):
        try:
            query = urlencode(
                {
                    "hub.mode": "subscribe",
                    "hub.topic": fields["hub.topic"],
                    "hub.challenge": "prove-it-4711",
                    "hub.lease_seconds": "86400",
                }
            )
            self.verification = httpx.get(f"{fields['hub.callback']}?{query}", timeout=30)
            if self.verification.text == "prove-it-4711":
                signature = hmac.new(
                    fields["hub.secret"].encode(), self.notification, hashlib.sha256
                ).hexdigest()
                self.delivery = httpx.post(
                    fields["hub.callback"],
                    content=self.notification,
                    headers={
                        "Content-Type": "application/rss+xml",
                        "X-Hub-Signature": f"sha256={signature}",
                    },
                    timeout=30,
                )
        finally:
            self.done.set()


@pytest.mark.django_db(transaction=True)
def test_a_hub_notification_creates_the_article_with_no_poll(live_server, settings):
    settings.SYNDICATION_ALLOWED_HOSTS = ["127.0.0.1"]
    settings.WEBSUB_CALLBACK_BASE = live_server.url
    with LocalServer() as server:
        hub_url, topic = server.url("/hub"), server.url("/feed.xml")
        server.routes["/feed.xml"] = (
            200,
            {"Content-Type": "application/rss+xml"},
            rss_with_hub(hub_url, topic, [("one", "Polled story")]),
        )
        hub = Hub(rss_with_hub(hub_url, topic, [("two", "Pushed story")]))
        server.routes["/hub"] = hub
        feed = Feed.objects.create(source=LicensedSourceFactory(), url=topic)

        import_feed(feed)  # the one poll: it finds the hub and subscribes
        assert hub.done.wait(30), "the hub never finished verifying and delivering"
        polls = [r for r in server.requests if r.path == "/feed.xml"]

    assert len(polls) == 1, "the pushed story must not come from a second poll"
    (request,) = hub.subscriptions
    assert request["hub.mode"] == "subscribe"
    assert request["hub.topic"] == topic
    assert request["hub.lease_seconds"] == str(settings.WEBSUB_LEASE_SECONDS)
    subscription = WebSubSubscription.objects.get(feed=feed)
    assert request["hub.callback"] == live_server.url + callback(subscription)
    assert request["hub.secret"] == subscription.secret
    assert hub.verification.status_code == 200
    assert hub.delivery.status_code == 204
    assert Article.objects.filter(title="Pushed story", source=feed.source).exists()
    assert ImportRun.objects.filter(feed=feed, trigger=Trigger.WEBSUB, created=1).exists()
    assert subscription.state == WebSubState.ACTIVE
    assert subscription.lease_seconds == 86400


# --- Subscribing ---------------------------------------------------------------------------


def test_a_feed_naming_a_hub_is_subscribed_once(
    settings, local_fetches, django_capture_on_commit_callbacks
):
    settings.WEBSUB_CALLBACK_BASE = "https://news.example.org"
    with LocalServer({"/hub": (202, {}, b"")}) as hub:
        feed = Feed.objects.create(source=LicensedSourceFactory(), url="https://c.example/rss")
        parsed = parse_feed(rss_with_hub(hub.url("/hub"), "https://c.example/self", []))
        with django_capture_on_commit_callbacks(execute=True):
            assert note_hubs(feed, parsed)
            assert not note_hubs(feed, parsed), "already requested: not asked twice"

    (request,) = hub.requests
    fields = parse_qs(request.body.decode())
    subscription = WebSubSubscription.objects.get(feed=feed)
    assert fields["hub.topic"] == ["https://c.example/self"]
    assert fields["hub.callback"][0].startswith("https://news.example.org/websub/callback/")
    assert len(subscription.callback_token) >= 40
    assert subscription.state == WebSubState.PENDING


def test_callback_tokens_and_secrets_differ_per_subscription():
    feeds = [
        Feed.objects.create(source=LicensedSourceFactory(), url=f"https://c.example/{n}")
        for n in range(2)
    ]
    first, second = (
        WebSubSubscription.objects.create(feed=feed, hub_url="https://h.example/", topic=feed.url)
        for feed in feeds
    )

    assert first.callback_token != second.callback_token
    assert first.secret != second.secret


def test_nothing_is_subscribed_while_no_callback_base_is_set(settings):
    settings.WEBSUB_CALLBACK_BASE = ""
    feed = Feed.objects.create(source=LicensedSourceFactory(), url="https://c.example/rss")

    assert not note_hubs(feed, parse_feed(rss_with_hub("https://hub.example/", "", [])))
    assert not WebSubSubscription.objects.exists()


@pytest.mark.parametrize(
    "hub",
    [
        "http://127.0.0.1:{port}/hub",
        "http://10.1.2.3/hub",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]/hub",
        "http://localhost/hub",
    ],
)
def test_a_hub_at_a_private_address_is_refused_without_a_request(settings, hub):
    settings.SYNDICATION_ALLOWED_HOSTS = []
    with LocalServer({"/hub": (202, {}, b"")}) as server:
        with pytest.raises(UnsafeURL):
            post_form(hub.format(port=server.port), {"hub.mode": "subscribe"})
        assert server.requests == []


def test_a_refused_hub_leaves_the_subscription_failed_and_retried_later(settings, subscription):
    settings.SYNDICATION_ALLOWED_HOSTS = []
    settings.WEBSUB_CALLBACK_BASE = "https://news.example.org"
    subscription.state = WebSubState.PENDING
    subscription.hub_url = "http://192.168.1.1/hub"
    now = timezone.now()

    assert not subscribe(subscription, now=now)

    subscription.refresh_from_db()
    assert subscription.state == WebSubState.FAILED
    assert "not a public address" in subscription.last_error
    assert subscription.renew_at > now


def test_a_hub_that_redirects_the_subscription_is_not_followed(local_fetches):
    with LocalServer() as server:
        server.routes["/hub"] = (307, {"Location": server.url("/elsewhere")}, b"")
        with pytest.raises(HTTPStatusError, match="307"):
            post_form(server.url("/hub"), {"hub.mode": "subscribe"})
        assert [r.path for r in server.requests] == ["/hub"]


# --- Intent verification -------------------------------------------------------------------


def verify(client, subscription, **params):
    values = {"hub.mode": "subscribe", "hub.topic": subscription.topic, "hub.challenge": "c-1"}
    values.update(params)
    return client.get(callback(subscription), values)


def test_verification_echoes_the_challenge_and_starts_the_lease(client, subscription):
    subscription.state = WebSubState.PENDING
    subscription.save()

    response = verify(client, subscription, **{"hub.lease_seconds": "7200"})

    assert response.status_code == 200
    assert response.content == b"c-1"
    subscription.refresh_from_db()
    assert subscription.state == WebSubState.ACTIVE
    assert subscription.expires_at - subscription.verified_at == datetime.timedelta(hours=2)
    assert subscription.verified_at < subscription.renew_at < subscription.expires_at


@pytest.mark.parametrize(
    "params",
    [
        {"hub.topic": "https://attacker.example/other"},
        {"hub.mode": "unsubscribe"},
        {"hub.mode": "something"},
        {"hub.challenge": ""},
    ],
)
def test_verification_that_does_not_match_our_request_is_refused(client, subscription, params):
    response = verify(client, subscription, **params)

    assert response.status_code == 404
    assert b"c-1" not in response.content


def test_verification_of_a_subscription_we_did_not_ask_for_is_refused(client, subscription):
    subscription.state = WebSubState.DENIED
    subscription.save()

    assert verify(client, subscription).status_code == 404


def test_an_unknown_callback_is_not_found(client, subscription):
    url = reverse("syndication:websub-callback", args=["not-a-token"])

    assert client.get(url, {"hub.challenge": "x"}).status_code == 404
    assert client.post(url, b"<rss/>", content_type="application/rss+xml").status_code == 404


def test_a_denial_from_the_hub_is_recorded(client, subscription):
    response = verify(client, subscription, **{"hub.mode": "denied", "hub.reason": "no"})

    assert response.status_code == 200
    subscription.refresh_from_db()
    assert subscription.state == WebSubState.DENIED
    assert "denied" in subscription.last_error


# --- Notifications ---------------------------------------------------------------------------

PUSHED = rss_with_hub("https://hub.example/", "https://courier.example/rss", [("p", "Pushed")])


@pytest.mark.parametrize("method", ["sha1", "sha256", "sha384", "sha512"])
def test_a_signed_notification_is_imported_at_once(client, subscription, method):
    response = notify(client, subscription, PUSHED, signed(PUSHED, method=method))

    assert response.status_code == 204
    article = Article.objects.get(title="Pushed")
    assert article.source == subscription.feed.source
    run = ImportRun.objects.get(feed=subscription.feed)
    assert run.trigger == Trigger.WEBSUB
    subscription.refresh_from_db()
    assert subscription.last_notified_at == run.started_at


@pytest.mark.parametrize(
    "signature",
    [
        None,
        "",
        "sha256=" + "0" * 64,
        signed(PUSHED, secret="the wrong secret"),
        signed(PUSHED + b" ", method="sha256"),
        "md5=" + hashlib.md5(PUSHED).hexdigest(),  # noqa: S324 - a method we refuse
        signed(PUSHED).replace("sha256=", ""),
    ],
)
def test_a_notification_without_the_right_signature_is_acknowledged_and_ignored(
    client, subscription, signature
):
    response = notify(client, subscription, PUSHED, signature)

    assert response.status_code == 202
    assert not Article.objects.exists()
    assert not ImportRun.objects.exists(), "nothing may be parsed before the signature passes"


def test_the_signature_is_checked_before_the_body_is_parsed(client, subscription):
    bomb = b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaa">]><rss>&a;</rss>'

    response = notify(client, subscription, bomb, "sha256=forged")

    assert response.status_code == 202
    assert not ImportRun.objects.exists()


def test_a_notification_over_the_size_cap_is_refused_unread(client, subscription, settings):
    settings.SYNDICATION_MAX_BYTES = 1000
    body = PUSHED + b" " * 1000

    response = notify(client, subscription, body, signed(body))

    assert response.status_code == 413
    assert not ImportRun.objects.exists()


def test_a_notification_for_a_lapsed_lease_or_a_switched_off_feed_is_gone(client, subscription):
    subscription.expires_at = timezone.now() - datetime.timedelta(minutes=1)
    subscription.save()
    assert notify(client, subscription, PUSHED, signed(PUSHED)).status_code == 410

    subscription.expires_at = None
    subscription.save()
    Feed.objects.filter(pk=subscription.feed_id).update(is_active=False)
    assert notify(client, subscription, PUSHED, signed(PUSHED)).status_code == 410
    assert not Article.objects.exists()


def test_signature_comparison_accepts_only_the_exact_digest():
    body = b"payload"

    assert signature_matches(SECRET, signed(body), body)
    assert signature_matches(SECRET, signed(body).upper().replace("SHA256", "sha256"), body)
    assert not signature_matches(SECRET, signed(body), b"payload!")
    assert not signature_matches(SECRET, "sha256", body)


# --- Polling as the fallback, and lease renewal ---------------------------------------------


def test_polling_goes_on_at_the_longer_interval_while_the_hub_pushes(subscription, settings):
    settings.WEBSUB_FALLBACK_POLL_INTERVAL = 600
    feed = subscription.feed
    feed.poll_interval = 30
    now = timezone.now()

    feed.record_success(now=now)
    assert feed.next_fetch_at == now + datetime.timedelta(minutes=600)

    subscription.expires_at = now - datetime.timedelta(seconds=1)
    subscription.save()
    feed.record_success(now=now)
    assert feed.next_fetch_at == now + datetime.timedelta(minutes=30)


def test_leases_are_renewed_before_they_expire(
    subscription, settings, local_fetches, django_capture_on_commit_callbacks
):
    settings.WEBSUB_CALLBACK_BASE = "https://news.example.org"
    with LocalServer({"/hub": (202, {}, b"")}) as hub:
        subscription.hub_url = hub.url("/hub")
        subscription.save()
        before_renewal = subscription.renew_at - datetime.timedelta(minutes=1)
        with django_capture_on_commit_callbacks(execute=True):
            assert renew_due(before_renewal) == []
            assert renew_due(subscription.renew_at) == [subscription.pk]
            assert renew_due(subscription.renew_at) == [], "claimed: not queued twice"
        (request,) = hub.requests

    assert parse_qs(request.body.decode())["hub.mode"] == ["subscribe"]
    subscription.refresh_from_db()
    assert subscription.state == WebSubState.ACTIVE, "still live while the renewal is verified"


def test_the_due_feeds_pass_also_renews_leases(subscription, settings):
    from syndication.tasks import enqueue_due_feeds

    settings.WEBSUB_CALLBACK_BASE = "https://news.example.org"
    subscription.renew_at = timezone.now() - datetime.timedelta(minutes=1)
    subscription.save()

    enqueue_due_feeds()

    subscription.refresh_from_db()
    assert subscription.renew_at > timezone.now()


def test_the_feed_admin_shows_the_subscription_but_never_its_secret_or_callback(
    client, subscription
):
    from tests.factories import make_user

    from .admin_helpers import PASSWORD

    make_user("chief", is_superuser=True)
    client.login(username="chief", password=PASSWORD)

    page = client.get(reverse("admin:syndication_feed_change", args=[subscription.feed_id]))

    assert page.status_code == 200
    assert b"Active: the hub pushes new items" in page.content
    assert SECRET.encode() not in page.content
    assert subscription.callback_token.encode() not in page.content


def test_the_link_header_names_the_hub_before_the_document(
    settings, local_fetches, django_capture_on_commit_callbacks
):
    settings.WEBSUB_CALLBACK_BASE = "https://news.example.org"
    with LocalServer({"/hub": (202, {}, b"")}) as hub:
        feed = Feed.objects.create(source=LicensedSourceFactory(), url="https://c.example/rss")
        parsed = parse_feed(rss_with_hub("https://document.example/hub", "https://c.example/d", []))
        header = f'<{hub.url("/hub")}>; rel="hub", <https://c.example/linked>; rel=self'
        with django_capture_on_commit_callbacks(execute=True):
            assert note_hubs(feed, parsed, link_header=header)
        (request,) = hub.requests

    assert parse_qs(request.body.decode())["hub.topic"] == ["https://c.example/linked"]
    assert WebSubSubscription.objects.get(feed=feed).hub_url == hub.url("/hub")


@pytest.mark.parametrize(
    ("header", "hubs"),
    [
        ('<https://h.example/>; rel="hub"', ["https://h.example/"]),
        ('<https://a.example/>; rel="self hub"', ["https://a.example/"]),
        ('<javascript:alert(1)>; rel="hub"', []),
        ("<https://h.example/>", []),
        ('<https://h.example/>; rel="alternate"', []),
        ("garbage <<>>;;", []),
    ],
)
def test_link_headers_are_read_strictly(header, hubs):
    from syndication.websub import header_links

    assert header_links(header).get("hub", []) == hubs
