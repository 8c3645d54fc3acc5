"""Factories for the content model: a valid, publishable object graph by default."""

import datetime
import io

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image as PillowImage
from PIL import ImageDraw

from articles import models


class SourceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Source

    name = factory.Sequence(lambda n: f"Source {n}")
    homepage = factory.Sequence(lambda n: f"https://source{n}.example/")


class RightsRecordFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.RightsRecord

    source = factory.SubFactory(SourceFactory)
    basis = models.RightsBasis.PERMISSION
    copyright_holder = factory.LazyAttribute(lambda o: f"{o.source.name} Ltd")
    evidence = "Email from the editor-in-chief, on file."
    granted_on = datetime.date(2020, 1, 1)


class LicensedSourceFactory(SourceFactory):
    """A source with a valid, open-ended permission."""

    class Meta:
        skip_postgeneration_save = True

    rights = factory.RelatedFactory(RightsRecordFactory, factory_related_name="source")


class AuthorFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Author

    name = factory.Sequence(lambda n: f"Author {n}")


class RegionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Region

    name = factory.Sequence(lambda n: f"Region {n}")


class ThemeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Theme

    name = factory.Sequence(lambda n: f"Theme {n}")


class ReportFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.InDepthReport

    title = factory.Sequence(lambda n: f"Report {n}")


def picture_upload(number: int, size=(1400, 900)) -> SimpleUploadedFile:
    """A JPEG upload unlike any other number's: a bar drawn where the number says."""
    picture = PillowImage.new("RGB", size, (40, 90, 160))
    x, y = number % size[0], number // size[0] % size[1]
    ImageDraw.Draw(picture).rectangle([x, y, x + 40, y + 40], fill=(240, 200, 40))
    buffer = io.BytesIO()
    picture.save(buffer, format="JPEG")
    return SimpleUploadedFile(f"picture-{number}.jpg", buffer.getvalue(), "image/jpeg")


class ImageFactory(factory.django.DjangoModelFactory):
    """A library image: a plain picture of its own colour (so its content hash is its own),
    uploaded and re-encoded like an editor's upload."""

    class Meta:
        model = models.Image

    file = factory.Sequence(lambda n: picture_upload(n))
    alt = factory.Sequence(lambda n: f"Picture number {n}")
    caption = ""
    credit = ""


class ArticleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Article

    title = factory.Sequence(lambda n: f"Article number {n}")
    source = factory.SubFactory(LicensedSourceFactory)
    body = "<p>Body text of the article.</p>"
    original_url = factory.Sequence(lambda n: f"https://origin.example/story-{n}")
    original_published_at = factory.LazyFunction(
        lambda: timezone.now() - datetime.timedelta(days=1)
    )


class PublishedArticleFactory(ArticleFactory):
    status = models.ArticleStatus.PUBLISHED
    published_at = factory.LazyFunction(lambda: timezone.now() - datetime.timedelta(hours=1))


def filed_out_of_page_order() -> models.Article:
    """A live article filed under several authors, regions, themes, reports and tags, each
    added in an order unlike the one pages print them in (names differ in case too)."""
    article = PublishedArticleFactory()
    for position, name in ((2, "Zed Writer"), (0, "Mid Writer"), (1, "Ann Writer")):
        article.bylines.create(author=AuthorFactory(name=name), position=position)
    article.regions.add(RegionFactory(name="Sahel"), RegionFactory(name="Andes"))
    article.themes.add(ThemeFactory(name="Water"), ThemeFactory(name="energy"))
    article.reports.add(ReportFactory(title="Rivers"), ReportFactory(title="Dams"))
    article.tags.add("zinc")
    article.tags.add("alpha")
    return article


def make_user(username: str, *, groups: tuple[str, ...] = (), staff: bool = True, **extra):
    user = get_user_model().objects.create_user(
        username=username, password="correct horse battery", is_staff=staff, **extra
    )
    for name in groups:
        user.groups.add(Group.objects.get(name=name))
    return user
