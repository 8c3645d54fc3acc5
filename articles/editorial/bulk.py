"""Bulk metadata from CSV or JSON: sources with their rights, taxonomy for many articles.

Two kinds of rows, each with its own columns (see docs/bulk-metadata.md):

* **sources**: `source` (the slug; a new slug creates the source), `name`, `homepage`,
  `is_active`, and the rights record: `rights_basis`, `copyright_holder`,
  `attribution_wording`, `evidence`, `evidence_url`, `granted_on`, `expires_on`,
  `rights_notes`. An empty `rights_basis` leaves the rights record as it is: a bulk import
  never deletes one.
* **articles**: `article` (id or slug), `mode` (`set`, the default, or `add`), and any of
  `regions`, `themes`, `reports` (slugs) and `tags` (names), several separated by `|` in CSV
  or given as a JSON list. With `set` a column present replaces the article's list (empty
  clears it); with `add` it is added to. A column left out is left alone.

`plan_metadata(data, name)` reads a file and works out, row by row, what would change, and
every problem with its row number, touching nothing. `apply_plan(plan)` writes a plan without
problems in one transaction; a plan with any problem is refused whole. The exports
(`export_sources`, `export_articles`, written with `write_csv` or as JSON) use the same
columns, so exporting, editing and importing again changes only what was edited. CSV cells are
written through `csv_export.safe_cell`, whose formula guard (a leading apostrophe) is undone
on import.
"""

import csv
import datetime
import io
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from articles.editorial.csv_export import FORMULA_PREFIXES, write_csv
from articles.models import (
    Article,
    InDepthReport,
    Region,
    RightsBasis,
    RightsRecord,
    Source,
    Theme,
)

MAX_BULK_BYTES = 10 * 1024 * 1024
# The admin sends the previewed file back with the confirmation, inside Django's request limit.
MAX_ADMIN_BYTES = 2 * 1024 * 1024
KIND_PERMISSIONS = {
    "sources": [
        "articles.add_source",
        "articles.change_source",
        "articles.add_rightsrecord",
        "articles.change_rightsrecord",
    ],
    "articles": ["articles.change_article"],
}
MAX_ROWS = 20_000
SEPARATOR = "|"

SOURCE_FIELDS = ["name", "homepage", "is_active"]
RIGHTS_FIELDS = {
    "rights_basis": "basis",
    "copyright_holder": "copyright_holder",
    "attribution_wording": "attribution_wording",
    "evidence": "evidence",
    "evidence_url": "evidence_url",
    "granted_on": "granted_on",
    "expires_on": "expires_on",
    "rights_notes": "notes",
}
SOURCE_COLUMNS = ["source", *SOURCE_FIELDS, *RIGHTS_FIELDS]
TAXONOMY = {"regions": Region, "themes": Theme, "reports": InDepthReport}
ARTICLE_COLUMNS = ["article", "mode", *TAXONOMY, "tags"]


class BulkError(ValueError):
    """The file as a whole cannot be read (format, size, columns); the message says why."""


@dataclass
class Row:
    kind: str  # "sources" or "articles"
    label: str  # "row 3" (CSV, counting the header as row 1) or "sources item 2" (JSON)
    values: dict[str, Any]


@dataclass
class Change:
    label: str
    target: str
    changes: list[str]


@dataclass
class BulkPlan:
    changes: list[Change] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    unchanged: int = 0
    kinds: set[str] = field(default_factory=set)  # "sources" and/or "articles"
    steps: list[Callable[[], None]] = field(default_factory=list, repr=False)

    def summary(self) -> str:
        if self.errors:
            return f"{len(self.errors)} problem(s): nothing can be applied"
        return f"{len(self.changes)} row(s) to change, {self.unchanged} unchanged"


# --- Reading -----------------------------------------------------------------------------------


def _unescape(value: Any) -> Any:
    """Undo the spreadsheet formula guard of `safe_cell` ("'=x" was written for "=x")."""
    if isinstance(value, str) and value.startswith("'") and value[1:2] in FORMULA_PREFIXES:
        return value[1:]
    return value


def read_rows(data: bytes, name: str = "") -> list[Row]:
    """The rows of a CSV or JSON metadata file (JSON when the name or the content says so)."""
    if len(data) > MAX_BULK_BYTES:
        raise BulkError(f"The file is larger than the limit of {MAX_BULK_BYTES:,} bytes.")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise BulkError("The file is not UTF-8 text.") from None
    if name.lower().endswith(".json") or text.lstrip()[:1] in ("{", "["):
        rows = _json_rows(text)
    else:
        rows = _csv_rows(text)
    if len(rows) > MAX_ROWS:
        raise BulkError(f"The file has {len(rows):,} rows; at most {MAX_ROWS:,} at a time.")
    return rows


def _kind_of(columns: Iterable[str], where: str) -> str:
    columns = set(columns)
    if "source" in columns and "article" not in columns:
        kind, known = "sources", SOURCE_COLUMNS
    elif "article" in columns and "source" not in columns:
        kind, known = "articles", ARTICLE_COLUMNS
    else:
        raise BulkError(f"{where}: name either a “source” or an “article” column (not both).")
    unknown = sorted(columns - set(known))
    if unknown:
        raise BulkError(
            f"{where}: unknown column(s) {', '.join(unknown)}; known: {', '.join(known)}."
        )
    return kind


def _csv_rows(text: str) -> list[Row]:
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = [column.strip().lower() for column in next(reader, [])]
        if not any(header):
            raise BulkError("The file is empty.")
        kind = _kind_of(header, "row 1")
        rows = []
        for number, cells in enumerate(reader, start=2):
            if not any(cell.strip() for cell in cells):
                continue
            if len(cells) > len(header):
                raise BulkError(f"row {number}: more cells than columns.")
            values = {
                column: _unescape(cell.strip()) for column, cell in zip(header, cells, strict=False)
            }
            rows.append(Row(kind, f"row {number}", values))
            if len(rows) > MAX_ROWS:
                break
    except csv.Error as error:
        raise BulkError(f"The CSV file cannot be read ({error}).") from None
    return rows


def _json_rows(text: str) -> list[Row]:
    try:
        document = json.loads(text)
    except (ValueError, RecursionError) as error:
        raise BulkError(f"The JSON file cannot be read ({error}).") from None
    if isinstance(document, list):  # a bare list of rows: its first row says which kind
        first = document[0] if document and isinstance(document[0], dict) else {}
        document = {"articles" if "article" in first else "sources": document}
    if not isinstance(document, dict) or not set(document) <= {"sources", "articles"}:
        raise BulkError('The JSON file must be an object with "sources" and/or "articles" lists.')
    rows = []
    for kind in ("sources", "articles"):
        items = document.get(kind, [])
        if not isinstance(items, list):
            raise BulkError(f'"{kind}" must be a list.')
        for number, item in enumerate(items, start=1):
            where = f"{kind} item {number}"
            if not isinstance(item, dict):
                raise BulkError(f"{where}: each item must be an object.")
            if _kind_of(item, where) != kind:
                raise BulkError(f"{where}: this item does not belong under “{kind}”.")
            rows.append(Row(kind, where, item))
    return rows


# --- Planning ----------------------------------------------------------------------------------


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool | int | float):
        return str(value)
    if not isinstance(value, str):
        raise ValueError("expected text")
    return value.strip()


def _flag(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = _text(value).lower()
    if text in {"yes", "true", "1", "y"}:
        return True
    if text in {"no", "false", "0", "n"}:
        return False
    raise ValueError(f"is_active: “{text}” is not yes or no")


def _date(value: Any) -> datetime.date | None:
    text = _text(value)
    if not text:
        return None
    try:
        return datetime.date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"“{text}” is not a date (YYYY-MM-DD)") from None


def _names(value: Any) -> list[str]:
    if isinstance(value, list):
        parts = [_text(part) for part in value]
    else:
        parts = _text(value).split(SEPARATOR)
    names: list[str] = []
    for part in parts:
        part = part.strip()
        if part and part.casefold() not in {name.casefold() for name in names}:
            names.append(part)
    return names


def _shown(value: Any) -> str:
    if value in (None, ""):
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return f"“{value}”"


def _problems(error: ValidationError) -> list[str]:
    if hasattr(error, "message_dict"):
        return [
            f"{name}: {message}"
            for name, messages in error.message_dict.items()
            for message in messages
        ]
    return list(error.messages)


def plan_metadata(data: bytes, name: str = "") -> BulkPlan:
    """What importing the file would change, and every problem, without writing anything."""
    plan = BulkPlan()
    try:
        rows = read_rows(data, name)
    except BulkError as error:
        plan.errors.append(str(error))
        return plan
    plan.kinds = {row.kind for row in rows}
    _plan_sources(plan, [row for row in rows if row.kind == "sources"])
    _plan_articles(plan, [row for row in rows if row.kind == "articles"])
    return plan


def _plan_sources(plan: BulkPlan, rows: list[Row]) -> None:
    slugs = [row.values.get("source") for row in rows]
    found = Source.objects.filter(
        slug__in=[slug.strip() for slug in slugs if isinstance(slug, str)]
    )
    existing = {source.slug: source for source in found.select_related("rights")}
    seen: dict[str, str] = {}
    for row in rows:
        try:
            _plan_source(plan, row, existing, seen)
        except ValueError as error:
            plan.errors.append(f"{row.label}: {error}")


def _plan_source(
    plan: BulkPlan, row: Row, existing: dict[str, Source], seen: dict[str, str]
) -> None:
    values = row.values
    slug = _text(values.get("source"))
    if not slug:
        raise ValueError("the source column (its slug) is empty")
    if slug in seen:
        raise ValueError(f"the source “{slug}” is also in {seen[slug]}")
    seen[slug] = row.label
    source = existing.get(slug)
    created = source is None
    if created:
        source = Source(slug=slug)
        if not _text(values.get("name")):
            raise ValueError(f"“{slug}” is a new source: give it a name")
    changes: list[str] = ["new source"] if created else []
    for name in SOURCE_FIELDS:
        if name not in values:
            continue
        if name == "is_active":
            if _text(values[name]) == "":
                continue  # left as it is (new sources are active)
            new = _flag(values[name])
        else:
            new = _text(values[name])
        old = getattr(source, name)
        if new != old or created:
            if not created:
                changes.append(f"{name}: {_shown(old)} → {_shown(new)}")
            setattr(source, name, new)
    problems = []
    try:
        source.full_clean(exclude=["logo", "default_author"])
    except ValidationError as error:
        problems += _problems(error)

    rights = None
    basis = _text(values.get("rights_basis"))
    if basis:
        if basis not in RightsBasis.values:
            choices = ", ".join(RightsBasis.values)
            raise ValueError(f"rights_basis “{basis}” is not one of {choices}")
        current = None if created else getattr(source, "rights", None)
        rights = current or RightsRecord()
        for column, attribute in RIGHTS_FIELDS.items():
            if column not in values:
                continue
            is_date = column in {"granted_on", "expires_on"}
            try:
                new = _date(values[column]) if is_date else _text(values[column])
            except ValueError as error:
                raise ValueError(f"{column}: {error}") from None
            old = getattr(rights, attribute) or (None if is_date else "")
            if new != old:
                label = attribute.replace("_", " ")
                changes.append(f"rights {label}: {_shown(old)} → {_shown(new)}")
            setattr(rights, attribute, new)
        try:
            rights.full_clean(exclude=["source"])
        except ValidationError as error:
            problems += [f"rights {problem}" for problem in _problems(error)]
    if problems:
        raise ValueError("; ".join(problems))
    if not changes:
        plan.unchanged += 1
        return
    plan.changes.append(Change(row.label, f"source {slug}", changes))

    def save(source=source, rights=rights):
        source.save()
        if rights is not None:
            rights.source = source
            rights.save()

    plan.steps.append(save)


def _plan_articles(plan: BulkPlan, rows: list[Row]) -> None:
    if not rows:
        return
    keys = [row.values.get("article") for row in rows]
    keys = [_text(key) for key in keys if isinstance(key, str | int) and not isinstance(key, bool)]
    ids = [int(key) for key in keys if key.isdigit()]
    matching = Article.objects.filter(pk__in=ids) | Article.objects.filter(slug__in=keys)
    articles = list(matching.prefetch_related("regions", "themes", "reports", "tags"))
    by_key = {article.slug: article for article in articles}
    by_key.update({str(article.pk): article for article in articles})
    terms = {
        field_name: {term.slug: term for term in model.objects.all()}
        for field_name, model in TAXONOMY.items()
    }
    seen: dict[int, str] = {}
    for row in rows:
        try:
            _plan_article(plan, row, by_key, terms, seen)
        except ValueError as error:
            plan.errors.append(f"{row.label}: {error}")


def _plan_article(
    plan: BulkPlan, row: Row, by_key: dict, terms: dict, seen: dict[int, str]
) -> None:
    values = row.values
    key = _text(values.get("article"))
    article = by_key.get(key)
    if article is None:
        raise ValueError(f"there is no article with the id or slug “{key}”")
    if article.pk in seen:
        raise ValueError(f"the article “{article.slug}” is also in {seen[article.pk]}")
    seen[article.pk] = row.label
    mode = _text(values.get("mode")).lower() or "set"
    if mode not in {"set", "add"}:
        raise ValueError(f"mode “{mode}” is neither set nor add")
    changes, operations, problems = [], [], []
    for field_name in [*TAXONOMY, "tags"]:
        if field_name not in values:
            continue
        names = _names(values[field_name])
        if field_name == "tags":
            current = [tag.name for tag in article.tags.all()]
            wanted = names
            folded = {name.casefold() for name in current}
            if mode == "add":
                wanted = current + [name for name in names if name.casefold() not in folded]
            if {name.casefold() for name in wanted} != folded:
                changes.append(f"tags: {_listed(current)} → {_listed(wanted)}")
                operations.append((field_name, wanted))
            continue
        unknown = [name for name in names if name not in terms[field_name]]
        if unknown:
            problems.append(f"no {field_name[:-1]} with the slug {', '.join(map(_shown, unknown))}")
            continue
        current = [term.slug for term in getattr(article, field_name).all()]
        wanted = names if mode == "set" else current + [n for n in names if n not in current]
        if set(wanted) != set(current):
            changes.append(f"{field_name}: {_listed(current)} → {_listed(wanted)}")
            operations.append((field_name, [terms[field_name][slug] for slug in wanted]))
    if problems:
        raise ValueError("; ".join(problems))
    if not changes:
        plan.unchanged += 1
        return
    plan.changes.append(Change(row.label, f"article {article.pk} ({article.slug})", changes))

    def save(article=article, operations=operations):
        for field_name, wanted in operations:
            getattr(article, field_name).set(wanted)

    plan.steps.append(save)


def plan_classification(
    articles: Iterable[Article],
    *,
    regions: Iterable[Region] = (),
    themes: Iterable[Theme] = (),
    reports: Iterable[InDepthReport] = (),
    tags: Iterable[str] = (),
) -> BulkPlan:
    """Add the given regions, themes, reports and tags to each of `articles` (what they
    already have stays): the same plan a metadata file in "add" mode makes, one row an article."""
    additions = {
        "regions": [region.slug for region in regions],
        "themes": [theme.slug for theme in themes],
        "reports": [report.slug for report in reports],
        "tags": list(tags),
    }
    additions = {name: values for name, values in additions.items() if values}
    rows = [
        Row(
            "articles", f"article {article.pk}", {"article": article.pk, "mode": "add", **additions}
        )
        for article in articles
    ]
    plan = BulkPlan(kinds={"articles"})
    _plan_articles(plan, rows)
    return plan


def _listed(names: list[str]) -> str:
    return ", ".join(sorted(names, key=str.casefold)) or "—"


def apply_plan(plan: BulkPlan) -> int:
    """Write every change of the plan in one transaction; returns how many rows changed.

    A plan with problems is refused whole (`BulkError`), so nothing is half applied.
    """
    if plan.errors:
        raise BulkError(f"{len(plan.errors)} problem(s) in the file: nothing was applied.")
    with transaction.atomic():
        for step in plan.steps:
            step()
    return len(plan.steps)


# --- Exporting ---------------------------------------------------------------------------------


def export_sources(sources: Iterable[Source]) -> tuple[list[str], list[list[Any]]]:
    """The header and rows of a sources file, as the importer reads it back."""
    rows = []
    for source in sources:
        rights = getattr(source, "rights", None)  # a source without one raises AttributeError
        row = [source.slug, source.name, source.homepage, "yes" if source.is_active else "no"]
        for attribute in RIGHTS_FIELDS.values():
            value = getattr(rights, attribute) if rights else ""
            row.append(value.isoformat() if isinstance(value, datetime.date) else value or "")
        rows.append(row)
    return SOURCE_COLUMNS, rows


def export_articles(articles: Iterable[Article]) -> tuple[list[str], list[list[Any]]]:
    """The header and rows of an articles file (mode "set": importing it back changes nothing)."""
    rows = []
    for article in articles:
        rows.append(
            [
                article.slug,
                "set",
                *(
                    SEPARATOR.join(sorted(term.slug for term in getattr(article, name).all()))
                    for name in TAXONOMY
                ),
                SEPARATOR.join(sorted((tag.name for tag in article.tags.all()), key=str.casefold)),
            ]
        )
    return ARTICLE_COLUMNS, rows


def sources_for_export():
    return Source.objects.select_related("rights").order_by("slug")


def articles_for_export(queryset=None):
    queryset = Article.objects.all() if queryset is None else queryset
    return queryset.order_by("pk").prefetch_related("regions", "themes", "reports", "tags")


def as_csv(header: list[str], rows: list[list[Any]]) -> str:
    output = io.StringIO()
    write_csv(output, header, rows)
    return output.getvalue()


def as_json(kind: str, header: list[str], rows: list[list[Any]]) -> str:
    """The same rows as JSON: lists for the taxonomy columns, booleans for is_active."""
    items = []
    for row in rows:
        item = dict(zip(header, row, strict=True))
        if kind == "articles":
            for name in [*TAXONOMY, "tags"]:
                item[name] = item[name].split(SEPARATOR) if item[name] else []
        else:
            item["is_active"] = item["is_active"] == "yes"
        items.append(item)
    return json.dumps({kind: items}, ensure_ascii=False, indent=2) + "\n"
