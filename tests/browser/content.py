"""Material the browser scenarios serve to the importer: an RSS document, a photo, a video."""

import io
import subprocess
from dataclasses import dataclass, field
from email.utils import format_datetime
from pathlib import Path
from xml.sax.saxutils import escape

from django.utils import timezone
from PIL import Image


@dataclass
class Item:
    guid: str
    title: str
    link: str
    body_html: str
    summary: str = ""
    author: str = ""
    categories: list[str] = field(default_factory=list)
    image_url: str = ""
    image_caption: str = ""  # sent as Media RSS, which the importer also takes as alt text
    video_url: str = ""


def rss(title: str, link: str, items: list[Item]) -> bytes:
    """An RSS 2.0 document; bodies go in content:encoded as CDATA, media as enclosures."""
    published = format_datetime(timezone.now())
    entries = []
    for item in items:
        parts = [
            f"<guid isPermaLink='false'>{escape(item.guid)}</guid>",
            f"<title>{escape(item.title)}</title>",
            f"<link>{escape(item.link)}</link>",
            f"<pubDate>{published}</pubDate>",
            f"<description>{escape(item.summary)}</description>",
            "<content:encoded><![CDATA["
            + item.body_html.replace("]]>", "]]]]><![CDATA[>")
            + "]]></content:encoded>",
        ]
        if item.author:
            parts.append(f"<dc:creator>{escape(item.author)}</dc:creator>")
        parts += [f"<category>{escape(name)}</category>" for name in item.categories]
        if item.image_url and item.image_caption:
            parts.append(
                f"<media:content url='{escape(item.image_url)}' medium='image' type='image/jpeg'>"
                f"<media:description>{escape(item.image_caption)}</media:description>"
                "</media:content>"
            )
        elif item.image_url:
            parts.append(
                f"<enclosure url='{escape(item.image_url)}' type='image/jpeg' length='0'/>"
            )
        if item.video_url:
            parts.append(
                f"<enclosure url='{escape(item.video_url)}' type='video/webm' length='0'/>"
            )
        entries.append("<item>" + "".join(parts) + "</item>")
    return (
        "<?xml version='1.0' encoding='utf-8'?>"
        "<rss version='2.0' xmlns:content='http://purl.org/rss/1.0/modules/content/'"
        " xmlns:dc='http://purl.org/dc/elements/1.1/'"
        " xmlns:media='http://search.yahoo.com/mrss/'><channel>"
        f"<title>{escape(title)}</title><link>{escape(link)}</link>"
        "<description>Test feed</description>" + "".join(entries) + "</channel></rss>"
    ).encode("utf-8")


def jpeg(size=(1200, 675), colour="#2a6f97") -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, format="JPEG", quality=80)
    return buffer.getvalue()


def write_tiny_webm(path: Path) -> str:
    """Encode one second of test pattern as VP8 WebM; return '' or why it could not be made.

    The encoder is the ffmpeg binary that the imageio-ffmpeg wheel ships (a test dependency);
    nothing is downloaded at run time.
    """
    try:
        import imageio_ffmpeg

        ffmpeg = imageio_ffmpeg.get_ffmpeg_exe()
    except (ImportError, RuntimeError) as error:
        return f"no ffmpeg to make a test video: {error}"
    path.parent.mkdir(parents=True, exist_ok=True)
    completed = subprocess.run(
        [
            ffmpeg, "-hide_banner", "-loglevel", "error", "-f", "lavfi",
            "-i", "testsrc=size=160x90:rate=10:duration=1", "-c:v", "libvpx", "-b:v", "200k",
            "-y", str(path),
        ],
        capture_output=True,
        timeout=60,
        check=False,
    )  # fmt: skip
    if completed.returncode != 0 or not path.exists():
        return f"ffmpeg could not encode a WebM video: {completed.stderr.decode()[-300:]}"
    return ""
