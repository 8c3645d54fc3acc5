"""An editor, in the admin, adds a feed served on this machine, fetches it, reviews the draft
in the import review queue, describes its picture in the media library and publishes it; a
reader then finds it on the site."""

import re

import pytest

from tests.factories import make_user

from .conftest import screenshot
from .content import Item, jpeg, rss

pytestmark = pytest.mark.django_db(transaction=True)

TITLE = "Fishing co-operative buys its first cold store"
PASSWORD = "correct horse battery"


def choose_in_autocomplete(page, select_id: str, typed: str, option: str):
    """Pick `option` in an admin autocomplete (select2) widget by typing, as a person does."""
    page.locator(f"#{select_id} + .select2 .select2-selection").click()
    page.locator(".select2-container--open .select2-search__field").fill(typed)
    page.locator(".select2-results__option", has_text=option).first.click()


def submit_action(page, action: str):
    page.locator("select[name=action]").select_option(action)
    page.locator("button[name=index]").click()


@pytest.fixture
def editor(demo_site):
    return make_user("desk", groups=("Editors", "Importers"))


def test_editor_imports_a_feed_reviews_the_draft_and_publishes_it(open_page, editor, feed_server):
    from articles.models import Article, ArticleStatus

    feed_server.routes["/photo.jpg"] = (200, {"Content-Type": "image/jpeg"}, jpeg())
    feed_server.routes["/rss"] = (
        200,
        {"Content-Type": "application/rss+xml; charset=utf-8"},
        rss(
            "Coastal Ledger",
            feed_server.url("/"),
            [
                Item(
                    guid="ledger-cold-store",
                    title=TITLE,
                    link=feed_server.url("/2024/cold-store"),
                    summary="The co-operative can now sell its catch a week after landing it.",
                    body_html="<p>The cold store runs on the harbour's new solar roof.</p>",
                    author="Jonas Berg",
                    categories=["Harbours"],
                    image_url=feed_server.url("/photo.jpg"),
                )
            ],
        ),
    )
    page, watch = open_page()

    page.goto("/admin/")
    page.fill("#id_username", editor.username)
    page.fill("#id_password", PASSWORD)
    page.locator("input[type=submit]").click()
    page.wait_for_url("**/admin/")

    page.goto("/admin/syndication/feed/add/")
    choose_in_autocomplete(page, "id_source", "Coastal", "Coastal Ledger")
    page.fill("#id_url", feed_server.url("/rss"))
    page.select_option("#id_default_status", "draft")
    page.fill("#id_mapping_rules-0-category", "Harbours")
    choose_in_autocomplete(page, "id_mapping_rules-0-region", "Eur", "Europe")
    page.locator("input[name=_save]").click()
    page.wait_for_url("**/admin/syndication/feed/")
    screenshot(page, "admin feeds")

    page.locator("input[name=_selected_action]").first.check()
    submit_action(page, "fetch_now")
    message = page.locator(".messagelist li").first.inner_text()
    assert "1 created" in message, message
    assert "Succeeded" in message, message

    page.goto("/admin/syndication/importeditem/?queue=drafts")
    screenshot(page, "admin imported drafts")
    row = page.locator("#result_list tbody tr", has_text=TITLE)
    assert row.count() == 1
    assert "Draft" in row.inner_text()
    row.locator("a.desk-row-link").click()
    page.wait_for_url(re.compile(r".*/admin/syndication/importeditem/\d+/review/"))
    assert "solar roof" in page.locator(".desk-cleaned").inner_text()
    screenshot(page, "admin review draft")

    # The feed gave its picture no alt text: publishing waits until someone describes it.
    page.goto("/admin/syndication/importeditem/?queue=drafts")
    page.locator("#result_list tbody tr", has_text=TITLE).locator(
        "input[name=_selected_action]"
    ).check()
    submit_action(page, "publish")
    assert "no alt text" in page.locator(".messagelist").inner_text()

    page.goto("/admin/articles/image/?q=Coastal")
    page.locator("#result_list tbody tr th a").first.click()
    page.fill("#id_alt", "A new cold store on the quay, solar panels on its roof")
    page.locator("input[name=_save]").click()
    page.wait_for_url("**/admin/articles/image/**")

    page.goto("/admin/syndication/importeditem/?queue=drafts")
    page.locator("#result_list tbody tr", has_text=TITLE).locator(
        "input[name=_selected_action]"
    ).check()
    submit_action(page, "publish")
    assert "1 article(s) published." in page.locator(".messagelist").inner_text()
    assert page.locator("#result_list tbody tr", has_text=TITLE).count() == 0

    article = Article.objects.get(title=TITLE)
    assert article.status == ArticleStatus.PUBLISHED
    assert article.regions.get().name == "Europe"
    assert article.lead_image.alt.startswith("A new cold store")
    assert [a.name for a in article.ordered_authors] == ["Jonas Berg"]
    watch.assert_quiet()

    reader, reader_watch = open_page()
    reader.goto("/")
    reader.get_by_role("link", name=TITLE).first.click()
    reader.wait_for_url(f"**{article.get_absolute_url()}")
    assert "solar roof" in reader.locator('[data-block="body"]').inner_text()
    assert reader.locator('[data-block="lead_media"] img').evaluate("img => img.naturalWidth") > 0
    reader_watch.assert_quiet()
