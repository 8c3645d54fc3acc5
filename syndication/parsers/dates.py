"""Dates from documents: parsed to aware UTC, and refused when they cannot be trusted (E1/E2)."""

import datetime
import email.utils
import time

from feedparser.datetimes import _parse_date as feedparser_parse_date

from .common import clean_text

# A publication date this far ahead is a typo or a trick to pin an item to the top of listings.
FUTURE_TOLERANCE = datetime.timedelta(days=1)
EARLIEST_YEAR = 1900
FUTURE_DATE = "date in the future"


def from_struct_time(value: time.struct_time | None) -> datetime.datetime | None:
    """feedparser's *_parsed values are UTC struct_times; some hold impossible fields."""
    if value is None:
        return None
    try:
        return datetime.datetime(*value[:6], tzinfo=datetime.UTC)
    except (TypeError, ValueError, OverflowError):
        return None


def parse_date_text(text: str) -> datetime.datetime | None:
    """RFC 3339/ISO 8601, RFC 822 or any format feedparser knows; naive values are taken as UTC."""
    text = clean_text(text)
    # A bare number is no date format (an epoch in ms would otherwise read as a year).
    if not text or len(text) > 100 or text.isdigit():
        return None
    parsed: datetime.datetime | None = None
    try:
        parsed = datetime.datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        try:
            parsed = email.utils.parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            try:
                parsed = from_struct_time(feedparser_parse_date(text))
            except (TypeError, ValueError, OverflowError, IndexError):
                parsed = None
    if parsed is None:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=datetime.UTC)
    try:
        return parsed.astimezone(datetime.UTC)
    except (OverflowError, ValueError):
        return None


def checked_date(
    text: str, parsed: datetime.datetime | None = None, *, now: datetime.datetime | None = None
) -> tuple[datetime.datetime | None, str]:
    """(date, problem): the date when it can be trusted, else None and a reason for the editor.

    `text` is the date as the document wrote it; `parsed` is an already parsed value (feedparser's)
    and is computed from `text` when not given.
    """
    text = clean_text(text)
    if parsed is None and text:
        parsed = parse_date_text(text)
    if parsed is None:
        return None, (f"unparseable date '{text[:60]}'" if text else "")
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=datetime.UTC)
    parsed = parsed.astimezone(datetime.UTC)
    if parsed.year < EARLIEST_YEAR:
        return None, f"unparseable date '{text[:60]}'"
    now = now or datetime.datetime.now(datetime.UTC)
    if parsed > now + FUTURE_TOLERANCE:
        return None, FUTURE_DATE
    return parsed, ""


def join_problems(*problems: str) -> str:
    return "; ".join(dict.fromkeys(p for p in problems if p))
