"""What the article page needs beyond its fields: JSON-LD, share links, lead media sources."""

import json
from urllib.parse import quote, urlencode

from django import template
from django.conf import settings
from django.utils.html import format_html
from django.utils.safestring import mark_safe

from articles import media
from articles.links import subject_url as _subject_url

register = template.Library()

# Inside <script> an HTML parser only looks for "</script"; escaping these three characters
# (as Django's json_script does) means no string in the data can end the element early.
_JSON_IN_HTML_ESCAPES = {ord("<"): "\\u003C", ord(">"): "\\u003E", ord("&"): "\\u0026"}

# Share pages that take a URL (and sometimes a title) in the query string: plain links,
# nothing of theirs is loaded until a reader clicks.
_SHARE_TARGETS = (
    ("Mastodon", "https://mastodonshare.com/", lambda url, title: {"text": title, "url": url}),
    ("Bluesky", "https://bsky.app/intent/compose", lambda url, title: {"text": f"{title} {url}"}),
    ("Facebook", "https://www.facebook.com/sharer/sharer.php", lambda url, title: {"u": url}),
    ("X", "https://x.com/intent/post", lambda url, title: {"text": title, "url": url}),
    (
        "LinkedIn",
        "https://www.linkedin.com/sharing/share-offsite/",
        lambda url, title: {"url": url},
    ),
    ("Reddit", "https://www.reddit.com/submit", lambda url, title: {"url": url, "title": title}),
)


def _absolute(request, url: str) -> str:
    return request.build_absolute_uri(url) if request is not None else settings.SITE_URL + url


def _page_url(context, article) -> str:
    """The article's absolute address: the view's `page_url` when it is this article's."""
    if context.get("article") is article and context.get("page_url"):
        return context["page_url"]
    return _absolute(context.get("request"), article.get_absolute_url())


@register.simple_tag(takes_context=True)
def lead_image(context, article) -> dict | None:
    """The lead image's src, srcset (every rendition by width), intrinsic size and absolute URL."""
    if not article.lead_image:
        return None
    storage = article.lead_image.storage
    renditions = article.lead_image_renditions or []
    if renditions:
        largest = renditions[-1]
        src, width, height = storage.url(largest["name"]), largest["width"], largest["height"]
        srcset = ", ".join(f"{storage.url(r['name'])} {r['width']}w" for r in renditions)
    else:
        src, width, height, srcset = article.lead_image.url, None, None, ""
    return {
        "src": src,
        "srcset": srcset,
        "width": width,
        "height": height,
        "absolute_src": _absolute(context.get("request"), src),
    }


@register.filter
def subject_url(subject) -> str:
    """The address of a region, theme, report, author, source or tag (remembered per process)."""
    return _subject_url(subject)


# (relation, label for one, label for several, rel attribute of its links)
_TAXONOMY = (
    ("regions", "Region", "Regions", ""),
    ("themes", "Theme", "Themes", ""),
    ("reports", "In-depth Report", "In-depth Reports", ""),
    ("tags", "Tags", "Tags", "tag"),
)


@register.simple_tag
def taxonomy(article) -> list[dict]:
    """What the article is filed under, by kind: a label and (name, address) pairs."""
    groups = []
    for relation, one, several, rel in _TAXONOMY:
        filed = list(getattr(article, relation).all())
        if filed:
            groups.append(
                {
                    "label": one if len(filed) == 1 else several,
                    "rel": rel,
                    "links": [(str(subject), _subject_url(subject)) for subject in filed],
                }
            )
    return groups


@register.filter
def kicker(article) -> str:
    """The label printed before the title: the editor's, or "Video" for a video-led article."""
    return article.kicker or ("Video" if article.video_url else "")


@register.filter
def video_mime_type(url: str) -> str:
    return media.video_mime_type(url)


@register.filter
def privacy_embed_url(url: str) -> str:
    return media.privacy_embed_url(url)


@register.simple_tag(takes_context=True)
def share_links(context, article) -> list[tuple[str, str]]:
    """(label, href) pairs for sharing the article's address on this site."""
    url = _page_url(context, article)
    links = [
        ("Email", "mailto:?" + urlencode({"subject": article.title, "body": url}, quote_via=quote))
    ]
    for label, endpoint, params in _SHARE_TARGETS:
        links.append(
            (label, f"{endpoint}?{urlencode(params(url, article.title), quote_via=quote)}")
        )
    return links


def news_article_data(article, request, page_url: str = "") -> dict:
    """The schema.org NewsArticle description of an article, as a plain dict."""
    page_url = page_url or _absolute(request, article.get_absolute_url())
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
                "url": _absolute(request, _subject_url(author)),
            }
            for author in article.ordered_authors
        ],
        "publisher": {
            "@type": "Organization",
            "name": settings.SITE_NAME,
            "url": settings.SITE_URL,
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
    image = lead_image({"request": request}, article)
    if image:
        data["image"] = [image["absolute_src"]]
    return data


def json_for_script_element(data) -> str:
    return json.dumps(data, ensure_ascii=False).translate(_JSON_IN_HTML_ESCAPES)


@register.simple_tag(takes_context=True)
def article_json_ld(context, article):
    data = json_for_script_element(
        news_article_data(article, context.get("request"), _page_url(context, article))
    )
    return format_html('<script type="application/ld+json">{}</script>', mark_safe(data))
