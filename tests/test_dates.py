"""Dates as documents write them (syndication/parsers/dates.py): read to aware UTC, or refused.

RFC 3339 and ISO 8601 first, then RFC 822 (what RSS uses), W3C-DTF's shorter forms, and any
other way of writing one whole date that python-dateutil reads. A text that does not name
one whole date, or names an impossible one, is refused rather than guessed at.
"""

import datetime

import pytest

from syndication.parsers.dates import FUTURE_DATE, checked_date, parse_date_text

UTC = datetime.UTC


def at(*fields) -> datetime.datetime:
    return datetime.datetime(*fields, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # RFC 3339 / ISO 8601
        ("2003-12-31T10:14:55Z", at(2003, 12, 31, 10, 14, 55)),
        ("2003-12-31T10:14:55-08:00", at(2003, 12, 31, 18, 14, 55)),
        ("2003-12-31T10:14:55.5+01:00", at(2003, 12, 31, 9, 14, 55, 500000)),
        ("20031231T101455Z", at(2003, 12, 31, 10, 14, 55)),
        ("2003-12-31 10:14:55", at(2003, 12, 31, 10, 14, 55)),
        ("2003-12-31", at(2003, 12, 31)),
        # RFC 822 and its variants in the wild
        ("Thu, 01 Jan 2004 19:48:21 GMT", at(2004, 1, 1, 19, 48, 21)),
        ("Thu, 01 Jan 04 19:48:21 GMT", at(2004, 1, 1, 19, 48, 21)),
        ("Wed, 02 Oct 2002 08:00:00 EST", at(2002, 10, 2, 13)),
        ("Wed, 02 Oct 2002 08:00:00 CDT", at(2002, 10, 2, 13)),
        ("Sun, 31 Dec 2006 09:15:00 +0100", at(2006, 12, 31, 8, 15)),
        ("Tue, 10 Jun 2003 04:00:00 Z", at(2003, 6, 10, 4)),
        ("Sun Jan  4 16:29:06 PST 2004", at(2004, 1, 5, 0, 29, 6)),
        # W3C-DTF's year and month
        ("2003-12", at(2003, 12, 1)),
        # Written out
        ("December 31, 2003", at(2003, 12, 31)),
        ("31 December 2003 10:14 CET", at(2003, 12, 31, 9, 14)),
    ],
)
def test_reads_the_formats_documents_use(text, expected):
    assert parse_date_text(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "",
        "hello",
        "Tuesday",  # no date at all
        "March 5",  # no year
        "10/11/2004",  # 10 November or October 11?
        "2003",  # a bare number (an epoch in ms would otherwise read as a year)
        "1690000000000",
        "2003-13-45",  # impossible
        "2004-02-30T10:00:00Z",
        "Mon, 31 Feb 2004 10:00:00 GMT",
        "x" * 101,
    ],
)
def test_refuses_what_does_not_name_one_whole_date(text):
    assert parse_date_text(text) is None


def test_an_unknown_zone_name_is_read_as_utc():
    assert parse_date_text("Thu, 01 Jan 2004 19:48:21 XYZ") == at(2004, 1, 1, 19, 48, 21)


class TestCheckedDate:
    NOW = at(2024, 6, 1, 12)

    def test_a_trustworthy_date_has_no_problem(self):
        assert checked_date("2024-05-31T08:00:00Z", now=self.NOW) == (at(2024, 5, 31, 8), "")

    def test_an_unparseable_date_says_so_with_the_text(self):
        assert checked_date("not a date", now=self.NOW) == (None, "unparseable date 'not a date'")

    def test_a_date_more_than_a_day_ahead_is_refused(self):
        assert checked_date("2024-06-03T12:00:00Z", now=self.NOW) == (None, FUTURE_DATE)
        assert checked_date("2024-06-01T20:00:00Z", now=self.NOW)[0] == at(2024, 6, 1, 20)

    def test_a_year_before_1900_is_refused(self):
        assert checked_date("1899-12-31", now=self.NOW)[0] is None

    def test_an_already_parsed_value_is_checked_the_same_way(self):
        assert checked_date("whatever", at(2030, 1, 1), now=self.NOW) == (None, FUTURE_DATE)
        naive = datetime.datetime(2024, 5, 1)  # noqa: DTZ001 - as feedparser hands them over
        assert checked_date("", naive, now=self.NOW) == (at(2024, 5, 1), "")
