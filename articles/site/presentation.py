"""What public pages print beyond model fields: lead media sources, what an article is filed
under, share links, JSON-LD, feed autodiscovery and the section navigation.

Plain functions of their inputs, called from the public templates (see `articles.site.jinja2`) and
from feeds; none of them knows about a template engine.
"""

import json
from urllib.parse import quote

from django.conf import settings
from django.utils.safestring import SafeString, mark_safe

from articles.models import Region, Theme
from articles.site import media
from articles.site.links import subject_url

# Inside <script> an HTML parser only looks for "</script"; escaping these three characters
# (as Django's json_script does) means no string in the data can end the element early.
_JSON_IN_HTML_ESCAPES = {ord("<"): "\\u003C", ord(">"): "\\u003E", ord("&"): "\\u0026"}

# Share pages that take the page's address (and sometimes its title) in the query string:
# plain links, nothing of theirs is loaded until a reader clicks. {url} and {title} stand for
# the percent-encoded address and title.
_SHARE_TARGETS = (
    ("Email", "mailto:?subject={title}&body={url}"),
    ("Mastodon", "https://mastodonshare.com/?text={title}&url={url}"),
    ("Bluesky", "https://bsky.app/intent/compose?text={title}%20{url}"),
    ("Facebook", "https://www.facebook.com/sharer/sharer.php?u={url}"),
    ("X", "https://x.com/intent/post?text={title}&url={url}"),
    ("LinkedIn", "https://www.linkedin.com/sharing/share-offsite/?url={url}"),
    ("Reddit", "https://www.reddit.com/submit?url={url}&title={title}"),
)

# (relation, label for one, label for several, rel attribute of its links)
_TAXONOMY = (
    ("regions", "Region", "Regions", ""),
    ("themes", "Theme", "Themes", ""),
    ("reports", "In-depth Report", "In-depth Reports", ""),
    ("tags", "Tags", "Tags", "tag"),
)

NAVIGATION_SIZE = 12


def absolute_url(request, url: str) -> str:
    return request.build_absolute_uri(url) if request is not None else settings.SITE_URL + url


def lead_image(article, request=None) -> dict | None:
    """The article's lead image as pages print it (see `picture`), or None."""
    return picture(article.lead_image, request) if article.lead_image_id else None


def picture(image, request=None) -> dict:
    """A library image's src, srcset (every rendition by width), intrinsic size, absolute URL
    and the texts shown with it."""
    storage = image.file.storage
    renditions = image.renditions or []
    if renditions:
        largest = renditions[-1]
        src, width, height = storage.url(largest["name"]), largest["width"], largest["height"]
        srcset = ", ".join(f"{storage.url(r['name'])} {r['width']}w" for r in renditions)
    else:
        src, width, height, srcset = image.file.url, image.width or None, image.height or None, ""
    return {
        "src": src,
        "srcset": srcset,
        "width": width,
        "height": height,
        "absolute_src": absolute_url(request, src),
        "alt": image.alt,
        "caption": image.caption,
        "credit": image.credit,
    }


def source_logo(source) -> dict | None:
    """The source's logo as pages print it: address, intrinsic size and alt text, or None."""
    if not source.logo:
        return None
    return {
        "src": source.logo.url,
        "width": source.logo_width,
        "height": source.logo_height,
        "alt": f"{source.name} logo",
    }


def taxonomy(article) -> list[dict]:
    """What the article is filed under, by kind: a label and (name, address) pairs."""
    groups = []
    for relation, one, several, rel in _TAXONOMY:
        filed = article.filed(relation)
        if filed:
            groups.append(
                {
                    "label": one if len(filed) == 1 else several,
                    "rel": rel,
                    "links": [(str(subject), subject_url(subject)) for subject in filed],
                }
            )
    return groups


def kicker(article) -> str:
    """The label printed before the title: the editor's, or "Video" for a video-led article."""
    return article.kicker or ("Video" if article.video_url else "")


def author_names(article) -> str:
    """The article's authors as a reader says them: "A", "A and B", "A, B and C"."""
    names = [author.name for author in article.filed("authors")]
    if len(names) > 1:
        return ", ".join(names[:-1]) + " and " + names[-1]
    return names[0] if names else ""


def attribution_line(article) -> str:
    """The attribution block's first sentence as plain text: who published the article first,
    and under which title when ours differs."""
    line = f"The original source of this article is {article.source.name}"
    if article.original_title and article.original_title != article.title:
        line += f", where it appeared as “{article.original_title}”"
    return line + "."


def copyright_line(article) -> str:
    """The copyright line generated from the source's rights record."""
    return f"Copyright © {article.copyright_holder}, {article.copyright_year}"


def licence_notice(article) -> dict | None:
    """The attribution a Creative Commons licence asks for, in its TASL form: the work's title
    (linked to the original), its authors, its source (linked) and the licence (linked to its
    deed), and whether and when changes were made to its words. None for other rights."""
    rights = article.source.rights_record()
    if rights is None or not rights.is_creative_commons:
        return None
    return {
        "title": article.original_title or article.title,
        "title_url": article.original_url,
        "authors": author_names(article),
        "source_name": article.source.name,
        "source_url": article.source.homepage,
        "licence_name": rights.licence_name,
        "licence_url": rights.licence_url,
        "changed_at": article.body_changed_at,
    }


def corrections_data(article) -> list[dict]:
    """The article's corrections and updates as schema.org CorrectionComment items."""
    return [
        {
            "@type": "CorrectionComment",
            "name": correction.get_kind_display(),
            "text": correction.note,
            "datePublished": correction.created_at.isoformat(),
        }
        for correction in article.rarely_filled("corrections")
    ]


def video_mime_type(url: str) -> str:
    return media.video_mime_type(url)


def privacy_embed_url(url: str) -> str:
    return media.privacy_embed_url(url)


def share_links(article, page_url: str) -> list[tuple[str, str]]:
    """(label, href) pairs for sharing the article's address on this site."""
    url, title = quote(page_url, safe=""), quote(article.title, safe="")
    return [(label, link.format(url=url, title=title)) for label, link in _SHARE_TARGETS]


def news_article_data(article, request, page_url: str, image: dict | None) -> dict:
    """The schema.org NewsArticle description of an article (`image` is its `lead_image`)."""
    data = {
        "@context": "https://schema.org",
        "@type": "NewsArticle",
        "headline": article.title,
        "url": page_url,
        "mainEntityOfPage": {"@type": "WebPage", "@id": page_url},
        "inLanguage": article.language,
        "dateModified": article.updated_at.isoformat(),
        "author": [
            {
                "@type": "Person",
                "name": author.name,
                "url": absolute_url(request, subject_url(author)),
            }
            for author in article.filed("authors")
        ],
        "publisher": {
            "@type": "Organization",
            "name": settings.SITE_NAME,
            "url": absolute_url(request, "/"),
        },
        "sourceOrganization": {"@type": "Organization", "name": article.source.name},
        "copyrightHolder": {"@type": "Organization", "name": article.copyright_holder},
        "copyrightYear": article.copyright_year,
    }
    if article.dek:
        data["description"] = article.dek
    if article.published_at:
        data["datePublished"] = article.published_at.isoformat()
    if article.original_url:
        data["isBasedOn"] = article.original_url
    if article.source.homepage:
        data["sourceOrganization"]["url"] = article.source.homepage
    if article.licence_url:
        data["license"] = article.licence_url
    corrections = corrections_data(article)
    if corrections:
        data["correction"] = corrections
    if image:
        data["image"] = [image["absolute_src"]]
    return data


def json_for_script_element(data) -> str:
    return json.dumps(data, ensure_ascii=False).translate(_JSON_IN_HTML_ESCAPES)


def article_json_ld(article, request, page_url: str, image: dict | None) -> SafeString:
    """The article's NewsArticle JSON-LD, in its <script> element."""
    data = json_for_script_element(news_article_data(article, request, page_url, image))
    return mark_safe(f'<script type="application/ld+json">{data}</script>')  # noqa: S308


def navigation_sections() -> dict[str, list[tuple[str, str]]]:
    """Top-level regions and the themes as (name, url) pairs."""
    return {
        "regions": [
            (region.name, region.get_absolute_url())
            for region in Region.objects.filter(parent=None)[:NAVIGATION_SIZE]
        ],
        "themes": [
            (theme.name, theme.get_absolute_url())
            for theme in Theme.objects.all()[:NAVIGATION_SIZE]
        ],
    }
