import datetime
import os
import socket
import uuid

import pytest
from django.core.cache import cache
from django.db import connection
from django.utils import timezone

# The suite runs in parallel (pytest-xdist, `make test` passes `-n auto`). Each worker has its
# own test database (pytest-django adds the worker's name to it), its own media folder and its
# own local-memory cache. What the workers do share is handled where it is used:
# - ports: servers we start listen on a socket opened here first (`listening_socket`), and the
#   local test servers bind port 0, so two workers never race for one port;
# - Redis: keys and queues carry a name of their own (`unique_name`), never a bare fixed name;
# - PostgreSQL advisory locks belong to a database, so to one worker;
# - time: no test asserts a duration, so a busy machine slows the suite but cannot fail it.
# Tests are handed out in pytest-django's order (plain database tests, then transactional
# ones, which empty every table when they end, then the rest), and each worker keeps it. That
# is why no test is put in an xdist_group: `--dist loadgroup` hands out the largest group
# first, and a group of browser tests would empty a worker's database (the Editors and
# Importers groups of the data migrations with it) before that worker's plain tests ran.


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: run with DATABASE_URL=postgres://... (CI does)")


@pytest.fixture
def no_network(monkeypatch):
    """Refuses (and records) every outbound connection or name lookup made during the test."""
    attempts = []

    def refuse(*args, **kwargs):
        attempts.append(("connect", args))
        raise OSError("network is off in this test")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    return attempts


FROZEN_MOMENT = datetime.datetime(2026, 6, 17, 12, 0, tzinfo=datetime.UTC)


@pytest.fixture
def frozen_now(monkeypatch) -> datetime.datetime:
    """Stop the clock at midday (a Wednesday in mid-June, UTC) for the rest of the test.

    `django.utils.timezone.now` is what the project reads the time from, and `localdate()`
    and `localtime()` call it, so "today", "this month" and "the last 48 hours" can no longer
    straddle midnight, a month's end or a new year while the test runs.
    """
    monkeypatch.setattr(timezone, "now", lambda: FROZEN_MOMENT)
    return FROZEN_MOMENT


def worker_name() -> str:
    """This pytest-xdist worker's name ("gw0", "gw1"...), or "main" without xdist."""
    return os.environ.get("PYTEST_XDIST_WORKER", "main")


@pytest.fixture
def unique_name() -> str:
    """A name no other test, worker or concurrent run uses: for Redis keys and queues."""
    return f"syndicms-test-{worker_name()}-{uuid.uuid4().hex[:12]}"


@pytest.fixture
def listening_socket():
    """A socket listening on a free port of 127.0.0.1, for a server process the test starts.

    Hand it over as an inherited file descriptor (gunicorn: `--bind fd://N` with
    `pass_fds=(N,)`): the port is held from the moment it is chosen, so no other test or
    worker can take it in between, as it could after probing for a free port and closing it.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        sock.listen(128)
        sock.set_inheritable(True)
        yield sock


@pytest.fixture
def refused_port():
    """A port of 127.0.0.1 that refuses connections, and stays so for the whole test.

    The socket is bound but never listens: the kernel answers every connection with a reset,
    and no other test can start a server on the port meanwhile.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        yield sock.getsockname()[1]
