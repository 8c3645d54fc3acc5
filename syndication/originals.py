"""The originals watch: is the article we republish still there where it first appeared?

`check_originals()` re-checks the originals of live articles through the safe fetcher
(syndication/fetching/client.py), politely:

* oldest check first (never-checked articles before all others), at most `limit` per run
  (`ORIGINAL_CHECK_LIMIT`), and an original at most once every `ORIGINAL_RECHECK_HOURS`;
* a conditional GET with the ETag and Last-Modified of the previous check (a 304 is "still
  online");
* per host: at least `ORIGINAL_CHECK_HOST_INTERVAL` seconds between two requests, and at most
  `ORIGINAL_CHECK_PER_HOST` requests per run; articles past that wait for the next run.

What counts as gone (the article is flagged, and withdrawn when its source's policy says so):

* the original answers 404 or 410;
* it redirects to a home page: the final address's path is "/" (or empty), or it is the
  source's homepage;
* it was dropped from the feed it was imported from, while that feed still lists items
  published before it and after it (an item that merely scrolled off the end is not gone);
* the page carries a retraction notice: one of `RETRACTION_PHRASES`, matched in the page's
  visible text, case-insensitively.

Anything else (a timeout, a 500, a refused address) is recorded as "could not be checked" and
flags nothing. docs/provenance-watch.md describes the policies for editors.
"""

import datetime
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import lxml.html
from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from lxml import etree

from articles.models import Article, ProvenancePolicy, Source
from articles.sanitize import nesting_depth_exceeds
from syndication.entry import FEED_ACCEPT, PAGE_ACCEPT
from syndication.fetching.client import FetchError, HTTPStatusError, fetch
from syndication.models import GONE_OUTCOMES, Feed, OriginalCheck, OriginalOutcome
from syndication.parsers import ParseError, dedupe_key, parse_feed

# Pages and feeds are read only this far: a notice sits near the top of a page.
MAX_CHECK_BYTES = 2 * 1024 * 1024

# Conservative: each phrase names the page itself ("this article"), so a story *about* a
# retraction elsewhere does not match. Matched in the visible text, whitespace collapsed.
_SUBJECTS = ("this article", "this story", "this post", "this report")
_VERBS = (
    "has been retracted",
    "was retracted",
    "has been withdrawn",
    "was withdrawn",
    "has been removed",
    "was removed",
    "has been unpublished",
)
RETRACTION_PHRASES = tuple(f"{subject} {verb}" for subject in _SUBJECTS for verb in _VERBS)

# Why an article was withdrawn, as the 410 page shows it; {source} is the source's name.
WITHDRAWAL_REASONS = {
    OriginalOutcome.GONE: "{source} has deleted the original article.",
    OriginalOutcome.REDIRECTED_HOME: "{source} has taken the original article down.",
    OriginalOutcome.DROPPED_FROM_FEED: "{source} has removed the original article from its feed.",
    OriginalOutcome.RETRACTED: "{source} has retracted the original article.",
}


@dataclass
class Finding:
    outcome: str
    evidence: str
    etag: str = ""
    last_modified: str = ""


@dataclass
class CheckedArticle:
    """One line of a run's summary."""

    article: Article
    outcome: str
    withdrawn: bool = False

    @property
    def flagged(self) -> bool:
        return self.outcome in GONE_OUTCOMES


@dataclass
class CheckRun:
    checked: list[CheckedArticle] = field(default_factory=list)
    deferred: int = 0  # due, but their host had had its share of this run

    def count(self, outcome: str) -> int:
        return sum(1 for line in self.checked if line.outcome == outcome)

    @property
    def withdrawn(self) -> int:
        return sum(1 for line in self.checked if line.withdrawn)

    @property
    def flagged(self) -> int:
        return sum(1 for line in self.checked if line.flagged)


# ---------------------------------------------------------------------------------------------
# Politeness


def host_of(url: str) -> str:
    return (urlsplit(url).hostname or "").lower()


class HostPacer:
    """At most one request to a host every `interval` seconds, and `per_host` per run."""

    def __init__(
        self,
        interval: float,
        per_host: int,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ):
        self.interval = interval
        self.per_host = per_host
        self._clock = clock
        self._sleep = sleep
        self._last: dict[str, float] = {}
        self._used: dict[str, int] = {}

    @classmethod
    def from_settings(cls) -> "HostPacer":
        return cls(settings.ORIGINAL_CHECK_HOST_INTERVAL, settings.ORIGINAL_CHECK_PER_HOST)

    def has_turns_left(self, host: str) -> bool:
        return self._used.get(host, 0) < self.per_host

    def take_turn(self, host: str) -> bool:
        """Wait until `host` may be asked again; False when it has had its share of the run."""
        if not self.has_turns_left(host):
            return False
        if host in self._last:
            wait = self._last[host] + self.interval - self._clock()
            if wait > 0:
                self._sleep(wait)
        self._last[host] = self._clock()
        self._used[host] = self._used.get(host, 0) + 1
        return True


# ---------------------------------------------------------------------------------------------
# What is due


def due_articles(now: datetime.datetime, source: Source | None = None):
    """Live articles with an original, not flagged already, whose original was never checked
    or not for `ORIGINAL_RECHECK_HOURS`; oldest check first."""
    recheck_before = now - datetime.timedelta(hours=settings.ORIGINAL_RECHECK_HOURS)
    articles = (
        Article.objects.published(now)
        .exclude(original_url="")
        .filter(
            Q(original_check__isnull=True)
            | Q(original_check__flagged=False, original_check__last_checked_at__isnull=True)
            | Q(original_check__flagged=False, original_check__last_checked_at__lt=recheck_before)
        )
        .select_related("source", "original_check", "imported_item__feed")
        .order_by(F("original_check__last_checked_at").asc(nulls_first=True), "pk")
    )
    if source is not None:
        articles = articles.filter(source=source)
    return articles


# ---------------------------------------------------------------------------------------------
# Looking at one original


def _comparable(url: str) -> str:
    parts = urlsplit(url.strip())
    return f"{(parts.hostname or '').lower()}{parts.path.rstrip('/')}"


def redirected_home(original: str, final: str, homepage: str = "") -> bool:
    """The original's address now ends on a home page: a path of "/" or the source's homepage."""
    if _comparable(final) == _comparable(original):
        return False
    if urlsplit(original).path in ("", "/"):
        return False  # the original was a home page itself: nothing to conclude
    if urlsplit(final).path in ("", "/"):
        return True
    return bool(homepage) and _comparable(final) == _comparable(homepage)


def visible_text(content: bytes) -> str:
    """The page's text without scripts, styles or markup, lower-cased, whitespace collapsed."""
    document = None
    if not nesting_depth_exceeds(content[:MAX_CHECK_BYTES].decode("utf-8", "replace")):
        try:
            document = lxml.html.document_fromstring(content)
        except (etree.ParserError, ValueError):
            document = None
    if document is None:
        text = re.sub(rb"<[^>]*>", b" ", content).decode("utf-8", "replace")
    else:
        for element in document.iter("script", "style", "noscript", "template"):
            element.drop_tree()
        text = document.text_content()
    return " ".join(text.split()).lower()


def retraction_notice(content: bytes) -> str:
    """The retraction phrase the page carries, with a little of its context; '' for none."""
    text = visible_text(content)
    for phrase in RETRACTION_PHRASES:
        at = text.find(phrase)
        if at >= 0:
            return text[max(at - 60, 0) : at + len(phrase) + 100].strip()
    return ""


def inspect_page(article: Article, check: OriginalCheck) -> Finding:
    url = article.original_url
    try:
        result = fetch(
            url,
            etag=check.etag,
            last_modified=check.last_modified,
            accept=PAGE_ACCEPT,
            max_bytes=MAX_CHECK_BYTES,
        )
    except HTTPStatusError as error:
        if error.status_code in (404, 410):
            return Finding(OriginalOutcome.GONE, f"{url} answered HTTP {error.status_code}.")
        return Finding(OriginalOutcome.UNREACHABLE, f"{url}: {error}")
    except FetchError as error:
        return Finding(OriginalOutcome.UNREACHABLE, f"{url}: {error}")
    validators = {
        "etag": result.etag or check.etag,
        "last_modified": result.last_modified or check.last_modified,
    }
    if result.not_modified:
        return Finding(OriginalOutcome.ONLINE, f"{url} is unchanged (HTTP 304).", **validators)
    if redirected_home(url, result.url, article.source.homepage):
        return Finding(
            OriginalOutcome.REDIRECTED_HOME, f"{url} now redirects to the home page {result.url}."
        )
    notice = retraction_notice(result.content)
    if notice:
        return Finding(OriginalOutcome.RETRACTED, f"{url} says: “…{notice}…”")
    return Finding(OriginalOutcome.ONLINE, f"{url} answered HTTP {result.status}.", **validators)


@dataclass
class FeedListing:
    """What a feed lists now: its items' keys and publication dates."""

    url: str
    keys: set[str]
    dates: list[datetime.datetime]


def read_feed(feed: Feed) -> FeedListing | None:
    """The feed as it is now (no conditional request: a 304 would say nothing), or None when
    it cannot be read: a feed that fails proves nothing about one item."""
    try:
        result = fetch(feed.url, accept=FEED_ACCEPT, max_bytes=MAX_CHECK_BYTES)
        parsed = parse_feed(
            result.content, url=result.url, content_type=result.content_type, charset=result.charset
        )
    except (FetchError, ParseError):
        return None
    return FeedListing(
        url=feed.url,
        keys={dedupe_key(item) for item in parsed.items},
        dates=[item.published for item in parsed.items if item.published is not None],
    )


def dropped_from_feed(article: Article, listing: FeedListing) -> Finding | None:
    """The article's item is missing from a feed that still lists items published before and
    after it; None when it is listed or nothing can be concluded."""
    record = getattr(article, "imported_item", None)
    published = article.original_published_at
    if record is None or published is None or record.dedupe_key in listing.keys:
        return None
    before = sum(1 for moment in listing.dates if moment < published)
    after = sum(1 for moment in listing.dates if moment > published)
    if not (before and after):
        return None
    return Finding(
        OriginalOutcome.DROPPED_FROM_FEED,
        f"The feed {listing.url} no longer lists it, but still lists {before} item(s) "
        f"published before it and {after} after it.",
    )


# ---------------------------------------------------------------------------------------------
# A run


def imported_from_feed(article: Article) -> Feed | None:
    record = getattr(article, "imported_item", None)
    feed = record.feed if record is not None else None
    return feed if feed is not None and feed.is_active else None


class OriginalsWatch:
    """One run: the pacer and the feeds already read are shared by every article of the run."""

    def __init__(self, *, now: datetime.datetime | None = None, pacer: HostPacer | None = None):
        self.now = now or timezone.now()
        self.pacer = pacer or HostPacer.from_settings()
        self.feeds: dict[int, FeedListing | None] = {}

    def run(self, *, limit: int | None = None, source: Source | None = None) -> CheckRun:
        limit = settings.ORIGINAL_CHECK_LIMIT if limit is None else limit
        report = CheckRun()
        # Some due articles may wait for the next run (their host had its share): look a
        # little further than `limit`, never through the whole archive.
        for article in due_articles(self.now, source)[: limit * 4]:
            if len(report.checked) >= limit:
                break
            if not self.pacer.take_turn(host_of(article.original_url)):
                report.deferred += 1
                continue
            report.checked.append(self.check(article))
        return report

    def check(self, article: Article) -> CheckedArticle:
        check = getattr(article, "original_check", None) or OriginalCheck(article=article)
        finding = inspect_page(article, check)
        if finding.outcome == OriginalOutcome.ONLINE:
            finding = self._check_feed(article) or finding
        return record(article, check, finding, self.now)

    def _check_feed(self, article: Article) -> Finding | None:
        feed = imported_from_feed(article)
        if feed is None:
            return None
        if feed.pk not in self.feeds:
            if not self.pacer.take_turn(host_of(feed.url)):
                return None
            self.feeds[feed.pk] = read_feed(feed)
        listing = self.feeds[feed.pk]
        return dropped_from_feed(article, listing) if listing is not None else None


def record(
    article: Article, check: OriginalCheck, finding: Finding, now: datetime.datetime
) -> CheckedArticle:
    """Store what the check found; flag the article, and withdraw it when its source says so."""
    gone = finding.outcome in GONE_OUTCOMES
    check.checked_url = article.original_url
    check.last_checked_at = now
    check.outcome = finding.outcome
    check.evidence = f"{now:%Y-%m-%d %H:%M} UTC: {finding.evidence}"[:5000]
    if finding.outcome == OriginalOutcome.ONLINE:
        check.etag, check.last_modified = finding.etag[:500], finding.last_modified[:100]
    if gone:
        check.flagged, check.flagged_at = True, now
    withdraw = gone and article.source.on_original_gone == ProvenancePolicy.WITHDRAW
    with transaction.atomic():
        check.save()
        if withdraw:
            reason = WITHDRAWAL_REASONS[finding.outcome].format(source=article.source.name)
            article.withdraw(reason)
    return CheckedArticle(article, finding.outcome, withdrawn=withdraw)


def check_originals(
    *,
    limit: int | None = None,
    source: Source | None = None,
    now: datetime.datetime | None = None,
    pacer: HostPacer | None = None,
) -> CheckRun:
    """Check the originals that are due; see the module docstring."""
    return OriginalsWatch(now=now, pacer=pacer).run(limit=limit, source=source)
