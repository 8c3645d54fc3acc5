"""The public site's template environment (articles/jinja2.py): escaping, the filters and
globals templates rely on, and the chrome rendered once per site generation."""

import datetime
import zoneinfo

import pytest
from django.db import connection
from django.template import defaultfilters, engines
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django.utils.safestring import mark_safe

from articles.site.jinja2 import date, querystring
from tests.factories import RegionFactory

MOMENT = datetime.datetime(2026, 3, 7, 23, 30, tzinfo=datetime.UTC)


def render(source: str, **context) -> str:
    return engines["jinja2"].from_string(source).render(context)


class TestEscaping:
    def test_values_are_escaped(self):
        html = render("<p>{{ title }}</p>", title='<script>alert("x")</script>')

        assert html == "<p>&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;</p>"

    def test_markup_marked_safe_by_django_is_kept(self):
        assert render("{{ body }}", body=mark_safe("<p>Clean</p>")) == "<p>Clean</p>"


class TestDate:
    @pytest.mark.parametrize("format_string", ["c", "j F Y", "F j, Y", "Y", "DATE_FORMAT"])
    def test_formats_as_djangos_date_filter_in_the_current_time_zone(self, format_string):
        with timezone.override(zoneinfo.ZoneInfo("Pacific/Auckland")):
            local = timezone.localtime(MOMENT)
            assert date(MOMENT, format_string) == defaultfilters.date(local, format_string)
            assert date(MOMENT, "j F Y") == "8 March 2026"

    def test_plain_dates_and_missing_values(self):
        assert date(datetime.date(2026, 3, 7), "F Y") == "March 2026"
        assert date(None, "c") == ""
        assert date("", "c") == ""


class TestTruncatechars:
    def test_short_text_is_unchanged(self):
        html = render("{{ dek|truncatechars(300) }}", dek="Salt moves inland.")

        assert html == "Salt moves inland."

    def test_long_text_is_cut_as_djangos_filter_cuts_it(self):
        text = "word " * 100

        html = render("{{ dek|truncatechars(30) }}", dek=text)

        assert html == defaultfilters.truncatechars(text, 30)
        assert len(html) == 30


class TestQuerystring:
    def test_replaces_and_removes_parameters_and_keeps_the_rest(self):
        request = RequestFactory().get("/search/", {"q": "salt & water", "author": "a", "page": 3})

        assert querystring(request, page=4) == "?q=salt+%26+water&author=a&page=4"
        assert querystring(request, author=None, page=None) == "?q=salt+%26+water"

    def test_is_escaped_in_an_attribute(self):
        request = RequestFactory().get("/search/", {"q": "salt", "page": 3})

        html = render('<a href="{{ querystring(request, page=4) }}">', request=request)

        assert html == '<a href="?q=salt&amp;page=4">'


@pytest.mark.django_db
class TestSiteFragments:
    def test_the_navigation_is_rendered_once_per_site_generation(
        self, django_capture_on_commit_callbacks
    ):
        RegionFactory(name="Sahel")
        template = '{{ site_fragment("includes/_site_nav.html") }}'
        assert "Sahel" in render(template)

        with CaptureQueriesContext(connection) as queries:
            assert "Sahel" in render(template)
        assert len(queries) == 0

        with django_capture_on_commit_callbacks(execute=True):
            RegionFactory(name="Andes")
        assert "Andes" in render(template)
