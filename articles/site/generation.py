"""Generations of what readers are served, one per scope, kept in the shared cache.

A cached page (and every cached piece of one) embeds the generations of the scopes it shows in
its key, so moving a scope's generation makes every stale entry of that scope unreachable at
once, in every process that shares the cache, with no list of keys to delete. Scopes:

* `SITE`: everything. Site-wide blocks, sources and rights, taxonomy names and slugs, and a
  scheduled article's go-live (see articles/site/caching.py) move it.
* `LISTS`: the pages that show the newest articles whatever their subject: home, search,
  the site-wide feeds and the sitemaps. Any change of a live article moves it.
* one scope per article page, subject listing and date archive, named as in
  `article_scope()`, `subject_scope()` and `archive_scopes()`: `article:<slug>`,
  `region:<slug>`, `tag:<slug>`, `archive:2025`, `archive:2025-03`...
* `REDIRECTS`, in no page key: whether some redirect has a query string.

Scheduled articles go live with no save, and the articles of a source whose rights end under a
withdraw policy leave with none (docs/provenance-watch.md), so the time of the next such change
(the horizon) is kept per `SITE` generation: pages are trusted until then, and when it has come
`SITE` is moved. A commit that schedules, reschedules or unschedules an article refreshes the
horizon; an edit of a source or rights record moves `SITE`, whose new generation reads it anew.

A generation is a random token rather than a counter: a token that is lost (evicted, or the
cache restarted) is replaced by a new random one, so a page kept under the old token can never
be served again. What moves which scope, and when, is articles/site/signals.py.
"""

import hashlib
import re
import secrets
from collections.abc import Iterable

from django.core.cache import cache
from django.utils import timezone

SITE = "site"
LISTS = "lists"
REDIRECTS = "redirects"
# Not a generation: asks the commit to refresh the horizon (see above).
SCHEDULE = "schedule"

# Subject listings and their feeds, by the kind of subject.
SUBJECT_KINDS = ("region", "theme", "report", "author", "source", "tag")

_PLAIN_SCOPE = re.compile(r"[a-z]+(:[A-Za-z0-9_-]{1,150})?")


def article_scope(slug: str) -> str:
    return f"article:{slug}"


def subject_scope(kind: str, slug: str) -> str:
    return f"{kind}:{slug}"


def archive_year_scope(year: int) -> str:
    return f"archive:{int(year)}"


def archive_month_scope(year: int, month: int) -> str:
    return f"archive:{int(year)}-{int(month):02d}"


def archive_scopes(moment) -> list[str]:
    """The year and month archives that list an article published at `moment`."""
    local = timezone.localtime(moment)
    return [archive_year_scope(local.year), archive_month_scope(local.year, local.month)]


def generation_key(scope: str) -> str:
    # Tag slugs may hold any character; such scopes are hashed into a valid cache key.
    if not _PLAIN_SCOPE.fullmatch(scope):
        scope = "h:" + hashlib.sha256(scope.encode()).hexdigest()[:32]
    return f"articles:generation:{scope}"


def _new_token() -> str:
    return secrets.token_hex(6)


def generations(scopes: Iterable[str]) -> dict[str, str]:
    """The current generation of each scope: one cache round trip, two if one was unknown."""
    keys = {generation_key(scope): scope for scope in dict.fromkeys(scopes)}
    found = cache.get_many(list(keys))
    missing = [key for key in keys if key not in found]
    if missing:
        for key in missing:
            cache.add(key, _new_token(), timeout=None)
        found.update(cache.get_many(missing))
    return {scope: found.get(key, "lost") for key, scope in keys.items()}


def stamp(scopes: Iterable[str]) -> str:
    """One string of the generations of `scopes` (in their order), for a cache key."""
    scopes = list(scopes)
    current = generations(scopes)
    return ".".join(current[scope] for scope in scopes)


def site_generation() -> str:
    """The generation of everything: for cached pieces that any broad change may alter (the
    site's navigation, the search form's menus, names of sources and subjects)."""
    return generations([SITE])[SITE]


def move_generations(scopes: Iterable[str]) -> None:
    """Make every cached page of these scopes stale, now, in one cache round trip (two when
    the horizon is refreshed too).

    Called once per committed transaction that changed what readers see (see
    articles/site/signals.py); call `invalidate_everything()` from code that changes content
    behind the ORM's signals.
    """
    scopes = set(scopes)
    refresh = SCHEDULE in scopes
    scopes.discard(SCHEDULE)
    if scopes:
        cache.set_many({generation_key(scope): _new_token() for scope in scopes}, timeout=None)
    if refresh and SITE not in scopes:
        # A new SITE generation starts without a horizon: it is read on first use.
        cache.set(horizon_key(site_generation()), _next_go_live(), HORIZON_SECONDS)


def invalidate_everything() -> None:
    """Every reader page is stale from now on (e.g. after a bulk insert without signals)."""
    move_generations([SITE])


# ---------------------------------------------------------------------------------------------
# The horizon: when the next scheduled article goes live

HORIZON_SECONDS = 60 * 60 * 24 * 30


def horizon_key(site: str) -> str:
    return f"articles:horizon:{site}"


def _next_go_live() -> float:
    """When readers' pages next change with no save: a scheduled article goes live, or a
    source's rights end and its articles leave; 0 for never."""
    from articles.models import Article, RightsRecord

    moments = [
        Article.objects.next_publication_time(),
        RightsRecord.objects.next_withdrawal_moment(),
    ]
    next_at = min((moment for moment in moments if moment is not None), default=None)
    return next_at.timestamp() if next_at else 0


def remember_horizon(key: str) -> float:
    """The horizon (0 for none) stored under `key` unless a commit stored a fresher one first;
    three small queries (the next scheduled article, the next expiry and revocation)."""
    cache.add(key, _next_go_live(), HORIZON_SECONDS)
    return cache.get(key, 0)
