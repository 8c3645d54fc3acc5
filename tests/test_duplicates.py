"""Possible duplicates: the same story imported under another source is linked to the article
that already tells it, for an editor to compare and decide (docs/duplicates.md)."""

import re
import unicodedata
from io import StringIO

import pytest
from datasketch import MinHash
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from articles import similarity
from articles.editorial.roles import EDITORS, IMPORTERS
from articles.models import (
    AlsoReportedBy,
    Article,
    ArticleStatus,
    ContentSignature,
    SimilarityKey,
)
from syndication.entry import import_document, import_url, import_wxr
from syndication.items import ParsedFeed, ParsedItem
from syndication.models import (
    DuplicateDecision,
    DuplicateKind,
    ImportedItem,
    PossibleDuplicate,
    RunKind,
)
from syndication.pipeline.runs import start_run
from syndication.pipeline.upstream import accept_upstream_changes
from tests.factories import LicensedSourceFactory, PublishedArticleFactory, make_user
from tests.feedbuilders import Entry, Post, rss, wxr
from tests.fixtures.duplicates.evaluate import evaluate, under_other_seeds
from tests.fixtures.duplicates.stories import VERSIONS, Version
from tests.httpserver import LocalServer

from .admin_helpers import PASSWORD, article_form_data, management_form

pytestmark = pytest.mark.django_db

ITEMS = "/admin/syndication/importeditem/"


def version(story: str, outlet: str) -> Version:
    return next(v for v in VERSIONS if v.story == story and v.outlet == outlet)


def parsed(v: Version, guid: str) -> ParsedItem:
    return ParsedItem(
        guid=guid,
        title=v.title,
        link=f"https://{guid}.example/story",
        content_html=v.body_html,
    )


def import_items(source, *items: ParsedItem, status=ArticleStatus.DRAFT):
    run = start_run(RunKind.FEED, source, fetched_from="memory")
    return import_document(
        source, ParsedFeed(format="rss", items=list(items)), run=run, status=status
    )


def import_version(v: Version, guid: str, source=None, **options):
    source = source or LicensedSourceFactory()
    run = import_items(source, parsed(v, guid), **options)
    return run, Article.objects.get(source=source, original_url=f"https://{guid}.example/story")


# ---------------------------------------------------------------------------------------------
# Signatures, on every import path


class TestSignatures:
    def test_a_feed_item_is_stored_with_its_signature_and_one_band_key_per_band(self):
        _run, article = import_version(version("ferry", "first outlet"), "ferry")

        stored = ContentSignature.objects.get(article=article)
        expected = similarity.signature(article.title, article.body)
        assert stored.text_hash == expected.text_hash
        assert bytes(stored.shingles) == expected.shingle_bytes()
        # one key per band, and one for the exact text
        assert SimilarityKey.objects.filter(article=article).count() == similarity.BANDS + 1

    def test_a_page_imported_from_its_url_gets_a_signature_and_is_matched(self, settings):
        settings.SYNDICATION_ALLOWED_HOSTS = ["127.0.0.1"]
        ferry = version("ferry", "first outlet")
        _run, first = import_version(ferry, "ferry")
        page = (
            f"<!doctype html><html lang='en'><head><title>{ferry.title}</title></head><body>"
            f"<article><h1>{ferry.title}</h1>{ferry.body_html}</article></body></html>"
        ).encode()
        with LocalServer() as server:
            server.routes["/ferry"] = (200, {"Content-Type": "text/html; charset=utf-8"}, page)
            run = import_url(server.url("/ferry"), LicensedSourceFactory())

        copy = run.items.get().article
        assert ContentSignature.objects.filter(article=copy).exists()
        assert run.possible_duplicates == 1
        assert PossibleDuplicate.objects.get().duplicate_of == first

    def test_a_wordpress_post_gets_a_signature_and_is_matched(self, tmp_path):
        budget = version("budget", "first outlet")
        _run, first = import_version(budget, "budget")
        path = tmp_path / "export.xml"
        path.write_bytes(wxr([Post(1, budget.title, content="\n\n".join(budget.paragraphs))]))

        run = import_wxr(path, LicensedSourceFactory(), download_images=False)

        assert run.created == 1 and run.possible_duplicates == 1
        link = PossibleDuplicate.objects.get()
        assert (link.duplicate_of, link.kind) == (first, DuplicateKind.EXACT)

    def test_an_article_written_in_the_admin_gets_a_signature_that_imports_match(self, client):
        make_user("desk", groups=(EDITORS,))
        client.login(username="desk", password=PASSWORD)
        bridge = version("bridge", "first outlet")
        source = LicensedSourceFactory()
        data = article_form_data(title=bridge.title, body=bridge.body_html, source=source.pk)
        data.update(management_form("block_overrides"), **management_form("bylines"))

        response = client.post(reverse("admin:articles_article_add"), data)

        assert response.status_code == 302, response.content.decode()[:2000]
        written = Article.objects.get(source=source)
        assert ContentSignature.objects.filter(article=written).exists()
        run, _copy = import_version(version("bridge", "extending outlet"), "bridge")
        assert run.possible_duplicates == 1
        assert PossibleDuplicate.objects.get().duplicate_of == written

    def test_an_accepted_upstream_change_refreshes_the_signature(self):
        source = LicensedSourceFactory()
        first, edited = version("heat", "first outlet"), version("heat", "extending outlet")
        import_items(source, parsed(first, "heat"))
        import_items(source, parsed(edited, "heat"))  # same guid: flagged, not applied
        record = ImportedItem.objects.get()

        assert accept_upstream_changes(record)

        refreshed = similarity.signature(*_title_body(edited))
        assert ContentSignature.objects.get(article=record.article).text_hash == (
            refreshed.text_hash
        )
        assert set(
            SimilarityKey.objects.filter(article=record.article).values_list("key", flat=True)
        ) == set(refreshed.lookup_keys)

    def test_a_text_with_no_words_has_no_signature_and_matches_nothing(self):
        assert similarity.signature("", "<p> … </p>") is None

    def test_signatures_are_stable_across_processes_and_time(self):
        """Stored signatures stay comparable: the seed, scheme and hashes are fixed."""
        first = similarity.signature("A title", "<p>Some words of a body text here.</p>")
        again = similarity.signature("A title", "<p>Some words of a body text here.</p>")
        assert first.band_keys == again.band_keys
        assert first.minhash_bytes() == again.minhash_bytes()

    def test_a_known_text_keeps_the_signature_it_was_stored_with(self):
        """Figures worked out in December 2026: a change that alters them makes every stored
        signature incomparable with new ones (docs/duplicates.md says what that needs)."""
        signature = similarity.signature(
            "Ferry suspended after hull corrosion found",
            "<p>The island ferry will stop running from Monday after inspectors found corrosion "
            "in the hull.</p><p>Shopkeepers on the island said the news came as a blow.</p>",
        )

        assert len(signature.shingles) == 28
        assert signature.shingles[:4].tolist() == [291505196, 367552612, 417895067, 752877627]
        assert signature.hashvalues[:4].tolist() == [37071798, 373145161, 50627510, 50919998]
        assert signature.lookup_keys[:2] == [-7454185330825969852, -9084907502682382858]
        assert signature.lookup_keys[-1] == 4249231624679415340  # the exact text's

    @pytest.mark.parametrize(
        "text",
        [
            "Mayor's plan: 3,000 homes_by 2030 -- or not?",
            "Tabs\tand\nnew lines\x0bvertical\x0cform feed\r",
            "UPPER lower MiXeD_case 42nd",
            "",
            "  ...  ",
        ],
    )
    def test_an_ascii_text_has_the_words_the_unicode_rule_gives(self, text):
        """ASCII texts take a shortcut (`similarity.words`); it must cut and fold exactly as
        the rule for any text does, or their signatures would change."""
        by_rule = re.findall(r"\w+", unicodedata.normalize("NFKC", text).casefold())

        assert similarity.words(text) == [word.encode() for word in by_rule]

    def test_other_texts_are_normalised_and_case_folded(self):
        assert similarity.words("Straße ﬁnal ÉTÉ ①") == [
            b"strasse",
            b"final",
            "été".encode(),
            b"1",
        ]

    def test_the_minhash_is_the_first_half_of_the_one_signatures_had_before(self):
        """Signatures stored before December 2026 hold a MinHash of 128 permutations; their
        first 64 values, the ones the bands are made from, are what is computed now, so the
        keys stored then find the texts signed now."""
        signature = similarity.signature(*_title_body(version("ferry", "first outlet")))
        before = MinHash(num_perm=128, seed=similarity.SEED, scheme=similarity.SCHEME, hashfunc=int)
        before.update_batch(signature.shingles.tolist())

        assert len(signature.hashvalues) == similarity.NUM_PERM == 64
        assert signature.hashvalues.tolist() == before.hashvalues[:64].tolist()
        assert signature.band_keys == similarity.band_keys(before.hashvalues)

    def test_deleting_an_article_deletes_its_lookup_keys(self):
        _run, article = import_version(version("ferry", "first outlet"), "ferry")
        _run, other = import_version(version("heat", "first outlet"), "heat")

        article.delete()
        Article.objects.filter(pk=other.pk).delete()

        assert not SimilarityKey.objects.exists()
        assert not ContentSignature.objects.exists()


# ---------------------------------------------------------------------------------------------
# Linking


class TestLinking:
    def test_a_rewrite_under_another_source_is_linked_to_the_earlier_article(self):
        _run, original = import_version(version("museum", "first outlet"), "museum")

        run, rewrite = import_version(version("museum", "shortening outlet"), "museum-short")

        link = PossibleDuplicate.objects.get()
        assert (link.article, link.duplicate_of) == (rewrite, original)
        assert link.kind == DuplicateKind.NEAR
        assert link.similarity >= similarity.THRESHOLD
        assert link.decision == DuplicateDecision.UNDECIDED
        assert (run.created, run.possible_duplicates) == (1, 1)

    def test_an_exact_copy_under_another_source_is_caught_as_exact(self):
        heat = version("heat", "first outlet")
        _run, original = import_version(heat, "heat")

        run, copy = import_version(heat, "heat-copy")

        assert Article.objects.count() == 2  # imported, and no longer silently
        link = PossibleDuplicate.objects.get(article=copy)
        assert (link.duplicate_of, link.kind, link.similarity) == (original, "exact", 1.0)
        assert run.possible_duplicates == 1

    def test_a_different_story_on_the_same_topic_is_not_linked(self):
        import_version(version("factory", "first outlet"), "factory")

        run, _other = import_version(version("factory-strike", "other outlet"), "strike")

        assert run.possible_duplicates == 0
        assert not PossibleDuplicate.objects.exists()

    @pytest.mark.parametrize("status", [ArticleStatus.PUBLISHED, ArticleStatus.WITHDRAWN])
    def test_an_earlier_article_of_any_status_is_matched(self, status):
        _run, original = import_version(
            version("vaccine", "first outlet"), "vaccine", status=ArticleStatus.PUBLISHED
        )
        if status == ArticleStatus.WITHDRAWN:
            original.withdraw("Withdrawn before the rewrite came in.")

        import_version(version("vaccine", "editing outlet"), "vaccine-edited")

        assert PossibleDuplicate.objects.get().duplicate_of == original

    def test_the_same_source_republishing_under_a_new_guid_is_linked_too(self):
        source = LicensedSourceFactory()
        _run, original = import_version(version("football", "first outlet"), "rovers", source)

        import_version(version("football", "extending outlet"), "rovers-update", source)

        assert PossibleDuplicate.objects.get().duplicate_of == original

    def test_candidates_come_from_one_indexed_query_however_big_the_archive(self):
        for number in range(30):
            import_version(version("bridge-second", "other outlet"), f"filler-{number}")
        signature = similarity.signature(*_title_body(version("bridge", "first outlet")))

        with CaptureQueriesContext(connection) as queries:
            ContentSignature.objects.candidates(signature)

        assert len(queries) == 1
        assert SimilarityKey._meta.db_table in queries[0]["sql"]

    def test_a_large_import_asks_for_keys_a_thousand_at_a_time_and_still_links_across(self):
        from articles.models import LOOKUP_ARTICLES

        def body(number: int) -> str:
            return "<p>" + " ".join(f"word{number}n{index}" for index in range(60)) + "</p>"

        items = [
            ParsedItem(
                guid=f"g{n}", title=f"Item {n}", link=f"https://g{n}.example/", content_html=body(n)
            )
            for n in range(2 * LOOKUP_ARTICLES + 5)
        ]
        items[-1] = ParsedItem(  # the same text as the first, far from it in the chunk
            guid="copy", title="Copy", link="https://copy.example/", content_html=body(0)
        )

        with CaptureQueriesContext(connection) as queries:
            run = import_items(LicensedSourceFactory(), *items)
        lookups = [
            q["sql"]
            for q in queries
            if q["sql"].startswith("SELECT") and SimilarityKey._meta.db_table in q["sql"]
        ]

        # About a thousand keys a query (LOOKUP_ARTICLES articles' keys): PostgreSQL probes the
        # index for them instead of reading the whole key table, as it does for thousands.
        assert len(lookups) == 3
        # The copy is linked to the first item, in another batch of keys: one pair, one link,
        # one possible duplicate in the run's count.
        first = Article.objects.get(original_url="https://g0.example/")
        copy = Article.objects.get(original_url="https://copy.example/")
        assert run.possible_duplicates == 1
        assert list(PossibleDuplicate.objects.values_list("article", "duplicate_of")) == [
            (copy.pk, first.pk)
        ]

    def test_a_rerun_of_the_same_import_creates_no_second_link(self):
        _run, original = import_version(version("heat", "first outlet"), "heat")
        source = LicensedSourceFactory()
        item = parsed(version("heat", "extending outlet"), "heat-long")
        import_items(source, item)

        again = import_items(source, item)

        assert (again.unchanged, again.possible_duplicates) == (1, 0)
        assert PossibleDuplicate.objects.count() == 1


def _title_body(v: Version) -> tuple[str, str]:
    return v.title, v.body_html


# ---------------------------------------------------------------------------------------------
# Decisions


@pytest.fixture
def linked_pair():
    source = LicensedSourceFactory(name="Island Gazette", homepage="https://gazette.example/")
    _run, original = import_version(
        version("ferry", "first outlet"), "ferry", source, status=ArticleStatus.PUBLISHED
    )
    _run, later = import_version(
        version("ferry", "extending outlet"), "ferry-long", status=ArticleStatus.REVIEW
    )
    return PossibleDuplicate.objects.get(), original, later


class TestDecisions:
    def test_keep_both_records_the_decision_and_changes_no_article(self, linked_pair):
        link, original, later = linked_pair
        editor = make_user("desk", groups=(EDITORS,))

        link.keep_both(editor)

        link.refresh_from_db()
        assert (link.decision, link.decided_by) == (DuplicateDecision.KEEP_BOTH, editor)
        assert link.decided_at is not None
        statuses = Article.objects.filter(pk__in=[original.pk, later.pk]).values_list(
            "status", flat=True
        )
        assert sorted(statuses) == [ArticleStatus.PUBLISHED, ArticleStatus.REVIEW]

    def test_discard_withdraws_the_later_article_as_the_review_queue_rejects(self, linked_pair):
        link, original, later = linked_pair

        link.discard(make_user("desk", groups=(EDITORS,)))

        later.refresh_from_db()
        assert later.status == ArticleStatus.WITHDRAWN
        assert "duplicate" in later.withdrawal_reason
        original.refresh_from_db()
        assert original.status == ArticleStatus.PUBLISHED

    def test_keeping_the_earlier_credits_the_later_source_on_its_public_page(
        self, linked_pair, client, django_capture_on_commit_callbacks
    ):
        link, original, later = linked_pair
        client.get(original.get_absolute_url())  # cached before the decision

        with django_capture_on_commit_callbacks(execute=True):
            link.keep_one(make_user("desk", groups=(EDITORS,)), original)

        later.refresh_from_db()
        assert later.status == ArticleStatus.WITHDRAWN
        credit = AlsoReportedBy.objects.get(article=original)
        assert (credit.source, credit.original_url) == (later.source, later.original_url)
        page = client.get(original.get_absolute_url()).content.decode()
        attribution = page[page.index('data-block="attribution"') :]
        assert re.search(
            rf'Also reported by <a href="{re.escape(later.original_url)}" rel="noopener">'
            rf"{re.escape(later.source.name)}</a>",
            attribution,
        )

    def test_keeping_the_later_withdraws_the_earlier_and_credits_its_source(self, linked_pair):
        link, original, later = linked_pair

        link.keep_one(make_user("desk", groups=(EDITORS,)), later)

        original.refresh_from_db()
        assert original.status == ArticleStatus.WITHDRAWN
        assert AlsoReportedBy.objects.get(article=later).source == original.source

    def test_only_one_of_the_two_articles_can_be_kept(self, linked_pair):
        link, _original, _later = linked_pair
        with pytest.raises(ValueError):
            link.keep_one(None, PublishedArticleFactory())


# ---------------------------------------------------------------------------------------------
# The admin


def log_in(client, username, **extra):
    make_user(username, **extra)
    assert client.login(username=username, password=PASSWORD)
    return client


class TestAdmin:
    def test_the_review_list_filters_and_links_items_with_possible_duplicates(
        self, linked_pair, client, django_assert_max_num_queries
    ):
        link, original, later = linked_pair
        log_in(client, "desk", groups=(EDITORS,))
        for number in range(5):
            import_version(
                version("heat", "first outlet"), f"heat-{number}", status=ArticleStatus.REVIEW
            )

        with django_assert_max_num_queries(12):
            response = client.get(ITEMS, {"duplicates": "undecided"})

        page = response.content.decode()
        assert response.status_code == 200
        # the later ferry and four exact copies of the heat story: the first one has no earlier
        assert page.count('class="field-possible_duplicate"><a href=') == 5
        assert reverse("admin:syndication_possibleduplicate_compare", args=[link.pk]) in page
        assert "possible duplicates" in page  # the filter's title

    def test_the_list_costs_the_same_queries_for_few_or_many_items(self, client, linked_pair):
        log_in(client, "desk", groups=(EDITORS,))
        with CaptureQueriesContext(connection) as few:
            client.get(ITEMS)
        for number in range(6):
            import_version(
                version("museum", "first outlet"), f"museum-{number}", status=ArticleStatus.REVIEW
            )
        with CaptureQueriesContext(connection) as many:
            client.get(ITEMS)
        assert len(few) == len(many)

    def test_the_comparison_shows_both_articles_side_by_side_with_the_decisions(
        self, linked_pair, client, django_assert_max_num_queries
    ):
        link, original, later = linked_pair
        log_in(client, "desk", groups=(EDITORS,))

        with django_assert_max_num_queries(8):
            response = client.get(link.get_absolute_url())

        page = response.content.decode()
        pair = page[page.index('id="duplicate-pair"') :]
        assert pair.index(later.title) < pair.index(original.title)
        assert "Calder Sound" in pair and "Shopkeepers on the island" in pair
        assert 'name="csrfmiddlewaretoken"' in page
        for decision in ("keep-both", "discard", "keep-earlier", "keep-later"):
            assert f'value="{decision}"' in page

    def test_the_item_page_links_to_the_comparison(self, linked_pair, client):
        link, _original, later = linked_pair
        log_in(client, "desk", groups=(EDITORS,))

        response = client.get(
            reverse("admin:syndication_importeditem_change", args=[later.imported_item.pk])
        )

        assert link.get_absolute_url() in response.content.decode()

    def test_a_decision_is_posted_with_its_csrf_token(self, linked_pair, client):
        link, original, later = linked_pair
        log_in(client, "desk", groups=(EDITORS,))
        client.handler.enforce_csrf_checks = True
        decide = reverse("admin:syndication_possibleduplicate_decide", args=[link.pk])

        refused = client.post(decide, {"decision": "keep-earlier"})
        token = client.get(link.get_absolute_url()).context["csrf_token"]
        accepted = client.post(decide, {"decision": "keep-earlier", "csrfmiddlewaretoken": token})

        assert refused.status_code == 403
        assert accepted.status_code == 302 and accepted["Location"] == link.get_absolute_url()
        link.refresh_from_db()
        assert link.decision == DuplicateDecision.KEPT_ONE
        assert AlsoReportedBy.objects.filter(article=original, source=later.source).exists()

    def test_a_decision_needs_a_post_and_is_taken_once(self, linked_pair, client):
        link, _original, later = linked_pair
        log_in(client, "desk", groups=(EDITORS,))
        decide = reverse("admin:syndication_possibleduplicate_decide", args=[link.pk])

        assert client.get(decide).status_code == 405
        client.post(decide, {"decision": "keep-both"})
        client.post(decide, {"decision": "discard"})

        link.refresh_from_db()
        later.refresh_from_db()
        assert link.decision == DuplicateDecision.KEEP_BOTH
        assert later.status == ArticleStatus.REVIEW
        assert client.post(decide, {"decision": "merge"}).status_code == 400

    def test_an_importer_may_keep_both_but_not_withdraw(self, linked_pair, client):
        link, _original, later = linked_pair
        log_in(client, "ingest", groups=(IMPORTERS,))
        decide = reverse("admin:syndication_possibleduplicate_decide", args=[link.pk])

        page = client.get(link.get_absolute_url()).content.decode()
        refused = client.post(decide, {"decision": "discard"})

        assert 'value="discard"' not in page
        assert refused.status_code == 403
        later.refresh_from_db()
        assert later.status == ArticleStatus.REVIEW


# ---------------------------------------------------------------------------------------------
# Commands


def run_command(*args) -> str:
    out = StringIO()
    call_command(*args, stdout=out, stderr=StringIO())
    return out.getvalue()


def test_the_import_summary_counts_possible_duplicates(tmp_path):
    import_version(version("budget", "first outlet"), "budget")
    feed = tmp_path / "feed.xml"
    wire = [version("budget", "editing outlet"), version("heat", "first outlet")]
    entries = [
        Entry(guid=f"wire-{n}", title=v.title, link=f"https://wire.example/{n}",
              description=v.body_html)
        for n, v in enumerate(wire)
    ]  # fmt: skip
    feed.write_bytes(rss(entries, title="Wire"))

    output = run_command("import_feed", str(feed), "--source", "wire")

    header = next(line for line in output.splitlines() if line.startswith("run"))
    assert header.endswith("failed  possible duplicates")
    row = next(line for line in output.splitlines() if "feed.xml" in line)
    assert re.split(r"\s{2,}", row.strip())[-7:] == ["2", "0", "0", "0", "0", "0", "1"]


def test_compute_signatures_fills_in_articles_stored_before_signatures():
    older = [PublishedArticleFactory(body=v.body_html, title=v.title) for v in VERSIONS[:3]]
    ContentSignature.objects.all().delete()
    SimilarityKey.objects.all().delete()

    output = run_command("compute_signatures")

    assert ContentSignature.objects.filter(article__in=older).count() == 3
    assert SimilarityKey.objects.count() == 3 * (similarity.BANDS + 1)
    assert "Signatures computed for 3 of 3" in output
    assert "for 0 of 0" in run_command("compute_signatures")
    assert "for 3 of 3" in run_command("compute_signatures", "--all")
    assert SimilarityKey.objects.count() == 3 * (similarity.BANDS + 1)


# ---------------------------------------------------------------------------------------------
# The evaluation set (figures in docs/duplicates.md)


def test_the_evaluation_set_meets_the_precision_and_recall_targets():
    figures = evaluate()

    # Eight stories in five versions each: 8 x 10 pairs tell the same story.
    assert (figures["versions"], figures["duplicate pairs"]) == (56, 80)
    assert figures["precision"] >= 0.95
    assert figures["recall"] >= 0.90


def test_the_targets_do_not_owe_to_a_lucky_seed():
    for name, (lowest, _mean) in under_other_seeds(10).items():
        assert lowest >= {"precision": 0.95, "recall": 0.90}[name.split()[0]], name
