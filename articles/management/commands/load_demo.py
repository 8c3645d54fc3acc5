import datetime
import io

from django.conf import settings
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
    help = (
        "Load the demo content and demo accounts. Safe to run again: it only adds what is "
        "missing, so editors' changes and changed passwords stay as they are."
    )

    @transaction.atomic
    def handle(self, *args, **options):
        now = timezone.now()
        for key, content in demo.SITE_BLOCKS.items():
            SiteBlock.objects.get_or_create(key=key, defaults={"content": content})

        regions = {}
        for name, parent in demo.REGIONS:
            regions[name], _ = Region.objects.get_or_create(
                name=name, defaults={"parent": regions.get(parent)}
            )
        themes = {name: Theme.objects.get_or_create(name=name)[0] for name in demo.THEMES}
        reports = {}
        for title, featured, description in demo.REPORTS:
            reports[title], _ = InDepthReport.objects.get_or_create(
                title=title, defaults={"is_featured": featured, "description": description}
            )

        sources, new_sources = {}, set()
        for spec in demo.SOURCES:
            spec = dict(spec)
            rights = spec.pop("rights")
            slug = spec.pop("slug")
            sources[slug], created = Source.objects.get_or_create(slug=slug, defaults=spec)
            if created:
                new_sources.add(slug)
            RightsRecord.objects.get_or_create(source=sources[slug], defaults=rights)

        authors = {}
        for name, source_slug, bio in demo.AUTHORS:
            authors[name], _ = Author.objects.get_or_create(
                name=name, defaults={"source": sources[source_slug], "bio": bio}
            )
        if "delta-dispatch" in new_sources:
            Source.objects.filter(pk=sources["delta-dispatch"].pk).update(
                default_author=authors["Delta Dispatch"]
            )

        for spec in demo.ARTICLES:
            if not Article.objects.filter(slug=spec["slug"]).exists():
                self._load_article(spec, now, sources, authors, regions, themes, reports)

        self._load_users()
        count = Article.objects.published().count()
        self.stdout.write(self.style.SUCCESS(f"Demo content ready: {count} published articles."))

    def _load_article(self, spec, now, sources, authors, regions, themes, reports):
        article = Article(
            slug=spec["slug"],
            title=spec["title"],
            kicker=spec.get("kicker", ""),
            dek=spec["dek"],
            body="".join(f"<p>{paragraph}</p>" for paragraph in spec["body"]),
            source=sources[spec["source"]],
            original_url=spec["original_url"],
            original_title=spec["title"],
            original_published_at=now - datetime.timedelta(days=spec["original_days_ago"]),
            published_at=now - datetime.timedelta(days=spec["site_days_ago"]),
            status=ArticleStatus.PUBLISHED,
            video_url=spec.get("video_url", ""),
            lead_image_caption=spec.get("caption", ""),
            lead_image_credit=spec.get("credit", ""),
            lead_image_alt=spec.get("caption", ""),
        )
        if spec.get("image"):
            clean = clean_image(illustration(*spec["image"]))
            article.lead_image.name = store_clean_image(clean, "lead")
        article.save()

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
        self.stdout.write(f"Demo accounts (log in at {settings.SITE_URL}/admin/):")
        for username, password, group, superuser in demo.DEMO_USERS:
            role = "superuser" if superuser else group
            user = User.objects.filter(username=username).first()
            if user is None:
                user = User(username=username, is_staff=True, is_superuser=superuser)
                user.set_password(password)
                user.save()
                if group:
                    user.groups.add(Group.objects.get(name=group))
            elif not user.check_password(password):
                self.stdout.write(f"  {username:<10} password: changed, left as it is ({role})")
                continue
            self.stdout.write(f"  {username:<10} password: {password:<20} ({role})")
