from django.core.management.base import BaseCommand
from django.utils import timezone

from articles.management.tables import text_table
from articles.models import RightsRecord


class Command(BaseCommand):
    help = (
        "List permissions and licences that expire soon, have expired or were revoked, with "
        "the number of live articles each affects and what the source's policy does to them."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--days",
            type=int,
            default=30,
            help="How far ahead to look for expiring permissions (default: %(default)s).",
        )

    def handle(self, *args, **options):
        today = timezone.localdate()
        records = RightsRecord.objects.select_related("source").with_live_article_counts()
        sections = [
            (
                f"Expiring in the next {options['days']} days",
                records.expiring(options["days"], today).order_by("expires_on"),
            ),
            ("Ended (expired or revoked)", records.ended(today).order_by("source__name")),
        ]
        for title, rows in sections:
            rows = list(rows)
            self.stdout.write(f"{title}: {len(rows)}")
            if rows:
                self.stdout.write(table([self.row(record, today) for record in rows]))

    @staticmethod
    def row(record: RightsRecord, today) -> list[str]:
        ended = record.ended_on(today)
        if ended is None:
            state = f"expires {record.expires_on:%Y-%m-%d}"
        elif ended == record.revoked_on:
            state = f"revoked {ended:%Y-%m-%d}"
        else:
            state = f"expired {ended:%Y-%m-%d}"
        return [
            record.source.name[:40],
            record.source.slug[:40],
            state,
            record.source.get_on_rights_end_display().split(" (")[0],
            str(record.live_articles),
        ]


def table(rows: list[list[str]]) -> str:
    header = ["source", "slug", "rights", "policy", "live articles"]
    return text_table(header, rows)
