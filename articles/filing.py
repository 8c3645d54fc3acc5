"""What an article is filed under, kept on its own row for the pages that print it.

An article's byline, regions, themes, in-depth reports and tags live in their own tables; a
page printing them needed one query per relation, and building those queries cost the reader
site more than anything else on an article page that was not in the cache. So the article row
keeps a copy of what pages print of them (`Article.filed_under`): each subject's id, name and
slug, in the order pages print them (bylines by position, then name; regions, themes and
reports by name, compared case-insensitively, ties by id; tags in the order they were added).

The copy is written where the names the search engine indexes are (`search_names`,
articles/search/engine.py), from the same one query of every relation, and exactly as often:
once at the end of an admin save or an import's store stage, at once for a change made
anywhere else, and by a background task for the articles filed under a source, author, region,
theme, report or tag that is renamed, given a new slug or deleted (articles/tasks.py, which
then moves the site's cache generation: pages rendered meanwhile showed the old name).

Pages read it as `Article.filed(relation)`: a list of `Filed`, never a query. Feeds, the API
and the admin read the relations themselves.
"""

from collections.abc import Iterable
from dataclasses import dataclass

# The relations kept, as `Article.filed()` names them.
RELATIONS = ("authors", "regions", "themes", "reports", "tags")
# Relations most articles leave empty (block overrides, corrections, other outlets' credits):
# the row keeps only which of them the article has (`has`), so a page reads those alone.
RARE_RELATIONS = ("block_overrides", "corrections", "also_reported_by")


@dataclass(frozen=True, slots=True)
class Filed:
    """A subject an article is filed under, as its pages print it (see articles/site/links.py
    for its address)."""

    relation: str
    pk: int
    name: str
    slug: str

    def __str__(self):
        return self.name


@dataclass(frozen=True, slots=True)
class FiledRow:
    """One subject of one article, as read from its relation: `rank` is a byline's position or
    the order a tag was added (0 for the other relations)."""

    relation: str
    rank: int
    pk: int
    name: str
    slug: str


def _display_order(row: FiledRow):
    return (row.rank, row.name.casefold(), row.pk)


def snapshot(rows: Iterable[FiledRow]) -> dict:
    """The `filed_under` value of an article filed as `rows` (in any order): for each relation
    it has, [id, name, slug] lists in the order pages print them; and under `has`, which of
    the rare relations it has (a row of those needs only its relation)."""
    by_relation: dict[str, list[FiledRow]] = {}
    for row in rows:
        by_relation.setdefault(row.relation, []).append(row)
    kept = {
        relation: [[row.pk, row.name, row.slug] for row in sorted(found, key=_display_order)]
        for relation in RELATIONS
        if (found := by_relation.get(relation))
    }
    has = [relation for relation in RARE_RELATIONS if relation in by_relation]
    return {**kept, "has": has} if has else kept


def rows_of(authors=(), regions=(), themes=(), reports=(), tags=()) -> list[FiledRow]:
    """The rows of an article its creator files itself (the importer's store stage, the
    archive generator): authors in byline order, tags in the order they are added."""
    return [
        *(
            FiledRow("authors", position, a.pk, a.name, a.slug)
            for position, a in enumerate(authors)
        ),
        *(FiledRow("regions", 0, r.pk, r.name, r.slug) for r in regions),
        *(FiledRow("themes", 0, t.pk, t.name, t.slug) for t in themes),
        *(FiledRow("reports", 0, r.pk, r.title, r.slug) for r in reports),
        *(FiledRow("tags", order, t.pk, t.name, t.slug) for order, t in enumerate(tags)),
    ]


def has(filed_under: dict, relation: str) -> bool:
    """Whether the article has any of a rare relation (`RARE_RELATIONS`)."""
    return relation in filed_under.get("has", ())


def subjects(filed_under: dict, relation: str) -> list[Filed]:
    """What `filed_under` holds of one relation, as `Filed` subjects, in page order."""
    return [Filed(relation, pk, name, slug) for pk, name, slug in filed_under.get(relation, ())]
