"""Image intake: decode with Pillow under strict limits, re-encode from pixels, make renditions.

Nothing a third party sent us is stored as it came: every image is decoded from an allow-list
of formats, checked against byte and pixel caps, stripped of metadata by re-encoding, and
saved under a name we generate.
"""

import hashlib
import hmac
import io
import warnings
from dataclasses import dataclass

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from PIL import Image, ImageOps, UnidentifiedImageError

ALLOWED_FORMATS = ("JPEG", "PNG", "GIF", "WEBP")
# Magic numbers checked before Pillow sees the bytes, so no other decoder is ever tried.
_MAGIC = (
    (b"\xff\xd8\xff", "JPEG"),
    (b"\x89PNG\r\n\x1a\n", "PNG"),
    (b"GIF87a", "GIF"),
    (b"GIF89a", "GIF"),
)


# Wider (or taller) than this and a picture is a strip: a spacer, a divider, a tracking pixel
# stretched out. No page can show it as a picture, and its renditions would be lines.
MAX_ASPECT_RATIO = 30


class ImageRejected(ValueError):
    """The bytes are not an image we accept; the message says why, for the editor."""


@dataclass(frozen=True)
class CleanImage:
    content: bytes
    width: int
    height: int
    digest: str  # stored_name_digest(content)
    extension: str


def sniff_format(data: bytes) -> str | None:
    for magic, name in _MAGIC:
        if data.startswith(magic):
            return name
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "WEBP"
    return None


def clean_image(data: bytes) -> CleanImage:
    """Decode `data` safely and return it re-encoded (JPEG, or PNG when it has transparency)."""
    if len(data) > settings.IMAGE_MAX_BYTES:
        raise ImageRejected(f"image is larger than {settings.IMAGE_MAX_BYTES} bytes")
    if sniff_format(data) is None:
        raise ImageRejected("not a JPEG, PNG, GIF or WebP image")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=ALLOWED_FORMATS) as image:
                if image.width * image.height > settings.IMAGE_MAX_PIXELS:
                    raise ImageRejected(
                        f"image is {image.width}x{image.height} pixels, over the limit"
                    )
                if max(image.size) > MAX_ASPECT_RATIO * max(min(image.size), 1):
                    raise ImageRejected(
                        f"image is {image.width}x{image.height} pixels: a strip, not a picture "
                        f"(sides more than {MAX_ASPECT_RATIO} times apart)"
                    )
                if getattr(image, "n_frames", 1) > 1:
                    image.seek(0)
                image.load()
                image = ImageOps.exif_transpose(image)
                has_alpha = image.mode in ("RGBA", "LA") or (
                    image.mode == "P" and "transparency" in image.info
                )
                image = image.convert("RGBA" if has_alpha else "RGB")
    except ImageRejected:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        raise ImageRejected("image declares too many pixels (decompression bomb)") from error
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError) as error:
        raise ImageRejected(f"image could not be decoded: {error}") from error
    output = io.BytesIO()
    if has_alpha:
        image.save(output, format="PNG", optimize=True)
        extension = "png"
    else:
        image.save(output, format="JPEG", quality=85, optimize=True, progressive=True)
        extension = "jpg"
    content = output.getvalue()
    return CleanImage(
        content=content,
        width=image.width,
        height=image.height,
        digest=stored_name_digest(content),
        extension=extension,
    )


def clean_upload(field_file) -> CleanImage:
    """`clean_image` of a file field's new upload."""
    field_file.open("rb")
    try:
        return clean_image(field_file.read())
    finally:
        field_file.seek(0)


def stored_name_digest(content: bytes) -> str:
    """The hash a stored picture is named after: keyed with the site's secret, so the same
    picture always gets the same name, yet someone who has the picture (say, from the original
    publisher) cannot work out its address here before a published page shows it."""
    key = f"articles.images.stored-name:{settings.SECRET_KEY}".encode()
    return hmac.new(key, content, hashlib.sha256).hexdigest()


def store_clean_image(clean: CleanImage, folder: str) -> str:
    """Save under a name derived from the content (`stored_name_digest`); the same picture is
    stored once."""
    name = f"{folder}/{clean.digest[:2]}/{clean.digest[:32]}.{clean.extension}"
    if not default_storage.exists(name):
        name = default_storage.save(name, ContentFile(clean.content))
    return name


def rendition_sizes(width: int, height: int) -> list[tuple[int, int]]:
    """(width, height) of each rendition of a `width` x `height` picture: one per configured
    width narrower than the original, the height in proportion and never below one pixel."""
    return [
        (target, max(1, round(height * target / width)))
        for target in settings.IMAGE_RENDITION_WIDTHS
        if target < width
    ]


def make_renditions(name: str) -> list[dict]:
    """Write one JPEG per configured width no larger than the original; return srcset entries."""
    with (
        default_storage.open(name, "rb") as handle,
        Image.open(handle, formats=ALLOWED_FORMATS) as original,
    ):
        original.load()
        renditions = []
        stem = name.rsplit(".", 1)[0]
        for width, height in rendition_sizes(original.width, original.height):
            rendition_name = f"renditions/{stem.split('/', 1)[-1]}-{width}w.jpg"
            if not default_storage.exists(rendition_name):
                resized = original.convert("RGB").resize((width, height), Image.Resampling.LANCZOS)
                buffer = io.BytesIO()
                resized.save(buffer, format="JPEG", quality=82, optimize=True, progressive=True)
                rendition_name = default_storage.save(
                    rendition_name, ContentFile(buffer.getvalue())
                )
            renditions.append({"name": rendition_name, "width": width, "height": height})
        renditions.append({"name": name, "width": original.width, "height": original.height})
        return renditions
