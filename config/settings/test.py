"""Test settings: fast hashing, an isolated media folder, tasks run inline."""

import tempfile

from .base import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
MEDIA_ROOT = Path(tempfile.mkdtemp(prefix="syndicms-test-media-"))  # noqa: F405
STATIC_ROOT = Path(tempfile.mkdtemp(prefix="syndicms-test-static-"))  # noqa: F405
WHITENOISE_USE_FINDERS = True
STORAGES["staticfiles"] = {  # noqa: F405
    "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
}
TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
ALLOWED_HOSTS = ["testserver", "localhost", "127.0.0.1"]
LOGGING["root"]["level"] = "WARNING"  # noqa: F405
# django-axes refuses authenticate() calls without a request, which the test client's login()
# makes; tests of the throttling itself turn it back on with override_settings.
AXES_ENABLED = False
