"""Generate a large, realistic archive of published articles for load tests and benchmarks.

Rows are written with `bulk_create` in batches, bypassing `save()`: every piece of HTML is
built from fragments that went through `clean_html` once, so bodies are sanitized by
construction, and `search_names` is filled in the format `articles.search.engine` keeps, so the
PostgreSQL search trigger indexes each article as it is inserted. Running the command again
adds more articles (the taxonomy, authors and sources are reused) and never reuses a slug.
"""

import datetime
import random
import time
from dataclasses import dataclass

from django.contrib.contenttypes.models import ContentType
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.db.models import Max, Q
from django.utils import timezone
from django.utils.text import slugify
from taggit.models import Tag, TaggedItem

from articles import filing
from articles.models import (
    Article,
    ArticleStatus,
    Author,
    Byline,
    InDepthReport,
    Region,
    RightsBasis,
    RightsRecord,
    SiteBlock,
    SiteBlockKey,
    Source,
    Theme,
)
from articles.sanitize import clean_html
from articles.search.engine import filing_columns
from articles.site.generation import invalidate_everything

SOURCE_COUNT = 40
AUTHOR_COUNT = 500
TAG_COUNT = 300
TOPIC_NAME_COUNT = 3000
PARAGRAPH_POOL_SIZE = 400
ARCHIVE_YEARS = 10


def word_list(text: str) -> list[str]:
    return text.split()


# Everyday words of news writing, most frequent first (drawn with Zipf-like weights).
COMMON_WORDS = word_list(
    """
said year people government new city council report plan local public minister
million water school health court police market workers community state officials service
months country families river rain company budget price food land energy election village
children project board time change housing farmers law years support program region road
coast policy data study trade team residents hospital women cost director union
security case week rights climate forest power group industry network night office decision
history culture museum festival bridge harbour station airport railway factory mine port
drought flood storm heat season harvest fishing crops cattle wheat rice coffee cocoa timber
teachers students nurses doctors judges lawyers journalists editors writers artists
musicians voters mayor governor senator president parliament committee agency ministry
ruling appeal inquiry audit contract tender loan debt tax wages pension benefit
rent mortgage shelter clinic vaccine outbreak patients beds staff shortage strike protest
march rally petition campaign debate vote result count turnout ballot candidate party
coalition opposition treaty talks summit deal ceasefire aid refugees camp border crossing
permit visa license quota tariff export import shipment cargo container fuel diesel grid
solar wind turbine dam reservoir pipeline well aquifer wetland reef estuary glacier valley
"""
)

LINKING_WORDS = word_list(
    """
the a of to in and for on with at by from over after before during under between
"""
)

VERBS = word_list(
    """
opens closes approves rejects delays expands cuts raises lowers confirms denies reports
warns plans builds repairs reviews announces extends suspends restores signs debates
"""
)

FIRST_NAMES = word_list(
    """
Ada Bruno Carla Dmitri Elena Farid Greta Hiro Ines Jonas Kamala Luca Marta Nadia Oskar
Paula Quentin Rosa Samir Tove Umar Vera Wanjiru Xavier Yara Zoltan Amara Bilal Chiara Diego
Eszter Femi Gulnara Hamid Ilse Jun Kofi Leila Mateo Noor
"""
)

LAST_NAMES = word_list(
    """
Abara Berg Castillo Dalton Esposito Fischer Gomes Haddad Ivanova Jensen Kowalski Lindqvist
Moreau Nakamura Okafor Petrov Quispe Rahman Silva Tanaka Urquhart Varga Weber Xu Yilmaz
Zhou Almeida Byrne Costa Dubois Eriksen Ferreira Garcia Hansen Ibrahim Jovanovic Keller
Lopez Mensah Novak
"""
)

SOURCE_WORDS = (
    word_list("Northern Southern Eastern Western Coastal Highland Valley River Harbour Island"),
    word_list("Ledger Courier Dispatch Observer Chronicle Review Gazette Monitor Herald Record"),
)

REGIONS = {
    "Africa": ["Sahel", "Horn of Africa", "Great Lakes", "Southern Africa", "West Africa"],
    "Americas": ["Andes", "Amazon Basin", "Caribbean", "Central America", "Great Plains"],
    "Asia": ["Mekong", "South Asia", "Central Asia", "East Asia", "Himalaya"],
    "Europe": ["Baltic", "Balkans", "Iberia", "Alps", "North Sea"],
    "Middle East": ["Levant", "Gulf", "Anatolia", "Nile Delta", "Mesopotamia"],
    "Oceania": ["Pacific Islands", "Outback", "Tasman", "Coral Sea", "Torres Strait"],
}

THEMES = """
Climate|Labour|Health|Education|Housing|Elections|Justice|Energy|Water|Agriculture|Migration|
Media|Trade|Culture|Technology
""".replace("\n", "").split("|")

REPORTS = """
Rivers Under Pressure|The Price of Bread|Towns After the Mine|Who Owns the Coast|
Schools in Transition|The Grid Nobody Planned|Borders and Belonging|Heat in the City|
The Debt Years|Forests for Sale|Counting the Vote|Medicine on the Move
""".replace("\n", "").split("|")

SYLLABLES = word_list("ka lo mi ra ven dor sel tri no bal zu fen mar ost lin gra pe dun is vo")

SITE_BLOCKS = {
    SiteBlockKey.NOTE_TO_READERS: "<p>If this article was useful, share it with someone.</p>",
    SiteBlockKey.DISCLAIMER: "<p>The views in this article are those of its authors.</p>",
    SiteBlockKey.FAIR_USE: "<p>Republished with permission or under the licence shown.</p>",
    SiteBlockKey.MEDIA_INQUIRIES: "<p>Press questions: press@newsroom.example</p>",
    SiteBlockKey.COMMUNITY_LINKS: "<p>Join the discussion in our reader forum.</p>",
}


@dataclass
class Pools:
    """The things articles are filed under, created once and reused by later runs."""

    sources: list[Source]
    authors: list[Author]
    regions: list[Region]
    themes: list[Theme]
    reports: list[InDepthReport]
    tags: list[Tag]


def ensure_rows(model, rows: list, key: str) -> list:
    """Insert the rows whose `key` is not taken yet, then return every row by that key."""
    model._default_manager.bulk_create(rows, ignore_conflicts=True, batch_size=1000)
    keys = [getattr(row, key) for row in rows]
    found = {
        getattr(row, key): row for row in model._default_manager.filter(**{f"{key}__in": keys})
    }
    return [found[value] for value in keys if value in found]


def topic_names(count: int) -> list[str]:
    """Invented proper names (places, people, companies): rare words that make search real."""
    picker = random.Random(7)  # noqa: S311 - invented names, not secrets
    names: list[str] = []
    seen = set()
    while len(names) < count:
        name = "".join(picker.choice(SYLLABLES) for _ in range(picker.choice((2, 3))))
        if name not in seen:
            seen.add(name)
            names.append(name.capitalize())
    return names


class ArchiveWriter:
    def __init__(self, seed: int | None):
        self.random = random.Random(seed)  # noqa: S311 - sample content, not secrets
        self.topics = topic_names(TOPIC_NAME_COUNT)
        weights = [1 / (rank + 8) for rank in range(len(COMMON_WORDS))]
        self.common_weights = weights
        self.paragraphs = [self._paragraph() for _ in range(PARAGRAPH_POOL_SIZE)]
        self.headings = [
            clean_html(f"<h2>{self._words(3, 6).capitalize()}</h2>") for _ in range(60)
        ]

    # -- text ---------------------------------------------------------------------------

    def _words(self, low: int, high: int) -> str:
        count = self.random.randint(low, high)
        picked = self.random.choices(COMMON_WORDS, weights=self.common_weights, k=count)
        for position in range(1, count, 3):
            picked.insert(position, self.random.choice(LINKING_WORDS))
        return " ".join(picked)

    def _sentence(self, topic: str | None = None) -> str:
        words = self._words(6, 14)
        if topic:
            words = f"{topic} {self.random.choice(VERBS)} {words}"
        return words[0].upper() + words[1:] + "."

    def _paragraph(self) -> str:
        sentences = [self._sentence() for _ in range(self.random.randint(4, 7))]
        roll = self.random.random()
        if roll < 0.15:
            slug = slugify(self._words(2, 4))
            sentences[1] = f'<a href="https://reports.example/{slug}">{sentences[1]}</a>'
        elif roll < 0.3:
            sentences[0] = f"<strong>{sentences[0]}</strong>"
        elif roll < 0.35:
            return clean_html(f"<blockquote><p>{' '.join(sentences[:2])}</p></blockquote>")
        return clean_html(f"<p>{' '.join(sentences)}</p>")

    def body(self, topics: list[str]) -> str:
        lead = clean_html(
            "<p>" + " ".join(self._sentence(self.random.choice(topics)) for _ in range(4)) + "</p>"
        )
        parts = [lead]
        for index in range(self.random.randint(10, 13)):
            if index in (4, 9):
                parts.append(self.random.choice(self.headings))
            parts.append(self.random.choice(self.paragraphs))
        return "\n".join(parts)

    def title(self, topics: list[str]) -> str:
        words = f"{topics[0]} {self.random.choice(VERBS)} {self._words(3, 6)}"
        return words[0].upper() + words[1:]

    # -- pools --------------------------------------------------------------------------

    def pools(self) -> Pools:
        sources = ensure_rows(Source, self._sources(), "slug")
        rights = [
            RightsRecord(
                source=source,
                basis=list(RightsBasis)[index % len(RightsBasis)],
                copyright_holder=f"{source.name} Media",
                evidence="Syndication agreement, signed copy in the shared drive.",
                granted_on=datetime.date(2014, 1, 1),
            )
            for index, source in enumerate(sources)
        ]
        RightsRecord.objects.bulk_create(rights, ignore_conflicts=True)
        authors = ensure_rows(Author, self._authors(sources), "slug")

        parents = ensure_rows(Region, [Region(name=n, slug=slugify(n)) for n in REGIONS], "slug")
        children = [
            Region(name=child, slug=slugify(child), parent=parent)
            for parent in parents
            for child in REGIONS[parent.name]
        ]
        regions = ensure_rows(Region, children, "slug")
        themes = ensure_rows(Theme, [Theme(name=n, slug=slugify(n)) for n in THEMES], "slug")
        reports = ensure_rows(
            InDepthReport,
            [
                InDepthReport(title=t, slug=slugify(t), is_featured=i < 3)
                for i, t in enumerate(REPORTS)
            ],
            "slug",
        )
        tag_names = [name.lower() for name in self.topics[:TAG_COUNT]]
        Tag.objects.bulk_create(
            [Tag(name=name, slug=slugify(name)) for name in tag_names], ignore_conflicts=True
        )
        tags = list(Tag.objects.filter(Q(name__in=tag_names) | Q(slug__in=tag_names)))
        SiteBlock.objects.bulk_create(
            [SiteBlock(key=key, content=html) for key, html in SITE_BLOCKS.items()],
            ignore_conflicts=True,
        )
        return Pools(sources, authors, regions, themes, reports, tags)

    @staticmethod
    def _sources() -> list[Source]:
        adjectives, nouns = SOURCE_WORDS
        sources = []
        for index in range(SOURCE_COUNT):
            name = f"The {adjectives[index % 10]} {nouns[(index // 10 + index) % 10]}"
            slug = slugify(name)
            sources.append(Source(name=name, slug=slug, homepage=f"https://{slug}.example/"))
        return sources

    @staticmethod
    def _authors(sources: list[Source]) -> list[Author]:
        authors = []
        for index in range(AUTHOR_COUNT):
            first = FIRST_NAMES[index % len(FIRST_NAMES)]
            last = LAST_NAMES[(index // len(FIRST_NAMES) + index) % len(LAST_NAMES)]
            name = f"{first} {last}"
            authors.append(
                Author(name=name, slug=slugify(name), source=sources[index % len(sources)])
            )
        return authors

    # -- articles -----------------------------------------------------------------------

    def write(self, count: int, batch_size: int, progress=None) -> int:
        pools = self.pools()
        content_type_id = ContentType.objects.get_for_model(Article).pk
        serial = (Article.objects.aggregate(last=Max("pk"))["last"] or 0) + 1
        now = timezone.now()
        written = 0
        while written < count:
            size = min(batch_size, count - written)
            with transaction.atomic():
                self._write_batch(size, serial + written, pools, content_type_id, now)
            written += size
            if progress:
                progress(written)
        self._refresh_planner_statistics()
        invalidate_everything()
        return written

    @staticmethod
    def _refresh_planner_statistics():
        """After a bulk load, PostgreSQL's planner needs fresh row counts to pick indexes."""
        if connection.vendor != "postgresql":
            return
        tables = [Article, Byline, TaggedItem, Article.regions.through, Article.themes.through]
        tables.append(Article.reports.through)
        with connection.cursor() as cursor:
            for model in tables:
                cursor.execute(f"ANALYZE {connection.ops.quote_name(model._meta.db_table)}")

    def _write_batch(self, size: int, serial: int, pools: Pools, content_type_id, now):
        pick = self.random
        plans = []
        for number in range(serial, serial + size):
            topics = pick.sample(self.topics, 3)
            plans.append(
                {
                    "topics": topics,
                    "source": pick.choice(pools.sources),
                    "authors": pick.sample(pools.authors, pick.choices((1, 2, 3), (70, 25, 5))[0]),
                    "regions": pick.sample(pools.regions, pick.randint(1, 3)),
                    "themes": pick.sample(pools.themes, pick.randint(1, 3)),
                    "reports": pick.sample(pools.reports, pick.choices((0, 1, 2), (60, 30, 10))[0]),
                    "tags": pick.sample(pools.tags, pick.randint(3, 6)),
                    "number": number,
                }
            )
        articles = [self._article(plan, now) for plan in plans]
        self._avoid_taken_slugs(articles)
        Article.objects.bulk_create(articles, batch_size=500)

        through_rows = {
            Article.regions.through: [],
            Article.themes.through: [],
            Article.reports.through: [],
            Byline: [],
            TaggedItem: [],
        }
        for article, plan in zip(articles, plans, strict=True):
            pk = article.pk
            through_rows[Article.regions.through] += [
                Article.regions.through(article_id=pk, region_id=region.pk)
                for region in plan["regions"]
            ]
            through_rows[Article.themes.through] += [
                Article.themes.through(article_id=pk, theme_id=theme.pk) for theme in plan["themes"]
            ]
            through_rows[Article.reports.through] += [
                Article.reports.through(article_id=pk, indepthreport_id=report.pk)
                for report in plan["reports"]
            ]
            through_rows[Byline] += [
                Byline(article_id=pk, author_id=author.pk, position=position)
                for position, author in enumerate(plan["authors"])
            ]
            through_rows[TaggedItem] += [
                TaggedItem(content_type_id=content_type_id, object_id=pk, tag_id=tag.pk)
                for tag in plan["tags"]
            ]
        for model, rows in through_rows.items():
            model.objects.bulk_create(rows, batch_size=2000)

    def _article(self, plan: dict, now: datetime.datetime) -> Article:
        pick = self.random
        published_at = now - datetime.timedelta(
            seconds=pick.randint(60, ARCHIVE_YEARS * 365 * 86400)
        )
        title = self.title(plan["topics"])
        slug = f"{slugify(title)[:150].strip('-')}-{plan['number']}"
        kicker = pick.choices(("", "Video", "Analysis", "Interview"), (80, 6, 10, 4))[0]
        source = plan["source"]
        rows = filing.rows_of(
            plan["authors"], plan["regions"], plan["themes"], plan["reports"], plan["tags"]
        )
        return Article(
            title=title,
            slug=slug,
            kicker=kicker,
            dek=self._sentence(plan["topics"][1]) + " " + self._sentence(),
            body=self.body(plan["topics"]),
            source_id=source.pk,
            original_url=f"https://{source.slug}.example/{published_at:%Y/%m}/{slug}",
            original_title=title,
            original_published_at=published_at - datetime.timedelta(hours=pick.randint(1, 72)),
            status=ArticleStatus.PUBLISHED,
            published_at=published_at,
            video_url=(
                f"https://www.youtube.com/watch?v={pick.randbytes(8).hex()[:11]}"
                if kicker == "Video"
                else ""
            ),
            language="en",
            **filing_columns(source.name, rows),
        )

    @staticmethod
    def _avoid_taken_slugs(articles: list[Article]):
        taken = set(
            Article.objects.filter(slug__in=[a.slug for a in articles]).values_list(
                "slug", flat=True
            )
        )
        for article in articles:
            suffix = 2
            base = article.slug
            while article.slug in taken:
                article.slug = f"{base}-{suffix}"
                suffix += 1
            taken.add(article.slug)


class Command(BaseCommand):
    help = (
        "Create N published articles with realistic bodies, taxonomy, authors and sources "
        "(a benchmark archive). Running it again adds N more."
    )

    def add_arguments(self, parser):
        parser.add_argument("count", type=int, help="How many articles to add.")
        parser.add_argument("--seed", type=int, default=None, help="Seed for repeatable runs.")
        parser.add_argument("--batch", type=int, default=2000, help="Articles per transaction.")

    def handle(self, *args, count, seed, batch, **options):
        if count < 1:
            raise CommandError("Give a positive number of articles.")
        if batch < 1:
            raise CommandError("--batch must be positive.")
        started = time.monotonic()
        show_progress = options["verbosity"] >= 1

        def progress(done):
            if show_progress:
                rate = done / max(time.monotonic() - started, 1e-6)
                self.stderr.write(f"\r{done}/{count} articles ({rate:,.0f}/s)", ending="")

        written = ArchiveWriter(seed).write(count, batch, progress)
        if show_progress:
            self.stderr.write("")
        elapsed = time.monotonic() - started
        self.stdout.write(f"Created {written} published articles in {elapsed:.1f} s.")
