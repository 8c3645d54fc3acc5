from django.core.management.base import BaseCommand, CommandError

from articles.sanitize import is_http_url
from syndication.entry import import_url
from syndication.models import Trigger

from ._output import report_single_run
from ._sources import add_status_argument, existing_source


class Command(BaseCommand):
    help = (
        "Import one article page from its URL: the title, author, date, body and lead image "
        "are extracted from the HTML. Importing the same URL again changes nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("url", help="The article's http(s) URL.")
        parser.add_argument(
            "--source", required=True, metavar="SLUG", help="The source the article belongs to."
        )
        add_status_argument(parser)

    def handle(self, *args, **options):
        url = options["url"].strip()
        if not is_http_url(url):
            raise CommandError(f"Not an http(s) URL: {url}")
        source = existing_source(options["source"])
        run = import_url(url, source, options["status"], triggered_by=Trigger.COMMAND)
        report_single_run(self.stdout, run)
        record = run.items.select_related("article").first()
        if record is not None and record.article is not None:
            self.stdout.write(f"Article: {record.article.title} (id {record.article.pk})")
