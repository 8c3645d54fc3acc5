"""Settings shared by every environment.

The environment is read here, once, with harmless development defaults. Each of
dev.py, test.py and prod.py overrides only what differs.
"""

import os
from pathlib import Path

import csp.constants
import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = BASE_DIR / "var"


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def cache_from_url(url: str) -> dict:
    """Turn CACHE_URL into a CACHES entry: locmem:// (default), redis://, rediss://, dummy://."""
    if not url or url.startswith("locmem://"):
        # Per process: fine for `runserver` and tests. Production refuses it unless
        # SITE_RUNS_AS_ONE_PROCESS says so (articles/site/checks.py). Room for the pieces of
        # a few thousand articles (three entries each: articles/site/fragments.py): a full
        # local cache drops a third of its entries at once, the generations among them, and
        # a lost generation makes every page and piece of its scope stale.
        return {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "syndicms",
            "OPTIONS": {"MAX_ENTRIES": 50_000},
        }
    if url.startswith(("redis://", "rediss://", "unix://")):
        return {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": url,
            "KEY_PREFIX": "syndicms",
        }
    if url.startswith("dummy://"):
        return {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}
    raise ImproperlyConfigured(f"CACHE_URL scheme not supported: {url.split(':', 1)[0]}")


SECRET_KEY = os.environ.get("SECRET_KEY", "dev-only-insecure-key-never-use-in-production")
DEBUG = env_bool("DEBUG")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

SITE_NAME = os.environ.get("SITE_NAME", "The Syndicate Review")
# Absolute links where there is no request (feeds, emails, the fetcher's User-Agent). Without
# SITE_URL, the development server's own address: `PORT=8080 make demo` serves on 8080.
SITE_URL = (
    os.environ.get("SITE_URL") or f"http://127.0.0.1:{os.environ.get('PORT') or '8000'}"
).rstrip("/")

INSTALLED_APPS = [
    "articles.editorial.apps.DeskAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.sitemaps",
    "django.contrib.postgres",
    "taggit",
    "ninja",
    "simple_history",
    "django_prose_editor",
    "django_tasks",
    "django_tasks_db",
    "csp",
    "axes",
    "articles",
    "syndication",
]

MIDDLEWARE = [
    # /healthz is answered first: load balancers probe nodes by IP address over plain HTTP,
    # and a check must not depend on the page cache or sessions (see config/health.py).
    "config.health.HealthCheckMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Before anything can hand the path or the query string to the database.
    "config.security.RefuseNulMiddleware",
    # WhiteNoise sits right after SecurityMiddleware so static files skip the rest of the stack.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Outside the page cache, so cached pages get the policy too; the admin's form media
    # get the request's nonce (see config/security.py).
    "config.security.ContentSecurityPolicyMiddleware",
    "config.security.AdminMediaCSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # The page cache needs the session (to let signed-in users through) and must sit outside
    # CSRF and messages so it sees the cookies they set: pages that set cookies are not kept.
    # The API's CORS headers and anonymous rate limit, outside the page cache so that cached
    # answers are counted and carry the headers too (see articles/distribution/api/edge.py).
    "articles.distribution.api.edge.ApiEdgeMiddleware",
    "articles.site.caching.PageCacheMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    # Inside CommonMiddleware, so a 404 finds its stored redirect before APPEND_SLASH guesses.
    "articles.site.redirects.RedirectFallbackMiddleware",
    # Last, as django-axes requires: it turns a locked-out login into its 429 answer.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    # The public site (see articles/jinja2.py): templates/jinja2/.
    {
        "BACKEND": "django.template.backends.jinja2.Jinja2",
        "DIRS": [BASE_DIR / "templates" / "jinja2"],
        "APP_DIRS": False,
        "OPTIONS": {"environment": "articles.site.jinja2.environment"},
    },
    # The admin and everything else Django or its apps render.
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "articles.site.context_processors.site",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL") or f"sqlite:///{VAR_DIR / 'db.sqlite3'}",
        conn_max_age=int(os.environ.get("CONN_MAX_AGE", "0")),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"].endswith("postgresql") and env_bool("DB_PREPARED_STATEMENTS"):
    # Server-side binding with prepared statements: less PostgreSQL CPU per page. Needs
    # persistent connections (CONN_MAX_AGE > 0) and a direct connection or session pooling;
    # a transaction-pooling PgBouncer cannot carry prepared statements.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        server_side_binding=True, prepare_threshold=5
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

CACHES = {"default": cache_from_url(os.environ.get("CACHE_URL", ""))}
# True only where one process serves the site (one gunicorn worker, no task worker): then a
# local-memory cache is safe. Otherwise every process must share the cache (CACHE_URL).
SITE_RUNS_AS_ONE_PROCESS = env_bool("SITE_RUNS_AS_ONE_PROCESS")

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en"
TIME_ZONE = os.environ.get("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT") or VAR_DIR / "media")
# Serve MEDIA_ROOT from Django itself: fine for the demo and a single small server,
# off in production where a web server, CDN or object storage does it.
SERVE_MEDIA = env_bool("SERVE_MEDIA", default=True)

STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

TASKS = {
    "default": {
        "BACKEND": os.environ.get("TASKS_BACKEND", "django_tasks_db.DatabaseBackend"),
    }
}
# Scale-out: TASKS_BACKEND=django_tasks_rq.RQBackend puts tasks on Redis for `manage.py
# rqworker default` on any machine. django_rq is only installed then, so a site without
# Redis neither needs it nor shows its dashboard.
REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
RQ_QUEUES = {"default": {"URL": REDIS_URL, "DEFAULT_TIMEOUT": 15 * 60}}
# Workers must run jobs through django-tasks' job class, so `rqworker default` needs no flag.
RQ = {"JOB_CLASS": "django_tasks_rq.Job"}
if TASKS["default"]["BACKEND"].startswith("django_tasks_rq."):
    INSTALLED_APPS += ["django_rq", "django_tasks_rq"]

TAGGIT_CASE_INSENSITIVE = True

# Images: every upload and every downloaded image is decoded and re-encoded from its pixels.
IMAGE_MAX_BYTES = int(os.environ.get("IMAGE_MAX_BYTES", str(15 * 1024 * 1024)))
IMAGE_MAX_PIXELS = int(os.environ.get("IMAGE_MAX_PIXELS", str(40_000_000)))
IMAGE_RENDITION_WIDTHS = (320, 640, 960, 1280)

ARTICLES_PER_PAGE = 20

LOGIN_URL = "admin:login"
# Where a login lands when its `next=` is missing or refused (another host, "//evil.com"):
# Django's default, /accounts/profile/, is not a page here.
LOGIN_REDIRECT_URL = "admin:index"

# Security headers, in every environment so development shows what production enforces.
# HTTPS-only settings (HSTS, secure cookies, the SSL redirect) are in prod.py.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        # No inline scripts. JSON-LD blocks are data, not executed, so 'self' allows them.
        # The nonce appears only on admin pages whose form media need it (an import map).
        "script-src": ["'self'", csp.constants.NONCE],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:", "https:"],
        "media-src": ["'self'", "https:"],
        "frame-src": ["https://www.youtube-nocookie.com", "https://player.vimeo.com"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "strict-origin-when-cross-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
# The admin reads the CSRF token from the form, never from the cookie, so scripts need not.
CSRF_COOKIE_HTTPONLY = True

# Login throttling (django-axes): after AXES_FAILURE_LIMIT failed logins for one username
# from one address, that pair is refused for AXES_COOLOFF_TIME hours (HTTP 429). Pairs, so an
# attacker cannot lock a colleague out from elsewhere. Attempts live in the database, shared
# by every web node.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = int(os.environ.get("AXES_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = float(os.environ.get("AXES_COOLOFF_HOURS", "1"))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False  # no banner at every start; lockouts are still logged
# Behind N reverse proxies the client is the Nth address from the right of X-Forwarded-For.
TRUSTED_PROXY_COUNT = int(os.environ.get("TRUSTED_PROXY_COUNT", "0"))
AXES_CLIENT_IP_CALLABLE = "config.security.client_ip"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
    },
}

# Syndication: fetching other people's servers politely and safely.
SYNDICATION_USER_AGENT = os.environ.get(
    "SYNDICATION_USER_AGENT",
    f"SyndiCMS/0.1 (+{SITE_URL}/; feed importer for {SITE_NAME})",
)
SYNDICATION_CONNECT_TIMEOUT = float(os.environ.get("SYNDICATION_CONNECT_TIMEOUT", "10"))
SYNDICATION_READ_TIMEOUT = float(os.environ.get("SYNDICATION_READ_TIMEOUT", "20"))
SYNDICATION_DEADLINE = float(os.environ.get("SYNDICATION_DEADLINE", "60"))
SYNDICATION_MAX_BYTES = int(os.environ.get("SYNDICATION_MAX_BYTES", str(20 * 1024 * 1024)))
SYNDICATION_MAX_REDIRECTS = 5
# Hosts (names or IP addresses) that may be fetched even though they are not public, e.g. an
# internal feed server. Tests put 127.0.0.1 here to serve feeds to themselves.
SYNDICATION_ALLOWED_HOSTS = env_list("SYNDICATION_ALLOWED_HOSTS")
# WebSub (push) for feeds whose document names a hub: the public base URL hubs can reach this
# site at (e.g. https://news.example.org). Empty: never subscribe, only poll.
WEBSUB_CALLBACK_BASE = os.environ.get("WEBSUB_CALLBACK_BASE", "").rstrip("/")
WEBSUB_LEASE_SECONDS = int(os.environ.get("WEBSUB_LEASE_SECONDS", str(10 * 24 * 3600)))
# Minutes between polls of a feed while its hub pushes it (polling is the fallback).
WEBSUB_FALLBACK_POLL_INTERVAL = int(os.environ.get("WEBSUB_FALLBACK_POLL_INTERVAL", "720"))
# Ports other than 80/443 that may be fetched (allowed hosts may use any port).
SYNDICATION_ALLOWED_PORTS = [int(p) for p in env_list("SYNDICATION_ALLOWED_PORTS", "80,443")]
# The originals watch (docs/provenance-watch.md): originals checked per run, seconds between
# two requests to one host, requests to one host per run, hours before an original is checked
# again, and minutes between two runs enqueued by the scheduling pass (`enqueue_due_feeds`).
ORIGINAL_CHECK_LIMIT = int(os.environ.get("ORIGINAL_CHECK_LIMIT", "50"))
ORIGINAL_CHECK_HOST_INTERVAL = float(os.environ.get("ORIGINAL_CHECK_HOST_INTERVAL", "5"))
ORIGINAL_CHECK_PER_HOST = int(os.environ.get("ORIGINAL_CHECK_PER_HOST", "10"))
ORIGINAL_RECHECK_HOURS = int(os.environ.get("ORIGINAL_RECHECK_HOURS", "24"))
ORIGINAL_CHECK_EVERY_MINUTES = int(os.environ.get("ORIGINAL_CHECK_EVERY_MINUTES", "60"))

# The read-only JSON API (docs/api.md): requests an anonymous client (one address) may make
# per window of seconds; 0: no limit.
API_RATE_LIMIT = int(os.environ.get("API_RATE_LIMIT", "120"))
API_RATE_LIMIT_WINDOW = int(os.environ.get("API_RATE_LIMIT_WINDOW", "60"))

# WebSub out: a hub the feeds advertise and that is pinged when an article is published or
# withdrawn (articles/distribution/websub.py). Empty: no hub, no pings.
WEBSUB_HUB_URL = os.environ.get("WEBSUB_HUB_URL", "").strip()
WEBSUB_PING_TIMEOUT = float(os.environ.get("WEBSUB_PING_TIMEOUT", "5"))
