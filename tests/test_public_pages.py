"""The reader site: which pages exist, what they list, and who may see what."""

import datetime

import pytest
from django.contrib.auth.models import Permission
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone
from django.views.defaults import server_error
from lxml import html

from articles.models import ArticleStatus

from .factories import (
    ArticleFactory,
    AuthorFactory,
    LicensedSourceFactory,
    PublishedArticleFactory,
    RegionFactory,
    ReportFactory,
    ThemeFactory,
    make_user,
)

pytestmark = pytest.mark.django_db


def listed_titles(response) -> list[str]:
    tree = html.fromstring(response.content)
    return [link.text_content().strip() for link in tree.cssselect(".card__title a")]


def published(days_ago: float = 0, **fields):
    moment = timezone.now() - datetime.timedelta(days=days_ago, minutes=5)
    return PublishedArticleFactory(published_at=moment, **fields)


class TestHome:
    def test_lists_live_articles_newest_first(self, client):
        published(days_ago=2, title="Older story")
        published(days_ago=1, title="Newer story")

        response = client.get(reverse("articles:home"))

        assert response.status_code == 200
        assert listed_titles(response) == ["Newer story", "Older story"]

    def test_leaves_out_drafts_reviews_scheduled_and_withdrawn(self, client):
        published(title="Live story")
        ArticleFactory(title="Draft story")
        ArticleFactory(title="Review story", status=ArticleStatus.REVIEW)
        PublishedArticleFactory(
            title="Scheduled story", published_at=timezone.now() + datetime.timedelta(days=1)
        )
        withdrawn = published(title="Withdrawn story")
        withdrawn.withdraw("Rights lapsed")

        assert listed_titles(client.get("/")) == ["Live story"]

    def test_shows_featured_reports_only(self, client):
        ReportFactory(title="Featured dossier", is_featured=True)
        ReportFactory(title="Quiet dossier", is_featured=False)

        page = client.get("/").content.decode()

        assert "Featured dossier" in page
        assert "Quiet dossier" not in page

    def test_every_page_has_a_search_form_skip_link_and_one_h1(self, client):
        tree = html.fromstring(client.get("/").content)

        form = tree.cssselect('form[role="search"]')[0]
        assert (form.get("action"), form.get("method")) == ("/search/", "get")
        assert form.cssselect('input[name="q"]')
        assert tree.cssselect('a.skip-link[href="#main"]')
        assert tree.cssselect("main#main")
        assert len(tree.cssselect("h1")) == 1
        assert tree.get("lang") == "en"

    def test_navigation_lists_top_level_regions_and_themes(self, client):
        parent = RegionFactory(name="Americas")
        RegionFactory(name="Andes", parent=parent)
        ThemeFactory(name="Water rights")

        nav = html.fromstring(client.get("/").content).cssselect("nav.site-nav")[0]
        names = [link.text for link in nav.cssselect("a")]

        assert names == ["Americas", "Water rights"]

    def test_navigation_follows_content_changes(self, client, django_capture_on_commit_callbacks):
        client.get("/")
        with django_capture_on_commit_callbacks(execute=True):
            ThemeFactory(name="Newly added theme")

        assert "Newly added theme" in client.get("/").content.decode()


class TestPagination:
    @pytest.fixture(autouse=True)
    def _two_per_page(self, settings):
        settings.ARTICLES_PER_PAGE = 2

    def test_pages_split_the_list_and_link_to_each_other(self, client):
        for day in range(3):
            published(days_ago=day, title=f"Story {day}")

        first = client.get("/")
        second = client.get("/?page=2")

        assert listed_titles(first) == ["Story 0", "Story 1"]
        assert listed_titles(second) == ["Story 2"]
        assert html.fromstring(first.content).cssselect('.pagination a[rel="next"]')[0].get(
            "href"
        ) == ("?page=2")
        assert html.fromstring(second.content).cssselect('.pagination a[rel="prev"]')
        assert not html.fromstring(second.content).cssselect('.pagination a[rel="next"]')

    def test_a_page_beyond_the_last_is_not_found(self, client):
        published()
        assert client.get("/?page=5").status_code == 404

    def test_listings_paginate_too(self, client):
        theme = ThemeFactory()
        for day in range(3):
            published(days_ago=day).themes.add(theme)

        assert len(listed_titles(client.get(theme.get_absolute_url()))) == 2
        assert len(listed_titles(client.get(theme.get_absolute_url() + "?page=2"))) == 1

    def test_later_pages_name_themselves_as_canonical(self, client):
        for day in range(3):
            published(days_ago=day)

        tree = html.fromstring(client.get("/?page=2").content)

        assert tree.cssselect('link[rel="canonical"]')[0].get("href") == "http://testserver/?page=2"


class TestListings:
    def test_region_includes_articles_of_its_sub_regions_at_any_depth(self, client):
        europe = RegionFactory(name="Europe")
        balkans = RegionFactory(name="Balkans", parent=europe)
        serbia = RegionFactory(name="Serbia", parent=balkans)
        elsewhere = RegionFactory(name="Oceania")
        published(days_ago=3, title="Continental").regions.add(europe)
        published(days_ago=2, title="Peninsular").regions.add(balkans)
        published(days_ago=1, title="National").regions.add(serbia)
        published(title="Far away").regions.add(elsewhere)

        response = client.get(europe.get_absolute_url())

        assert response.status_code == 200
        assert listed_titles(response) == ["National", "Peninsular", "Continental"]

    def test_an_article_in_a_region_and_its_sub_region_is_listed_once(self, client):
        parent = RegionFactory()
        child = RegionFactory(parent=parent)
        published(title="Filed twice").regions.add(parent, child)

        assert listed_titles(client.get(parent.get_absolute_url())) == ["Filed twice"]

    def test_sub_region_page_shows_its_parents_as_breadcrumbs(self, client):
        parent = RegionFactory(name="Asia")
        child = RegionFactory(name="Central Asia", parent=parent)

        tree = html.fromstring(client.get(child.get_absolute_url()).content)

        assert [a.text for a in tree.cssselect(".breadcrumbs a")] == ["Asia"]
        assert tree.cssselect("h1")[0].text == "Central Asia"

    @pytest.mark.parametrize("kind", ["theme", "report", "author", "source", "tag"])
    def test_subject_page_lists_only_its_own_articles(self, client, kind):
        mine, other = published(title="Mine"), published(title="Not mine")
        if kind == "theme":
            subject = ThemeFactory(name="Energy")
            mine.themes.add(subject)
            other.themes.add(ThemeFactory())
            url, heading = subject.get_absolute_url(), "Energy"
        elif kind == "report":
            subject = ReportFactory(title="Dossier on ports")
            mine.reports.add(subject)
            url, heading = subject.get_absolute_url(), "Dossier on ports"
        elif kind == "author":
            subject = AuthorFactory(name="Ada Reporter")
            mine.bylines.create(author=subject)
            other.bylines.create(author=AuthorFactory())
            url, heading = subject.get_absolute_url(), "Ada Reporter"
        elif kind == "source":
            subject = mine.source
            url, heading = subject.get_absolute_url(), subject.name
        else:
            mine.tags.add("Grain exports")
            other.tags.add("Shipping")
            url, heading = reverse("articles:tag", args=["grain-exports"]), "Grain exports"

        response = client.get(url)

        assert response.status_code == 200
        assert listed_titles(response) == ["Mine"]
        assert html.fromstring(response.content).cssselect("h1")[0].text == heading

    @pytest.mark.parametrize("route", ["region", "theme", "report", "author", "source", "tag"])
    def test_unknown_subject_is_not_found(self, client, route):
        assert client.get(reverse(f"articles:{route}", args=["nothing-here"])).status_code == 404

    def test_subject_page_hides_unpublished_articles(self, client):
        theme = ThemeFactory()
        published(title="Out").themes.add(theme)
        ArticleFactory(title="Still a draft").themes.add(theme)

        assert listed_titles(client.get(theme.get_absolute_url())) == ["Out"]

    def test_card_shows_byline_source_and_topics(self, client):
        article = published(title="Carded", dek="A one-line summary.")
        article.bylines.create(author=AuthorFactory(name="Ana"), position=0)
        article.bylines.create(author=AuthorFactory(name="Ben"), position=1)
        article.regions.add(RegionFactory(name="Sahel"))

        card = html.fromstring(client.get("/").content).cssselect(".card")[0]
        text = " ".join(card.text_content().split())

        assert "By Ana and Ben" in text
        assert article.source.name in text
        assert "A one-line summary." in text
        assert [a.text for a in card.cssselect(".card__topics a")] == ["Sahel"]


class TestDateArchive:
    def test_year_lists_that_years_articles_and_its_months(self, client):
        PublishedArticleFactory(
            title="Spring", published_at=datetime.datetime(2021, 4, 2, 9, tzinfo=datetime.UTC)
        )
        PublishedArticleFactory(
            title="Autumn", published_at=datetime.datetime(2021, 10, 5, 9, tzinfo=datetime.UTC)
        )
        PublishedArticleFactory(
            title="Next year", published_at=datetime.datetime(2022, 1, 5, 9, tzinfo=datetime.UTC)
        )

        response = client.get(reverse("articles:archive_year", args=[2021]))
        tree = html.fromstring(response.content)

        assert response.status_code == 200
        assert listed_titles(response) == ["Autumn", "Spring"]
        assert [a.get("href") for a in tree.cssselect(".archive-months a")] == [
            "/archive/2021/4/",
            "/archive/2021/10/",
        ]

    def test_month_lists_that_months_articles(self, client):
        PublishedArticleFactory(
            title="In March", published_at=datetime.datetime(2020, 3, 19, 9, tzinfo=datetime.UTC)
        )
        PublishedArticleFactory(
            title="In April", published_at=datetime.datetime(2020, 4, 1, 9, tzinfo=datetime.UTC)
        )

        response = client.get(reverse("articles:archive_month", args=[2020, 3]))

        assert response.status_code == 200
        assert listed_titles(response) == ["In March"]
        assert "March 2020" in response.content.decode()

    def test_empty_periods_and_future_articles_are_not_found(self, client):
        PublishedArticleFactory(published_at=timezone.now() + datetime.timedelta(days=400))

        assert client.get("/archive/1999/").status_code == 404
        next_year = (timezone.now() + datetime.timedelta(days=400)).year
        assert client.get(f"/archive/{next_year}/").status_code == 404


class TestVisibility:
    @pytest.mark.parametrize(
        "fields",
        [
            {"status": ArticleStatus.DRAFT},
            {"status": ArticleStatus.REVIEW},
            {"status": ArticleStatus.PUBLISHED, "published_at": "future"},
        ],
        ids=["draft", "review", "scheduled"],
    )
    def test_unpublished_articles_are_not_found(self, client, fields):
        if fields.get("published_at") == "future":
            fields["published_at"] = timezone.now() + datetime.timedelta(hours=2)
        article = ArticleFactory(**fields)

        response = client.get(article.get_absolute_url())

        assert response.status_code == 404
        assert "Page not found" in response.content.decode()

    def test_a_scheduled_article_appears_once_its_time_has_come(self, client):
        article = PublishedArticleFactory(
            published_at=timezone.now() - datetime.timedelta(seconds=1)
        )
        assert client.get(article.get_absolute_url()).status_code == 200

    def test_withdrawn_article_is_gone_with_a_notice_and_the_reason(self, client):
        article = published(title="Pulled story")
        article.withdraw("The source asked us to remove it.")

        response = client.get(article.get_absolute_url())
        page = response.content.decode()

        assert response.status_code == 410
        assert "This article has been withdrawn" in page
        assert "The source asked us to remove it." in page
        assert "Body text of the article." not in page

    def test_withdrawn_without_reason_still_answers_gone(self, client):
        article = published()
        article.withdraw()

        response = client.get(article.get_absolute_url())

        assert response.status_code == 410
        assert "Reason:" not in response.content.decode()

    def test_server_error_page_renders_without_database_or_context(self):
        response = server_error(RequestFactory().get("/"))

        assert response.status_code == 500
        assert "Something went wrong" in response.content.decode()

    def test_unknown_article_uses_the_site_not_found_page(self, client):
        response = client.get("/articles/never-written/")

        assert response.status_code == 404
        assert 'action="/search/"' in response.content.decode()


class TestPreview:
    @pytest.fixture
    def draft(self):
        return ArticleFactory(title="Work in progress", source=LicensedSourceFactory())

    def test_editor_sees_a_draft_with_a_banner_never_cached_and_not_indexed(self, client, draft):
        client.force_login(make_user("editor", groups=("Editors",)))

        response = client.get(reverse("articles:preview", args=[draft.pk]))
        tree = html.fromstring(response.content)

        assert response.status_code == 200
        assert "Preview — not published" in tree.cssselect(".preview-banner")[0].text_content()
        assert "no-cache" in response["Cache-Control"]
        assert "no-store" in response["Cache-Control"]
        assert response["X-Robots-Tag"] == "noindex, nofollow"
        assert tree.cssselect('meta[name="robots"]')[0].get("content") == "noindex, nofollow"
        assert tree.cssselect("h1")[0].text_content().strip() == "Work in progress"

    def test_preview_shows_scheduled_and_withdrawn_articles_too(self, client):
        scheduled = PublishedArticleFactory(published_at=timezone.now() + datetime.timedelta(1))
        withdrawn = published()
        withdrawn.withdraw("Gone")
        client.force_login(make_user("importer", groups=("Importers",)))

        for article in (scheduled, withdrawn):
            response = client.get(reverse("articles:preview", args=[article.pk]))
            assert response.status_code == 200

    def test_superuser_may_preview(self, client, draft):
        client.force_login(make_user("root", is_superuser=True))
        assert client.get(reverse("articles:preview", args=[draft.pk])).status_code == 200

    def test_staff_without_the_permission_get_not_found(self, client, draft):
        client.force_login(make_user("clerk"))
        assert client.get(reverse("articles:preview", args=[draft.pk])).status_code == 404

    def test_the_permission_without_staff_status_is_not_enough(self, client, draft):
        reader = make_user("reader", staff=False)
        reader.user_permissions.add(Permission.objects.get(codename="preview_article"))
        client.force_login(reader)

        assert client.get(reverse("articles:preview", args=[draft.pk])).status_code == 404

    def test_anonymous_visitors_are_sent_to_the_admin_login(self, client, draft):
        url = reverse("articles:preview", args=[draft.pk])

        response = client.get(url)

        assert response.status_code == 302
        assert response["Location"].startswith(reverse("admin:login"))
        assert "next=/preview/" in response["Location"]

    def test_anonymous_redirect_does_not_reveal_whether_an_article_exists(self, client, draft):
        missing = client.get(reverse("articles:preview", args=[draft.pk + 1000]))
        existing = client.get(reverse("articles:preview", args=[draft.pk]))

        assert missing.status_code == existing.status_code == 302

    def test_the_public_page_of_a_live_article_has_no_banner(self, client):
        article = published()

        response = client.get(article.get_absolute_url())

        assert b"preview-banner" not in response.content
        assert "no-store" not in response.get("Cache-Control", "")


class TestStrictContentSecurityPolicyReadiness:
    def test_pages_carry_no_inline_styles_handlers_or_scripts(self, client):
        article = published()
        article.regions.add(RegionFactory())
        article.themes.add(ThemeFactory())
        urls = [
            "/",
            article.get_absolute_url(),
            article.regions.get().get_absolute_url(),
            article.source.get_absolute_url(),
            reverse("articles:archive_year", args=[article.published_at.year]),
        ]
        for url in urls:
            tree = html.fromstring(client.get(url).content)
            assert tree.xpath("//@style") == [], url
            assert tree.xpath("//@*[starts-with(name(), 'on')]") == [], url
            assert tree.xpath("//style") == [], url
            scripts = tree.xpath("//script")
            assert all(s.get("type") == "application/ld+json" for s in scripts), url
            assert all(s.get("src") is None for s in scripts), url


class TestHostileText:
    def test_hostile_names_are_escaped_in_listings(self, client):
        hostile = '"><script>alert(1)</script>'
        article = published(title=hostile, dek=hostile)
        article.bylines.create(author=AuthorFactory(name=hostile))
        article.regions.add(RegionFactory(name=hostile))

        page = client.get("/").content.decode()

        assert "<script>alert(1)</script>" not in page
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


class TestNulInAddresses:
    """H4: a NUL character (%00) anywhere in an address is a 400, never a 500 (PostgreSQL
    refuses NUL in text, and 404s, searches and slugs all reach the database)."""

    @pytest.mark.parametrize(
        "address",
        [
            "/nowhere%00/",  # a 404: the redirect lookup
            "/articles/a%00b/",
            "/tags/a%00b/",
            "/authors/x%00/",
            "/feeds/tags/a%00/rss/",
            "/search/?q=harbour%00",
            "/search/?q%00=harbour",
            "/?p=12%00",  # a WordPress address: the home page's redirect lookup
            "/sitemap-tags.xml?x=%00",
            "/admin/articles/article/?q=%00",
        ],
    )
    def test_is_a_bad_request(self, client, address):
        PublishedArticleFactory()
        assert client.get(address).status_code == 400

    def test_a_percent_sign_before_zeros_is_no_nul(self, client):
        assert client.get("/search/?q=100%2500").status_code == 200
