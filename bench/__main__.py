"""`python -m bench` (`make bench`): how fast the portal serves its catalogue and API, against a floor.

1. Seeds a separate database (default `ficosec_bench_data`) with the synthetic catalogue of bench/seed.py, after
   `manage.py migrate`; skipped when the database already holds the requested scale.
2. Serves the portal with gunicorn as in production (`make serve`: DEBUG off, gunicorn.conf.py, one worker per core)
   and the floor (bench/floor.py) with the same number of workers on the next port.
3. Measures on loopback with wrk: a warm-up pass, then interleaved repetitions of every target; reports medians.
4. Downloads the whole catalogue (CSV page and API CSV) watching the workers' memory, holds a fixed-rate load on
   the catalogue page (bench/load.py), holds it on a Zipf mix of catalogue URLs while a staff editor saves a project
   through the staff form every 2 s (bench/edits.py), and times the search queries with EXPLAIN ANALYZE; then the
   cold pages (bench/cold.py), the money targets cold and the open-data files (bench/opendata.py).
5. Writes bench/results/latest.{md,json} and a dated copy, and prints the table with the issue's targets.

`--only PART[,PART]` runs some of the parts (PARTS below) and writes a partial results file instead of latest.*.
Options: `python -m bench --help`; see bench/README.md.
"""

import argparse
import json
import math
import os
import platform
import re
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from contextlib import ExitStack, contextmanager
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import quote, urlencode, urlsplit, urlunsplit

from . import cold

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
WRK_SCRIPT = ROOT / "bench" / "report.lua"
GUNICORN = Path(sys.executable).parent / "gunicorn"
DEFAULT_DATABASE_URL = "postgres://ficosec:ficosec@127.0.0.1:5432/ficosec"
# The portal's cache and counters, as deployed (docs/deployment.md): a Redis shared by the workers, in a database
# number of its own that each run empties first (every part starts with nothing cached).
BENCH_REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")
HUGE_RATE = "1000000000/s"  # API throttles out of the way: the benchmark is one client hammering from one address

# The issue's targets.
FLOOR_SHARE = 0.5  # API 50-row list: at least half the floor's throughput (API count cached, floor counting)
SAME_POLICY_SHARE = 1.0  # issue 18: at least the floor's throughput when both cache the count
ROWS_PER_SECOND = 150_000  # 1,000-row pages
LAST_PAGE_FACTOR = 1.5  # last page no slower than 1.5 x the first
HELD_P95_MS = 25  # catalogue page, held at the target rate, zero errors
SEARCH_P95_MS = 100  # search SQL at 100k projects
SEARCH_SELECTIVE_MS = 20  # issue 18: the SQL of a search whose word is in up to BROAD_SEARCH projects
DOWNLOAD_GROWTH_MB = 50  # worker memory growth while downloading the catalogue


# The parts of a run, in the order they run; `--only` picks some of them.
PARTS = {
    "throughput": "wrk on every target: the API against the floor, pages, money (warm)",
    "counts": "wrk on the API lists, sync pages and floors only: the count policies, 1,000-row pages, last pages",
    "downloads": "the whole catalogue as CSV and through the API's CSV pages, watching worker memory",
    "held": "the fixed-rate held load on /proyectos/",
    "edits": "the held load on a Zipf mix of catalogue URLs with a staff edit every 2 s (bench/edits.py)",
    "cold": "the cold (no cache) pages (bench/cold.py)",
    "sql": "EXPLAIN ANALYZE of the catalogue search queries",
    "money": "the money targets cold (their warm figures are part of throughput)",
    "opendata": "the IATI and 360Giving files of every published project (bench/opendata.py)",
}
# The throughput targets of the `counts` part.
COUNT_TARGETS = {
    *(f"floor_{size}{policy}" for size in (50, 1000) for policy in ("", "_cached", "_nocount")),
    *(f"api_{kind}_{size}_{page}" for kind in ("list", "sync") for size in (50, 1000) for page in ("first", "last")),
}


def only(value):
    parts = [part.strip() for part in value.split(",") if part.strip()]
    unknown = [part for part in parts if part not in PARTS]
    if unknown or not parts:
        raise argparse.ArgumentTypeError(f"parts are {', '.join(PARTS)}; not {', '.join(unknown) or 'none'}")
    return [part for part in PARTS if part in parts]


def parse_args(argv):
    parser = argparse.ArgumentParser(prog="python -m bench", description="The FICOSEC portal's benchmark suite.")
    quick = parser.add_argument_group("smoke run")
    quick.add_argument(
        "--quick",
        action="store_true",
        default=os.environ.get("BENCH_QUICK", "") not in ("", "0"),
        help="scale 5,000, one repetition, a few seconds per measurement (also BENCH_QUICK=1); results go "
        "to bench/results/quick.*.tmp, never over latest.*",
    )
    parser.add_argument("--scale", type=int, help="projects in the data set (default 100,000; 5,000 with --quick)")
    parser.add_argument(
        "--reseed", action="store_true", help="seed again even if the database holds the requested scale"
    )
    parser.add_argument(
        "--database", help="benchmark database name (default ficosec_bench_data; ficosec_bench_quick with --quick)"
    )
    parser.add_argument(
        "--reps", type=int, help="interleaved repetitions of every measurement (default 3; 1 with --quick)"
    )
    parser.add_argument("--duration", type=float, help="seconds per wrk measurement (default 10; 2 with --quick)")
    parser.add_argument("--warmup", type=float, help="seconds of warm-up per target (default 3; 1 with --quick)")
    parser.add_argument("--held", type=float, help="seconds of the held fixed-rate load (default 60; 5 with --quick)")
    parser.add_argument("--rate", type=float, default=250, help="requests per second of the held load (default 250)")
    parser.add_argument(
        "--workers", type=int, default=os.cpu_count(), help="gunicorn workers, portal and floor (default: cores)"
    )
    parser.add_argument("--connections", type=int, help="wrk connections (default: 2 per worker)")
    parser.add_argument(
        "--port", type=int, default=8100, help="portal port; the floor takes the next one (default 8100)"
    )
    parser.add_argument("--seed-only", action="store_true", help="seed (or check) the database and stop")
    parser.add_argument(
        "--cold-urls",
        type=int,
        help="distinct public URLs of the cold (no cache) pass (default 1,000; 200 with --quick)",
    )
    parser.add_argument(
        "--only",
        type=only,
        default=list(PARTS),
        metavar="PART[,PART]",
        help="run only these parts (" + ", ".join(PARTS) + "); the results go to a dated partial file, never "
        "over latest.*",
    )
    args = parser.parse_args(argv)
    args.partial = args.only != list(PARTS)
    defaults = (
        dict(scale=5_000, reps=1, duration=2, warmup=1, held=5, database="ficosec_bench_quick", cold_urls=200)
        if args.quick
        else dict(
            scale=100_000, reps=3, duration=10, warmup=3, held=60, database="ficosec_bench_data", cold_urls=cold.URLS
        )
    )
    for name, value in defaults.items():
        if getattr(args, name) is None:
            setattr(args, name, value)
    args.connections = args.connections or 2 * args.workers
    return args


def main(argv=None):
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit("bench: stopped"))  # still stop the servers on the way out
    if not shutil.which("wrk"):
        sys.exit("bench: wrk is missing; `bash scripts/bootstrap.sh bench` installs it (make bench does).")
    RESULTS.mkdir(exist_ok=True)
    database_url = bench_database_url(args.database)
    env = server_environment(database_url, args.workers)
    empty_cache()
    create_database(database_url)
    say(f"migrating {args.database}")
    manage(env, "migrate", "--noinput", "-v", "0")
    os.environ.update(env)  # this process speaks to the benchmark database with the servers' settings
    import django

    django.setup()
    from . import seed

    rows = seed.ensure(args.scale, force=args.reseed, log=say)
    if args.seed_only:
        return
    say("collecting static files (production storage needs the manifest)")
    manage(env, "collectstatic", "--noinput", "-v", "0")

    results = {
        "machine": machine(args),
        "dataset": {"scale": args.scale, "seed": seed.SEED, "rows": rows},
        "method": method(args),
        "parts": args.only,
    }
    wanted, app = set(args.only), None
    with ExitStack() as stack:
        if wanted & {"throughput", "counts", "downloads", "held", "edits"}:
            app = stack.enter_context(
                server("app", [str(GUNICORN), "-c", "gunicorn.conf.py"], env, args.port, "/healthz")
            )
        if wanted & {"throughput", "counts"}:
            floor = stack.enter_context(
                server(
                    "floor",
                    [
                        str(GUNICORN),
                        "--workers",
                        str(args.workers),
                        "--bind",
                        f"127.0.0.1:{args.port + 1}",
                        "--no-control-socket",
                        "--preload",
                        "bench.floor:app",
                    ],
                    env,
                    args.port + 1,
                    "/?page_size=1",
                )
            )
        if wanted & {"throughput", "counts", "downloads"}:
            targets, facts = discover(app.base, floor.base if wanted & {"throughput", "counts"} else "")
            results["dataset"].update(facts)
        if wanted & {"throughput", "counts"}:
            if "throughput" in wanted:
                targets += money_targets(app.base)
            else:
                targets = [target for target in targets if target.key in COUNT_TARGETS]
            results["floor_check"] = check_targets(targets, app.base, floor.base)
            results["throughput"] = measure(targets, args)
        if "downloads" in wanted:
            results["downloads"] = downloads(app, facts)
        if "held" in wanted:
            results["held"] = held_load(app, args)
        if "edits" in wanted:  # last with the servers: every edit empties the caches the other parts would use
            results["edits"] = held_with_edits(app, args)
        if app is not None:
            results["peak_worker_rss_mb"] = app.peak_rss_mb
    if "cold" in wanted:
        results["cold"] = cold_pages(env, args)
    if "sql" in wanted:
        results["sql"] = search_sql(args)
    if "money" in wanted:
        results["money"] = money_cold(money_targets(""), args)
    if "opendata" in wanted:
        from . import opendata  # the IATI and 360Giving files of every published project: time and memory

        results["opendata"] = opendata.measure()
    results["targets"] = judge(results, args)
    write_results(results, args)


# --- Set-up ---------------------------------------------------------------------------------------------------


def say(message):
    print(f"bench: {message}", flush=True)


def bench_database_url(name):
    """DATABASE_URL (or the portal's default) with the benchmark database's name instead."""
    parts = urlsplit(os.environ.get("DATABASE_URL", DEFAULT_DATABASE_URL))
    return urlunsplit(parts._replace(path=f"/{name}"))


def create_database(url):
    import psycopg2
    from psycopg2 import sql

    name = urlsplit(url).path.lstrip("/")
    admin = psycopg2.connect(urlunsplit(urlsplit(url)._replace(path="/postgres")))
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        if cursor.fetchone() is None:
            say(f"creating database {name}")
            cursor.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    admin.close()


def server_environment(database_url, workers):
    """Production settings, as `make serve` sets them, against the benchmark database."""
    return {
        **os.environ,
        "DATABASE_URL": database_url,
        "DEBUG": "false",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "false",
        "WEB_CONCURRENCY": str(workers),
        "REDIS_URL": BENCH_REDIS_URL,
        "API_RATE_ANON": HUGE_RATE,
        "API_RATE_KEY": HUGE_RATE,
        "DJANGO_SETTINGS_MODULE": "ficosec.settings",
    }


def empty_cache():
    """Empty the benchmark's Redis database (BENCH_REDIS_URL): the run starts with nothing cached."""
    import redis

    try:
        redis.Redis.from_url(BENCH_REDIS_URL).flushdb()
    except redis.ConnectionError as error:
        sys.exit(f"bench: Redis at {BENCH_REDIS_URL} is not reachable ({error}); `make bench` starts it.")


def manage(env, *arguments):
    subprocess.run([sys.executable, "manage.py", *arguments], cwd=ROOT, env=env, check=True)


class Server:
    """A gunicorn master started by the benchmark, its workers' memory sampled every 50 ms while it runs."""

    def __init__(self, name, process, port):
        self.name, self.process, self.base = name, process, f"http://127.0.0.1:{port}"
        self.peak_rss_mb = 0.0
        self.sampling = True
        threading.Thread(target=self.sample, daemon=True).start()

    def workers(self):
        """PIDs of the master's children (its workers), from /proc."""
        children = []
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                try:
                    stat = Path(f"/proc/{entry}/stat").read_text()
                except OSError:
                    continue
                if int(stat.rsplit(")", 1)[1].split()[1]) == self.process.pid:
                    children.append(int(entry))
        return children

    def rss_mb(self):
        """{worker pid: resident memory in MB}."""
        result = {}
        for pid in self.workers():
            try:
                status = Path(f"/proc/{pid}/status").read_text()
            except OSError:
                continue
            found = re.search(r"VmRSS:\s+(\d+) kB", status)  # a worker being replaced has none
            if found:
                result[pid] = int(found.group(1)) / 1024
        return result

    def sample(self):
        while self.sampling:
            self.peak_rss_mb = max([self.peak_rss_mb, *self.rss_mb().values()])
            time.sleep(0.05)

    @contextmanager
    def watch(self):
        """Peak growth of any worker's memory over the block: yields a dict filled in when the block ends."""
        before, peaks, outcome = self.rss_mb(), {}, {}
        running = True

        def watch_loop():
            while running:
                for pid, mb in self.rss_mb().items():
                    peaks[pid] = max(peaks.get(pid, 0), mb)
                time.sleep(0.02)

        thread = threading.Thread(target=watch_loop, daemon=True)
        thread.start()
        try:
            yield outcome
        finally:
            running = False
            thread.join()
            growth = {pid: peaks.get(pid, mb) - mb for pid, mb in before.items()}
            outcome.update(
                rss_before_mb=round(max(before.values()), 1),
                rss_peak_mb=round(max(peaks.values()), 1),
                rss_growth_mb=round(max(growth.values()), 1),
            )


@contextmanager
def server(name, command, env, port, probe):
    with socket.socket() as s:
        if s.connect_ex(("127.0.0.1", port)) == 0:
            sys.exit(f"bench: port {port} is taken; choose another with --port")
    log = open(RESULTS / f"{name}-server.log.tmp", "w")
    process = subprocess.Popen(command, cwd=ROOT, env={**env, "BIND": f"127.0.0.1:{port}"}, stdout=log, stderr=log)
    instance = Server(name, process, port)
    try:
        # The master builds the catalogue's counting index before it forks (gunicorn.conf.py), the matches of its
        # kept words included: about half a minute at 100,000 projects on a 2-core machine, and at 1,000,000 just
        # over 15 minutes the first time after a seed (stop 26), so the wait allows 45.
        started = time.monotonic()
        deadline = started + 45 * 60
        while True:
            try:
                with urllib.request.urlopen(instance.base + probe, timeout=5) as response:
                    if response.status == 200:
                        break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    sys.exit(f"bench: the {name} server did not start; see bench/results/{name}-server.log.tmp")
                time.sleep(0.3)
        waited = time.monotonic() - started
        say(f"{name} server up on port {port} ({len(instance.workers())} workers) after {waited:.0f} s")
        yield instance
    finally:
        instance.sampling = False
        process.terminate()  # gunicorn's master stops its workers gracefully on SIGTERM
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


# --- What is measured ----------------------------------------------------------------------------------------


class Target:
    def __init__(self, key, label, path, group, rows=None, floor=None):
        self.key, self.label, self.path, self.group, self.rows, self.floor = key, label, path, group, rows, floor
        self.url = None  # the server's base and the path, once the servers are up
        self.single_s = 0.0  # how long one request took alone (check_targets)

    def window(self, seconds, args):
        """wrk's window for this target: `seconds`, stretched for a target so slow that the window would otherwise
        end before each connection saw a couple of responses (their latency would go unreported)."""
        return max(seconds, 2 * self.single_s * args.connections / args.workers)


def query(**params):
    return "?" + urlencode(params, quote_via=quote)


def discover(app_base, floor_base):
    """The URLs to measure, from the seeded data: last pages, a cursor near the end, a typical project."""
    from django.db.models import Count

    from axes.models import Axis
    from projects.api.rendering import encode_cursor
    from projects.models import Municipality, Project

    from .vocabulary import COMMON_WORD, SELECTIVE_WORD

    published = Project.objects.published()
    total = published.count()
    middle = published.order_by("code").values("code", "slug")[total // 2]
    axis = Axis.objects.annotate(n=Count("projects")).order_by("n").first()  # the least common axis: a real narrowing
    place = Municipality.objects.get(inegi_code="08017")  # Cuauhtémoc, a mid-sized municipality

    def last_cursor(size):
        """The cursor whose page is the last one of the sync walk (the API's own encoding of the row before it)."""
        row = published.order_by("updated_at", "code").values("updated_at", "code")[total - size - 1]
        return encode_cursor({"updated_at": row["updated_at"].isoformat(), "code": row["code"]})

    api = "/api/v1/projects/"
    targets = [
        Target("floor_50", "Floor: 50 rows, with count", "/" + query(page=1, page_size=50), "floor", 50),
        Target("floor_50_nocount", "Floor: 50 rows, no count", "/" + query(page=1, page_size=50, count=0), "floor", 50),
        Target("floor_1000", "Floor: 1,000 rows, with count", "/" + query(page=1, page_size=1000), "floor", 1000),
        Target(
            "floor_1000_nocount",
            "Floor: 1,000 rows, no count",
            "/" + query(page=1, page_size=1000, count=0),
            "floor",
            1000,
        ),
        # The API's count policy (issue 18): the total remembered until a project changes, as public_count does.
        Target(
            "floor_50_cached",
            "Floor: 50 rows, count cached",
            "/" + query(page=1, page_size=50, count="cached"),
            "floor",
            50,
        ),
        Target(
            "floor_1000_cached",
            "Floor: 1,000 rows, count cached",
            "/" + query(page=1, page_size=1000, count="cached"),
            "floor",
            1000,
        ),
    ]
    for size in (50, 1000):
        last = total // size  # the last full page, so that first and last pages carry the same number of rows
        targets += [
            Target(
                f"api_list_{size}_first",
                f"API list, {size:,} rows, first page",
                api + query(page=1, page_size=size),
                "api",
                size,
                f"floor_{size}_cached",
            ),
            Target(
                f"api_list_{size}_last",
                f"API list, {size:,} rows, last full page ({last:,})",
                api + query(page=last, page_size=size),
                "api",
                size,
                f"floor_{size}_cached",
            ),
            Target(
                f"api_sync_{size}_first",
                f"API sync, {size:,} rows, first page",
                api + "sync/" + query(page_size=size),
                "api",
                size,
                f"floor_{size}_nocount",
            ),
            Target(
                f"api_sync_{size}_last",
                f"API sync, {size:,} rows, last page (cursor)",
                api + "sync/" + query(page_size=size, cursor=last_cursor(size)),
                "api",
                size,
                f"floor_{size}_nocount",
            ),
        ]
    targets += [
        Target("api_detail", "API project detail", f"{api}{middle['code']}/", "api", 1, "floor_50_cached"),
        Target(
            "api_axis",
            f"API list filtered by axis ({axis.slug})",
            api + query(axis=axis.slug, page_size=50),
            "api",
            50,
            "floor_50_cached",
        ),
        Target(
            "api_municipality",
            "API list filtered by municipality (08017)",
            api + query(municipality=place.inegi_code, page_size=50),
            "api",
            50,
            "floor_50_cached",
        ),
        Target(
            "api_search_selective",
            f"API search q={SELECTIVE_WORD}",
            api + query(q=SELECTIVE_WORD, page_size=50),
            "api",
            50,
            "floor_50_cached",
        ),
        Target(
            "api_search_common",
            f"API search q={COMMON_WORD}",
            api + query(q=COMMON_WORD, page_size=50),
            "api",
            50,
            "floor_50_cached",
        ),
        Target("home", "Home page /", "/", "html"),
        Target("catalogue", "Catalogue /proyectos/", "/proyectos/", "html"),
        Target("project", "Project page", f"/proyectos/{middle['slug']}/", "html"),
        Target(
            "search_selective", f"Catalogue search q={SELECTIVE_WORD}", "/proyectos/" + query(q=SELECTIVE_WORD), "html"
        ),
        Target("search_common", f"Catalogue search q={COMMON_WORD}", "/proyectos/" + query(q=COMMON_WORD), "html"),
    ]
    for target in targets:
        target.url = (floor_base if target.group == "floor" else app_base) + target.path
    facts = {
        "published": total,
        "axis_filter": axis.slug,
        "axis_matches": published.filter(axis=axis).count(),
        "municipality_matches": published.filter(municipalities=place).count(),
        "selective_word": SELECTIVE_WORD,
        "selective_matches": published.search(SELECTIVE_WORD).count(),
        "common_word": COMMON_WORD,
        "common_matches": published.search(COMMON_WORD).count(),
    }
    return targets, facts


def fetch(url):
    with urllib.request.urlopen(url, timeout=120) as response:
        return response.status, response.read()


def check_targets(targets, app_base, floor_base):
    """Every target answers 200 before it is measured, and the floor serves the API's rows: same projects in the same
    order, same fields, and (money_by_sector compared as a set, since ties may order either way) the same values."""
    for target in targets:
        started = time.perf_counter()
        status, _body = fetch(target.url)
        target.single_s = time.perf_counter() - started
        if status != 200:
            sys.exit(f"bench: {target.url} answered {status}")
    report = {}
    for size in (50, 1000):
        api = json.loads(fetch(f"{app_base}/api/v1/projects/{query(page=1, page_size=size)}")[1])
        floor = json.loads(fetch(f"{floor_base}/{query(page=1, page_size=size)}")[1])
        if [r["code"] for r in api["results"]] != [r["code"] for r in floor["results"]] or api["count"] != floor[
            "count"
        ]:
            sys.exit(f"bench: the floor's {size}-row page does not hold the API's projects")
        if any(set(a) != set(f) for a, f in zip(api["results"], floor["results"], strict=False)):
            sys.exit(f"bench: the floor's {size}-row page does not have the API's fields")
        differing = {}
        for a, f in zip(api["results"], floor["results"], strict=False):
            for field in a:
                if normalise(field, a[field]) != normalise(field, f[field]):
                    differing[field] = differing.get(field, 0) + 1
        report[f"page_{size}"] = {"rows": len(api["results"]), "rows_differing_by_field": differing}
        for attempt in ("counting", "remembered"):  # the first request of a worker counts, a later one remembers
            cached = json.loads(fetch(f"{floor_base}/{query(page=1, page_size=size, count='cached')}")[1])
            if cached != floor:
                sys.exit(f"bench: the floor's {size}-row page with its count cached ({attempt}) is not the counted one")
    say(f"floor check: {report}")
    return report


def normalise(field, value):
    """Ties in money by sector may order either way."""
    return sorted((m["sector"], m["amount"]) for m in value) if field == "money_by_sector" else value


def wrk(url, seconds, connections):
    completed = subprocess.run(
        ["wrk", "-t1", f"-c{connections}", f"-d{math.ceil(seconds)}s", "--timeout", "60s", "-s", str(WRK_SCRIPT), url],
        capture_output=True,
        text=True,
        check=True,
    )
    line = next(line for line in completed.stdout.splitlines() if line.startswith("BENCH-JSON "))
    raw = json.loads(line.removeprefix("BENCH-JSON "))
    errors = raw["connect_errors"] + raw["read_errors"] + raw["write_errors"] + raw["status_errors"] + raw["timeouts"]
    done = raw["requests"] > 0  # a target slower than the window completes nothing: no latency to report
    return {
        "rps": raw["requests"] / (raw["duration_us"] / 1e6),
        "p50_ms": raw["p50_us"] / 1000 if done else None,
        "p99_ms": raw["p99_us"] / 1000 if done else None,
        "requests": raw["requests"],
        "seconds": raw["duration_us"] / 1e6,
        "errors": errors,
        "bytes_per_response": raw["bytes"] / max(1, raw["requests"]),
    }


def settle(timeout=120):
    """Wait until the database runs no query but ours for a moment: a slow request that wrk gave up on goes on in
    its worker, and must not eat into the next measurement."""
    from django.db import connection

    quiet, deadline = 0, time.monotonic() + timeout
    while quiet < 3 and time.monotonic() < deadline:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND state = 'active' "
                "AND pid <> pg_backend_pid()"
            )
            quiet = quiet + 1 if cursor.fetchone()[0] == 0 else 0
        time.sleep(0.1)


def measure(targets, args):
    say(f"warm-up: {args.warmup:g} s per target")
    for target in targets:
        wrk(target.url, target.window(args.warmup, args), args.connections)
        settle()
    runs = {target.key: [] for target in targets}
    for rep in range(1, args.reps + 1):
        for target in targets:
            result = wrk(target.url, target.window(args.duration, args), args.connections)
            settle()
            runs[target.key].append(result)
            say(
                f"rep {rep}/{args.reps} {target.label}: {result['rps']:.1f} req/s, p50 {ms(result['p50_ms'])} ms, "
                f"errors {result['errors']}"
            )
    table = {}
    for target in targets:
        own = runs[target.key]
        row = {
            "label": target.label,
            "url": target.path,
            "group": target.group,
            "rows": target.rows,
            "rps": statistics.median(r["rps"] for r in own),
            "p50_ms": median_or_none(r["p50_ms"] for r in own),
            "p99_ms": median_or_none(r["p99_ms"] for r in own),
            "errors": sum(r["errors"] for r in own),
            "bytes_per_response": round(statistics.median(r["bytes_per_response"] for r in own)),
            "runs": own,
            "floor": target.floor,
        }
        if target.rows and target.rows >= 1000:
            row["rows_per_s"] = row["rps"] * target.rows
        table[target.key] = row
    for row in table.values():
        if row["floor"]:
            floor = table[row["floor"]]
            row["floor_ratio"] = row["rps"] / floor["rps"]
    return table


def median_or_none(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def downloads(app, facts):
    """Worker memory while streaming the whole catalogue: the CSV download, then the API's CSV page by page."""
    fetch(f"{app.base}/proyectos/descarga.csv?municipality=08050")  # warm-up: code paths loaded, connection open
    fetch(f"{app.base}/api/v1/projects/?format=csv&page_size=10")
    result = {}
    with app.watch() as memory:
        started = time.perf_counter()
        size, rows = stream(f"{app.base}/proyectos/descarga.csv")
        seconds = time.perf_counter() - started
    result["catalogue_csv"] = {
        "url": "/proyectos/descarga.csv",
        "bytes": size,
        "rows": rows,
        "seconds": round(seconds, 2),
        "rows_per_s": round(rows / seconds),
        **memory,
    }
    pages = math.ceil(facts["published"] / 1000)
    with app.watch() as memory:
        started = time.perf_counter()
        size = rows = 0
        for page in range(1, pages + 1):
            page_size, page_rows = stream(f"{app.base}/api/v1/projects/?format=csv&page_size=1000&page={page}")
            size, rows = size + page_size, rows + page_rows
        seconds = time.perf_counter() - started
    result["api_csv"] = {
        "url": f"/api/v1/projects/?format=csv&page_size=1000&page=1..{pages}",
        "bytes": size,
        "rows": rows,
        "seconds": round(seconds, 2),
        "rows_per_s": round(rows / seconds),
        **memory,
    }
    for name, row in result.items():
        say(f"download {name}: {row['rows']:,} rows in {row['seconds']} s, worker RSS growth {row['rss_growth_mb']} MB")
    return result


def stream(url):
    """(bytes, data rows) of a CSV response read in 64 KB pieces, never held whole."""
    size = lines = 0
    with urllib.request.urlopen(url, timeout=600) as response:
        while chunk := response.read(65536):
            size += len(chunk)
            lines += chunk.count(b"\n")
    return size, lines - 1  # less the header


def held_load(app, args):
    say(f"held load: {args.rate:g} req/s on /proyectos/ for {args.held:g} s (open loop, bench/load.py)")
    with app.watch() as memory:
        completed = subprocess.run(
            [
                sys.executable,
                "-m",
                "bench.load",
                f"{app.base}/proyectos/",
                "--rate",
                str(args.rate),
                "--duration",
                str(args.held),
                "--warmup",
                str(min(5.0, args.held)),
            ],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        )
    result = json.loads(completed.stdout) | memory
    say(
        f"held load: p50 {result['latency_ms']['p50']} ms, p95 {result['latency_ms']['p95']} ms, p99 "
        f"{result['latency_ms']['p99']} ms, "
        f"errors {result['errors']}, achieved {result['achieved_rate']} req/s"
    )
    return result


def held_with_edits(app, args):
    """Issue 18: the held load on a Zipf mix of catalogue URLs while a staff editor saves a project every 2 s
    (bench/edits.py)."""
    from . import edits

    settle()
    say(
        f"held load with edits: {args.rate:g} req/s on a Zipf mix of catalogue URLs for {args.held:g} s, a staff "
        f"edit every {edits.EDIT_EVERY_S:g} s"
    )
    with app.watch() as memory:
        result = edits.run(app.base, args.port, args, RESULTS / "edits-paths.tmp")
    result |= memory
    load, seen = result["load"], result["visibility_ms"]
    say(
        f"held load with edits: p50 {load['latency_ms']['p50']} ms, p95 {load['latency_ms']['p95']} ms, p99 "
        f"{load['latency_ms']['p99']} ms, errors {load['errors']}; {result['edits']} edits, "
        f"{result['edits_failed']} failed, {result['not_visible']} not visible; visibility p50 {seen['p50']} ms, "
        f"max {seen['max']} ms"
    )
    return result


def search_sql(args):
    """EXPLAIN ANALYZE of the catalogue's search queries as the page runs them, for a selective word, a common one
    and a common one narrowed by a filter (the year with most projects)."""
    from django.db import connection, transaction
    from django.test import RequestFactory
    from django.test.utils import CaptureQueriesContext

    from projects.views.public import PAGE_SIZE, catalogue_page

    from .vocabulary import COMMON_WORD, SELECTIVE_WORD

    settle()
    runs = 3 if args.quick else 15
    limit = f"LIMIT {PAGE_SIZE}"
    result = {}
    cases = (
        ("selective", SELECTIVE_WORD, {}),
        *((("unkept", word, {}),) if (word := unkept_word()) else ()),
        ("common", COMMON_WORD, {}),
        ("narrowed", COMMON_WORD, {"year": narrowing_year(COMMON_WORD)}),
    )
    for kind, word, narrowing in cases:
        with CaptureQueriesContext(connection) as captured:
            data = catalogue_page(RequestFactory().get("/proyectos/", {"q": word, **narrowing}))
            list(data["page"].object_list)
        # The queries that search, as projects.facets runs them: the planner's estimate of the words' matches
        # (planned, not run), the matches with their relevance up to the bound + 1, the relevance of given ids (the
        # filters' projects, probed in chunks when many), the matches as a set; then the 20-row page: read by id
        # when the index orders it, newest first in SQL otherwise.
        queries = [q["sql"] for q in captured.captured_queries]
        searching = [sql for sql in queries if "@@" in sql and limit not in sql]
        page_sql = next(
            sql
            for sql in queries
            if ("@@" in sql and limit in sql)
            or (sql.startswith('SELECT "projects_project"."id", "projects_project"."code"') and '"id" IN (' in sql)
        )
        names = []
        for sql in searching:
            name = (
                "estimate"
                if sql.startswith("EXPLAIN ")
                else "matches"
                if "ts_rank" in sql and '"id" IN (' not in sql
                else "relevance"
                if "ts_rank" in sql
                else "matches as a set"
            )
            names.append(name if name not in names else f"{name} {sum(n.startswith(name) for n in names) + 1}")
        for name, sql in (*zip(names, searching, strict=True), ("page", page_sql)):
            ids_only = "ts_rank" not in sql and "@@" in sql  # projects.facets.searched(): read from the GIN index
            timings, plan = [], {}
            for _ in range(runs):
                with transaction.atomic(), connection.cursor() as cursor:
                    if sql.startswith("EXPLAIN "):  # only planned: its time is the planning's
                        started = time.perf_counter()
                        cursor.execute(sql)
                        timings.append((time.perf_counter() - started) * 1000)
                        continue
                    if ids_only:
                        cursor.execute("SELECT set_config('enable_seqscan', 'off', true)")
                    cursor.execute("EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + sql)
                    plan = cursor.fetchone()[0][0]
                timings.append(plan["Planning Time"] + plan["Execution Time"])
            timings.sort()
            result[f"{kind}_{name}"] = {
                "word": word + "".join(f" + {key}={value}" for key, value in narrowing.items()),
                "median_ms": round(statistics.median(timings), 2),
                "p95_ms": round(timings[min(len(timings) - 1, math.ceil(0.95 * len(timings)) - 1)], 2),
                "uses_gin_index": "project_search_gin" in json.dumps(plan),
                "runs": runs,
            }
            say(f"sql {kind} {name}: median {result[f'{kind}_{name}']['median_ms']} ms")
        parts = [result[f"{kind}_{name}"] for name in (*names, "page")]
        result[f"{kind}_total"] = {
            "word": parts[0]["word"],
            **{key: round(sum(part[key] for part in parts), 2) for key in ("median_ms", "p95_ms")},
            "uses_gin_index": parts[0]["uses_gin_index"],
            "runs": runs,
        }
    return result


def unkept_word(within=10_000):
    """The stem the counting index does not keep (projects.facets.WORDS_AT_LEAST) whose search, as the catalogue
    runs it (the word or any word starting with it), matches most published projects up to `within`: the costliest
    search of a word in up to 10,000 projects, read from the GIN index. Candidates come from PostgreSQL's statistics
    of the search vectors, most frequent first; one is taken only when the search parses it back to itself (no other
    stem, no stop word) and its published matches are counted within the bound. None when no stem qualifies."""
    from django.db import connection

    from projects import facets
    from projects.models import Project
    from projects.models.common import SEARCH_CONFIG

    kept = set(facets.current().words)
    stems = [
        stem
        for stem, projects in facets.stem_estimates()
        if projects <= within and stem not in kept and re.fullmatch("[a-z]+", stem)
    ]
    with connection.cursor() as cursor:
        for stem in stems:
            cursor.execute(
                "SELECT websearch_to_tsquery(%s, %s)::text, to_tsquery(%s, %s)::text",
                [SEARCH_CONFIG, stem, SEARCH_CONFIG, f"{stem}:*"],
            )
            if cursor.fetchone() != (f"'{stem}'", f"'{stem}':*"):
                continue
            if Project.objects.published().search(stem).count() <= within:
                return stem
    return None


def narrowing_year(word):
    """The year that narrows the word's matches least while leaving them no broader than the bound (the list the
    page then counts and ranks is the largest it ranks): the costliest narrowed search."""
    from django.test import RequestFactory

    from projects import facets
    from projects.filters import facet_years
    from projects.views.public import catalogue_filter

    index = facets.current()
    for year in sorted(facet_years(), key=lambda year: -len(index.years.get(year, ()))):
        filterset = catalogue_filter(RequestFactory().get("/proyectos/", {"q": word, "year": year}))
        if filterset.is_valid() and facets.Catalogue(filterset).selected is not None:
            return year
    return max(facet_years(), key=lambda year: len(index.years.get(year, ())))


# --- Money (issue 14): the public money page and a project's money timeline -----------------------------------


def money_targets(app_base):
    """The money page (all years; the last year FICOSEC reported: it takes no other filter), its figures in the API,
    and the money timeline of the published project with the most charged invoices: its page, and its commitments
    and disbursements in the API, with the first page of each ledger list."""
    from django.db.models import Count

    from projects.models import AnnualReport, Project

    year = AnnualReport.objects.order_by("-year").values_list("year", flat=True).first() or 2024
    project = (
        Project.objects.published()
        .annotate(charges=Count("commitments__disbursements__charges"))
        .order_by("-charges", "code")
        .values("code", "slug", "charges")
        .first()
    )
    code = project["code"]
    targets = [
        Target("money_page", "Money page /dinero/", "/dinero/", "money"),
        Target("money_page_year", f"Money page, year {year}", "/dinero/" + query(anio=year), "money"),
        Target("api_money_figures", "API money figures", "/api/v1/money-figures/", "money"),
        Target(
            "money_project", f"Project page with its money timeline ({code})", f"/proyectos/{project['slug']}/", "money"
        ),
        Target(
            "api_commitments_project",
            f"API commitments of {code}",
            "/api/v1/commitments/" + query(project=code),
            "money",
        ),
        Target(
            "api_disbursements_project",
            f"API disbursements of {code}",
            "/api/v1/disbursements/" + query(project=code),
            "money",
        ),
        Target("api_commitments", "API commitments, first page", "/api/v1/commitments/", "money"),
        Target("api_disbursements", "API disbursements, first page", "/api/v1/disbursements/", "money"),
    ]
    for target in targets:
        target.url = app_base + target.path
    return targets


def money_cold(targets, args):
    """Each money target's first request after the cache is emptied: in this process (the servers are stopped), with
    the Django test client and a new, empty cache before every request; medians of a few runs, and the SQL queries
    that request ran."""
    import logging

    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext, override_settings

    settle()
    logging.getLogger("ficosec.request").setLevel(logging.WARNING)  # the servers' log lines, not this process's
    runs, client, result = 3 if args.quick else 5, Client(), {}
    for target in targets:
        timings = []
        for run in range(runs):
            fresh = {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": f"cold-{target.key}-{run}"}
            with override_settings(CACHES={"default": fresh}), CaptureQueriesContext(connection) as queries:
                started = time.perf_counter()
                response = client.get(target.path, HTTP_HOST="127.0.0.1")
                timings.append((time.perf_counter() - started) * 1000)
            if response.status_code != 200:
                sys.exit(f"bench: {target.path} answered {response.status_code} in the cold measurement")
        result[target.key] = {
            "label": target.label,
            "url": target.path,
            "cold_ms": round(statistics.median(timings), 1),
            "cold_max_ms": round(max(timings), 1),
            "queries": len(queries),
            "runs": runs,
        }
        say(f"cold {target.label}: median {result[target.key]['cold_ms']} ms, {len(queries)} queries")
    return result


def money_section(results):
    rows, throughput = results["dataset"]["rows"], results.get("throughput", {})
    lines = [
        "",
        "## Money (issue 14)",
        "",
        f"Ledger: {rows['projects_commitment']:,} commitments, {rows['projects_disbursement']:,} disbursements, "
        f"{rows['projects_expenseproof']:,} CFDI proofs, {rows['projects_charge']:,} charges, "
        f"{rows['projects_annualreport']:,} annual reports. Warm: wrk as above (the money figures are cached until "
        "the ledger or a project changes). Cold: the first request after the cache is emptied, in the benchmark's "
        "process with the Django test client (no HTTP), median of "
        f"{next(iter(results['money'].values()))['runs']} runs, with the SQL queries it ran.",
        "",
        "| target | URL | warm req/s | warm p50 ms | cold ms (median) | cold ms (max) | queries |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for key, first in results["money"].items():
        warm = throughput.get(key, {"rps": None, "p50_ms": None})  # measured by the throughput part
        lines.append(
            f"| {first['label']} | `{first['url']}` | {ms(warm['rps'])} | {ms(warm['p50_ms'])} | "
            f"{ms(first['cold_ms'])} | {ms(first['cold_max_ms'])} | {first['queries']} |"
        )
    return lines


# --- Judging and writing -------------------------------------------------------------------------------------


def cold_pages(env, args):
    """Issue 18: the public pages with no cache at all, each of the URL set requested once (bench/cold.py)."""
    urls = cold.url_set(args.cold_urls)
    command = [str(GUNICORN), "-c", "gunicorn.conf.py"]
    with server("cold", command, cold.cold_env(env), args.port + 2, "/healthz"):
        return cold.run(args.port + 2, urls)


def judge(results, args):
    """Each target of the issue the run measured: the figure, the bound and whether it is met."""
    targets = []
    full_hold = args.held >= 60 and args.rate >= 250
    table = results.get("throughput", {})
    if "api_list_50_first" in table:
        same = table["api_list_50_first"]["floor_ratio"]
        previous = table["api_list_50_first"]["rps"] / table["floor_50"]["rps"]
        thousand = {
            k: table[k]["rows_per_s"]
            for k in ("api_list_1000_first", "api_list_1000_last", "api_sync_1000_first", "api_sync_1000_last")
        }
        slowdowns = {
            f"{kind}_{size}": table[f"api_{kind}_{size}_first"]["rps"] / table[f"api_{kind}_{size}_last"]["rps"]
            if table[f"api_{kind}_{size}_last"]["rps"]
            else math.inf
            for kind in ("list", "sync")
            for size in (50, 1000)
        }
        targets += [
            {
                "target": "API 50-row list >= 100 % of the floor's throughput, same count policy (both cache the count "
                "until a project changes)",
                "figure": f"{same:.0%} ({table['api_list_50_first']['rps']:,.1f} / "
                f"{table['floor_50_cached']['rps']:,.1f} req/s)",
                "met": same >= SAME_POLICY_SHARE,
            },
            {
                "target": "API 50-row list >= 50 % of the floor's throughput, previous comparison (the API caches its "
                "count, the floor counts on every request)",
                "figure": f"{previous:.0%} ({table['api_list_50_first']['rps']:,.1f} / {table['floor_50']['rps']:,.1f} "
                "req/s)",
                "met": previous >= FLOOR_SHARE,
            },
            {
                "target": "1,000-row pages >= 150,000 rows/s",
                "figure": ", ".join(f"{k.removeprefix('api_')}: {v:,.0f}" for k, v in thousand.items()),
                "met": min(thousand.values()) >= ROWS_PER_SECOND,
            },
            {
                "target": "last page no slower than 1.5x the first",
                "figure": ", ".join(f"{k}: {times(v)}" for k, v in slowdowns.items()),
                "met": max(slowdowns.values()) <= LAST_PAGE_FACTOR,
            },
        ]
    if "held" in results:
        held = results["held"]
        targets.append(
            {
                "target": "catalogue held at 250 req/s for 60 s: zero errors, p95 <= 25 ms",
                "figure": f"{held['rate']:g} req/s for {held['duration_s']:g} s: {held['errors']} errors, "
                f"p95 {held['latency_ms']['p95']} ms",
                "met": full_hold and held["errors"] == 0 and (held["latency_ms"]["p95"] or math.inf) <= HELD_P95_MS,
            }
        )
    if "edits" in results:
        from . import edits

        targets += [
            {"target": target, "figure": figure, "met": met}
            for target, figure, met in edits.judge(results["edits"], full_hold)
        ]
    if "sql" in results:
        search = max(row["p95_ms"] for name, row in results["sql"].items() if name.endswith("_total"))
        # The selective word and the costliest word the index does not keep (bench.unkept_word): the worse of the two.
        selective = max(
            (row for name, row in results["sql"].items() if name in ("selective_total", "unkept_total")),
            key=lambda row: row["median_ms"],
        )
        targets += [
            {
                "target": "search p95 <= 100 ms at 100k (SQL)",
                "figure": f"worst p95 {search:.1f} ms at {args.scale:,}",
                "met": search <= SEARCH_P95_MS and args.scale >= 100_000,
            },
            {
                "target": f"a word in up to 10,000 projects <= {SEARCH_SELECTIVE_MS} ms of SQL (matches + page)",
                "figure": f"«{selective['word']}»: median {selective['median_ms']:.1f} ms, "
                f"p95 {selective['p95_ms']:.1f} ms at {args.scale:,}",
                "met": selective["median_ms"] <= SEARCH_SELECTIVE_MS and args.scale >= 100_000,
            },
        ]
    if "downloads" in results:
        growth = max(row["rss_growth_mb"] for row in results["downloads"].values())
        targets.append(
            {
                "target": "download RSS growth < 50 MB",
                "figure": f"worst {growth:.1f} MB",
                "met": growth < DOWNLOAD_GROWTH_MB,
            }
        )
    if "cold" in results:
        targets += [
            {"target": target, "figure": figure, "met": met} for target, figure, met in cold.judge(results["cold"])
        ]
    if "opendata" in results:
        from . import opendata

        targets.append(opendata.target(results["opendata"]))
    return targets


def times(factor):
    return "no response within the window" if factor == math.inf else f"{factor:.2f}x"


def machine(args):
    from django.db import connection

    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    memory = int(re.search(r"MemTotal:\s+(\d+) kB", Path("/proc/meminfo").read_text()).group(1))
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        postgres = cursor.fetchone()[0]
    wrk_version = subprocess.run(["wrk", "-v"], capture_output=True, text=True).stdout.split("\n")[0].strip()
    import django
    import gunicorn

    commit = subprocess.run(
        ["git", "describe", "--always", "--dirty"], cwd=ROOT, capture_output=True, text=True
    ).stdout.strip()
    return {
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "commit": commit or "unknown",
        "cpu": cpu,
        "cores": os.cpu_count(),
        "ram_gb": round(memory / 1024**2, 1),
        "postgresql": postgres,
        "kernel": platform.release(),
        "python": platform.python_version(),
        "django": django.get_version(),
        "gunicorn": gunicorn.__version__,
        "wrk": wrk_version,
    }


def method(args):
    return {
        "workers": args.workers,
        "connections": args.connections,
        "reps": args.reps,
        "duration_s": args.duration,
        "warmup_s": args.warmup,
        "held_s": args.held,
        "rate": args.rate,
        "quick": args.quick,
        "notes": [
            "Portal: gunicorn with gunicorn.conf.py (threaded workers, one per core, 4 threads each), DEBUG=false, "
            "WhiteNoise, request log on, the cache and counters in a Redis shared by the workers (as deployed; "
            "its database emptied when the run starts), API throttles raised out of the way.",
            f"Floor: bench/floor.py, one SQL query building the page's JSON, bare WSGI on gunicorn with the same "
            f"{args.workers} workers.",
            f"Throughput: wrk -t1 -c{args.connections}, a warm-up pass, then {args.reps} interleaved repetitions of "
            f"{args.duration:g} s per "
            "target (longer for a target whose single request is slow: 2 x its time x connections / workers), "
            "medians; after each "
            "run the database is let go quiet. Load generator, servers and PostgreSQL share the machine's cores.",
            "Ratios: each API figure over the floor of the same page size, shape and count policy (page-number "
            "lists: the count remembered until a project changes, as the API does for anonymous callers; sync: no "
            "count); detail, filters and searches over the 50-row floor with its count remembered. The API count "
            "policies section also sets the page-number lists against the floor counting on every request (the "
            "comparison before issue 18).",
            "Held load with edits: bench/edits.py, the held load's generator on a Zipf mix of ranked catalogue URLs "
            "(bench/cold.py's filter combinations) while a staff editor saves a published project's title through "
            "the staff form every 2 s; visibility from the save's answer until the project page and a catalogue "
            "search show the new title.",
            "Held load: bench/load.py, open loop at a fixed rate, latency from each request's scheduled time (no "
            "coordinated omission).",
            "Memory: VmRSS of every worker from /proc, sampled every 20 ms; growth = peak minus the value before, "
            "worst worker.",
            "SQL: EXPLAIN (ANALYZE, BUFFERS) of the queries the catalogue search page runs, in its settings: for "
            "the words alone, the matches with their relevance up to the bound + 1; narrowed by a filter (the year "
            "that narrows least within the bound), as projects.facets runs them: the planner's estimate (planning "
            "time only), the words alone up to the bound + 1 when they may be within it, the relevance of the "
            "filter's projects (in chunks when many), or the matches as a set; then the 20-row page (by id when "
            "ordered by the index, newest first in SQL otherwise); total = all of them.",
        ],
    }


def ms(value):
    return f"{value:,.1f}" if value is not None else "–"


def markdown(results):
    m, d = results["machine"], results["dataset"]
    rows = d["rows"]
    parts = results.get("parts")
    lines = [
        "# FICOSEC portal benchmark",
        "",
        f"{m['date']} · commit {m.get('commit', 'unknown')} · {m['cpu']}, {m['cores']} cores, {m['ram_gb']} GB RAM · "
        f"PostgreSQL {m['postgresql']} · "
        f"Python {m['python']}, Django {m['django']}, gunicorn {m['gunicorn']} · {m['wrk']}",
        "",
        f"Data set: {d['scale']:,} projects{f' ({published:,} published)' if (published := d.get('published')) else ''}"
        f", {rows['projects_organization']:,} organizations, "
        f"{rows['projects_participation']:,} participations, {rows['projects_indicator']:,} indicators, "
        f"{rows['projects_measurement']:,} measurements (seed {d['seed']})."
        + (
            f" Search words: «{d['selective_word']}» in {d['selective_matches']:,} published projects, "
            f"«{d['common_word']}» in {d['common_matches']:,}."
            if "selective_word" in d
            else ""
        ),
        *(["", f"Partial run: {', '.join(parts)} only (`--only`)."] if parts and len(parts) < len(PARTS) else []),
        "",
        "## Targets",
        "",
        "| target | figure | met |",
        "|---|---|---|",
    ]
    lines += [f"| {t['target']} | {t['figure']} | {'met' if t['met'] else '**not met**'} |" for t in results["targets"]]
    if "throughput" in results:
        lines += throughput_section(results["throughput"])
    if "held" in results:
        lines += held_section(results["held"])
    if "edits" in results:
        from . import edits

        lines += ["", edits.markdown(results["edits"])]
    if "sql" in results:
        lines += sql_section(results["sql"])
    if "downloads" in results:
        lines += downloads_section(results["downloads"])
    if "cold" in results:
        lines += ["", cold.markdown(results["cold"])]
    if "peak_worker_rss_mb" in results:
        lines += ["", f"Peak worker RSS over the whole run: {results['peak_worker_rss_mb']:.1f} MB."]
    if "floor_check" in results:
        lines += ["", f"Floor check: {results['floor_check']}."]
    if "money" in results:
        lines += money_section(results)
    if "opendata" in results:
        from . import opendata

        lines += ["", *opendata.report(results["opendata"])]
    lines += ["## Method", ""]
    lines += [f"- {note}" for note in results["method"]["notes"]]
    return "\n".join(lines) + "\n"


def throughput_section(table):
    lines = [
        "",
        "## Throughput (medians)",
        "",
        "| target | req/s | p50 ms | p99 ms | rows/s | × floor | KB/response | errors |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for row in table.values():
        lines.append(
            f"| {row['label']} | {row['rps']:,.1f} | {ms(row['p50_ms'])} | {ms(row['p99_ms'])} | "
            f"{format(round(row['rows_per_s']), ',') if 'rows_per_s' in row else ''} | "
            f"{format(row['floor_ratio'], '.2f') if 'floor_ratio' in row else ''} | "
            f"{row['bytes_per_response'] / 1024:,.1f} | {row['errors']} |"
        )
    return lines + count_policy_section(table)


def count_policy_section(table):
    """Issue 18: the API's page-number lists against the floor under each count policy."""
    lines = [
        "",
        "## API count policies (issue 18)",
        "",
        "The API counts a public list once and remembers the total until any project changes "
        "(projects.api.rendering.public_count); the floor can count on every request (the earlier comparison) or "
        "remember its total the same way (`count=cached`: one query checks the newest `updated_at` and counts only "
        "when it moved). The API's page-number lists are judged against the floor with the same policy.",
        "",
        "| API list | API req/s | floor, count cached: req/s | ratio | floor, count every request: req/s | ratio |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for size in (50, 1000):
        cached, counted = table.get(f"floor_{size}_cached"), table.get(f"floor_{size}")
        for page in ("first", "last"):
            api = table.get(f"api_list_{size}_{page}")
            if not (api and cached and counted):
                continue
            lines.append(
                f"| {api['label'].removeprefix('API list, ')} | {api['rps']:,.1f} | {cached['rps']:,.1f} | "
                f"{ratio(api['rps'], cached['rps'])} | {counted['rps']:,.1f} | {ratio(api['rps'], counted['rps'])} |"
            )
    return lines


def ratio(part, whole):
    return f"{part / whole:.0%}" if whole else "–"


def held_section(held):
    lat = held["latency_ms"]
    return [
        "",
        "## Held load on /proyectos/",
        "",
        f"{held['rate']:g} req/s for {held['duration_s']:g} s after {held['warmup_s']:g} s of warm-up, open loop: "
        f"{held['completed']:,} of {held['due']:,} requests completed, {held['errors']} errors "
        f"{held['error_kinds'] or ''}; "
        f"achieved {held['achieved_rate']} req/s.",
        "",
        "| p50 | p90 | p95 | p99 | max | worker RSS peak |",
        "|---:|---:|---:|---:|---:|---:|",
        f"| {ms(lat['p50'])} | {ms(lat['p90'])} | {ms(lat['p95'])} | {ms(lat['p99'])} | {ms(lat['max'])} | "
        f"{held['rss_peak_mb']} MB |",
    ]


def sql_section(sql):
    lines = [
        "",
        "## Search SQL (EXPLAIN ANALYZE, planning + execution)",
        "",
        "| query | word | median ms | p95 ms | GIN index |",
        "|---|---|---:|---:|---|",
    ]
    for name, row in sql.items():
        lines.append(
            f"| {name.split('_', 1)[1]} | {row['word']} | {ms(row['median_ms'])} | {ms(row['p95_ms'])} | "
            f"{'yes' if row['uses_gin_index'] else 'no'} |"
        )
    return lines


def downloads_section(downloads):
    lines = [
        "",
        "## Downloads and worker memory",
        "",
        "| download | rows | MB | seconds | rows/s | RSS before | RSS peak | growth |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for row in downloads.values():
        lines.append(
            f"| `{row['url']}` | {row['rows']:,} | {row['bytes'] / 2**20:,.1f} | {row['seconds']} | "
            f"{row['rows_per_s']:,} | "
            f"{row['rss_before_mb']} MB | {row['rss_peak_mb']} MB | {row['rss_growth_mb']} MB |"
        )
    return lines


def write_results(results, args):
    text = markdown(results)
    payload = json.dumps(results, indent=2, ensure_ascii=False, default=str)
    if args.quick:
        names = ["quick.md.tmp"]
        (RESULTS / "quick.json.tmp").write_text(payload)
    elif args.partial:  # some parts only: a file of its own, never over the whole run's latest.*
        stem = f"{datetime.now(timezone.utc).strftime('%Y-%m-%d-%H%M')}-{args.scale}-{'-'.join(args.only)}"
        names = [f"{stem}.md"]
        (RESULTS / f"{stem}.json").write_text(payload)
    else:
        stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d-%H%M")
        names = ["latest.md", f"{stamp}-{args.scale}.md"]
        for name in ("latest.json", f"{stamp}-{args.scale}.json"):
            (RESULTS / name).write_text(payload)
    for name in names:
        (RESULTS / name).write_text(text)
    print(text)
    say(f"results in bench/results/{names[0]}")


if __name__ == "__main__":
    main()
