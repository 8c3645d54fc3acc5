"""Image intake and renditions: what a picture must be, and what every valid one gets."""

import hashlib
import io

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from PIL import Image

from articles.images import (
    MAX_ASPECT_RATIO,
    ImageRejected,
    clean_image,
    make_renditions,
    rendition_sizes,
    store_clean_image,
)


def encoded(width: int, height: int, image_format: str = "PNG") -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (30, 60, 90)).save(buffer, format=image_format)
    return buffer.getvalue()


class TestRenditions:
    @pytest.mark.parametrize(
        ("width", "height"), [(1200, 1), (10799, 1), (1281, 2), (1400, 900), (2, 5000), (1, 1)]
    )
    def test_every_valid_image_gets_renditions_at_least_one_pixel_high(self, width, height):
        # Stored directly, past intake's rules: renditions alone must never fail.
        name = default_storage.save(
            f"lead/test/{width}x{height}.png", ContentFile(encoded(width, height))
        )
        renditions = make_renditions(name)
        assert renditions[-1] == {"name": name, "width": width, "height": height}
        for rendition in renditions:
            assert rendition["width"] >= 1 and rendition["height"] >= 1
            with default_storage.open(rendition["name"]) as stored, Image.open(stored) as image:
                assert image.size == (rendition["width"], rendition["height"])

    def test_sizes_keep_the_proportions_and_skip_widths_above_the_original(self):
        assert rendition_sizes(1000, 500) == [(320, 160), (640, 320), (960, 480)]
        assert rendition_sizes(300, 200) == []
        assert rendition_sizes(10799, 1) == [(320, 1), (640, 1), (960, 1), (1280, 1)]


class TestIntake:
    @pytest.mark.parametrize(("width", "height"), [(1200, 1), (1, 1200), (31 * 40, 40)])
    def test_a_strip_of_pixels_is_not_a_picture(self, width, height):
        with pytest.raises(ImageRejected, match="strip, not a picture"):
            clean_image(encoded(width, height))

    @pytest.mark.parametrize(
        ("width", "height"), [(MAX_ASPECT_RATIO * 40, 40), (40, MAX_ASPECT_RATIO * 40), (1, 1)]
    )
    def test_long_panoramas_and_single_pixels_are_kept(self, width, height):
        assert (
            clean_image(encoded(width, height)).width,
            clean_image(encoded(width, height)).height,
        ) == (width, height)


class TestStoredNames:
    """Media are public by address: a picture's name must not be computable from the picture."""

    def test_the_same_picture_gets_the_same_name_and_is_stored_once(self):
        first = store_clean_image(clean_image(encoded(40, 30)), "lead")
        assert store_clean_image(clean_image(encoded(40, 30)), "lead") == first

    def test_the_name_is_not_the_plain_hash_of_the_stored_bytes(self, settings):
        clean = clean_image(encoded(40, 30))
        name = store_clean_image(clean, "lead")
        assert hashlib.sha256(clean.content).hexdigest()[:32] not in name
        settings.SECRET_KEY = "another-site-" * 5
        assert store_clean_image(clean_image(encoded(40, 30)), "lead") != name
