"""Finding articles by their words: query parsing, matching, ranking and highlighted snippets.

Two backends share one interface, chosen by the database in use:

* PostgreSQL (`PostgresSearch`): full-text search over a stored, GIN-indexed
  `Article.search_vector`. The vector is built by a database trigger (migration 0003) from
  the title (weight A), summary (B), body (C) and `search_names` (D): the names of the
  source, authors, regions, themes, reports and tags. Readers type web-search syntax
  (`"exact phrase"`, `either OR or`, `-unwanted`), handed to `websearch_to_tsquery`.
  Nothing is computed per row at query time except the rank of matching rows; headlines
  are computed for the rows of the page being shown only, in the query that loads them.

* Anything else, i.e. SQLite (`SimpleSearch`): every term must appear (case-insensitively,
  as a substring) in the title, summary, body or names; quoted phrases match as a whole,
  `OR` offers alternatives and `-term` excludes. It ranks a title hit above a summary hit
  above a body hit, newest first among equals. No stemming: "rivers" does not find "river".

Ranking on PostgreSQL, written down once:

    score = ts_rank(search_vector, query) * (1 + freshness)
    freshness = 1 / (1 + age_in_days / 30)

Relevance leads and recency breaks near-ties: an article published today gets at most twice
the score of an equally relevant very old one (a month old: 1.5 times). Because a title
match weighs five times a body match (weights A=1.0, C=0.2), a title hit stays above a body
hit whatever their ages.

What is ranked: at most MAX_RANKED (1,000) matches, the newest ones. Every match of a query
has to be read from its row to be scored, so scoring all 60,000 articles that mention a
common word would take seconds; the newest thousand take a few milliseconds. How they are
found depends on how common the words are, and the data says so, never the planner: the
newest SAMPLE_ROWS (100) articles of the listing are tested first. When at least half of
them match, the words are everywhere: articles are read newest first, each one's stored
vector tested, until MAX_RANKED match (at most WALK_ROWS of them; the index finds any older
matches still wanted). Otherwise the GIN index finds every match, and the newest are taken
(`PostgresSearch.ranked`); the sample and the index are asked in one statement, which reads
the index only when the sample says so. The sample decides the cost only: every way gives
exactly the newest matches, whatever plan PostgreSQL picks (serial or parallel, with or
without statistics; tests/test_search.py loads 30,000 never-analysed articles to check it).
Results are then loaded a page at a time (`SearchResults`): one query for the page's rows
with their highlighted titles and snippets, plus the loading plan's prefetches. A known slow
case: a quoted phrase of two words found in most articles but rarely side by side
('"said the"') makes PostgreSQL read every article holding both words, since the index knows
words, not their positions.

`search_names` is kept by Python, and PostgreSQL re-indexes an article only when its title,
summary, body or names really change (migration 0005's WHEN clause). A new article starts
filed under its source's name; adding or removing bylines, regions, themes, reports or tags
refreshes its names (signals below), and inside `search_documents_refreshed_once()` (an
import's store stage, the admin's article form) all of those changes refresh each article
once, at the end. Renaming or deleting a source, author, region, theme, report or tag
refreshes its articles in a background task once the change commits (articles/tasks.py),
never inside the request. A bulk insert that bypasses `save()` should call
`refresh_search_documents(ids)` afterwards; the trigger indexes title, summary and body by
itself either way.
"""

from __future__ import annotations

import html
import math
import re
import threading
from collections.abc import Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial

from django.contrib.postgres.search import SearchHeadline, SearchQuery
from django.db import connection, models, transaction
from django.db.models import Case, F, IntegerField, Q, Value, When
from django.db.models.functions import Left
from django.db.models.signals import m2m_changed, post_delete, post_save, pre_delete, pre_save
from django.dispatch import receiver
from django.utils.safestring import SafeString, mark_safe
from taggit.models import Tag, TaggedItem

from articles import filing
from articles.filing import FiledRow
from articles.models import (
    AlsoReportedBy,
    Article,
    ArticleBlockOverride,
    Author,
    Byline,
    Correction,
    InDepthReport,
    Region,
    Source,
    Theme,
)
from articles.sanitize import plain_text

# Must match the configuration the trigger in migration 0003 indexes with.
SEARCH_CONFIG = "english"
FRESHNESS_DAYS = 30
MAX_QUERY_LENGTH = 200
# Ranking is done over at most this many matches: on PostgreSQL the newest ones (finding
# the newest matches walks the publication-date index; finding the best ones would mean
# scoring every match of a common word). A reader never pages this deep.
MAX_RANKED = 1000
# How the newest matches are found (`PostgresSearch.ranked`): when at least WALK_SHARE of the
# SAMPLE_ROWS newest articles match, by reading articles newest first, at most WALK_ROWS of
# them; otherwise, and for what the walk did not reach, from the GIN index.
SAMPLE_ROWS = 100
WALK_SHARE = 0.5
WALK_ROWS = 3000
SNIPPET_CHARACTERS = 240
# ts_headline parses and stems every word it is given, and its time grows with the text: 20
# headlines over 3,000 characters each took about 8 ms, over 1,500 about 3 ms (bench archive,
# bench/README.md). A snippet is looked for in the start of the body only (a few paragraphs);
# when no match is there (a match further down, or in the title, summary or names only), the
# result card shows the article's summary instead, or the body's opening when it has none.
HEADLINE_SOURCE_CHARACTERS = 1500
NAME_SEPARATOR = " · "

# ts_headline marks matches with these; everything else in its output is escaped before the
# markers become <mark> elements. Control characters cannot occur in stored text because
# `strip_control_characters` removes them on save.
_START, _STOP = "\x02", "\x03"
_TAG = re.compile(r"<[^>]*>")
_WHITESPACE = re.compile(r"\s+")


# ---------------------------------------------------------------------------------------------
# The reader's query


@dataclass(frozen=True)
class ParsedQuery:
    """A web-search query: every group must match (any one of its terms); no excluded term may.

    `"climate change" floods OR drought -sport` becomes
    groups=[["climate change"], ["floods", "drought"]], excluded=["sport"].
    """

    groups: list[list[str]] = field(default_factory=list)
    excluded: list[str] = field(default_factory=list)

    def __bool__(self):
        return bool(self.groups)

    @property
    def positive_terms(self) -> list[str]:
        return [term for group in self.groups for term in group]


_TOKEN = re.compile(r'(-?)"([^"]*)"?|(\S+)')
_EDGE_PUNCTUATION = re.compile(r"^[^\w]+|[^\w]+$")


def normalise_query(text: str | None) -> str:
    return _WHITESPACE.sub(" ", (text or "").replace("\x00", "")).strip()[:MAX_QUERY_LENGTH]


def parse_query(text: str | None) -> ParsedQuery:
    """Read web-search syntax the way PostgreSQL's websearch_to_tsquery does, roughly."""
    groups: list[list[str]] = []
    excluded: list[str] = []
    join_next = False
    for match in _TOKEN.finditer(normalise_query(text)):
        negated, phrase, word = match.groups()
        if word is not None:
            if word.upper() == "OR":
                join_next = bool(groups)
                continue
            negated = "-" if word.startswith("-") and len(word) > 1 else ""
            term = _EDGE_PUNCTUATION.sub("", word[1:] if negated else word)
        else:
            term = " ".join(phrase.split())
        if not term:
            continue
        if negated:
            excluded.append(term)
        elif join_next:
            groups[-1].append(term)
        else:
            groups.append([term])
        join_next = False
    return ParsedQuery(groups=groups, excluded=excluded)


# ---------------------------------------------------------------------------------------------
# Highlighting, shared by both backends


def mark_terms(text: str, terms: list[str]) -> SafeString:
    """`text` escaped, with every occurrence of a term wrapped in <mark>."""
    pattern = _terms_pattern(terms)
    if pattern is None:
        return mark_safe(html.escape(text))  # noqa: S308 - escaped just now
    pieces, position = [], 0
    for match in pattern.finditer(text):
        pieces.append(html.escape(text[position : match.start()]))
        pieces.append(f"<mark>{html.escape(match.group())}</mark>")
        position = match.end()
    pieces.append(html.escape(text[position:]))
    return mark_safe("".join(pieces))  # noqa: S308 - every piece is escaped


def excerpt_around(text: str, terms: list[str], length: int = SNIPPET_CHARACTERS) -> str:
    """About `length` characters of `text` around the first term found, cut at spaces."""
    pattern = _terms_pattern(terms)
    first = pattern.search(text) if pattern else None
    if len(text) <= length:
        return text
    start = 0 if first is None else max(0, first.start() - length // 3)
    if start:
        start = text.find(" ", start) + 1 or start
    end = min(len(text), start + length)
    if end < len(text):
        end = text.rfind(" ", start, end) if text.rfind(" ", start, end) > start else end
    excerpt = text[start:end].strip()
    return ("… " if start else "") + excerpt + (" …" if end < len(text) else "")


def _terms_pattern(terms: list[str]) -> re.Pattern | None:
    terms = sorted({term for term in terms if term}, key=len, reverse=True)
    if not terms:
        return None
    return re.compile("|".join(re.escape(term) for term in terms), re.IGNORECASE)


def _from_headline(headline: str, *, markup: bool) -> SafeString:
    """Turn ts_headline output (text with _START/_STOP around matches) into safe HTML.

    With `markup`, the headline came from HTML (the body): tags are dropped and entities
    decoded before everything is escaped again.
    """
    pieces = []
    for index, piece in enumerate(re.split(f"[{_START}{_STOP}]", headline or "")):
        if markup:
            piece = html.unescape(_TAG.sub(" ", piece))
        piece = html.escape(_WHITESPACE.sub(" ", piece))
        pieces.append(f"<mark>{piece}</mark>" if index % 2 else piece)
    return mark_safe("".join(pieces).strip())  # noqa: S308 - every piece is escaped


# ---------------------------------------------------------------------------------------------
# Backends


class PostgresSearch:
    """Full-text search on the stored vector; see the module docstring for the ranking."""

    vendor = "postgresql"

    def query(self, text: str) -> SearchQuery:
        return SearchQuery(normalise_query(text), search_type="websearch", config=SEARCH_CONFIG)

    def ranked(self, articles: models.QuerySet, text: str) -> list[tuple]:
        """(pk, score, published_at) of the newest MAX_RANKED matches, each scored.

        How common the query's words are decides how to find them, and a sample tells: the
        SAMPLE_ROWS newest of `articles`, their stored vectors tested. When fewer than
        WALK_SHARE of them match, the GIN index finds every match and the newest MAX_RANKED
        are scored. Otherwise matches are everywhere, and reading `articles` newest first
        (the sample was its beginning) meets MAX_RANKED of them soon; that walk stops after
        WALK_ROWS articles, and what it did not reach comes from the index, among the older
        articles only. Every way gives exactly the newest matches: the sample only decides
        the cost.
        """
        query = self.query(text)
        newest = articles.order_by("-published_at", "-pk")
        common, found = self._sampled(newest, text)
        if not common:
            return found
        found = found[:MAX_RANKED]
        if len(found) < MAX_RANKED:
            rest = newest[SAMPLE_ROWS:WALK_ROWS]
            found += self._scored(rest, text, walk=MAX_RANKED - len(found))
        if len(found) < MAX_RANKED:
            walked = newest.values("pk")[:WALK_ROWS]
            older = newest.filter(search_vector=query).exclude(pk__in=walked)
            found += self._scored(older[: MAX_RANKED - len(found)], text)
        return found

    def _sampled(self, newest: models.QuerySet, text: str) -> tuple[bool, list[tuple]]:
        """Whether the words are common, and the rows `ranked` starts from: when they are,
        the sample's matches, newest first; otherwise every match the index finds, the
        newest MAX_RANKED of them, scored.

        One statement answers both, so that a search for rare words (most searches) costs
        one round trip. The condition on each branch names no column of it: PostgreSQL
        tests it once, before reading anything for that branch, and the sample is read once.
        """
        sample, sample_params = self._scoring(newest[:SAMPLE_ROWS], text, walk=SAMPLE_ROWS)
        matches = newest.filter(search_vector=self.query(text))[:MAX_RANKED]
        indexed, indexed_params = self._scoring(matches, text)
        statement = (
            f"WITH sample AS MATERIALIZED ({sample}),"  # noqa: S608 - see _scoring
            " common AS (SELECT count(*) >= %s AS common FROM sample)"
            " SELECT sample.*, TRUE FROM sample WHERE (SELECT common FROM common)"
            f" UNION ALL SELECT indexed.*, FALSE FROM ({indexed}) AS indexed"
            " WHERE NOT (SELECT common FROM common)"
        )
        common_from = math.ceil(SAMPLE_ROWS * WALK_SHARE)
        with connection.cursor() as cursor:
            cursor.execute(statement, (*sample_params, common_from, *indexed_params))
            rows = cursor.fetchall()
        common = bool(rows) and rows[0][3]
        found = [(pk, score, published_at) for pk, score, published_at, _common in rows]
        if common:  # the walk goes on from the sample, in its order
            found.sort(key=lambda row: (row[2], row[0]), reverse=True)
        return common, found

    def _scored(self, candidates: models.QuerySet, text: str, *, walk: int = 0) -> list[tuple]:
        statement, params = self._scoring(candidates, text, walk=walk)
        with connection.cursor() as cursor:
            cursor.execute(statement, params)
            return cursor.fetchall()

    def _scoring(self, candidates: models.QuerySet, text: str, *, walk: int = 0) -> tuple:
        """SQL and parameters scoring `candidates`, a sliced, ordered queryset; with `walk`,
        only the first `walk` of them that match, testing their stored vectors in order and
        after everything else.

        PostgreSQL would test the words itself, but before the filters (it deems the test
        cheap, yet each one reads a vector of several kilobytes from TOAST storage), so a
        theme filter made it read seven vectors for every article it kept. Written outside
        the sliced subquery, the test comes after it: PostgreSQL never moves a condition
        into a subquery that has a LIMIT.
        """
        candidates = candidates.annotate(
            candidate_id=F("pk"),
            candidate_date=F("published_at"),
            candidate_vector=F("search_vector"),
        ).values("candidate_id", "candidate_date", "candidate_vector")
        sql, params = candidates.query.sql_with_params()
        tsquery = "websearch_to_tsquery(%s::regconfig, %s)"
        words = (SEARCH_CONFIG, normalise_query(text))
        score = (
            f"ts_rank(candidate_vector, {tsquery}) * (1.0 + 1.0 / (1.0 + "
            "GREATEST(EXTRACT(EPOCH FROM (NOW() - candidate_date)), 0) / 86400.0 / %s))"
        )
        params = (*words, float(FRESHNESS_DAYS), *params)
        condition = ""
        if walk:
            # The ORDER BY repeats the subquery's, which delivers its rows in that order
            # (serial or parallel): it costs no sort and makes the LIMIT exact.
            condition = (
                f" WHERE candidate_vector @@ {tsquery}"
                " ORDER BY candidate_date DESC, candidate_id DESC LIMIT %s"
            )
            params = (*params, *words, walk)
        # Only SQL written here and SQL Django compiled; every value is a parameter.
        statement = (
            f"SELECT candidate_id, {score} AS score, candidate_date"  # noqa: S608
            f" FROM ({sql}) AS candidates{condition}"
        )
        return statement, params

    def headlines(self, text: str) -> dict[str, models.Expression]:
        """Annotations that make a page's own query bring its highlighted title and snippet."""
        query = self.query(text)
        marks = {"start_sel": _START, "stop_sel": _STOP, "config": SEARCH_CONFIG}
        return {
            "title_headline": SearchHeadline("title", query, highlight_all=True, **marks),
            "body_headline": SearchHeadline(
                Left("body", HEADLINE_SOURCE_CHARACTERS),
                query,
                max_fragments=2,
                min_words=12,
                max_words=30,
                fragment_delimiter=" … ",
                **marks,
            ),
        }

    def highlight(self, article: Article, text: str) -> None:
        """Set `title_html` and `snippet_html` from the annotations of `headlines`."""
        article.title_html = _from_headline(article.title_headline, markup=False)
        if _START in (article.body_headline or "") or not article.dek:
            article.snippet_html = _from_headline(article.body_headline, markup=True)
        else:
            article.snippet_html = mark_safe("")  # the card shows the summary instead


class SimpleSearch:
    """Substring matching for databases without full-text search (SQLite)."""

    vendor = "other"
    fields = ("title", "dek", "body", "search_names")

    def _anywhere(self, term: str) -> Q:
        condition = Q()
        for name in self.fields:
            condition |= Q(**{f"{name}__icontains": term})
        return condition

    def ranked(self, articles: models.QuerySet, text: str) -> list[tuple]:
        """(pk, score, published_at) of the MAX_RANKED best matches."""
        parsed = parse_query(text)
        score = Value(0)
        for group in parsed.groups:
            in_group = Q()
            in_title, in_dek = Q(), Q()
            for term in group:
                in_group |= self._anywhere(term)
                in_title |= Q(title__icontains=term)
                in_dek |= Q(dek__icontains=term)
            articles = articles.filter(in_group)
            score = score + Case(
                When(in_title, then=Value(4)),
                When(in_dek, then=Value(2)),
                default=Value(1),
                output_field=IntegerField(),
            )
        for term in parsed.excluded:
            articles = articles.exclude(self._anywhere(term))
        return list(
            articles.annotate(search_score=score)
            .order_by("-search_score", "-published_at", "-pk")
            .values_list("pk", "search_score", "published_at")[:MAX_RANKED]
        )

    def headlines(self, text: str) -> dict[str, models.Expression]:
        """The body, under a name of its own: loading plans may leave the field out."""
        return {"snippet_source": F("body")}

    def highlight(self, article: Article, text: str) -> None:
        """Set `title_html` and `snippet_html`, marking the terms as written."""
        terms = parse_query(text).positive_terms
        article.title_html = mark_terms(article.title, terms)
        body_text = plain_text(article.snippet_source or "")
        pattern = _terms_pattern(terms)
        if article.dek and (pattern is None or pattern.search(body_text) is None):
            article.snippet_html = mark_safe("")  # the card shows the summary instead
        else:
            article.snippet_html = mark_terms(excerpt_around(body_text, terms), terms)


def search_backend() -> PostgresSearch | SimpleSearch:
    return PostgresSearch() if connection.vendor == "postgresql" else SimpleSearch()


class SearchResults(Sequence):
    """Ranked matches of a search, loaded a page at a time, highlighted.

    Hand it to a Paginator: its length is the number of ranked matches (at most
    MAX_RANKED, see `capped`) and a slice is one query for that page's rows with their
    highlighted titles and snippets (plus the loading plan's prefetches), in rank order.
    """

    def __init__(self, ranked: list[tuple], articles: models.QuerySet, text: str):
        ranked.sort(key=lambda row: (row[1], row[2], row[0]), reverse=True)
        self.ids = [row[0] for row in ranked]
        self.articles = articles
        self.text = text
        self.limit = MAX_RANKED

    @property
    def capped(self) -> bool:
        return len(self.ids) >= self.limit

    def __len__(self):
        return len(self.ids)

    def __getitem__(self, index):
        if not isinstance(index, slice):
            return self[index : index + 1 or None][0]
        ids = self.ids[index]
        if not ids:
            return []
        backend = search_backend()
        page = self.articles.filter(pk__in=ids).annotate(**backend.headlines(self.text))
        by_pk = {article.pk: article for article in page}
        for article in by_pk.values():
            backend.highlight(article, self.text)
        return [by_pk[pk] for pk in ids if pk in by_pk]


def search_articles(articles: models.QuerySet, text: str) -> SearchResults:
    """`articles` that match `text`, best first (an empty query matches nothing); a page of
    them comes with `title_html` and `snippet_html` (see `SearchResults`)."""
    ranked = search_backend().ranked(articles, text) if parse_query(text) else []
    return SearchResults(ranked, articles, text)


# ---------------------------------------------------------------------------------------------
# Keeping `search_names` current


_RARE_MODELS = {
    "block_overrides": ArticleBlockOverride,
    "corrections": Correction,
    "also_reported_by": AlsoReportedBy,
}


def filed_rows_by_article(article_ids) -> dict[int, list[FiledRow]]:
    """Every subject an article is filed under (its byline's authors, regions, themes,
    reports and tags, with their ids, names and slugs), and its block overrides, corrections
    and other outlets' credits (their ids only), in one query."""
    article_ids = list(article_ids)
    if not article_ids:
        return {}
    content_type_id = _article_content_type_id()

    def filed(relation, rank, subject, name="name"):
        return (
            Value(relation),
            rank,
            f"{subject}_id",
            f"{subject}__{name}",
            f"{subject}__slug",
        )

    rows = (
        Byline.objects.filter(article_id__in=article_ids)
        .values_list("article_id", *filed("authors", "position", "author"))
        .order_by()
        .union(
            Article.regions.through.objects.filter(article_id__in=article_ids)
            .values_list("article_id", *filed("regions", Value(0), "region"))
            .order_by(),
            Article.themes.through.objects.filter(article_id__in=article_ids)
            .values_list("article_id", *filed("themes", Value(0), "theme"))
            .order_by(),
            Article.reports.through.objects.filter(article_id__in=article_ids)
            .values_list("article_id", *filed("reports", Value(0), "indepthreport", "title"))
            .order_by(),
            # A tag's rank is the order it was added in.
            TaggedItem.objects.filter(content_type_id=content_type_id, object_id__in=article_ids)
            .values_list("object_id", *filed("tags", "pk", "tag"))
            .order_by(),
            # Of the rare relations, only whether there is any.
            *(
                model.objects.filter(article_id__in=article_ids)
                .values_list("article_id", Value(relation), Value(0), "pk", Value(""), Value(""))
                .order_by()
                for relation, model in _RARE_MODELS.items()
            ),
            all=True,
        )
    )
    filed_rows: dict[int, list[FiledRow]] = {pk: [] for pk in article_ids}
    for article_id, *row in rows:
        filed_rows[article_id].append(FiledRow(*row))
    return filed_rows


def searched_names(rows: list[FiledRow]) -> list[str]:
    """The names an article filed as `rows` is found by: authors in byline order, then regions,
    themes, reports and tags, each kind in alphabetical order, so the same filing always gives
    the same document."""
    names = [
        row.name
        for row in sorted(rows, key=lambda row: (row.rank, row.name))
        if row.relation == "authors"
    ]
    for relation in ("regions", "themes", "reports", "tags"):
        names.extend(sorted(row.name for row in rows if row.relation == relation))
    return names


def search_names_for(source_name: str, names: list[str]) -> str:
    return NAME_SEPARATOR.join([source_name, *names])


def filing_columns(source_name: str, rows: list[FiledRow]) -> dict:
    """What an article filed as `rows` keeps of its filing on its row: `search_names` and
    `filed_under` (articles/filing.py). A caller that files a new article itself (the
    importer's store stage) sets them before the INSERT, from `filing.rows_of(...)`: they are
    right on the first write, and the refresh that follows finds nothing to change."""
    return {
        "search_names": search_names_for(source_name, searched_names(rows)),
        "filed_under": filing.snapshot(rows),
    }


def refresh_search_documents(article_ids, batch_size: int = 1000) -> int:
    """Recompute `search_names` and `filed_under` (articles/filing.py) for these articles and
    write the ones that changed, in one UPDATE per batch.

    Returns how many changed. PostgreSQL's trigger re-indexes those whose names changed
    (migration 0005).
    """
    article_ids = sorted(set(article_ids))
    refreshed = 0
    for start in range(0, len(article_ids), batch_size):
        batch = article_ids[start : start + batch_size]
        filed_rows = filed_rows_by_article(batch)
        changed = []
        for article in (
            Article.objects.filter(pk__in=batch)
            .only("pk", "search_names", "filed_under", "source__name")
            .select_related("source")
        ):
            current = filing_columns(article.source.name, filed_rows[article.pk])
            if (article.search_names, article.filed_under) != tuple(current.values()):
                article.search_names, article.filed_under = current.values()
                changed.append(article)
        if changed:
            refreshed += Article.objects.bulk_update(changed, ["search_names", "filed_under"])
    return refreshed


class _Pending(threading.local):
    def __init__(self):
        self.batches: list[set[int]] = []


_pending = _Pending()


@contextmanager
def search_documents_refreshed_once():
    """Refresh each article's search document once, when the block ends.

    Inside the block, a byline, region, theme, report or tag added to or removed from an
    article, and a save of an existing article, only note the article; the end of the block
    recomputes every noted article's names in one pass and writes those that changed (the
    search vector is then rebuilt once per article). Storing an imported item and saving an
    article in the admin run inside one. Blocks nest: an inner block hands its articles to
    the outer one. When the block raises, nothing is refreshed: its transaction is expected
    to roll back.
    """
    batch: set[int] = set()
    _pending.batches.append(batch)
    try:
        yield
    finally:
        _pending.batches.pop()
    if _pending.batches:
        _pending.batches[-1].update(batch)
    elif batch:
        refresh_search_documents(batch)


def _refresh(article_ids) -> None:
    if _pending.batches:
        _pending.batches[-1].update(article_ids)
    else:
        refresh_search_documents(article_ids)


def _article_content_type_id() -> int:
    from django.contrib.contenttypes.models import ContentType

    return ContentType.objects.get_for_model(Article).pk


@receiver(pre_save, sender=Article, dispatch_uid="search_names_on_article_save")
def _names_on_save(sender, instance: Article, raw=False, **kwargs):
    """A new article starts filed under its source (unless its creator filed it already);
    an existing one is re-read, at once or at the end of the refresh block it is saved in."""
    if raw or not instance.source_id:
        return
    if instance.pk is None:
        instance.search_names = instance.search_names or instance.source.name
    elif _pending.batches:
        _pending.batches[-1].add(instance.pk)
    else:
        rows = filed_rows_by_article([instance.pk])[instance.pk]
        instance.search_names, instance.filed_under = filing_columns(
            instance.source.name, rows
        ).values()


@receiver(post_save, sender=Byline, dispatch_uid="search_names_on_byline_save")
@receiver(post_delete, sender=Byline, dispatch_uid="search_names_on_byline_delete")
def _names_on_byline_change(sender, instance: Byline, raw=False, **kwargs):
    if not raw:
        _refresh([instance.article_id])


def _filing_on_rare_relation_change(sender, instance, raw=False, created=True, **kwargs):
    """A block override, correction or credit added or removed changes which of them the
    article's row says it has (articles/filing.py); an edit of one does not."""
    if created and not raw:
        _refresh([instance.article_id])


for _model in _RARE_MODELS.values():
    post_save.connect(_filing_on_rare_relation_change, sender=_model)
    post_delete.connect(_filing_on_rare_relation_change, sender=_model)


_ARTICLE_RELATIONS = (
    Article.regions.through,
    Article.themes.through,
    Article.reports.through,
    TaggedItem,
)


@receiver(m2m_changed, dispatch_uid="search_names_on_relations_change")
def _names_on_relations_change(sender, instance, action, reverse, pk_set, **kwargs):
    if sender not in _ARTICLE_RELATIONS:
        return
    if action == "pre_clear" and reverse:
        instance._search_articles_before_clear = list(
            instance.articles.values_list("pk", flat=True)
        )
    if action not in ("post_add", "post_remove", "post_clear"):
        return
    if not reverse:
        article_ids = [instance.pk]
    elif action == "post_clear":
        article_ids = getattr(instance, "_search_articles_before_clear", [])
    else:
        article_ids = pk_set or []
    _refresh(article_ids)


# Renaming or deleting something articles are filed under changes what they are found by. A
# source, tag or region can be filed under thousands of articles, so they are refreshed by a
# background task (articles/tasks.py) once the change commits, not inside the request.
_NAMED = {
    Author: "name",
    Source: "name",
    Region: "name",
    Theme: "name",
    InDepthReport: "title",
    Tag: "name",
}


def articles_filed_under(instance) -> models.QuerySet:
    """The articles whose search document names `instance` (a source, author, tag, ...)."""
    if isinstance(instance, Author):
        filed = Article.objects.filter(bylines__author=instance)
    elif isinstance(instance, Source):
        filed = Article.objects.filter(source=instance)
    elif isinstance(instance, Tag):
        filed = Article.objects.filter(tags=instance)
    else:
        filed = instance.articles.all()
    return filed.order_by().values_list("pk", flat=True).distinct()


def _refresh_after_commit(task_name: str, *args) -> None:
    from articles import tasks

    transaction.on_commit(partial(getattr(tasks, task_name).enqueue, *args))


@receiver(pre_save, dispatch_uid="search_names_remember_old_name")
def _remember_old_name(sender, instance, raw=False, **kwargs):
    if sender in _NAMED and not raw and instance.pk:
        instance._search_old_name = (
            sender._default_manager.filter(pk=instance.pk)
            .values_list(_NAMED[sender], "slug")
            .first()
        )


@receiver(post_save, dispatch_uid="search_names_on_rename")
def _names_on_rename(sender, instance, created, raw=False, **kwargs):
    if sender not in _NAMED or created or raw:
        return
    # Pages print the slug too (the subject's address, articles/filing.py).
    current = (getattr(instance, _NAMED[sender]), instance.slug)
    if getattr(instance, "_search_old_name", None) != current:
        _refresh_after_commit("refresh_filed_under", sender._meta.label_lower, instance.pk)


@receiver(pre_delete, dispatch_uid="search_names_remember_filed_articles")
def _remember_filed_articles(sender, instance, **kwargs):
    if sender in _NAMED and sender is not Source:
        instance._search_filed_articles = list(articles_filed_under(instance))


@receiver(post_delete, dispatch_uid="search_names_on_delete")
def _names_on_delete(sender, instance, **kwargs):
    filed = getattr(instance, "_search_filed_articles", None) if sender in _NAMED else None
    if filed:
        _refresh_after_commit("refresh_search_documents_task", filed)
