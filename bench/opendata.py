"""Benchmark of the open-data files at scale: time and memory to generate the IATI activity file and the 360Giving
package of every published project, as a worker (or `manage.py build_open_data`) does.

    python -m bench.opendata                      # 100,000 projects in ficosec_bench_opendata (seeded once)
    python -m bench.opendata --scale 5000 --database ficosec_bench_opendata_quick
    python -m bench.opendata --database ficosec_bench_data --read-only   # a database seeded by `make bench`

`make bench` calls `measure` after its other measurements and reports the same table with the issue's target.

Each file is generated in this process and hashed, never held whole; a thread samples this process's resident
memory every 20 ms. After a warm-up on 20 projects, each file is generated for the first few projects (a twentieth,
at least 5,000: ten chunks of projects, so that the process reaches its working size), then for all of them, each run
starting from a full garbage collection. The issue's target is that memory does not grow with the number of projects:
the peak over all of them must be no more than GROWTH_TOLERANCE_MB above the peak over the few, and all of them must
be at least ten times the few (about 100,000 projects), so that a leak of a few hundred bytes per project would show.
Writes bench/results/opendata-<scale>.md and .json.
"""

import argparse
import gc
import hashlib
import json
import os
import re
import sys
import threading
import time
from datetime import datetime, timezone
from pathlib import Path

from .__main__ import RESULTS, bench_database_url, create_database, manage, say, server_environment

GROWTH_TOLERANCE_MB = 10  # noise: the allocator's high-water mark moves with the biggest chunk of projects seen
FEW_SHARE, FEW_AT_LEAST = 20, 5000


def rss_mb():
    status = Path("/proc/self/status").read_text()
    return int(re.search(r"VmRSS:\s+(\d+) kB", status).group(1)) / 1024


def consume(chunks):
    """(seconds, bytes, lines, rss before, rss peak) of consuming a generator of chunks, from a collected heap."""
    gc.collect()
    peak, running = [rss_mb()], True
    before = peak[0]

    def sample():
        while running:
            peak[0] = max(peak[0], rss_mb())
            time.sleep(0.02)

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    started = time.perf_counter()
    hasher, size, lines = hashlib.sha256(), 0, 0
    for chunk in chunks:
        data = chunk if isinstance(chunk, bytes) else chunk.encode("utf-8")
        hasher.update(data)
        size += len(data)
        lines += data.count(b"\n")
    seconds = time.perf_counter() - started
    running = False
    thread.join()
    return seconds, size, lines, before, max(peak[0], rss_mb())


def measure(log=say):
    """Generate both files of the published projects in this process (Django set up on a seeded database) and return
    {published, few, load_average, files: {name: figures}}; read-only."""
    from projects import figures
    from projects.opendata import giving360, iati, sources

    stamp = figures.stamp()
    published = sources.published_projects().count()
    few = min(published, max(FEW_AT_LEAST, published // FEW_SHARE))
    load = [round(x, 1) for x in os.getloadavg()]
    files = {  # name: (chunks of the file of `projects`, or of all when None; lines around the rows)
        "iati-actividades.xml": (lambda projects=None: iati.activities_chunks(stamp, projects), 3),
        "360giving.json": (giving360.json_chunks, 2),
    }
    # Warm-up on a few projects, as a worker that has served before: modules, URL resolver and translations loaded.
    for chunks, _frame in files.values():
        consume(chunks(sources.published_projects()[:20]))
    result = {"published": published, "few": few, "files": {}}
    for name, (chunks, frame) in files.items():
        log(f"generating {name}: the first {few:,} published projects, then all {published:,}")
        *_, before, peak_few = consume(chunks(sources.published_projects()[:few]))
        seconds, size, lines, _before, peak = consume(chunks())
        rows = lines - frame
        result["files"][name] = {
            "rows": rows,
            "mb": round(size / 1e6, 1),
            "seconds": round(seconds, 1),
            "rows_per_s": round(rows / seconds),
            "rss_before_mb": round(before, 1),
            "rss_peak_few_mb": round(peak_few, 1),
            "rss_peak_mb": round(peak, 1),
            "rss_growth_mb": round(peak - before, 1),
            "rss_growth_beyond_few_mb": round(peak - peak_few, 1),
        }
        log(f"{name}: {result['files'][name]}")
    result["load_average"] = {"start": load, "end": [round(x, 1) for x in os.getloadavg()]}
    return result


def target(result):
    """The issue's target, judged as bench/__main__.py judges the others."""
    files = result["files"]
    worst = max(row["rss_growth_beyond_few_mb"] for row in files.values())
    return {
        "target": "open-data files (IATI, 360Giving): memory does not grow with the number of projects "
        f"(peak over all <= {GROWTH_TOLERANCE_MB} MB above the peak over the first tenth or less)",
        "figure": f"all {result['published']:,} published projects vs the first {result['few']:,}: "
        + ", ".join(f"{name} {row['rss_growth_beyond_few_mb']:+.1f} MB" for name, row in files.items()),
        "met": worst <= GROWTH_TOLERANCE_MB and result["published"] >= 10 * result["few"],
    }


def report(result):
    """The markdown section of the report (bench/results/latest.md and opendata-<scale>.md)."""
    load = result["load_average"]
    lines = [
        "## Open-data files",
        "",
        f"Generated in one process as a worker does, hashed and never held whole, after a warm-up on 20 projects: "
        f"first for the first {result['few']:,} published projects, then for all {result['published']:,}, each run "
        "from a collected heap. "
        f"Load average (1, 5, 15 min) {load['start']} at the start, {load['end']} at the end.",
        "",
        "| file | rows | MB | seconds | rows/s | RSS before | peak, first few | peak, all | growth | "
        "growth beyond the few |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, row in result["files"].items():
        lines.append(
            f"| `{name}` | {row['rows']:,} | {row['mb']} | {row['seconds']} | {row['rows_per_s']:,} | "
            f"{row['rss_before_mb']} MB | {row['rss_peak_few_mb']} MB | {row['rss_peak_mb']} MB | "
            f"{row['rss_growth_mb']} MB | {row['rss_growth_beyond_few_mb']:+.1f} MB |"
        )
    return lines + [""]


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m bench.opendata", description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=int, default=100_000, help="projects in the data set (default 100,000)")
    parser.add_argument("--database", default="ficosec_bench_opendata", help="default ficosec_bench_opendata")
    parser.add_argument(
        "--read-only",
        action="store_true",
        help="measure the database as it is: no create, migrate or seed, and PostgreSQL refuses any write "
        "(default_transaction_read_only); it must already hold --scale projects",
    )
    args = parser.parse_args(argv)
    url = bench_database_url(args.database)
    env = server_environment(url, 1)
    if args.read_only:
        env["PGOPTIONS"] = f"{env.get('PGOPTIONS', '')} -c default_transaction_read_only=on".strip()
    else:
        create_database(url)
        manage(env, "migrate", "--noinput", "-v", "0")
    os.environ.update(env)
    import django

    django.setup()
    from projects.models import Project

    if args.read_only:
        found = Project.objects.count()
        if found != args.scale:
            sys.exit(f"bench.opendata: {args.database} holds {found:,} projects, not {args.scale:,}; nothing measured")
    else:
        from . import seed

        seed.ensure(args.scale, log=say)
    result = {"scale": args.scale, **measure()}
    result["target"] = target(result)
    result["when"] = datetime.now(timezone.utc).isoformat(timespec="seconds")
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"opendata-{args.scale}.json").write_text(json.dumps(result, indent=2))
    lines = [
        f"# Open-data files at {args.scale:,} projects ({result['published']:,} published), {result['when']}",
        "",
        f"Target: {result['target']['target']}: {result['target']['figure']} "
        f"({'met' if result['target']['met'] else 'not met'}).",
        "",
        *report(result)[2:],
    ]
    (RESULTS / f"opendata-{args.scale}.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    sys.exit(main())
