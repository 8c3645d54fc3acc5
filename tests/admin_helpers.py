"""What the admin's article form posts, so tests can submit it like a browser would."""

from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import timezone

PASSWORD = "correct horse battery"


def split_datetime(name: str, moment) -> dict[str, str]:
    """The two inputs of the admin's date-and-time widget."""
    if moment is None:
        return {f"{name}_0": "", f"{name}_1": ""}
    local = timezone.localtime(moment)
    return {f"{name}_0": local.strftime("%Y-%m-%d"), f"{name}_1": local.strftime("%H:%M:%S")}


def management_form(prefix: str, total: int = 0, initial: int = 0) -> dict[str, str]:
    return {
        f"{prefix}-TOTAL_FORMS": str(total),
        f"{prefix}-INITIAL_FORMS": str(initial),
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "1000",
    }


def article_form_data(article=None, **changes) -> dict:
    """The article change form as a browser submits it, with `changes` applied.

    Datetime values may be given as datetimes (or None); they are split into the widget's
    date and time inputs. An article with bylines or corrections keeps them unchanged.
    """
    values = {
        "kicker": "",
        "title": "",
        "slug": "",
        "dek": "",
        "body": "",
        "source": "",
        "original_url": "",
        "original_title": "",
        "original_published_at": None,
        "status": "draft",
        "published_at": None,
        "regions": [],
        "themes": [],
        "reports": [],
        "tags": "",
        "language": "en",
        "lead_image": "",
        "video_url": "",
        "withdrawal_reason": "",
    }
    if article is not None:
        for name in values:
            if name in {"regions", "themes", "reports"}:
                values[name] = [
                    str(pk) for pk in getattr(article, name).values_list("pk", flat=True)
                ]
            elif name == "tags":
                values[name] = ", ".join(article.tags.names())
            elif name == "source":
                values[name] = str(article.source_id)
            elif name == "lead_image":
                values[name] = str(article.lead_image_id or "")
            else:
                values[name] = getattr(article, name)
    values.update(changes)
    data = {}
    for name, value in values.items():
        if name in {"original_published_at", "published_at"}:
            data.update(split_datetime(name, value))
        else:
            data[name] = value
    bylines = list(article.bylines.all()) if article is not None else []
    data.update(management_form("bylines", total=len(bylines), initial=len(bylines)))
    for index, byline in enumerate(bylines):
        data.update(
            {
                f"bylines-{index}-id": str(byline.pk),
                f"bylines-{index}-article": str(article.pk),
                f"bylines-{index}-author": str(byline.author_id),
                f"bylines-{index}-position": str(byline.position),
            }
        )
    data.update(management_form("block_overrides"))
    corrections = list(article.corrections.all()) if article is not None else []
    data.update(management_form("corrections", total=len(corrections), initial=len(corrections)))
    for index, correction in enumerate(corrections):
        data.update(
            {
                f"corrections-{index}-id": str(correction.pk),
                f"corrections-{index}-article": str(article.pk),
                f"corrections-{index}-kind": correction.kind,
                f"corrections-{index}-note": correction.note,
            }
        )
    return data


def change_url(article) -> str:
    return reverse("admin:articles_article_change", args=[article.pk])


def message_texts(response) -> list[tuple[str, str]]:
    """(level tag, text) of every message queued for the user."""
    return [(message.level_tag, str(message)) for message in get_messages(response.wsgi_request)]


def form_errors(response) -> dict:
    return response.context["adminform"].form.errors
