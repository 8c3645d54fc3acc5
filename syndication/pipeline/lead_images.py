"""Lead images of imported items: fetched with the same guard as feeds, re-encoded, stored once
as an entry of the media library (`articles.models.Image`).

A picture that cannot be fetched or decoded never stops an article from being imported: the
caller records the reason as a warning on the item and goes on without the image.
"""

from django.conf import settings

from articles.images import ImageRejected, clean_image
from articles.models import Image, ImageLicence, Source
from syndication.fetching.client import FetchError, fetch

IMAGE_ACCEPT = "image/jpeg, image/png, image/gif, image/webp;q=0.9, */*;q=0.1"


class ImageDownloadFailed(Exception):
    """The lead image was not stored; the message says why, for the editor."""


def download_lead_image(
    url: str, *, source: Source, alt: str = "", caption: str = "", credit: str = ""
) -> Image:
    """Fetch `url`, re-encode it from its pixels and return its media library entry.

    The entry is found by the picture's content, so the same picture imported twice, or by two
    runs at once, is one entry and one file; the file is written before any row points at it.
    """
    try:
        result = fetch(url, accept=IMAGE_ACCEPT, max_bytes=settings.IMAGE_MAX_BYTES)
        clean = clean_image(result.content)
        return Image.objects.for_clean_image(
            clean,
            folder="lead",
            alt=alt[:300],
            caption=caption[:500],
            credit=credit[:200],
            licence=ImageLicence.SOURCE_TERMS,
            source=source,
            original_url=url[:1000],
        )
    except FetchError as error:
        raise ImageDownloadFailed(f"lead image {url} was not fetched: {error}") from error
    except ImageRejected as error:
        raise ImageDownloadFailed(f"lead image {url} was rejected: {error}") from error
    except OSError as error:
        raise ImageDownloadFailed(f"lead image {url} could not be stored: {error}") from error
