"""Old addresses keep working: a permanent redirect for every `Redirect` row.

Two kinds of rows exist: those left behind when an article's slug changes (they point at the
article, so they always lead to its current address), and migrated addresses such as
WordPress permalinks (`/2019/05/some-post/`, `/?p=123`) pointing at an article or at any
URL. A reader is always sent straight to the final address: a `target_url` that is itself
an old path of another row is followed (up to `MAX_HOPS`) before answering, so there are no
chains. An old address of a withdrawn article answers 410 Gone like the article itself;
one of a draft or scheduled article stays 404.

The middleware acts only where the site has nothing better to say:
* on a 404, looking up the full path (with its query string), then the bare path, with and
  without a trailing slash;
* on the home page with a query string the home page does not use itself: WordPress
  addresses such as `/?p=123` or `/?page_id=4` name it, and it answers them with 200. Only
  while some `Redirect` row has a query string in its old path (whether one does is cached
  until such a row is added or removed) does such a request cost one indexed lookup.
"""

from django.core.cache import cache
from django.http import HttpResponsePermanentRedirect

from articles.models import ArticleStatus, Redirect
from articles.site.generation import LISTS, REDIRECTS, generations
from articles.site.views import withdrawn_notice

MAX_HOPS = 5
HOME_PAGE_PARAMETERS = {"page"}


def candidate_paths(request) -> list[str]:
    """The old paths that may name this request, most specific first."""
    path = request.path
    toggled = path[:-1] if path.endswith("/") and len(path) > 1 else path + "/"
    candidates = [request.get_full_path(), path, toggled]
    return list(dict.fromkeys(candidates))


def is_safe_target(url: str) -> bool:
    """Paths on this site and absolute http(s) URLs; nothing that could run or mislead."""
    if url.startswith("/"):
        return not url.startswith(("//", "/\\"))
    return url.startswith(("http://", "https://"))


def final_redirect(old_paths: list[str]) -> Redirect | None:
    """The Redirect for the first matching path, with target_url chains collapsed."""
    found = {
        redirect.old_path: redirect
        for redirect in Redirect.objects.filter(old_path__in=old_paths).select_related("article")
    }
    redirect = next((found[path] for path in old_paths if path in found), None)
    seen = set(old_paths)
    for _hop in range(MAX_HOPS):
        if redirect is None or redirect.article_id or redirect.target_url in seen:
            break
        seen.add(redirect.target_url)
        following = (
            Redirect.objects.filter(old_path=redirect.target_url).select_related("article").first()
        )
        if following is None:
            break
        redirect = following
    return redirect


def redirect_response(request, redirect: Redirect):
    """The answer for a matched Redirect, or None when the address should stay a 404."""
    article = redirect.article
    if article is not None:
        if article.status == ArticleStatus.WITHDRAWN:
            return withdrawn_notice(request, article)
        if not article.is_live:
            return None
        return HttpResponsePermanentRedirect(article.get_absolute_url())
    target = redirect.target_url
    if not is_safe_target(target) or target == request.get_full_path():
        return None
    return HttpResponsePermanentRedirect(target)


def query_redirects_exist() -> bool:
    """Whether some redirect has a query string, cached until one that matters to readers is
    added or removed (one to a draft starts to matter when the draft goes live: `LISTS`)."""
    current = generations([REDIRECTS, LISTS])
    key = f"articles:query-redirects:{current[REDIRECTS]}.{current[LISTS]}"
    exists = cache.get(key)
    if exists is None:
        exists = Redirect.objects.filter(old_path__contains="?").exists()
        cache.set(key, exists, 60 * 60)
    return exists


class RedirectFallbackMiddleware:
    """Answer a 404 (or a known old query-string address) with the redirect stored for it."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if request.method not in ("GET", "HEAD"):
            return response
        if response.status_code == 404:
            redirect = final_redirect(candidate_paths(request))
        elif (
            request.path == "/"
            and set(request.GET) - HOME_PAGE_PARAMETERS
            and query_redirects_exist()
        ):
            redirect = final_redirect([request.get_full_path()])
        else:
            return response
        if redirect is None:
            return response
        return redirect_response(request, redirect) or response
