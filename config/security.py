"""Small pieces that make the security settings work behind a proxy and in the admin."""

from urllib.parse import unquote

from csp.middleware import CSPMiddleware
from django import forms
from django.conf import settings
from django.core.exceptions import BadRequest
from js_asset import Media


def client_ip(request) -> str | None:
    """The address that connected to the first of our trusted reverse proxies.

    Each proxy appends the address it received the request from to X-Forwarded-For, so with
    `TRUSTED_PROXY_COUNT` proxies in front of the app the client is that many entries from
    the right. Anything further left was sent by the client and could be forged. Without
    trusted proxies (or with a header too short to hold them) it is the socket's peer.
    """
    trusted = getattr(settings, "TRUSTED_PROXY_COUNT", 0)
    forwarded = [
        part.strip()
        for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
        if part.strip()
    ]
    if trusted > 0 and len(forwarded) >= trusted:
        return forwarded[-trusted]
    return request.META.get("REMOTE_ADDR")


class RefuseNulMiddleware:
    """A request whose path or query string holds a NUL character is a 400, before any view,
    redirect lookup or search reads it: PostgreSQL refuses NUL in text, so any query made with
    one would end in a 500. No address of this site has one."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if "\x00" in request.path or "\x00" in unquote(request.META.get("QUERY_STRING", "")):
            raise BadRequest("NUL character in the address")
        return self.get_response(request)


# Tiptap, inside the rich-text editor, adds its base stylesheet (white-space handling, gap
# cursor, hidden selection) as an inline <style> element. The policy allows exactly that
# stylesheet by its hash; tests/test_security_headers.py recomputes it from the installed
# editor, so an upgrade that changes the stylesheet fails there rather than in the browser.
PROSE_EDITOR_STYLE_HASH = "'sha256-PlumsSlvJ7vvWzjqibGAYKq92O3y/4JTxWWsWJvyUYA='"


class ContentSecurityPolicyMiddleware(CSPMiddleware):
    """django-csp's middleware, plus the inline stylesheet hashes a response asks for.

    A response lists them in `csp_style_hashes` (our own attribute, set by
    `AdminMediaCSPMiddleware`); they are added to style-src the way django-csp's
    `csp_update` adds sources, through the `get_policy_parts` hook django-csp documents for
    subclasses.
    """

    def get_policy_parts(self, request, response, report_only=False):
        parts = super().get_policy_parts(request, response, report_only)
        hashes = getattr(response, "csp_style_hashes", ())
        if hashes and not report_only:
            update = dict(parts.update or {})
            update["style-src"] = [*update.get("style-src", []), *hashes]
            parts.update = update
        return parts


class AdminMediaCSPMiddleware:
    """Let the admin's form media run under a policy without 'unsafe-inline'.

    The rich-text editor loads its modules through an inline `<script type="importmap">`,
    which `script-src 'self'` blocks like any inline script. Rather than allowing inline
    scripts, the media of a template response (`{{ media }}` in the admin's change form) is
    rendered with the nonce that django-csp then adds to the header, and the editor's one
    inline stylesheet is allowed by its hash (see `ContentSecurityPolicyMiddleware`). Pages
    whose media have nothing to render draw no nonce and get no hash, so their policy stays
    exactly `'self'`.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_template_response(self, request, response):
        context = response.context_data
        nonce = getattr(request, "csp_nonce", None)
        media = context.get("media") if isinstance(context, dict) else None
        if not isinstance(media, forms.Media) or nonce is None:
            return response
        context["media"] = Media.from_media(media, nonce=nonce)
        if "django_prose_editor/" in str(media["js"]):
            response.csp_style_hashes = [PROSE_EDITOR_STYLE_HASH]
        return response
