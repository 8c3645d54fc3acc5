from django.core.management.base import BaseCommand, CommandError

from articles.models import CorrectionKind
from syndication.models import ImportedItem
from syndication.pipeline.upstream import CorrectionNoteRequired, accept_upstream_changes


class Command(BaseCommand):
    help = (
        "Accept the upstream changes waiting on imported items (by id, or every one of a "
        "source): the article takes the source's new title, summary and text. A live article "
        "needs --note, printed with the date in its corrections and updates log."
    )

    def add_arguments(self, parser):
        parser.add_argument("items", nargs="*", type=int, metavar="ITEM_ID")
        parser.add_argument("--source", metavar="SLUG", help="Every changed item of a source.")
        parser.add_argument("--note", default="", help="One line for readers: what changed.")
        parser.add_argument("--kind", choices=CorrectionKind.values, default=CorrectionKind.UPDATE)
        parser.add_argument(
            "--link-images",
            action="store_true",
            help="Link the new body's pictures instead of downloading them.",
        )

    def handle(self, *args, **options):
        if not options["items"] and not options["source"]:
            raise CommandError("Give item ids or --source.")
        records = ImportedItem.objects.upstream_changed().order_by("pk")
        if options["items"]:
            records = records.filter(pk__in=options["items"])
        if options["source"]:
            records = records.filter(source__slug=options["source"])
        accepted, refused = 0, []
        for record in records:
            try:
                accepted += accept_upstream_changes(
                    record,
                    note=options["note"],
                    kind=options["kind"],
                    download_images=not options["link_images"],
                )
            except CorrectionNoteRequired as reason:
                refused.append(str(reason))
        self.stdout.write(f"Upstream changes accepted on {accepted} article(s).")
        if refused:
            raise CommandError(" ".join(refused) + " Give --note.")
