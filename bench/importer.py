"""The benchmark's import: one feed file of generated items stored into review, measured.

    python bench/importer.py --items 2000 --source bench-import-idle --prefix idle-1

Run by `bench/run.py` as a process of its own (settings `config.settings.bench`; CACHE_URL
says which cache its invalidations go to). It writes a feed of `--items` items to a temporary
file (each with eight paragraphs, one author and three categories: a region and a theme that
the feed's mapping rules know, and a free word that becomes a tag), parses it, prints
`importing` on a line of its own, stores every item into review through the import pipeline
(`syndication.entry.import_document`, the path `manage.py import_feed FILE` takes, plus the
feed's mapping rules), and prints one JSON object: items stored, the seconds storing took, and
the SQL queries it sent (counted with `connection.execute_wrapper`, which costs next to
nothing). Guids start with `--prefix`, so every run stores new items.
"""

import argparse
import datetime
import json
import os
import random
import sys
import tempfile
import time
from email.utils import format_datetime
from pathlib import Path
from xml.sax.saxutils import escape

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

AUTHORS = [f"Bench Writer {n}" for n in range(40)]
FREE_CATEGORIES = [f"bench topic {n}" for n in range(60)]


def paragraph(picker: random.Random, words: list[str]) -> str:
    words = [picker.choice(words) for _ in range(70)]
    return "<p>" + " ".join(words).capitalize() + ".</p>"


def feed_document(count: int, prefix: str, regions: list[str], themes: list[str]) -> bytes:
    """An RSS 2.0 document of `count` items, the same for the same arguments."""
    from articles.management.commands.generate_articles import COMMON_WORDS

    picker = random.Random(prefix)
    published = format_datetime(datetime.datetime.now(datetime.UTC))
    items = []
    for n in range(count):
        categories = [picker.choice(regions), picker.choice(themes), picker.choice(FREE_CATEGORIES)]
        body = "".join(paragraph(picker, COMMON_WORDS) for _ in range(8))
        items.append(
            "<item>"
            f"<guid isPermaLink='false'>bench-{escape(prefix)}-{n}</guid>"
            f"<title>Bench story {escape(prefix)} number {n}</title>"
            f"<link>https://bench.example/{escape(prefix)}/{n}</link>"
            f"<pubDate>{published}</pubDate>"
            f"<dc:creator>{escape(picker.choice(AUTHORS))}</dc:creator>"
            + "".join(f"<category>{escape(name)}</category>" for name in categories)
            + f"<description>{escape(body[3:120])}</description>"
            f"<content:encoded><![CDATA[{body}]]></content:encoded>"
            "</item>"
        )
    return (
        "<?xml version='1.0' encoding='utf-8'?>"
        "<rss version='2.0' xmlns:content='http://purl.org/rss/1.0/modules/content/'"
        " xmlns:dc='http://purl.org/dc/elements/1.1/'><channel>"
        "<title>Bench wire</title><link>https://bench.example/</link>"
        "<description>Generated for make bench</description>" + "".join(items) + "</channel></rss>"
    ).encode()


class StatementCounter:
    """Counts the SQL statements run on a connection (`connection.execute_wrapper`)."""

    def __init__(self):
        self.count = 0

    def __call__(self, execute, sql, params, many, context):
        self.count += 1
        return execute(sql, params, many, context)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--items", type=int, default=2000)
    parser.add_argument("--source", required=True, help="Slug of the source to import into.")
    parser.add_argument("--prefix", required=True, help="Start of every guid: new per run.")
    options = parser.parse_args()

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.bench")
    import django

    django.setup()
    from django.db import connection

    from articles.models import Region, Source, Theme
    from syndication.entry import import_document
    from syndication.models import MappingRule, RunKind
    from syndication.parsers import parse_feed
    from syndication.pipeline.runs import start_run

    regions = list(Region.objects.order_by("pk")[:10])
    themes = list(Theme.objects.order_by("pk")[:5])
    if not regions or not themes:
        sys.exit("the archive has no regions or themes: run manage.py generate_articles first")
    rules = [MappingRule(category=region.name, region=region) for region in regions]
    rules += [MappingRule(category=theme.name, theme=theme) for theme in themes]
    document = feed_document(
        options.items, options.prefix, [r.name for r in regions], [t.name for t in themes]
    )
    with tempfile.TemporaryDirectory(prefix="syndicms-bench-") as folder:
        path = Path(folder) / f"{options.prefix}.xml"
        path.write_bytes(document)
        parsed = parse_feed(path.read_bytes(), url="")
    source, _ = Source.objects.get_or_create(
        slug=options.source, defaults={"name": f"Bench import {options.source}"}
    )
    run = start_run(RunKind.FEED, source, fetched_from=path.name, status="review")

    counter = StatementCounter()
    print("importing", flush=True)
    started = time.perf_counter()
    with connection.execute_wrapper(counter):
        run = import_document(
            source,
            parsed,
            run=run,
            status="review",
            mapping_rules=rules,
            fetched_from=path.name,
            download_images=False,
        )
    seconds = time.perf_counter() - started
    print(
        json.dumps(
            {
                "items": len(parsed.items),
                "created": run.created,
                "failed": run.failed,
                "status": run.status,
                "seconds": round(seconds, 3),
                "queries": counter.count,
            }
        ),
        flush=True,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
