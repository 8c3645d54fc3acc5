"""The originals watch (syndication/originals.py, docs/provenance-watch.md): the originals of
live articles are re-checked politely, and one that is gone, sent to a home page, dropped from
its feed or retracted is flagged for editors, or withdrawn when its source says so.

Every original is served by a local server; nothing leaves the machine.
"""

import datetime
from io import StringIO

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from articles.models import Article, ArticleStatus, ProvenancePolicy
from syndication.items import ParsedItem
from syndication.models import Feed, ImportedItem, OriginalCheck, OriginalOutcome
from syndication.originals import (
    RETRACTION_PHRASES,
    HostPacer,
    check_originals,
    redirected_home,
    retraction_notice,
)
from syndication.parsers import dedupe_key
from syndication.tasks import enqueue_due_feeds

from .factories import LicensedSourceFactory, PublishedArticleFactory, make_user
from .feedbuilders import rss, story
from .httpserver import LocalServer, redirect

pytestmark = pytest.mark.django_db

PAGE = b"<html><body><h1>Cranes return</h1><p>The cranes are back.</p></body></html>"


@pytest.fixture(autouse=True)
def _local_and_fast(settings):
    settings.SYNDICATION_ALLOWED_HOSTS = ["127.0.0.1"]
    settings.SYNDICATION_DEADLINE = 5
    settings.ORIGINAL_CHECK_HOST_INTERVAL = 0
    settings.ORIGINAL_CHECK_PER_HOST = 100


@pytest.fixture
def server():
    with LocalServer() as running:
        yield running


def live_article(server, path: str, **fields) -> Article:
    return PublishedArticleFactory(original_url=server.url(path), **fields)


def check_of(article) -> OriginalCheck:
    return OriginalCheck.objects.get(article=article)


class TestWhatCountsAsGone:
    @pytest.mark.parametrize("status", [404, 410])
    def test_a_deleted_original_is_flagged_with_the_status_as_evidence(self, server, status):
        server.routes["/story"] = (status, {}, b"not here")
        article = live_article(server, "/story")

        run = check_originals()

        check = check_of(article)
        assert (check.outcome, check.flagged) == (OriginalOutcome.GONE, True)
        assert f"answered HTTP {status}" in check.evidence
        assert run.flagged == 1
        article.refresh_from_db()
        assert article.is_live  # flag policy: still live, an editor decides

    def test_a_redirect_to_the_home_page_is_flagged(self, server):
        server.routes["/news/story"] = redirect("/")
        server.routes["/"] = (200, {}, b"<html><body>Home</body></html>")
        article = live_article(server, "/news/story")

        check_originals()

        check = check_of(article)
        assert check.outcome == OriginalOutcome.REDIRECTED_HOME and check.flagged
        assert server.url("/") in check.evidence

    def test_a_redirect_to_the_sources_homepage_counts_as_the_home_page(self):
        assert redirected_home(
            "https://post.example/2026/story",
            "https://post.example/en/welcome",
            homepage="https://post.example/en/welcome/",
        )

    def test_a_redirect_to_another_article_is_not_gone(self, server):
        server.routes["/old-story"] = redirect("/new-story")
        server.routes["/new-story"] = (200, {}, PAGE)
        article = live_article(server, "/old-story")

        check_originals()

        assert check_of(article).outcome == OriginalOutcome.ONLINE
        assert not check_of(article).flagged

    def test_a_retraction_notice_in_the_page_is_flagged_with_its_words(self, server):
        page = (
            b"<html><body><p class=note>Editor's note: This article has been retracted "
            b"after the data turned out wrong.</p><p>The cranes are back.</p></body></html>"
        )
        server.routes["/story"] = (200, {"Content-Type": "text/html"}, page)
        article = live_article(server, "/story")

        check_originals()

        check = check_of(article)
        assert check.outcome == OriginalOutcome.RETRACTED and check.flagged
        assert "this article has been retracted" in check.evidence

    def test_a_story_about_someone_elses_retraction_is_not_a_retraction_notice(self):
        page = (
            b"<p>The journal said the paper was retracted last week.</p>"
            b"<script>var s = 'this article has been removed';</script>"
        )
        assert retraction_notice(page) == ""

    def test_every_documented_phrase_is_recognised(self):
        for phrase in RETRACTION_PHRASES:
            assert retraction_notice(f"<p>{phrase.upper()}.</p>".encode())

    def test_an_original_on_a_private_address_is_never_fetched_nor_flagged(self, no_network):
        article = PublishedArticleFactory(
            original_url="http://169.254.169.254/latest/meta-data/",
            source=LicensedSourceFactory(on_original_gone=ProvenancePolicy.WITHDRAW),
        )

        check_originals()

        check = check_of(article)
        assert check.outcome == OriginalOutcome.UNREACHABLE and not check.flagged
        assert "not a public address" in check.evidence
        assert no_network == []
        article.refresh_from_db()
        assert article.is_live

    def test_a_server_error_flags_nothing_and_is_recorded_as_unchecked(self, server):
        server.routes["/story"] = (503, {}, b"busy")
        article = live_article(server, "/story")

        check_originals()

        check = check_of(article)
        assert check.outcome == OriginalOutcome.UNREACHABLE and not check.flagged
        assert "503" in check.evidence


class TestDroppedFromItsFeed:
    """An item is gone from its feed only when the feed still lists items published before
    and after it: an item that scrolled off the end of the feed is not."""

    def imported(self, server, feed, number: int, published: datetime.datetime) -> Article:
        link = server.url(f"/news/{number}")
        server.routes[f"/news/{number}"] = (200, {}, PAGE)
        article = PublishedArticleFactory(
            source=feed.source, original_url=link, original_published_at=published
        )
        ImportedItem.objects.create(
            article=article,
            source=feed.source,
            feed=feed,
            guid=f"courier-{number}",
            dedupe_key=dedupe_key(ParsedItem(guid=f"courier-{number}", link=link)),
            content_hash="x",
        )
        return article

    def serve_feed(self, server, numbers):
        entries = [
            story(n, link=server.url(f"/news/{n}"), published=f"Tue, 0{n} Mar 2026 10:00:00 GMT")
            for n in numbers
        ]
        server.routes["/feed.xml"] = (200, {"Content-Type": "application/rss+xml"}, rss(entries))

    @pytest.fixture
    def feed(self, server):
        return Feed.objects.create(source=LicensedSourceFactory(), url=server.url("/feed.xml"))

    def day(self, n: int) -> datetime.datetime:
        return datetime.datetime(2026, 3, n, 10, tzinfo=datetime.UTC)

    def test_an_item_missing_between_its_neighbours_is_flagged(self, server, feed):
        articles = {n: self.imported(server, feed, n, self.day(n)) for n in (1, 2, 3)}
        self.serve_feed(server, [1, 3])

        check_originals()

        check = check_of(articles[2])
        assert check.outcome == OriginalOutcome.DROPPED_FROM_FEED and check.flagged
        assert "1 item(s) published before it and 1 after it" in check.evidence
        assert not check_of(articles[1]).flagged and not check_of(articles[3]).flagged
        feed_requests = [r for r in server.requests if r.path == "/feed.xml"]
        assert len(feed_requests) == 1  # read once per run, whatever the number of articles

    def test_the_oldest_item_scrolling_off_the_feed_is_not_flagged(self, server, feed):
        oldest = self.imported(server, feed, 1, self.day(1))
        self.imported(server, feed, 2, self.day(2))
        self.serve_feed(server, [2, 3])

        check_originals()

        assert check_of(oldest).outcome == OriginalOutcome.ONLINE

    def test_a_feed_that_cannot_be_read_proves_nothing(self, server, feed):
        article = self.imported(server, feed, 2, self.day(2))
        server.routes["/feed.xml"] = (500, {}, b"")

        check_originals()

        assert check_of(article).outcome == OriginalOutcome.ONLINE


class TestPoliteness:
    def test_the_next_check_is_conditional_and_a_304_means_still_online(self, server, settings):
        def page(request):
            if request.headers.get("if-none-match") == '"v1"':
                return (304, {"ETag": '"v1"'}, b"")
            return (200, {"ETag": '"v1"', "Last-Modified": "Tue, 03 Mar 2026 10:00:00 GMT"}, PAGE)

        server.routes["/story"] = page
        article = live_article(server, "/story")
        check_originals()
        later = timezone.now() + datetime.timedelta(hours=settings.ORIGINAL_RECHECK_HOURS + 1)

        check_originals(now=later)

        assert server.requests[-1].headers["if-none-match"] == '"v1"'
        assert server.requests[-1].headers["if-modified-since"] == "Tue, 03 Mar 2026 10:00:00 GMT"
        check = check_of(article)
        assert check.outcome == OriginalOutcome.ONLINE and "304" in check.evidence
        assert check.last_checked_at == later

    def test_an_original_checked_recently_is_not_checked_again(self, server):
        server.routes["/story"] = (200, {}, PAGE)
        live_article(server, "/story")
        check_originals()

        run = check_originals()

        assert run.checked == [] and len(server.requests) == 1

    def test_oldest_check_first_never_checked_before_all_and_at_most_the_limit(
        self, server, settings
    ):
        for name in ("a", "b", "c"):
            server.routes[f"/{name}"] = (200, {}, PAGE)
        now = timezone.now()
        long_ago, less_long_ago = (now - datetime.timedelta(days=d) for d in (9, 3))
        old = live_article(server, "/a")
        recent = live_article(server, "/b")
        never = live_article(server, "/c")
        OriginalCheck.objects.create(article=old, last_checked_at=long_ago)
        OriginalCheck.objects.create(article=recent, last_checked_at=less_long_ago)

        run = check_originals(limit=2)

        assert [line.article for line in run.checked] == [never, old]
        assert check_of(recent).last_checked_at == less_long_ago

    def test_a_flagged_original_waits_for_an_editor_and_is_not_checked_again(self, server):
        article = live_article(server, "/story")
        OriginalCheck.objects.create(
            article=article, outcome=OriginalOutcome.GONE, flagged=True, last_checked_at=None
        )

        assert check_originals().checked == [] and server.requests == []

    def test_the_pacer_waits_between_two_requests_to_one_host(self):
        clock, slept = [100.0], []

        def sleep(seconds):
            slept.append(seconds)
            clock[0] += seconds

        pacer = HostPacer(5, 10, clock=lambda: clock[0], sleep=sleep)
        assert pacer.take_turn("post.example")
        clock[0] += 2
        assert pacer.take_turn("post.example")
        assert pacer.take_turn("other.example")

        assert slept == [3.0]  # one wait, for the host asked twice, never for the other

    def test_a_host_past_its_share_of_a_run_waits_for_the_next_run(self, server, settings):
        settings.ORIGINAL_CHECK_PER_HOST = 2
        for name in ("a", "b", "c"):
            server.routes[f"/{name}"] = (200, {}, PAGE)
            live_article(server, f"/{name}")

        run = check_originals()

        assert (len(run.checked), run.deferred) == (2, 1)
        assert len(server.requests) == 2


class TestPolicies:
    def test_a_withdraw_policy_takes_the_article_down_with_the_reason_on_its_410_page(
        self, server, client
    ):
        source = LicensedSourceFactory(
            name="Harbour Post", on_original_gone=ProvenancePolicy.WITHDRAW
        )
        server.routes["/story"] = (410, {}, b"")
        article = live_article(server, "/story", source=source)

        run = check_originals()

        article.refresh_from_db()
        assert article.status == ArticleStatus.WITHDRAWN and run.withdrawn == 1
        response = client.get(article.get_absolute_url())
        assert response.status_code == 410
        assert "Harbour Post has deleted the original article." in response.content.decode()

    def test_a_flag_policy_leaves_the_article_live(self, server, client):
        server.routes["/story"] = (404, {}, b"")
        article = live_article(server, "/story")

        check_originals()

        assert client.get(article.get_absolute_url()).status_code == 200


class TestCommandAndTask:
    def test_the_command_checks_one_source_and_prints_a_summary(self, server):
        server.routes["/gone"] = (404, {}, b"")
        server.routes["/fine"] = (200, {}, PAGE)
        watched = live_article(server, "/gone", title="Cranes return")
        live_article(server, "/fine")  # another source: left alone
        out = StringIO()

        call_command("check_originals", "--source", watched.source.slug, "--limit", "5", stdout=out)

        text = out.getvalue()
        assert "Cranes return" in text and OriginalOutcome.GONE in text
        assert "Checked 1, flagged 1, withdrawn 0" in text
        assert [r.path for r in server.requests] == ["/gone"]

    def test_the_command_refuses_an_unknown_source(self):
        with pytest.raises(Exception, match="no source with the slug"):
            call_command("check_originals", "--source", "nobody", stdout=StringIO())

    def test_the_scheduling_pass_enqueues_one_check_per_interval(
        self, server, django_capture_on_commit_callbacks
    ):
        server.routes["/story"] = (404, {}, b"")
        article = live_article(server, "/story")

        with django_capture_on_commit_callbacks(execute=True):
            enqueue_due_feeds()
        with django_capture_on_commit_callbacks(execute=False) as second_pass:
            enqueue_due_feeds()

        assert check_of(article).flagged  # the task ran (tests run tasks inline)
        assert second_pass == []


class TestAdmin:
    @pytest.fixture
    def editor(self, client):
        client.force_login(make_user("editor", groups=("Editors",)))
        return client

    def test_flagged_articles_have_a_filter_and_their_evidence_on_the_change_page(
        self, editor, django_assert_max_num_queries
    ):
        gone = PublishedArticleFactory(title="Cranes return")
        OriginalCheck.objects.create(
            article=gone,
            outcome=OriginalOutcome.GONE,
            flagged=True,
            evidence="https://origin.example/story answered HTTP 404.",
        )
        for n in range(5):
            fine = PublishedArticleFactory(title=f"Still fine {n}")
            OriginalCheck.objects.create(article=fine, outcome=OriginalOutcome.ONLINE)
        url = reverse("admin:articles_article_changelist")

        with django_assert_max_num_queries(20):
            listing = editor.get(url, {"original": "gone"})

        assert listing.status_code == 200
        assert list(listing.context["cl"].result_list) == [gone]
        assert "Original gone or retracted: 1" in editor.get(url).content.decode()
        page = editor.get(reverse("admin:articles_article_change", args=[gone.pk]))
        assert "answered HTTP 404" in page.content.decode()

    def test_an_editor_clears_a_flag_from_the_checks_list(self, editor):
        check = OriginalCheck.objects.create(
            article=PublishedArticleFactory(), outcome=OriginalOutcome.GONE, flagged=True
        )

        editor.post(
            reverse("admin:syndication_originalcheck_changelist"),
            {"action": "clear_flags", "_selected_action": [check.pk]},
        )

        check.refresh_from_db()
        assert not check.flagged
