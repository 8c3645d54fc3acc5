"""`make bench`: how fast the reader site is on a 100,000-article archive, against a floor.

Needs PostgreSQL (DATABASE_URL=postgres://...; use a database of its own). Steps:

1. migrate, then top the archive up to BENCH_ARTICLES published articles (default 100,000)
   with `manage.py generate_articles`, and collect static files if they changed;
2. in this process, with the test client: SQL queries per page, and search timings;
3. serve the site with gunicorn on 127.0.0.1 (a free port, config.settings.bench, DEBUG off)
   and load each page from a second process (bench/load.py), bounded in time and requests;
4. print one table and check the targets; exit 1 if one is missed, saying which.

Environment knobs: BENCH_ARTICLES, BENCH_WORKERS (default 2 x CPUs), BENCH_CONCURRENCY
(default 2 x workers), BENCH_SECONDS per page (default 8), BENCH_REQUESTS per page (default
20000), CACHE_URL (locmem by default; redis://... to share the page cache between workers).
"""

import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

BYPASS_HEADER = "X-Bench-Bypass-Cache"
TARGETS = {
    "uncached_article_ratio": 0.15,
    "uncached_article_queries": 8,
    "cached_article_ratio": 0.80,
    "deep_listing_slowdown": 1.5,
    "search_p50_ms": 50.0,
}


def env_int(name: str, default: int) -> int:
    return int(os.environ.get(name) or default)


def require_postgres():
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        sys.exit(
            "make bench needs PostgreSQL: set DATABASE_URL=postgres://USER@HOST:5432/DBNAME, "
            "a database of its own (the benchmark adds up to 100,000 articles to it)."
        )


@dataclass
class Row:
    """One line of the table: a kind of page and how it is requested."""

    name: str
    paths: list[str]
    bypass_cache: bool
    # Seconds of load not counted: long enough for every worker to fill its own cache.
    warmup: float = 1.5
    queries: float | None = None
    load: dict = field(default_factory=dict)

    @property
    def headers(self) -> dict:
        return {BYPASS_HEADER: "1"} if self.bypass_cache else {}


# ---------------------------------------------------------------------------------------------
# Preparing the archive


def ensure_archive(target: int):
    from django.core.management import call_command

    from articles.models import Article

    have = Article.objects.published().count()
    if have < target:
        print(f"Archive has {have:,} published articles; generating {target - have:,} more.")
        call_command("generate_articles", target - have, seed=have)
    else:
        print(f"Archive has {have:,} published articles (target {target:,}).")


def collect_static_if_needed():
    from django.conf import settings
    from django.core.management import call_command

    manifest = Path(settings.STATIC_ROOT) / "staticfiles.json"
    sources = [p for d in settings.STATICFILES_DIRS for p in Path(d).rglob("*") if p.is_file()]
    newest = max((p.stat().st_mtime for p in sources), default=0)
    if not manifest.exists() or manifest.stat().st_mtime < newest:
        print("Collecting static files.")
        call_command("collectstatic", interactive=False, verbosity=0)


def deepest_region():
    """The region (with its sub-regions) that lists the most articles, and how many."""
    from articles.models import Article, Region

    best, best_count = None, -1
    for region in Region.objects.filter(parent__isnull=True):
        in_region = Article.objects.filter(regions__in=region.descendant_ids()).values("pk")
        count = Article.objects.published().filter(pk__in=in_region).count()
        if count > best_count:
            best, best_count = region, count
    return best, best_count


def search_queries() -> list[str]:
    """Words readers search for: names of places and people found in titles, plus phrases."""
    from articles.management.commands.generate_articles import topic_names

    names = topic_names(3000)[::100]
    return [*names[:24], f"{names[24]} council", f'"{names[25]}"', f"{names[26]} OR {names[27]}"]


def build_rows() -> list[Row]:
    from django.conf import settings
    from django.urls import reverse

    from articles.models import Article

    slugs = list(Article.objects.published().order_by("?").values_list("slug", flat=True)[:2000])
    article_paths = [reverse("articles:article", kwargs={"slug": slug}) for slug in slugs]
    region, listed = deepest_region()
    pages = -(-listed // settings.ARTICLES_PER_PAGE)
    if pages < 500:
        sys.exit(
            f"The largest region lists {listed:,} articles ({pages} pages): too few for page 500."
        )
    region_path = reverse("articles:region", kwargs={"slug": region.slug})
    search_path = reverse("discovery:search")
    from urllib.parse import urlencode

    return [
        Row("floor (trivial view)", ["/bench/floor/"], bypass_cache=False),
        Row("article, uncached", article_paths, bypass_cache=True),
        Row("article, cached", article_paths[:5], bypass_cache=False, warmup=4.0),
        Row(f"region listing p1 ({region.name})", [region_path], bypass_cache=True),
        Row("region listing p500", [f"{region_path}?page=500"], bypass_cache=True),
        Row(
            "search",
            [f"{search_path}?{urlencode({'q': q})}" for q in search_queries()],
            bypass_cache=True,
        ),
    ]


# ---------------------------------------------------------------------------------------------
# In-process measurements


def measure_queries(rows: list[Row]):
    """Queries per request with the test client: the mean over a few paths, after a warm-up."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from articles.site.caching import CACHE_STATUS_HEADER

    client = Client()
    for row in rows:
        extra = {f"HTTP_{BYPASS_HEADER.upper().replace('-', '_')}": "1"} if row.bypass_cache else {}
        counts = []
        for path in row.paths[:5]:
            client.get(path, **extra)
            with CaptureQueriesContext(connection) as queries:
                response = client.get(path, **extra)
            if response.status_code != 200:
                sys.exit(f"{row.name}: {path} answered {response.status_code}")
            cache_status = response.get(CACHE_STATUS_HEADER)
            if row.bypass_cache and cache_status is not None:
                sys.exit(f"{row.name}: the page cache was not bypassed ({cache_status})")
            if row.name == "article, cached" and cache_status != "hit":
                sys.exit(f"{row.name}: expected a page-cache hit, got {cache_status}")
            counts.append(len(queries))
        row.queries = statistics.mean(counts)


def time_search(repeat: int = 3) -> dict:
    """p50 of the search page rendered in-process, and of its queryset work alone."""
    from django.conf import settings
    from django.core.paginator import Paginator
    from django.test import Client

    from articles.models import Article
    from articles.search.engine import highlight, search_articles

    client = Client()
    bypass = {f"HTTP_{BYPASS_HEADER.upper().replace('-', '_')}": "1"}
    page_times, queryset_times = [], []
    for query in search_queries():
        client.get("/search/", {"q": query}, **bypass)
        for _ in range(repeat):
            started = time.perf_counter()
            client.get("/search/", {"q": query}, **bypass)
            page_times.append(time.perf_counter() - started)

            started = time.perf_counter()
            found = search_articles(Article.objects.published().for_listing(), query)
            page = Paginator(found, settings.ARTICLES_PER_PAGE).get_page(1)
            articles = list(page.object_list)
            highlight(articles, query)
            queryset_times.append(time.perf_counter() - started)
    return {
        "page_p50_ms": statistics.median(page_times) * 1000,
        "queryset_p50_ms": statistics.median(queryset_times) * 1000,
        "queryset_p99_ms": sorted(queryset_times)[int(0.99 * (len(queryset_times) - 1))] * 1000,
    }


# ---------------------------------------------------------------------------------------------
# The server and the load


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_server(port: int, workers: int) -> subprocess.Popen:
    environment = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.bench"}
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "config.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(workers),
            "--log-level",
            "warning",
            "--chdir",
            str(REPO),
        ],
        env=environment,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            sys.exit(f"gunicorn exited with status {server.returncode}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/bench/floor/", timeout=2):
                return server
        except OSError:
            time.sleep(0.3)
    stop_server(server)
    sys.exit("gunicorn did not answer within 60 seconds")


def stop_server(server: subprocess.Popen):
    if server.poll() is None:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def apply_load(row: Row, port: int, concurrency: int, seconds: float, requests: int) -> dict:
    command = [
        sys.executable,
        str(REPO / "bench" / "load.py"),
        "--port",
        str(port),
        "--concurrency",
        str(concurrency),
        "--seconds",
        str(seconds),
        "--requests",
        str(requests),
        "--warmup",
        str(row.warmup),
    ]
    for name, value in row.headers.items():
        command += ["--header", f"{name}: {value}"]
    finished = subprocess.run(
        command,
        input=json.dumps(row.paths),
        capture_output=True,
        text=True,
        timeout=seconds + 60,
        check=False,
    )
    if finished.returncode != 0:
        sys.exit(f"load generator failed for {row.name}: {finished.stderr.strip()}")
    return json.loads(finished.stdout)


# ---------------------------------------------------------------------------------------------
# Reporting


def print_table(rows: list[Row], floor_rps: float):
    cells = [f"{'page':<36}", f"{'req/s':>8}", f"{'x floor':>7}", f"{'p50 ms':>7}"]
    cells += [f"{'p99 ms':>7}", f"{'SQL/req':>7}"]
    print("| " + " | ".join(cells) + " |")
    print("|" + "|".join("-" * (len(cell) + 2) for cell in cells) + "|")
    for row in rows:
        load = row.load
        print(
            f"| {row.name:<36} | {load['rps']:>8.1f} | {load['rps'] / floor_rps:>7.2f} "
            f"| {load['p50_ms']:>7.1f} | {load['p99_ms']:>7.1f} | {row.queries:>7.1f} |"
        )


def check_targets(rows: dict[str, Row], floor_rps: float, search: dict) -> list[str]:
    """One line per target, starting with PASS or MISS."""
    uncached, cached = rows["article, uncached"], rows["article, cached"]
    page1 = next(row for name, row in rows.items() if name.startswith("region listing p1"))
    page500 = rows["region listing p500"]
    uncached_ratio = uncached.load["rps"] / floor_rps
    cached_ratio = cached.load["rps"] / floor_rps
    slowdown = page1.load["rps"] / page500.load["rps"]
    checks = [
        (
            uncached_ratio >= TARGETS["uncached_article_ratio"],
            f"uncached article at {uncached_ratio:.0%} of the floor's req/s "
            f"(target >= {TARGETS['uncached_article_ratio']:.0%})",
        ),
        (
            uncached.queries <= TARGETS["uncached_article_queries"],
            f"uncached article in {uncached.queries:g} queries "
            f"(target <= {TARGETS['uncached_article_queries']})",
        ),
        (
            cached_ratio >= TARGETS["cached_article_ratio"],
            f"cached article at {cached_ratio:.0%} of the floor's req/s "
            f"(target >= {TARGETS['cached_article_ratio']:.0%})",
        ),
        (
            slowdown <= TARGETS["deep_listing_slowdown"],
            f"listing page 500 {slowdown:.2f}x slower than page 1 "
            f"(target <= {TARGETS['deep_listing_slowdown']}x)",
        ),
        (
            search["page_p50_ms"] <= TARGETS["search_p50_ms"],
            f"search page p50 {search['page_p50_ms']:.1f} ms in-process, queryset p50 "
            f"{search['queryset_p50_ms']:.1f} ms (target <= {TARGETS['search_p50_ms']:g} ms)",
        ),
    ]
    for row in rows.values():
        if row.load.get("errors"):
            checks.append(
                (False, f"{row.name}: {row.load['errors']} failed requests {row.load['statuses']}")
            )
    return [f"{'PASS' if passed else 'MISS'}  {text}" for passed, text in checks]


def main() -> int:
    require_postgres()
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings.bench"
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection, connections

    call_command("migrate", interactive=False, verbosity=0)
    ensure_archive(env_int("BENCH_ARTICLES", 100_000))
    collect_static_if_needed()

    rows = build_rows()
    measure_queries(rows)
    search = time_search()
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        (pg_version,) = cursor.fetchone()
    connections.close_all()

    workers = env_int("BENCH_WORKERS", 2 * (os.cpu_count() or 1))
    concurrency = env_int("BENCH_CONCURRENCY", 2 * workers)
    seconds = float(os.environ.get("BENCH_SECONDS") or 8)
    requests = env_int("BENCH_REQUESTS", 20_000)
    port = free_port()
    cache_backend = settings.CACHES["default"]["BACKEND"].rsplit(".", 1)[-1]
    print(
        f"Serving with gunicorn on 127.0.0.1:{port}: {workers} sync workers, load with "
        f"{concurrency} connections, up to {seconds:g} s or {requests} requests per page; "
        f"PostgreSQL {pg_version}, cache {cache_backend}."
    )
    server = start_server(port, workers)
    try:
        for row in rows:
            row.load = apply_load(row, port, concurrency, seconds, requests)
    finally:
        stop_server(server)

    floor_rps = rows[0].load["rps"]
    print()
    print_table(rows, floor_rps)
    print()
    verdicts = check_targets({row.name: row for row in rows}, floor_rps, search)
    print("\n".join(verdicts))
    missed = [line for line in verdicts if line.startswith("MISS")]
    if missed:
        print(f"\n{len(missed)} target(s) missed.")
        return 1
    print("\nAll targets met.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
