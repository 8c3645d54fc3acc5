"""Signatures' lookup keys from 32 bands of 2 values instead of 64 (articles/similarity.py).

The keys are worked out again from each stored MinHash (its first BANDS * ROWS values) and the
exact text's hash: no article text is read, so this is quick even for a large archive. The
MinHash itself, the shingles and the text hash do not change, so stored signatures stay
comparable with new ones.
"""

import numpy as np
from django.db import migrations

BATCH_SIZE = 2000


def rekey(apps, schema_editor):
    from articles import similarity

    ContentSignature = apps.get_model("articles", "ContentSignature")
    SimilarityBand = apps.get_model("articles", "SimilarityBand")
    db = schema_editor.connection.alias
    SimilarityBand.objects.using(db).all().delete()
    signatures = ContentSignature.objects.using(db).order_by("pk")
    last_pk = 0
    with schema_editor.connection.cursor() as cursor:
        while batch := list(
            signatures.filter(pk__gt=last_pk).values_list("pk", "minhash", "text_hash")[:BATCH_SIZE]
        ):
            cursor.executemany(
                "INSERT INTO articles_similarityband (article_id, band_hash) VALUES (%s, %s)",
                [
                    (article_id, key)
                    for article_id, minhash, text_hash in batch
                    for key in [
                        *similarity.band_keys(np.frombuffer(bytes(minhash), dtype="<u8")),
                        similarity.exact_key(text_hash),
                    ]
                ],
            )
            last_pk = batch[-1][0]


class Migration(migrations.Migration):
    dependencies = [
        ("articles", "0010_media_library"),
    ]

    operations = [
        migrations.RunPython(rekey, migrations.RunPython.noop, elidable=True),
    ]
