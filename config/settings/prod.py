"""Production: secure by default, and refuse to start without a real secret key.

Every value still comes from the environment; docs/deploy.md lists them per machine role.
"""

import os
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403
from .base import CACHES, SITE_RUNS_AS_ONE_PROCESS, VAR_DIR, env_bool

SECRET_KEY = os.environ.get("SECRET_KEY", "")
if len(SECRET_KEY) < 50 or len(set(SECRET_KEY)) < 5 or SECRET_KEY.startswith("dev-only"):
    raise ImproperlyConfigured(
        "SECRET_KEY must be set to a random string of at least 50 characters in production."
    )

DEBUG = False

# Page-cache invalidation moves generations in the shared cache: gunicorn's workers and the
# task worker must all read the same one (the same rule as `check --deploy`'s articles.E001).
if CACHES["default"]["BACKEND"].endswith("LocMemCache") and not SITE_RUNS_AS_ONE_PROCESS:
    raise ImproperlyConfigured(
        "CACHE_URL must name a shared cache (redis://...) in production: each process keeps a "
        "local-memory cache to itself. Set SITE_RUNS_AS_ONE_PROCESS=1 if one process (one "
        "gunicorn worker, no task worker) serves the site."
    )
SERVE_MEDIA = env_bool("SERVE_MEDIA", default=False)

# HTTPS: the reverse proxy terminates TLS and says so in X-Forwarded-Proto.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", default=True)
SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", str(60 * 60 * 24 * 365)))
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", default=True)
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
# One reverse proxy (nginx or Caddy on the same machine, or the load balancer) by default.
TRUSTED_PROXY_COUNT = int(os.environ.get("TRUSTED_PROXY_COUNT", "1"))

STATIC_ROOT = Path(os.environ.get("STATIC_ROOT") or VAR_DIR / "static")
# WhiteNoise serves the hashed names that collectstatic writes with a ten-year, immutable
# Cache-Control (its default for versioned files); unhashed URLs get this many seconds.
WHITENOISE_MAX_AGE = int(os.environ.get("WHITENOISE_MAX_AGE", "3600"))

if os.environ.get("AWS_STORAGE_BUCKET_NAME"):
    # Media on any S3-compatible object store (AWS, Cloudflare R2, MinIO, Scaleway, ...).
    # django-storages reads AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY from the environment
    # itself; the rest is read here. Stored files have content-hashed names, so they can be
    # cached for a year, and they are public: URLs are plain, not signed.
    STORAGES["default"] = {"BACKEND": "storages.backends.s3.S3Storage"}  # noqa: F405
    AWS_STORAGE_BUCKET_NAME = os.environ["AWS_STORAGE_BUCKET_NAME"]
    AWS_S3_ENDPOINT_URL = os.environ.get("AWS_S3_ENDPOINT_URL") or None
    AWS_S3_REGION_NAME = os.environ.get("AWS_S3_REGION_NAME") or None
    AWS_S3_CUSTOM_DOMAIN = os.environ.get("AWS_S3_CUSTOM_DOMAIN") or None
    AWS_S3_ADDRESSING_STYLE = os.environ.get("AWS_S3_ADDRESSING_STYLE") or None
    AWS_LOCATION = os.environ.get("AWS_LOCATION", "media")
    AWS_DEFAULT_ACL = os.environ.get("AWS_DEFAULT_ACL") or None
    AWS_QUERYSTRING_AUTH = env_bool("AWS_QUERYSTRING_AUTH", default=False)
    AWS_S3_FILE_OVERWRITE = False
    AWS_S3_OBJECT_PARAMETERS = {"CacheControl": "public, max-age=31536000, immutable"}

if os.environ.get("LOG_FORMAT", "json").lower() == "json":
    LOGGING["formatters"]["json"] = {"()": "config.logging.JsonFormatter"}  # noqa: F405
    LOGGING["handlers"]["console"]["formatter"] = "json"  # noqa: F405
