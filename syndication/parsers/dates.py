"""Dates from documents: parsed to aware UTC, and refused when they cannot be trusted (E1/E2)."""

import datetime
import email.utils
import re
import time
import warnings

from dateutil import parser as dateutil_parser
from dateutil import tz

from .common import clean_text

# A publication date this far ahead is a typo or a trick to pin an item to the top of listings.
FUTURE_TOLERANCE = datetime.timedelta(days=1)
EARLIEST_YEAR = 1900
FUTURE_DATE = "date in the future"

# W3C-DTF allows a year, or a year and month, alone (https://www.w3.org/TR/NOTE-datetime).
_W3CDTF_YEAR_MONTH = re.compile(r"(\d{4})(?:-(\d{2}))?")

# Zone abbreviations feeds write that python-dateutil does not know by itself (RFC 822's
# North American zones and the military letters that email.utils reads are handled first).
_ZONES = {
    name: tz.tzoffset(name, hours * 3600)
    for name, hours in {
        "UT": 0, "GMT": 0, "UTC": 0, "Z": 0,
        "EST": -5, "EDT": -4, "CST": -6, "CDT": -5, "MST": -7, "MDT": -6, "PST": -8, "PDT": -7,
        "AST": -4, "ADT": -3, "HST": -10, "AKST": -9, "AKDT": -8,
        "BST": 1, "CET": 1, "CEST": 2, "EET": 2, "EEST": 3, "WET": 0, "WEST": 1, "MSK": 3,
        "IST": 5.5, "JST": 9, "KST": 9, "AEST": 10, "AEDT": 11, "NZST": 12, "NZDT": 13,
    }.items()
}  # fmt: skip

# Each text is read with two defaults for the parts it leaves out, and with the day first and
# the month first: a text whose result depends on either does not name one whole date
# ("Tuesday", "March 5", "10/11/2004") and is refused.
_READINGS = (
    {"default": datetime.datetime(2001, 1, 1, tzinfo=datetime.UTC), "dayfirst": False},
    {"default": datetime.datetime(2002, 2, 2, tzinfo=datetime.UTC), "dayfirst": True},
)


def from_struct_time(value: time.struct_time | None) -> datetime.datetime | None:
    """feedparser's *_parsed values are UTC struct_times; some hold impossible fields."""
    if value is None:
        return None
    try:
        return datetime.datetime(*value[:6], tzinfo=datetime.UTC)
    except (TypeError, ValueError, OverflowError):
        return None


def _free_form(text: str) -> datetime.datetime | None:
    """Any other way of writing a whole date and time that python-dateutil reads."""
    results = []
    for reading in _READINGS:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", dateutil_parser.UnknownTimezoneWarning)
                results.append(dateutil_parser.parse(text, tzinfos=_ZONES, **reading))
        except (ValueError, OverflowError, TypeError):
            return None
    first, second = results
    return first if first == second else None


def parse_date_text(text: str) -> datetime.datetime | None:
    """RFC 3339/ISO 8601, RFC 822, W3C-DTF or another whole date that python-dateutil reads;
    naive values are taken as UTC."""
    text = clean_text(text)
    # A bare number is no date format (an epoch in ms would otherwise read as a year).
    if not text or len(text) > 100 or text.isdigit():
        return None
    parsed: datetime.datetime | None = None
    w3cdtf = _W3CDTF_YEAR_MONTH.fullmatch(text)
    if w3cdtf:
        try:
            parsed = datetime.datetime(int(w3cdtf[1]), int(w3cdtf[2] or 1), 1, tzinfo=datetime.UTC)
        except ValueError:
            return None
    if parsed is None:
        try:
            parsed = datetime.datetime.fromisoformat(
                text.replace("Z", "+00:00").replace("z", "+00:00")
            )
        except ValueError:
            try:
                parsed = email.utils.parsedate_to_datetime(text)
            except (TypeError, ValueError, IndexError):
                parsed = _free_form(text)
            else:
                # email.utils drops a zone name it does not know (CET): read it here.
                if parsed.tzinfo is None:
                    parsed = _free_form(text) or parsed
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
