"""Benchmark settings (`make bench`): production-like, served over plain HTTP on 127.0.0.1.

DEBUG is off and static files come from the collected manifest, as in production; database
connections persist, as a production server should configure them. Two additions exist
only here: a floor view (config/bench_urls.py) and a request header that bypasses the page
cache, so the benchmark can measure pages that are really rendered.
"""

import os

from .base import *  # noqa: F403

DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "testserver"]
ROOT_URLCONF = "config.bench_urls"
PAGE_CACHE_BYPASS_HEADER = "HTTP_X_BENCH_BYPASS_CACHE"
DATABASES["default"]["CONN_MAX_AGE"] = int(os.environ.get("CONN_MAX_AGE", "600"))  # noqa: F405
# As docs/deploy.md recommends for web servers with a direct connection to PostgreSQL.
if env_bool("DB_PREPARED_STATEMENTS", default=True):  # noqa: F405
    DATABASES["default"].setdefault("OPTIONS", {}).update(  # noqa: F405
        server_side_binding=True, prepare_threshold=5
    )
SERVE_MEDIA = False
LOGGING["root"]["level"] = "WARNING"  # noqa: F405
