from django.core.management.base import BaseCommand

from syndication.tasks import enqueue_due_feeds


class Command(BaseCommand):
    help = (
        "Enqueue one background import per due feed (run it from cron every few minutes; "
        "a worker such as `manage.py db_worker` does the imports)."
    )

    def handle(self, *args, **options):
        feed_ids = enqueue_due_feeds()
        self.stdout.write(f"Enqueued {len(feed_ids)} feed import(s).")
