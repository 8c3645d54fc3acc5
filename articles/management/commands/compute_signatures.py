"""Compute the similarity signatures of articles that have none (or of all, with --all).

Imports and the admin keep signatures current; this fills them in for articles stored before
signatures existed, so that new imports are matched against the whole archive. Safe to run
again and to interrupt: each batch is committed on its own.
"""

from django.core.management.base import BaseCommand
from django.db import transaction

from articles.models import Article, ContentSignature

BATCH_SIZE = 500


class Command(BaseCommand):
    help = (
        "Compute the similarity signatures used to find possible duplicates, for articles "
        "that have none (every article with --all)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--all", action="store_true", help="Recompute every article's signature."
        )
        parser.add_argument("--batch-size", type=int, default=BATCH_SIZE)

    def handle(self, *args, **options):
        articles = Article.objects.order_by("pk").only("pk", "title", "body")
        if not options["all"]:
            articles = articles.filter(signature__isnull=True)
        stored = examined = 0
        last_pk = 0
        while True:
            batch = list(articles.filter(pk__gt=last_pk)[: options["batch_size"]])
            if not batch:
                break
            with transaction.atomic():
                stored += ContentSignature.objects.refresh_many(batch)
            examined += len(batch)
            last_pk = batch[-1].pk
        self.stdout.write(
            f"Signatures computed for {stored} of {examined} article(s) "
            f"({examined - stored} have no text)."
        )
