"""Old addresses: changed slugs and migrated WordPress permalinks answer 301, never a chain."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from articles.models import Redirect
from tests.factories import ArticleFactory, PublishedArticleFactory

pytestmark = pytest.mark.django_db


def rename(article, slug):
    article.slug = slug
    article.save()
    return article


def assert_moved(client, old, new):
    response = client.get(old)
    assert response.status_code == 301, old
    assert response["Location"] == new


class TestChangedSlugs:
    def test_the_old_address_moves_permanently_to_the_new_one(self, client):
        rename(PublishedArticleFactory(slug="first-slug"), "second-slug")
        assert_moved(client, "/articles/first-slug/", "/articles/second-slug/")
        assert client.get("/articles/second-slug/").status_code == 200

    def test_two_renames_leave_no_chain(self, client):
        article = PublishedArticleFactory(slug="one")
        rename(article, "two")
        rename(article, "three")
        assert_moved(client, "/articles/one/", "/articles/three/")
        assert_moved(client, "/articles/two/", "/articles/three/")

    def test_renaming_back_to_an_old_slug_serves_the_page_again(self, client):
        article = PublishedArticleFactory(slug="alpha")
        rename(article, "beta")
        rename(article, "alpha")
        assert client.get("/articles/alpha/").status_code == 200
        assert_moved(client, "/articles/beta/", "/articles/alpha/")

    def test_an_old_address_of_a_withdrawn_article_is_gone_too(self, client):
        article = rename(PublishedArticleFactory(slug="before"), "after")
        article.withdraw("Rights lapsed")
        assert client.get("/articles/after/").status_code == 410
        assert client.get("/articles/before/").status_code == 410

    def test_an_old_address_of_an_unpublished_article_stays_not_found(self, client):
        rename(ArticleFactory(slug="draft-before"), "draft-after")
        assert client.get("/articles/draft-before/").status_code == 404


class TestMigratedAddresses:
    def test_a_wordpress_query_string_permalink_moves_to_the_article(self, client):
        article = PublishedArticleFactory()
        Redirect.objects.create(old_path="/?p=123", article=article)
        assert_moved(client, "/?p=123", article.get_absolute_url())
        assert client.get("/?p=124").status_code == 200  # the home page, untouched

    def test_the_home_pages_own_parameters_cost_no_lookup(self, client, settings):
        settings.PAGE_CACHE_SECONDS = 0
        Redirect.objects.create(old_path="/?p=123", article=PublishedArticleFactory())
        client.get("/")  # warm the navigation cache
        with CaptureQueriesContext(connection) as plain:
            client.get("/")
        with CaptureQueriesContext(connection) as paged:
            client.get("/?page=1")
        assert len(paged) == len(plain)

    def test_a_wordpress_date_permalink_moves_with_or_without_its_slash(self, client):
        article = PublishedArticleFactory()
        Redirect.objects.create(old_path="/2019/05/harbour-strike/", article=article)
        assert_moved(client, "/2019/05/harbour-strike/", article.get_absolute_url())
        assert_moved(client, "/2019/05/harbour-strike", article.get_absolute_url())

    def test_an_article_renamed_after_migration_is_reached_in_one_hop(self, client):
        article = PublishedArticleFactory(slug="imported")
        Redirect.objects.create(old_path="/?p=7", article=article)
        rename(article, "edited")
        assert_moved(client, "/?p=7", "/articles/edited/")

    def test_a_target_that_is_itself_an_old_address_is_followed_to_the_end(self, client):
        article = rename(PublishedArticleFactory(slug="old-name"), "new-name")
        Redirect.objects.create(old_path="/category/news/old-name/", target_url="/old-post")
        Redirect.objects.create(old_path="/old-post", target_url="/articles/old-name/")
        assert_moved(client, "/category/news/old-name/", article.get_absolute_url())

    def test_a_plain_target_url_is_used_as_is(self, client):
        Redirect.objects.create(old_path="/about-us/", target_url="https://example.org/about")
        assert_moved(client, "/about-us/", "https://example.org/about")

    def test_a_loop_answers_not_found(self, client):
        Redirect.objects.create(old_path="/loop-a/", target_url="/loop-b/")
        Redirect.objects.create(old_path="/loop-b/", target_url="/loop-a/")
        assert client.get("/loop-a/").status_code == 404

    @pytest.mark.parametrize(
        "target", ["javascript:alert(1)", "//evil.example/", "/\\evil.example", "data:text/html,x"]
    )
    def test_unsafe_targets_are_never_followed(self, client, target):
        Redirect.objects.create(old_path="/old/", target_url=target)
        assert client.get("/old/").status_code == 404

    def test_a_live_page_is_never_shadowed_by_a_redirect(self, client):
        article = PublishedArticleFactory()
        other = PublishedArticleFactory()
        Redirect.objects.create(old_path=article.get_absolute_url(), article=other)
        assert client.get(article.get_absolute_url()).status_code == 200

    def test_only_reads_are_redirected(self, client):
        Redirect.objects.create(old_path="/old-form/", article=PublishedArticleFactory())
        assert client.post("/old-form/").status_code == 404
