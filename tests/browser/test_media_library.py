"""An editor, after `make demo`, gives a picture already in the media library to another article
and publishes it; readers see the picture, its caption and its credit, and the source's logo."""

import pytest

from tests.factories import make_user

from .conftest import screenshot
from .test_editor import PASSWORD, choose_in_autocomplete

pytestmark = pytest.mark.django_db(transaction=True)

TITLE = "The old channel takes its first container ship"
HARBOUR_ALT = "Two orange cranes on a quay and a red dredger in the harbour channel."
HARBOUR_CAPTION = "The dredger at work in the old channel."


@pytest.fixture
def editor(demo_site):
    return make_user("picture-desk", groups=("Editors",))


@pytest.fixture
def draft(demo_site):
    """A draft from a demo source, with no picture yet."""
    from articles.models import Article, Source

    return Article.objects.create(
        title=TITLE,
        dek="Dredging finished a week early.",
        body="<p>The first ship came in on the morning tide.</p>",
        source=Source.objects.get(slug="coastal-ledger"),
    )


def test_an_editor_reuses_a_library_image_and_readers_see_it(open_page, editor, draft):
    from articles.models import Article, Image

    harbour = Image.objects.get(alt=HARBOUR_ALT)
    already_leading = set(harbour.lead_of.values_list("pk", flat=True))
    assert already_leading, "the demo's harbour picture leads a demo article"

    page, watch = open_page()
    page.goto("/admin/")
    page.fill("#id_username", editor.username)
    page.fill("#id_password", PASSWORD)
    page.locator("input[type=submit]").click()
    page.wait_for_url("**/admin/")

    page.goto("/admin/articles/image/?q=dredger")
    assert page.locator("#result_list tbody tr").count() == 1
    screenshot(page, "media library search")

    page.goto(f"/admin/articles/article/{draft.pk}/change/")
    choose_in_autocomplete(page, "id_lead_image", "cranes", "Two orange cranes")
    page.select_option("#id_status", "published")
    page.locator("#id_lead_image").scroll_into_view_if_needed()
    screenshot(page, "article form picking a library image")
    page.locator("input[name=_save]").first.click()
    page.wait_for_url("**/admin/articles/article/")
    assert "was changed successfully" in page.locator(".messagelist").inner_text()
    watch.assert_quiet()

    article = Article.objects.get(pk=draft.pk)
    assert article.is_live and article.lead_image == harbour
    assert set(harbour.lead_of.values_list("pk", flat=True)) == already_leading | {article.pk}

    reader, reader_watch = open_page()
    reader.goto(article.get_absolute_url())
    lead = reader.locator('figure[data-block="lead_media"]')
    picture = lead.locator("img")
    picture.scroll_into_view_if_needed()
    assert picture.evaluate("img => img.complete && img.naturalWidth") > 0
    assert picture.get_attribute("alt") == HARBOUR_ALT
    caption = lead.locator("figcaption").inner_text()
    assert HARBOUR_CAPTION in caption
    assert "Credit: Illustration: The Syndicate Review" in caption
    logo = reader.locator('[data-block="attribution"] img.source-logo')
    assert logo.get_attribute("alt") == "The Coastal Ledger logo"
    assert logo.evaluate("img => img.complete && img.naturalWidth") > 0
    screenshot(reader, "article with a reused library image")
    reader_watch.assert_quiet()
    assert reader_watch.csp_violations == []


@pytest.fixture
def demo_on_live_server(settings, live_server, request):
    """The demo loaded for the live server's address, which its video's address is on."""
    settings.SITE_URL = live_server.url
    request.getfixturevalue("demo_site")


def test_the_demo_video_plays_from_this_site(open_page, demo_on_live_server):
    page, watch = open_page()
    page.goto("/articles/floodgates-open-on-the-lower-delta/")
    video = page.locator('[data-block="lead_media"] video')
    video.scroll_into_view_if_needed()
    assert video.evaluate("v => v.canPlayType('video/mp4; codecs=\"avc1.42E01E\"')")
    page.wait_for_function(
        "() => document.querySelector('[data-block=\"lead_media\"] video').readyState >= 1"
    )
    assert video.evaluate("v => v.duration") > 1
    assert video.evaluate("v => v.videoWidth") == 640
    screenshot(page, "demo article with video")
    watch.assert_quiet()
    assert watch.csp_violations == []
