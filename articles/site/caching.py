"""HTTP caching of the reader site: a whole-page cache for anonymous readers, validators
(ETag, Last-Modified) with 304 answers, and Cache-Control that tells browsers and shared
caches who may keep a page and for how long.

What is cached: GET and HEAD answers of the public reader site (URL namespaces in
`PAGE_CACHE_NAMESPACES`: "articles", and "discovery" for search, feeds and sitemaps) that
are 200, not streamed, set no cookie, do not say `private`/`no-cache`/`no-store`/`max-age=0`
(so `never_cache` views such as the staff preview are never kept) and vary on nothing but
Cookie or Accept-Encoding. Redirects and 404/410 pages are not cached: they are cheap to
compute, and random paths would otherwise fill the cache and evict real pages. `/admin/`,
the health check and anything else outside those namespaces are never cached.

Who bypasses it: any request other than GET/HEAD, and any request whose session belongs to a
signed-in user (the session is only looked up when the request carries a session cookie,
so anonymous readers cost no query). Signed-in users always get a fresh page marked
`Cache-Control: private, no-cache`.

Invalidation: page keys embed the content generation of `articles.site.generation`, which every
content change (article, taxonomy, source, rights, site block...) moves, so a change makes
every stale page unreachable at once. Scheduled articles go live with no save, so the next
scheduled publication time is remembered per generation and the generation is moved when
that time has come. Entries also expire after `PAGE_CACHE_SECONDS`, which bounds staleness
where the cache is not shared: the local-memory cache lives inside one process, so a site
served by several processes should set CACHE_URL to Redis.

Validators: the ETag is a hash of the body, so a page whose content did not change keeps
its ETag across generations and browsers get a 304 even after unrelated edits. Last-Modified
is when the page's body was first seen with its current ETag (kept per URL).
"""

import hashlib
import time

from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.core.cache import cache
from django.http import HttpResponse
from django.utils.cache import (
    cc_delim_re,
    get_conditional_response,
    patch_cache_control,
    patch_vary_headers,
)
from django.utils.http import http_date, parse_http_date_safe, quote_etag

from articles.site.generation import GENERATION_KEY, content_generation

CACHE_STATUS_HEADER = "X-Page-Cache"
SAFE_METHODS = ("GET", "HEAD")
_HARMLESS_VARY = {"cookie", "accept-encoding"}
_DO_NOT_KEEP = {"private", "no-cache", "no-store"}
_VALIDATORS_SECONDS = 60 * 60 * 24 * 30


def page_cache_seconds() -> int:
    """How long a page stays in the server-side cache; 0 turns the page cache off."""
    return getattr(settings, "PAGE_CACHE_SECONDS", 300)


def browser_cache_control() -> dict:
    """Cache-Control of pages anonymous readers receive."""
    return {
        "public": True,
        "max_age": getattr(settings, "PAGE_CACHE_BROWSER_SECONDS", 60),
        "stale_while_revalidate": getattr(settings, "PAGE_CACHE_STALE_SECONDS", 300),
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


def _horizon_key(generation: int) -> str:
    return f"articles:page-horizon:{generation}"


def remember_horizon(generation: int) -> float:
    """When the next scheduled article goes live (0 for none), stored next to the generation.

    One indexed query, made once per generation.
    """
    from articles.models import Article

    next_at = (
        Article.objects.scheduled()
        .order_by("published_at")
        .values_list("published_at", flat=True)
        .first()
    )
    horizon = next_at.timestamp() if next_at else 0
    cache.set(_horizon_key(generation), horizon, _VALIDATORS_SECONDS)
    return horizon


def _move_generation_on():
    """Like a content change, but now rather than on commit: a go-live is no database write."""
    try:
        cache.incr(GENERATION_KEY)
    except ValueError:
        cache.set(GENERATION_KEY, content_generation() + 1, timeout=None)


def find_cached_page(request) -> tuple[str, tuple | None]:
    """The page's cache key and its stored answer, if any, in two cache round trips.

    A scheduled article goes live with no save, so once its time has come the generation is
    moved on first: every page that might list it is then out of date.
    """
    generation = content_generation()
    key = page_key(request, generation)
    found = cache.get_many([_horizon_key(generation), key])
    horizon = found.get(_horizon_key(generation))
    if horizon is None:
        # Unknown horizon: a page kept under it cannot be trusted to predate a go-live.
        horizon = remember_horizon(generation)
        found.pop(key, None)
    if horizon and time.time() >= horizon:
        _move_generation_on()
        return page_key(request, content_generation()), None
    return key, found.get(key)


def _url_digest(request) -> str:
    return hashlib.sha256(request.build_absolute_uri().encode()).hexdigest()


def page_key(request, generation: int) -> str:
    """One entry per generation and absolute URL (scheme, host, path and query string).

    HEAD shares GET's entry: the view renders the same page, the server drops the body.
    """
    return f"articles:page:{generation}:{_url_digest(request)}"


def _validators_key(request) -> str:
    return f"articles:page-validators:{_url_digest(request)}"


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
    namespaces = getattr(settings, "PAGE_CACHE_NAMESPACES", ("articles", "discovery"))
    return match is not None and match.namespace in namespaces


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


def stamp_validators(request, response) -> None:
    """Set ETag (body hash) and Last-Modified (when this body was first seen at this URL)."""
    etag = quote_etag(hashlib.md5(response.content, usedforsecurity=False).hexdigest())
    key = _validators_key(request)
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
        if not self._may_serve_from_cache(request):
            return self.get_response(request)

        key, frozen = find_cached_page(request)
        if frozen is not None:
            response = _thaw(frozen)
            response[CACHE_STATUS_HEADER] = "hit"
            return answer_conditionally(request, response)

        response = self.get_response(request)
        if not may_keep(request, response):
            return response
        patch_cache_control(response, **browser_cache_control())
        patch_vary_headers(response, ("Cookie",))
        stamp_validators(request, response)
        cache.set(key, _freeze(response), page_cache_seconds())
        response[CACHE_STATUS_HEADER] = "miss"
        return answer_conditionally(request, response)

    @staticmethod
    def _may_serve_from_cache(request) -> bool:
        bypass_header = getattr(settings, "PAGE_CACHE_BYPASS_HEADER", None)
        return (
            page_cache_seconds() > 0
            and request.method in SAFE_METHODS
            and not request.path.startswith("/admin/")
            and not (bypass_header and bypass_header in request.META)
        )
