from django.core.management.base import BaseCommand, CommandError

from syndication.discovery import discover_feeds
from syndication.entry import source_named
from syndication.fetching.client import UnsafeURL
from syndication.models import Feed

from ._sources import checked_slug


class Command(BaseCommand):
    help = (
        "List the feeds a homepage offers (its autodiscovery links, else the usual feed "
        "paths), each fetched and checked to be a feed. --add N --source SLUG adds the N-th "
        "as a feed to poll (a new slug creates the source, named after the feed)."
    )

    def add_arguments(self, parser):
        parser.add_argument("url", metavar="URL", help="A homepage (or a feed) URL.")
        parser.add_argument("--add", type=int, metavar="N", help="Add the N-th feed listed.")
        parser.add_argument("--source", metavar="SLUG", help="The source to add it to.")

    def handle(self, *args, **options):
        if options["add"] is not None and not options["source"]:
            raise CommandError("--add needs --source SLUG.")
        try:
            discovery = discover_feeds(options["url"])
        except UnsafeURL as error:
            raise CommandError(str(error)) from error
        for number, found in enumerate(discovery.feeds, start=1):
            self.stdout.write(
                f"{number}. {found.url}  “{found.title or '(untitled)'}”, "
                f"{found.item_count} item(s), {found.format}, found as {found.found_by}"
            )
        for line in discovery.problems:
            self.stdout.write(f"not offered: {line}")
        if not discovery.feeds:
            raise CommandError(f"No feed found at {discovery.page_url}.")
        if options["add"] is None:
            return
        if not 1 <= options["add"] <= len(discovery.feeds):
            raise CommandError(f"--add must be between 1 and {len(discovery.feeds)}.")
        found = discovery.feeds[options["add"] - 1]
        source, created = source_named(
            checked_slug(options["source"]),
            name=found.title or discovery.page_title,
            homepage=discovery.page_url,
        )
        feed, added = Feed.objects.get_or_create(
            source=source, url=found.url, defaults={"title": found.title[:300]}
        )
        verb = "Added" if added else "Already had"
        self.stdout.write(f"{verb} the feed {feed.url} in “{source.name}”.")
