"""Rights over time (docs/provenance-watch.md): when a permission or licence expires or is
revoked, a source's live articles follow its policy (flagged for editors, or gone at that
moment with no job to run, like a scheduled publication); a permission may allow only an
excerpt, which the page, the feeds and the API all respect.
"""

import datetime
import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from articles.models import (
    Article,
    ArticleStatus,
    ProvenancePolicy,
    PublishingBlocked,
    RightsScope,
)
from articles.sanitize import first_paragraph
from articles.site import caching as http_cache

from .factories import (
    ArticleFactory,
    LicensedSourceFactory,
    PublishedArticleFactory,
    RegionFactory,
    make_user,
)

pytestmark = pytest.mark.django_db

CACHE_STATUS = http_cache.CACHE_STATUS_HEADER
JUNE_17 = datetime.date(2026, 6, 17)  # the frozen day (tests/conftest.py)


def source_with_rights(name="Harbour Post", *, policy=ProvenancePolicy.WITHDRAW, **rights):
    source = LicensedSourceFactory(name=name, on_rights_end=policy)
    for field, value in rights.items():
        setattr(source.rights, field, value)
    source.rights.save()
    return source


def move_clock_to(monkeypatch, moment: datetime.datetime) -> None:
    """The time Django reads and the page cache compares its horizon with."""
    monkeypatch.setattr(timezone, "now", lambda: moment)
    monkeypatch.setattr(http_cache.time, "time", moment.timestamp)


def midnight_after(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(
        datetime.datetime.combine(day + datetime.timedelta(days=1), datetime.time.min)
    )


class TestWhenRightsEnd:
    def test_a_withdraw_policy_takes_articles_down_the_moment_the_permission_expires(
        self, frozen_now, monkeypatch
    ):
        source = source_with_rights(expires_on=JUNE_17)
        article = PublishedArticleFactory(source=source)
        assert list(Article.objects.published()) == [article]  # its last day

        move_clock_to(monkeypatch, midnight_after(JUNE_17))

        assert list(Article.objects.published()) == []
        assert list(Article.objects.withdrawn_for_rights()) == [article]
        article.refresh_from_db()
        assert article.status == ArticleStatus.PUBLISHED  # nothing was saved: no job ran

    def test_a_flag_policy_keeps_articles_live_and_flags_them(self, frozen_now):
        source = source_with_rights(policy=ProvenancePolicy.FLAG, expires_on=JUNE_17)
        article = PublishedArticleFactory(source=source)
        source.rights.expires_on = JUNE_17 - datetime.timedelta(days=1)
        source.rights.save()

        assert list(Article.objects.published()) == [article]
        assert list(Article.objects.flagged_for_rights()) == [article]

    def test_the_article_page_answers_410_with_the_end_of_the_permission(self, client, frozen_now):
        source = source_with_rights(expires_on=datetime.date(2026, 6, 1))
        article = PublishedArticleFactory(source=source, title="Cranes return")

        response = client.get(article.get_absolute_url())

        assert response.status_code == 410
        text = response.content.decode()
        assert "The permission to republish this article ended on 1 June 2026." in text
        assert "Cranes return" in text

    def test_a_revoked_permission_ends_on_the_day_it_was_revoked(self, client, frozen_now):
        source = source_with_rights(revoked_on=JUNE_17, revocation_reason="Asked by the owner")
        article = PublishedArticleFactory(source=source)

        response = client.get(article.get_absolute_url())

        assert response.status_code == 410
        assert "was withdrawn on 17 June 2026" in response.content.decode()
        draft = ArticleFactory(source=source)
        with pytest.raises(PublishingBlocked, match="revoked on 17 June 2026: Asked by the owner"):
            draft.publish()

    def test_the_api_answers_410_with_the_same_reason(self, client, frozen_now):
        source = source_with_rights(expires_on=datetime.date(2026, 6, 1))
        article = PublishedArticleFactory(source=source)

        response = client.get(reverse("api:article", kwargs={"slug": article.slug}))

        assert response.status_code == 410
        assert response.json()["reason"] == (
            "The permission to republish this article ended on 1 June 2026."
        )

    def test_feeds_and_sitemaps_drop_the_articles_of_an_ended_withdraw_policy(
        self, client, frozen_now
    ):
        ended = source_with_rights(expires_on=datetime.date(2026, 6, 1))
        PublishedArticleFactory(source=ended, title="Gone with the permission")
        PublishedArticleFactory(title="Still here")

        rss = client.get(reverse("discovery:feed_rss")).content.decode()
        sitemap_index = client.get(reverse("discovery:sitemap_index")).content.decode()

        assert "Still here" in rss and "Gone with the permission" not in rss
        assert sitemap_index  # the sitemaps list what published() lists (tests/test_sitemaps.py)


class TestOneArticleAnswersAsTheListingsDo:
    """`Article.is_public()` (the article page's test, on the row and rights it loaded) says of
    every article what `Article.objects.published()` (every listing's rule) says."""

    @pytest.mark.parametrize("policy", [ProvenancePolicy.WITHDRAW, ProvenancePolicy.FLAG])
    @pytest.mark.parametrize(
        "rights",
        [
            {},
            {"expires_on": JUNE_17},
            {"expires_on": JUNE_17 - datetime.timedelta(days=1)},
            {"revoked_on": JUNE_17},
            {"revoked_on": JUNE_17 + datetime.timedelta(days=1)},
            None,
        ],
        ids=["holding", "expires-today", "expired", "revoked-today", "revoked-tomorrow", "none"],
    )
    @pytest.mark.parametrize(
        ("status", "hours_ago"),
        [
            (ArticleStatus.PUBLISHED, 1),
            (ArticleStatus.PUBLISHED, -1),
            (ArticleStatus.DRAFT, 1),
            (ArticleStatus.WITHDRAWN, 1),
        ],
        ids=["published", "scheduled", "draft", "withdrawn"],
    )
    def test_is_public_agrees_with_published(self, frozen_now, policy, rights, status, hours_ago):
        source = source_with_rights(policy=policy, **(rights or {}))
        if rights is None:
            source.rights.delete()
        article = ArticleFactory(
            source=source,
            status=status,
            published_at=timezone.now() - datetime.timedelta(hours=hours_ago),
        )
        loaded = Article.objects.select_related("source__rights").get(pk=article.pk)

        assert loaded.is_public() == Article.objects.published().filter(pk=article.pk).exists()


class TestCachedPagesFollowTheExpiry:
    """A page cached before the permission ends is not served after it. The clock starts
    three minutes before midnight: within the page cache's lifetime."""

    @pytest.fixture
    def ending(self, frozen_now, monkeypatch):
        move_clock_to(monkeypatch, midnight_after(JUNE_17) - datetime.timedelta(minutes=3))
        source = source_with_rights(expires_on=JUNE_17)
        region = RegionFactory(name="Harbour")
        article = PublishedArticleFactory(source=source, title="Cranes return")
        article.regions.add(region)
        return article, reverse("articles:region", kwargs={"slug": region.slug})

    def test_pages_stay_cached_until_the_last_second_of_the_permission(
        self, client, ending, monkeypatch
    ):
        article, listing = ending
        client.get(article.get_absolute_url())
        client.get(listing)

        move_clock_to(monkeypatch, midnight_after(JUNE_17) - datetime.timedelta(seconds=1))

        assert client.get(article.get_absolute_url())[CACHE_STATUS] == "hit"
        assert client.get(listing)[CACHE_STATUS] == "hit"

    def test_the_article_page_and_its_listing_change_at_midnight(self, client, ending, monkeypatch):
        article, listing = ending
        assert client.get(article.get_absolute_url()).status_code == 200
        assert b"Cranes return" in client.get(listing).content
        assert client.get(listing)[CACHE_STATUS] == "hit"

        move_clock_to(monkeypatch, midnight_after(JUNE_17))

        assert client.get(article.get_absolute_url()).status_code == 410
        assert b"Cranes return" not in client.get(listing).content


class TestExcerptScope:
    BODY = (
        "<p></p><p>First paragraph, the lede.</p><p>Second paragraph, not ours to show.</p>"
        "<p>Third.</p>"
    )

    @pytest.fixture
    def excerpted(self):
        source = source_with_rights(scope=RightsScope.EXCERPT, policy=ProvenancePolicy.FLAG)
        return PublishedArticleFactory(
            source=source,
            dek="Cranes are back in the harbour.",
            body=self.BODY,
            original_url="https://harbour-post.example/cranes",
        )

    def test_the_page_shows_the_dek_the_first_paragraph_and_a_link_to_the_original(
        self, client, excerpted
    ):
        text = client.get(excerpted.get_absolute_url()).content.decode()

        assert "Cranes are back in the harbour." in text
        assert "First paragraph, the lede." in text
        assert "Second paragraph" not in text and "Third." not in text
        assert (
            '<a href="https://harbour-post.example/cranes" rel="noopener">'
            "Read the full article at Harbour Post</a>"
        ) in text

    @pytest.mark.parametrize("feed", ["discovery:feed_rss", "discovery:feed_atom"])
    def test_rss_and_atom_give_the_excerpt_only(self, client, excerpted, feed):
        text = client.get(reverse(feed)).content.decode()

        assert "First paragraph, the lede." in text
        assert "Second paragraph" not in text
        assert "Read the full article at Harbour Post" in text

    def test_json_feed_gives_the_excerpt_only(self, client, excerpted):
        item = json.loads(client.get(reverse("discovery:feed_json")).content)["items"][0]

        assert "First paragraph" in item["content_html"]
        assert "Second paragraph" not in item["content_html"]

    def test_the_api_gives_the_excerpt_and_says_so(self, client, excerpted):
        article = client.get(reverse("api:article", kwargs={"slug": excerpted.slug})).json()
        listed = client.get(reverse("api:articles")).json()["items"][0]

        assert article["body"] == "<p>First paragraph, the lede.</p>"
        assert article["excerpt_only"] is True and listed["excerpt_only"] is True
        assert article["source"]["licence"]["scope"] == "excerpt"

    def test_a_full_permission_shows_the_whole_body(self, client):
        article = PublishedArticleFactory(body=self.BODY)

        text = client.get(article.get_absolute_url()).content.decode()

        assert "Second paragraph, not ours to show." in text
        assert "Read the full article" not in text

    def test_a_body_without_paragraphs_gives_its_first_words(self):
        words = " ".join(f"word{n}" for n in range(80))

        excerpt = first_paragraph(f"<div>{words}</div>")

        assert excerpt.startswith("<p>word0 word1") and "word59 …</p>" in excerpt
        assert "word60" not in excerpt

    def test_the_excerpt_of_a_nested_paragraph_keeps_its_markup_and_nothing_after_it(self):
        html = (
            '<blockquote><p>Quoted <a href="https://x.example/">lede</a>.</p></blockquote><p>B</p>'
        )

        assert first_paragraph(html) == (
            '<p>Quoted <a href="https://x.example/" rel="noopener noreferrer">lede</a>.</p>'
        )


class TestAdminAndReport:
    @pytest.fixture
    def staff(self, client):
        client.force_login(make_user("boss", is_superuser=True))
        return client

    def test_the_source_list_links_to_permissions_expiring_in_30_days(
        self, staff, frozen_now, django_assert_max_num_queries
    ):
        soon = source_with_rights("Soon", expires_on=JUNE_17 + datetime.timedelta(days=10))
        source_with_rights("Later", expires_on=JUNE_17 + datetime.timedelta(days=90))
        source_with_rights("Never")
        source_with_rights("Expired", expires_on=JUNE_17 - datetime.timedelta(days=1))
        url = reverse("admin:articles_source_changelist")

        text = staff.get(url).content.decode()
        with django_assert_max_num_queries(12):
            expiring = staff.get(url, {"rights": "expiring"})

        assert 'href="?rights=expiring">Permissions expiring in 30 days: 1</a>' in text
        assert list(expiring.context["cl"].result_list) == [soon]
        assert "valid, expires on 2026-06-27" in expiring.content.decode()

    def test_articles_flagged_for_ended_rights_have_a_filter_and_a_note(self, staff, frozen_now):
        source = source_with_rights(
            policy=ProvenancePolicy.FLAG, expires_on=JUNE_17 - datetime.timedelta(days=2)
        )
        flagged = PublishedArticleFactory(source=source)
        PublishedArticleFactory()
        url = reverse("admin:articles_article_changelist")

        listing = staff.get(url, {"rights_ended": "flagged"})
        page = staff.get(reverse("admin:articles_article_change", args=[flagged.pk]))

        assert list(listing.context["cl"].result_list) == [flagged]
        assert "Rights ended, still live: 1" in staff.get(url).content.decode()
        assert "expired on 15 June 2026" in page.content.decode()

    def test_the_rights_report_lists_expiring_and_ended_rights_with_live_articles(self, frozen_now):
        soon = source_with_rights("Soon Post", expires_on=JUNE_17 + datetime.timedelta(days=5))
        revoked = source_with_rights("Revoked Post", revoked_on=JUNE_17)
        for _ in range(3):
            PublishedArticleFactory(source=revoked)
        PublishedArticleFactory(source=soon)
        ArticleFactory(source=soon)  # a draft is not live
        out = StringIO()

        call_command("rights_report", stdout=out)

        lines = out.getvalue().splitlines()
        assert "Expiring in the next 30 days: 1" in lines
        assert "Ended (expired or revoked): 1" in lines
        soon_line = next(line for line in lines if line.startswith("Soon Post"))
        revoked_line = next(line for line in lines if line.startswith("Revoked Post"))
        assert "expires 2026-06-22" in soon_line and soon_line.endswith(" 1")
        assert "revoked 2026-06-17" in revoked_line and revoked_line.endswith(" 3")
        assert "Withdraw them" in revoked_line
