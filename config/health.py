"""`/healthz`: is this node able to serve? For load balancers, uptime checks and systemd.

Each check is one cheap round trip: the database answers `SELECT 1`, the cache stores and
returns a key, and the default task backend can be loaded and reached (its table for the
database backend, a Redis ping for RQ). The answer is 200 when all pass and 503 naming the
failing check otherwise. It needs no login, is never cached and says nothing about the error
itself: the details go to the log.

`HealthCheckMiddleware` comes first in MIDDLEWARE and answers the path itself, before host
validation, the HTTPS redirect, sessions and the page cache: load balancers probe each node
by its IP address over plain HTTP, and the answer must reflect the three dependencies, not
whichever middleware touched them first. Nothing in the answer depends on the Host header.
"""

import logging
import uuid

from django.core.cache import cache
from django.core.cache.backends.dummy import DummyCache
from django.db import connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe
from django_tasks import DEFAULT_TASK_BACKEND_ALIAS, task_backends
from django_tasks_db.backend import DatabaseBackend
from django_tasks_db.models import DBTaskResult

logger = logging.getLogger(__name__)

HEALTHZ_PATH = "/healthz"


class HealthCheckFailed(Exception):
    pass


def check_database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        if cursor.fetchone() != (1,):
            raise HealthCheckFailed("SELECT 1 did not return 1")


def check_cache() -> None:
    if isinstance(cache, DummyCache):
        return  # CACHE_URL=dummy:// switches caching off on purpose; nothing to reach.
    # A key of its own per call, so health checks from several nodes cannot see each other's.
    key = f"healthz:{uuid.uuid4().hex}"
    token = uuid.uuid4().hex
    cache.set(key, token, timeout=10)
    try:
        if cache.get(key) != token:
            raise HealthCheckFailed("the cache did not return the value just stored")
    finally:
        cache.delete(key)


def check_tasks() -> None:
    backend = task_backends[DEFAULT_TASK_BACKEND_ALIAS]
    if isinstance(backend, DatabaseBackend):
        DBTaskResult.objects.exists()
    elif type(backend).__module__.startswith("django_tasks_rq."):
        # Imported here: django_rq is only installed when the RQ backend is configured.
        import django_rq

        for queue_name in sorted(backend.queues):
            django_rq.get_connection(queue_name).ping()


CHECKS = {
    "database": check_database,
    "cache": check_cache,
    "tasks": check_tasks,
}


@never_cache
@require_safe
def healthz(request):
    results = {}
    for name, check in CHECKS.items():
        try:
            check()
        except Exception:
            logger.exception("Health check %r failed", name)
            results[name] = "failing"
        else:
            results[name] = "ok"
    healthy = all(result == "ok" for result in results.values())
    return JsonResponse(
        {"status": "ok" if healthy else "failing", "checks": results},
        status=200 if healthy else 503,
    )


class HealthCheckMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path_info == HEALTHZ_PATH:
            return healthz(request)
        return self.get_response(request)
