"""Near-duplicates across sources: every imported article gets a similarity signature and is
linked to the articles it looks like (see docs/duplicates.md).

The store stage hands each chunk of articles it has committed, with their titles and the plain
text of their bodies, to the run's `DuplicateCheck`, which for each chunk:

1. computes their signatures (`signature_of`);
2. stores them, with their lookup keys, in one transaction (`store_signatures`: one INSERT or
   COPY of the signatures and one of their keys, whatever their number);
3. once that has committed, links each article to the articles like it
   (`link_possible_duplicates`). Looking only after the keys are committed is what makes two
   imports of the same story at the same moment (from two sources) find each other: whichever
   commits its keys second sees the first's.

On PostgreSQL, outside a transaction, a run does this in a thread of its own, with a database
connection of its own, while the import goes on with the next chunk: the work is mostly the
database's (33 key rows to insert and 33 index probes an article), and the import's own loop
no longer waits for it. The run waits for the thread before it counts and ends. Elsewhere (SQLite,
or an import inside a caller's transaction, as in tests) the same steps run in the loop.

A signature is derived data, stored after its article: an article whose signing was cut short
(the process killed between the two commits) has none, and `sign_missed_imports`, run by the
feed pass, signs and links it later.
"""

import datetime
import logging
import queue
import threading
from collections.abc import Iterable

from django.db import InterfaceError, OperationalError, connection, transaction
from django.utils import timezone

from articles import similarity
from articles.models import Article, ContentSignature
from articles.sanitize import plain_text
from articles.similarity import Signature
from syndication.models import ImportRun, PossibleDuplicate
from syndication.pipeline.runs import commits_without_waiting_for_the_disk

logger = logging.getLogger(__name__)

# An article is linked to at most this many of its best matches.
MAX_LINKS_PER_ARTICLE = 5
# `sign_missed_imports` leaves alone articles stored less than this long ago (a run may still
# be signing them) and looks no further back than `MISSED_LOOKBACK`.
MISSED_GRACE = datetime.timedelta(minutes=10)
MISSED_LOOKBACK = datetime.timedelta(days=2)


def signature_of(title: str, body_text: str) -> Signature | None:
    """The signature of an item: its title (HTML or text) and its body's plain text; the same
    as `similarity.signature(title, body)`."""
    return similarity.signature_of_text(plain_text(title), body_text)


def store_signatures(stored: Iterable[tuple[Article, Signature | None]]) -> None:
    """Two statements, whatever the number of articles: the signatures, then their keys."""
    ContentSignature.objects.store(stored)


def link_possible_duplicates(
    stored: Iterable[tuple[Article, Signature | None]], run: ImportRun | None = None
) -> int:
    """Once the signatures are committed, link each article to the articles like it: three
    queries whatever their number (`ContentSignature.objects.candidates_of`, then one INSERT
    of the links). Returns how many of them have any."""
    signatures = {article.pk: signature for article, signature in stored if signature}
    if not signatures:
        return 0
    found = ContentSignature.objects.candidates_of(signatures)
    links = [
        (article_id, matches[:MAX_LINKS_PER_ARTICLE])
        for article_id, matches in found.items()
        if matches
    ]
    PossibleDuplicate.objects.link_all(links, run=run)
    # A pair is one link, stored under its later article (`link_all`): two items stored
    # together that tell the same story are one possible duplicate, not two. A match from
    # elsewhere always counts (two imports running at once may each see the other's).
    return sum(
        1
        for article_id, matches in links
        if any(m.article_id not in signatures or m.article_id < article_id for m in matches)
    )


def sign_and_link(articles: Iterable[tuple[Article, str, str]], run: ImportRun | None) -> int:
    """Sign committed (article, title, body text) triples and link them (steps 1 to 3 above);
    returns how many have possible duplicates."""
    pairs = [(article, signature_of(title, body_text)) for article, title, body_text in articles]
    with transaction.atomic():
        store_signatures(pairs)
    return link_possible_duplicates(pairs, run)


class DuplicateCheck:
    """The signing and linking of one run's articles, chunk by chunk as they are committed;
    in a thread of its own where it can be (see the module's text). `finish` waits for it
    and says how many articles have possible duplicates."""

    def __init__(self, run: ImportRun | None, *, in_background: bool | None = None):
        self.run = run
        self.found = 0
        self.missed = 0
        if in_background is None:
            in_background = connection.vendor == "postgresql" and not connection.in_atomic_block
        self.in_background = in_background
        self.chunks: queue.SimpleQueue = queue.SimpleQueue()
        self.thread: threading.Thread | None = None
        if in_background:
            self.thread = threading.Thread(target=self._work, name="duplicate-check")
            self.thread.start()

    def add(self, articles: Iterable[tuple[Article, str, str]]) -> None:
        """Committed (article, title, body text) triples to sign and link."""
        articles = list(articles)
        if not articles:
            return
        if self.in_background:
            self.chunks.put(articles)
        else:
            self._check(articles)

    def finish(self) -> int:
        """Wait for the chunks handed over; how many of their articles have possible
        duplicates. An article that could not be checked is noted on the run (the feed pass
        checks it later)."""
        if self.thread is not None:
            self.chunks.put(None)
            self.thread.join()
            self.thread = None
            # What a thread that stopped early (no connection to be had) left, whole.
            while not self.chunks.empty():
                self.missed += len(self.chunks.get_nowait() or ())
        if self.missed and self.run is not None:
            self.run.add_note(
                f"{self.missed} article(s) could not be checked for possible duplicates yet; "
                "the next feed pass checks them."
            )
        return self.found

    def _work(self) -> None:
        try:
            with commits_without_waiting_for_the_disk():
                while (articles := self.chunks.get()) is not None:
                    self._check(articles)
        except Exception:
            logger.exception("the check for possible duplicates stopped")
        finally:
            connection.close()

    def _check(self, articles: list[tuple[Article, str, str]]) -> None:
        """Sign and link; a failure leaves the articles for the feed pass to check, except a
        database outage in the loop, which stops the run as any other would."""
        try:
            self.found += sign_and_link(articles, self.run)
        except (OperationalError, InterfaceError):
            if not self.in_background:
                raise
            self._missed(articles)
        except Exception:
            self._missed(articles)

    def _missed(self, articles: list) -> None:
        logger.exception("checking %s article(s) for possible duplicates failed", len(articles))
        self.missed += len(articles)


def missed_imports(now: datetime.datetime | None = None):
    """Imported articles of the last `MISSED_LOOKBACK` with no signature, oldest first."""
    now = now or timezone.now()
    return Article.objects.filter(
        created_at__gte=now - MISSED_LOOKBACK,
        created_at__lt=now - MISSED_GRACE,
        signature__isnull=True,
        imported_item__isnull=False,
    ).order_by("pk")


def sign_missed_imports(*, limit: int = 500, now: datetime.datetime | None = None) -> int:
    """Sign and link up to `limit` imported articles whose signing was cut short; returns how
    many were examined (an article with no words has no signature, and is examined again
    until it falls out of `MISSED_LOOKBACK`)."""
    articles = list(missed_imports(now).only("pk", "title", "body")[:limit])
    if articles:
        sign_and_link(
            ((article, article.title, plain_text(article.body)) for article in articles), None
        )
    return len(articles)
