"""Gunicorn settings, all overridable from the environment.

    gunicorn -c config/gunicorn.conf.py

serves `config.wsgi:application` (production settings unless DJANGO_SETTINGS_MODULE says
otherwise). Threaded workers suit this app: most of a request is waiting on PostgreSQL or
Redis, and threads share one worker's memory.
"""

import os

from gunicorn.glogging import Logger

from config.logging import JsonFormatter


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))  # honours CPU pinning and container limits
    except AttributeError:  # not available on macOS
        return os.cpu_count() or 1


def _int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    return int(value) if value else default


class JsonLogger(Logger):
    """Gunicorn's logger, writing its access and error lines as JSON objects."""

    def _set_handler(self, log, output, fmt, stream=None):
        super()._set_handler(log, output, JsonFormatter(), stream=stream)

    def access(self, resp, req, environ, request_time):
        if not self.access_log_enabled:
            return
        status = resp.status.split(None, 1)[0] if isinstance(resp.status, str) else resp.status
        method = environ.get("REQUEST_METHOD")
        # PATH_INFO is missing when gunicorn itself answers a request it could not parse.
        path = environ.get("PATH_INFO") or environ.get("RAW_URI")
        self.access_log.info(
            "%s %s %s",
            method,
            path,
            status,
            extra={
                "method": method,
                "path": path,
                "query": environ.get("QUERY_STRING", ""),
                "status": int(status),
                "bytes": getattr(resp, "sent", None),
                "duration_ms": round(request_time.total_seconds() * 1000, 3),
                "remote_addr": environ.get("REMOTE_ADDR"),
                "forwarded_for": environ.get("HTTP_X_FORWARDED_FOR"),
                "user_agent": environ.get("HTTP_USER_AGENT"),
                "referer": environ.get("HTTP_REFERER"),
            },
        )


wsgi_app = "config.wsgi:application"

bind = [address.strip() for address in os.environ.get("BIND", "127.0.0.1:8000").split(",")]
workers = _int("WEB_CONCURRENCY", 2 * _cores() + 1)
worker_class = "gthread"
threads = _int("GUNICORN_THREADS", 4)

# A request that takes longer than this is killed with its worker; imports run in the task
# worker, never in a request, so 30 seconds is generous.
timeout = _int("GUNICORN_TIMEOUT", 30)
graceful_timeout = _int("GUNICORN_GRACEFUL_TIMEOUT", 30)
keepalive = _int("GUNICORN_KEEPALIVE", 5)

# Recycle each worker after a number of requests, at staggered moments, so a slow leak in
# any library cannot grow forever and workers never restart all at once.
max_requests = _int("GUNICORN_MAX_REQUESTS", 1000)
max_requests_jitter = _int("GUNICORN_MAX_REQUESTS_JITTER", 100)

# Only these addresses may tell us, through X-Forwarded-Proto, that the client used HTTPS.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1,::1")

# The heartbeat file on a memory filesystem: a slow disk must not make workers look dead.
if os.path.isdir("/dev/shm"):  # noqa: S108 - a fixed system path, not a temporary file name
    worker_tmp_dir = "/dev/shm"  # noqa: S108

# Gunicorn 25+ opens a control socket in $HOME for `gunicornc`; only where asked for.
if os.environ.get("GUNICORN_CONTROL_SOCKET"):
    control_socket = os.environ["GUNICORN_CONTROL_SOCKET"]
else:
    control_socket_disable = True

accesslog = "-"  # stdout
errorlog = "-"  # stderr
loglevel = os.environ.get("LOG_LEVEL", "info").lower()
if os.environ.get("LOG_FORMAT", "json").lower() == "json":
    logger_class = JsonLogger
