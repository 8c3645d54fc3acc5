"""Pages of a long listing at the same cost, however deep: cut from its remembered order.

A database pages a listing with `COUNT(*)` and `OFFSET`, and both walk every row before the
page: page 500 of a region reads the 10,000 newest articles of the region to show 20 of them,
and every page counts them all again. `ListingPaginator` instead reads a listing's ids, in
listing order, once per generation of what it lists (one index-only query), keeps them in the
cache in chunks, and loads a page as the rows with those ids. The count is the number of ids,
so page 500 costs what page 1 costs: two cache reads and the page's own rows.

Freshness: the cached ids live under the generations of the listing's scopes (its subject, or
`LISTS`; see articles/site/generation.py), which every change to what the listing shows moves
on. A scheduled article goes live with no change at all, so the ids are only trusted until the
next scheduled publication time, read when they were: after that they are read again.
"""

import array
import hashlib
import secrets

from django.core.cache import cache
from django.core.paginator import Page, Paginator
from django.utils import timezone

from articles.models import Article
from articles.site.caching import listing_stamp

# Ids per cache entry: 50 pages of 20, so a page needs one entry whatever the listing's size.
CHUNK_SIZE = 1000
KEEP_SECONDS = 60 * 60


class ListingPaginator(Paginator):
    """A Paginator over published articles whose pages are looked up by id (see above).

    `listing` names the listing (the page's path): two listings with the same name must list
    the same articles. `rows` is where a page's rows are read from, by id (by default the
    listing itself): the listing's filters chose the ids, so a page need not apply them again.
    """

    def __init__(self, object_list, per_page, *, listing: str, rows=None, **kwargs):
        super().__init__(object_list, per_page, **kwargs)
        # Where a page's rows are read from by id: the listing itself unless a plainer
        # queryset, without the listing's filters, is given.
        self.rows = object_list if rows is None else rows
        digest = hashlib.sha256(listing.encode()).hexdigest()[:32]
        self._key = f"articles:listing:{listing_stamp(listing)}:{digest}"
        self._known_head: dict | None = None

    @property
    def count(self) -> int:
        return self._head()["count"]

    def page(self, number):
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        top = bottom + self.per_page
        if top + self.orphans >= self.count:
            top = self.count
        ids = self._ids(bottom, top)
        return Page(self.rows.filter(pk__in=ids), number, self)

    # -- the remembered order -------------------------------------------------------------

    def _head(self) -> dict:
        """The listing's count, when it stops being trustworthy, and its chunks' build; read
        from the cache once per paginator."""
        if self._known_head is None:
            head = cache.get(self._key)
            if head is None or head["until"] <= timezone.now().timestamp():
                head = self._remember()
            self._known_head = head
        return self._known_head

    def _ids(self, bottom: int, top: int) -> list[int]:
        head = self._head()
        wanted = range(bottom // CHUNK_SIZE, (top - 1) // CHUNK_SIZE + 1) if top > bottom else []
        keys = [self._chunk_key(head["build"], index) for index in wanted]
        chunks = head.get("chunks") or cache.get_many(keys)
        if any(key not in chunks for key in keys):
            head = self._remember()
            chunks = head["chunks"]
        ids = array.array("q")
        for key in keys:
            ids.extend(chunks[key])
        start = bottom - (wanted[0] * CHUNK_SIZE if wanted else 0)
        return ids[start : start + (top - bottom)].tolist()

    def _remember(self) -> dict:
        # Read the horizon before the ids: an article going live between the two queries is
        # then either among the ids or no later than the horizon.
        horizon = Article.objects.next_publication_time()
        ids = self.object_list.values_list("pk", flat=True)
        ordered = array.array("q", ids)
        build = secrets.token_hex(4)
        chunks = {
            self._chunk_key(build, start // CHUNK_SIZE): ordered[start : start + CHUNK_SIZE]
            for start in range(0, len(ordered), CHUNK_SIZE)
        }
        head = {
            "count": len(ordered),
            "until": horizon.timestamp() if horizon else float("inf"),
            "build": build,
        }
        cache.set_many({self._key: head, **chunks}, KEEP_SECONDS)
        self._known_head = {**head, "chunks": chunks}
        return self._known_head

    def _chunk_key(self, build: str, index: int) -> str:
        return f"{self._key}:{build}:{index}"
