"""The article page's lookup, compiled once per connection (articles/prepared.py).

It must say exactly what `Article.objects.published().for_detail()` says, on both databases:
the same article with the same fields and relations, and nothing that is not live.
"""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from articles.models import Article, ArticleStatus, Byline
from articles.prepared import PreparedQuery
from tests.factories import (
    ArticleFactory,
    AuthorFactory,
    PublishedArticleFactory,
    RegionFactory,
    ThemeFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def filed_article():
    article = PublishedArticleFactory(title="Tides of the estuary", dek="Salt moves inland.")
    Byline.objects.create(article=article, author=AuthorFactory(name="Noor Haddad"), position=0)
    article.regions.add(RegionFactory(name="Lagos"))
    article.themes.add(ThemeFactory(name="Water"), ThemeFactory(name="Climate"))
    article.tags.add("estuary", "salt")
    return article


FIELDS = [field.attname for field in Article._meta.concrete_fields if field.name != "search_vector"]


def values(article) -> dict:
    return {name: getattr(article, name) for name in FIELDS}


class TestLiveBySlug:
    def test_finds_what_the_querysets_find_with_its_relations_loaded(self, filed_article):
        expected = Article.objects.published().for_detail().get(slug=filed_article.slug)

        found = Article.objects.live_by_slug(filed_article.slug)

        assert values(found) == values(expected)
        with CaptureQueriesContext(connection) as queries:
            assert [author.name for author in found.ordered_authors] == ["Noor Haddad"]
            assert [region.name for region in found.regions.all()] == ["Lagos"]
            assert [theme.name for theme in found.themes.all()] == ["Climate", "Water"]
            assert sorted(tag.name for tag in found.tags.all()) == ["estuary", "salt"]
            assert found.source.name == expected.source.name
        assert len(queries) == 0

    def test_costs_two_queries_like_the_detail_plan(self, filed_article):
        Article.objects.live_by_slug(filed_article.slug)  # compiled, names and source cached

        with CaptureQueriesContext(connection) as queries:
            Article.objects.live_by_slug(filed_article.slug)

        assert len(queries) == 2

    @pytest.mark.parametrize(
        "status", [ArticleStatus.DRAFT, ArticleStatus.REVIEW, ArticleStatus.WITHDRAWN]
    )
    def test_finds_nothing_that_is_not_published(self, status):
        article = ArticleFactory(status=status, published_at=timezone.now())

        assert Article.objects.live_by_slug(article.slug) is None

    def test_a_scheduled_article_appears_when_its_time_comes(self):
        soon = timezone.now() + datetime.timedelta(minutes=5)
        article = PublishedArticleFactory(published_at=soon)

        assert Article.objects.live_by_slug(article.slug) is None
        later = soon + datetime.timedelta(seconds=1)
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(timezone, "now", lambda: later)
            assert Article.objects.live_by_slug(article.slug).pk == article.pk

    def test_an_unknown_slug_finds_nothing(self, filed_article):
        assert Article.objects.live_by_slug("no-such-article") is None
        assert Article.objects.live_by_slug(filed_article.slug + "x") is None


class TestPreparedQuery:
    def test_compiles_once_per_connection(self, monkeypatch):
        PublishedArticleFactory(title="One")
        PublishedArticleFactory(title="Two")
        lookup = PreparedQuery(
            lambda title: Article.objects.filter(title=title),
            title=Article._meta.get_field("title"),
        )
        compiled = []
        compile_once = lookup._compile
        monkeypatch.setattr(
            lookup, "_compile", lambda using: compiled.append(using) or compile_once(using)
        )

        assert [article.title for article in lookup(title="One")] == ["One"]
        assert [article.title for article in lookup(title="Two")] == ["Two"]
        assert lookup(title="Three") == []
        assert compiled == ["default"]

    def test_a_parameter_missing_from_the_sql_is_refused(self):
        lookup = PreparedQuery(
            lambda title: Article.objects.all(), title=Article._meta.get_field("title")
        )

        with pytest.raises(ValueError, match="every parameter must appear"):
            lookup()

    def test_hostile_values_are_parameters_not_sql(self, filed_article):
        assert Article.objects.live_by_slug("x' OR '1'='1") is None
        assert Article.objects.live_by_slug(filed_article.slug).pk == filed_article.pk
