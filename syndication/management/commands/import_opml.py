from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from syndication.opml import MAX_OPML_BYTES, OpmlError, import_opml, read_opml

from ._sources import checked_slug, existing_source


class Command(BaseCommand):
    help = (
        "Add the feeds listed in an OPML file (a feed reader's subscriptions) as feeds to poll. "
        "Either every feed goes to one --source, or --source-per-outline makes each folder "
        "outline a source (a feed outside any folder becomes a source of its own). Feed URLs "
        "already known are skipped; unsafe ones are refused and listed."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", metavar="FILE", help="The OPML file.")
        target = parser.add_mutually_exclusive_group(required=True)
        target.add_argument("--source", metavar="SLUG", help="Add every feed to this source.")
        target.add_argument(
            "--source-per-outline",
            action="store_true",
            help="Use (or create) a source per folder outline.",
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="Say what would be added; write nothing."
        )

    def handle(self, *args, **options):
        path = Path(options["path"])
        if not path.is_file():
            raise CommandError(f"No such file: {path}")
        if path.stat().st_size > MAX_OPML_BYTES:
            raise CommandError(f"{path.name} is larger than the limit of {MAX_OPML_BYTES:,} bytes.")
        source = existing_source(checked_slug(options["source"])) if options["source"] else None
        try:
            document = read_opml(path.read_bytes())
        except OpmlError as error:
            raise CommandError(f"{path.name}: {error}") from error
        outcome = import_opml(
            document,
            source=source,
            source_per_outline=options["source_per_outline"],
            dry_run=options["dry_run"],
        )
        for new_source in outcome.created_sources:
            self.stdout.write(f"new source: {new_source.name}")
        for feed in outcome.added:
            self.stdout.write(f"feed: {feed.url} → {feed.source.name}")
        for line in outcome.duplicates:
            self.stdout.write(f"skipped, {line}")
        for line in outcome.refused:
            self.stdout.write(f"refused, {line}")
        prefix = "Dry run: " if outcome.dry_run else ""
        self.stdout.write(f"{prefix}{outcome.summary()}.")
