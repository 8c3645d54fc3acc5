"""Running in production: settings that refuse to start unsafely, the deploy checklist,
static files, the health endpoint, JSON logs and the gunicorn configuration."""

import importlib.util
import io
import json
import logging
import os
import re
import runpy
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.core.cache import cache
from django.db import OperationalError, connection
from django.test import override_settings

from config import health
from config.logging import JsonFormatter

REPO = Path(__file__).resolve().parents[1]
GUNICORN_CONF = REPO / "config" / "gunicorn.conf.py"


# Variables our settings read; the test process's own values must not leak into production runs.
OUR_VARIABLES = (
    "DJANGO_",
    "SECRET_KEY",
    "DEBUG",
    "ALLOWED_HOSTS",
    "DATABASE_URL",
    "CACHE_URL",
    "REDIS_URL",
    "TASKS_BACKEND",
    "AWS_",
    "STATIC_ROOT",
    "MEDIA_ROOT",
    "SERVE_MEDIA",
    "SECURE_",
    "TRUSTED_PROXY_COUNT",
    "LOG_",
    "SITE_RUNS_AS_ONE_PROCESS",
)


def production_env(**overrides) -> dict:
    """The environment of a production process: real secret, host name, no DEBUG."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(OUR_VARIABLES)}
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings.prod",
        SECRET_KEY=secrets.token_urlsafe(64),
        ALLOWED_HOSTS="news.example.org",
        CACHE_URL="redis://127.0.0.1:6379/0",
        PYTHONPATH=str(REPO),
    )
    env.update(overrides)
    return {key: value for key, value in env.items() if value is not None}


def run_python(code: str, env: dict, timeout: int = 120) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


# Production settings


@pytest.mark.parametrize(
    "secret_key",
    [None, "", "short", "dev-only-insecure-key-never-use-in-production" + "x" * 20, "ab" * 40],
    ids=["missing", "empty", "short", "development-key", "too-few-characters"],
)
def test_production_settings_refuse_to_load_without_a_real_secret_key(secret_key):
    result = run_python(
        "import django; django.setup()", production_env(SECRET_KEY=secret_key), timeout=60
    )

    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_production_settings_load_with_a_real_secret_key():
    result = run_python(
        "import django; django.setup(); from django.conf import settings; print(settings.DEBUG)",
        production_env(),
        timeout=60,
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"


@pytest.mark.parametrize("cache_url", [None, "", "locmem://"], ids=["unset", "empty", "locmem"])
def test_production_settings_refuse_a_cache_each_process_keeps_to_itself(cache_url):
    result = run_python(
        "import django; django.setup()", production_env(CACHE_URL=cache_url), timeout=60
    )

    assert result.returncode != 0
    assert "CACHE_URL must name a shared cache" in result.stderr


def test_production_settings_allow_local_memory_to_a_site_served_by_one_process():
    code = (
        "import django; django.setup(); from django.conf import settings; "
        "print(settings.CACHES['default']['BACKEND'])"
    )
    env = production_env(CACHE_URL=None, SITE_RUNS_AS_ONE_PROCESS="1")

    result = run_python(code, env, timeout=60)

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().endswith("LocMemCache")


def test_the_deployment_checklist_fails_on_a_local_memory_cache():
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--tag", "caches"],
        cwd=REPO,
        env=production_env(DJANGO_SETTINGS_MODULE="config.settings.dev", CACHE_URL=None, DEBUG="0"),
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert result.returncode != 0
    assert "articles.E001" in result.stderr
    assert "CACHE_URL" in result.stderr


def test_the_deployment_checklist_passes_with_production_settings_and_nothing_silenced():
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=REPO,
        env=production_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout


def test_production_cookies_and_https_settings():
    code = """
import json, django
django.setup()
from django.conf import settings as s
names = ["SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE", "SESSION_COOKIE_HTTPONLY",
         "CSRF_COOKIE_HTTPONLY", "SESSION_COOKIE_SAMESITE", "SECURE_SSL_REDIRECT",
         "SECURE_HSTS_SECONDS", "SECURE_HSTS_INCLUDE_SUBDOMAINS", "SECURE_PROXY_SSL_HEADER",
         "SERVE_MEDIA", "X_FRAME_OPTIONS", "TRUSTED_PROXY_COUNT"]
print(json.dumps({name: getattr(s, name) for name in names}))
"""
    result = run_python(code, production_env())
    assert result.returncode == 0, result.stderr
    values = json.loads(result.stdout.strip().splitlines()[-1])

    assert values == {
        "SESSION_COOKIE_SECURE": True,
        "CSRF_COOKIE_SECURE": True,
        "SESSION_COOKIE_HTTPONLY": True,
        "CSRF_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SECURE_SSL_REDIRECT": True,
        "SECURE_HSTS_SECONDS": 31536000,
        "SECURE_HSTS_INCLUDE_SUBDOMAINS": True,
        "SECURE_PROXY_SSL_HEADER": ["HTTP_X_FORWARDED_PROTO", "https"],
        "SERVE_MEDIA": False,
        "X_FRAME_OPTIONS": "DENY",
        "TRUSTED_PROXY_COUNT": 1,
    }


def test_media_go_to_s3_compatible_storage_when_a_bucket_is_configured():
    code = """
import json, django
django.setup()
from django.core.files.storage import storages
storage = storages["default"]
print(json.dumps({
    "class": type(storage).__module__ + "." + type(storage).__name__,
    "bucket": storage.bucket_name,
    "endpoint": storage.endpoint_url,
    "region": storage.region_name,
    "custom_domain": storage.custom_domain,
    "location": storage.location,
    "querystring_auth": storage.querystring_auth,
    "file_overwrite": storage.file_overwrite,
    "cache_control": storage.object_parameters.get("CacheControl"),
    "url": storage.url("images/ab/abcdef.jpg"),
}))
"""
    env = production_env(
        AWS_STORAGE_BUCKET_NAME="newsroom-media",
        AWS_S3_ENDPOINT_URL="https://objects.example.net",
        AWS_S3_REGION_NAME="eu-central-1",
        AWS_S3_CUSTOM_DOMAIN="media.example.org",
        AWS_ACCESS_KEY_ID="test-access-key",
        AWS_SECRET_ACCESS_KEY="test-secret-key",  # noqa: S106
    )
    result = run_python(code, env)
    assert result.returncode == 0, result.stderr
    storage = json.loads(result.stdout.strip().splitlines()[-1])

    assert storage == {
        "class": "storages.backends.s3.S3Storage",
        "bucket": "newsroom-media",
        "endpoint": "https://objects.example.net",
        "region": "eu-central-1",
        "custom_domain": "media.example.org",
        "location": "media",
        "querystring_auth": False,
        "file_overwrite": False,
        "cache_control": "public, max-age=31536000, immutable",
        "url": "https://media.example.org/media/images/ab/abcdef.jpg",
    }


def test_media_stay_on_local_disk_without_a_bucket():
    code = """
import django
django.setup()
from django.core.files.storage import storages
print(type(storages["default"]).__name__)
"""
    result = run_python(code, production_env(AWS_STORAGE_BUCKET_NAME=None))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "FileSystemStorage"


@pytest.mark.slow
def test_collectstatic_writes_hashed_compressed_files_that_are_served_for_ten_years(tmp_path):
    code = """
import json, django
django.setup()
from django.core.management import call_command
from django.templatetags.static import static
from django.test import Client
call_command("collectstatic", interactive=False, verbosity=0)
url = static("css/site.css")
response = Client().get(url, HTTP_HOST="news.example.org", secure=True,
                        HTTP_ACCEPT_ENCODING="gzip")
print(json.dumps({"url": url, "status": response.status_code,
                  "cache_control": response.get("Cache-Control"),
                  "content_encoding": response.get("Content-Encoding")}))
"""
    static_root = tmp_path / "static"
    result = run_python(code, production_env(STATIC_ROOT=str(static_root)), timeout=300)
    assert result.returncode == 0, result.stderr
    served = json.loads(result.stdout.strip().splitlines()[-1])

    hashed_name = served["url"].removeprefix("/static/")
    assert hashed_name != "css/site.css"
    assert (static_root / hashed_name).is_file()
    assert (static_root / f"{hashed_name}.gz").is_file()
    assert (static_root / "staticfiles.json").is_file()
    assert served["status"] == 200
    assert served["content_encoding"] == "gzip"
    assert "max-age=315360000" in served["cache_control"]
    assert "immutable" in served["cache_control"]


# /healthz


@pytest.mark.django_db
def test_healthz_answers_ok_with_every_check_named(client):
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response.json() == {
        "status": "ok",
        "checks": {"database": "ok", "cache": "ok", "tasks": "ok"},
    }


@pytest.mark.django_db
def test_healthz_is_never_cached_and_needs_no_login(client):
    response = client.get("/healthz")

    assert response.status_code == 200
    for directive in ("no-cache", "no-store", "must-revalidate", "max-age=0"):
        assert directive in response["Cache-Control"]
    assert "sessionid" not in response.cookies


@pytest.mark.django_db
@override_settings(ALLOWED_HOSTS=["news.example.org"], SECURE_SSL_REDIRECT=True)
def test_healthz_answers_load_balancer_probes_by_ip_address_over_plain_http(client):
    probe = client.get("/healthz", HTTP_HOST="10.0.3.7:8000")
    page = client.get("/", HTTP_HOST="10.0.3.7:8000")

    assert probe.status_code == 200
    assert page.status_code == 400  # everything else still checks the host name


@pytest.mark.django_db
def test_healthz_only_answers_safe_methods(client):
    assert client.head("/healthz").status_code == 200
    assert client.post("/healthz").status_code == 405


@pytest.mark.django_db
def test_healthz_names_the_cache_when_the_cache_fails(client, monkeypatch, caplog):
    def broken_set(*args, **kwargs):
        raise ConnectionError("cache server unreachable")

    monkeypatch.setattr(cache, "set", broken_set)

    with caplog.at_level(logging.ERROR, logger="config.health"):
        response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json() == {
        "status": "failing",
        "checks": {"database": "ok", "cache": "failing", "tasks": "ok"},
    }
    assert "cache server unreachable" not in response.content.decode()
    assert "cache server unreachable" in caplog.text


@pytest.mark.django_db
def test_healthz_names_the_cache_when_it_loses_what_was_stored(client, monkeypatch):
    monkeypatch.setattr(cache, "get", lambda *args, **kwargs: None)

    response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json()["checks"]["cache"] == "failing"


@pytest.mark.django_db
def test_healthz_names_the_database_when_it_fails(client):
    def database_down(execute, sql, params, many, context):
        raise OperationalError("could not connect to server")

    with connection.execute_wrapper(database_down):
        response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json()["checks"]["database"] == "failing"


@pytest.mark.django_db
@override_settings(TASKS={"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}})
def test_healthz_queries_the_task_table_with_the_database_backend(client, monkeypatch):
    assert client.get("/healthz").json()["checks"]["tasks"] == "ok"

    def missing_table(self):
        raise OperationalError("no such table: django_tasks_database_dbtaskresult")

    monkeypatch.setattr(type(health.DBTaskResult.objects.all()), "exists", missing_table)
    response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json()["checks"]["tasks"] == "failing"


def redis_is_running() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=0.5):
            return True
    except OSError:
        return False


@pytest.mark.django_db
@pytest.mark.skipif(not redis_is_running(), reason="needs Redis on 127.0.0.1:6379")
def test_healthz_pings_redis_with_the_rq_backend(client):
    rq_backend = {"default": {"BACKEND": "django_tasks_rq.RQBackend"}}
    reachable = {"default": {"URL": "redis://127.0.0.1:6379/0"}}
    unreachable = {"default": {"URL": "redis://127.0.0.1:1/0", "SOCKET_CONNECT_TIMEOUT": 0.5}}

    with override_settings(TASKS=rq_backend, RQ_QUEUES=reachable):
        assert client.get("/healthz").json()["checks"]["tasks"] == "ok"
    with override_settings(TASKS=rq_backend, RQ_QUEUES=unreachable):
        response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json()["checks"]["tasks"] == "failing"


# JSON logs


def format_record(logger_name="syndication.pipeline.store", level=logging.INFO, **kwargs):
    record = logging.getLogger(logger_name).makeRecord(
        logger_name,
        level,
        fn=__file__,
        lno=1,
        msg=kwargs.pop("msg", "imported %d items"),
        args=kwargs.pop("args", (3,)),
        exc_info=kwargs.pop("exc_info", None),
        extra=kwargs.pop("extra", None),
    )
    return JsonFormatter().format(record)


def test_a_log_line_is_one_json_object_with_time_level_logger_and_message():
    line = format_record()

    assert "\n" not in line
    entry = json.loads(line)
    assert entry["level"] == "INFO"
    assert entry["logger"] == "syndication.pipeline.store"
    assert entry["message"] == "imported 3 items"
    assert entry["time"].endswith("+00:00")


def test_extra_fields_are_kept_and_request_details_flattened(rf):
    request = rf.get("/articles/some-story/")
    line = format_record(
        "django.request",
        logging.WARNING,
        msg="Not Found: %s",
        args=("/articles/some-story/",),
        extra={"request": request, "status_code": 404, "feed_id": 7, "when": timedelta(1)},
    )

    entry = json.loads(line)
    assert entry["method"] == "GET"
    assert entry["path"] == "/articles/some-story/"
    assert entry["status"] == 404
    assert entry["feed_id"] == 7
    assert entry["when"] == "1 day, 0:00:00"
    assert "request" not in entry


def test_an_exception_is_logged_with_its_traceback_inside_the_json():
    try:
        raise ValueError('a "quoted"\nmultiline problem')
    except ValueError:
        line = format_record(level=logging.ERROR, exc_info=sys.exc_info())

    entry = json.loads(line)
    assert entry["level"] == "ERROR"
    assert entry["exception"].startswith("Traceback (most recent call last):")
    assert 'ValueError: a "quoted"\nmultiline problem' in entry["exception"]


def test_production_logging_writes_json_and_development_plain_text():
    code = """
import logging, django
django.setup()
logging.getLogger("articles").warning("hello %s", "world")
"""
    production = run_python(code, production_env())
    development = run_python(code, production_env(DJANGO_SETTINGS_MODULE="config.settings.dev"))

    assert production.returncode == 0, production.stderr
    entry = json.loads(production.stderr.strip().splitlines()[-1])
    assert entry["message"] == "hello world"
    assert entry["logger"] == "articles"
    assert development.returncode == 0, development.stderr
    assert development.stderr.strip().splitlines()[-1].endswith("WARNING articles hello world")


# Gunicorn


def load_gunicorn_conf(monkeypatch, **env) -> dict:
    for name in (
        "BIND",
        "WEB_CONCURRENCY",
        "GUNICORN_THREADS",
        "GUNICORN_TIMEOUT",
        "GUNICORN_MAX_REQUESTS",
        "GUNICORN_MAX_REQUESTS_JITTER",
        "FORWARDED_ALLOW_IPS",
        "LOG_FORMAT",
        "LOG_LEVEL",
    ):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return runpy.run_path(str(GUNICORN_CONF))


def test_gunicorn_defaults(monkeypatch):
    conf = load_gunicorn_conf(monkeypatch)

    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    assert conf["wsgi_app"] == "config.wsgi:application"
    assert conf["bind"] == ["127.0.0.1:8000"]
    assert conf["workers"] == 2 * cores + 1
    assert conf["worker_class"] == "gthread"
    assert conf["threads"] >= 2
    assert conf["timeout"] == 30
    assert conf["max_requests"] > 0
    assert 0 < conf["max_requests_jitter"] < conf["max_requests"]
    assert conf["forwarded_allow_ips"] == "127.0.0.1,::1"
    assert conf["accesslog"] == "-"
    assert conf["logger_class"] is conf["JsonLogger"]


def test_gunicorn_takes_its_values_from_the_environment(monkeypatch):
    conf = load_gunicorn_conf(
        monkeypatch,
        BIND="0.0.0.0:9000,unix:/run/syndicms/web.sock",
        WEB_CONCURRENCY="3",
        GUNICORN_THREADS="8",
        GUNICORN_TIMEOUT="45",
        GUNICORN_MAX_REQUESTS="500",
        GUNICORN_MAX_REQUESTS_JITTER="50",
        FORWARDED_ALLOW_IPS="10.0.0.0/8",
        LOG_FORMAT="plain",
        LOG_LEVEL="WARNING",
    )

    assert conf["bind"] == ["0.0.0.0:9000", "unix:/run/syndicms/web.sock"]
    assert conf["workers"] == 3
    assert conf["threads"] == 8
    assert conf["timeout"] == 45
    assert conf["max_requests"] == 500
    assert conf["max_requests_jitter"] == 50
    assert conf["forwarded_allow_ips"] == "10.0.0.0/8"
    assert conf["loglevel"] == "warning"
    assert "logger_class" not in conf


def test_gunicorn_access_lines_are_json(monkeypatch):
    from gunicorn.config import Config

    conf = load_gunicorn_conf(monkeypatch)
    cfg = Config()
    cfg.set("accesslog", "-")
    logger = conf["JsonLogger"](cfg)
    stream = io.StringIO()
    for handler in logger.access_log.handlers:
        handler.setStream(stream)

    logger.access(
        SimpleNamespace(status="404 Not Found", sent=1234, headers=[]),
        SimpleNamespace(headers=[]),
        {
            "REQUEST_METHOD": "GET",
            "PATH_INFO": "/articles/missing/",
            "QUERY_STRING": "page=2",
            "REMOTE_ADDR": "127.0.0.1",
            "HTTP_X_FORWARDED_FOR": "203.0.113.9",
            "HTTP_USER_AGENT": 'agent "with quotes"',
        },
        timedelta(milliseconds=12.5),
    )

    entry = json.loads(stream.getvalue().strip())
    assert entry["logger"] == "gunicorn.access"
    assert entry["message"] == "GET /articles/missing/ 404"
    assert entry["status"] == 404
    assert entry["path"] == "/articles/missing/"
    assert entry["query"] == "page=2"
    assert entry["bytes"] == 1234
    assert entry["duration_ms"] == 12.5
    assert entry["forwarded_for"] == "203.0.113.9"
    assert entry["user_agent"] == 'agent "with quotes"'


@pytest.mark.slow
def test_gunicorn_serves_the_app_with_production_settings_and_logs_json(tmp_path, listening_socket):
    port = listening_socket.getsockname()[1]
    env = production_env(
        BIND=f"fd://{listening_socket.fileno()}",
        WEB_CONCURRENCY="1",
        # The probe below asks for 127.0.0.1 over plain HTTP, like a load balancer would.
        ALLOWED_HOSTS="news.example.org",
        DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
        TASKS_BACKEND="django_tasks.backends.immediate.ImmediateBackend",
        STATIC_ROOT=str(tmp_path),
    )
    gunicorn = Path(sys.executable).with_name("gunicorn")
    log = (tmp_path / "gunicorn.log").open("w+")
    process = subprocess.Popen(
        [str(gunicorn), "-c", str(GUNICORN_CONF)],
        cwd=REPO,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        pass_fds=[listening_socket.fileno()],
    )
    try:
        body = None
        deadline = time.monotonic() + 120  # a bound for a stuck start, not a speed
        while time.monotonic() < deadline and body is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as r:
                    body = json.load(r)
            except OSError:
                time.sleep(0.2)
        assert body == {
            "status": "ok",
            "checks": {"database": "ok", "cache": "ok", "tasks": "ok"},
        }
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.seek(0)
        lines = [line for line in log.read().splitlines() if line.strip()]
        log.close()

    entries = [json.loads(line) for line in lines]
    access = [entry for entry in entries if entry["logger"] == "gunicorn.access"]
    assert access and access[-1]["path"] == "/healthz" and access[-1]["status"] == 200
    assert any(entry["logger"] == "gunicorn.error" for entry in entries)


# Tasks through Redis


@pytest.mark.slow
@pytest.mark.skipif(not redis_is_running(), reason="needs Redis on 127.0.0.1:6379")
def test_with_the_rq_backend_a_task_travels_through_redis_to_an_rq_worker(tmp_path):
    env = production_env(
        TASKS_BACKEND="django_tasks_rq.RQBackend",
        REDIS_URL="redis://127.0.0.1:6379/13",
        DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
    )

    def manage(*args):
        return subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=REPO,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )

    assert manage("check", "--fail-level", "WARNING").returncode == 0
    assert manage("migrate", "--noinput", "-v0").returncode == 0
    enqueue = run_python(
        "import django; django.setup()\n"
        "from syndication.tasks import import_feed_task\n"
        "print(import_feed_task.enqueue(424242).id)",
        env,
    )
    assert enqueue.returncode == 0, enqueue.stderr
    task_id = enqueue.stdout.strip().splitlines()[-1]

    worker = manage("rqworker", "--burst", "default")
    result = run_python(
        "import django; django.setup()\n"
        "from django_tasks import default_task_backend\n"
        f"result = default_task_backend.get_result({task_id!r})\n"
        "print(result.status, result.return_value)",
        env,
    )

    assert worker.returncode == 0, worker.stderr
    assert result.stdout.strip().splitlines()[-1] == (
        "SUCCESSFUL {'feed': 424242, 'status': 'inactive'}"
    )


# The files in deploy/

DEPLOY = REPO / "deploy"
UNITS = sorted((DEPLOY / "systemd").iterdir())


def render(template: Path, **values) -> str:
    text = template.read_text()
    for name, value in values.items():
        text = text.replace(f"@{name}@", value)
    assert "@" not in re.sub(r"\S+@\S+\.\w+", "", text), f"unfilled placeholder in {template}"
    return text


def needs(program: str) -> str:
    path = shutil.which(program)
    if path is None:
        pytest.skip(f"{program} is not installed (apt-get install {program})")
    return path


def test_the_install_script_is_valid_bash():
    result = subprocess.run(["bash", "-n", str(DEPLOY / "install.sh")], capture_output=True)

    assert result.returncode == 0, result.stderr


def test_the_install_script_passes_shellcheck():
    shellcheck = needs("shellcheck")
    result = subprocess.run(
        [shellcheck, str(DEPLOY / "install.sh")], capture_output=True, text=True
    )

    assert result.returncode == 0, result.stdout


def test_the_install_script_installs_every_unit_it_starts():
    script = (DEPLOY / "install.sh").read_text()

    listed = re.search(r"^UNITS=\((.*)\)$", script, re.MULTILINE).group(1).split()
    assert sorted(listed) == sorted(
        unit.name for unit in UNITS if unit.name != "syndicms-rqworker.service"
    )


def test_the_systemd_units_pass_systemd_analyze(tmp_path):
    systemd_analyze = needs("systemd-analyze")
    rendered = []
    for unit in UNITS:
        target = tmp_path / unit.name
        target.write_text(
            render(
                unit,
                APP_DIR=str(REPO),
                VENV=str(Path(sys.executable).parent.parent),
                USER="root",
                ENV_FILE="/dev/null",
                MEDIA_ROOT=str(tmp_path),
            )
        )
        rendered.append(str(target))

    result = subprocess.run(
        [systemd_analyze, "verify", "--man=no", *rendered], capture_output=True, text=True
    )

    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("unit", UNITS, ids=[unit.name for unit in UNITS])
def test_the_systemd_units_run_commands_that_exist(unit):
    from django.core.management import get_commands

    commands = re.findall(r"manage\.py (\w+)", unit.read_text())
    for command in commands:
        # rqworker belongs to django_rq, installed only with the RQ backend.
        assert command in get_commands() or importlib.util.find_spec(
            f"django_rq.management.commands.{command}"
        ), f"{unit.name} runs manage.py {command}, which does not exist"
    if unit.suffix == ".service":
        assert "ExecStart=" in unit.read_text()


def test_the_caddyfile_is_valid(tmp_path):
    caddy = needs("caddy")
    caddyfile = tmp_path / "Caddyfile"
    caddyfile.write_text(
        render(DEPLOY / "Caddyfile", DOMAIN="news.example.org", MEDIA_ROOT=str(tmp_path))
    )

    result = subprocess.run(
        [caddy, "validate", "--adapter", "caddyfile", "--config", str(caddyfile)],
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode == 0, result.stderr


def test_the_nginx_example_is_valid(tmp_path):
    nginx = needs("nginx")
    openssl = needs("openssl")
    subprocess.run(
        [openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"]
        + ["-subj", "/CN=news.example.org", "-keyout", str(tmp_path / "key.pem")]
        + ["-out", str(tmp_path / "cert.pem")],
        check=True,
        capture_output=True,
    )
    site = (DEPLOY / "nginx.conf").read_text()
    site = site.replace(
        "/etc/letsencrypt/live/news.example.org/fullchain.pem", str(tmp_path / "cert.pem")
    )
    site = site.replace(
        "/etc/letsencrypt/live/news.example.org/privkey.pem", str(tmp_path / "key.pem")
    )
    (tmp_path / "site.conf").write_text(site)
    (tmp_path / "nginx.conf").write_text(
        f"pid {tmp_path}/nginx.pid;\nerror_log stderr;\nevents {{}}\n"
        "http {\ninclude /etc/nginx/mime.types;\naccess_log off;\n"
        f"include {tmp_path}/site.conf;\n}}\n"
    )

    result = subprocess.run(
        [nginx, "-t", "-c", str(tmp_path / "nginx.conf")], capture_output=True, text=True
    )

    assert result.returncode == 0, result.stderr


def test_every_variable_the_production_stack_reads_is_documented():
    sources = [
        REPO / "config" / "settings" / "base.py",
        REPO / "config" / "settings" / "prod.py",
        GUNICORN_CONF,
    ]
    read = set()
    for source in sources:
        read |= set(
            re.findall(
                r'(?:os\.environ\.get|os\.environ\[|env_bool|env_list|_int)\(?"([A-Z][A-Z0-9_]+)"',
                source.read_text(),
            )
        )
    read -= {name for name in read if name.startswith(("SYNDICATION_", "IMAGE_"))}
    guide = (REPO / "docs" / "deploy.md").read_text()

    undocumented = sorted(name for name in read if f"`{name}`" not in guide)

    assert undocumented == []


def test_without_site_url_the_absolute_address_and_user_agent_follow_the_port():
    env = {key: value for key, value in os.environ.items() if key not in {"SITE_URL", "PORT"}}
    env.update(DJANGO_SETTINGS_MODULE="config.settings.dev", PORT="8080", PYTHONPATH=str(REPO))
    code = (
        "from django.conf import settings; "
        "print(settings.SITE_URL); print(settings.SYNDICATION_USER_AGENT)"
    )

    result = run_python(code, env)

    assert result.returncode == 0, result.stderr
    site_url, user_agent = result.stdout.splitlines()
    assert site_url == "http://127.0.0.1:8080"
    assert "(+http://127.0.0.1:8080/;" in user_agent


def test_every_setting_the_importer_reads_is_documented():
    base = (REPO / "config" / "settings" / "base.py").read_text()
    read = set(
        re.findall(r'(?:os\.environ\.get|env_list)\(\s*"((?:SYNDICATION|IMAGE)_[A-Z_]+)"', base)
    )
    importing = (REPO / "docs" / "importing.md").read_text()
    readme = (REPO / "README.md").read_text()

    assert {"SYNDICATION_ALLOWED_HOSTS", "SYNDICATION_USER_AGENT", "IMAGE_MAX_PIXELS"} <= read
    assert sorted(name for name in read if f"`{name}`" not in importing) == []
    assert "`SYNDICATION_ALLOWED_HOSTS`" in readme
