from django.core.management.base import BaseCommand, CommandError
from django.db.models import Q

from articles.models import Article, CorrectionKind


class Command(BaseCommand):
    help = (
        "Add a one-line note to a live article's corrections and updates log (printed with "
        "the date on its page, in its JSON-LD and as its feeds' last update)."
    )

    def add_arguments(self, parser):
        parser.add_argument("article", help="The article's id or slug.")
        parser.add_argument("note", help="One line for readers: what changed.")
        parser.add_argument(
            "--kind", choices=CorrectionKind.values, default=CorrectionKind.CORRECTION
        )

    def handle(self, *args, **options):
        key = options["article"]
        match = Q(slug=key) | (Q(pk=int(key)) if key.isdigit() else Q())
        article = Article.objects.filter(match).first()
        if article is None:
            raise CommandError(f"No article with the id or slug “{key}”.")
        if not article.is_live:
            raise CommandError(f"“{article}” is not live: its readers have no log yet.")
        if not " ".join(options["note"].split()):
            raise CommandError("The note is empty: say in one line what changed.")
        correction = article.log_change(options["note"], kind=options["kind"])
        self.stdout.write(f"{correction.get_kind_display()} logged on “{article}”.")
