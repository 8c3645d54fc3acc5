import datetime
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from articles import demo_content as demo
from articles import demo_media
from articles.images import clean_image, store_clean_image
from articles.models import (
    Article,
    ArticleStatus,
    Author,
    Byline,
    Image,
    ImageLicence,
    InDepthReport,
    Region,
    RightsRecord,
    SiteBlock,
    Source,
    Theme,
)

DEMO_MEDIA = Path(demo_media.__file__).resolve().parent


def demo_file(folder: str, name: str) -> bytes:
    return (DEMO_MEDIA / folder / name).read_bytes()


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
            if not sources[slug].logo and (DEMO_MEDIA / "logos" / f"{slug}.png").exists():
                self._give_logo(sources[slug])

        authors = {}
        for name, source_slug, bio in demo.AUTHORS:
            authors[name], _ = Author.objects.get_or_create(
                name=name, defaults={"source": sources[source_slug], "bio": bio}
            )
        if "delta-dispatch" in new_sources:
            Source.objects.filter(pk=sources["delta-dispatch"].pk).update(
                default_author=authors["Delta Dispatch"]
            )

        images = {name: self._library_image(name, *texts) for name, texts in demo.IMAGES.items()}
        for spec in demo.ARTICLES:
            if not Article.objects.filter(slug=spec["slug"]).exists():
                self._load_article(spec, now, sources, authors, regions, themes, reports, images)

        self._load_users()
        count = Article.objects.published().count()
        self.stdout.write(self.style.SUCCESS(f"Demo content ready: {count} published articles."))

    def _give_logo(self, source: Source) -> None:
        clean = clean_image(demo_file("logos", f"{source.slug}.png"))
        source.logo = store_clean_image(clean, "logos")
        source.logo_width, source.logo_height = clean.width, clean.height
        source.save(update_fields=["logo", "logo_width", "logo_height"])

    def _library_image(self, name: str, alt: str, caption: str) -> Image:
        return Image.objects.for_clean_image(
            clean_image(demo_file("images", f"{name}.jpg")),
            folder="images",
            alt=alt,
            caption=caption,
            credit=demo.DEMO_IMAGE_CREDIT,
            licence=ImageLicence.OWN,
        )

    def _video_url(self, name: str) -> str:
        """The demo video, copied into media storage once and addressed on this site."""
        stored = f"video/{name}"
        if not default_storage.exists(stored):
            stored = default_storage.save(stored, ContentFile(demo_file("video", name)))
        return settings.SITE_URL + default_storage.url(stored)

    def _load_article(self, spec, now, sources, authors, regions, themes, reports, images):
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
            video_url=self._video_url(spec["video"]) if spec.get("video") else "",
            lead_image=images[spec["image"]] if spec.get("image") else None,
        )
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
