from django.apps import AppConfig


class SyndicationConfig(AppConfig):
    name = "syndication"
    verbose_name = "Syndication"

    def ready(self):
        # The desk's panels of imports (articles/editorial/dashboard.py).
        from syndication import desk  # noqa: F401
