"""Search: the query language, the stored search document, matching, ranking, filters, snippets.

Behaviour common to both databases is asserted once; where they differ, the test says which
database it describes (`postgres_only`, or a check of `connection.vendor`).
"""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from articles.models import Article, ArticleStatus, Byline
from articles.search.engine import (
    HEADLINE_SOURCE_CHARACTERS,
    ParsedQuery,
    excerpt_around,
    mark_terms,
    parse_query,
    refresh_search_documents,
    search_documents_refreshed_once,
)
from tests.factories import (
    ArticleFactory,
    AuthorFactory,
    PublishedArticleFactory,
    RegionFactory,
    ReportFactory,
    SourceFactory,
    ThemeFactory,
)

pytestmark = pytest.mark.django_db


def days_ago(days: float) -> datetime.datetime:
    return timezone.now() - datetime.timedelta(days=days)


def search(client, **params):
    response = client.get("/search/", params)
    assert response.status_code == 200
    return response


def found_titles(response) -> list[str]:
    return [article.title for article in response.context_data["articles"]]


# ---------------------------------------------------------------------------------------------
# The query language


class TestParseQuery:
    def test_words_must_all_match(self):
        assert parse_query("water rights") == ParsedQuery(groups=[["water"], ["rights"]])

    def test_quotes_keep_a_phrase_together(self):
        parsed = parse_query('"water  rights" dam')
        assert parsed.groups == [["water rights"], ["dam"]]

    def test_an_unclosed_quote_runs_to_the_end(self):
        assert parse_query('dam "water rights').groups == [["dam"], ["water rights"]]

    def test_or_joins_alternatives(self):
        assert parse_query("floods OR drought farms").groups == [["floods", "drought"], ["farms"]]

    def test_or_is_read_in_any_case_and_ignored_where_it_joins_nothing(self):
        assert parse_query("OR floods or drought").groups == [["floods", "drought"]]

    def test_minus_excludes_a_word_or_a_phrase(self):
        parsed = parse_query('elections -football -"world cup"')
        assert parsed.groups == [["elections"]]
        assert parsed.excluded == ["football", "world cup"]

    def test_punctuation_around_words_is_dropped_but_hyphenated_words_stay(self):
        assert parse_query("(covid-19), floods!").groups == [["covid-19"], ["floods"]]

    def test_nothing_to_look_for(self):
        assert not parse_query("  ")
        assert not parse_query("-only -exclusions")
        assert not parse_query('""')


class TestHighlighting:
    def test_marks_every_occurrence_case_insensitively(self):
        assert mark_terms("River and river", ["river"]) == (
            "<mark>River</mark> and <mark>river</mark>"
        )

    def test_escapes_everything_it_does_not_mark(self):
        marked = mark_terms('<img src=x onerror="alert(1)"> river', ["river"])
        assert marked == "&lt;img src=x onerror=&quot;alert(1)&quot;&gt; <mark>river</mark>"

    def test_a_term_that_looks_like_markup_is_escaped_inside_the_mark(self):
        assert mark_terms("a <b> c", ["<b>"]) == "a <mark>&lt;b&gt;</mark> c"

    def test_excerpt_is_cut_around_the_first_match(self):
        text = " ".join(f"word{n}" for n in range(200)) + " needle " + "tail " * 50
        excerpt = excerpt_around(text, ["needle"], length=120)
        assert "needle" in excerpt
        assert excerpt.startswith("… ") and excerpt.endswith(" …")
        assert len(excerpt) <= 124


# ---------------------------------------------------------------------------------------------
# The stored search document


class TestSearchNames:
    def test_a_new_article_is_filed_under_its_source(self):
        article = PublishedArticleFactory(source__name="Harbour Gazette")
        article.refresh_from_db()
        assert article.search_names == "Harbour Gazette"

    def test_bylines_regions_themes_reports_and_tags_are_added_as_they_change(self):
        article = PublishedArticleFactory(source__name="Harbour Gazette")
        Byline.objects.create(article=article, author=AuthorFactory(name="Ines Okafor"))
        article.regions.add(RegionFactory(name="Lowlands"))
        article.themes.add(ThemeFactory(name="Fisheries"))
        ReportFactory(title="Empty Nets").articles.add(article)  # from the other side
        article.tags.add("quotas")
        article.refresh_from_db()
        assert article.search_names == (
            "Harbour Gazette · Ines Okafor · Lowlands · Fisheries · Empty Nets · quotas"
        )

    def test_removing_and_clearing_relations_removes_the_names(self):
        article = PublishedArticleFactory(source__name="Gazette")
        region = RegionFactory(name="Lowlands")
        article.regions.add(region)
        article.tags.add("quotas")
        article.regions.remove(region)
        article.tags.clear()
        article.refresh_from_db()
        assert article.search_names == "Gazette"

    def test_clearing_from_the_subjects_side_updates_every_article(self):
        theme = ThemeFactory(name="Fisheries")
        first, second = PublishedArticleFactory.create_batch(2)
        theme.articles.add(first, second)
        theme.articles.clear()
        assert not Article.objects.filter(search_names__contains="Fisheries").exists()

    def test_renaming_or_deleting_a_subject_updates_its_articles_after_the_commit(
        self, django_capture_on_commit_callbacks
    ):
        article = PublishedArticleFactory()
        region = RegionFactory(name="Lowlands")
        article.regions.add(region)
        with django_capture_on_commit_callbacks(execute=True):
            region.name = "Low Countries"
            region.save()
            article.refresh_from_db()
            assert "Lowlands" in article.search_names  # not rewritten inside the request
        article.refresh_from_db()
        assert "Low Countries" in article.search_names
        assert "Lowlands" not in article.search_names
        with django_capture_on_commit_callbacks(execute=True):
            region.delete()
        article.refresh_from_db()
        assert "Low Countries" not in article.search_names

    def test_renaming_the_source_updates_its_articles_in_the_background(
        self, django_capture_on_commit_callbacks
    ):
        article = PublishedArticleFactory(source__name="Old Name")
        other = PublishedArticleFactory(source__name="Other")
        source = article.source
        with (
            django_capture_on_commit_callbacks() as callbacks,
            CaptureQueriesContext(connection) as queries,
        ):
            source.name = "New Name"
            source.save()
        assert not any("articles_article" in q["sql"] for q in queries if "UPDATE" in q["sql"])
        for callback in callbacks:  # among them, enqueuing articles.tasks.refresh_filed_under
            callback()
        article.refresh_from_db()
        other.refresh_from_db()
        assert article.search_names == "New Name"
        assert other.search_names == "Other"

    def test_saving_an_article_with_everything_it_is_filed_under_writes_the_names_once(self):
        article = PublishedArticleFactory(source__name="Harbour Gazette")
        region, theme = RegionFactory(name="Lowlands"), ThemeFactory(name="Fisheries")
        author = AuthorFactory(name="Ines")
        with CaptureQueriesContext(connection) as queries, search_documents_refreshed_once():
            article.title = "A new title"
            article.save()
            Byline.objects.create(article=article, author=author)
            article.regions.add(region)
            article.themes.add(theme)
            article.tags.add("quotas", "nets")
        updates = [q["sql"] for q in queries if q["sql"].startswith('UPDATE "articles_article"')]
        assert len(updates) == 2  # the save, then the names
        article.refresh_from_db()
        assert article.search_names == (
            "Harbour Gazette · Ines · Lowlands · Fisheries · nets · quotas"
        )

    def test_a_refresh_writes_only_the_articles_whose_names_changed(self):
        changed, unchanged = PublishedArticleFactory.create_batch(2)
        Article.objects.filter(pk=changed.pk).update(search_names="stale")
        assert refresh_search_documents([changed.pk, unchanged.pk]) == 1

    def test_bulk_refresh_for_rows_written_without_save(self):
        article = PublishedArticleFactory(source__name="Gazette")
        Article.objects.filter(pk=article.pk).update(search_names="")
        assert refresh_search_documents([article.pk]) == 1
        article.refresh_from_db()
        assert article.search_names == "Gazette"

    def test_postgresql_indexes_the_vector_with_gin_and_keeps_it_current(self, postgres_only):
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT indexdef FROM pg_indexes WHERE indexname = "
                "'articles_article_search_vector_gin'"
            )
            (definition,) = cursor.fetchone()
        assert "USING gin (search_vector)" in definition
        article = PublishedArticleFactory(title="Glaciers retreat")
        article.regions.add(RegionFactory(name="Patagonia"))
        vector = Article.objects.values_list("search_vector", flat=True).get(pk=article.pk)
        assert "'glacier':1A" in vector
        assert "'patagonia'" in vector
        Article.objects.filter(pk=article.pk).update(title="Deserts spread")
        vector = Article.objects.values_list("search_vector", flat=True).get(pk=article.pk)
        assert "'desert':1A" in vector and "glacier" not in vector

    def test_postgresql_rebuilds_the_vector_only_when_its_columns_change(self, postgres_only):
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_get_triggerdef(oid) FROM pg_trigger WHERE tgname = "
                "'articles_article_search_vector_change'"
            )
            (definition,) = cursor.fetchone()
        assert "WHEN (" in definition and "IS DISTINCT FROM" in definition
        for column in ("title", "dek", "body", "search_names"):
            assert f"old.{column}" in definition and f"new.{column}" in definition
        article = PublishedArticleFactory(title="Glaciers retreat")
        assert article.search_vector is None  # the object never read the stored vector back
        article.kicker = "Analysis"
        article.save()  # writes every column, search_vector (None) too
        vector = Article.objects.values_list("search_vector", flat=True).get(pk=article.pk)
        assert "'glacier':1A" in vector
        Article.objects.filter(pk=article.pk).update(search_vector=None)
        vector = Article.objects.values_list("search_vector", flat=True).get(pk=article.pk)
        assert "'glacier':1A" in vector  # the vector belongs to the text
        article.dek = "Ice fields shrink"
        article.save()
        vector = Article.objects.values_list("search_vector", flat=True).get(pk=article.pk)
        assert "'glacier':1A" in vector and "'ice':" in vector


# ---------------------------------------------------------------------------------------------
# Matching and ranking


class TestMatching:
    def test_every_word_must_be_present(self, client):
        PublishedArticleFactory(title="Drought hits farms", body="<p>Harvests fail.</p>")
        PublishedArticleFactory(title="Drought in the city", body="<p>Taps run dry.</p>")
        assert found_titles(search(client, q="drought farms")) == ["Drought hits farms"]

    def test_a_quoted_phrase_must_appear_as_written(self, client):
        PublishedArticleFactory(title="Water rights upheld", body="<p>A court ruling.</p>")
        PublishedArticleFactory(title="Rights of way", body="<p>The water was high.</p>")
        assert found_titles(search(client, q='"water rights"')) == ["Water rights upheld"]

    def test_or_offers_alternatives(self, client):
        PublishedArticleFactory(title="Floods in the north")
        PublishedArticleFactory(title="Drought in the south")
        PublishedArticleFactory(title="Budget debate")
        assert set(found_titles(search(client, q="floods OR drought"))) == {
            "Floods in the north",
            "Drought in the south",
        }

    def test_minus_leaves_a_word_out(self, client):
        PublishedArticleFactory(title="Election results", body="<p>Turnout was high.</p>")
        PublishedArticleFactory(title="Election of the football captain")
        assert found_titles(search(client, q="election -football")) == ["Election results"]

    def test_names_of_authors_and_taxonomy_are_searchable(self, client):
        article = PublishedArticleFactory(title="An interview")
        Byline.objects.create(article=article, author=AuthorFactory(name="Wanjiru Kamau"))
        PublishedArticleFactory(title="Another interview")
        assert found_titles(search(client, q="Kamau")) == ["An interview"]

    def test_a_title_hit_ranks_above_a_summary_hit_above_a_body_hit(self, client):
        PublishedArticleFactory(title="Farm report", body="<p>Mangroves hold the coast.</p>")
        PublishedArticleFactory(title="Coastal news", dek="Why mangroves matter")
        PublishedArticleFactory(
            title="Mangroves return", published_at=days_ago(400), body="<p>Slowly.</p>"
        )
        assert found_titles(search(client, q="mangroves")) == [
            "Mangroves return",
            "Coastal news",
            "Farm report",
        ]

    def test_among_equal_matches_the_newer_article_comes_first(self, client):
        PublishedArticleFactory(title="Solar subsidies cut", published_at=days_ago(90))
        PublishedArticleFactory(title="Solar subsidies cut again", published_at=days_ago(2))
        assert found_titles(search(client, q="solar subsidies")) == [
            "Solar subsidies cut again",
            "Solar subsidies cut",
        ]

    def test_postgresql_matches_word_forms(self, client, postgres_only):
        PublishedArticleFactory(title="The river burst its banks")
        assert found_titles(search(client, q="rivers bursting")) == ["The river burst its banks"]

    def test_sqlite_matches_substrings_without_word_forms(self, client):
        if connection.vendor == "postgresql":
            pytest.skip("describes the SQLite fallback")
        PublishedArticleFactory(title="The river burst its banks")
        assert found_titles(search(client, q="rive")) == ["The river burst its banks"]
        assert found_titles(search(client, q="rivers")) == []

    def test_only_live_articles_are_found(self, client):
        PublishedArticleFactory(title="Tidal energy live")
        ArticleFactory(title="Tidal energy draft")
        ArticleFactory(title="Tidal energy in review", status=ArticleStatus.REVIEW)
        PublishedArticleFactory(
            title="Tidal energy scheduled", published_at=timezone.now() + datetime.timedelta(days=1)
        )
        PublishedArticleFactory(title="Tidal energy withdrawn").withdraw("Retracted")
        assert found_titles(search(client, q="tidal energy")) == ["Tidal energy live"]

    def test_an_empty_query_lists_nothing_and_explains_the_syntax(self, client):
        PublishedArticleFactory(title="Anything")
        response = search(client, q="   ")
        assert not response.context_data["searched"]
        assert found_titles(response) == []
        assert "OR" in response.content.decode()


class TestThreeWaysToTheNewestMatches:
    """PostgreSQL finds the newest matches one of three ways (`PostgresSearch.ranked`): from
    the GIN index when few of the newest articles match; by reading articles newest first when
    many do; and by reading newest first for a while, then asking the index for the older
    matches, when the walk ends before it found enough. All three must find and rank the same
    articles; these tests force each one in turn."""

    WAYS = {
        "index": {"WALK_SHARE": 2.0},
        "walk": {"WALK_SHARE": 0.0, "SAMPLE_ROWS": 2},
        "walk, then index": {"WALK_SHARE": 0.0, "SAMPLE_ROWS": 1, "WALK_ROWS": 3},
    }

    @pytest.fixture
    def theme(self, settings):
        settings.PAGE_CACHE_SECONDS = 0  # every search below is really run, three times
        theme = ThemeFactory()
        placements = [
            ("Ferry fares rise", "", ""),
            ("Island news", "Ferry fares frozen", ""),
            ("Council notes", "", "<p>The night ferry fares stay.</p>"),
            ("Ferry at night", "", ""),
            ("Port budget", "", "<p>A ferry, then fares.</p>"),
            ("Harbour works", "", ""),
        ]
        for week, (title, dek, body) in enumerate(placements * 2):
            article = PublishedArticleFactory(
                title=f"{title} {week}", dek=dek, body=body, published_at=days_ago(week * 7 + 1)
            )
            if week % 2:
                article.themes.add(theme)
        return theme

    def found(self, client, monkeypatch, way: str, **params) -> list[str]:
        for name, value in self.WAYS[way].items():
            monkeypatch.setattr(f"articles.search.engine.{name}", value)
        with CaptureQueriesContext(connection) as queries:
            titles = found_titles(search(client, **params))
        # The sample is read the walk's way; a search that walks on reads more that way.
        walks = [query for query in queries if "candidate_vector @@" in query["sql"]]
        walked = len(walks) > 1
        assert walked == (way != "index"), "the search did not take the way the test forced"
        return titles

    def test_every_way_finds_and_ranks_the_same_articles(
        self, client, monkeypatch, theme, postgres_only
    ):
        for params in (
            {"q": "ferry"},
            {"q": "ferry fares"},
            {"q": '"ferry fares"'},
            {"q": "ferry -night"},
            {"q": "ferry OR harbour", "theme": theme.slug},
            {
                "q": "fares",
                "theme": theme.slug,
                "from": timezone.localdate() - datetime.timedelta(30),
            },
        ):
            by_index = self.found(client, monkeypatch, "index", **params)
            assert by_index, params
            for way in ("walk", "walk, then index"):
                assert self.found(client, monkeypatch, way, **params) == by_index, (way, params)

    def test_every_way_ranks_only_the_newest_matches(
        self, client, monkeypatch, theme, postgres_only
    ):
        monkeypatch.setattr("articles.search.engine.MAX_RANKED", 3)
        newest_three = {"Island news 1", "Ferry at night 3", "Island news 7"}
        for way in self.WAYS:
            titles = self.found(client, monkeypatch, way, q="ferry", theme=theme.slug)
            assert set(titles) == newest_three, way


# ---------------------------------------------------------------------------------------------
# Filters


class TestFilters:
    def test_region_includes_its_sub_regions(self, client):
        continent = RegionFactory(name="Africa")
        country = RegionFactory(name="Kenya", parent=continent)
        PublishedArticleFactory(title="Maize prices in Kenya").regions.add(country)
        PublishedArticleFactory(title="Maize prices in Peru")
        response = search(client, q="maize", region=continent.slug)
        assert found_titles(response) == ["Maize prices in Kenya"]

    def test_theme_report_source_and_author(self, client):
        theme, report, author = ThemeFactory(), ReportFactory(), AuthorFactory()
        source = SourceFactory()
        themed = PublishedArticleFactory(title="Cocoa one")
        themed.themes.add(theme)
        reported = PublishedArticleFactory(title="Cocoa two")
        reported.reports.add(report)
        PublishedArticleFactory(title="Cocoa three", source=source)
        bylined = PublishedArticleFactory(title="Cocoa four")
        Byline.objects.create(article=bylined, author=author)
        assert found_titles(search(client, q="cocoa", theme=theme.slug)) == ["Cocoa one"]
        assert found_titles(search(client, q="cocoa", report=report.slug)) == ["Cocoa two"]
        assert found_titles(search(client, q="cocoa", source=source.slug)) == ["Cocoa three"]
        response = search(client, q="cocoa", author=author.slug)
        assert found_titles(response) == ["Cocoa four"]
        assert f"by {author.name}" in response.content.decode()

    def test_date_range_is_inclusive_of_both_days(self, client, frozen_now):
        today = timezone.localdate()
        PublishedArticleFactory(title="Rates today", published_at=days_ago(0.00001))
        PublishedArticleFactory(title="Rates ten days ago", published_at=days_ago(10))
        PublishedArticleFactory(title="Rates a month ago", published_at=days_ago(30))
        start, end = today - datetime.timedelta(days=11), today - datetime.timedelta(days=9)
        response = search(client, q="rates", **{"from": start, "to": end})
        assert found_titles(response) == ["Rates ten days ago"]
        response = search(client, q="rates", **{"from": today})
        assert found_titles(response) == ["Rates today"]

    def test_filters_alone_list_articles_newest_first(self, client):
        theme = ThemeFactory()
        for days in (5, 1, 3):
            PublishedArticleFactory(title=f"{days} days", published_at=days_ago(days)).themes.add(
                theme
            )
        PublishedArticleFactory(title="Unthemed")
        response = search(client, theme=theme.slug)
        assert found_titles(response) == ["1 days", "3 days", "5 days"]

    def test_an_invalid_filter_is_reported_and_ignored(self, client):
        PublishedArticleFactory(title="Wheat harvest")
        response = search(client, q="wheat", region="nowhere", **{"from": "yesterday"})
        assert found_titles(response) == ["Wheat harvest"]
        assert response.context_data["form"].errors.keys() == {"region", "from"}

    def test_filter_menus_keep_the_choice_and_escape_names(self, client):
        RegionFactory(name="Rivers & <Deltas>", slug="rivers-deltas")
        html = search(client, q="delta", region="rivers-deltas").content.decode()
        menu = html.split('name="region"')[1].split("</select>")[0]
        assert '<option value="rivers-deltas" selected>Rivers &amp; &lt;Deltas&gt;</option>' in menu
        assert '<option value="">Any</option>' in menu

    def test_an_invalid_filter_names_its_message_for_assistive_technology(self, client):
        html = search(client, q="x", region="nowhere").content.decode()
        assert 'aria-invalid="true"' in html
        assert 'aria-describedby="id_region_error"' in html
        assert 'id="id_region_error"' in html

    def test_an_end_before_the_start_is_an_error(self, client):
        response = search(client, q="x", **{"from": "2024-05-02", "to": "2024-05-01"})
        assert "to" in response.context_data["form"].errors


# ---------------------------------------------------------------------------------------------
# Results page


class TestResultsPage:
    def test_matches_are_marked_in_title_and_snippet(self, client):
        PublishedArticleFactory(
            title="Coral reefs bleach",
            body="<p>Scientists counted <em>reefs</em> along the whole coast this year.</p>",
        )
        html = search(client, q="reefs").content.decode()
        assert "<mark>reefs</mark>" in html
        snippet = html.split('class="search-result__snippet">')[1].split("</p>")[0]
        assert "<mark>reefs</mark>" in snippet
        assert "<em>" not in snippet

    def test_a_match_outside_the_body_shows_the_summary_instead_of_a_snippet(self, client):
        PublishedArticleFactory(
            title="Harbour dredging",
            dek="The port deepens its channel.",
            body="<p>Work starts in May.</p>",
        )
        html = search(client, q="dredging").content.decode()
        assert '<p class="card__dek">The port deepens its channel.</p>' in html
        assert "search-result__snippet" not in html

    def test_without_a_summary_the_opening_of_the_body_stands_in(self, client):
        PublishedArticleFactory(title="Harbour dredging", dek="", body="<p>Work starts in May.</p>")
        html = search(client, q="dredging").content.decode()
        snippet = html.split('class="search-result__snippet">')[1].split("</p>")[0]
        assert snippet == "Work starts in May."

    def test_postgresql_looks_for_a_snippet_near_the_start_of_the_body(self, client, postgres_only):
        paragraph = "<p>Nothing to report this week.</p>"
        filler = paragraph * (HEADLINE_SOURCE_CHARACTERS // len(paragraph) + 1)
        PublishedArticleFactory(
            title="Weekly notes", dek="A quiet week.", body=f"{filler}<p>Dredging begins.</p>"
        )
        html = search(client, q="dredging").content.decode()
        assert "Weekly notes" in html
        assert '<p class="card__dek">A quiet week.</p>' in html
        assert "search-result__snippet" not in html

    def test_hostile_text_is_escaped_in_titles_and_snippets(self, client):
        PublishedArticleFactory(
            title='Bridge <img src=x onerror="alert(1)"> repaired',
            body="<p>Bridge notes: &lt;script&gt;alert(2)&lt;/script&gt; were found.</p>",
        )
        html = search(client, q="bridge").content.decode()
        assert "<img src=x" not in html
        assert "<script>alert(2)" not in html
        assert "&lt;script&gt;alert(2)" in html
        assert "<mark>Bridge</mark>" in html

    def test_pages_keep_the_query_and_filters(self, client, settings):
        settings.ARTICLES_PER_PAGE = 2
        theme = ThemeFactory()
        for number in range(5):
            PublishedArticleFactory(title=f"Ferry timetable {number}").themes.add(theme)
        response = search(client, q="ferry", theme=theme.slug, page=2)
        assert response.context_data["page_obj"].number == 2
        assert len(found_titles(response)) == 2
        html = response.content.decode()
        assert "q=ferry" in html and f"theme={theme.slug}" in html and "page=3" in html

    def test_ranking_stops_at_a_bound_and_the_page_says_so(self, client, monkeypatch):
        monkeypatch.setattr("articles.search.engine.MAX_RANKED", 3)
        for days in range(5):
            PublishedArticleFactory(title=f"Tariff news {days}", published_at=days_ago(days + 1))
        response = search(client, q="tariff")
        assert response.context_data["page_obj"].paginator.count == 3
        assert "Over 3 articles match" in response.content.decode()
        if connection.vendor == "postgresql":  # the newest matches are the ones ranked
            assert set(found_titles(response)) == {
                "Tariff news 0",
                "Tariff news 1",
                "Tariff news 2",
            }

    def test_results_pages_ask_not_to_be_indexed(self, client):
        assert (
            '<meta name="robots" content="noindex, follow">'
            in search(client, q="x").content.decode()
        )

    def test_query_count_does_not_grow_with_the_results(self, client, settings):
        settings.PAGE_CACHE_SECONDS = 0  # count the search's own queries, not a cache hit

        def queries_for_search():
            search(client, q="lagoon")  # warm the navigation and filter caches
            with CaptureQueriesContext(connection) as queries:
                search(client, q="lagoon")
            return len(queries)

        def add_results(count):
            for _ in range(count):
                article = PublishedArticleFactory(title="Lagoon study")
                Byline.objects.create(article=article, author=AuthorFactory())
                article.regions.add(RegionFactory())
                article.themes.add(ThemeFactory())

        add_results(2)
        few = queries_for_search()
        add_results(12)
        assert queries_for_search() == few
        # The ranking (one query for words this rare), the page's rows with their highlighted
        # titles and snippets (a row keeps its bylines).
        assert 0 < few <= 2


# ---------------------------------------------------------------------------------------------
# A freshly loaded archive


@pytest.mark.postgres
class TestAFreshlyLoadedArchive:
    """30,000 articles inserted in bulk and never analysed, searched with parallel plans.

    The planner knows nothing true about these rows (autovacuum cannot see them either: they
    are never committed) and is pushed to plan in parallel wherever it can. Search must not
    care how PostgreSQL plans: every query answers 200 with the right articles.
    """

    COUNT = 30_000

    @staticmethod
    def title(number: int) -> str:
        words = ["Harbour report", str(number)]
        if number % 3 == 0:
            words.append("tide tables")
        if number % 1000 == 7:
            words.append("kelp forests")
        if number % 3000 == 11:
            words.append("krill counts")
        if number % 500 == 3:
            words.append("storm surge")
        if number % 500 == 4:
            words.append("surge of a storm")
        return " ".join(words)

    @pytest.fixture
    def archive(self, postgres_only, settings):
        settings.PAGE_CACHE_SECONDS = 0
        source = SourceFactory(name="Bulk Wire")
        start = timezone.now() - datetime.timedelta(days=1)
        Article.objects.bulk_create(
            (
                Article(
                    title=self.title(number),
                    slug=f"bulk-{number}",
                    body=f"<p>Item {number} of the archive.</p>",
                    source=source,
                    search_names=source.name,
                    status=ArticleStatus.PUBLISHED,
                    published_at=start - datetime.timedelta(minutes=number),
                )
                for number in range(self.COUNT)
            ),
            batch_size=2000,
        )
        # Parallel plans wherever PostgreSQL can make one, and a Gather on top of every plan
        # that may run in parallel (the setting's name since PostgreSQL 16, then before).
        settings_ = [
            "max_parallel_workers_per_gather = 4",
            "parallel_setup_cost = 0",
            "parallel_tuple_cost = 0",
            "min_parallel_table_scan_size = 0",
            "min_parallel_index_scan_size = 0",
            "debug_parallel_query = on"
            if connection.pg_version >= 160000
            else "force_parallel_mode = on",
        ]
        with connection.cursor() as cursor:
            for setting in settings_:
                cursor.execute(f"SET LOCAL {setting}")
            cursor.execute("EXPLAIN SELECT count(*) FROM articles_article WHERE id > 0")
            plan = " ".join(row[0] for row in cursor.fetchall())
        assert "Gather" in plan, "the test meant to run under parallel plans"

    def matching(self, condition) -> set[str]:
        return {self.title(number) for number in range(self.COUNT) if condition(number)}

    @staticmethod
    def every_title(client, q) -> tuple[int, set[str]]:
        response = search(client, q=q)
        paginator = response.context_data["page_obj"].paginator
        titles = set()
        for number in paginator.page_range:
            titles |= set(found_titles(search(client, q=q, page=number)))
        return paginator.count, titles

    def test_search_answers_every_kind_of_query_with_the_right_articles(self, client, archive):
        # A word in every article: the newest thousand are ranked, the newest first.
        response = search(client, q="harbour")
        assert response.context_data["capped"]
        assert response.context_data["page_obj"].paginator.count == 1000
        assert found_titles(response) == [self.title(number) for number in range(20)]
        # A common word less an uncommon one.
        response = search(client, q="tide -kelp")
        assert response.context_data["page_obj"].paginator.count == 1000
        newest = [n for n in range(self.COUNT) if n % 3 == 0 and n % 1000 != 7][:20]
        assert found_titles(response) == [self.title(number) for number in newest]
        # Rare words, alternatives, a phrase (and not its words in another order), exclusions.
        kelp = self.matching(lambda n: n % 1000 == 7)
        krill = self.matching(lambda n: n % 3000 == 11)
        assert self.every_title(client, "kelp") == (30, kelp)
        assert self.every_title(client, "kelp OR krill") == (40, kelp | krill)
        surge = self.matching(lambda n: n % 500 == 3)
        assert self.every_title(client, '"storm surge"') == (60, surge)
        kelp_without_tides = self.matching(lambda n: n % 1000 == 7 and n % 3)
        assert self.every_title(client, "kelp -tide") == (20, kelp_without_tides)
