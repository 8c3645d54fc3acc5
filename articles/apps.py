from django.apps import AppConfig


class ArticlesConfig(AppConfig):
    name = "articles"
    verbose_name = "Content"

    def ready(self):
        # The editorial admin lives in its own package; search, cache and WebSub signals
        # connect here.
        from articles.distribution import websub  # noqa: F401
        from articles.editorial import admin  # noqa: F401
        from articles.search import engine  # noqa: F401
        from articles.site import checks, signals  # noqa: F401
