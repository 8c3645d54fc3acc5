from django.apps import AppConfig


class ArticlesConfig(AppConfig):
    name = "articles"
    verbose_name = "Content"

    def ready(self):
        # The editorial admin lives in its own package; search and cache signals connect here.
        from articles.editorial import admin  # noqa: F401
        from articles.search import engine  # noqa: F401
        from articles.site import checks, signals  # noqa: F401
