"""HTTP caching of the reader site: whole pages for anonymous readers, 304 answers, and
fresh private pages for signed-in staff."""

import datetime
import time
import uuid

import pytest
from django.core.cache import cache, caches
from django.core.cache.backends.redis import RedisCache
from django.http import HttpResponse
from django.test import RequestFactory, override_settings
from django.urls import resolve, reverse
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from django.utils.http import http_date

from articles.models import Article, SiteBlock, SiteBlockKey
from articles.site import caching as http_cache
from articles.site.generation import generations, subject_scope

from .factories import PublishedArticleFactory, RegionFactory, make_user

pytestmark = pytest.mark.django_db

CACHE_STATUS = http_cache.CACHE_STATUS_HEADER


@pytest.fixture
def region():
    return RegionFactory(name="Atlantic Coast")


@pytest.fixture
def article(region):
    article = PublishedArticleFactory(title="Harbour cranes return", body="<p>First words.</p>")
    article.regions.add(region)
    return article


def article_url(article):
    return reverse("articles:article", kwargs={"slug": article.slug})


def region_url(region):
    return reverse("articles:region", kwargs={"slug": region.slug})


@pytest.fixture
def page_urls(article, region):
    """The two kinds of page readers hit most: an article and a listing."""
    return {"article": article_url(article), "listing": region_url(region)}


PAGES = ["article", "listing"]


@pytest.fixture
def commit_hooks(django_capture_on_commit_callbacks):
    """Edits made inside run their on-commit hooks (the generation bump), as in production."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


class TestAnonymousReaders:
    @pytest.mark.parametrize("page", PAGES)
    def test_second_request_is_served_from_the_cache_without_a_query(
        self, client, page_urls, page, django_assert_num_queries
    ):
        first = client.get(page_urls[page])
        assert first.status_code == 200
        assert first[CACHE_STATUS] == "miss"

        with django_assert_num_queries(0):
            second = client.get(page_urls[page])

        assert second.status_code == 200
        assert second[CACHE_STATUS] == "hit"
        assert second.content == first.content

    def test_listings_may_be_kept_briefly_by_browsers_and_shared_caches(self, client, page_urls):
        response = client.get(page_urls["listing"])

        directives = {d.strip() for d in response["Cache-Control"].split(",")}
        assert {"public", "max-age=60", "stale-while-revalidate=60"} <= directives
        assert "Cookie" in response["Vary"]
        assert response["ETag"].startswith('"')

    def test_article_pages_are_checked_with_the_server_at_every_reuse(self, client, page_urls):
        response = client.get(page_urls["article"])

        directives = {d.strip() for d in response["Cache-Control"].split(",")}
        assert {"public", "max-age=0", "must-revalidate"} <= directives
        assert not any(d.startswith("stale-") for d in directives)
        assert "Cookie" in response["Vary"]
        assert response["ETag"].startswith('"')
        assert response["Last-Modified"].endswith("GMT")

    def test_a_cached_answer_keeps_the_validators_of_the_first(self, client, page_urls):
        first = client.get(page_urls["article"])
        second = client.get(page_urls["article"])

        assert second["ETag"] == first["ETag"]
        assert second["Last-Modified"] == first["Last-Modified"]

    def test_head_is_answered_from_the_cached_page(self, client, page_urls):
        client.get(page_urls["article"])

        response = client.head(page_urls["article"])

        assert response.status_code == 200
        assert response[CACHE_STATUS] == "hit"

    def test_the_query_string_is_part_of_the_page(self, client, region):
        for n in range(25):
            article = PublishedArticleFactory(title=f"Story {n}")
            article.regions.add(region)
        first_page = client.get(region_url(region))

        second_page = client.get(region_url(region) + "?page=2")

        assert second_page[CACHE_STATUS] == "miss"
        assert second_page.content != first_page.content

    def test_search_results_are_kept_per_query(self, client, article):
        search = reverse("discovery:search")
        client.get(search, {"q": "cranes"})

        again = client.get(search, {"q": "cranes"})
        other = client.get(search, {"q": "harbour"})

        assert again[CACHE_STATUS] == "hit"
        assert other[CACHE_STATUS] == "miss"

    def test_a_session_cookie_without_a_signed_in_user_still_gets_the_cached_page(
        self, client, page_urls
    ):
        client.get(page_urls["article"])
        session = client.session
        session["seen_notice"] = True
        session.save()

        response = client.get(page_urls["article"])

        assert response[CACHE_STATUS] == "hit"


class TestConditionalGet:
    @pytest.mark.parametrize("page", PAGES)
    def test_a_matching_etag_gets_304_without_a_query(
        self, client, page_urls, page, django_assert_num_queries
    ):
        etag = client.get(page_urls[page])["ETag"]

        with django_assert_num_queries(0):
            response = client.get(page_urls[page], HTTP_IF_NONE_MATCH=etag)

        assert response.status_code == 304
        assert response.content == b""
        assert response["ETag"] == etag

    @pytest.mark.parametrize("page", PAGES)
    def test_an_unchanged_page_since_the_readers_copy_gets_304(self, client, page_urls, page):
        last_modified = client.get(page_urls[page])["Last-Modified"]

        response = client.get(page_urls[page], HTTP_IF_MODIFIED_SINCE=last_modified)

        assert response.status_code == 304

    @pytest.mark.parametrize("page", PAGES)
    def test_an_older_copy_gets_the_full_page(self, client, page_urls, page):
        client.get(page_urls[page])
        long_ago = http_date(time.time() - 365 * 24 * 3600)

        by_etag = client.get(page_urls[page], HTTP_IF_NONE_MATCH='"an-old-version"')
        by_date = client.get(page_urls[page], HTTP_IF_MODIFIED_SINCE=long_ago)

        assert by_etag.status_code == 200
        assert by_date.status_code == 200

    def test_a_page_rendered_afresh_still_answers_304_to_a_current_copy(self, client, page_urls):
        etag = client.get(page_urls["article"])["ETag"]
        cache.clear()

        response = client.get(page_urls["article"], HTTP_IF_NONE_MATCH=etag)

        assert response.status_code == 304

    def test_after_an_edit_the_old_etag_gets_the_new_page(self, client, article, commit_hooks):
        etag = client.get(article_url(article))["ETag"]
        with commit_hooks():
            article.title = "Harbour cranes return for good"
            article.save()

        response = client.get(article_url(article), HTTP_IF_NONE_MATCH=etag)

        assert response.status_code == 200
        assert response["ETag"] != etag
        assert b"Harbour cranes return for good" in response.content


class TestInvalidation:
    def test_editing_the_article_shows_on_its_page_and_its_listings(
        self, client, article, region, commit_hooks
    ):
        client.get(article_url(article))
        client.get(region_url(region))
        with commit_hooks():
            article.title = "Cranes are back in the harbour"
            article.save()

        assert b"Cranes are back in the harbour" in client.get(article_url(article)).content
        assert b"Cranes are back in the harbour" in client.get(region_url(region)).content

    def test_renaming_its_region_shows_on_the_article_page(
        self, client, article, region, commit_hooks
    ):
        client.get(article_url(article))
        with commit_hooks():
            region.name = "North Atlantic Coast"
            region.save()

        assert b"North Atlantic Coast" in client.get(article_url(article)).content

    def test_renaming_its_source_shows_on_the_article_page(self, client, article, commit_hooks):
        client.get(article_url(article))
        with commit_hooks():
            article.source.name = "The Renamed Gazette"
            article.source.save()

        assert b"The Renamed Gazette" in client.get(article_url(article)).content

    def test_editing_a_site_block_shows_on_the_article_page(self, client, article, commit_hooks):
        with commit_hooks():
            block = SiteBlock.objects.create(
                key=SiteBlockKey.DISCLAIMER, content="<p>Views are the authors' own.</p>"
            )
        assert b"Views are the authors" in client.get(article_url(article)).content
        with commit_hooks():
            block.content = "<p>Opinions belong to their writers.</p>"
            block.save()

        response = client.get(article_url(article))

        assert b"Opinions belong to their writers." in response.content
        assert b"Views are the authors" not in response.content

    def test_withdrawing_the_article_takes_it_off_the_cached_listing(
        self, client, article, region, commit_hooks
    ):
        assert b"Harbour cranes return" in client.get(region_url(region)).content
        with commit_hooks():
            article.withdraw("Rights lapsed")

        assert b"Harbour cranes return" not in client.get(region_url(region)).content
        assert client.get(article_url(article)).status_code == 410

    def test_a_scheduled_article_appears_when_its_time_comes(self, client, region, monkeypatch):
        going_live = timezone.now() + datetime.timedelta(hours=1)
        scheduled = PublishedArticleFactory(
            title="Tide tables for the weekend", published_at=going_live
        )
        scheduled.regions.add(region)
        assert b"Tide tables for the weekend" not in client.get(region_url(region)).content
        assert client.get(region_url(region))[CACHE_STATUS] == "hit"

        later = going_live + datetime.timedelta(minutes=1)
        monkeypatch.setattr(timezone, "now", lambda: later)
        monkeypatch.setattr(http_cache.time, "time", later.timestamp)

        assert b"Tide tables for the weekend" in client.get(region_url(region)).content

    def test_an_unknown_page_is_not_kept_so_it_appears_once_created(self, client, commit_hooks):
        url = reverse("articles:article", kwargs={"slug": "not-yet-written"})
        assert client.get(url).status_code == 404
        with commit_hooks():
            PublishedArticleFactory(title="Not yet written", slug="not-yet-written")

        assert client.get(url).status_code == 200


class TestSignedInStaff:
    @pytest.fixture
    def editor_client(self, client):
        client.force_login(make_user("editor", groups=("Editors",)))
        return client

    def test_staff_get_a_fresh_page_while_readers_get_the_cached_one(
        self, client, editor_client, article
    ):
        reader = type(client)()
        reader.get(article_url(article))
        # An update that bypasses signals: only a cache bypass can show it.
        Article.objects.filter(pk=article.pk).update(title="Edited behind the cache")

        staff_view = editor_client.get(article_url(article))
        reader_view = reader.get(article_url(article))

        assert b"Edited behind the cache" in staff_view.content
        assert CACHE_STATUS not in staff_view
        assert reader_view[CACHE_STATUS] == "hit"
        assert b"Edited behind the cache" not in reader_view.content

    @pytest.mark.parametrize("page", PAGES)
    def test_staff_pages_are_private(self, editor_client, page_urls, page):
        response = editor_client.get(page_urls[page])

        directives = {d.strip() for d in response["Cache-Control"].split(",")}
        assert {"private", "no-cache"} <= directives
        assert "public" not in directives

    def test_a_staff_visit_is_never_stored_for_readers(self, client, editor_client, page_urls):
        editor_client.get(page_urls["article"])
        reader = type(client)()

        assert reader.get(page_urls["article"])[CACHE_STATUS] == "miss"

    def test_the_preview_is_never_cached(self, editor_client, article):
        editor_client.force_login(make_user("boss", is_superuser=True))
        url = reverse("articles:preview", kwargs={"pk": article.pk})

        first = editor_client.get(url)
        second = editor_client.get(url)

        assert first.status_code == second.status_code == 200
        assert CACHE_STATUS not in second
        assert "no-store" in second["Cache-Control"]


class TestWhatIsNeverKept:
    def reader_page_request(self, path):
        request = RequestFactory().get(path)
        request.resolver_match = resolve(path)
        return request

    def test_never_cache_answers(self, article):
        request = self.reader_page_request(article_url(article))
        response = HttpResponse("preview")
        add_never_cache_headers(response)

        assert not http_cache.may_keep(request, response)

    def test_answers_that_set_a_cookie(self, article):
        request = self.reader_page_request(article_url(article))
        response = HttpResponse("page")
        response.set_cookie("csrftoken", "x")

        assert not http_cache.may_keep(request, response)

    def test_answers_that_vary_on_the_language(self, article):
        request = self.reader_page_request(article_url(article))
        response = HttpResponse("page")
        response["Vary"] = "Accept-Language"

        assert not http_cache.may_keep(request, response)

    def test_redirects(self, article):
        request = self.reader_page_request(article_url(article))

        assert not http_cache.may_keep(request, HttpResponse(status=301))

    def test_a_plain_reader_page_is_kept(self, article):
        request = self.reader_page_request(article_url(article))

        assert http_cache.may_keep(request, HttpResponse("page"))

    def test_the_admin(self, client):
        response = client.get("/admin/login/")

        assert response.status_code == 200
        assert CACHE_STATUS not in response

    def test_the_health_check(self, client):
        client.get("/healthz")

        response = client.get("/healthz")

        assert response.status_code == 200
        assert CACHE_STATUS not in response

    def test_posts(self, client, page_urls):
        response = client.post(page_urls["article"])

        assert CACHE_STATUS not in response

    @override_settings(PAGE_CACHE_BYPASS_HEADER="HTTP_X_NO_PAGE_CACHE")
    def test_requests_with_the_configured_bypass_header(self, client, page_urls):
        client.get(page_urls["article"])

        response = client.get(page_urls["article"], HTTP_X_NO_PAGE_CACHE="1")

        assert response.status_code == 200
        assert CACHE_STATUS not in response


def redis_is_up() -> bool:
    try:
        import redis

        return bool(redis.Redis.from_url(REDIS_URL, socket_connect_timeout=0.5).ping())
    except Exception:
        return False


REDIS_URL = "redis://127.0.0.1:6379/15"


@pytest.fixture
def redis_cache(settings):
    if not redis_is_up():
        pytest.skip(f"needs Redis at {REDIS_URL}")
    prefix = f"test-http-cache-{uuid.uuid4().hex[:8]}"
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": prefix,
        }
    }
    yield
    import redis

    connection = redis.Redis.from_url(REDIS_URL)
    keys = list(connection.scan_iter(f"{prefix}:*"))
    if keys:
        connection.delete(*keys)


def test_the_page_cache_works_on_redis(
    redis_cache, client, article, commit_hooks, django_assert_num_queries
):
    assert isinstance(caches["default"], RedisCache)
    client.get(article_url(article))
    with django_assert_num_queries(0):
        assert client.get(article_url(article))[CACHE_STATUS] == "hit"
    with commit_hooks():
        article.title = "Cranes on Redis"
        article.save()

    assert b"Cranes on Redis" in client.get(article_url(article)).content


@pytest.mark.django_db
def test_retagging_a_live_article_moves_the_generation_of_the_tag(
    django_capture_on_commit_callbacks,
):
    with django_capture_on_commit_callbacks(execute=True):
        article = PublishedArticleFactory()
        article.tags.add("kept")
    scopes = [subject_scope("tag", "kept"), subject_scope("tag", "newly-added")]
    before = generations(scopes)
    with django_capture_on_commit_callbacks(execute=True):
        article.tags.add("newly-added")
    after = generations(scopes)
    assert all(after[scope] != before[scope] for scope in scopes)
