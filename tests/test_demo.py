"""`make demo` content: enough to browse every page, and safe to load twice."""

from io import StringIO
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from articles.models import Article, ArticleStatus, Author, Redirect, SiteBlock, Source

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


def test_loading_again_keeps_what_editors_changed_and_adds_only_what_is_missing(demo):
    source = Source.objects.get(slug="delta-dispatch")
    source.name = "Delta Dispatch (renamed by an editor)"
    source.save()
    rights = source.rights
    rights.evidence = "Renewed contract, signed by the editor"
    rights.save()
    article = Article.objects.get(slug="floodgates-open-on-the-lower-delta")
    article.title = "Floodgates open: an editor's headline"
    article.save()
    article.tags.set(["edited"])
    editor = get_user_model().objects.get(username="editor")
    editor.set_password("the editor's own secret")
    editor.save()
    gone = Article.objects.exclude(pk=article.pk).first()
    gone_slug = gone.slug
    gone.delete()

    output = StringIO()
    call_command("load_demo", stdout=output)

    source.refresh_from_db()
    article.refresh_from_db()
    assert source.name == "Delta Dispatch (renamed by an editor)"
    assert source.rights.evidence == "Renewed contract, signed by the editor"
    assert article.title == "Floodgates open: an editor's headline"
    assert list(article.tags.names()) == ["edited"]
    assert get_user_model().objects.get(username="editor").check_password("the editor's own secret")
    assert "demo-editor-pass" not in output.getvalue()
    assert Article.objects.filter(slug=gone_slug).exists()


DEMO_DIR = Path(__file__).resolve().parents[1] / "demo"


def test_the_sample_imports_land_in_the_review_queue_once(demo):
    def import_samples():
        call_command(
            "import_feed",
            str(DEMO_DIR / "feeds" / "tidewater-notes.xml"),
            source="tidewater-notes",
            status="review",
            stdout=StringIO(),
        )
        call_command(
            "import_wxr",
            str(DEMO_DIR / "wxr" / "lantern-quarterly.xml"),
            source="lantern-quarterly",
            no_images=True,
            status="draft",
            stdout=StringIO(),
        )

    import_samples()
    feed_articles = Article.objects.filter(source__slug="tidewater-notes")
    assert feed_articles.count() == 3
    assert set(feed_articles.values_list("status", flat=True)) == {ArticleStatus.REVIEW}
    assert all(
        "<script" not in body and "onclick" not in body
        for body in feed_articles.values_list("body", flat=True)
    )
    wordpress = Article.objects.filter(source__slug="lantern-quarterly")
    assert wordpress.count() == 3
    assert Redirect.objects.filter(old_path="/?p=101").exists()

    before = Article.objects.count()
    rights = Source.objects.get(slug="tidewater-notes").rights
    rights.evidence = "Countersigned letter, filed by the desk"
    rights.save()
    call_command("load_demo", stdout=StringIO())
    import_samples()
    assert Article.objects.count() == before
    rights.refresh_from_db()
    assert rights.evidence == "Countersigned letter, filed by the desk"
