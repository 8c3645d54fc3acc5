"""`manage.py generate_articles`: a realistic benchmark archive, written in bulk."""

from collections import Counter
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from articles import filing
from articles.models import (
    Article,
    Author,
    Byline,
    Region,
    RightsRecord,
    SiteBlock,
    Source,
)
from articles.sanitize import clean_html
from articles.search.engine import (
    filed_rows_by_article,
    search_articles,
    search_names_for,
    searched_names,
)

pytestmark = pytest.mark.django_db

COUNT = 50


def generate(count=COUNT, **options):
    out = StringIO()
    call_command("generate_articles", count, stdout=out, stderr=StringIO(), **options)
    return out.getvalue()


def per_article(rows) -> Counter:
    return Counter(article_id for article_id in rows)


@pytest.fixture
def archive():
    report = generate(seed=1, batch=20)
    return report, list(Article.objects.all())


def test_creates_the_requested_number_of_live_articles(archive):
    report, articles = archive

    assert len(articles) == COUNT
    assert Article.objects.published().count() == COUNT
    assert f"Created {COUNT} published articles" in report


def test_reuses_a_fixed_cast_of_sources_with_rights_and_authors(archive):
    assert Source.objects.count() == 40
    assert RightsRecord.objects.count() == 40
    assert Author.objects.count() == 500
    assert all(source.rights_problem() is None for source in Source.objects.all())


def test_files_each_article_under_realistic_numbers_of_things(archive):
    _, articles = archive
    ids = [article.pk for article in articles]
    regions = per_article(Article.regions.through.objects.values_list("article_id", flat=True))
    themes = per_article(Article.themes.through.objects.values_list("article_id", flat=True))
    reports = per_article(Article.reports.through.objects.values_list("article_id", flat=True))
    bylines = per_article(Byline.objects.values_list("article_id", flat=True))

    for pk in ids:
        assert 1 <= regions[pk] <= 3
        assert 1 <= themes[pk] <= 3
        assert 0 <= reports[pk] <= 2
        assert 1 <= bylines[pk] <= 3
    for article in articles:
        assert 3 <= article.tags.count() <= 6


def test_regions_nest_so_a_continent_lists_many_articles(archive):
    continents = Region.objects.filter(parent__isnull=True, children__isnull=False).distinct()

    assert continents.count() == 6
    assert not Article.regions.through.objects.filter(region__in=continents).exists()


def test_bodies_are_sanitized_html_of_about_six_kilobytes(archive):
    _, articles = archive
    sizes = [len(article.body.encode()) for article in articles]

    assert 4500 <= sum(sizes) / len(sizes) <= 8000
    for article in articles:
        assert clean_html(article.body) == article.body
        assert article.body.startswith("<p>")


def test_dates_spread_over_years_and_originals_come_first(archive):
    _, articles = archive
    years = {article.published_at.year for article in articles}

    assert len(years) >= 4
    assert all(a.original_published_at < a.published_at for a in articles)


def test_search_names_are_what_search_itself_would_store(archive):
    _, articles = archive
    rows = filed_rows_by_article([article.pk for article in articles])

    for article in articles:
        expected = search_names_for(article.source.name, searched_names(rows[article.pk]))
        assert sorted(article.search_names.split(" · ")) == sorted(expected.split(" · "))


def test_the_filing_kept_on_each_row_is_what_the_app_would_keep(archive):
    _, articles = archive
    rows = filed_rows_by_article([article.pk for article in articles])

    assert any(article.filed_under.get("authors") for article in articles)
    for article in articles:
        assert article.filed_under == filing.snapshot(rows[article.pk])


def test_a_generated_article_can_be_found_by_its_title_word(archive):
    _, articles = archive
    word = articles[0].title.split()[0]

    assert articles[0] in search_articles(Article.objects.published(), word)


def test_running_again_adds_more_without_slug_collisions(archive):
    generate(seed=1, batch=20)

    slugs = list(Article.objects.values_list("slug", flat=True))
    assert len(slugs) == 2 * COUNT
    assert len(set(slugs)) == len(slugs)
    assert Source.objects.count() == 40
    assert SiteBlock.objects.count() == 5


def test_refuses_a_count_below_one():
    with pytest.raises(CommandError):
        generate(count=0)


def test_postgres_indexes_generated_articles_for_search(archive, postgres_only):
    _, articles = archive
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM articles_article WHERE search_vector IS NULL")
        (unindexed,) = cursor.fetchone()

    assert unindexed == 0
