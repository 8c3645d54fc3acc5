"""axe-core finds no serious or critical accessibility violation on the reader's main pages."""

import pytest

from .conftest import STORY_TITLE, axe_violations, screenshot

pytestmark = pytest.mark.django_db(transaction=True)


def page_paths(story) -> dict[str, str]:
    return {
        "home": "/",
        "article": story.article.get_absolute_url(),
        "listing": story.article.regions.get().get_absolute_url(),
        "search": "/search/?q=mangrove",
    }


@pytest.mark.parametrize("name", ["home", "article", "listing", "search"])
def test_page_has_no_serious_accessibility_violation(open_page, published_story, name):
    page, watch = open_page()
    page.goto(page_paths(published_story)[name])
    page.wait_for_load_state("networkidle")
    screenshot(page, f"axe {name}")
    if name in {"listing", "search"}:
        assert page.get_by_role("link", name=STORY_TITLE).count() >= 1
    violations = axe_violations(page)
    assert violations == [], "\n".join(
        f"{v['impact']}: {v['id']} ({v['help']}) at {v['targets']}" for v in violations
    )
    watch.assert_quiet()
