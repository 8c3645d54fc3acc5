"""The read-only JSON API under /api/v1/: its OpenAPI document, what it shows (live articles
with their provenance, never drafts), cursor pagination, filters, query counts, HTTP caching,
CORS and the anonymous rate limit. Every answer checked here is also validated against the
schema the OpenAPI document gives for its path and status."""

import datetime
import json

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import resolve
from django.utils import timezone
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate as validate_openapi

from articles.distribution.api.views import api
from articles.models import Article, ArticleStatus, Byline, RightsBasis, Source
from articles.site.caching import CACHE_STATUS_HEADER, CACHED_PAGES
from articles.site.presentation import copyright_line

from .factories import (
    ArticleFactory,
    AuthorFactory,
    LicensedSourceFactory,
    PublishedArticleFactory,
    RegionFactory,
    ReportFactory,
    ThemeFactory,
    make_user,
)

pytestmark = pytest.mark.django_db

API = "/api/v1"
# As served at /api/v1/openapi.json (JSON turns its integer status codes into strings).
DOCUMENT = json.loads(json.dumps(api.get_openapi_schema()))
PATHS = sorted(DOCUMENT["paths"])
MOMENT = datetime.datetime(2024, 3, 10, 9, 30, tzinfo=datetime.UTC)


def schema_for(path: str, status: int) -> dict:
    """The JSON schema the document gives for a GET of `path` answering `status`."""
    response = DOCUMENT["paths"][path]["get"]["responses"][str(status)]
    return {**response["content"]["application/json"]["schema"], **DOCUMENT}


def checked(response, path: str, status: int = 200):
    """The answer's JSON, once its status and body are what the document says."""
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    validator = Draft202012Validator(
        schema_for(path, status), format_checker=Draft202012Validator.FORMAT_CHECKER
    )
    validator.validate(body)
    return body


def get(client, path: str, **params):
    return client.get(API + path, params)


def titles(body) -> list[str]:
    return [item["title"] for item in body["items"]]


@pytest.fixture
def newsroom():
    """One live article with everything it can carry, and articles no client may see."""
    source = LicensedSourceFactory(name="Delta Courier", homepage="https://delta-courier.example/")
    rights = source.rights
    rights.basis = RightsBasis.CC_BY
    rights.copyright_holder = "Delta Courier Media"
    rights.attribution_wording = "Republished with the permission of the Delta Courier."
    rights.save()
    live = PublishedArticleFactory(
        title="Wetlands absorb the flood",
        dek="How marshes protect a town.",
        body='<p>Marshes slowed the <a href="https://example.org/water">water</a>.</p>',
        source=source,
        original_url="https://delta-courier.example/2024/wetlands",
        original_title="Marshes saved the town",
        original_published_at=MOMENT,
        language="en",
    )
    Byline.objects.create(article=live, author=AuthorFactory(name="Amara Diallo"), position=0)
    live.regions.add(RegionFactory(name="Sahel"))
    live.themes.add(ThemeFactory(name="Climate"))
    live.reports.add(ReportFactory(title="Water Wars"))
    live.tags.add("wetlands")
    ArticleFactory(title="A draft nobody may see", slug="a-draft")
    ArticleFactory(title="An article in review", slug="in-review", status=ArticleStatus.REVIEW)
    PublishedArticleFactory(
        title="Scheduled for tomorrow",
        slug="scheduled",
        published_at=timezone.now() + datetime.timedelta(days=1),
    )
    withdrawn = PublishedArticleFactory(title="Withdrawn after a complaint", slug="withdrawn")
    withdrawn.withdraw("Complaint upheld")
    return live


def concrete(path: str, newsroom) -> str:
    return path.removeprefix(API).replace("{slug}", newsroom.slug)


class TestDocument:
    def test_the_openapi_document_is_served_and_valid(self, client):
        response = client.get(f"{API}/openapi.json")

        assert response.status_code == 200
        document = response.json()
        validate_openapi(document)
        assert document["openapi"].startswith("3.")

    def test_it_documents_every_endpoint(self):
        assert [
            f"{API}/articles/",
            f"{API}/articles/{{slug}}/",
            f"{API}/authors/",
            f"{API}/regions/",
            f"{API}/reports/",
            f"{API}/sources/",
            f"{API}/tags/",
            f"{API}/themes/",
        ] == PATHS

    @pytest.mark.parametrize("path", PATHS)
    def test_every_endpoint_answers_as_documented(self, client, newsroom, path):
        body = checked(client.get(API + concrete(path, newsroom)), path)

        items = body.get("items", [body])
        assert items, f"{path} showed nothing"

    @pytest.mark.parametrize("path", PATHS)
    def test_the_page_cache_keeps_the_parameters_the_document_declares(self, newsroom, path):
        declared = {
            parameter["name"]
            for parameter in DOCUMENT["paths"][path]["get"].get("parameters", [])
            if parameter["in"] == "query"
        }
        view_name = resolve(API + concrete(path, newsroom)).view_name

        assert set(CACHED_PAGES[view_name].parameters) == declared

    @pytest.mark.parametrize("path", PATHS)
    def test_other_parameters_are_ignored_and_share_the_entry(self, client, newsroom, path):
        first = client.get(API + concrete(path, newsroom))

        tracked = client.get(API + concrete(path, newsroom), {"utm_source": "x"})

        assert tracked.status_code == 200
        assert tracked[CACHE_STATUS_HEADER] == "hit"
        assert tracked.content == first.content

    @pytest.mark.parametrize("path", PATHS)
    def test_every_endpoint_answers_head(self, client, newsroom, path):
        response = client.head(API + concrete(path, newsroom))

        assert response.status_code == 200
        assert response.content == b""


class TestWhatIsShown:
    def test_only_live_articles_are_listed(self, client, newsroom):
        body = checked(get(client, "/articles/"), f"{API}/articles/")

        assert titles(body) == ["Wetlands absorb the flood"]
        assert body["next"] is None
        assert body["next_cursor"] is None

    @pytest.mark.parametrize("slug", ["a-draft", "in-review", "scheduled", "no-such-article"])
    def test_anything_but_a_live_or_withdrawn_article_is_404(self, client, newsroom, slug):
        body = checked(get(client, f"/articles/{slug}/"), f"{API}/articles/{{slug}}/", 404)

        assert body == {"detail": "No published article has this slug."}

    def test_a_withdrawn_article_is_410_with_when_and_why(self, client, newsroom):
        body = checked(get(client, "/articles/withdrawn/"), f"{API}/articles/{{slug}}/", 410)

        assert body["title"] == "Withdrawn after a complaint"
        assert body["reason"] == "Complaint upheld"
        assert body["withdrawn_at"] is not None

    def test_an_article_carries_its_provenance(self, client, newsroom):
        body = checked(get(client, f"/articles/{newsroom.slug}/"), f"{API}/articles/{{slug}}/")

        assert body["original_url"] == "https://delta-courier.example/2024/wetlands"
        assert body["original_title"] == "Marshes saved the town"
        assert datetime.datetime.fromisoformat(body["original_published_at"]) == MOMENT
        assert body["source"]["name"] == "Delta Courier"
        assert body["source"]["homepage"] == "https://delta-courier.example/"
        assert body["source"]["licence"] == {
            "kind": "cc-by",
            "label": "Creative Commons Attribution (CC BY)",
            "licence_url": "https://creativecommons.org/licenses/by/4.0/",
            "copyright_holder": "Delta Courier Media",
            "attribution_wording": "Republished with the permission of the Delta Courier.",
            "scope": "full",
        }
        assert body["attribution"] == (
            "The original source of this article is Delta Courier, "
            "where it appeared as “Marshes saved the town”."
        )
        assert body["copyright"] == "Copyright © Delta Courier Media, 2024"

    def test_the_lines_are_those_the_article_page_prints(self, client, newsroom):
        page = client.get(newsroom.get_absolute_url()).content.decode()
        body = get(client, f"/articles/{newsroom.slug}/").json()

        assert f"<p>{body['copyright']}</p>" in page
        assert body["copyright"] == copyright_line(newsroom)

    def test_list_items_carry_the_provenance_too(self, client, newsroom):
        (item,) = get(client, "/articles/").json()["items"]

        assert item["original_url"] == newsroom.original_url
        assert item["source"]["licence"]["kind"] == "cc-by"
        assert item["copyright"] == "Copyright © Delta Courier Media, 2024"
        assert "body" not in item

    def test_an_article_names_what_it_is_filed_under(self, client, newsroom):
        body = get(client, f"/articles/{newsroom.slug}/").json()

        assert [a["name"] for a in body["authors"]] == ["Amara Diallo"]
        assert [r["name"] for r in body["regions"]] == ["Sahel"]
        assert [t["name"] for t in body["themes"]] == ["Climate"]
        assert [r["name"] for r in body["reports"]] == ["Water Wars"]
        assert [t["slug"] for t in body["tags"]] == ["wetlands"]
        assert body["url"] == f"http://testserver{newsroom.get_absolute_url()}"
        assert body["api_url"] == f"http://testserver{API}/articles/{newsroom.slug}/"

    def test_a_source_without_rights_record_says_so(self, client):
        Source.objects.create(name="Unvetted Weekly")

        body = checked(get(client, "/sources/"), f"{API}/sources/")

        assert body["items"][0]["name"] == "Unvetted Weekly"
        assert body["items"][0]["licence"] is None

    def test_sources_name_their_permission_kind(self, client, newsroom):
        LicensedSourceFactory(name="Harbour Post")

        body = checked(get(client, "/sources/"), f"{API}/sources/")

        kinds = {item["name"]: item["licence"]["kind"] for item in body["items"]}
        assert kinds["Delta Courier"] == "cc-by"
        assert kinds["Harbour Post"] == "permission"
        permission = next(i for i in body["items"] if i["name"] == "Harbour Post")["licence"]
        assert permission["licence_url"] is None


class TestHostileContent:
    def test_a_title_with_markup_is_plain_text_and_escaped_in_the_json(self, client):
        title = '<img src=x onerror="alert(1)">Floods & </script><b>drought</b>'
        article = PublishedArticleFactory(
            title=title, dek="<script>alert(2)</script>", slug="hostile"
        )

        response = get(client, f"/articles/{article.slug}/")

        body = checked(response, f"{API}/articles/{{slug}}/")
        assert body["title"] == title
        assert body["summary"] == "<script>alert(2)</script>"
        assert b"<" not in response.content
        assert b">" not in response.content
        assert b"\\u003Cimg" in response.content

    def test_the_body_is_sanitized(self, client):
        article = PublishedArticleFactory(
            slug="hostile-body",
            body='<p onclick="steal()">Text<script>alert(1)</script>'
            '<a href="javascript:alert(1)">link</a><iframe src="https://evil.example/"></iframe></p>',
        )

        body = get(client, f"/articles/{article.slug}/").json()["body"]

        assert "Text" in body
        for hostile in ("<script", "onclick", "javascript:", "<iframe"):
            assert hostile not in body

    @pytest.mark.parametrize(
        "cursor", ["not base64 at all!", "W10", "WyJ4IiwxXQ", "WyIyMDI0LTAxLTAxVDAwOjAwIiwxXQ"]
    )
    def test_a_forged_cursor_is_a_400(self, client, newsroom, cursor):
        body = checked(get(client, "/articles/", cursor=cursor), f"{API}/articles/", 400)

        assert body["detail"] == "This cursor is not valid."

    @pytest.mark.parametrize(
        "params", [{"limit": "0"}, {"limit": "1000"}, {"published_from": "yesterday"}]
    )
    def test_invalid_parameters_are_a_400_that_says_which(self, client, newsroom, params):
        body = checked(get(client, "/articles/", **params), f"{API}/articles/", 400)

        assert next(iter(params)) in body["detail"]


class TestCursorPagination:
    def test_pages_walk_the_articles_newest_first(self, client):
        for n in range(5):
            PublishedArticleFactory(title=f"Story {n}", published_at=MOMENT + datetime.timedelta(n))
        seen, url = [], f"{API}/articles/?limit=2"

        while url:
            body = checked(client.get(url), f"{API}/articles/")
            seen += titles(body)
            url = body["next"]

        assert seen == ["Story 4", "Story 3", "Story 2", "Story 1", "Story 0"]

    def test_articles_published_at_the_same_moment_are_neither_lost_nor_repeated(self, client):
        articles = PublishedArticleFactory.create_batch(5, published_at=MOMENT)
        first = get(client, "/articles/", limit=3).json()

        second = get(client, "/articles/", limit=3, cursor=first["next_cursor"]).json()

        expected = [a.title for a in sorted(articles, key=lambda a: -a.pk)]
        assert titles(first) + titles(second) == expected
        assert second["next_cursor"] is None

    def test_articles_published_while_paging_do_not_shift_the_pages(
        self, client, django_capture_on_commit_callbacks
    ):
        for n in range(4):
            PublishedArticleFactory(title=f"Story {n}", published_at=MOMENT + datetime.timedelta(n))
        first = get(client, "/articles/", limit=2).json()

        with django_capture_on_commit_callbacks(execute=True):
            PublishedArticleFactory(title="Breaking", published_at=MOMENT + datetime.timedelta(9))
        second = get(client, "/articles/", limit=2, cursor=first["next_cursor"]).json()

        assert titles(first) == ["Story 3", "Story 2"]
        assert titles(second) == ["Story 1", "Story 0"]
        assert titles(get(client, "/articles/", limit=2).json())[0] == "Breaking"

    def test_the_next_link_keeps_the_filters(self, client):
        theme = ThemeFactory()
        for n in range(3):
            PublishedArticleFactory(published_at=MOMENT + datetime.timedelta(n)).themes.add(theme)
        PublishedArticleFactory(title="Off topic")

        body = get(client, "/articles/", theme=theme.slug, limit=2).json()
        rest = client.get(body["next"]).json()

        assert f"theme={theme.slug}" in body["next"]
        assert len(rest["items"]) == 1
        assert "Off topic" not in titles(rest)

    def test_subject_lists_page_by_slug(self, client):
        for name in ["Delta", "Alpha", "Echo", "Charlie", "Bravo"]:
            ThemeFactory(name=name)

        first = checked(get(client, "/themes/", limit=3), f"{API}/themes/")
        second = checked(client.get(first["next"]), f"{API}/themes/")

        assert [t["name"] for t in first["items"]] == ["Alpha", "Bravo", "Charlie"]
        assert [t["name"] for t in second["items"]] == ["Delta", "Echo"]
        assert second["next"] is None


class TestFilters:
    @pytest.fixture
    def shelves(self):
        """Two articles differing in every filtered property."""
        coast, inland = RegionFactory(name="Coast"), RegionFactory(name="Inland")
        harbour = RegionFactory(name="Harbour", parent=coast)
        one = PublishedArticleFactory(
            title="One", language="en", published_at=MOMENT, source__name="First Source"
        )
        two = PublishedArticleFactory(
            title="Two",
            language="fr",
            published_at=MOMENT + datetime.timedelta(days=10),
            source__name="Second Source",
        )
        one.regions.add(harbour)
        two.regions.add(inland)
        one.themes.add(ThemeFactory(name="Fisheries"))
        two.themes.add(ThemeFactory(name="Farming"))
        one.reports.add(ReportFactory(title="Sea Level"))
        two.reports.add(ReportFactory(title="Soil"))
        one.tags.add("boats")
        two.tags.add("tractors")
        one.bylines.create(author=AuthorFactory(name="Ana"), position=0)
        two.bylines.create(author=AuthorFactory(name="Ben"), position=0)
        return one, two

    @pytest.mark.parametrize(
        ("params", "expected"),
        [
            ({"region": "coast"}, ["One"]),  # through its sub-region Harbour
            ({"region": "harbour"}, ["One"]),
            ({"region": "inland"}, ["Two"]),
            ({"theme": "farming"}, ["Two"]),
            ({"report": "sea-level"}, ["One"]),
            ({"tag": "tractors"}, ["Two"]),
            ({"source": "first-source"}, ["One"]),
            ({"author": "ben"}, ["Two"]),
            ({"language": "fr"}, ["Two"]),
            ({"published_from": "2024-03-11"}, ["Two"]),
            ({"published_to": "2024-03-10"}, ["One"]),
            ({"published_from": "2024-03-10", "published_to": "2024-03-20"}, ["Two", "One"]),
            ({"theme": "fisheries", "language": "fr"}, []),
            ({"region": "atlantis"}, []),
            ({"tag": "no-such-tag"}, []),
        ],
    )
    def test_filters(self, client, shelves, params, expected):
        body = checked(get(client, "/articles/", **params), f"{API}/articles/")

        assert titles(body) == expected


def richly_related_article(size: int, **fields):
    article = PublishedArticleFactory(**fields)
    for position in range(size):
        article.bylines.create(author=AuthorFactory(), position=position)
    article.regions.add(*RegionFactory.create_batch(size))
    article.themes.add(*ThemeFactory.create_batch(size))
    article.reports.add(*ReportFactory.create_batch(size))
    article.tags.add(*[f"tag {article.pk} {n}" for n in range(size)])
    return article


class TestQueryCounts:
    """Built answers (the page cache is off) cost the same however much they show."""

    @pytest.fixture(autouse=True)
    def _answers_built_every_time(self, settings):
        settings.PAGE_CACHE_SECONDS = 0

    def queries(self, client, url) -> int:
        cache.clear()
        with CaptureQueriesContext(connection) as captured:
            response = client.get(url)
        assert response.status_code == 200, response.content
        return len(captured)

    def test_the_article_list(self, client):
        richly_related_article(1, published_at=MOMENT)
        few = self.queries(client, f"{API}/articles/")
        for n in range(12):
            richly_related_article(4, published_at=MOMENT + datetime.timedelta(hours=n + 1))
        many = self.queries(client, f"{API}/articles/")

        # The rows with their sources and rights, then bylines, regions, themes, reports, tags.
        assert few == many == 6

    def test_a_filtered_page_after_a_cursor(self, client):
        theme = ThemeFactory()
        for n in range(30):
            richly_related_article(n % 4 + 1, published_at=MOMENT + datetime.timedelta(hours=n))
        theme.articles.add(*Article.objects.all())
        first = get(client, "/articles/", theme=theme.slug, limit=5).json()

        page_one = self.queries(client, f"{API}/articles/?theme={theme.slug}&limit=5")
        page_two = self.queries(client, first["next"])

        assert page_one == page_two

    def test_the_article(self, client):
        small = richly_related_article(1)
        large = richly_related_article(8)

        assert self.queries(client, f"{API}/articles/{small.slug}/") == self.queries(
            client, f"{API}/articles/{large.slug}/"
        )

    @pytest.mark.parametrize("path", ["/sources/", "/authors/", "/regions/", "/themes/"])
    def test_subject_lists(self, client, path):
        richly_related_article(1)
        few = self.queries(client, API + path)
        for _n in range(6):
            richly_related_article(3)
        many = self.queries(client, API + path)

        assert few == many <= 2


class TestHttpCaching:
    def test_anonymous_answers_come_from_the_page_cache(
        self, client, newsroom, django_assert_num_queries
    ):
        first = get(client, "/articles/")

        with django_assert_num_queries(0):
            second = get(client, "/articles/")

        assert first[CACHE_STATUS_HEADER] == "miss"
        assert second[CACHE_STATUS_HEADER] == "hit"
        assert second.content == first.content
        assert "public" in second["Cache-Control"]

    def test_lists_may_be_kept_a_minute_and_articles_are_revalidated(self, client, newsroom):
        listing = get(client, "/articles/")
        article = get(client, f"/articles/{newsroom.slug}/")

        assert "max-age=60" in listing["Cache-Control"]
        assert {"max-age=0", "must-revalidate"} <= {
            directive.strip() for directive in article["Cache-Control"].split(",")
        }

    def test_a_withdrawal_is_gone_on_the_next_request(
        self, client, newsroom, django_capture_on_commit_callbacks
    ):
        get(client, f"/articles/{newsroom.slug}/")

        with django_capture_on_commit_callbacks(execute=True):
            newsroom.withdraw("Retracted")

        assert get(client, f"/articles/{newsroom.slug}/").status_code == 410
        assert titles(get(client, "/articles/").json()) == []

    def test_if_none_match_gets_a_304(self, client, newsroom):
        first = get(client, f"/articles/{newsroom.slug}/")

        again = client.get(
            f"{API}/articles/{newsroom.slug}/", headers={"If-None-Match": first["ETag"]}
        )

        assert again.status_code == 304
        assert again.content == b""

    def test_304_without_the_page_cache_too(self, client, newsroom, settings):
        settings.PAGE_CACHE_SECONDS = 0
        first = get(client, "/articles/")

        again = client.get(f"{API}/articles/", headers={"If-None-Match": first["ETag"]})

        assert first["ETag"]
        assert again.status_code == 304

    def test_signed_in_users_get_fresh_private_answers_with_validators(self, client, newsroom):
        client.force_login(make_user("editor"))

        first = get(client, "/articles/")
        again = client.get(f"{API}/articles/", headers={"If-None-Match": first["ETag"]})

        assert CACHE_STATUS_HEADER not in first
        assert "private" in first["Cache-Control"]
        assert again.status_code == 304

    def test_a_publication_shows_at_once(
        self, client, newsroom, django_capture_on_commit_callbacks
    ):
        get(client, "/articles/")

        with django_capture_on_commit_callbacks(execute=True):
            PublishedArticleFactory(title="Just in")

        assert titles(get(client, "/articles/").json())[0] == "Just in"

    def test_errors_are_not_kept(self, client, newsroom):
        get(client, "/articles/withdrawn/")

        again = get(client, "/articles/withdrawn/")

        assert again.status_code == 410
        assert CACHE_STATUS_HEADER not in again


class TestCors:
    @pytest.mark.parametrize("method", ["get", "head"])
    def test_any_origin_may_read(self, client, newsroom, method):
        response = getattr(client, method)(
            f"{API}/articles/", headers={"Origin": "https://app.example"}
        )

        assert response["Access-Control-Allow-Origin"] == "*"
        assert "Access-Control-Allow-Credentials" not in response
        assert "ETag" in response["Access-Control-Expose-Headers"]

    def test_a_preflight_allows_reading_only(self, client):
        response = client.options(
            f"{API}/articles/",
            headers={
                "Origin": "https://app.example",
                "Access-Control-Request-Method": "GET",
                "Access-Control-Request-Headers": "If-None-Match",
            },
        )

        assert response.status_code == 204
        assert response["Access-Control-Allow-Origin"] == "*"
        assert response["Access-Control-Allow-Methods"] == "GET, HEAD, OPTIONS"
        assert "If-None-Match" in response["Access-Control-Allow-Headers"]
        assert "Access-Control-Allow-Credentials" not in response

    def test_errors_are_readable_too(self, client):
        response = get(client, "/articles/nothing-here/")

        assert response.status_code == 404
        assert response["Access-Control-Allow-Origin"] == "*"

    def test_writes_get_no_cors_headers(self, client):
        response = client.post(f"{API}/articles/", {})

        assert response.status_code == 405
        assert "Access-Control-Allow-Origin" not in response

    def test_the_reader_site_gets_no_cors_headers(self, client, newsroom):
        response = client.get(newsroom.get_absolute_url())

        assert "Access-Control-Allow-Origin" not in response


class TestRateLimit:
    @pytest.fixture(autouse=True)
    def _three_a_minute(self, settings):
        settings.API_RATE_LIMIT = 3
        settings.API_RATE_LIMIT_WINDOW = 60

    def test_the_request_past_the_limit_is_429_with_retry_after(self, client, newsroom):
        answers = [get(client, "/articles/") for _n in range(3)]

        refused = get(client, "/articles/")

        assert [a.status_code for a in answers] == [200, 200, 200]
        assert [a["X-RateLimit-Remaining"] for a in answers] == ["2", "1", "0"]
        body = checked(refused, f"{API}/articles/", 429)
        assert "at most 3 every 60 seconds" in body["detail"]
        assert 1 <= int(refused["Retry-After"]) <= 60
        assert refused["Access-Control-Allow-Origin"] == "*"

    def test_answers_from_the_page_cache_count_too(self, client, newsroom):
        answers = [get(client, "/articles/") for _n in range(3)]

        refused = get(client, "/articles/")

        assert [a[CACHE_STATUS_HEADER] for a in answers] == ["miss", "hit", "hit"]
        assert refused.status_code == 429

    def test_each_address_has_its_own_allowance(self, client, newsroom):
        for _n in range(4):
            get(client, "/articles/")

        other = client.get(f"{API}/articles/", REMOTE_ADDR="192.0.2.7")

        assert other.status_code == 200

    def test_signed_in_users_are_not_limited(self, client, newsroom):
        client.force_login(make_user("editor"))

        statuses = {get(client, "/articles/").status_code for _n in range(5)}

        assert statuses == {200}

    def test_the_reader_site_is_not_limited(self, client, newsroom):
        statuses = {client.get(newsroom.get_absolute_url()).status_code for _n in range(5)}

        assert statuses == {200}
