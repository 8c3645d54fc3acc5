"""Background work of the content app, through Django's tasks API (the `django_tasks` package).

Renaming or deleting something articles are filed under (a source, an author, a region, a
theme, a report, a tag) changes the search document of every one of those articles; a
source can have tens of thousands. The change itself commits at once, and these tasks,
enqueued when it commits, rewrite the documents in batches (articles/search/engine.py).
"""

from django.apps import apps
from django_tasks import task

from .search.engine import articles_filed_under, refresh_search_documents


@task()
def refresh_filed_under(model_label: str, pk: int) -> int:
    """Refresh the search documents of the articles filed under one renamed thing."""
    model = apps.get_model(model_label)
    instance = model._default_manager.filter(pk=pk).first()
    if instance is None:
        return 0
    return refresh_search_documents(articles_filed_under(instance))


@task()
def refresh_search_documents_task(article_ids: list[int]) -> int:
    """Refresh the search documents of these articles (those still there)."""
    return refresh_search_documents(article_ids)
