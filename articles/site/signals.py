"""Keep caches honest: anything a public page shows changes → the page cache generation moves."""

from django.db.models.signals import m2m_changed, post_delete, post_save
from django.dispatch import receiver
from taggit.models import Tag, TaggedItem

from articles import models
from articles.site.generation import bump_content_generation

_CONTENT_MODELS = (
    models.Article,
    models.Source,
    models.RightsRecord,
    models.Author,
    models.Region,
    models.Theme,
    models.InDepthReport,
    models.SiteBlock,
    models.Byline,
    models.ArticleBlockOverride,
    models.Redirect,
    Tag,
    TaggedItem,
)


@receiver(post_save)
@receiver(post_delete)
def content_changed(sender, **kwargs):
    if sender in _CONTENT_MODELS:
        bump_content_generation()


@receiver(m2m_changed)
def relations_changed(sender, **kwargs):
    if sender in (
        models.Article.regions.through,
        models.Article.themes.through,
        models.Article.reports.through,
        TaggedItem,
    ):
        bump_content_generation()
