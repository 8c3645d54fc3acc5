"""Two sources importing the same stories at the same moment still get them linked
(PostgreSQL, real threads and transactions)."""

import pytest

from articles.models import Article, ContentSignature
from syndication.entry import import_document
from syndication.items import ParsedFeed, ParsedItem
from syndication.models import PossibleDuplicate, RunKind
from syndication.pipeline.runs import start_run
from tests.factories import LicensedSourceFactory
from tests.fixtures.duplicates.stories import VERSIONS
from tests.test_import_concurrency import run_together

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]

STORIES = sorted({v.story for v in VERSIONS if v.outlet == "first outlet"})


def wire(outlet: str) -> ParsedFeed:
    """The eight stories as one outlet ran them, in the same order as every other outlet."""
    versions = {v.story: v for v in VERSIONS if v.outlet == outlet}
    return ParsedFeed(
        format="rss",
        items=[
            ParsedItem(
                guid=f"{outlet}-{story}",
                title=versions[story].title,
                link=f"https://{outlet.replace(' ', '-')}.example/{story}",
                content_html=versions[story].body_html,
            )
            for story in STORIES
        ],
    )


def test_the_same_stories_imported_from_two_sources_at_once_are_all_linked(postgres_only):
    outlets = iter(["first outlet", "editing outlet"])
    sources = {
        outlet: LicensedSourceFactory(name=outlet) for outlet in ("first outlet", "editing outlet")
    }

    def import_one_outlet():
        outlet = next(outlets)
        source = sources[outlet]
        run = start_run(RunKind.FEED, source, fetched_from="memory")
        return import_document(source, wire(outlet), run=run, fetched_from="memory")

    runs, errors = run_together(2, import_one_outlet)

    assert errors == []
    assert Article.objects.count() == 2 * len(STORIES)
    assert ContentSignature.objects.count() == 2 * len(STORIES)
    links = PossibleDuplicate.objects.select_related("article__source", "duplicate_of__source")
    pairs = {
        frozenset((link.article.original_url, link.duplicate_of.original_url)) for link in links
    }
    assert len(links) == len(pairs) == len(STORIES)
    for link in links:
        assert (
            link.article.original_url.rsplit("/", 1)[1]
            == link.duplicate_of.original_url.rsplit("/", 1)[1]
        )
        assert link.article.source != link.duplicate_of.source
        assert link.article.pk > link.duplicate_of.pk
    # Every story counted by the run that linked it (a story both runs saw counts in both).
    assert sum(run.possible_duplicates for run in runs) >= len(STORIES)
