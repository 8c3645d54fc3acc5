"""HTTP caching of the reader site: a whole-page cache for anonymous readers, validators
(ETag, Last-Modified) with 304 answers, and Cache-Control that tells browsers and shared
caches who may keep a page and for how long.

What is cached: GET and HEAD answers of the reader pages declared in `CACHED_PAGES` (by URL
name) that are 200, not streamed, set no cookie, do not say `private`/`no-cache`/`no-store`/
`max-age=0` (so `never_cache` views such as the staff preview are never kept) and vary on
nothing but Cookie or Accept-Encoding. Redirects and 404/410 pages are not cached: they are
cheap to compute, and random paths would otherwise fill the cache and evict real pages.
`/admin/`, the health check and any page not declared are never cached.

The JSON API's answers (articles/distribution/api/) are declared the same way, by their URL
names in the `api` namespace.

One entry per page, not per address: each declared page names the query parameters it reads
(`page` on listings, the form's fields on search, none on an article); any other parameter
(`?utm_source=...`, `?x=1`) is dropped from the request before the view sees it, so every such
address shares the page's one entry. The home page alone keeps the other parameters while some
redirect has a query string: `/?p=123` may be an old WordPress address (articles/site/redirects.py).

Who bypasses it: any request other than GET/HEAD, and any request whose session belongs to a
signed-in user (the session is only looked up when the request carries a session cookie,
so anonymous readers cost no query). Signed-in users always get a fresh page marked
`Cache-Control: private, no-cache`.

Invalidation: a page's key embeds the generations (articles/site/generation.py) of `SITE` and
of the scopes the page shows, as declared in `CACHED_PAGES`: an article page its
`article:<slug>`, a region's listing and feeds `region:<slug>`, home, search, the site-wide
feeds and the sitemaps `LISTS`. articles/site/signals.py moves the generations of what a
committed change showed, so a stale page is never found again, in any process sharing the
cache. Scheduled articles go live with no save, so the next scheduled publication time is
remembered (per `SITE` generation, refreshed by any commit that schedules an article) and
`SITE` is moved when that time has come. Entries also expire after `PAGE_CACHE_SECONDS`.
Several processes must share one cache (Redis): articles/site/checks.py refuses anything else
in `check --deploy`, and production settings refuse to start without it.

Browsers and shared caches: article pages say `max-age=0, must-revalidate`
(`PAGE_CACHE_ARTICLE_SECONDS`), so every reuse of a copy is first checked with the server,
which answers 304 from its cache while the page is unchanged: a withdrawn article is gone on
the next request. Other pages may be kept `PAGE_CACHE_BROWSER_SECONDS` (60) and served stale
while revalidating for `PAGE_CACHE_STALE_SECONDS` (60) more. docs/reading.md says what a
withdrawal guarantees.

Validators: the ETag is a hash of the body, so a page whose content did not change keeps
its ETag across generations and browsers get a 304 even after unrelated edits. Last-Modified
is when the page's body was first seen with its current ETag (kept per page).
"""

import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.core.cache import cache
from django.http import HttpResponse, QueryDict
from django.urls import Resolver404, resolve
from django.utils.cache import (
    cc_delim_re,
    get_conditional_response,
    patch_cache_control,
    patch_vary_headers,
)
from django.utils.http import http_date, parse_http_date_safe, quote_etag

from articles.distribution.api.schemas import ArticleFilters, SubjectFilters
from articles.site.generation import (
    LISTS,
    SITE,
    archive_month_scope,
    archive_year_scope,
    article_scope,
    generations,
    horizon_key,
    move_generations,
    remember_horizon,
    subject_scope,
)

CACHE_STATUS_HEADER = "X-Page-Cache"
SAFE_METHODS = ("GET", "HEAD")
_HARMLESS_VARY = {"cookie", "accept-encoding"}
_DO_NOT_KEEP = {"private", "no-cache", "no-store"}
_VALIDATORS_SECONDS = 60 * 60 * 24 * 30


# ---------------------------------------------------------------------------------------------
# What is cached, declared per URL name


@dataclass(frozen=True)
class CachedPage:
    """How one kind of reader page is cached.

    `parameters`: the query parameters the page reads; any other is dropped. `scopes`: the
    generations, besides `SITE`, that its key embeds, from the URL's keyword arguments.
    `revalidate`: browsers and shared caches check every reuse with the server.
    `query_redirects`: other parameters may name an old address (`/?p=123`): while some
    redirect has a query string, such a request bypasses the cache.
    """

    parameters: tuple[str, ...]
    scopes: Callable[[dict], list[str]]
    revalidate: bool = False
    query_redirects: bool = False


def _lists(kwargs) -> list[str]:
    return [LISTS]


def _subject(kind: str):
    return lambda kwargs: [subject_scope(kind, kwargs["slug"])]


def _subject_feed(kwargs) -> list[str]:
    # The feeds' kinds are plural ("regions"); an unknown kind is a 404, never kept.
    return [subject_scope(kwargs["kind"].removesuffix("s"), kwargs["slug"])]


SEARCH_PARAMETERS = ("q", "region", "theme", "report", "source", "author", "from", "to", "page")
LISTING = ("page",)

CACHED_PAGES: dict[str, CachedPage] = {
    "articles:home": CachedPage(LISTING, _lists, query_redirects=True),
    "articles:article": CachedPage(
        (), lambda kwargs: [article_scope(kwargs["slug"])], revalidate=True
    ),
    "articles:region": CachedPage(LISTING, _subject("region")),
    "articles:theme": CachedPage(LISTING, _subject("theme")),
    "articles:report": CachedPage(LISTING, _subject("report")),
    "articles:author": CachedPage(LISTING, _subject("author")),
    "articles:source": CachedPage(LISTING, _subject("source")),
    "articles:tag": CachedPage(LISTING, _subject("tag")),
    "articles:archive_year": CachedPage(
        LISTING, lambda kwargs: [archive_year_scope(kwargs["year"])]
    ),
    "articles:archive_month": CachedPage(
        LISTING, lambda kwargs: [archive_month_scope(kwargs["year"], kwargs["month"])]
    ),
    "discovery:search": CachedPage(SEARCH_PARAMETERS, _lists),
    "discovery:feed_rss": CachedPage((), _lists),
    "discovery:feed_atom": CachedPage((), _lists),
    "discovery:feed_json": CachedPage((), _lists),
    "discovery:subject_feed_rss": CachedPage((), _subject_feed),
    "discovery:subject_feed_atom": CachedPage((), _subject_feed),
    "discovery:sitemap_index": CachedPage((), _lists),
    "discovery:news_sitemap": CachedPage((), _lists),
    "discovery:sitemap_section": CachedPage(("p",), _lists),
    "discovery:robots_txt": CachedPage((), lambda kwargs: []),
    # The JSON API: lists show live articles (filtered lists included), the article its own
    # page's scope; sources, regions, themes and reports move SITE when edited, while new
    # authors and tags (imports create them) show once an article of theirs goes live.
    "api:articles": CachedPage(tuple(ArticleFilters.model_fields), _lists),
    "api:article": CachedPage((), lambda kwargs: [article_scope(kwargs["slug"])], revalidate=True),
    **{
        f"api:{name}": CachedPage(tuple(SubjectFilters.model_fields), _lists)
        for name in ("sources", "authors", "regions", "themes", "reports", "tags")
    },
    "api:openapi-json": CachedPage((), lambda kwargs: []),
}


@dataclass(frozen=True)
class PageMatch:
    """A request for a declared page: what it is, and its query string cut to what it reads."""

    page: CachedPage
    kwargs: dict
    kept: list[tuple[str, str]]
    dropped: bool

    def scopes(self) -> list[str]:
        return [SITE, *self.page.scopes(self.kwargs)]


def match_page(path: str, query: QueryDict) -> PageMatch | None:
    try:
        match = resolve(path)
    except Resolver404:
        return None
    page = CACHED_PAGES.get(match.view_name)
    if page is None:
        return None
    kept = [
        (name, value)
        for name in sorted(set(query) & set(page.parameters))
        for value in query.getlist(name)
    ]
    dropped = len(kept) != sum(len(values) for values in query.lists())
    return PageMatch(page, match.kwargs, kept, dropped)


def listing_stamp(path: str) -> str:
    """The generations a listing at `path` depends on, as one string (for its remembered
    order, articles/site/pagination.py); a path that is no declared page depends on `LISTS`."""
    matched = match_page(path, QueryDict())
    scopes = matched.scopes() if matched else [SITE, LISTS]
    current = generations(scopes)
    return ".".join(current[scope] for scope in scopes)


# ---------------------------------------------------------------------------------------------
# Headers


def page_cache_seconds() -> int:
    """How long a page stays in the server-side cache; 0 turns the page cache off."""
    return getattr(settings, "PAGE_CACHE_SECONDS", 300)


def browser_cache_control(page: CachedPage | None = None) -> dict:
    """Cache-Control of pages anonymous readers receive."""
    if page is not None and page.revalidate:
        return {
            "public": True,
            "max_age": getattr(settings, "PAGE_CACHE_ARTICLE_SECONDS", 0),
            "must_revalidate": True,
        }
    return {
        "public": True,
        "max_age": getattr(settings, "PAGE_CACHE_BROWSER_SECONDS", 60),
        "stale_while_revalidate": getattr(settings, "PAGE_CACHE_STALE_SECONDS", 60),
    }


def is_signed_in(request) -> bool:
    """True when the request's session belongs to a user who signed in.

    Only a request carrying a session cookie costs a (session) query; the user row is not
    loaded, so a session whose user was since deleted still counts as signed in, which
    errs on the side of a fresh page.
    """
    if settings.SESSION_COOKIE_NAME not in request.COOKIES:
        return False
    session = getattr(request, "session", None)
    return session is not None and session.get(SESSION_KEY) is not None


def mark_private(response) -> None:
    """A page made for one signed-in person: no shared cache may keep it."""
    patch_cache_control(response, private=True, no_cache=True)


# ---------------------------------------------------------------------------------------------
# Keys


def find_cached_page(request, matched: PageMatch) -> tuple[str, tuple | None]:
    """The page's cache key and its stored answer, if any, in two cache round trips.

    A scheduled article goes live with no save, so once its time has come `SITE` is moved
    on first: every page that might list it is then out of date.
    """
    scopes = matched.scopes()
    current = generations(scopes)
    key = page_key(request, matched, current)
    horizon_at = horizon_key(current[SITE])
    found = cache.get_many([horizon_at, key])
    horizon = found.get(horizon_at)
    if horizon is None:
        # Unknown horizon: a page kept under it cannot be trusted to predate a go-live.
        horizon = remember_horizon(horizon_at)
        found.pop(key, None)
    if horizon and time.time() >= horizon:
        move_generations([SITE])
        return page_key(request, matched, generations(scopes)), None
    return key, found.get(key)


def canonical_url(request, matched: PageMatch) -> str:
    """Scheme, host, path and the parameters the page reads, in a fixed order."""
    url = request.build_absolute_uri(request.path)
    return f"{url}?{_encode(matched.kept)}" if matched.kept else url


def _encode(pairs: list[tuple[str, str]]) -> str:
    query = QueryDict(mutable=True)
    for name, value in pairs:
        query.appendlist(name, value)
    return query.urlencode()


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def page_key(request, matched: PageMatch, current: dict[str, str]) -> str:
    """One entry per page (canonical address) and generations of the scopes it shows.

    HEAD shares GET's entry: the view renders the same page, the server drops the body.
    """
    stamp = ".".join(current[scope] for scope in matched.scopes())
    return f"articles:page:{_digest(stamp + '|' + canonical_url(request, matched))}"


def _validators_key(request, matched: PageMatch) -> str:
    return f"articles:page-validators:{_digest(canonical_url(request, matched))}"


# ---------------------------------------------------------------------------------------------
# What may be kept


def _cache_control_forbids_keeping(response) -> bool:
    directives = {
        part.split("=", 1)[0].strip().lower(): part.split("=", 1)[-1].strip()
        for part in cc_delim_re.split(response.get("Cache-Control", ""))
        if part.strip()
    }
    return bool(_DO_NOT_KEEP & directives.keys()) or directives.get("max-age") == "0"


def _varies_on_more_than_cookie(response) -> bool:
    varied = {v.strip().lower() for v in cc_delim_re.split(response.get("Vary", "")) if v.strip()}
    return bool(varied - _HARMLESS_VARY)


def _is_reader_page(request) -> bool:
    match = getattr(request, "resolver_match", None)
    return match is not None and match.view_name in CACHED_PAGES


def may_keep(request, response) -> bool:
    """Whether this answer may be stored and shown to every anonymous reader."""
    return (
        response.status_code == 200
        and not response.streaming
        and not response.cookies
        and _is_reader_page(request)
        and not _cache_control_forbids_keeping(response)
        and not _varies_on_more_than_cookie(response)
    )


def stamp_validators(request, matched: PageMatch, response) -> None:
    """Set ETag (body hash) and Last-Modified (when this body was first seen for this page)."""
    etag = quote_etag(hashlib.md5(response.content, usedforsecurity=False).hexdigest())
    key = _validators_key(request, matched)
    known = cache.get(key)
    if known is not None and known[0] == etag:
        last_modified = known[1]
    else:
        # One second past the previous version, so a change within the same second as the
        # last one still moves Last-Modified (HTTP dates have whole seconds).
        last_modified = max(int(time.time()), known[1] + 1 if known else 0)
        cache.set(key, (etag, last_modified), _VALIDATORS_SECONDS)
    response["ETag"] = etag
    response["Last-Modified"] = http_date(last_modified)


def _freeze(response) -> tuple:
    return (response.status_code, list(response.items()), response.content)


def _thaw(frozen) -> HttpResponse:
    status, headers, content = frozen
    response = HttpResponse(content, status=status)
    for name, value in headers:
        response[name] = value
    return response


def answer_conditionally(request, response):
    """A 304 when the reader's copy is current (If-None-Match, else If-Modified-Since)."""
    last_modified = parse_http_date_safe(response.get("Last-Modified", ""))
    return get_conditional_response(
        request, etag=response.get("ETag"), last_modified=last_modified, response=response
    )


def keep_only_what_the_page_reads(request, matched: PageMatch) -> None:
    """Drop the query parameters the page does not read, so the view renders the page that
    is kept for every address sharing its entry."""
    query_string = _encode(matched.kept)
    request.GET = QueryDict(query_string)
    request.META["QUERY_STRING"] = query_string


class PageCacheMiddleware:
    """Serves anonymous readers whole pages from the cache; see the module docstring.

    Place it right after SessionMiddleware: it needs the session to recognise signed-in
    users, and it must sit outside CsrfViewMiddleware and MessageMiddleware so that it sees
    the cookies they add (a page that sets a cookie is never stored). Middleware outside it
    (security headers) still runs on every cached answer.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if is_signed_in(request):
            response = self.get_response(request)
            mark_private(response)
            return response
        matched = self._cacheable_page(request)
        if matched is None:
            return self.get_response(request)
        if matched.dropped:
            keep_only_what_the_page_reads(request, matched)

        key, frozen = find_cached_page(request, matched)
        if frozen is not None:
            response = _thaw(frozen)
            response[CACHE_STATUS_HEADER] = "hit"
            return answer_conditionally(request, response)

        response = self.get_response(request)
        if not may_keep(request, response):
            return response
        patch_cache_control(response, **browser_cache_control(matched.page))
        patch_vary_headers(response, ("Cookie",))
        stamp_validators(request, matched, response)
        cache.set(key, _freeze(response), page_cache_seconds())
        response[CACHE_STATUS_HEADER] = "miss"
        return answer_conditionally(request, response)

    @staticmethod
    def _cacheable_page(request) -> PageMatch | None:
        bypass_header = getattr(settings, "PAGE_CACHE_BYPASS_HEADER", None)
        if (
            page_cache_seconds() <= 0
            or request.method not in SAFE_METHODS
            or request.path.startswith("/admin/")
            or (bypass_header and bypass_header in request.META)
        ):
            return None
        matched = match_page(request.path_info, request.GET)
        if matched is None:
            return None
        if matched.dropped and matched.page.query_redirects:
            from articles.site.redirects import query_redirects_exist

            if query_redirects_exist():
                return None
        return matched
