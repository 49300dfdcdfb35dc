"""Benchmark of the open-data files at scale: time and memory to generate the IATI activity file and the 360Giving
package of every published project, as a worker (or `manage.py build_open_data`) does.

    python -m bench.opendata                      # 100,000 projects in ficosec_bench_opendata (seeded once)
    python -m bench.opendata --scale 5000 --database ficosec_bench_opendata_quick

Each file is generated in this process and hashed, never held whole; a thread samples this process's resident
memory every 20 ms. Memory must not grow with the number of projects (flat: the projects are read 500 at a time).
Writes bench/results/opendata-<scale>.md and .json.
"""

import argparse
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


def rss_mb():
    status = Path("/proc/self/status").read_text()
    return int(re.search(r"VmRSS:\s+(\d+) kB", status).group(1)) / 1024


def measure(chunks):
    """(seconds, bytes, lines, rss before, rss peak) of consuming a generator of chunks."""
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


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m bench.opendata")
    parser.add_argument("--scale", type=int, default=100_000)
    parser.add_argument("--database", default="ficosec_bench_opendata")
    args = parser.parse_args(argv)
    url = bench_database_url(args.database)
    env = server_environment(url, 1)
    create_database(url)
    manage(env, "migrate", "--noinput", "-v", "0")
    os.environ.update(env)
    import django

    django.setup()
    from projects import figures
    from projects.models import Project
    from projects.opendata import giving360, iati

    from . import seed

    seed.ensure(args.scale, log=say)
    stamp = figures.stamp()
    published = Project.objects.published().count()
    results = {"scale": args.scale, "published": published, "files": {}}
    # Warm-up on a few projects, as a worker that has served before: modules, URL resolver and translations loaded.
    sample = Project.objects.filter(pk__in=list(Project.objects.published().values_list("pk", flat=True)[:20]))
    measure(iati.activities_chunks(stamp, sample))
    measure(giving360.json_chunks(sample))
    for name, chunks, frame in (
        ("iati-actividades.xml", iati.activities_chunks(stamp), 3),  # one activity per line, 3 framing lines
        ("360giving.json", giving360.json_chunks(), 2),  # one grant per line, 2 framing lines
    ):
        say(f"generating {name} of {published:,} published projects")
        seconds, size, lines, before, peak = measure(chunks)
        rows = lines - frame
        results["files"][name] = {
            "rows": rows,
            "mb": round(size / 1e6, 1),
            "seconds": round(seconds, 1),
            "rows_per_s": round(rows / seconds),
            "rss_before_mb": round(before, 1),
            "rss_peak_mb": round(peak, 1),
            "rss_growth_mb": round(peak - before, 1),
        }
        say(f"{name}: {results['files'][name]}")
    results["when"] = datetime.now(timezone.utc).isoformat(timespec="seconds")
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"opendata-{args.scale}.json").write_text(json.dumps(results, indent=2))
    lines = [
        f"# Open-data files at {args.scale:,} projects ({published:,} published), {results['when']}",
        "",
        "| file | rows | MB | seconds | rows/s | RSS before | RSS peak | growth |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, row in results["files"].items():
        lines.append(
            f"| `{name}` | {row['rows']:,} | {row['mb']} | {row['seconds']} | {row['rows_per_s']:,} | "
            f"{row['rss_before_mb']} MB | {row['rss_peak_mb']} MB | {row['rss_growth_mb']} MB |"
        )
    (RESULTS / f"opendata-{args.scale}.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    sys.exit(main())
