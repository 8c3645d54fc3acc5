import datetime
import io
import os

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone
from PIL import Image, ImageDraw

from articles import demo_content as demo
from articles.images import clean_image, store_clean_image
from articles.models import (
    Article,
    ArticleStatus,
    Author,
    Byline,
    InDepthReport,
    Region,
    RightsRecord,
    SiteBlock,
    Source,
    Theme,
)


def illustration(top: str, bottom: str, size=(1600, 900)) -> bytes:
    """A simple two-tone landscape, so the demo has real images with renditions."""
    image = Image.new("RGB", size, top)
    draw = ImageDraw.Draw(image)
    width, height = size
    draw.rectangle([0, height * 2 // 3, width, height], fill=bottom)
    draw.ellipse([width * 2 // 3, height // 6, width * 2 // 3 + 180, height // 6 + 180], "#fff6")
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


class Command(BaseCommand):
    help = "Load the demo content and demo accounts. Safe to run again: nothing is duplicated."

    @transaction.atomic
    def handle(self, *args, **options):
        now = timezone.now()
        for key, content in demo.SITE_BLOCKS.items():
            SiteBlock.objects.update_or_create(key=key, defaults={"content": content})

        regions = {}
        for name, parent in demo.REGIONS:
            regions[name], _ = Region.objects.update_or_create(
                name=name, defaults={"parent": regions.get(parent)}
            )
        themes = {name: Theme.objects.get_or_create(name=name)[0] for name in demo.THEMES}
        reports = {}
        for title, featured, description in demo.REPORTS:
            reports[title], _ = InDepthReport.objects.update_or_create(
                title=title, defaults={"is_featured": featured, "description": description}
            )

        sources = {}
        for spec in demo.SOURCES:
            spec = dict(spec)
            rights = spec.pop("rights")
            slug = spec.pop("slug")
            sources[slug], _ = Source.objects.update_or_create(slug=slug, defaults=spec)
            RightsRecord.objects.update_or_create(source=sources[slug], defaults=rights)

        authors = {}
        for name, source_slug, bio in demo.AUTHORS:
            authors[name], _ = Author.objects.update_or_create(
                name=name, defaults={"source": sources[source_slug], "bio": bio}
            )
        collective = authors["Delta Dispatch"]
        Source.objects.filter(pk=sources["delta-dispatch"].pk).update(default_author=collective)

        for spec in demo.ARTICLES:
            self._load_article(spec, now, sources, authors, regions, themes, reports)

        self._load_users()
        count = Article.objects.published().count()
        self.stdout.write(self.style.SUCCESS(f"Demo content ready: {count} published articles."))

    def _load_article(self, spec, now, sources, authors, regions, themes, reports):
        defaults = {
            "title": spec["title"],
            "kicker": spec.get("kicker", ""),
            "dek": spec["dek"],
            "body": "".join(f"<p>{paragraph}</p>" for paragraph in spec["body"]),
            "source": sources[spec["source"]],
            "original_url": spec["original_url"],
            "original_title": spec["title"],
            "original_published_at": now - datetime.timedelta(days=spec["original_days_ago"]),
            "published_at": now - datetime.timedelta(days=spec["site_days_ago"]),
            "status": ArticleStatus.PUBLISHED,
            "video_url": spec.get("video_url", ""),
            "lead_image_caption": spec.get("caption", ""),
            "lead_image_credit": spec.get("credit", ""),
            "lead_image_alt": spec.get("caption", ""),
        }
        article = Article.objects.filter(slug=spec["slug"]).first()
        if article is not None:
            # Keep the original publication times so a re-run does not reshuffle the home page.
            defaults.pop("original_published_at")
            defaults.pop("published_at")
        else:
            article = Article(slug=spec["slug"])
        for field, value in defaults.items():
            setattr(article, field, value)
        if spec.get("image") and not article.lead_image:
            clean = clean_image(illustration(*spec["image"]))
            article.lead_image.name = store_clean_image(clean, "lead")
        article.save()

        Byline.objects.filter(article=article).delete()
        Byline.objects.bulk_create(
            Byline(article=article, author=authors[name], position=position)
            for position, name in enumerate(spec["authors"])
        )
        article.regions.set([regions[name] for name in spec["regions"]])
        article.themes.set([themes[name] for name in spec["themes"]])
        article.reports.set([reports[title] for title in spec["reports"]])
        article.tags.set(spec["tags"])

    def _load_users(self):
        User = get_user_model()
        port = os.environ.get("PORT", "8000")
        self.stdout.write(f"Demo accounts (log in at http://127.0.0.1:{port}/admin/):")
        for username, password, group, superuser in demo.DEMO_USERS:
            user, _ = User.objects.get_or_create(username=username)
            user.is_staff = True
            user.is_superuser = superuser
            user.set_password(password)
            user.save()
            if group:
                user.groups.add(Group.objects.get(name=group))
            role = "superuser" if superuser else group
            self.stdout.write(f"  {username:<10} password: {password:<20} ({role})")
