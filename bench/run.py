"""`make bench`: how fast the reader site is on a 100,000-article archive, against a floor,
and how well it keeps serving readers while a feed import runs.

Needs PostgreSQL (DATABASE_URL=postgres://...; use a database of its own) and, for the mixed
workload, Redis. Steps:

1. migrate, then top the archive up to BENCH_ARTICLES published articles (default 100,000)
   with `manage.py generate_articles`, and collect static files if they changed;
2. in this process, with the test client: SQL queries per page, and search timings;
3. pages: serve the site with gunicorn on 127.0.0.1 (config.settings.bench, DEBUG off) and load
   each page from a second process (bench/load.py), bounded in time and requests;
4. mixed workload: gunicorn as config/gunicorn.conf.py configures it, with a shared Redis
   cache, 16 reader connections on random articles and home, idle, then while a 2,000-item
   feed import into review runs (bench/importer.py, a third process), then while the same
   import runs with its cache writes going to another Redis database (the control);
5. print the tables and one table of targets, met or missed; exit 1 if one is missed.

Environment knobs: BENCH_ARTICLES, BENCH_WORKERS (default 2 x CPUs), BENCH_CONCURRENCY
(default 2 x workers), BENCH_SECONDS per page (default 8), BENCH_REQUESTS per page (default
20000), CACHE_URL (locmem by default; redis://... to share the page cache between workers),
BENCH_PARTS (default "pages,mixed"), REDIS_URL (the mixed workload's cache, a Redis database
the benchmark empties; default redis://127.0.0.1:6379/5), BENCH_CONTROL_REDIS_URL (the
control import's cache; default the next database), BENCH_IMPORT_ITEMS (default 2000),
BENCH_MIXED_SECONDS (reader seconds measured idle; default 15), BENCH_MIXED_ARTICLES (the
random articles readers ask for; default 2000). See bench/README.md.
"""

import json
import os
import runpy
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

BYPASS_HEADER = "X-Bench-Bypass-Cache"
CACHE_STATUS_HEADER = "X-Page-Cache"
TARGETS = {
    "uncached_article_ratio": 0.15,
    "uncached_article_queries": 8,
    "cached_article_ratio": 0.80,
    "listing_page1_ratio": 0.10,
    "deep_listing_slowdown": 1.5,
    "search_p50_ms": 50.0,
    "readers_during_vs_control": 0.80,
    "hit_ratio_during_import": 0.90,
    "queries_per_item": 15,
    "import_items_per_second": 150,
}
MIXED_CONNECTIONS = 16
HOME_SHARE = 10  # one reader request in ten is the home page
IMPORT_SOURCE_PREFIX = "bench-import-"


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
    # Count the SQL queries of a first request of each path (what a page whose pieces are
    # not cached yet costs) rather than of a second one.
    count_cold: bool = False
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
    # A migration that rewrites every article (0012 fills in `filed_under`) leaves as many dead
    # rows as live ones, and PostgreSQL servers with autovacuum off (this machine's) keep them:
    # searches read twice the pages (p50 51 ms before a VACUUM, 21 ms after, 3 December).
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE articles_article")


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
        Row("article, uncached", article_paths, bypass_cache=True, count_cold=True),
        Row("article, pieces cached", article_paths[:20], bypass_cache=True, warmup=4.0),
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

    client = Client()
    for row in rows:
        extra = {f"HTTP_{BYPASS_HEADER.upper().replace('-', '_')}": "1"} if row.bypass_cache else {}
        counts = []
        for path in row.paths[-5:] if row.count_cold else row.paths[:5]:
            if not row.count_cold:
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
    from articles.search.engine import search_articles
    from articles.search.views import result_cards

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
            found = search_articles(result_cards(Article.objects.published()), query)
            page = Paginator(found, settings.ARTICLES_PER_PAGE).get_page(1)
            list(page.object_list)  # the page's rows, highlighted
            queryset_times.append(time.perf_counter() - started)
    return {
        "page_p50_ms": statistics.median(page_times) * 1000,
        "queryset_p50_ms": statistics.median(queryset_times) * 1000,
        "queryset_p99_ms": sorted(queryset_times)[int(0.99 * (len(queryset_times) - 1))] * 1000,
    }


# ---------------------------------------------------------------------------------------------
# The server and the load


def listening_socket() -> socket.socket:
    """A socket listening on a free port of 127.0.0.1, handed to gunicorn as `fd://N`: the
    port is held from the moment it is chosen, so nothing else can take it meanwhile."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


def start_server(sock: socket.socket, arguments: list[str], **environment) -> subprocess.Popen:
    """gunicorn serving on `sock` with `arguments`, once it answers the floor view."""
    port = sock.getsockname()[1]
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", *arguments],
        cwd=REPO,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.bench", **environment},
        pass_fds=[sock.fileno()],
        stdout=subprocess.DEVNULL,
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


def load_command(port: int, concurrency: int, **options) -> list[str]:
    command = [sys.executable, str(REPO / "bench" / "load.py"), "--port", str(port)]
    command += ["--concurrency", str(concurrency)]
    for name, value in options.items():
        if value is True:
            command.append(f"--{name.replace('_', '-')}")
        elif isinstance(value, list):
            for item in value:
                command += [f"--{name.replace('_', '-')}", str(item)]
        elif value is not None:
            command += [f"--{name.replace('_', '-')}", str(value)]
    return command


def run_load(command: list[str], paths: list[str], bound: float, what: str) -> dict:
    finished = subprocess.run(
        command,
        input=json.dumps(paths),
        capture_output=True,
        text=True,
        timeout=bound + 60,
        check=False,
    )
    if finished.returncode != 0:
        sys.exit(f"load generator failed for {what}: {finished.stderr.strip()}")
    return json.loads(finished.stdout)


def apply_load(row: Row, port: int, concurrency: int, seconds: float, requests: int) -> dict:
    command = load_command(
        port,
        concurrency,
        seconds=seconds,
        requests=requests,
        warmup=row.warmup,
        header=[f"{name}: {value}" for name, value in row.headers.items()],
    )
    return run_load(command, row.paths, seconds, row.name)


# ---------------------------------------------------------------------------------------------
# The mixed workload: readers while an import runs


@dataclass
class Mixed:
    """What the mixed workload measured, phase by phase."""

    shared_cache: str
    control_cache: str
    workers: int
    threads: int
    items: int
    idle: dict = field(default_factory=dict)
    alone: dict = field(default_factory=dict)  # the import with no readers
    during: dict = field(default_factory=dict)  # readers, and the import on the shared cache
    during_import: dict = field(default_factory=dict)
    control: dict = field(default_factory=dict)  # readers, and the import caching elsewhere
    control_import: dict = field(default_factory=dict)


def redis_databases() -> tuple[str, str]:
    """The shared cache of the mixed workload and the control import's cache: two databases
    of the same Redis server, both emptied by the benchmark."""
    shared = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/5"
    control = os.environ.get("BENCH_CONTROL_REDIS_URL")
    if not control:
        parts = urlsplit(shared)
        number = int(parts.path.strip("/") or 0)
        control = urlunsplit(parts._replace(path=f"/{number + 1}"))
    if control == shared:
        sys.exit("BENCH_CONTROL_REDIS_URL must name another Redis database than REDIS_URL")
    return shared, control


def empty_redis(url: str):
    import redis

    try:
        redis.Redis.from_url(url, socket_connect_timeout=2).flushdb()
    except redis.RedisError as error:
        sys.exit(f"the mixed workload needs Redis at {url}: {error}")


def remove_bench_imports():
    """Delete what earlier mixed-workload imports stored (their sources, articles, authors)."""
    from articles.models import Article, Author, Source

    sources = Source.objects.filter(slug__startswith=IMPORT_SOURCE_PREFIX)
    Article.objects.filter(source__in=sources).delete()
    Author.objects.filter(source__in=sources).delete()
    sources.delete()


def hit_ratio(load: dict) -> float:
    counts = load.get("header_counts", {})
    total = sum(counts.values())
    return counts.get("hit", 0) / total if total else 0.0


def start_import(label: str, cache_url: str, items: int) -> subprocess.Popen:
    """bench/importer.py in a process of its own, once it has parsed its feed and is storing."""
    importer = subprocess.Popen(
        [
            sys.executable,
            str(REPO / "bench" / "importer.py"),
            "--items",
            str(items),
            "--source",
            f"{IMPORT_SOURCE_PREFIX}{label}",
            "--prefix",
            f"{label}-{time.time_ns()}",
        ],
        cwd=REPO,
        env={
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings.bench",
            "CACHE_URL": cache_url,
        },
        stdout=subprocess.PIPE,
        text=True,
    )
    if importer.stdout.readline().strip() != "importing":
        importer.kill()
        sys.exit(f"the {label} import did not start: status {importer.wait()}")
    return importer


def finish_import(importer: subprocess.Popen, label: str) -> dict:
    output, _ = importer.communicate(timeout=1800)
    if importer.returncode != 0:
        sys.exit(f"the {label} import failed with status {importer.returncode}")
    result = json.loads(output.strip().splitlines()[-1])
    if result["created"] != result["items"]:
        sys.exit(f"the {label} import stored {result['created']} of {result['items']} items")
    result["items_per_second"] = result["created"] / result["seconds"]
    result["queries_per_item"] = result["queries"] / result["created"]
    return result


def readers_while_importing(
    port: int, paths: list[str], label: str, cache_url: str, items: int
) -> tuple[dict, dict]:
    """Reader load for exactly as long as the import stores items (SIGTERM ends the load)."""
    importer = start_import(label, cache_url, items)
    bound = 1800.0
    loader = subprocess.Popen(
        load_command(
            port,
            MIXED_CONNECTIONS,
            seconds=bound,
            warmup=0,
            requests=10**9,
            count_header=CACHE_STATUS_HEADER,
            timeout=30,
        ),  # fmt: skip
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    loader.stdin.write(json.dumps(paths))
    loader.stdin.close()
    try:
        imported = finish_import(importer, label)
    finally:
        if loader.poll() is None:
            loader.send_signal(signal.SIGTERM)
    output = loader.stdout.read()
    loader.wait(timeout=60)
    return json.loads(output), imported


def mixed_workload(article_paths: list[str]) -> Mixed:
    from django.db import connections

    shared, control = redis_databases()
    conf = runpy.run_path(str(REPO / "config" / "gunicorn.conf.py"))
    mixed = Mixed(
        shared_cache=shared,
        control_cache=control,
        workers=conf["workers"],
        threads=conf["threads"],
        items=env_int("BENCH_IMPORT_ITEMS", 2000),
    )
    seconds = float(os.environ.get("BENCH_MIXED_SECONDS") or 15)
    remove_bench_imports()
    connections.close_all()
    for url in (shared, control):
        empty_redis(url)
    homes = ["/"] * max(1, len(article_paths) // (HOME_SHARE - 1))
    paths = article_paths + homes
    unique = article_paths + ["/"]
    sock = listening_socket()
    port = sock.getsockname()[1]
    print(
        f"Mixed workload: gunicorn -c config/gunicorn.conf.py on 127.0.0.1:{port} "
        f"({mixed.workers} workers x {mixed.threads} threads), cache {shared}, "
        f"{MIXED_CONNECTIONS} reader connections, imports of {mixed.items:,} items."
    )
    server = start_server(
        sock,
        ["-c", str(REPO / "config" / "gunicorn.conf.py")],
        CACHE_URL=shared,
        BIND=f"fd://{sock.fileno()}",
        LOG_LEVEL="warning",
        LOG_FORMAT="text",
    )
    sock.close()

    def warm():
        run_load(
            load_command(port, MIXED_CONNECTIONS, once=True, seconds=600, timeout=30),
            unique,
            600,
            "warming the cache",
        )

    try:
        warm()
        mixed.idle = run_load(
            load_command(
                port,
                MIXED_CONNECTIONS,
                seconds=seconds,
                warmup=1,
                requests=10**9,
                count_header=CACHE_STATUS_HEADER,
                timeout=30,
            ),  # fmt: skip
            paths,
            seconds,
            "readers, idle",
        )
        print("  readers idle: done; the import alone...", flush=True)
        mixed.alone = finish_import(start_import("alone", shared, mixed.items), "alone")
        warm()
        print("  readers during the import...", flush=True)
        mixed.during, mixed.during_import = readers_while_importing(
            port, paths, "during", shared, mixed.items
        )
        warm()
        print("  readers during the control import...", flush=True)
        mixed.control, mixed.control_import = readers_while_importing(
            port, paths, "control", control, mixed.items
        )
    finally:
        stop_server(server)
        remove_bench_imports()
    return mixed


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


def print_mixed(mixed: Mixed):
    cells = [f"{'mixed workload':<36}", f"{'req/s':>8}", f"{'p50 ms':>7}", f"{'p99 ms':>7}"]
    cells += [f"{'hits':>6}", f"{'items/s':>7}", f"{'SQL/item':>8}"]
    print("| " + " | ".join(cells) + " |")
    print("|" + "|".join("-" * (len(cell) + 2) for cell in cells) + "|")

    def line(name, load, imported):
        reader = (
            f"{load['rps']:>8.1f} | {load['p50_ms']:>7.1f} | {load['p99_ms']:>7.1f} | "
            f"{hit_ratio(load):>6.0%}"
            if load
            else f"{'':>8} | {'':>7} | {'':>7} | {'':>6}"
        )
        writer = (
            f"{imported['items_per_second']:>7.1f} | {imported['queries_per_item']:>8.1f}"
            if imported
            else f"{'':>7} | {'':>8}"
        )
        print(f"| {name:<36} | {reader} | {writer} |")

    line("readers, idle", mixed.idle, None)
    line("import alone", None, mixed.alone)
    line("readers + import", mixed.during, mixed.during_import)
    line("readers + import cached elsewhere", mixed.control, mixed.control_import)


def verdicts(rows: dict[str, Row], floor_rps: float, search: dict, mixed: Mixed | None) -> list:
    """(what, measured, target, met) for every target this run measured."""
    checks = []
    if rows:
        uncached, cached = rows["article, uncached"], rows["article, cached"]
        page1 = next(row for name, row in rows.items() if name.startswith("region listing p1"))
        page500 = rows["region listing p500"]
        uncached_ratio = uncached.load["rps"] / floor_rps
        cached_ratio = cached.load["rps"] / floor_rps
        page1_ratio = page1.load["rps"] / floor_rps
        slowdown = page1.load["rps"] / page500.load["rps"]
        checks += [
            ("uncached article, x floor req/s", f"{uncached_ratio:.2f}",
             f">= {TARGETS['uncached_article_ratio']:.2f}",
             uncached_ratio >= TARGETS["uncached_article_ratio"]),
            ("uncached article, SQL queries", f"{uncached.queries:g}",
             f"<= {TARGETS['uncached_article_queries']}",
             uncached.queries <= TARGETS["uncached_article_queries"]),
            ("cached article, x floor req/s", f"{cached_ratio:.2f}",
             f">= {TARGETS['cached_article_ratio']:.2f}",
             cached_ratio >= TARGETS["cached_article_ratio"]),
            ("region listing page 1, x floor req/s", f"{page1_ratio:.2f}",
             f">= {TARGETS['listing_page1_ratio']:.2f}",
             page1_ratio >= TARGETS["listing_page1_ratio"]),
            ("listing page 500 slower than page 1", f"{slowdown:.2f}x",
             f"<= {TARGETS['deep_listing_slowdown']}x",
             slowdown <= TARGETS["deep_listing_slowdown"]),
            ("search page p50 in-process", f"{search['page_p50_ms']:.1f} ms",
             f"<= {TARGETS['search_p50_ms']:g} ms",
             search["page_p50_ms"] <= TARGETS["search_p50_ms"]),
        ]  # fmt: skip
        for row in rows.values():
            if row.load.get("errors"):
                failed = f"{row.load['errors']} of {row.load['requests']}"
                checks.append((f"{row.name}: failed requests", failed, "none", False))
    if mixed is not None:
        ratio = mixed.during["rps"] / mixed.control["rps"]
        hits = hit_ratio(mixed.during)
        checks += [
            ("readers during import / during control", f"{ratio:.2f}",
             f">= {TARGETS['readers_during_vs_control']:.2f}",
             ratio >= TARGETS["readers_during_vs_control"]),
            ("page-cache hits during the import", f"{hits:.0%}",
             f">= {TARGETS['hit_ratio_during_import']:.0%}",
             hits >= TARGETS["hit_ratio_during_import"]),
            ("SQL queries per stored item", f"{mixed.alone['queries_per_item']:.1f}",
             f"<= {TARGETS['queries_per_item']}",
             mixed.alone["queries_per_item"] <= TARGETS["queries_per_item"]),
            (f"import of {mixed.items:,} items, idle", f"{mixed.alone['items_per_second']:.1f}/s",
             f">= {TARGETS['import_items_per_second']}/s",
             mixed.alone["items_per_second"] >= TARGETS["import_items_per_second"]),
        ]  # fmt: skip
        for name, load in (
            ("idle", mixed.idle),
            ("during", mixed.during),
            ("control", mixed.control),
        ):
            if load.get("errors"):
                failed = f"{load['errors']} of {load['requests']}"
                checks.append((f"mixed readers {name}: failed requests", failed, "none", False))
    return checks


def print_verdicts(checks: list):
    width = max(len(what) for what, *_ in checks)
    print(f"| {'target':<{width}} | {'measured':>10} | {'target':>10} | {'':<6} |")
    print(f"|{'-' * (width + 2)}|{'-' * 12}|{'-' * 12}|{'-' * 8}|")
    for what, measured, target, met in checks:
        print(
            f"| {what:<{width}} | {measured:>10} | {target:>10} | {'met' if met else 'MISSED':<6} |"
        )


def main() -> int:
    require_postgres()
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings.bench"
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection, connections

    parts = {part.strip() for part in (os.environ.get("BENCH_PARTS") or "pages,mixed").split(",")}
    call_command("migrate", interactive=False, verbosity=0)
    ensure_archive(env_int("BENCH_ARTICLES", 100_000))
    collect_static_if_needed()

    rows = build_rows()
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        (pg_version,) = cursor.fetchone()
    search: dict = {}
    if "pages" in parts:
        measure_queries(rows)
        search = time_search()
    connections.close_all()

    floor_rps = 0.0
    if "pages" in parts:
        workers = env_int("BENCH_WORKERS", 2 * (os.cpu_count() or 1))
        concurrency = env_int("BENCH_CONCURRENCY", 2 * workers)
        seconds = float(os.environ.get("BENCH_SECONDS") or 8)
        requests = env_int("BENCH_REQUESTS", 20_000)
        sock = listening_socket()
        port = sock.getsockname()[1]
        cache_backend = settings.CACHES["default"]["BACKEND"].rsplit(".", 1)[-1]
        print(
            f"Serving with gunicorn on 127.0.0.1:{port}: {workers} sync "
            f"workers, load with {concurrency} connections, up to {seconds:g} s or {requests} "
            f"requests per page; PostgreSQL {pg_version}, cache {cache_backend}."
        )
        server = start_server(
            sock,
            ["config.wsgi:application", "--bind", f"fd://{sock.fileno()}", "--workers",
             str(workers), "--log-level", "warning"],
        )  # fmt: skip
        sock.close()
        try:
            for row in rows:
                row.load = apply_load(row, port, concurrency, seconds, requests)
        finally:
            stop_server(server)
        floor_rps = rows[0].load["rps"]

    mixed = None
    if "mixed" in parts:
        mixed = mixed_workload(rows[1].paths[: env_int("BENCH_MIXED_ARTICLES", 2000)])

    print()
    if "pages" in parts:
        print_table(rows, floor_rps)
        print()
    if mixed is not None:
        print_mixed(mixed)
        print()
    checks = verdicts(
        {row.name: row for row in rows} if "pages" in parts else {}, floor_rps, search, mixed
    )
    print_verdicts(checks)
    missed = [what for what, _, _, met in checks if not met]
    if missed:
        print(f"\n{len(missed)} target(s) missed: {', '.join(missed)}.")
        return 1
    print("\nAll targets met.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
