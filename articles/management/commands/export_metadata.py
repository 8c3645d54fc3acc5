from pathlib import Path

from django.core.management.base import BaseCommand

from articles.editorial.bulk import (
    articles_for_export,
    as_csv,
    as_json,
    export_articles,
    export_sources,
    sources_for_export,
)


class Command(BaseCommand):
    help = (
        "Write source metadata (with rights records) or article taxonomy as CSV or JSON, in "
        "the format import_metadata reads: edit it and import it back."
    )

    def add_arguments(self, parser):
        parser.add_argument("kind", choices=["sources", "articles"])
        parser.add_argument(
            "path", nargs="?", metavar="FILE", help="Where to write (default: standard output)."
        )
        parser.add_argument(
            "--format", choices=["csv", "json"], help="Default: from FILE, else csv."
        )

    def handle(self, *args, **options):
        kind, path = options["kind"], options["path"]
        output_format = options["format"] or ("json" if (path or "").endswith(".json") else "csv")
        if kind == "sources":
            header, rows = export_sources(sources_for_export())
        else:
            header, rows = export_articles(articles_for_export())
        text = as_json(kind, header, rows) if output_format == "json" else as_csv(header, rows)
        if path:
            Path(path).write_text(text, encoding="utf-8", newline="")
            self.stdout.write(f"Wrote {len(rows)} {kind} to {path}.")
        else:
            self.stdout.write(text, ending="")
