"""Import fidelity, end to end: what the original published is what the article page shows.

Feeds and pages are served on 127.0.0.1 by the test; the parsers' rules themselves are in
test_parsers_feeds.py, test_parsers_platforms.py and test_parsers_pages.py.
"""

import datetime
from pathlib import Path

import pytest
from django.utils import timezone
from lxml import html

from articles.models import Article, ArticleStatus
from syndication.entry import import_feed, import_url
from syndication.models import Feed
from tests.factories import LicensedSourceFactory
from tests.feedbuilders import png
from tests.httpserver import LocalServer

pytestmark = pytest.mark.django_db

PLATFORMS = Path(__file__).resolve().parent / "fixtures" / "feeds" / "platforms"
GHOST_IMAGES = "https://northlight.example/content/images/2026/03/"


@pytest.fixture
def server(settings):
    settings.SYNDICATION_ALLOWED_HOSTS = ["127.0.0.1"]
    with LocalServer() as running:
        yield running


def published(article: Article) -> Article:
    article.status = ArticleStatus.PUBLISHED
    article.published_at = timezone.now() - datetime.timedelta(hours=1)
    article.save()
    return article


def import_ghost_feed(server) -> Article:
    """The Ghost-shaped feed, its pictures served here."""
    document = (
        (PLATFORMS / "ghost.xml")
        .read_bytes()
        .replace(GHOST_IMAGES.encode(), server.url("/images/").encode())
    )
    server.routes["/ghost.xml"] = (200, {"Content-Type": "application/rss+xml"}, document)
    server.routes["/images/cape-dusk.jpg"] = (200, {"Content-Type": "image/png"}, png())
    feed = Feed.objects.create(source=LicensedSourceFactory(), url=server.url("/ghost.xml"))
    run = import_feed(feed)
    assert run.created == 1, run.error
    return Article.objects.get(source=feed.source)


def test_a_media_rss_caption_stays_with_the_lead_image_and_the_article_keeps_its_text(server):
    article = import_ghost_feed(server)

    assert "There is a week in February" in article.body
    assert "northern cape light" not in article.body + article.dek
    assert article.dek.startswith("Why the northern cape keeps its light so late")
    assert article.lead_image
    image = article.lead_image
    assert (image.caption, image.credit, image.alt) == (
        "The northern cape light at dusk",
        "Photo: Ingrid Saether",
        "Low sun over the cape",
    )


def test_the_article_page_shows_the_caption_and_credit_under_the_lead_image(server, client):
    article = published(import_ghost_feed(server))

    tree = html.fromstring(client.get(article.get_absolute_url()).content)

    (figure,) = tree.cssselect('figure[data-block="lead_media"]')
    assert figure.cssselect("img")[0].get("alt") == "Low sun over the cape"
    caption = " ".join(figure.cssselect("figcaption")[0].text_content().split())
    assert caption == "The northern cape light at dusk Credit: Photo: Ingrid Saether"


def test_body_pictures_keep_alt_text_and_figure_caption_through_the_sanitizer(server):
    body = (
        "<p>First.</p><figure><img src='{}' alt='A pier lamp'>"
        "<figcaption>One of <em>twelve</em> lamps.</figcaption></figure><p>Last.</p>"
    )
    server.routes["/lamp.png"] = (200, {"Content-Type": "image/png"}, png())
    document = (
        '<?xml version="1.0"?><rss version="2.0" '
        'xmlns:content="http://purl.org/rss/1.0/modules/content/"><channel><title>T</title>'
        "<item><title>Lamps</title><link>https://pier.example/lamps</link><content:encoded>"
        f"<![CDATA[{body.format(server.url('/lamp.png'))}]]></content:encoded></item>"
        "</channel></rss>"
    ).encode()
    server.routes["/feed.xml"] = (200, {"Content-Type": "application/rss+xml"}, document)
    feed = Feed.objects.create(source=LicensedSourceFactory(), url=server.url("/feed.xml"))

    import_feed(feed)

    (article,) = Article.objects.filter(source=feed.source)
    (figure,) = html.fragment_fromstring(article.body, create_parent="div").cssselect("figure")
    (image,) = figure.cssselect("img")
    assert image.get("src").startswith("/media/body/")
    assert image.get("alt") == "A pier lamp"
    assert html.tostring(figure.cssselect("figcaption")[0], encoding="unicode") == (
        "<figcaption>One of <em>twelve</em> lamps.</figcaption>"
    )


ARTICLE_PAGE = """<!doctype html><html lang="en"><head>
<title>Harbour lights return to the old pier | Coast News</title>
<meta property="og:title" content="Harbour lights return to the old pier">
<meta property="og:image" content="/img/pier.png">
</head><body><nav><a href="/">Home</a></nav><article>
<h1>Harbour lights return to the old pier</h1>
<figure><img src="/img/pier.png" alt="The old pier at dusk, its lamps lit">
<figcaption>The pier on Friday evening.</figcaption></figure>
<p>After eleven years of darkness, the lamps along the old pier were switched on again on
Friday evening, to the applause of some two hundred residents on the promenade.</p>
<p>The restoration, paid for by a public subscription, took three winters. Each of the twelve
cast-iron posts was taken down, sand-blasted and repainted in the original green.</p>
<p>"We wanted the pier to look the way our grandparents remembered it," said the chair of the
committee that led the campaign.</p>
</article><footer>Copyright Coast News</footer></body></html>"""


def test_a_single_url_import_does_not_repeat_the_headline_and_keeps_the_pictures_captions(
    server,
):
    server.routes["/news/pier"] = (200, {"Content-Type": "text/html"}, ARTICLE_PAGE.encode())
    server.routes["/img/pier.png"] = (200, {"Content-Type": "image/png"}, png())
    source = LicensedSourceFactory()

    run = import_url(server.url("/news/pier"), source)

    assert run.created == 1, run.error
    article = Article.objects.get(source=source)
    assert article.title == "Harbour lights return to the old pier"
    assert "Harbour lights return" not in article.body
    assert article.body.lstrip().startswith("<figure>")
    assert "<figcaption>The pier on Friday evening.</figcaption>" in article.body
    assert 'alt="The old pier at dusk, its lamps lit"' in article.body
    assert (article.lead_image.caption, article.lead_image.alt) == (
        "The pier on Friday evening.",
        "The old pier at dusk, its lamps lit",
    )
