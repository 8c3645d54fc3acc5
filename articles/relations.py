"""What pages print about an article's relations, loaded for many articles in one query.

`prefetch_related` costs one query per relation: five on the article page (bylines, regions,
themes, reports, tags) and more for block overrides, three on a listing. Each of those queries
is trivial for the database, so what a page pays for is the round trips and building each
query. Here the relations a page needs are asked for together in one `UNION ALL`, and every
article gets the per-relation cache `prefetch_related` would have filled, so
`article.regions.all()`, `article.ordered_authors` and `article.site_blocks()` read memory.

Every branch of the union has the same columns:

| relation        | object             | position      | name   | slug   | extra                   |
|-----------------|--------------------|---------------|--------|--------|-------------------------|
| bylines         | byline             | byline order  | author | author | author id               |
| regions, themes | region, theme      | 0             | name   | slug   |                         |
| reports         | report             | 0             | title  | slug   |                         |
| tags            | tag                | when tagged   | name   | slug   |                         |
| block_overrides | override           | hidden (0, 1) | key    |        | content                 |

Related objects carry what pages print (names, titles and slugs); their other fields are
deferred, so reading one (an author's bio, a region's parent) costs a query of its own.
Each relation keeps the order its model gives it: bylines by position, regions and themes
by name, reports by title, tags in the order they were added.

An article's source (with its rights record) is asked for differently: sources are few and
the same on every page, so each is kept in the cache under the content generation (which
any change to a source or its rights moves on), and only sources missing there are read,
in one query.
"""

import functools

from django.contrib.contenttypes.models import ContentType
from django.core.cache import cache
from django.db import connections
from taggit.models import Tag, TaggedItem

from .cache import content_generation
from .models import (
    Article,
    ArticleBlockOverride,
    Author,
    Byline,
    InDepthReport,
    Region,
    Source,
    Theme,
)

_MODELS = {
    "bylines": Byline,
    "regions": Region,
    "themes": Theme,
    "reports": InDepthReport,
    "tags": Tag,
    "block_overrides": ArticleBlockOverride,
}
RELATIONS = ("source", *_MODELS)
SOURCE_KEEP_SECONDS = 60 * 60
COLUMNS = ("relation", "article_id", "object_id", "position", "name", "slug", "extra")

# One SELECT per relation, in the columns above. Written as SQL rather than composed with the
# ORM because composing and compiling a six-branch union costs more than running it (about
# 2 ms against 0.7 ms); table and column names still come from the models. {ids} stands for
# the articles' ids; tags are generic relations, found by the article model's content type.
_BRANCHES = {
    "bylines": (
        "SELECT 'bylines', b.{byline.article}, b.{byline.id}, b.{byline.position}, "
        "a.{author.name}, a.{author.slug}, CAST(b.{byline.author} AS TEXT) "
        "FROM {byline} b INNER JOIN {author} a ON a.{author.id} = b.{byline.author} "
        "WHERE b.{byline.article} IN ({ids})"
    ),
    "regions": (
        "SELECT 'regions', t.{regions.article}, r.{region.id}, 0, r.{region.name}, "
        "r.{region.slug}, '' FROM {regions} t INNER JOIN {region} r "
        "ON r.{region.id} = t.{regions.region} WHERE t.{regions.article} IN ({ids})"
    ),
    "themes": (
        "SELECT 'themes', t.{themes.article}, r.{theme.id}, 0, r.{theme.name}, "
        "r.{theme.slug}, '' FROM {themes} t INNER JOIN {theme} r "
        "ON r.{theme.id} = t.{themes.theme} WHERE t.{themes.article} IN ({ids})"
    ),
    "reports": (
        "SELECT 'reports', t.{reports.article}, r.{report.id}, 0, r.{report.title}, "
        "r.{report.slug}, '' FROM {reports} t INNER JOIN {report} r "
        "ON r.{report.id} = t.{reports.report} WHERE t.{reports.article} IN ({ids})"
    ),
    "tags": (
        "SELECT 'tags', t.{tagged.object}, g.{tag.id}, t.{tagged.id}, g.{tag.name}, "
        "g.{tag.slug}, '' FROM {tagged} t INNER JOIN {tag} g ON g.{tag.id} = t.{tagged.tag} "
        "WHERE t.{tagged.content_type} = (SELECT c.{content_type.id} FROM {content_type} c "
        "WHERE c.{content_type.app_label} = %s AND c.{content_type.model} = %s) "
        "AND t.{tagged.object} IN ({ids})"
    ),
    "block_overrides": (
        "SELECT 'block_overrides', o.{override.article}, o.{override.id}, "
        "CAST(o.{override.hide} AS INTEGER), o.{override.key}, '', o.{override.content} "
        "FROM {override} o WHERE o.{override.article} IN ({ids})"
    ),
}


class _Table:
    """A quoted table name in SQL text; its attributes are its quoted column names."""

    def __init__(self, table_of, quote, **columns):
        self._name = quote(table_of._meta.db_table)
        for name, field in columns.items():
            setattr(self, name, quote(table_of._meta.get_field(field).column))

    def __format__(self, spec):
        return self._name


@functools.cache
def _tables(db: str) -> dict[str, _Table]:
    quote = connections[db].ops.quote_name
    through = {name: getattr(Article, name).through for name in ("regions", "themes", "reports")}
    return {
        "byline": _Table(
            Byline, quote, id="id", article="article", author="author", position="position"
        ),
        "author": _Table(Author, quote, id="id", name="name", slug="slug"),
        "regions": _Table(through["regions"], quote, article="article", region="region"),
        "region": _Table(Region, quote, id="id", name="name", slug="slug"),
        "themes": _Table(through["themes"], quote, article="article", theme="theme"),
        "theme": _Table(Theme, quote, id="id", name="name", slug="slug"),
        "reports": _Table(through["reports"], quote, article="article", report="indepthreport"),
        "report": _Table(InDepthReport, quote, id="id", title="title", slug="slug"),
        "tagged": _Table(
            TaggedItem, quote, id="id", object="object_id", tag="tag", content_type="content_type"
        ),
        "tag": _Table(Tag, quote, id="id", name="name", slug="slug"),
        "content_type": _Table(ContentType, quote, id="id", app_label="app_label", model="model"),
        "override": _Table(
            ArticleBlockOverride,
            quote,
            id="id",
            article="article",
            key="key",
            content="content",
            hide="hide",
        ),
    }


def _rows(db: str, relations: tuple[str, ...], article_ids: list[int]) -> list[tuple]:
    connection = connections[db]
    tables = _tables(db)
    placeholders = ", ".join(["%s"] * len(article_ids))
    sql, params = [], []
    for relation in relations:
        sql.append(_BRANCHES[relation].format(ids=placeholders, **tables))
        if relation == "tags":
            params.extend([Article._meta.app_label, Article._meta.model_name])
        params.extend(article_ids)
    with connection.cursor() as cursor:
        cursor.execute(" UNION ALL ".join(sql), params)
        return cursor.fetchall()


@functools.cache
def _loaded_fields(model, names: frozenset) -> list[str]:
    return [field.attname for field in model._meta.concrete_fields if field.attname in names]


def _partial(model, db: str, **values):
    """An instance of `model` with these field values; its other fields are deferred."""
    names = _loaded_fields(model, frozenset(values))
    return model.from_db(db, names, [values[name] for name in names])


def _build(relation: str, article: Article, row: dict, db: str):
    if relation == "bylines":
        author = _partial(Author, db, id=int(row["extra"]), name=row["name"], slug=row["slug"])
        byline = _partial(
            Byline,
            db,
            id=row["object_id"],
            article_id=article.pk,
            author_id=author.pk,
            position=row["position"],
        )
        byline.author = author
        byline.article = article
        return byline
    if relation == "block_overrides":
        override = _partial(
            ArticleBlockOverride,
            db,
            id=row["object_id"],
            article_id=article.pk,
            key=row["name"],
            content=row["extra"],
            hide=bool(row["position"]),
        )
        override.article = article
        return override
    if relation == "reports":
        return _partial(InDepthReport, db, id=row["object_id"], title=row["name"], slug=row["slug"])
    return _partial(_MODELS[relation], db, id=row["object_id"], name=row["name"], slug=row["slug"])


def _remember(article: Article, relation: str, objects: list):
    """Fill the cache `prefetch_related(relation)` fills; the relation's name is its key.

    The cached queryset stands for the rows just loaded: further filtering narrows them down
    in the database, without rebuilding the relation's own (costlier) query.
    """
    model = type(objects[0]) if objects else _MODELS[relation]
    queryset = model._default_manager.all()
    queryset._defer_next_filter = True
    queryset = queryset.filter(pk__in=[obj.pk for obj in objects])
    queryset._result_cache = objects
    queryset._prefetch_done = True
    article._prefetched_objects_cache[relation] = queryset


def attach_sources(articles: list[Article]) -> None:
    """Give every article its source, with the rights record, from the cache when there."""
    prefix = f"articles:source:{content_generation()}:"
    wanted = {article.source_id for article in articles}
    found = {
        int(key.removeprefix(prefix)): source
        for key, source in cache.get_many([f"{prefix}{pk}" for pk in wanted]).items()
    }
    missing = wanted - found.keys()
    if missing:
        db = articles[0]._state.db
        loaded = {
            s.pk: s
            for s in Source.objects.using(db).select_related("rights").filter(pk__in=missing)
        }
        cache.set_many(
            {f"{prefix}{pk}": source for pk, source in loaded.items()}, SOURCE_KEEP_SECONDS
        )
        found.update(loaded)
    for article in articles:
        article.source = found[article.source_id]


def load_relations(articles: list[Article], relations: tuple[str, ...]) -> None:
    """Give every article these relations (some of `RELATIONS`): the source from the cache,
    the others in one query."""
    if not articles or not relations:
        return
    unknown = set(relations) - set(RELATIONS)
    if unknown:
        raise ValueError(f"cannot load {', '.join(sorted(unknown))} together")
    if "source" in relations:
        attach_sources(articles)
        relations = tuple(relation for relation in relations if relation != "source")
        if not relations:
            return
    by_id = {article.pk: article for article in articles}
    db = articles[0]._state.db
    found = {(pk, relation): [] for pk in by_id for relation in relations}
    ordered = sorted(
        (dict(zip(COLUMNS, values, strict=True)) for values in _rows(db, relations, list(by_id))),
        key=lambda row: (row["position"], row["name"].casefold(), row["object_id"]),
    )
    for row in ordered:
        article = by_id[row["article_id"]]
        found[article.pk, row["relation"]].append(_build(row["relation"], article, row, db))
    for (pk, relation), objects in found.items():
        article = by_id[pk]
        if not hasattr(article, "_prefetched_objects_cache"):
            article._prefetched_objects_cache = {}
        _remember(article, relation, objects)
