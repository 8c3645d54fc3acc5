"""Documents for import tests, written by the tests themselves: RSS, WXR, pages and images."""

import io
import struct
import zlib
from dataclasses import dataclass, field
from html import escape

from PIL import Image


@dataclass
class Entry:
    guid: str = ""
    title: str = ""
    link: str = ""
    description: str = ""
    published: str = "Tue, 03 Mar 2026 10:00:00 GMT"
    author: str = ""
    categories: list[str] = field(default_factory=list)
    image: str = ""  # an enclosure URL of type image/png
    video: str = ""  # an enclosure URL of type video/mp4


def rss(entries: list[Entry], *, title: str = "The Harbour Courier", link: str = "") -> bytes:
    """An RSS 2.0 document; every text is escaped, so tests can put markup in descriptions."""
    items = []
    for entry in entries:
        parts = []
        if entry.guid:
            parts.append(f'<guid isPermaLink="false">{escape(entry.guid)}</guid>')
        if entry.title:
            parts.append(f"<title>{escape(entry.title)}</title>")
        if entry.link:
            parts.append(f"<link>{escape(entry.link)}</link>")
        if entry.description:
            parts.append(f"<description>{escape(entry.description)}</description>")
        if entry.published:
            parts.append(f"<pubDate>{escape(entry.published)}</pubDate>")
        if entry.author:
            parts.append(f"<dc:creator>{escape(entry.author)}</dc:creator>")
        parts.extend(f"<category>{escape(c)}</category>" for c in entry.categories)
        if entry.image:
            parts.append(f'<enclosure url="{escape(entry.image)}" type="image/png" length="1"/>')
        if entry.video:
            parts.append(f'<enclosure url="{escape(entry.video)}" type="video/mp4" length="1"/>')
        items.append("<item>" + "".join(parts) + "</item>")
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n'
        '<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/"><channel>'
        f"<title>{escape(title)}</title><link>{escape(link or 'https://courier.example/')}</link>"
        "<description>Test feed</description>" + "".join(items) + "</channel></rss>"
    ).encode("utf-8")


def story(number: int, **changes) -> Entry:
    values = {
        "guid": f"courier-{number}",
        "title": f"Harbour story {number}",
        "link": f"https://courier.example/news/story-{number}",
        "description": f"<p>Paragraph one of story {number}.</p><p>Paragraph two.</p>",
        "author": "Ada Lovelace",
        "categories": ["Harbour"],
    }
    values.update(changes)
    return Entry(**values)


def png(width: int = 1400, height: int = 900, colour=(40, 90, 160)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), colour).save(buffer, format="PNG")
    return buffer.getvalue()


def png_declaring(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims `width` x `height` pixels: a decompression bomb (F1)."""
    data = bytearray(png(1, 1))
    # IHDR starts at byte 8: length (4), type (4), width (4), height (4), ..., then its CRC.
    data[16:24] = struct.pack(">II", width, height)
    ihdr_end = 8 + 4 + 4 + 13
    data[ihdr_end : ihdr_end + 4] = struct.pack(">I", zlib.crc32(bytes(data[12:ihdr_end])))
    return bytes(data)


@dataclass
class Post:
    post_id: int
    title: str
    status: str = "publish"
    slug: str = ""
    author: str = "jdoe"
    content: str = "First paragraph.\n\nSecond paragraph."
    date_gmt: str = "2019-05-04 08:30:00"
    categories: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    thumbnail_id: int | None = None


def wxr(
    posts: list[Post],
    *,
    attachments: dict[int, str] | None = None,
    site_title: str = "Old Quay Journal",
    base: str = "https://oldquay.example",
) -> bytes:
    """A WXR 1.2 export with one author (jdoe, "Jane Doe"), the posts and image attachments."""
    items = []
    for attachment_id, url in (attachments or {}).items():
        items.append(
            f"<item><title>image {attachment_id}</title><guid>{base}/?attachment_id="
            f"{attachment_id}</guid><wp:post_id>{attachment_id}</wp:post_id>"
            "<wp:post_type>attachment</wp:post_type><wp:status>inherit</wp:status>"
            f"<wp:attachment_url>{escape(url)}</wp:attachment_url></item>"
        )
    for post in posts:
        slug = post.slug or f"post-{post.post_id}"
        terms = "".join(
            f'<category domain="category" nicename="{escape(c.lower())}"><![CDATA[{c}]]></category>'
            for c in post.categories
        ) + "".join(
            f'<category domain="post_tag" nicename="{escape(t.lower())}"><![CDATA[{t}]]></category>'
            for t in post.tags
        )
        thumbnail = (
            "<wp:postmeta><wp:meta_key>_thumbnail_id</wp:meta_key>"
            f"<wp:meta_value>{post.thumbnail_id}</wp:meta_value></wp:postmeta>"
            if post.thumbnail_id
            else ""
        )
        items.append(
            f"<item><title>{escape(post.title)}</title>"
            f"<link>{base}/2019/05/{slug}/</link>"
            f'<guid isPermaLink="false">{base}/?p={post.post_id}</guid>'
            f"<dc:creator><![CDATA[{post.author}]]></dc:creator>"
            f"<content:encoded><![CDATA[{post.content}]]></content:encoded>"
            "<excerpt:encoded><![CDATA[]]></excerpt:encoded>"
            f"<wp:post_id>{post.post_id}</wp:post_id>"
            f"<wp:post_date_gmt>{post.date_gmt}</wp:post_date_gmt>"
            f"<wp:post_name>{slug}</wp:post_name><wp:status>{post.status}</wp:status>"
            "<wp:post_type>post</wp:post_type>"
            f"{terms}{thumbnail}</item>"
        )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<rss version="2.0" xmlns:excerpt="http://wordpress.org/export/1.2/excerpt/" '
        'xmlns:content="http://purl.org/rss/1.0/modules/content/" '
        'xmlns:dc="http://purl.org/dc/elements/1.1/" '
        'xmlns:wp="http://wordpress.org/export/1.2/"><channel>'
        f"<title>{escape(site_title)}</title><link>{base}</link>"
        "<description>An old blog</description><language>en-GB</language>"
        f"<wp:wxr_version>1.2</wp:wxr_version><wp:base_site_url>{base}</wp:base_site_url>"
        f"<wp:base_blog_url>{base}</wp:base_blog_url>"
        "<wp:author><wp:author_id>1</wp:author_id><wp:author_login><![CDATA[jdoe]]>"
        "</wp:author_login><wp:author_email><![CDATA[jane@oldquay.example]]></wp:author_email>"
        "<wp:author_display_name><![CDATA[Jane Doe]]></wp:author_display_name></wp:author>"
        + "".join(items)
        + "</channel></rss>"
    ).encode("utf-8")
