from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils.text import slugify

from syndication.entry import import_wxr, source_named
from syndication.models import Trigger
from syndication.parsers import ParseError, read_wxr_site

from ._output import add_progress_argument, progress_bar, report_single_run, ticker
from ._sources import add_status_argument, checked_slug


class Command(BaseCommand):
    help = (
        "Migrate a WordPress export (WXR file): posts become articles with their authors, "
        "categories and tags (as tags), featured images and old URLs kept as redirects. "
        "Published posts get --status; drafts, pending and private posts stay drafts; trashed "
        "posts are skipped. Safe to run again: an interrupted import resumes."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", help="The .xml file exported by WordPress (Tools → Export).")
        parser.add_argument(
            "--source",
            metavar="SLUG",
            help="The source to import into (default: one named after the WordPress site).",
        )
        add_status_argument(parser)
        parser.add_argument(
            "--no-images",
            action="store_true",
            help="Do not download featured images.",
        )
        add_progress_argument(parser)

    def handle(self, *args, **options):
        path = Path(options["path"])
        if not path.is_file():
            raise CommandError(f"No such file: {options['path']}")
        try:
            site = read_wxr_site(path)
        except ParseError as error:
            raise CommandError(
                f"{path.name} is not a WordPress export we can read: {error}"
            ) from error
        slug = checked_slug(options["source"]) if options["source"] else slugify(site.title)
        if not slug:
            raise CommandError("The export names no site title: give --source SLUG.")
        source, created = source_named(slug, name=site.title or slug, homepage=site.link)
        if created:
            self.stdout.write(f"Created the source “{source.name}” ({source.slug}).")
        self.stdout.write(f"{site.post_count} post(s) in {path.name}.")

        bar = progress_bar(options, description=path.name)
        if bar is not None:
            bar.total = site.post_count
        try:
            run = import_wxr(
                path,
                source,
                options["status"],
                download_images=not options["no_images"],
                triggered_by=Trigger.COMMAND,
                site=site,
                on_item=ticker(bar),
            )
        finally:
            if bar is not None:
                bar.close()
        report_single_run(self.stdout, run)
