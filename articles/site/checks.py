"""System checks of how the site is deployed (`manage.py check --deploy`)."""

from django.conf import settings
from django.core.checks import Error, Tags, register

LOCAL_MEMORY = "django.core.cache.backends.locmem.LocMemCache"


@register(Tags.caches, deploy=True)
def cache_is_shared_by_every_process(app_configs=None, **kwargs):
    """Refuse a local-memory default cache unless the site says it runs as one process.

    Invalidation (articles/site/signals.py) moves generations in the cache of the process that
    made the change: every gunicorn worker and the task worker must read the same cache, or
    the others keep serving stale pages.
    """
    backend = settings.CACHES.get("default", {}).get("BACKEND", "")
    if backend != LOCAL_MEMORY or getattr(settings, "SITE_RUNS_AS_ONE_PROCESS", False):
        return []
    return [
        Error(
            "The default cache is local memory, which each process keeps to itself: an edit "
            "made in one gunicorn worker or in the task worker would not reach the pages "
            "cached by the others.",
            hint="Set CACHE_URL to a shared cache (redis://host:6379/0), or set "
            "SITE_RUNS_AS_ONE_PROCESS=1 if the site is served by one process with one "
            "gunicorn worker and no task worker.",
            id="articles.E001",
        )
    ]
