"""From the words a feed uses to our taxonomy and our author records.

Feed categories go through the feed's mapping rules: a matching rule assigns a region, theme,
in-depth report or tag. A category no rule matches becomes a tag when the feed allows it
(`Feed.unmapped_categories_as_tags`, on by default; WordPress exports have no feed, so their
categories and tags all become tags unless rules are passed in). Item tags are always tags.

Authors are matched by name, ignoring case, first among the source's authors and then among
all authors; a name seen for the first time becomes a new `Author` of the source. Imported
names never become user accounts.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import partial

from django.db import transaction
from django.db.models import Q
from taggit.models import Tag

from articles.models import Author, InDepthReport, Region, Source, Theme
from articles.sanitize import is_http_url, strip_control_characters
from syndication.items import ParsedAuthor
from syndication.models import MappingRule

# taggit's Tag.name is 100 characters; a flood of categories is cut to a sane number (E7).
MAX_TAG_LENGTH = 100
MAX_TAGS = 50
MAX_AUTHOR_NAME = 200
MAX_AUTHORS = 20


@dataclass
class Classification:
    regions: list[Region] = field(default_factory=list)
    themes: list[Theme] = field(default_factory=list)
    reports: list[InDepthReport] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)

    def add_tag(self, name: str) -> None:
        name = " ".join(strip_control_characters(name).split())[:MAX_TAG_LENGTH].strip()
        if not name or len(self.tags) >= MAX_TAGS:
            return
        if name.casefold() not in {tag.casefold() for tag in self.tags}:
            self.tags.append(name)


def _add_once(targets: list, value) -> None:
    if value is not None and all(existing.pk != value.pk for existing in targets):
        targets.append(value)


def classify(
    categories: Iterable[str],
    tags: Iterable[str] = (),
    rules: Sequence[MappingRule] = (),
    *,
    unmapped_as_tags: bool = True,
) -> Classification:
    """Apply `rules` to `categories`; every rule that matches a category contributes its target."""
    result = Classification()
    for category in categories:
        matched = False
        for rule in rules:
            if not rule.matches(category):
                continue
            matched = True
            _add_once(result.regions, rule.region)
            _add_once(result.themes, rule.theme)
            _add_once(result.reports, rule.report)
            if rule.tag:
                result.add_tag(rule.tag)
        if not matched and unmapped_as_tags:
            result.add_tag(category)
    for tag in tags:
        result.add_tag(tag)
    return result


class KnownNames:
    """The authors and tags one import run has already looked up or created, by upper-cased
    name, so that a long import asks the database only about names it has not met yet.

    A row the run creates is remembered only once the transaction that created it commits: an
    item rolled back must not leave the next item pointing at a row that never existed.
    """

    def __init__(self):
        self.authors: dict[tuple[int, str], Author] = {}
        self.tags: dict[str, Tag] = {}

    def forget(self) -> None:
        self.authors.clear()
        self.tags.clear()

    def remember_author(self, source: Source, key: str, author: Author, *, created: bool):
        self._remember(self.authors, (source.pk, key), author, created=created)

    def remember_tag(self, key: str, tag: Tag, *, created: bool):
        self._remember(self.tags, key, tag, created=created)

    @staticmethod
    def _remember(memo: dict, key, row, *, created: bool) -> None:
        if created:
            transaction.on_commit(partial(memo.__setitem__, key, row))
        else:
            memo[key] = row


def clean_author_name(name: str) -> str:
    return " ".join(strip_control_characters(name or "").split())[:MAX_AUTHOR_NAME].strip()


def find_or_create_author(parsed: ParsedAuthor, source: Source) -> Author | None:
    """The author called `parsed.name` (ignoring case): the source's own, any, or a new one."""
    authors = match_authors([parsed], source, default=False)
    return authors[0] if authors else None


def match_authors(
    parsed_authors: Iterable[ParsedAuthor],
    source: Source,
    *,
    default: bool = True,
    known_names: KnownNames | None = None,
) -> list[Author]:
    """The byline of an item, in order and without repeats; the source's default when empty.

    Every name `known_names` does not hold yet is looked up in one query; only names seen for
    the first time cost more (the new author's row).
    """
    memo = known_names or KnownNames()
    wanted: dict[str, ParsedAuthor] = {}
    for parsed in parsed_authors:
        name = clean_author_name(parsed.name)
        if name and name.upper() not in wanted and len(wanted) < MAX_AUTHORS:
            wanted[name.upper()] = ParsedAuthor(name=name, url=parsed.url)
    known: dict[str, Author] = {
        key: memo.authors[(source.pk, key)] for key in wanted if (source.pk, key) in memo.authors
    }
    unknown = [parsed for key, parsed in wanted.items() if key not in known]
    if unknown:
        same_name = Q()
        for parsed in unknown:
            same_name |= Q(name__iexact=parsed.name)
        # The source's own author first, then the oldest; `iexact` compares like UPPER().
        for author in Author.objects.filter(same_name).order_by("pk"):
            key = author.name.upper()
            mine = author.source_id == source.pk
            if key not in known or (mine and known[key].source_id != source.pk):
                known[key] = author
        for key in {parsed.name.upper() for parsed in unknown} & known.keys():
            memo.remember_author(source, key, known[key], created=False)
    authors: list[Author] = []
    for key, parsed in wanted.items():
        author = known.get(key)
        if author is None:
            author = Author(name=parsed.name, source=source)
            if is_http_url(parsed.url):
                author.link = parsed.url[:500]
            author.save()
            known[key] = author
            memo.remember_author(source, key, author, created=True)
        if all(a.pk != author.pk for a in authors):
            authors.append(author)
    if not authors and default and source.default_author_id:
        authors.append(source.default_author)
    return authors


def tags_named(names: Iterable[str], *, known_names: KnownNames | None = None) -> list[Tag]:
    """The tags with these names (ignoring case, as taggit is set up to), in order.

    Every name `known_names` does not hold yet is looked up in one query; a name no tag has
    yet becomes a new tag.
    """
    memo = known_names or KnownNames()
    wanted = {name.upper(): name for name in names if name}
    if not wanted:
        return []
    known: dict[str, Tag] = {key: memo.tags[key] for key in wanted if key in memo.tags}
    unknown = [name for key, name in wanted.items() if key not in known]
    if unknown:
        same_name = Q()
        for name in unknown:
            same_name |= Q(name__iexact=name)
        for tag in Tag.objects.filter(same_name).order_by("pk"):
            key = tag.name.upper()
            if key not in known:
                known[key] = tag
                memo.remember_tag(key, tag, created=False)
    tags = []
    for key, name in wanted.items():
        if key not in known:
            known[key] = Tag.objects.create(name=name)
            memo.remember_tag(key, known[key], created=True)
        if all(tag.pk != known[key].pk for tag in tags):
            tags.append(known[key])
    return tags
