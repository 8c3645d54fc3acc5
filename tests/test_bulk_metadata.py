"""Bulk metadata: sources with their rights, and taxonomy for many articles, from CSV or JSON.

A dry run shows what would change; applying is all or nothing; the export reads back.
"""

import datetime
import io
import json

import pytest
from django.core.management import CommandError, call_command

from articles.editorial.bulk import (
    MAX_BULK_BYTES,
    BulkError,
    apply_plan,
    articles_for_export,
    as_csv,
    as_json,
    export_articles,
    export_sources,
    plan_metadata,
    sources_for_export,
)
from articles.models import RightsBasis, RightsRecord, Source
from tests.factories import (
    ArticleFactory,
    LicensedSourceFactory,
    RegionFactory,
    ReportFactory,
    SourceFactory,
    ThemeFactory,
)

pytestmark = pytest.mark.django_db


def csv_bytes(*lines: str) -> bytes:
    return ("\n".join(lines) + "\n").encode()


@pytest.fixture
def taxonomy():
    return {
        "north": RegionFactory(name="North", slug="north"),
        "south": RegionFactory(name="South", slug="south"),
        "water": ThemeFactory(name="Water", slug="water"),
        "floods": ReportFactory(title="Floods", slug="floods"),
    }


def state(article) -> dict:
    article.refresh_from_db()
    return {
        "regions": sorted(article.regions.values_list("slug", flat=True)),
        "themes": sorted(article.themes.values_list("slug", flat=True)),
        "reports": sorted(article.reports.values_list("slug", flat=True)),
        "tags": sorted(article.tags.names()),
    }


# --- Article taxonomy ------------------------------------------------------------------------


def test_a_dry_run_shows_each_change_and_writes_nothing(taxonomy):
    first = ArticleFactory(slug="first")
    first.regions.add(taxonomy["north"])
    second = ArticleFactory(slug="second")
    data = csv_bytes(
        "article,mode,regions,themes,tags",
        "first,set,south,water,Drought|Rivers",
        f"{second.pk},add,north,,",
    )

    plan = plan_metadata(data, "taxonomy.csv")

    assert plan.errors == []
    assert [(c.label, c.target, c.changes) for c in plan.changes] == [
        (
            "row 2",
            f"article {first.pk} (first)",
            ["regions: north → south", "themes: — → water", "tags: — → Drought, Rivers"],
        ),
        ("row 3", f"article {second.pk} (second)", ["regions: — → north"]),
    ]
    assert state(first)["regions"] == ["north"]
    assert state(second)["regions"] == []


def test_applying_sets_or_adds_and_leaves_absent_columns_alone(taxonomy):
    article = ArticleFactory(slug="story")
    article.themes.add(taxonomy["water"])
    article.tags.add("Old")
    data = csv_bytes("article,mode,regions,reports,tags", "story,add,north|south,floods,New")

    assert apply_plan(plan_metadata(data)) == 1

    assert state(article) == {
        "regions": ["north", "south"],
        "themes": ["water"],
        "reports": ["floods"],
        "tags": ["New", "Old"],
    }


def test_set_with_an_empty_cell_clears_the_list(taxonomy):
    article = ArticleFactory(slug="story")
    article.regions.add(taxonomy["north"])

    apply_plan(plan_metadata(csv_bytes("article,regions", "story,")))

    assert state(article)["regions"] == []


def test_any_invalid_row_applies_nothing_and_every_problem_is_listed(taxonomy):
    good = ArticleFactory(slug="good")
    data = csv_bytes(
        "article,mode,regions,themes",
        "good,set,north,water",
        "missing,set,north,",
        "good,set,south,",
        f"{ArticleFactory().pk},replace,north,",
        f"{ArticleFactory().pk},set,atlantis,",
    )

    plan = plan_metadata(data)

    assert plan.errors == [
        "row 3: there is no article with the id or slug “missing”",
        "row 4: the article “good” is also in row 2",
        "row 5: mode “replace” is neither set nor add",
        "row 6: no region with the slug “atlantis”",
    ]
    with pytest.raises(BulkError, match="nothing was applied"):
        apply_plan(plan)
    assert state(good)["regions"] == []


def test_json_rows_take_lists(taxonomy):
    article = ArticleFactory(slug="story")
    data = json.dumps({"articles": [{"article": article.pk, "regions": ["north"], "tags": ["A"]}]})

    apply_plan(plan_metadata(data.encode(), "taxonomy.json"))

    assert state(article)["regions"] == ["north"]
    assert state(article)["tags"] == ["A"]


def test_the_article_export_reads_back_as_no_change(taxonomy):
    article = ArticleFactory(slug="story")
    article.regions.add(taxonomy["north"], taxonomy["south"])
    article.tags.add("=SUM(A1:A9)", "Plain")
    ArticleFactory(slug="bare")

    header, rows = export_articles(articles_for_export())
    for data, name in [
        (as_csv(header, rows), "a.csv"),
        (as_json("articles", header, rows), "a.json"),
    ]:
        plan = plan_metadata(data.encode(), name)
        assert plan.errors == []
        assert plan.changes == []
        assert plan.unchanged == 2


def test_the_csv_export_neutralises_formulas():
    article = ArticleFactory(slug="story")
    article.tags.add('=HYPERLINK("http://evil.example")')

    text = as_csv(*export_articles(articles_for_export()))

    assert "'=HYPERLINK" in text


# --- Sources and rights ----------------------------------------------------------------------


SOURCES_HEADER = (
    "source,name,homepage,is_active,rights_basis,copyright_holder,evidence,granted_on,expires_on"
)


def test_sources_are_created_and_updated_with_their_rights_records():
    existing = SourceFactory(slug="harbour", name="Harbour", homepage="https://h.example/")
    data = csv_bytes(
        SOURCES_HEADER,
        "harbour,Harbour Post,https://h.example/,yes,cc-by,Harbour Ltd,,2026-01-01,",
        "valley,Valley Wire,https://v.example/,no,permission,Valley Co,Letter on file,,2027-01-01",
    )

    plan = plan_metadata(data)

    assert plan.errors == []
    assert plan.changes[0].changes == [
        "name: “Harbour” → “Harbour Post”",
        "rights basis: — → “cc-by”",
        "rights copyright holder: — → “Harbour Ltd”",
        "rights granted on: — → “2026-01-01”",
    ]
    assert plan.changes[1].changes[0] == "new source"
    apply_plan(plan)

    existing.refresh_from_db()
    assert existing.name == "Harbour Post"
    assert existing.rights.basis == RightsBasis.CC_BY
    valley = Source.objects.get(slug="valley")
    assert not valley.is_active
    assert valley.rights.expires_on == datetime.date(2027, 1, 1)


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        ("new-one,,,,,,,,", "“new-one” is a new source: give it a name"),
        ("x,X,javascript:alert(1),,,,,,", "homepage: Enter a valid URL."),
        ("x,X,,maybe,,,,,", "“maybe” is not yes or no"),
        ("x,X,,,stolen,,,,", "rights_basis “stolen” is not one of"),
        ("x,X,,,permission,X Ltd,,,", "rights evidence: Say where the written permission"),
        ("x,X,,,cc-by,X Ltd,,2026-05-01,2026-01-01", "rights expires_on: The permission"),
        ("x,X,,,cc-by,X Ltd,,yesterday,", "“yesterday” is not a date"),
        ("bad slug!,X,,,,,,,", "slug"),
    ],
)
def test_invalid_source_rows_are_refused_with_their_row_number(line, problem):
    plan = plan_metadata(csv_bytes(SOURCES_HEADER, "fine,Fine,,,,,,,", line))

    assert len(plan.errors) == 1
    assert plan.errors[0].startswith("row 3: ")
    assert problem in plan.errors[0]
    with pytest.raises(BulkError):
        apply_plan(plan)
    assert not Source.objects.exists()


def test_an_empty_rights_basis_never_deletes_a_rights_record():
    source = LicensedSourceFactory(slug="kept")

    apply_plan(plan_metadata(csv_bytes("source,name,rights_basis", "kept,Renamed,")))

    assert RightsRecord.objects.filter(source=source).exists()


def test_the_sources_export_reads_back_as_no_change():
    LicensedSourceFactory(slug="licensed", name="@Licensed")
    SourceFactory(slug="bare", is_active=False)

    header, rows = export_sources(sources_for_export())
    for data, name in [
        (as_csv(header, rows), "s.csv"),
        (as_json("sources", header, rows), "s.json"),
    ]:
        plan = plan_metadata(data.encode(), name)
        assert plan.errors == []
        assert plan.changes == []
        assert plan.unchanged == 2


# --- Hostile files ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        (b"", "The file is empty."),
        (b"\xff\xfe\x00bad", "not UTF-8"),
        (b"article,source\n1,2\n", "not both"),
        (b"article,regoins\n1,x\n", "unknown column(s) regoins"),
        (b"article,regions\n1,a,b,c\n", "row 2: more cells than columns"),
        (b'{"articles": {"article": 1}}', '"articles" must be a list'),
        (b'{"people": []}', "must be an object"),
        (b"[" * 100_000, "cannot be read"),
        (b" " * (MAX_BULK_BYTES + 1), "larger than the limit"),
    ],
)
def test_unreadable_files_are_refused_whole(data, problem):
    plan = plan_metadata(data)

    assert len(plan.errors) == 1
    assert problem in plan.errors[0]


# --- Commands --------------------------------------------------------------------------------


def test_import_metadata_dry_run_then_apply(tmp_path, taxonomy):
    article = ArticleFactory(slug="story")
    path = tmp_path / "taxonomy.csv"
    path.write_bytes(csv_bytes("article,regions", "story,north"))

    out = io.StringIO()
    call_command("import_metadata", str(path), "--dry-run", stdout=out)
    assert "regions: — → north" in out.getvalue()
    assert "Dry run: 1 row(s) to change, 0 unchanged" in out.getvalue()
    assert state(article)["regions"] == []

    call_command("import_metadata", str(path), stdout=io.StringIO())
    assert state(article)["regions"] == ["north"]


def test_import_metadata_lists_every_error_and_fails(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_bytes(csv_bytes("article,regions", "nope,x", "neither,y"))
    err = io.StringIO()

    with pytest.raises(CommandError, match="2 problem"):
        call_command("import_metadata", str(path), stdout=io.StringIO(), stderr=err)

    assert "row 2:" in err.getvalue()
    assert "row 3:" in err.getvalue()


def test_export_metadata_writes_what_import_metadata_reads(tmp_path):
    LicensedSourceFactory(slug="harbour")
    path = tmp_path / "sources.json"

    call_command("export_metadata", "sources", str(path), stdout=io.StringIO())
    document = json.loads(path.read_text())
    assert document["sources"][0]["source"] == "harbour"

    out = io.StringIO()
    call_command("import_metadata", str(path), stdout=out)
    assert "Applied: 0 row(s) changed, 1 unchanged." in out.getvalue()


# --- Admin -----------------------------------------------------------------------------------

BULK = "/admin/articles/source/bulk-metadata/"


@pytest.fixture
def chief(client):
    from tests.factories import make_user

    from .admin_helpers import PASSWORD

    make_user("chief", is_superuser=True)
    assert client.login(username="chief", password=PASSWORD)
    return client


def test_the_admin_previews_the_changes_then_applies_them_on_confirmation(chief, taxonomy):
    from django.core.files.uploadedfile import SimpleUploadedFile

    article = ArticleFactory(slug="story")
    data = csv_bytes("article,regions,tags", "story,north,<script>alert(1)</script>")

    preview = chief.post(BULK, {"file": SimpleUploadedFile("t.csv", data, "text/csv")})

    assert preview.status_code == 200
    assert b"Dry run: 1 row(s) to change, 0 unchanged" in preview.content
    assert b"regions: \xe2\x80\x94 \xe2\x86\x92 north" in preview.content
    assert b"<script>alert(1)</script>" not in preview.content
    assert state(article)["regions"] == []

    content = preview.context["content"]
    done = chief.post(BULK, {"content": content, "name": "t.csv", "confirm": "on"})

    assert done.status_code == 302
    assert state(article)["regions"] == ["north"]
    assert state(article)["tags"] == ["<script>alert(1)</script>"]


def test_the_admin_lists_every_problem_and_offers_no_confirmation(chief, taxonomy):
    from django.core.files.uploadedfile import SimpleUploadedFile

    ArticleFactory(slug="story")
    data = csv_bytes("article,regions", "story,nowhere", "ghost,north")

    page = chief.post(BULK, {"file": SimpleUploadedFile("t.csv", data, "text/csv")})

    assert b"row 2: no region with the slug" in page.content
    assert b"row 3: there is no article" in page.content
    assert b"Apply these changes" not in page.content


def test_a_confirmation_with_a_now_invalid_file_applies_nothing(chief, taxonomy):
    article = ArticleFactory(slug="story")
    content = "article,regions\nstory,north\nghost,south\n"

    page = chief.post(BULK, {"content": content, "name": "t.csv", "confirm": "on"})

    assert page.status_code == 200
    assert b"row 3: there is no article" in page.content
    assert state(article)["regions"] == []


def test_editors_may_change_taxonomy_but_not_sources_in_bulk(client, taxonomy):
    from articles.editorial.roles import EDITORS
    from tests.factories import make_user

    from .admin_helpers import PASSWORD

    make_user("desk", groups=(EDITORS,))
    client.login(username="desk", password=PASSWORD)
    article = ArticleFactory(slug="story")

    sources = client.post(BULK, {"content": "source,name\nnew,New\n", "confirm": "on"})
    taxonomy_change = client.post(
        BULK, {"content": "article,regions\nstory,north\n", "confirm": "on"}
    )

    assert b"You may not change sources in bulk." in sources.content
    assert not Source.objects.filter(slug="new").exists()
    assert taxonomy_change.status_code == 302
    assert state(article)["regions"] == ["north"]


def test_the_export_actions_download_what_the_import_reads(chief, taxonomy):
    source = LicensedSourceFactory(slug="harbour")
    article = ArticleFactory(slug="story", source=source)
    article.regions.add(taxonomy["north"])

    sources = chief.post(
        "/admin/articles/source/",
        {"action": "export_metadata", "_selected_action": [str(source.pk)]},
    )
    articles = chief.post(
        "/admin/articles/article/",
        {"action": "export_taxonomy", "_selected_action": [str(article.pk)]},
    )

    for response in (sources, articles):
        plan = plan_metadata(response.content, "export.csv")
        assert plan.errors == []
        assert plan.unchanged == 1
    assert b"story,set,north,,," in articles.content
