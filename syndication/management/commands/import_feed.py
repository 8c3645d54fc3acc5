from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from articles.sanitize import is_http_url
from syndication.entry import FEED_ACCEPT, import_feed, import_feed_file, source_named
from syndication.fetching.client import FetchError, fetch
from syndication.models import Feed, Trigger
from syndication.parsers import ParseError, parse_feed

from ._output import add_progress_argument, progress_bar, report_single_run, ticker
from ._sources import add_rights_arguments, add_status_argument, checked_slug, record_rights


class Command(BaseCommand):
    help = (
        "Import one feed (RSS, Atom, RDF or JSON Feed) from an http(s) URL or a local file. "
        "A new --source slug creates the source, named after the feed; an URL also creates "
        "(or updates) the feed so that import_feeds polls it from then on."
    )

    def add_arguments(self, parser):
        parser.add_argument("location", metavar="URL_OR_PATH", help="Feed URL or file path.")
        parser.add_argument(
            "--source", required=True, metavar="SLUG", help="The source the articles belong to."
        )
        add_status_argument(parser, default=None)
        add_rights_arguments(parser)
        add_progress_argument(parser)

    def handle(self, *args, **options):
        location = options["location"].strip()
        slug = checked_slug(options["source"])
        fetched = None
        if is_http_url(location):
            # A feed this command set up before is asked conditionally, as import_feeds does.
            known = Feed.objects.filter(source__slug=slug, url=location).first()
            try:
                fetched = fetch(
                    location,
                    accept=FEED_ACCEPT,
                    etag=known.etag if known else "",
                    last_modified=known.last_modified if known else "",
                )
                content = fetched.content
            except FetchError as error:
                raise CommandError(f"Could not fetch {location}: {error}") from error
            if fetched.not_modified and known is not None:
                run = import_feed(known, triggered_by=Trigger.COMMAND, fetched=fetched)
                report_single_run(self.stdout, run)
                return
        elif "://" in location:
            raise CommandError(f"Only http(s) URLs and local files can be imported: {location}")
        else:
            path = Path(location)
            if not path.is_file():
                raise CommandError(f"No such file: {location}")
            content = path.read_bytes()
        try:
            parsed = parse_feed(
                content,
                url=fetched.url if fetched else "",
                content_type=fetched.content_type if fetched else "",
                charset=fetched.charset if fetched else "",
            )
        except ParseError as error:
            raise CommandError(f"{location} is not a feed we can read: {error}") from error

        source, created = source_named(slug, name=parsed.title or slug, homepage=parsed.link)
        if created:
            self.stdout.write(f"Created the source “{source.name}” ({source.slug}).")
        if options["rights"]:
            record_rights(
                source,
                options["rights"],
                holder=options["copyright_holder"] or parsed.title or source.name,
                evidence=options["evidence"] or "",
            )
            self.stdout.write(f"Recorded the rights of “{source.name}”: {options['rights']}.")
        problem = source.rights_problem()
        if problem:
            self.stdout.write(f"Note: {problem}")

        bar = progress_bar(options, description=source.name)
        try:
            if fetched is not None:
                feed = self.feed_for(source, fetched.url, parsed.title, options["status"])
                run = import_feed(
                    feed, triggered_by=Trigger.COMMAND, fetched=fetched, on_item=ticker(bar)
                )
            else:
                run = import_feed_file(
                    location,
                    source,
                    options["status"] or "draft",
                    triggered_by=Trigger.COMMAND,
                    on_item=ticker(bar),
                )
        finally:
            if bar is not None:
                bar.close()
        report_single_run(self.stdout, run)

    def feed_for(self, source, url: str, title: str, status: str | None) -> Feed:
        feed, created = Feed.objects.get_or_create(
            source=source,
            url=url,
            defaults={"title": title[:300], "default_status": status or "draft"},
        )
        if not created and status and feed.default_status != status:
            feed.default_status = status
            feed.save(update_fields=["default_status", "updated_at"])
        if created:
            self.stdout.write(f"Added the feed {url} to “{source.name}”.")
        return feed
