from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand

from syndication.models import Feed
from syndication.opml import export_opml


class Command(BaseCommand):
    help = (
        "Write every feed (or the feeds of one source) as an OPML 2.0 file, one folder outline "
        "per source; import_opml --source-per-outline reads it back."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "path", nargs="?", metavar="FILE", help="Where to write (default: standard output)."
        )
        parser.add_argument("--source", metavar="SLUG", help="Only this source's feeds.")
        parser.add_argument(
            "--active-only", action="store_true", help="Leave out switched-off feeds."
        )

    def handle(self, *args, **options):
        feeds = Feed.objects.select_related("source")
        if options["source"]:
            feeds = feeds.filter(source__slug=options["source"])
        if options["active_only"]:
            feeds = feeds.active()
        document = export_opml(feeds, title=f"{settings.SITE_NAME}: feeds")
        if options["path"]:
            Path(options["path"]).write_bytes(document)
            self.stdout.write(f"Wrote {feeds.count()} feed(s) to {options['path']}.")
        else:
            self.stdout.write(document.decode("utf-8"), ending="")
