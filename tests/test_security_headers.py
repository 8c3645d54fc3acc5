"""Security headers on every page, a Content-Security-Policy without inline scripts, and
throttled admin logins."""

import base64
import hashlib
import json
import secrets
import subprocess
import sys
from pathlib import Path

import django_prose_editor
import pytest
from django import forms
from django.template import engines
from django.template.response import TemplateResponse
from django.test import RequestFactory, override_settings
from django.urls import reverse
from django_prose_editor.widgets import ProseEditorWidget
from lxml import html

from articles.site.caching import CACHE_STATUS_HEADER
from config.security import (
    PROSE_EDITOR_STYLE_HASH,
    AdminMediaCSPMiddleware,
    ContentSecurityPolicyMiddleware,
    client_ip,
)
from config.settings import base as base_settings

from .factories import PublishedArticleFactory, make_user

pytestmark = pytest.mark.django_db

REPO = Path(__file__).resolve().parents[1]
PASSWORD = "correct horse battery"  # what tests.factories.make_user sets

EXPECTED_POLICY = {
    "default-src": ["'self'"],
    "script-src": ["'self'"],
    "style-src": ["'self'"],
    "img-src": ["'self'", "data:", "https:"],
    "media-src": ["'self'", "https:"],
    "frame-src": ["https://www.youtube-nocookie.com", "https://player.vimeo.com"],
    "object-src": ["'none'"],
    "base-uri": ["'none'"],
    "form-action": ["'self'"],
    "frame-ancestors": ["'none'"],
}
NON_EXECUTABLE_SCRIPT_TYPES = {"application/ld+json", "application/json"}


def policy(response) -> dict[str, list[str]]:
    directives = {}
    for directive in response["Content-Security-Policy"].split(";"):
        name, *values = directive.split()
        directives[name] = values
    return directives


def without_nonce(directives: dict) -> dict:
    return {
        name: [value for value in values if not value.startswith("'nonce-")]
        for name, values in directives.items()
    }


def assert_no_inline_code(response) -> None:
    """No script the browser would run inline, no inline style."""
    tree = html.fromstring(response.content)
    for script in tree.iter("script"):
        if script.get("src"):
            assert not script.get("src").startswith(("http:", "https:", "//"))
        else:
            assert script.get("type") in NON_EXECUTABLE_SCRIPT_TYPES, html.tostring(script)
    assert tree.xpath("//style") == []
    assert tree.xpath("//*[@style]") == []
    assert tree.xpath("//@*[starts-with(name(), 'on')]") == []


# Content-Security-Policy


def test_public_pages_carry_the_policy_without_inline_scripts(client):
    article = PublishedArticleFactory()

    for url in (reverse("articles:home"), article.get_absolute_url()):
        response = client.get(url)
        assert response.status_code == 200
        assert policy(response) == EXPECTED_POLICY
        assert "'unsafe-inline'" not in response["Content-Security-Policy"]
        assert "'unsafe-eval'" not in response["Content-Security-Policy"]
        assert_no_inline_code(response)


def test_pages_from_the_page_cache_still_carry_the_policy(client):
    url = PublishedArticleFactory().get_absolute_url()

    first = client.get(url)
    second = client.get(url)

    assert second[CACHE_STATUS_HEADER] == "hit"
    assert first.content == second.content
    assert policy(second) == EXPECTED_POLICY


def test_the_admin_login_page_carries_the_policy_without_inline_scripts(client):
    response = client.get(reverse("admin:login"))

    assert response.status_code == 200
    assert policy(response) == EXPECTED_POLICY
    assert_no_inline_code(response)


def test_the_article_editor_runs_its_import_map_by_nonce_and_its_stylesheet_by_hash(client):
    client.force_login(make_user("chief", is_superuser=True))

    response = client.get(reverse("admin:articles_article_add"))

    assert response.status_code == 200
    directives = policy(response)
    assert "'unsafe-inline'" not in directives["script-src"]
    assert "'unsafe-inline'" not in directives["style-src"]
    assert without_nonce(directives) == EXPECTED_POLICY | {
        "style-src": ["'self'", PROSE_EDITOR_STYLE_HASH]
    }
    nonces = [value for value in directives["script-src"] if value.startswith("'nonce-")]
    assert len(nonces) == 1
    nonce = nonces[0].removeprefix("'nonce-").removesuffix("'")
    tree = html.fromstring(response.content)
    inline_scripts = [s for s in tree.iter("script") if not s.get("src")]
    import_maps = [s for s in inline_scripts if s.get("type") == "importmap"]
    assert import_maps, "the rich-text editor loads its modules through an import map"
    for script in inline_scripts:
        assert script.get("nonce") == nonce or script.get("type") in NON_EXECUTABLE_SCRIPT_TYPES


def through_the_policy(media):
    """A template response printing `media`, passed through the admin media and CSP middleware
    the way Django's handler does: template-response hook, rendering, then the response."""
    request = RequestFactory().get("/admin/somewhere/")
    policy_middleware = ContentSecurityPolicyMiddleware(lambda request: None)
    policy_middleware.process_request(request)
    template = engines["django"].from_string("<head>{{ media }}</head>")
    response = TemplateResponse(request, template, {"media": media})
    response = AdminMediaCSPMiddleware(lambda request: response).process_template_response(
        request, response
    )
    response.render()
    return policy_middleware.process_response(request, response)


def test_the_editor_media_get_the_nonce_of_the_header_and_the_stylesheet_hash():
    response = through_the_policy(ProseEditorWidget().media)

    directives = policy(response)
    nonces = [value for value in directives["script-src"] if value.startswith("'nonce-")]
    assert len(nonces) == 1
    nonce = nonces[0].removeprefix("'nonce-").removesuffix("'")
    import_map = html.fromstring(response.content).xpath("//script[@type='importmap']")
    assert [script.get("nonce") for script in import_map] == [nonce]
    assert directives["style-src"] == ["'self'", PROSE_EDITOR_STYLE_HASH]


def test_other_media_get_the_nonce_but_not_the_editor_stylesheet():
    response = through_the_policy(forms.Media(js=["admin/js/calendar.js"]))

    directives = policy(response)
    assert any(value.startswith("'nonce-") for value in directives["script-src"])
    assert directives["style-src"] == ["'self'"]


@pytest.mark.parametrize("media", [forms.Media(), "", None], ids=["empty", "text", "none"])
def test_pages_without_media_to_render_draw_no_nonce(media):
    response = through_the_policy(media)

    assert policy(response) == EXPECTED_POLICY


def test_the_editor_stylesheet_hash_matches_the_installed_editor():
    editor_js = Path(django_prose_editor.__file__).parent / "static/django_prose_editor/editor.js"
    source = editor_js.read_text(encoding="utf-8")
    start = source.index("`.ProseMirror {\n  position: relative;")
    stylesheet = source[start + 1 : source.index("`", start + 1)]

    digest = base64.b64encode(hashlib.sha256(stylesheet.encode()).digest()).decode()

    assert f"'sha256-{digest}'" == PROSE_EDITOR_STYLE_HASH, (
        "django-prose-editor changed the stylesheet Tiptap injects: update the hash"
    )


# Other headers


@pytest.mark.parametrize("url_name", ["articles:home", "admin:login"])
def test_pages_forbid_framing_sniffing_and_leaking_referrers(client, url_name):
    response = client.get(reverse(url_name))

    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"


def test_production_adds_hsts_redirects_to_https_and_marks_cookies_secure():
    code = """
import json, django
from django.conf import settings
# A fresh clone has no collectstatic manifest; the headers do not depend on it.
settings.STORAGES = {
    **settings.STORAGES,
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
django.setup()
from django.test import Client
client = Client()
plain = client.get("/admin/login/", HTTP_HOST="news.example.org")
secure = client.get("/admin/login/", HTTP_HOST="news.example.org", secure=True)
cookie = secure.cookies["csrftoken"]
print(json.dumps({
    "plain_status": plain.status_code,
    "plain_location": plain.get("Location"),
    "status": secure.status_code,
    "hsts": secure.get("Strict-Transport-Security"),
    "csp": secure.get("Content-Security-Policy"),
    "frame": secure.get("X-Frame-Options"),
    "cookie": {key: cookie[key] for key in ("secure", "httponly", "samesite")},
}))
"""
    env = {
        "PATH": "/usr/bin:/bin",
        "DJANGO_SETTINGS_MODULE": "config.settings.prod",
        "SECRET_KEY": secrets.token_urlsafe(64),
        "ALLOWED_HOSTS": "news.example.org",
        # One process, with the cache in its own memory.
        "SITE_RUNS_AS_ONE_PROCESS": "1",
        "PYTHONPATH": str(REPO),
    }
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout.strip().splitlines()[-1])

    assert answer["plain_status"] == 301
    assert answer["plain_location"] == "https://news.example.org/admin/login/"
    assert answer["status"] == 200
    assert answer["hsts"] == "max-age=31536000; includeSubDomains; preload"
    assert "script-src 'self';" in answer["csp"] + ";"
    assert answer["frame"] == "DENY"
    assert answer["cookie"] == {"secure": True, "httponly": True, "samesite": "Lax"}


# Login throttling


def attempt_login(client, username, password, ip="198.51.100.20"):
    return client.post(
        reverse("admin:login"),
        {"username": username, "password": password, "next": reverse("admin:index")},
        REMOTE_ADDR=ip,
    )


@override_settings(AXES_ENABLED=True, AXES_FAILURE_LIMIT=5)
def test_five_failed_logins_lock_the_account_out_from_that_address(client):
    make_user("editor")

    answers = [attempt_login(client, "editor", "wrong guess").status_code for _ in range(4)]
    assert answers == [200, 200, 200, 200]  # the login form again, with an error
    assert attempt_login(client, "editor", "wrong guess").status_code == 429

    locked_out = attempt_login(client, "editor", PASSWORD)

    assert locked_out.status_code == 429
    assert "_auth_user_id" not in client.session


@override_settings(AXES_ENABLED=True, AXES_FAILURE_LIMIT=5)
def test_a_lockout_is_for_one_username_from_one_address(client):
    make_user("editor")
    make_user("importer")
    for _ in range(5):
        attempt_login(client, "editor", "wrong guess")

    other_user = attempt_login(client, "importer", PASSWORD)
    client.logout()
    other_address = attempt_login(client, "editor", PASSWORD, ip="203.0.113.50")

    assert other_user.status_code == 302
    assert other_address.status_code == 302
    assert client.session["_auth_user_id"]


@override_settings(AXES_ENABLED=True, AXES_FAILURE_LIMIT=5)
def test_a_successful_login_forgets_earlier_failures(client):
    make_user("editor")
    for _ in range(4):
        attempt_login(client, "editor", "wrong guess")
    assert attempt_login(client, "editor", PASSWORD).status_code == 302
    client.logout()

    answers = [attempt_login(client, "editor", "wrong guess").status_code for _ in range(4)]

    assert answers == [200, 200, 200, 200]


@override_settings(AXES_ENABLED=True, AXES_FAILURE_LIMIT=5, TRUSTED_PROXY_COUNT=1)
def test_behind_a_proxy_the_lockout_follows_the_forwarded_address(client):
    make_user("editor")
    proxy = "127.0.0.1"
    for _ in range(5):
        client.post(
            reverse("admin:login"),
            {"username": "editor", "password": "wrong guess"},
            REMOTE_ADDR=proxy,
            HTTP_X_FORWARDED_FOR="198.51.100.20",
        )

    colleague = client.post(
        reverse("admin:login"),
        {"username": "editor", "password": PASSWORD, "next": "/admin/"},
        REMOTE_ADDR=proxy,
        HTTP_X_FORWARDED_FOR="203.0.113.50",
    )

    assert colleague.status_code == 302


@pytest.mark.parametrize(
    ("trusted_proxies", "forwarded_for", "expected"),
    [
        (0, "203.0.113.9", "127.0.0.1"),  # no proxy trusted: the header is the client's word
        (1, "203.0.113.9", "203.0.113.9"),
        (1, "6.6.6.6, 203.0.113.9", "203.0.113.9"),  # a forged entry on the left is ignored
        (2, "6.6.6.6, 203.0.113.9, 10.0.0.2", "203.0.113.9"),
        (2, "203.0.113.9", "127.0.0.1"),  # fewer entries than proxies: not trustworthy
        (1, "", "127.0.0.1"),
    ],
)
def test_client_ip_counts_trusted_proxies_from_the_right(
    settings, trusted_proxies, forwarded_for, expected
):
    settings.TRUSTED_PROXY_COUNT = trusted_proxies
    request = RequestFactory().get("/", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR=forwarded_for)

    assert client_ip(request) == expected


def test_login_throttling_is_on_outside_tests():
    from django.conf import settings

    assert "axes" in settings.INSTALLED_APPS
    assert settings.MIDDLEWARE[-1] == "axes.middleware.AxesMiddleware"
    assert settings.AUTHENTICATION_BACKENDS[0] == "axes.backends.AxesStandaloneBackend"
    assert getattr(base_settings, "AXES_ENABLED", True) is True
    assert base_settings.AXES_FAILURE_LIMIT == 5
    assert base_settings.AXES_COOLOFF_TIME == 1
    assert base_settings.AXES_LOCKOUT_PARAMETERS == [["username", "ip_address"]]
