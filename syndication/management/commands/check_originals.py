from django.core.management.base import BaseCommand

from articles.management.tables import text_table
from syndication.management.commands._sources import checked_slug, existing_source
from syndication.originals import check_originals


def positive(value: str) -> int:
    number = int(value)
    if number < 1:
        raise ValueError(value)
    return number


class Command(BaseCommand):
    help = (
        "Re-check the originals of live articles now (what the periodic task does): deleted, "
        "redirected to a home page, dropped from their feed or retracted. See "
        "docs/provenance-watch.md."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--limit",
            type=positive,
            default=None,
            help="Originals to check at most (default: ORIGINAL_CHECK_LIMIT).",
        )
        parser.add_argument("--source", help="Only the articles of the source with this slug.")

    def handle(self, *args, **options):
        source = None
        if options["source"]:
            source = existing_source(checked_slug(options["source"]))
        run = check_originals(limit=options["limit"], source=source)
        if not run.checked:
            self.stdout.write("No original is due for a check.")
        else:
            self.stdout.write(summary_table(run))
        self.stdout.write(
            f"Checked {len(run.checked)}, flagged {run.flagged}, withdrawn {run.withdrawn}, "
            f"left for the next run (host's share used) {run.deferred}."
        )


def summary_table(run) -> str:
    header = ["article", "source", "outcome", "action"]
    rows = [
        [
            f"#{line.article.pk} {line.article.title}"[:50],
            line.article.source.name[:30],
            line.outcome,
            "withdrawn" if line.withdrawn else "flagged" if line.flagged else "",
        ]
        for line in run.checked
    ]
    return text_table(header, rows)
