"""Possible duplicates at scale: candidate lookups against 100,000 signatures, and what the
signatures cost an import.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/syndicms_dupes_bench \\
        .venv/bin/python bench/duplicates.py [--articles 100000] [--lookups 400] [--items 400]
        [--rounds 6]

Run by hand, in a database of its own (it migrates it); `--lookups 0` only builds the
archive. Three parts:

1. The archive. Tops the database up to `--articles` articles with signatures: bare draft
   articles, each with a signature of a random MinHash and 400 random shingles, and the
   `BANDS` + 1 lookup keys they give (what the keys of unrelated texts are), written with
   COPY; plus the first version of every
   story of the evaluation set (tests/fixtures/duplicates), with its real signature.
2. Candidate lookups. Times computing a signature plus `ContentSignature.objects.candidates`
   (the indexed queries and the scoring) for the other versions of those stories, which must
   find their originals, and for texts that match nothing; prints the mean, median and 95th
   percentile per lookup.
3. Import throughput. Imports feeds of `--items` generated items (bench/importer.py's feed:
   8 paragraphs of random words each) into review against that archive, `--rounds` pairs of
   one without signatures (the duplicates hook switched off) and one with them, the order
   alternating from pair to pair; prints items per second, SQL statements per item and this
   process's CPU time an item took, then the median of the pairs' ratios: on a machine this
   noisy, single runs of the same code differ by a third. The time of a run includes waiting
   for its duplicate check to finish (on PostgreSQL it runs in a thread of its own, with a
   connection of its own, whose statements the count leaves out). The imported sources are
   deleted at the end.
"""

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

ARCHIVE_SOURCE = "dupes-bench-archive"


def top_up_archive(target: int) -> int:
    """Add bare articles with random signatures until `target` articles have one."""
    import numpy as np
    from django.db import connection, transaction

    from articles import similarity
    from articles.models import Article, ContentSignature, Source

    source, _ = Source.objects.get_or_create(
        slug=ARCHIVE_SOURCE, defaults={"name": "Duplicates bench archive"}
    )
    have = ContentSignature.objects.count()
    generator = np.random.default_rng(have)
    batch = 5000
    while have < target:
        count = min(batch, target - have)
        with transaction.atomic():
            articles = Article.objects.bulk_create(
                [
                    Article(
                        source=source,
                        title=f"Archive story {have + n}",
                        slug=f"dupes-bench-{have + n}",
                        body="<p>Archive text.</p>",
                    )
                    for n in range(count)
                ],
                batch_size=1000,
            )
            signatures = [
                (
                    article,
                    generator.integers(0, 2**32, similarity.NUM_PERM, dtype=np.uint64),
                    np.unique(generator.integers(0, 2**32, 400, dtype=np.uint32)),
                    f"{generator.integers(0, 2**63):064x}",
                )
                for article in articles
            ]
            with connection.cursor() as cursor:
                with cursor.copy(
                    "COPY articles_contentsignature (article_id, minhash, shingles, text_hash, "
                    "computed_at) FROM STDIN"
                ) as copy:
                    for article, minhash, shingles, text_hash in signatures:
                        copy.write_row(
                            (
                                article.pk,
                                minhash.astype("<u8").tobytes(),
                                shingles.astype("<u4").tobytes(),
                                text_hash,
                                "now",
                            )
                        )
                # The keys a random MinHash gives, as an import would store them (and as
                # migrations that work keys out again from stored MinHashes find them).
                with cursor.copy(
                    "COPY articles_similaritykey (article_id, key) FROM STDIN"
                ) as copy:
                    for article, minhash, _shingles, text_hash in signatures:
                        for key in similarity.band_keys(minhash):
                            copy.write_row((article.pk, key))
                        copy.write_row((article.pk, similarity.exact_key(text_hash)))
        have += count
        print(f"  archive: {have:,} signatures", flush=True)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE articles_similaritykey")
        cursor.execute("ANALYZE articles_contentsignature")
    return have


def plant_stories():
    """The first version of every story of the evaluation set, with its real signature."""
    from articles.models import Article, ContentSignature, Source
    from tests.fixtures.duplicates.stories import VERSIONS

    source, _ = Source.objects.get_or_create(
        slug="dupes-bench-stories", defaults={"name": "Duplicates bench stories"}
    )
    originals = {}
    for version in VERSIONS:
        if version.outlet != "first outlet":
            continue
        article = Article.objects.filter(source=source, title=version.title).first()
        if article is None:
            article = Article.objects.create(
                source=source, title=version.title, body=version.body_html
            )
            ContentSignature.objects.refresh(article)
        originals[version.story] = article.pk
    return originals


def time_lookups(originals: dict, lookups: int) -> dict:
    from articles import similarity
    from articles.models import ContentSignature
    from tests.fixtures.duplicates.stories import VERSIONS

    rewrites = [v for v in VERSIONS if v.outlet != "first outlet" and v.story in originals]
    misses = [v for v in VERSIONS if v.story not in originals]
    found = set()
    timings = {"signature": [], "rewrite": [], "miss": []}
    for n in range(max(lookups, 2 * len(rewrites))):
        kind, pool = ("rewrite", rewrites) if n % 2 == 0 else ("miss", misses)
        version = pool[n // 2 % len(pool)]
        started = time.perf_counter()
        sig = similarity.signature(version.title, version.body_html)
        computed = time.perf_counter()
        matches = ContentSignature.objects.candidates(sig)
        timings["signature"].append(computed - started)
        timings[kind].append(time.perf_counter() - computed)
        if kind == "rewrite" and originals[version.story] in {m.article_id for m in matches}:
            found.add(version)
    return {"timings": timings, "rewrites": len(rewrites), "found": len(found)}


def import_rate(items: int, with_signatures: bool, prefix: str) -> tuple[float, float, float]:
    """Import a generated feed of `items` items into review under a new source; returns items
    per second, SQL statements per item (those of the import's own connection) and the CPU
    milliseconds of this process an item took. The source and its articles stay until
    `remove_imports`."""
    from django.db import connection

    from articles.models import Source
    from bench.importer import feed_document
    from syndication.entry import import_feed_file
    from syndication.pipeline import duplicates

    source = Source.objects.create(name=f"Dupes bench {prefix}", slug=f"dupes-bench-{prefix}")
    statements = 0

    def count(execute, sql, params, many, context):
        nonlocal statements
        statements += 1
        return execute(sql, params, many, context)

    original = duplicates.signature_of
    if not with_signatures:
        duplicates.signature_of = lambda title, body: None
    try:
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / f"{prefix}.xml"
            path.write_bytes(feed_document(items, prefix, ["Bench region"], ["Bench theme"]))
            with connection.execute_wrapper(count):
                started, cpu_started = time.perf_counter(), time.process_time()
                run = import_feed_file(path, source, status="review")
                seconds = time.perf_counter() - started
                python_cpu = time.process_time() - cpu_started
        if run.created != items:
            sys.exit(f"import went wrong: {run.counts()}")
    finally:
        duplicates.signature_of = original
    return items / seconds, statements / items, python_cpu * 1000 / items


def remove_imports() -> None:
    """Delete what the import rounds stored, then vacuum (autovacuum may be off)."""
    from django.db import connection

    from articles.models import Article, Source
    from syndication.models import ImportedItem, ImportRun

    sources = Source.objects.filter(slug__startswith="dupes-bench-").exclude(
        slug__in=[ARCHIVE_SOURCE, "dupes-bench-stories"]
    )
    ImportedItem.objects.filter(source__in=sources).delete()
    Article.objects.filter(source__in=sources).delete()
    ImportRun.objects.filter(source__in=sources).delete()
    sources.delete()
    with connection.cursor() as cursor:
        for table in ("articles_article", "articles_similaritykey", "articles_contentsignature"):
            cursor.execute(f"VACUUM ANALYZE {table}")  # noqa: S608 - our names


def compare_imports(items: int, rounds: int) -> None:
    """`rounds` pairs of imports, one without signatures and one with, in alternating order
    (without first, then with first, ...), so that a machine that slows down or warms up
    during the run weighs on both sides alike; prints each pair and the median of their
    ratios."""
    ratios, statements = [], {}
    for number in range(rounds):
        order = (False, True) if number % 2 == 0 else (True, False)
        rates = {}
        for with_signatures in order:
            rate, per_item, cpu = import_rate(items, with_signatures, f"{time.time_ns()}-{number}")
            rates[with_signatures] = rate
            statements[with_signatures] = per_item
            label = "with" if with_signatures else "without"
            print(
                f"  round {number + 1}, {items} items {label} signatures: {rate:.1f} items/s "
                f"(this process's CPU: {cpu:.2f} ms an item)",
                flush=True,
            )
        ratios.append(rates[True] / rates[False])
    print(
        f"import into review, items per second with signatures / without, median of {rounds} "
        f"rounds: {statistics.median(ratios):.2f} "
        f"(rounds: {', '.join(f'{ratio:.2f}' for ratio in ratios)})"
    )
    print(
        f"SQL statements per item on the import's connection: {statements[False]:.1f} "
        f"without, {statements[True]:.1f} with"
    )


def milliseconds(values: list[float]) -> str:
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]
    return (
        f"mean {statistics.mean(values) * 1000:.1f} ms, median "
        f"{statistics.median(values) * 1000:.1f} ms, p95 {p95 * 1000:.1f} ms"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--articles", type=int, default=100_000)
    parser.add_argument("--lookups", type=int, default=400)
    parser.add_argument("--items", type=int, default=400)
    parser.add_argument("--rounds", type=int, default=6)
    options = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.bench")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    if connection.vendor != "postgresql":
        sys.exit("needs PostgreSQL: DATABASE_URL=postgres://.../syndicms_dupes_bench")
    call_command("migrate", verbosity=0)
    total = top_up_archive(options.articles)
    originals = plant_stories()
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM articles_similaritykey")
        bands = cursor.fetchone()[0]
    print(f"archive: {total:,} signatures, {bands:,} band keys")

    if not options.lookups:
        return 0
    lookups = time_lookups(originals, options.lookups)
    print(
        f"candidate lookup of a rewrite (signature, indexed query, scoring): "
        f"{milliseconds(lookups['timings']['rewrite'])}; originals found "
        f"{lookups['found']} of {lookups['rewrites']}"
    )
    print(
        f"candidate lookup of a text matching nothing: {milliseconds(lookups['timings']['miss'])}"
    )

    if not options.items:
        return 0
    try:
        compare_imports(options.items, options.rounds)
    finally:
        remove_imports()
    return 0


if __name__ == "__main__":
    sys.exit(main())
