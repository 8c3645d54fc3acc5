"""Arguments shared by the import commands: the source, the status, the rights."""

from django.core.exceptions import ValidationError
from django.core.management.base import CommandError
from django.core.validators import validate_slug
from django.utils import timezone

from articles.models import RightsBasis, RightsRecord, Source
from syndication.models import ImportStatus


def add_status_argument(parser, *, default: str | None = ImportStatus.DRAFT) -> None:
    parser.add_argument(
        "--status",
        choices=ImportStatus.values,
        default=default,
        help="Status of new articles (default: %(default)s). published falls back to review "
        "while the source has no valid rights record.",
    )


def checked_slug(slug: str) -> str:
    try:
        validate_slug(slug)
    except ValidationError as error:
        raise CommandError(f"“{slug}” is not a valid slug (letters, digits, - and _).") from error
    return slug


def existing_source(slug: str) -> Source:
    source = Source.objects.filter(slug=slug).first()
    if source is None:
        raise CommandError(
            f"There is no source with the slug “{slug}”. Create it in the admin, or import "
            f"one of its feeds first with `import_feed URL --source {slug}`."
        )
    return source


def add_rights_arguments(parser) -> None:
    parser.add_argument(
        "--rights",
        choices=RightsBasis.values,
        help="Record on what terms the source may be republished (granted today).",
    )
    parser.add_argument(
        "--copyright-holder",
        metavar="TEXT",
        help="Who holds the copyright (default: the feed's title).",
    )
    parser.add_argument(
        "--evidence",
        metavar="TEXT",
        help="Where the permission is recorded (required with --rights permission).",
    )


def record_rights(source: Source, basis: str, *, holder: str, evidence: str) -> RightsRecord:
    """Create or replace the source's rights record, validated like the admin form does."""
    rights = RightsRecord.objects.filter(source=source).first() or RightsRecord(source=source)
    rights.basis = basis
    rights.copyright_holder = (holder or source.name)[:200]
    rights.evidence = evidence or rights.evidence
    rights.granted_on = rights.granted_on or timezone.localdate()
    try:
        rights.full_clean()
    except ValidationError as error:
        problems = "; ".join(
            message for messages in error.message_dict.values() for message in messages
        )
        raise CommandError(f"The rights record is not valid: {problems}") from error
    rights.save()
    return rights
