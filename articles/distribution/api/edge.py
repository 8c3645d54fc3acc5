"""What every /api/ answer goes through before and after the page cache: CORS, the rate
limit for anonymous clients, and validators with 304 answers where the page cache gave none.

- CORS: GET, HEAD and OPTIONS answers carry `Access-Control-Allow-Origin: *` and never allow
  credentials, so any web page may read the API but no browser sends a reader's cookies
  along. A preflight (OPTIONS) is answered here, without reaching the API.
- Rate limit: an anonymous client (by address, see `config.security.client_ip`) may make
  `API_RATE_LIMIT` requests per `API_RATE_LIMIT_WINDOW` seconds, counted in the shared cache
  from its first request of the window; the next ones answer 429 with `Retry-After` until
  the window ends. Answers served from the page cache count too. Signed-in users are not
  limited. `API_RATE_LIMIT = 0` turns the limit off.
- Validators: anonymous GETs get their ETag and 304 from the page cache
  (`articles.site.caching`); other answers (signed-in users, or the page cache off) get an
  ETag here, as Django's ConditionalGetMiddleware would give them.
"""

import json
import math
import time

from django.conf import settings
from django.core.cache import cache
from django.http import HttpResponse
from django.utils.cache import get_conditional_response, patch_vary_headers, set_response_etag

from articles.site.caching import is_signed_in
from config.security import client_ip

API_PREFIX = "/api/"
CORS_METHODS = ("GET", "HEAD", "OPTIONS")
CORS_HEADERS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Methods": ", ".join(CORS_METHODS),
    "Access-Control-Allow-Headers": "If-None-Match, If-Modified-Since",
    "Access-Control-Expose-Headers": "ETag, Last-Modified, Retry-After, "
    "X-RateLimit-Limit, X-RateLimit-Remaining",
    "Access-Control-Max-Age": "86400",
}


def rate_limit() -> int:
    return getattr(settings, "API_RATE_LIMIT", 120)


def rate_limit_window() -> int:
    return getattr(settings, "API_RATE_LIMIT_WINDOW", 60)


def count_request(client: str) -> tuple[int, int]:
    """This client's requests in its current window (this one included), and the seconds
    until that window ends."""
    window = rate_limit_window()
    key = f"api:rate:{client}"
    started_key = f"{key}:started"
    now = time.time()
    if cache.add(key, 1, window):
        cache.set(started_key, now, window)
        return 1, window
    try:
        count = cache.incr(key)
    except ValueError:  # the window ended between the two calls
        cache.set(key, 1, window)
        cache.set(started_key, now, window)
        return 1, window
    started = cache.get(started_key, now)
    return count, max(1, math.ceil(started + window - now))


def too_many_requests(retry_after: int) -> HttpResponse:
    body = {
        "detail": f"Too many requests: at most {rate_limit()} every {rate_limit_window()} "
        f"seconds from one address. Try again in {retry_after} seconds."
    }
    response = HttpResponse(json.dumps(body), status=429, content_type="application/json")
    response["Retry-After"] = str(retry_after)
    return response


class ApiEdgeMiddleware:
    """See the module docstring. Place it before the page cache middleware (so that cached
    answers are counted and get CORS headers) and after SessionMiddleware (to tell signed-in
    users apart)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not request.path.startswith(API_PREFIX):
            return self.get_response(request)
        if request.method == "OPTIONS":
            response = HttpResponse(status=204)
        else:
            response = self.limited(request) or self.answer(request)
        if request.method in CORS_METHODS:
            for name, value in CORS_HEADERS.items():
                response[name] = value
        return response

    def limited(self, request) -> HttpResponse | None:
        limit = rate_limit()
        if limit <= 0 or is_signed_in(request):
            return None
        count, retry_after = count_request(client_ip(request) or "unknown")
        if count > limit:
            return too_many_requests(retry_after)
        request.api_rate_remaining = limit - count
        return None

    def answer(self, request):
        response = self.get_response(request)
        remaining = getattr(request, "api_rate_remaining", None)
        if remaining is not None:
            response["X-RateLimit-Limit"] = str(rate_limit())
            response["X-RateLimit-Remaining"] = str(remaining)
        if (
            request.method in ("GET", "HEAD")
            and response.status_code == 200
            and not response.streaming
            and not response.has_header("ETag")
        ):
            set_response_etag(response)
            patch_vary_headers(response, ("Cookie",))
            return get_conditional_response(request, etag=response["ETag"], response=response)
        return response
