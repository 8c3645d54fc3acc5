"""The content model: slugs, constraints, rights enforcement and the publishing workflow."""

import datetime
import importlib
from urllib.parse import unquote

import pytest
from django.apps import apps
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import resolve, reverse
from django.utils import timezone
from taggit.models import Tag

from articles.models import (
    Article,
    ArticleStatus,
    PublishingBlocked,
    Redirect,
    Region,
    RightsRecord,
)

from .factories import (
    ArticleFactory,
    LicensedSourceFactory,
    PublishedArticleFactory,
    RegionFactory,
    RightsRecordFactory,
    SourceFactory,
)

pytestmark = pytest.mark.django_db


class TestSlugs:
    def test_slug_is_generated_from_the_title(self):
        article = ArticleFactory(title="Rockets Strike Near the Green Zone")
        assert article.slug == "rockets-strike-near-the-green-zone"

    def test_colliding_titles_get_distinct_slugs(self):
        first = ArticleFactory(title="Same title")
        second = ArticleFactory(title="Same title")
        assert (first.slug, second.slug) == ("same-title", "same-title-2")

    def test_duplicate_slug_is_refused_by_the_database(self):
        ArticleFactory(slug="taken")
        with pytest.raises(IntegrityError), transaction.atomic():
            ArticleFactory(slug="taken")

    def test_bidi_controls_never_reach_a_slug(self):
        article = ArticleFactory(title="Safe\u202etxt.exe title")
        assert "\u202e" not in article.slug
        assert "\u202e" not in article.title

    def test_changing_a_slug_leaves_a_redirect_to_the_article(self):
        article = ArticleFactory(title="Old name")
        article.slug = "new-name"
        article.save()
        redirect = Redirect.objects.get(old_path="/articles/old-name/")
        assert redirect.target() == "/articles/new-name/"


# H3: names whose plain slug is empty, as feeds send them as categories.
SLUGLESS_TAG_NAMES = ["!!!", "\U0001f980", "<b></b>", "\u2014 \u2014", "...", "\u200f"]


class TestTagSlugs:
    """Every tag, whatever its name, has a slug its page's address can carry."""

    @pytest.mark.parametrize("name", [*SLUGLESS_TAG_NAMES, "Harbours", "\u00c4rzte", "東京"])
    def test_a_tag_created_from_any_name_has_a_routable_slug(self, name):
        article = ArticleFactory()
        article.tags.add(name)
        tag = Tag.objects.get(name=name)
        assert tag.slug
        path = reverse("articles:tag", kwargs={"slug": tag.slug})
        assert resolve(unquote(path)).kwargs == {"slug": tag.slug}  # as a request decodes it

    def test_readable_names_keep_a_readable_slug(self):
        article = ArticleFactory()
        article.tags.add("Harbour Works", "\u00c4rzte")
        assert sorted(Tag.objects.values_list("slug", flat=True)) == ["harbour-works", "ärzte"]

    def test_slugless_names_get_distinct_slugs(self):
        article = ArticleFactory()
        article.tags.add(*SLUGLESS_TAG_NAMES)
        slugs = set(Tag.objects.values_list("slug", flat=True))
        assert len(slugs) == len(SLUGLESS_TAG_NAMES)

    def test_the_migration_gives_existing_tags_with_an_empty_slug_a_routable_one(self):
        Tag.objects.bulk_create([Tag(name="!!!", slug=""), Tag(name="fine", slug="fine")])
        migration = importlib.import_module("articles.migrations.0006_routable_tag_slugs")
        migration.fill_empty_tag_slugs(apps, None)
        slugs = dict(Tag.objects.values_list("name", "slug"))
        assert slugs["fine"] == "fine"
        assert slugs["!!!"].startswith("tag-")
        reverse("articles:tag", kwargs={"slug": slugs["!!!"]})


class TestRights:
    def test_a_source_without_rights_record_cannot_be_published(self):
        article = ArticleFactory(source=SourceFactory(name="Nobody Asked"))
        with pytest.raises(PublishingBlocked, match="no rights record"):
            article.publish()
        article.refresh_from_db()
        assert article.status == ArticleStatus.DRAFT

    def test_expired_permission_blocks_publishing_and_says_when(self):
        rights = RightsRecordFactory(
            granted_on=datetime.date(2020, 1, 1), expires_on=datetime.date(2021, 6, 30)
        )
        article = ArticleFactory(source=rights.source)
        with pytest.raises(PublishingBlocked, match="expired on 30 June 2021"):
            article.publish()

    def test_model_validation_reports_the_rights_problem_on_status(self):
        article = ArticleFactory.build(source=SourceFactory(), status=ArticleStatus.PUBLISHED)
        with pytest.raises(ValidationError) as error:
            article.full_clean(exclude=["slug"])
        assert "no rights record" in str(error.value.message_dict["status"])

    def test_expiry_before_grant_is_refused_by_the_database(self):
        with pytest.raises(IntegrityError), transaction.atomic():
            RightsRecordFactory(
                granted_on=datetime.date(2022, 1, 1), expires_on=datetime.date(2021, 1, 1)
            )

    def test_attribution_is_derived_from_the_rights_record_and_dates(self):
        source = LicensedSourceFactory(name="Harbour Post")
        RightsRecord.objects.filter(source=source).update(copyright_holder="Harbour Media Co")
        article = ArticleFactory(
            source=source,
            original_published_at=datetime.datetime(2019, 5, 2, tzinfo=datetime.UTC),
        )
        article.refresh_from_db()
        assert article.copyright_holder == "Harbour Media Co"
        assert article.copyright_year == 2019


class TestWorkflow:
    def test_published_requires_a_date_at_database_level(self):
        article = ArticleFactory()
        with pytest.raises(IntegrityError), transaction.atomic():
            Article.objects.filter(pk=article.pk).update(status=ArticleStatus.PUBLISHED)

    def test_publish_sets_the_site_date(self):
        article = ArticleFactory()
        article.publish()
        assert article.status == ArticleStatus.PUBLISHED
        assert article.published_at <= timezone.now()
        assert article in Article.objects.published()

    def test_scheduled_article_appears_at_its_time_without_a_job(self):
        soon = timezone.now() + datetime.timedelta(hours=2)
        article = ArticleFactory()
        article.publish(at=soon)
        assert article.is_scheduled and article.display_status == "Scheduled"
        assert article not in Article.objects.published()
        later = soon + datetime.timedelta(seconds=1)
        assert article in Article.objects.published(now=later)

    def test_publication_boundary_is_inclusive(self):
        article = PublishedArticleFactory()
        assert article in Article.objects.published(now=article.published_at)
        before = article.published_at - datetime.timedelta(microseconds=1)
        assert article not in Article.objects.published(now=before)

    def test_withdrawn_articles_leave_the_published_set(self):
        article = PublishedArticleFactory()
        article.withdraw("Rights holder asked us to.")
        assert article not in Article.objects.published()
        assert article.withdrawal_reason == "Rights holder asked us to."

    def test_send_to_review_moves_a_draft_only(self):
        draft = ArticleFactory()
        assert draft.send_to_review() is True
        assert draft.status == ArticleStatus.REVIEW
        assert PublishedArticleFactory().send_to_review() is False

    def test_revision_history_records_each_change(self):
        article = ArticleFactory(title="First")
        article.title = "Second"
        article.save()
        titles = list(article.history.order_by("history_date").values_list("title", flat=True))
        assert titles == ["First", "Second"]


class TestBodySanitizing:
    def test_body_is_sanitized_on_save(self):
        article = ArticleFactory(body='<p onclick="x()">Hi<script>alert(1)</script></p>')
        assert article.body == "<p>Hi</p>"

    def test_relative_links_resolve_against_the_original(self):
        article = ArticleFactory(
            original_url="https://origin.example/news/a", body='<a href="/b">b</a>'
        )
        assert 'href="https://origin.example/b"' in article.body


class TestRegions:
    def test_regions_nest_and_list_their_descendants(self):
        world = RegionFactory(name="World")
        africa = RegionFactory(name="Africa", parent=world)
        sahel = RegionFactory(name="Sahel", parent=africa)
        assert world.descendant_ids() == {world.pk, africa.pk, sahel.pk}
        assert sahel.ancestors() == [world, africa]

    def test_a_region_cannot_be_its_own_ancestor(self):
        world = RegionFactory(name="World")
        africa = RegionFactory(name="Africa", parent=world)
        world.parent = africa
        with pytest.raises(ValidationError):
            world.clean()
        assert Region.objects.get(pk=world.pk).parent is None


def test_plain_text_keeps_words_apart_across_block_boundaries():
    from articles.sanitize import plain_text

    assert plain_text("<p>floods.</p><h2>Roots</h2><p>un<b>broken</b><br>line</p>") == (
        "floods. Roots unbroken line"
    )
