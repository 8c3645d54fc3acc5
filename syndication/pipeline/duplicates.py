"""Near-duplicates across sources: every imported article gets a similarity signature and is
linked to the articles it looks like (see docs/duplicates.md).

The store stage calls three things, in this order:

1. `signature_of(title, body_text)` before the transaction opens (the MinHash is plain CPU
   work), given the plain text of the body that the store stage also fingerprints the body
   received with (`Article.tidy`), so that text is worked out once;
2. `store_signatures(pairs)` inside it: one INSERT of the signatures and one of their lookup
   keys, for one article or a whole chunk, committed (or rolled back) with the articles;
3. `link_possible_duplicates(pairs, run)` once they are committed. Looking only after the
   commit is what makes two imports of the same story at the same moment (from two sources)
   find each other: whichever commits second sees the first.
"""

from collections.abc import Iterable

from articles import similarity
from articles.models import Article, ContentSignature
from articles.sanitize import plain_text
from articles.similarity import Signature
from syndication.models import ImportRun, PossibleDuplicate

# An article is linked to at most this many of its best matches.
MAX_LINKS_PER_ARTICLE = 5


def signature_of(title: str, body_text: str) -> Signature | None:
    """The signature of an item: its title (HTML or text) and its body's plain text; the same
    as `similarity.signature(title, body)`."""
    return similarity.signature_of_text(plain_text(title), body_text)


def store_signatures(stored: Iterable[tuple[Article, Signature | None]]) -> None:
    """Inside the transaction that stores the articles: two INSERTs, whatever their number."""
    ContentSignature.objects.store(stored)


def link_possible_duplicates(
    stored: Iterable[tuple[Article, Signature | None]], run: ImportRun | None = None
) -> int:
    """Once the articles are committed, link each to the articles like it: three queries
    whatever their number (`ContentSignature.objects.candidates_of`, then one INSERT of the
    links). Returns how many of them have any."""
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
