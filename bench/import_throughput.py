"""How fast a feed imports: 2,000 items (8 paragraphs, 3 categories each) into review.

The store stage measured alone, in-process (`make bench` measures the import beside readers):

    DATABASE_URL=postgres://... .venv/bin/python bench/import_throughput.py [--items N] [--profile]

The feed is written to a temporary file and imported with `import_feed_file` into a source of
its own, as an editor's command would: parse, sanitize, dedupe, map, store (see
`syndication/pipeline/store.py` for how items are grouped). The feed is `bench/importer.py`'s:
one of 40 authors and 3 categories per item (unmapped here: they become tags), so after the
first few items every author and tag already exists, as in a feed followed for a while.
Printed: items per second, SQL statements per stored item, and the time of a second import of
the same feed (which must create nothing). The source, its articles and its run are deleted
afterwards, so the archive does not grow. `--profile` prints
the 25 most expensive functions of the first import (cProfile, cumulative time).
"""

import argparse
import cProfile
import io
import os
import pstats
import sys
import tempfile
import time
from pathlib import Path

from importer import StatementCounter, feed_document

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

ITEMS = 2000
# Unmapped here (no mapping rules are passed): all three categories of an item become tags.
REGIONS = ["Sahel", "Andes", "Mekong", "Baltic", "Rift Valley", "Patagonia"]
THEMES = ["Water", "Farming", "Energy", "Health", "Schools", "Housing"]


def measure(items: int = ITEMS, profile: bool = False) -> dict:
    """Import a fresh feed of `items` items twice; returns the figures printed by `main`."""
    from django.db import connection

    from articles.models import Article, Source
    from syndication.entry import import_feed_file
    from syndication.models import ImportedItem, ImportRun

    source = Source.objects.create(name="Bench Wire", slug=f"bench-wire-{time.time_ns()}")
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "bench-wire.xml"
        path.write_bytes(feed_document(items, f"throughput-{time.time_ns()}", REGIONS, THEMES))
        counter = StatementCounter()
        profiler = cProfile.Profile() if profile else None
        try:
            with connection.execute_wrapper(counter):
                started = time.perf_counter()
                if profiler:
                    profiler.enable()
                run = import_feed_file(path, source, status="review")
                if profiler:
                    profiler.disable()
                first = time.perf_counter() - started
            started = time.perf_counter()
            again = import_feed_file(path, source, status="review")
            second = time.perf_counter() - started
            if run.created != items or again.created or again.unchanged != items:
                sys.exit(f"import went wrong: {run.counts()} then {again.counts()}")
        finally:
            ImportedItem.objects.filter(source=source).delete()
            Article.objects.filter(source=source).delete()
            ImportRun.objects.filter(source=source).delete()
            source.delete()
    if profiler:
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(25)
        print(out.getvalue())
    return {
        "items": items,
        "seconds": first,
        "items_per_second": items / first,
        "statements_per_item": counter.count / items,
        "second_import_seconds": second,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--items", type=int, default=ITEMS)
    parser.add_argument("--profile", action="store_true")
    arguments = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.bench")
    import django

    django.setup()
    figures = measure(arguments.items, profile=arguments.profile)
    print(
        f"import {figures['items']:,} items -> review: {figures['items_per_second']:.0f} items/s "
        f"({figures['seconds']:.1f} s), {figures['statements_per_item']:.1f} SQL statements per "
        f"stored item; the second import of the same feed: {figures['second_import_seconds']:.1f} s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
