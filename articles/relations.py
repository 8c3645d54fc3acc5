"""What pages print about an article's relations, loaded for many articles in one query.

`prefetch_related` costs one query per relation: five on the article page (bylines, regions,
themes, reports, tags) and more for block overrides, three on a listing. Each of those
queries is trivial for the database, so a page pays for round trips, for building queries
and for the database planning them. Here:

1. One `UNION ALL` over the link tables alone (bylines, the region, theme and report link
   tables, tagged items, block overrides) says what each article is filed under, and where.
   It joins nothing, so the database plans and runs it in a fraction of a millisecond.
2. The names and slugs of those subjects (authors, regions, themes, reports, tags) are the
   same on every page: each process remembers them for the current content generation, which
   any change to them moves on. Subjects not seen yet in this generation are read in one
   more query.
3. Sources, with their rights record, come from the shared cache, also per generation.

Every article then gets the per-relation cache `prefetch_related` would have filled, so
`article.regions.all()`, `article.ordered_authors` and `article.site_blocks()` read memory.
Related objects carry what pages print (names, titles and slugs); their other fields are
deferred, so reading one (an author's bio, a region's parent) costs a query of its own.
Each relation keeps the order its model gives it: bylines by position, regions and themes by
name, reports by title, tags in the order they were added.
"""

import functools
import secrets

from django.contrib.contenttypes.models import ContentType
from django.core.cache import cache
from django.db import connections
from taggit.models import Tag, TaggedItem

from articles.site.generation import site_generation

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
KEEP_SECONDS = 60 * 60
# Names remembered by one process in one generation, at most (then it starts afresh).
REMEMBERED_NAMES = 50_000

# What each relation files an article under, and that subject's name field.
_SUBJECTS = {
    "bylines": (Author, "author", "name"),
    "regions": (Region, "region", "name"),
    "themes": (Theme, "theme", "name"),
    "reports": (InDepthReport, "report", "title"),
    "tags": (Tag, "tag", "name"),
}

COLUMNS = ("relation", "article_id", "object_id", "position", "subject_id", "key", "content")

# One SELECT per relation over its link table, in the columns above. Written as SQL rather
# than composed with the ORM because composing and compiling a six-branch union costs more
# than running it; table and column names still come from the models. {ids} stands for the
# articles' ids; tags are generic relations, found by the article model's content type.
_BRANCHES = {
    "bylines": (
        "SELECT 'bylines', {byline.article}, {byline.id}, {byline.position}, {byline.author}, "
        "'', '' FROM {byline} WHERE {byline.article} IN ({ids})"
    ),
    "regions": (
        "SELECT 'regions', {regions.article}, {regions.region}, 0, {regions.region}, '', '' "
        "FROM {regions} WHERE {regions.article} IN ({ids})"
    ),
    "themes": (
        "SELECT 'themes', {themes.article}, {themes.theme}, 0, {themes.theme}, '', '' "
        "FROM {themes} WHERE {themes.article} IN ({ids})"
    ),
    "reports": (
        "SELECT 'reports', {reports.article}, {reports.report}, 0, {reports.report}, '', '' "
        "FROM {reports} WHERE {reports.article} IN ({ids})"
    ),
    "tags": (
        "SELECT 'tags', {tagged.object}, {tagged.tag}, {tagged.id}, {tagged.tag}, '', '' "
        "FROM {tagged} WHERE {tagged.content_type} = (SELECT {content_type.id} "
        "FROM {content_type} WHERE {content_type.app_label} = %s AND {content_type.model} = %s) "
        "AND {tagged.object} IN ({ids})"
    ),
    "block_overrides": (
        "SELECT 'block_overrides', {override.article}, {override.id}, "
        "CAST({override.hide} AS INTEGER), 0, {override.key}, {override.content} "
        "FROM {override} WHERE {override.article} IN ({ids})"
    ),
}

# The names and slugs of subjects this process has not seen yet in this generation.
_NAMES = (
    "SELECT '{relation}', {subject.id}, {subject.name}, {subject.slug} FROM {subject} "
    "WHERE {subject.id} IN ({ids})"
)


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
        "regions": _Table(through["regions"], quote, article="article", region="region"),
        "themes": _Table(through["themes"], quote, article="article", theme="theme"),
        "reports": _Table(through["reports"], quote, article="article", report="indepthreport"),
        "tagged": _Table(
            TaggedItem, quote, id="id", object="object_id", tag="tag", content_type="content_type"
        ),
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
        **{
            table: _Table(model, quote, id="id", name=name, slug="slug")
            for model, table, name in _SUBJECTS.values()
        },
    }


def _execute(db: str, sql: list[str], params: list) -> list[tuple]:
    with connections[db].cursor() as cursor:
        cursor.execute(" UNION ALL ".join(sql), params)
        return cursor.fetchall()


def _links(db: str, relations: tuple[str, ...], article_ids: list[int]) -> list[dict]:
    tables = _tables(db)
    placeholders = ", ".join(["%s"] * len(article_ids))
    sql, params = [], []
    for relation in relations:
        sql.append(_BRANCHES[relation].format(ids=placeholders, **tables))
        if relation == "tags":
            params.extend([Article._meta.app_label, Article._meta.model_name])
        params.extend(article_ids)
    return [dict(zip(COLUMNS, row, strict=True)) for row in _execute(db, sql, params)]


_remembered = {"epoch": None, "names": {}}


def _remembered_names() -> dict:
    """This process's (relation, id) -> (name, slug) for the current content generation.

    A token stored in the shared cache next to the generation names the memo, so a new
    generation, or a cleared cache, starts a new one.
    """
    key = f"articles:subject-names:{site_generation()}"
    epoch = cache.get(key)
    if epoch is None:
        cache.add(key, secrets.token_hex(8), KEEP_SECONDS)
        epoch = cache.get(key)
    if _remembered["epoch"] != epoch or len(_remembered["names"]) > REMEMBERED_NAMES:
        _remembered["epoch"], _remembered["names"] = epoch, {}
    return _remembered["names"]


def _subject_names(db: str, links: list[dict]) -> dict:
    names = _remembered_names()
    missing: dict[str, set[int]] = {}
    for link in links:
        relation = link["relation"]
        if relation in _SUBJECTS and (relation, link["subject_id"]) not in names:
            missing.setdefault(relation, set()).add(link["subject_id"])
    if missing:
        tables = _tables(db)
        sql, params = [], []
        for relation, ids in missing.items():
            subject = tables[_SUBJECTS[relation][1]]
            sql.append(
                _NAMES.format(relation=relation, ids=", ".join(["%s"] * len(ids)), subject=subject)
            )
            params.extend(sorted(ids))
        for relation, pk, name, slug in _execute(db, sql, params):
            names[relation, pk] = (name, slug)
    return names


@functools.cache
def _loaded_fields(model, names: frozenset) -> list[str]:
    return [field.attname for field in model._meta.concrete_fields if field.attname in names]


def _partial(model, db: str, **values):
    """An instance of `model` with these field values; its other fields are deferred."""
    names = _loaded_fields(model, frozenset(values))
    return model.from_db(db, names, [values[name] for name in names])


def _build(link: dict, article: Article, name: str, slug: str, db: str):
    relation = link["relation"]
    if relation == "bylines":
        author = _partial(Author, db, id=link["subject_id"], name=name, slug=slug)
        byline = _partial(
            Byline,
            db,
            id=link["object_id"],
            article_id=article.pk,
            author_id=author.pk,
            position=link["position"],
        )
        byline.author = author
        byline.article = article
        return byline
    if relation == "block_overrides":
        override = _partial(
            ArticleBlockOverride,
            db,
            id=link["object_id"],
            article_id=article.pk,
            key=link["key"],
            content=link["content"],
            hide=bool(link["position"]),
        )
        override.article = article
        return override
    name_field = _SUBJECTS[relation][2]
    return _partial(
        _MODELS[relation], db, **{"id": link["subject_id"], name_field: name, "slug": slug}
    )


def _remember(article: Article, relation: str, objects: list):
    """Fill the cache `prefetch_related(relation)` fills; the relation's name is its key.

    The cached queryset stands for the rows just loaded: further filtering narrows them down
    in the database, without rebuilding the relation's own (costlier) query.
    """
    queryset = _MODELS[relation]._default_manager.all()
    # Applied only if the queryset is ever filtered further (as `filter()` after
    # `_defer_next_filter` would), so building it costs no query compilation.
    queryset._deferred_filter = (False, (), {"pk__in": [obj.pk for obj in objects]})
    queryset._result_cache = objects
    queryset._prefetch_done = True
    article._prefetched_objects_cache[relation] = queryset


def attach_sources(articles: list[Article]) -> None:
    """Give every article its source, with the rights record, from the cache when there."""
    prefix = f"articles:source:{site_generation()}:"
    wanted = {article.source_id for article in articles}
    found = {
        int(key.removeprefix(prefix)): source
        for key, source in cache.get_many([f"{prefix}{pk}" for pk in wanted]).items()
    }
    missing = wanted - found.keys()
    if missing:
        db = articles[0]._state.db
        loaded = {
            source.pk: source
            for source in Source.objects.using(db).select_related("rights").filter(pk__in=missing)
        }
        cache.set_many({f"{prefix}{pk}": source for pk, source in loaded.items()}, KEEP_SECONDS)
        found.update(loaded)
    for article in articles:
        article.source = found[article.source_id]


def load_relations(articles: list[Article], relations: tuple[str, ...]) -> None:
    """Give every article these relations (some of `RELATIONS`)."""
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
    links = _links(db, relations, list(by_id))
    names = _subject_names(db, links)
    labelled = [
        (link, *names[link["relation"], link["subject_id"]])
        if link["relation"] in _SUBJECTS
        else (link, link["key"], "")
        for link in links
        # A subject deleted since its link was read is left out.
        if link["relation"] not in _SUBJECTS or (link["relation"], link["subject_id"]) in names
    ]
    labelled.sort(key=lambda item: (item[0]["position"], item[1].casefold(), item[0]["object_id"]))
    found = {(pk, relation): [] for pk in by_id for relation in relations}
    for link, name, slug in labelled:
        article = by_id[link["article_id"]]
        found[article.pk, link["relation"]].append(_build(link, article, name, slug, db))
    for (pk, relation), objects in found.items():
        article = by_id[pk]
        if not hasattr(article, "_prefetched_objects_cache"):
            article._prefetched_objects_cache = {}
        _remember(article, relation, objects)
