"""Small pieces that make the security settings work behind a proxy and in the admin."""

from django.conf import settings
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


class AdminMediaNonceMiddleware:
    """Give the form media of admin pages the request's CSP nonce.

    The rich-text editor loads its modules through an inline `<script type="importmap">`,
    which a `script-src 'self'` policy blocks like any inline script. Rather than allowing
    inline scripts, the media of a template response (`{{ media }}` in the admin's change
    form) is rendered with the nonce that django-csp adds to the header. Pages whose media
    has nothing to render do not draw a nonce, so their policy stays exactly `'self'`.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_template_response(self, request, response):
        context = response.context_data
        nonce = getattr(request, "csp_nonce", None)
        media = context.get("media") if isinstance(context, dict) else None
        if media is not None and nonce is not None:
            context["media"] = Media.from_media(media, nonce=nonce)
        return response
