from django.core.management.base import BaseCommand, CommandError

from articles.models import Source
from syndication.entry import import_feed
from syndication.models import Feed, ImportRun, RunStatus, Trigger

from ._output import add_progress_argument, progress_bar, report, ticker


class Command(BaseCommand):
    help = (
        "Import the feeds that are due (by default), the feeds of one source, or named feeds. "
        "Prints a table of created/updated/unchanged/flagged/skipped/failed items per feed; "
        "exits with an error when a feed could not be imported."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--feed",
            action="append",
            default=[],
            metavar="ID_OR_URL",
            help="A feed by id or URL, imported even when it is not due. Repeat for several.",
        )
        parser.add_argument(
            "--source", metavar="SLUG", help="Every active feed of this source, due or not."
        )
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Fetch and count what would change, without writing articles.",
        )
        add_progress_argument(parser)

    def handle(self, *args, **options):
        ImportRun.objects.close_abandoned()
        feeds = self.selected_feeds(options["feed"], options["source"])
        runs = []
        for feed in feeds:
            bar = progress_bar(options, description=str(feed))
            try:
                runs.append(
                    import_feed(
                        feed,
                        dry_run=options["dry_run"],
                        triggered_by=Trigger.COMMAND,
                        on_item=ticker(bar),
                    )
                )
            finally:
                if bar is not None:
                    bar.close()
        report(self.stdout, runs)
        failed = [run for run in runs if run.status == RunStatus.FAILED]
        if failed:
            raise CommandError(f"{len(failed)} of {len(runs)} feed import(s) failed.")

    def selected_feeds(self, wanted: list[str], source_slug: str | None) -> list[Feed]:
        feeds = Feed.objects.select_related("source")
        if source_slug:
            source = Source.objects.filter(slug=source_slug).first()
            if source is None:
                raise CommandError(f"There is no source with the slug “{source_slug}”.")
            feeds = feeds.filter(source=source, is_active=True)
        if not wanted:
            return list(feeds if source_slug else feeds.due())
        selected = []
        for value in wanted:
            match = feeds.filter(pk=int(value)) if value.isdigit() else feeds.filter(url=value)
            feed = match.first()
            if feed is None:
                raise CommandError(f"There is no feed with the id or URL “{value}”.")
            selected.append(feed)
        return selected
