from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from articles.editorial.bulk import MAX_BULK_BYTES, apply_plan, plan_metadata


class Command(BaseCommand):
    help = (
        "Apply a CSV or JSON file of source metadata (with rights records) or of article "
        "taxonomy (regions, themes, reports, tags). Prints what changes, row by row. All or "
        "nothing: any invalid row lists every problem and applies none. See "
        "docs/bulk-metadata.md for the columns."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", metavar="FILE", help="A .csv or .json file.")
        parser.add_argument(
            "--dry-run", action="store_true", help="Show what would change; write nothing."
        )

    def handle(self, *args, **options):
        path = Path(options["path"])
        if not path.is_file():
            raise CommandError(f"No such file: {path}")
        if path.stat().st_size > MAX_BULK_BYTES:
            raise CommandError(f"{path.name} is larger than the limit of {MAX_BULK_BYTES:,} bytes.")
        plan = plan_metadata(path.read_bytes(), path.name)
        for change in plan.changes:
            self.stdout.write(f"{change.label}, {change.target}:")
            for line in change.changes:
                self.stdout.write(f"    {line}")
        if plan.errors:
            for line in plan.errors:
                self.stderr.write(line)
            raise CommandError(f"{plan.summary()}.")
        if options["dry_run"]:
            self.stdout.write(f"Dry run: {plan.summary()}; nothing was written.")
            return
        applied = apply_plan(plan)
        self.stdout.write(f"Applied: {applied} row(s) changed, {plan.unchanged} unchanged.")
