"""`make demo` content: enough to browse every page, and safe to load twice."""

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from articles.models import Article, Author, Redirect, SiteBlock, Source

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo(capsys):
    call_command("load_demo")
    return capsys.readouterr().out


def test_demo_loads_a_publishable_site(demo):
    assert Article.objects.published().count() >= 12
    assert Source.objects.count() >= 3
    assert all(source.rights_problem() is None for source in Source.objects.all())
    assert SiteBlock.objects.count() == 5


def test_demo_prints_working_editor_credentials(demo, client):
    assert "editor" in demo and "demo-editor-pass" in demo
    editor = get_user_model().objects.get(username="editor")
    assert editor.groups.filter(name="Editors").exists()
    assert client.login(username="editor", password="demo-editor-pass")


def test_one_demo_article_is_shaped_like_the_reference_page(demo):
    article = Article.objects.get(slug="floodgates-open-on-the-lower-delta")
    assert article.kicker == "Video"
    assert article.video_kind == "file"
    assert article.source.support_appeal
    assert article.original_published_at < article.published_at
    assert article.themes.count() == 2 and article.reports.count() == 2
    assert article.regions.exists() and article.tags.exists()
    assert all(article.site_blocks().values())


def test_loading_twice_duplicates_nothing(demo):
    counts = (Article.objects.count(), Author.objects.count(), Source.objects.count())
    published = dict(Article.objects.values_list("slug", "published_at"))
    call_command("load_demo")
    assert (Article.objects.count(), Author.objects.count(), Source.objects.count()) == counts
    assert dict(Article.objects.values_list("slug", "published_at")) == published
    assert not Redirect.objects.exists()
