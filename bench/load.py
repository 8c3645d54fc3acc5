"""A small, bounded HTTP load generator for the benchmark, run as its own process.

It only ever connects to 127.0.0.1, stops after `--requests` requests or `--seconds`
seconds (whichever comes first, or at SIGTERM), gives each request at most `--timeout`
seconds, and prints one JSON object: requests, errors, status counts, req/s, p50 and p99 in ms,
and with `--count-header NAME` how often each value of that response header came back.

Paths to request come as a JSON list on stdin and are taken in random order (a fixed seed),
so "random articles" means a different article for almost every request. `--once` requests
every path exactly once instead, in order (to fill a cache before measuring).

    echo '["/bench/floor/"]' | python bench/load.py --port 8001 --seconds 5
"""

import argparse
import asyncio
import json
import random
import signal
import sys
import time

HOST = "127.0.0.1"


def percentile(sorted_values: list[float], fraction: float) -> float:
    if not sorted_values:
        return float("nan")
    index = min(len(sorted_values) - 1, round(fraction * (len(sorted_values) - 1)))
    return sorted_values[index]


async def fetch(port: int, path: str, headers: dict, timeout: float, count_header: str):
    """One request on a fresh connection (gunicorn closes after each answer when asked to).

    Returns the status and the value of the `count_header` response header ("" if absent).
    """
    extra = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
    request = f"GET {path} HTTP/1.1\r\nHost: {HOST}:{port}\r\nConnection: close\r\n{extra}\r\n"
    wanted = count_header.lower().encode("latin-1") + b":"

    async def exchange():
        reader, writer = await asyncio.open_connection(HOST, port)
        try:
            writer.write(request.encode("latin-1"))
            await writer.drain()
            status_line = await reader.readline()
            value = ""
            while line := await reader.readline():
                if line in (b"\r\n", b"\n"):
                    break
                if count_header and line.lower().startswith(wanted):
                    value = line.split(b":", 1)[1].strip().decode("latin-1")
            while await reader.read(65536):
                pass
        finally:
            writer.close()
        return int(status_line.split()[1]), value

    return await asyncio.wait_for(exchange(), timeout)


async def run(options, paths, headers):
    picker = random.Random(20240601)
    warmup = 0.0 if options.once else options.warmup
    seconds = min(options.seconds, 600.0)
    deadline = time.monotonic() + warmup + seconds
    measuring_from = time.monotonic() + warmup
    latencies: list[float] = []
    statuses: dict[str, int] = {}
    header_counts: dict[str, int] = {}
    counted = 0
    queue = list(reversed(paths)) if options.once else None
    max_requests = len(paths) if options.once else options.requests
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stopping.set)

    async def worker():
        nonlocal counted
        while counted < max_requests and time.monotonic() < deadline and not stopping.is_set():
            if queue is not None:
                if not queue:
                    return
                path = queue.pop()
            else:
                path = picker.choice(paths)
            started = time.monotonic()
            value = ""
            try:
                code, value = await fetch(
                    options.port, path, headers, options.timeout, options.count_header
                )
                status = str(code)
            except (OSError, TimeoutError, ValueError, IndexError) as problem:
                status = type(problem).__name__
            finished = time.monotonic()
            if started >= measuring_from:
                counted += 1
                latencies.append(finished - started)
                statuses[status] = statuses.get(status, 0) + 1
                if options.count_header:
                    header_counts[value] = header_counts.get(value, 0) + 1

    began = time.monotonic()
    await asyncio.gather(*(worker() for _ in range(options.concurrency)))
    elapsed = time.monotonic() - max(began + warmup, measuring_from)
    latencies.sort()
    errors = sum(count for status, count in statuses.items() if status not in {"200", "304"})
    result = {
        "requests": counted,
        "errors": errors,
        "statuses": statuses,
        "seconds": round(elapsed, 3),
        "rps": counted / elapsed if elapsed > 0 else 0.0,
        "p50_ms": percentile(latencies, 0.50) * 1000,
        "p99_ms": percentile(latencies, 0.99) * 1000,
    }
    if options.count_header:
        result["header_counts"] = header_counts
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--requests", type=int, default=20000, help="At most this many.")
    parser.add_argument("--seconds", type=float, default=8.0, help="At most this long.")
    parser.add_argument("--warmup", type=float, default=1.0, help="Seconds not counted.")
    parser.add_argument("--timeout", type=float, default=10.0, help="Per request.")
    parser.add_argument("--header", action="append", default=[], help="Name: value")
    parser.add_argument("--count-header", default="", help="Count this response header's values.")
    parser.add_argument("--once", action="store_true", help="Every path once, in order.")
    options = parser.parse_args()
    paths = json.load(sys.stdin)
    if not paths or not all(isinstance(p, str) and p.startswith("/") for p in paths):
        parser.error("stdin must be a JSON list of paths starting with /")
    headers = dict(header.split(": ", 1) for header in options.header)
    json.dump(asyncio.run(run(options, paths, headers)), sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
