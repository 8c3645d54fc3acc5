"""Background work of the content app, through Django's tasks API (the `django_tasks` package).

Renaming or deleting something articles are filed under (a source, an author, a region, a
theme, a report, a tag) changes the search document of every one of those articles, and what
their pages print of it (articles/filing.py); a source can have tens of thousands. The change
itself commits at once, and these tasks, enqueued when it commits, rewrite the documents in
batches (articles/search/engine.py). Pages rendered in between printed the old names, so a
task that changed any article moves the site's cache generation once more.
"""

from django.apps import apps
from django_tasks import task

from .search.engine import articles_filed_under, refresh_search_documents
from .site.generation import invalidate_everything


@task()
def refresh_filed_under(model_label: str, pk: int) -> int:
    """Refresh the search documents of the articles filed under one renamed thing."""
    model = apps.get_model(model_label)
    instance = model._default_manager.filter(pk=pk).first()
    if instance is None:
        return 0
    return _refreshed(articles_filed_under(instance))


@task()
def refresh_search_documents_task(article_ids: list[int]) -> int:
    """Refresh the search documents of these articles (those still there)."""
    return _refreshed(article_ids)


def _refreshed(article_ids) -> int:
    refreshed = refresh_search_documents(article_ids)
    if refreshed:
        invalidate_everything()
    return refreshed
