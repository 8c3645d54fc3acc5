"""Invalidation follows what readers can see (articles/site/signals.py and generation.py).

Drafts, articles in review and imports change nothing a reader is served: every cached page
is still answered without a query. A publish, withdrawal or edit of a live article refreshes
its page, home, its listings, feeds and search, once per transaction, and leaves the pages of
unrelated articles cached. Page-cache keys keep only the query parameters a page reads.
"""

import datetime
import os
import uuid

import pytest
from django.core.cache import caches
from django.core.checks import Error
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.db import transaction
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from articles.models import (
    Article,
    ArticleBlockOverride,
    ArticleStatus,
    Byline,
    Redirect,
    Source,
)
from articles.site import caching, checks, signals
from articles.site.generation import SITE, generations, site_generation
from syndication.entry import import_feed_file

from .factories import (
    ArticleFactory,
    AuthorFactory,
    ImageFactory,
    LicensedSourceFactory,
    PublishedArticleFactory,
    RegionFactory,
    ReportFactory,
    ThemeFactory,
)
from .feedbuilders import rss, story

pytestmark = pytest.mark.django_db

CACHE_STATUS = caching.CACHE_STATUS_HEADER


@pytest.fixture
def commit(django_capture_on_commit_callbacks):
    """Changes made inside run their on-commit hooks, as a committed transaction would."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


@pytest.fixture
def site(django_capture_on_commit_callbacks):
    """Two live articles in two regions, each with its own tag and author, committed."""
    with django_capture_on_commit_callbacks(execute=True):
        return make_site()


def make_site():
    north, south = RegionFactory(name="North Shore"), RegionFactory(name="South Bay")
    theme, report = ThemeFactory(name="Fisheries"), ReportFactory(title="Cold Water")
    source = LicensedSourceFactory(name="Harbour Courier")
    first = PublishedArticleFactory(title="Cranes return to the harbour", source=source)
    first.regions.add(north)
    first.tags.add("cranes")
    Byline.objects.create(article=first, author=AuthorFactory(name="Ada Marsh"))
    second = PublishedArticleFactory(
        title="Ferry timetable changes",
        published_at=timezone.now() - datetime.timedelta(days=40),
    )
    second.regions.add(south)
    second.tags.add("ferries")
    return {
        "first": first,
        "second": second,
        "north": north,
        "south": south,
        "theme": theme,
        "report": report,
        "source": source,
    }


def pages(site) -> dict[str, str]:
    first, second = site["first"], site["second"]
    return {
        "home": reverse("articles:home"),
        "first article": first.get_absolute_url(),
        "second article": second.get_absolute_url(),
        "north listing": site["north"].get_absolute_url(),
        "south listing": site["south"].get_absolute_url(),
        "theme listing": site["theme"].get_absolute_url(),
        "report listing": site["report"].get_absolute_url(),
        "source listing": site["source"].get_absolute_url(),
        "cranes tag": reverse("articles:tag", kwargs={"slug": "cranes"}),
        "rss feed": reverse("discovery:feed_rss"),
        "json feed": reverse("discovery:feed_json"),
        "north feed": reverse(
            "discovery:subject_feed_rss", kwargs={"kind": "regions", "slug": site["north"].slug}
        ),
        "search": reverse("discovery:search") + "?q=harbour",
        "sitemap": reverse("discovery:sitemap_index"),
        "news sitemap": reverse("discovery:news_sitemap"),
    }


def cache_all(client, urls) -> None:
    for name, url in urls.items():
        response = client.get(url)
        assert response.status_code == 200, name
        assert client.get(url)[CACHE_STATUS] == "hit", name


def assert_still_cached(client, urls, django_assert_num_queries) -> None:
    for name, url in urls.items():
        with django_assert_num_queries(0):
            response = client.get(url)
        assert response[CACHE_STATUS] == "hit", name


def assert_refreshed(client, urls) -> None:
    for name, url in urls.items():
        assert client.get(url)[CACHE_STATUS] == "miss", name


class TestWorkReadersCannotSee:
    def test_a_draft_saved_with_taxonomy_and_tags_leaves_every_page_cached(
        self, client, site, commit, django_assert_num_queries
    ):
        urls = pages(site)
        cache_all(client, urls)

        with commit():
            draft = ArticleFactory(title="Harbour draft", source=site["source"])
            draft.regions.add(site["north"], site["south"])
            draft.themes.add(site["theme"])
            draft.reports.add(site["report"])
            draft.tags.add("cranes", "a brand new tag")
            Byline.objects.create(article=draft, author=AuthorFactory(name="New Writer"))
            ArticleBlockOverride.objects.create(article=draft, key="disclaimer", hide=True)
            draft.title = "Harbour draft, second version"
            draft.save()
            draft.tags.set(["ferries"])
            draft.regions.remove(site["south"])
            draft.send_to_review()
            draft.regions.clear()

        assert_still_cached(client, urls, django_assert_num_queries)

    def test_a_scheduled_article_leaves_every_page_cached(
        self, client, site, commit, django_assert_num_queries
    ):
        urls = pages(site)
        cache_all(client, urls)

        with commit():
            later = ArticleFactory(title="Harbour tomorrow", source=site["source"])
            later.regions.add(site["north"])
            later.publish(at=timezone.now() + datetime.timedelta(days=1))

        assert_still_cached(client, urls, django_assert_num_queries)

    def test_an_import_into_review_leaves_every_page_cached(
        self, client, site, commit, tmp_path, django_assert_num_queries, no_network
    ):
        urls = pages(site)
        cache_all(client, urls)
        feed = tmp_path / "courier.xml"
        feed.write_bytes(
            rss([story(n, categories=["Harbour", "cranes"], author="Ada Marsh") for n in range(5)])
        )

        with commit():
            run = import_feed_file(feed, site["source"], ArticleStatus.REVIEW)

        assert run.created == 5
        assert Article.objects.awaiting_review().count() == 5
        assert_still_cached(client, urls, django_assert_num_queries)

    def test_an_import_from_a_new_outlet_leaves_every_page_cached(
        self, client, site, commit, tmp_path, django_assert_num_queries, no_network
    ):
        """A new source, its new authors and new tags show on no page until one goes live."""
        urls = pages(site)
        cache_all(client, urls)
        feed = tmp_path / "newcomer.xml"
        feed.write_bytes(
            rss([story(n, categories=["tidal mills"], author="Noor Vale") for n in range(3)])
        )

        with commit():
            newcomer = Source.objects.create(name="Estuary Newcomer")
            run = import_feed_file(feed, newcomer, ArticleStatus.REVIEW)

        assert run.created == 3
        assert_still_cached(client, urls, django_assert_num_queries)

    def test_renaming_a_source_refreshes_every_page(self, client, site, commit):
        urls = pages(site)
        cache_all(client, urls)

        with commit():
            site["source"].name = "Harbour Courier Weekly"
            site["source"].save()

        assert_refreshed(client, urls)

    def test_a_draft_moves_no_generation_at_all(self, site, commit, monkeypatch):
        moved = []
        monkeypatch.setattr(signals, "move_generations", lambda scopes: moved.append(scopes))

        with commit():
            draft = ArticleFactory(source=site["source"])
            draft.regions.add(site["north"])
            draft.tags.add("cranes")
            Redirect.objects.create(old_path="/?p=77", article=draft)
            draft.save()

        assert moved == []


class TestPublishing:
    def test_publishing_refreshes_its_pages_and_leaves_unrelated_ones_cached(
        self, client, site, commit, django_assert_num_queries
    ):
        urls = pages(site)
        cache_all(client, urls)
        newcomer = ArticleFactory(title="Harbour pilots strike", source=site["source"])
        newcomer.regions.add(site["north"])
        newcomer.tags.add("cranes")

        with commit():
            newcomer.publish()

        listing_it = [
            "home",
            "north listing",
            "source listing",
            "cranes tag",
            "rss feed",
            "json feed",
            "north feed",
            "search",
            "news sitemap",
        ]
        for name in listing_it:
            response = client.get(urls[name])
            assert response[CACHE_STATUS] == "miss", name
            assert b"pilots strike" in response.content, name
        assert client.get(urls["sitemap"])[CACHE_STATUS] == "miss"
        unrelated = ["second article", "south listing", "first article", "theme listing"]
        assert_still_cached(
            client, {name: urls[name] for name in unrelated}, django_assert_num_queries
        )
        assert client.get(newcomer.get_absolute_url()).status_code == 200

    def test_a_region_listing_includes_its_sub_regions_so_it_is_refreshed_too(
        self, client, site, commit
    ):
        harbour = RegionFactory(name="Inner Harbour", parent=site["north"])
        url = site["north"].get_absolute_url()
        client.get(url)
        article = ArticleFactory(title="Dredging begins", source=site["source"])
        article.regions.add(harbour)

        with commit():
            article.publish()

        response = client.get(url)
        assert response[CACHE_STATUS] == "miss"
        assert b"Dredging begins" in response.content

    def test_editing_a_live_article_refreshes_its_page_and_archives(self, client, site, commit):
        first = site["first"]
        local = timezone.localtime(first.published_at)
        archives = {
            "year": reverse("articles:archive_year", args=[local.year]),
            "month": reverse("articles:archive_month", args=[local.year, local.month]),
        }
        urls = {"article": first.get_absolute_url(), **archives}
        cache_all(client, urls)

        with commit():
            first.title = "Cranes are back for good"
            first.save()

        for name, url in urls.items():
            response = client.get(url)
            assert response[CACHE_STATUS] == "miss", name
            assert b"Cranes are back for good" in response.content, name

    def test_taking_a_live_article_out_of_a_region_refreshes_that_region(
        self, client, site, commit
    ):
        url = site["north"].get_absolute_url()
        assert b"Cranes return to the harbour" in client.get(url).content

        with commit():
            site["first"].regions.remove(site["north"])

        assert b"Cranes return to the harbour" not in client.get(url).content

    def test_changing_a_live_byline_refreshes_both_authors(self, client, site, commit):
        first = site["first"]
        byline = Byline.objects.get(article=first)
        old_author, new_author = byline.author, AuthorFactory(name="Ben Quay")
        urls = {"old": old_author.get_absolute_url(), "new": new_author.get_absolute_url()}
        cache_all(client, urls)

        with commit():
            byline.author = new_author
            byline.save()

        assert b"Cranes return" not in client.get(urls["old"]).content
        assert b"Cranes return" in client.get(urls["new"]).content

    def test_editing_a_live_articles_library_image_refreshes_its_page_and_home(
        self, client, site, commit, django_assert_num_queries
    ):
        with commit():
            picture = ImageFactory(caption="Cranes at dawn.")
            site["first"].lead_image = picture
            site["first"].save()
            ArticleFactory(title="A draft with the same picture", lead_image=picture)
        urls = pages(site)
        cache_all(client, urls)

        with commit():
            picture.caption = "Cranes at first light."
            picture.save()

        refreshed = {name: urls[name] for name in ("first article", "home", "north listing")}
        assert_refreshed(client, refreshed)
        assert b"Cranes at first light." in client.get(urls["first article"]).content
        assert_still_cached(
            client, {"second article": urls["second article"]}, django_assert_num_queries
        )

    def test_a_new_slug_refreshes_the_old_address(self, client, site, commit):
        first = site["first"]
        old_url = first.get_absolute_url()
        client.get(old_url)

        with commit():
            first.slug = "cranes-moved"
            first.save()

        assert client.get(old_url).status_code == 301


class TestWithdrawal:
    def test_a_withdrawn_article_answers_410_at_once(self, client, site, commit):
        first = site["first"]
        url = first.get_absolute_url()
        cache_all(client, {"article": url})

        with commit():
            first.withdraw("Rights lapsed")

        response = client.get(url)
        assert response.status_code == 410
        assert CACHE_STATUS not in response

    def test_a_reader_revalidating_a_withdrawn_article_gets_410(self, client, site, commit):
        first = site["first"]
        url = first.get_absolute_url()
        etag = client.get(url)["ETag"]
        assert client.get(url, HTTP_IF_NONE_MATCH=etag).status_code == 304

        with commit():
            first.withdraw("Rights lapsed")

        assert client.get(url, HTTP_IF_NONE_MATCH=etag).status_code == 410

    def test_article_pages_must_be_revalidated_by_browsers_and_shared_caches(self, client, site):
        url = site["first"].get_absolute_url()

        for response in (client.get(url), client.get(url)):
            directives = {d.strip() for d in response["Cache-Control"].split(",")}
            assert {"public", "max-age=0", "must-revalidate"} <= directives
            assert not any(d.startswith(("stale-", "s-maxage")) for d in directives)
            assert response["ETag"]

    def test_listings_are_kept_by_browsers_for_two_minutes_at_most(self, client, site):
        response = client.get(site["north"].get_absolute_url())

        directives = dict(
            (d.strip().split("=") + [""])[:2] for d in response["Cache-Control"].split(",")
        )
        assert int(directives["max-age"]) + int(directives["stale-while-revalidate"]) <= 120


class TestOncePerTransaction:
    def test_many_changes_in_one_transaction_move_the_generations_once(
        self, site, commit, monkeypatch
    ):
        calls = []
        original = signals.move_generations
        monkeypatch.setattr(
            signals,
            "move_generations",
            lambda scopes: calls.append(set(scopes)) or original(scopes),
        )
        first, second = site["first"], site["second"]

        with commit(), transaction.atomic():
            first.title = "Cranes, again"
            first.save()
            first.tags.add("machines")
            first.themes.add(site["theme"])
            Byline.objects.create(article=first, author=AuthorFactory(name="Cy Pier"))
            second.withdraw("Duplicate")
            second.regions.remove(site["south"])

        assert len(calls) == 1
        scopes = calls[0]
        assert {
            "lists",
            f"article:{first.slug}",
            f"article:{second.slug}",
            f"region:{site['north'].slug}",
            f"region:{site['south'].slug}",
            f"theme:{site['theme'].slug}",
            "tag:machines",
            "tag:ferries",
        } <= scopes

    def test_a_rolled_back_transaction_moves_nothing(self, site, commit, monkeypatch):
        moved = []
        monkeypatch.setattr(signals, "move_generations", lambda scopes: moved.append(scopes))

        with commit(), pytest.raises(RuntimeError), transaction.atomic():
            site["first"].withdraw("Oops")
            raise RuntimeError

        assert moved == []

    def test_a_cache_that_fails_at_commit_loses_no_edit(self, site, commit, monkeypatch, caplog):
        def unreachable(scopes):
            raise ConnectionError("cache is down")

        monkeypatch.setattr(signals, "move_generations", unreachable)

        with commit():
            site["first"].withdraw("Rights lapsed")

        assert Article.objects.get(pk=site["first"].pk).status == ArticleStatus.WITHDRAWN
        assert "cache is down" in caplog.text

    def test_without_a_transaction_each_change_moves_at_once(self, site):
        before = generations([f"article:{site['first'].slug}"])

        # Outside any atomic block on_commit runs at once: here, the test's own transaction
        # holds them, so flush explicitly as the commit would.
        site["first"].withdraw("Gone")
        signals.flush("default")

        assert generations([f"article:{site['first'].slug}"]) != before


class TestBroadChanges:
    def test_renaming_a_theme_refreshes_every_page(self, client, site, commit):
        urls = pages(site)
        cache_all(client, urls)

        with commit():
            site["theme"].name = "Fishing"
            site["theme"].save()

        assert_refreshed(client, urls)

    def test_a_new_author_or_tag_created_by_an_import_moves_nothing(
        self, site, commit, monkeypatch
    ):
        moved = []
        monkeypatch.setattr(signals, "move_generations", lambda scopes: moved.append(scopes))

        with commit():
            AuthorFactory(name="Brand New")
            ArticleFactory(source=site["source"]).tags.add("brand-new")

        assert moved == []


class TestQueryParameters:
    def test_parameters_a_page_does_not_read_share_its_one_entry(
        self, client, site, django_assert_num_queries
    ):
        home = client.get("/")
        assert home[CACHE_STATUS] == "miss"
        # The first address with a parameter home does not read asks, once, whether some
        # old WordPress address (/?p=123) might be meant.
        assert client.get("/?x=0")[CACHE_STATUS] == "hit"

        for n in range(1, 30):
            with django_assert_num_queries(0):
                response = client.get(f"/?x={n}&utm_source=mail")
            assert response[CACHE_STATUS] == "hit"
            assert response.content == home.content

    def test_a_first_visit_with_junk_renders_the_clean_page(self, client, site):
        region = site["north"].get_absolute_url()

        first = client.get(region + "?x=1&fbclid=abc")
        second = client.get(region)

        assert first[CACHE_STATUS] == "miss"
        assert second[CACHE_STATUS] == "hit"
        assert b"fbclid" not in first.content

    def test_the_parameters_a_page_reads_still_make_their_own_entries(self, client, site):
        search = reverse("discovery:search")
        client.get(search, {"q": "harbour"})

        same = client.get(search, {"q": "harbour", "ref": "newsletter"})
        other = client.get(search, {"q": "ferry"})

        assert same[CACHE_STATUS] == "hit"
        assert other[CACHE_STATUS] == "miss"

    def test_an_article_page_reads_no_parameter(self, client, site):
        url = site["first"].get_absolute_url()
        client.get(url)

        assert client.get(url + "?page=2&q=x")[CACHE_STATUS] == "hit"

    def test_every_reader_page_declares_its_parameters(self):
        from django.urls import get_resolver

        names = {
            f"{namespace}:{name}"
            for namespace in ("articles", "discovery")
            for name in get_resolver().namespace_dict[namespace][1].reverse_dict
            if isinstance(name, str)
        }

        assert names - set(caching.CACHED_PAGES) == {"articles:preview"}

    def test_an_old_wordpress_address_on_home_still_redirects(self, client, site, commit):
        client.get("/")
        with commit():
            Redirect.objects.create(old_path="/?p=123", article=site["first"])

        response = client.get("/?p=123")

        assert response.status_code == 301
        assert response["Location"] == site["first"].get_absolute_url()
        assert client.get("/?x=1").status_code == 200


class TestDeployment:
    LOCAL = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    REDIS = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:6379/2",
        }
    }

    def test_a_local_memory_cache_fails_the_deployment_check(self):
        with override_settings(CACHES=self.LOCAL, SITE_RUNS_AS_ONE_PROCESS=False):
            errors = checks.cache_is_shared_by_every_process()
            with pytest.raises(SystemCheckError, match="articles.E001"):
                call_command("check", "--deploy", "--tag", "caches")

        assert [error.id for error in errors] == ["articles.E001"]
        assert isinstance(errors[0], Error)
        assert "CACHE_URL" in errors[0].hint

    def test_a_shared_cache_passes(self):
        with override_settings(CACHES=self.REDIS, SITE_RUNS_AS_ONE_PROCESS=False):
            assert checks.cache_is_shared_by_every_process() == []

    def test_a_site_that_says_it_runs_as_one_process_may_keep_local_memory(self):
        with override_settings(CACHES=self.LOCAL, SITE_RUNS_AS_ONE_PROCESS=True):
            assert checks.cache_is_shared_by_every_process() == []


REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/15")


@pytest.fixture
def shared_cache(settings):
    """The default cache on Redis, as several processes would share it."""
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=0.5).ping()
    except Exception:
        pytest.skip(f"needs Redis at {REDIS_URL}")
    prefix = f"test-invalidation-{uuid.uuid4().hex[:8]}"
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": prefix,
        }
    }
    yield caches["default"]
    connection = redis.Redis.from_url(REDIS_URL)
    keys = list(connection.scan_iter(f"{prefix}:*"))
    if keys:
        connection.delete(*keys)


class TestSharedCache:
    def test_a_generation_moved_by_another_process_reaches_this_one(
        self, shared_cache, client, site
    ):
        import redis

        url = site["first"].get_absolute_url()
        client.get(url)
        assert client.get(url)[CACHE_STATUS] == "hit"
        nav = '{{ site_fragment("includes/_site_nav.html") }}'
        from django.template import engines

        engines["jinja2"].from_string(nav).render()
        site_before = site_generation()

        # Another process moves SITE: it writes the shared store, nothing of this process.
        other = redis.Redis.from_url(REDIS_URL)
        key = shared_cache.make_key("articles:generation:" + SITE)
        assert other.exists(key)
        other.delete(key)

        assert site_generation() != site_before
        assert client.get(url)[CACHE_STATUS] == "miss"

    def test_publishing_on_redis_refreshes_home(self, shared_cache, client, site, commit):
        client.get("/")
        draft = ArticleFactory(title="Redis-backed story", source=site["source"])

        with commit():
            draft.publish()

        assert b"Redis-backed story" in client.get("/").content
