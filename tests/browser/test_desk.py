"""The editorial desk in a real browser, on the content `make demo` loads: the demo editor logs
in, lands on the desk, follows its figures to the lists behind them, and clears the review
queue with the keyboard alone; axe-core finds no serious or critical violation on the screens
an editor uses all day, at a desktop width and on a phone."""

import datetime
import io
import re
from pathlib import Path

import pytest
from django.core.management import call_command
from django.utils import timezone

from .conftest import axe_violations, screenshot

pytestmark = pytest.mark.django_db(transaction=True)

DEMO = Path(__file__).resolve().parents[2] / "demo"
EDITOR, EDITOR_PASSWORD = "editor", "demo-editor-pass"  # articles/demo_content.py
WIDTHS = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 844}}
QUEUE = "/admin/syndication/importeditem/"


@pytest.fixture
def demo_queue(demo_site):
    """What `make demo` imports (a feed into review, a WordPress export as drafts), and one of
    those drafts sent to review by an importer: a source with no rights record yet."""
    from syndication.models import ImportedItem

    call_command(
        "import_feed",
        str(DEMO / "feeds" / "tidewater-notes.xml"),
        source="tidewater-notes",
        status="review",
        stdout=io.StringIO(),
    )
    call_command(
        "import_wxr",
        str(DEMO / "wxr" / "lantern-quarterly.xml"),
        source="lantern-quarterly",
        no_images=True,
        status="draft",
        stdout=io.StringIO(),
    )
    unlicensed = (
        ImportedItem.objects.drafts().filter(source__slug="lantern-quarterly").queue_order().first()
    )
    unlicensed.article.send_to_review()
    return unlicensed


def log_in(page):
    page.goto("/admin/")
    page.fill("#id_username", EDITOR)
    page.fill("#id_password", EDITOR_PASSWORD)
    page.locator("input[type=submit]").click()
    page.wait_for_url("**/admin/")


def figure(page, label: str):
    return page.locator(".desk-figure a", has_text=label).first


def figure_count(page, label: str) -> int:
    return int(figure(page, label).locator(".desk-count").inner_text())


def result_rows(page):
    return page.locator("#result_list tbody tr")


def press_and_load(page, key: str):
    """Press `key` and wait for the page it submits or opens."""
    with page.expect_navigation():
        page.keyboard.press(key)


def message(page) -> str:
    return page.locator(".messagelist").inner_text()


def test_the_editor_lands_on_the_desk_and_its_figures_lead_to_their_lists(open_page, demo_queue):
    page, watch = open_page(viewport=WIDTHS["desktop"])
    log_in(page)

    assert page.locator("#site-name").inner_text() == "The Syndicate Review"
    screenshot(page, "desk dashboard")
    assert figure_count(page, "Awaiting review") == 4
    assert figure_count(page, "Imported drafts") == 2

    for label, address in [
        ("Awaiting review", "queue=review"),
        ("Imported drafts", "queue=drafts"),
        ("In review", "status=review"),
    ]:
        page.goto("/admin/")
        expected = figure_count(page, label)
        figure(page, label).click()
        page.wait_for_url(re.compile(rf".*\?{address}$"))
        assert result_rows(page).count() == expected, label

    page.goto("/admin/")
    runs = page.locator("#desk-runs .desk-figure")
    assert "Succeeded" in runs.first.locator(".desk-detail").inner_text()
    runs.first.locator("a").click()
    page.wait_for_url(re.compile(r".*/admin/syndication/importrun/\d+/change/$"))
    watch.assert_quiet()


def test_a_keyboard_session_clears_the_review_queue(open_page, demo_queue):
    from articles.models import ArticleStatus
    from syndication.models import ImportedItem

    page, watch = open_page(viewport=WIDTHS["desktop"])
    log_in(page)
    figure(page, "Awaiting review").click()
    page.wait_for_url(f"**{QUEUE}?queue=review")
    assert page.locator("h1").inner_text() == "Review queue"
    assert result_rows(page).count() == 4
    screenshot(page, "desk review queue")

    # j highlights the newest item, o opens its review screen.
    page.keyboard.press("j")
    assert "desk-current" in result_rows(page).first.get_attribute("class")
    press_and_load(page, "o")
    assert re.search(r"/review/$", page.url)
    assert "Lantern Quarterly" in page.locator(".desk-meta").inner_text()
    screenshot(page, "desk review screen")

    # Its source has no rights record: p is refused with the reason, b sends it back.
    press_and_load(page, "p")
    assert "no rights record" in page.locator(".errornote").inner_text()
    press_and_load(page, "b")
    assert "is back in drafts" in message(page)

    # The feed's three stories: publish one, schedule one, discard one.
    press_and_load(page, "p")
    assert "is published" in message(page)

    tomorrow = timezone.localtime() + datetime.timedelta(days=1)
    page.keyboard.press("s")
    assert page.evaluate("document.activeElement.name") == "publish_at"
    page.locator("#id_publish_at").fill(tomorrow.strftime("%Y-%m-%dT%H:%M"))
    press_and_load(page, "Enter")
    assert "is scheduled for" in message(page)

    press_and_load(page, "d")
    assert page.url.endswith(QUEUE)
    assert "The review queue is clear." in message(page)
    assert result_rows(page).count() == 0
    screenshot(page, "desk review queue clear")

    demo_queue.article.refresh_from_db()
    assert demo_queue.article.status == ArticleStatus.DRAFT
    feed_items = ImportedItem.objects.filter(source__slug="tidewater-notes")
    assert sorted(item.article.display_status for item in feed_items.select_related("article")) == [
        "Published",
        "Scheduled",
        "Withdrawn",
    ]
    watch.assert_quiet()


def desk_screens(demo_queue) -> dict[str, str]:
    return {
        "desk": "/admin/",
        "review queue": f"{QUEUE}?queue=review",
        "review screen": f"{QUEUE}{demo_queue.pk}/review/",
        "article form": f"/admin/articles/article/{demo_queue.article_id}/change/",
        "feeds": "/admin/syndication/feed/",
    }


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize(
    "screen", ["desk", "review queue", "review screen", "article form", "feeds"]
)
def test_desk_screens_have_no_serious_accessibility_violation(open_page, demo_queue, screen, width):
    page, watch = open_page(viewport=WIDTHS[width])
    log_in(page)
    page.goto(desk_screens(demo_queue)[screen])
    page.wait_for_load_state("networkidle")
    screenshot(page, f"axe {screen} {width}")

    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"the page is {overflow}px wider than the window"
    violations = axe_violations(page)
    assert violations == [], "\n".join(
        f"{v['impact']}: {v['id']} ({v['help']}) at {v['targets']}" for v in violations
    )
    watch.assert_quiet()
