"""Migration 0012 moves the lookup keys into a table keyed by (key, article) and keeps the
first 64 values of stored MinHashes: an article signed before it is found by the lookup an
import makes after it, and migrating back gives the keys their old table again."""

import numpy as np
import pytest
from datasketch import MinHash

from articles import similarity

from .migration_helpers import migrate, migrate_to_latest, migrated_back_to

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("articles", "0012_article_filed_under")]
AFTER = [("articles", "0013_similarity_keys_by_composite_key")]

TITLE = "Ferry suspended"
BODY = (
    "<p>The island ferry will stop running from Monday after inspectors found corrosion in the "
    "hull of the only vessel licensed for the route, the transport authority said.</p>"
    "<p>Shopkeepers on the island said the news came as a blow before the summer season.</p>"
)
# The same story, cut and re-headlined by another outlet.
REWRITE_TITLE = "Island ferry stops running"
REWRITE_BODY = (
    "<p>The island ferry will stop running from Monday after inspectors found corrosion in the "
    "hull of the only vessel licensed for the route.</p>"
)


def minhash_of_128(signature: similarity.Signature) -> bytes:
    """The MinHash a signature had before: 128 permutations of the same seed and scheme."""
    before = MinHash(num_perm=128, seed=similarity.SEED, scheme=similarity.SCHEME, hashfunc=int)
    before.update_batch(signature.shingles.tolist())
    return np.asarray(before.hashvalues, dtype="<u8").tobytes()


@pytest.fixture
def signed_before():
    """At migration 0011: an article with the signature and keys an import stored then."""
    with migrated_back_to(BEFORE) as apps:
        Source = apps.get_model("articles", "Source")
        Article = apps.get_model("articles", "Article")
        source = Source.objects.create(name="Harbour Wire", slug="harbour-wire")
        article = Article.objects.create(title=TITLE, slug="ferry", source=source, body=BODY)
        signature = similarity.signature(TITLE, BODY)
        apps.get_model("articles", "ContentSignature").objects.create(
            article=article,
            minhash=minhash_of_128(signature),
            shingles=signature.shingle_bytes(),
            text_hash=signature.text_hash,
        )
        SimilarityBand = apps.get_model("articles", "SimilarityBand")
        SimilarityBand.objects.bulk_create(
            SimilarityBand(article=article, band_hash=key) for key in signature.lookup_keys
        )
        yield article.pk, signature


def test_keys_stored_before_are_copied_and_a_rewrite_looked_up_after_finds_them(signed_before):
    article_id, signature = signed_before

    apps = migrate(AFTER)

    keys = apps.get_model("articles", "SimilarityKey").objects.filter(article_id=article_id)
    assert sorted(keys.values_list("key", flat=True)) == sorted(signature.lookup_keys)
    stored = apps.get_model("articles", "ContentSignature").objects.get(article_id=article_id)
    assert bytes(stored.minhash) == signature.minhash_bytes()  # its first 64 values
    assert len(bytes(stored.minhash)) == 64 * 8

    migrate_to_latest()
    from articles.models import ContentSignature

    rewrite = similarity.signature(REWRITE_TITLE, REWRITE_BODY)
    assert [m.article_id for m in ContentSignature.objects.candidates(rewrite)] == [article_id]


def test_migrating_back_gives_the_keys_their_old_table(signed_before):
    article_id, signature = signed_before
    migrate(AFTER)

    apps = migrate(BEFORE)

    bands = apps.get_model("articles", "SimilarityBand").objects.filter(article_id=article_id)
    assert sorted(bands.values_list("band_hash", flat=True)) == sorted(signature.lookup_keys)
