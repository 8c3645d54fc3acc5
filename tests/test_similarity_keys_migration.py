"""Migration 0011 gives stored signatures the lookup keys of 32 bands, worked out from their
stored MinHashes, so an article signed before it is found by an import after it."""

import numpy as np
import pytest

from articles import similarity

from .migration_helpers import migrate, migrated_back_to

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("articles", "0010_media_library")]
AFTER = [("articles", "0011_similarity_keys_of_32_bands")]

TITLE = "Ferry suspended"
BODY = (
    "<p>The island ferry will stop running from Monday after inspectors found corrosion in the "
    "hull of the only vessel licensed for the route, the transport authority said.</p>"
)


@pytest.fixture
def before_the_new_keys():
    with migrated_back_to(BEFORE) as apps:
        yield apps


def sixty_four_band_keys(hashvalues: np.ndarray) -> list[int]:
    """Stand-ins for the keys of 64 bands that signatures had before: other numbers."""
    return [int(value) - 2**62 for value in hashvalues[:64]]


def test_stored_signatures_get_the_keys_an_import_now_looks_up(before_the_new_keys):
    Source = before_the_new_keys.get_model("articles", "Source")
    Article = before_the_new_keys.get_model("articles", "Article")
    ContentSignature = before_the_new_keys.get_model("articles", "ContentSignature")
    SimilarityBand = before_the_new_keys.get_model("articles", "SimilarityBand")
    source = Source.objects.create(name="Harbour Wire", slug="harbour-wire")
    article = Article.objects.create(title=TITLE, slug="ferry", source=source, body=BODY)
    signature = similarity.signature(TITLE, BODY)
    ContentSignature.objects.create(
        article=article,
        minhash=signature.minhash_bytes(),
        shingles=signature.shingle_bytes(),
        text_hash=signature.text_hash,
    )
    SimilarityBand.objects.bulk_create(
        SimilarityBand(article=article, band_hash=key)
        for key in [*sixty_four_band_keys(signature.hashvalues), 123]
    )

    apps = migrate(AFTER)

    stored = apps.get_model("articles", "SimilarityBand").objects.filter(article_id=article.pk)
    assert sorted(stored.values_list("band_hash", flat=True)) == sorted(signature.lookup_keys)
    assert len(signature.lookup_keys) == similarity.BANDS + 1 == 33
