"""Pictures inside imported bodies are stored here or become links: readers never fetch them
from a third party (row B14 of docs/hostile-inputs.md)."""

import re

import pytest
from django.core.files.storage import default_storage
from django.test import Client

from articles.images import sniff_format
from articles.models import Article
from articles.sanitize import clean_html
from syndication.entry import import_feed_file, import_wxr
from syndication.models import ImportedItem
from syndication.pipeline.body_images import localise_body_images
from syndication.pipeline.upstream import accept_upstream_changes
from tests.factories import LicensedSourceFactory
from tests.feedbuilders import Post, png, png_declaring, rss, story, wxr
from tests.httpserver import LocalServer

pytestmark = pytest.mark.django_db

PNG_TYPE = {"Content-Type": "image/png"}
IMG_SRC = re.compile(r'<img\b[^>]*?\bsrc="([^"]*)"')


@pytest.fixture
def server(settings):
    settings.SYNDICATION_ALLOWED_HOSTS = ["127.0.0.1"]
    with LocalServer() as running:
        yield running


def serve_png(server, path, **options):
    server.routes[path] = (200, PNG_TYPE, png(**options))
    return server.url(path)


def image_requests(server):
    return [request for request in server.requests if request.path.endswith(".png")]


def import_body(tmp_path, body, *, status="draft", source=None):
    """Import one RSS item whose body is `body`; return the run and the item's record."""
    source = source or LicensedSourceFactory()
    path = tmp_path / "feed.xml"
    path.write_bytes(rss([story(1, description=body)]))
    run = import_feed_file(path, source, status)
    return run, ImportedItem.objects.select_related("article").get(source=source)


def stored_name(src):
    assert src.startswith("/media/"), src
    return src.removeprefix("/media/")


# ---------------------------------------------------------------------------------------------
# Through the importer


def test_a_served_body_image_is_stored_here_reencoded_and_the_body_points_at_our_copy(
    server, tmp_path
):
    url = serve_png(server, "/photos/harbour.png", width=300, height=200)

    run, record = import_body(
        tmp_path, f'<p>Before.</p><img src="{url}" alt="The harbour at dawn"><p>After.</p>'
    )

    body = record.article.body
    [src] = IMG_SRC.findall(body)
    name = stored_name(src)
    assert name.startswith("body/") and default_storage.exists(name)
    with default_storage.open(name, "rb") as stored:
        content = stored.read()
    assert sniff_format(content) in {"JPEG", "PNG"}
    assert content != png(width=300, height=200)  # re-encoded from pixels, not kept as sent
    assert 'alt="The harbour at dawn"' in body
    assert 'width="300"' in body and 'height="200"' in body
    assert "127.0.0.1" not in body
    assert run.created == 1 and record.warnings == []


def test_a_published_article_page_loads_body_images_only_from_this_site(server, tmp_path):
    url = serve_png(server, "/photos/quay.png", width=120, height=80)
    _run, record = import_body(
        tmp_path,
        f'<p><img src="{url}" alt="Quay"></p><p><img src="http://10.0.0.1/x.png" alt=""></p>',
        status="published",
    )

    page = Client().get(record.article.get_absolute_url()).content.decode()

    sources = IMG_SRC.findall(page)
    assert any(src.startswith("/media/body/") for src in sources)
    assert all(src.startswith("/") and not src.startswith("//") for src in sources), sources
    assert '<a href="http://10.0.0.1/x.png"' in page


def test_an_image_at_a_private_address_becomes_a_link_and_the_article_is_kept(tmp_path):
    run, record = import_body(
        tmp_path, '<p>Text.</p><img src="http://10.0.0.1/x.png" alt="A chart &amp; more">'
    )

    body = record.article.body
    assert run.created == 1
    assert "<img" not in body
    assert '<a href="http://10.0.0.1/x.png" rel="noopener noreferrer">' in body
    assert "Image: A chart &amp; more</a>" in body
    [warning] = record.warnings
    assert "http://10.0.0.1/x.png" in warning and "not a public address" in warning


def test_a_decompression_bomb_becomes_a_link_with_a_warning(server, tmp_path):
    server.routes["/bomb.png"] = (200, PNG_TYPE, png_declaring(30000, 30000))
    url = server.url("/bomb.png")

    run, record = import_body(tmp_path, f'<p>Text.</p><img src="{url}">')

    body = record.article.body
    assert run.created == 1 and "<img" not in body
    assert f'<a href="{url}" rel="noopener noreferrer">Image: original image</a>' in body
    [warning] = record.warnings
    assert url in warning and "decompression bomb" in warning


def test_something_that_is_not_an_image_becomes_a_link_with_a_warning(server, tmp_path):
    server.routes["/fake.png"] = (200, {"Content-Type": "text/html"}, b"<html>hello</html>")
    server.routes["/gone.png"] = (404, {}, b"")

    _run, record = import_body(
        tmp_path,
        f'<img src="{server.url("/fake.png")}"><img src="{server.url("/gone.png")}">',
    )

    assert "<img" not in record.article.body
    assert len(record.warnings) == 2
    assert "rejected" in record.warnings[0] and "404" in record.warnings[1]


def test_with_images_turned_off_every_body_image_is_a_link_and_nothing_is_requested(
    server, tmp_path
):
    url = serve_png(server, "/wp-content/uploads/quay.png")
    path = tmp_path / "export.xml"
    path.write_bytes(wxr([Post(1, "Pictures", content=f'Look.\n\n<img src="{url}" alt="Quay">')]))

    run = import_wxr(path, LicensedSourceFactory(), download_images=False)

    article = Article.objects.get(title="Pictures")
    assert run.created == 1
    assert "<img" not in article.body
    assert f'<a href="{url}" rel="noopener noreferrer">Image: Quay</a>' in article.body
    assert server.requests == []
    assert article.imported_item.warnings == []


def test_the_same_image_twice_in_one_body_is_downloaded_once(server, tmp_path):
    url = serve_png(server, "/photos/twice.png", width=64, height=64)

    _run, record = import_body(
        tmp_path, f'<img src="{url}"><p>Between.</p><img src="{url}" alt="">'
    )

    sources = IMG_SRC.findall(record.article.body)
    assert len(sources) == 2 and sources[0] == sources[1] and sources[0].startswith("/media/")
    assert len(image_requests(server)) == 1


def test_reimporting_downloads_nothing_and_changes_nothing(server, tmp_path):
    url = serve_png(server, "/photos/once.png", width=64, height=48)
    source = LicensedSourceFactory()
    body = f'<p>Story.</p><img src="{url}" alt="Once"><img src="http://10.0.0.1/x.png">'
    _run, record = import_body(tmp_path, body, source=source)
    article = record.article
    requests_after_first_run = len(server.requests)

    again, record = import_body(tmp_path, body, source=source)

    article_now = Article.objects.get(pk=article.pk)
    assert (again.created, again.unchanged) == (0, 1)
    assert len(server.requests) == requests_after_first_run
    assert (article_now.body, article_now.updated_at) == (article.body, article.updated_at)
    assert Article.objects.filter(source=source).count() == 1


def test_hostile_image_sources_never_survive(tmp_path):
    _run, record = import_body(
        tmp_path,
        '<img src="javascript:alert(1)" alt="js">'
        '<img src="data:image/svg+xml;base64,PHN2Zz48L3N2Zz4=" alt="data">'
        '<img src="http://10.0.0.1/x.png" onerror="alert(2)" alt="handler">'
        '<img src=" JaVaScRiPt:alert(3)">'
        '<img src="//10.0.0.2/pixel.gif" alt="protocol relative">',
    )

    body = record.article.body.lower()
    for hostile in ("javascript", "data:", "onerror", "alert"):
        assert hostile not in body
    assert IMG_SRC.findall(body) == []
    assert '<a href="https://10.0.0.2/pixel.gif" rel="noopener noreferrer">' in body


def test_accepting_an_upstream_change_localises_the_new_body_images(server, tmp_path):
    first = serve_png(server, "/photos/first.png", width=40, height=40)
    second = serve_png(server, "/photos/second.png", width=50, height=30, colour=(200, 10, 10))
    source = LicensedSourceFactory()
    import_body(tmp_path, f'<p>v1</p><img src="{first}">', source=source)
    run, record = import_body(
        tmp_path,
        f'<p>v2</p><img src="{second}"><img src="http://10.0.0.1/new.png">',
        source=source,
    )
    assert run.flagged_changed == 1

    assert accept_upstream_changes(record)

    record.refresh_from_db()
    body = Article.objects.get(pk=record.article_id).body
    [src] = IMG_SRC.findall(body)
    assert default_storage.exists(stored_name(src)) and 'width="50"' in body
    assert '<a href="http://10.0.0.1/new.png"' in body
    assert any("http://10.0.0.1/new.png" in warning for warning in record.warnings)


def test_an_editor_saving_the_article_keeps_our_stored_images(server, tmp_path):
    url = serve_png(server, "/photos/kept.png", width=30, height=30)
    _run, record = import_body(tmp_path, f'<img src="{url}">')
    article = record.article
    [src] = IMG_SRC.findall(article.body)

    article.title = "Edited"
    article.save()

    article.refresh_from_db()
    assert IMG_SRC.findall(article.body) == [src]


# ---------------------------------------------------------------------------------------------
# The function itself


def test_past_the_limit_images_become_links_with_one_warning(server):
    urls = [serve_png(server, f"/photos/{n}.png", width=8 + n, height=8) for n in range(4)]
    body = clean_html("".join(f'<img src="{url}">' for url in urls))

    html, warnings = localise_body_images(body, download=True, max_images=2)

    assert len(image_requests(server)) == 2
    assert len(IMG_SRC.findall(html)) == 2
    assert all(f'<a href="{url}"' in html for url in urls[2:])
    assert warnings == [
        "2 more body images were linked, not downloaded: the limit is 2 per article"
    ]


def test_an_image_inside_a_link_keeps_the_link_and_gains_one_to_the_image():
    body = clean_html(
        '<p><a href="https://origin.example/story"><img src="http://10.0.0.1/x.png" alt="Map">'
        "</a> caption</p>"
    )

    html, _warnings = localise_body_images(body, download=False)

    assert html == (
        '<p><a href="https://origin.example/story" rel="noopener noreferrer">'
        "<span>Image: Map</span></a> "
        '<a href="http://10.0.0.1/x.png" rel="noopener noreferrer">Image: Map</a> caption</p>'
    )


def test_the_result_is_exactly_allow_listed_and_stable(server):
    url = serve_png(server, "/photos/stable.png", width=16, height=16)
    body = clean_html(
        f'<h2>Title</h2><p>a &lt; b &amp; "c"</p><figure><img src="{url}" alt="x">'
        '<figcaption>Cap</figcaption></figure><img src="http://10.0.0.3/y.png">'
    )

    html, _warnings = localise_body_images(body, download=True)

    assert clean_html(html) == html
    assert localise_body_images(html, download=True) == (html, [])
    assert '<p>a &lt; b &amp; "c"</p>' in html and "<figcaption>Cap</figcaption>" in html


def test_a_body_without_images_is_returned_as_it_is():
    body = clean_html("<p>Just words, <em>nothing</em> to fetch.</p>")

    assert localise_body_images(body, download=True) == (body, [])


def test_our_stored_image_paths_survive_the_sanitizer_but_an_upstream_media_path_resolves():
    ours = "/media/body/ab/" + "0123456789abcdef" * 2 + ".jpg"
    upstream = "/media/photo.jpg"

    cleaned = clean_html(
        f'<img src="{ours}"><img src="{upstream}"><a href="{ours}">x</a>',
        base_url="https://origin.example/news/1",
    )

    assert f'<img src="{ours}">' in cleaned
    assert '<img src="https://origin.example/media/photo.jpg">' in cleaned
    assert f'href="https://origin.example{ours}"' in cleaned  # only images are ours by path
