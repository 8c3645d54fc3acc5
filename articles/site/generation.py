"""One generation number for all public content: cached pages embed it in their keys, so a
change anywhere makes every stale page unreachable at once, with no list of keys to delete."""

from django.core.cache import cache
from django.db import transaction

GENERATION_KEY = "articles:content-generation"


def content_generation() -> int:
    generation = cache.get(GENERATION_KEY)
    if generation is None:
        cache.add(GENERATION_KEY, 1, timeout=None)
        generation = cache.get(GENERATION_KEY, 1)
    return generation


def _bump():
    try:
        cache.incr(GENERATION_KEY)
    except ValueError:
        cache.set(GENERATION_KEY, 2, timeout=None)


def bump_content_generation():
    transaction.on_commit(_bump)
