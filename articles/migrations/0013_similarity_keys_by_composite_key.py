"""Signatures' lookup keys in a table keyed by (key, article), and MinHashes of 64 values.

`SimilarityKey` replaces `SimilarityBand`: its primary key (key, article) is the lookup index,
so a key row no longer has a serial id (one index and one sequence call fewer per row), and
the database keeps no foreign key constraint on it (see the model). Django cannot change a
table's primary key into a composite one, so the rows are copied into a new table, in the
order of its primary key, and the old table is dropped. The keys themselves do not change.

Stored MinHashes keep their first 64 values: the values the 32 bands use, and those a MinHash
of 64 permutations now computes (articles/similarity.py). Going back restores the keys'
table; the MinHashes stay short (their first 64 values are all the keys are made from).
"""

import django.db.models.deletion
from django.db import migrations, models

# The bytes of 64 MinHash values, stored as little-endian 64-bit integers.
SHORT_MINHASH_BYTES = 64 * 8


def copy_rows(apps, schema_editor, source, target):
    """INSERT ... SELECT from one key table into the other, in the target's key order."""
    quote = schema_editor.quote_name
    source_model = apps.get_model("articles", source[0])
    target_model = apps.get_model("articles", target[0])
    source_key, target_key = (
        model._meta.get_field(field).column
        for model, field in ((source_model, source[1]), (target_model, target[1]))
    )
    schema_editor.execute(
        f"INSERT INTO {quote(target_model._meta.db_table)} ({quote(target_key)}, "  # noqa: S608
        f"{quote('article_id')}) SELECT DISTINCT {quote(source_key)}, {quote('article_id')} "
        f"FROM {quote(source_model._meta.db_table)} ORDER BY 1, 2"
    )


def keys_into_new_table(apps, schema_editor):
    copy_rows(apps, schema_editor, ("SimilarityBand", "band_hash"), ("SimilarityKey", "key"))


def keys_back_into_old_table(apps, schema_editor):
    copy_rows(apps, schema_editor, ("SimilarityKey", "key"), ("SimilarityBand", "band_hash"))


def shorten_minhashes(apps, schema_editor):
    quote = schema_editor.quote_name
    table = quote(apps.get_model("articles", "ContentSignature")._meta.db_table)
    schema_editor.execute(
        f"UPDATE {table} SET {quote('minhash')} = substr({quote('minhash')}, 1, %s) "  # noqa: S608
        f"WHERE length({quote('minhash')}) > %s",
        [SHORT_MINHASH_BYTES, SHORT_MINHASH_BYTES],
    )


class Migration(migrations.Migration):
    dependencies = [
        ("articles", "0012_article_filed_under"),
    ]

    operations = [
        migrations.CreateModel(
            name="SimilarityKey",
            fields=[
                (
                    "pk",
                    models.CompositePrimaryKey(
                        "key",
                        "article",
                        blank=True,
                        editable=False,
                        primary_key=True,
                        serialize=False,
                    ),
                ),
                ("key", models.BigIntegerField()),
                (
                    "article",
                    models.ForeignKey(
                        db_constraint=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="similarity_keys",
                        to="articles.article",
                    ),
                ),
            ],
        ),
        migrations.RunPython(keys_into_new_table, keys_back_into_old_table),
        migrations.RunPython(shorten_minhashes, migrations.RunPython.noop),
        migrations.DeleteModel(
            name="SimilarityBand",
        ),
    ]
