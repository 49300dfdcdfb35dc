"""Cold pages (issue 18): every public page kind as a visitor meets it after any change, with no cache at all.

At least 1,000 distinct public URLs are drawn from the benchmark database's real values (catalogue filter
combinations with Zipf weights over the values and 1 to 3 filters, searches, project, axis, organization and
municipality pages, home, money, governance, evidence and data pages, filtered CSV downloads). A gunicorn as
`make serve` runs it (production settings, one threaded worker per core) with Django's dummy cache
(`CACHE_BACKEND=dummy`): nothing is remembered between requests, so every request is computed from the database.
Each URL is requested once, one at a time; latency per page kind (p50, p95, p99, max) and the first byte of CSV
downloads are reported.

`python -m bench.cold [--urls N]` runs it alone against the benchmark database (seeded by `make bench`).
"""

import argparse
import http.client
import os
import random
import statistics
import time
from urllib.parse import quote, urlencode

URLS = 1000
SEED = 18
CSV_FIRST_BYTE_MS = 100
P95_MS, P99_MS = 50, 100


def zipf(rng, items, s=1.1):
    """One item, the first ones far more often (as real visitors pick popular filters)."""
    weights = [1 / (rank**s) for rank in range(1, len(items) + 1)]
    return rng.choices(items, weights)[0]


def values():
    """The real filter values of the benchmark database, most used first."""
    from django.db.models import Count

    from axes.models import Axis, Line
    from projects.filters import facet_years
    from projects.models import Municipality, Organization, Population, Project, Region

    published = Project.objects.published()
    return {
        "axis": list(Axis.objects.order_by("number").values_list("slug", flat=True)),
        "line": list(Line.objects.annotate(n=Count("projects")).order_by("-n", "pk").values_list("slug", flat=True)),
        "municipality": list(
            Municipality.objects.annotate(n=Count("projects")).order_by("-n", "pk").values_list("inegi_code", flat=True)
        ),
        "region": list(Region.objects.order_by("order").values_list("slug", flat=True)),
        "organization": list(
            Organization.objects.annotate(n=Count("participations"))
            .order_by("-n", "pk")
            .values_list("slug", flat=True)[:500]
        ),
        "year": [str(year) for year in reversed(facet_years())],
        "population": [value for value, _label in Population.choices],
        "status": [value for value, _label in Project.Status.choices],
        "prevention_level": [value for value, _label in Project.PreventionLevel.choices],
        "evidence_level": [value for value, _label in Project.Evidence.choices],
        "q": ["ajedrez", "prevención", "jóvenes", "violencia familiar", "escuelas", "deporte", "mediación", "policía"],
        "projects": list(published.order_by("pk").values_list("slug", flat=True)),
        "organizations": list(
            Organization.objects.filter(participations__project__in=published.values("pk"))
            .distinct()
            .order_by("slug")
            .values_list("slug", flat=True)
        ),
        "municipalities": list(Municipality.objects.order_by("pk").values_list("slug", flat=True)),
    }


# Filter dimensions as visitors use them (most popular first).
DIMENSIONS = [
    "municipality",
    "axis",
    "year",
    "q",
    "region",
    "line",
    "population",
    "organization",
    "status",
    "prevention_level",
    "evidence_level",
]


def catalogue_query(rng, real):
    chosen = {}
    for _ in range(rng.choices([1, 2, 3], [50, 35, 15])[0]):
        dimension = zipf(rng, DIMENSIONS, s=0.8)
        chosen[dimension] = zipf(rng, real[dimension])
    if rng.random() < 0.1:
        chosen["page"] = str(rng.randint(2, 5))
    return "?" + urlencode(chosen, quote_via=quote)


def url_set(count=URLS, seed=SEED):
    """(kind, path) for `count` distinct public URLs, deterministic for a seed."""
    rng = random.Random(seed)
    real = values()
    fixed = [
        ("home", "/"),
        ("catalogue", "/proyectos/"),
        ("axes", "/ejes/"),
        ("organizations", "/organizaciones/"),
        ("money", "/dinero/"),
        ("governance", "/gobernanza/"),
        ("evidence", "/evidencia/"),
        ("open data", "/datos-abiertos/"),
    ]
    fixed += [("axis", f"/ejes/{slug}/") for slug in real["axis"]]
    # Pages of single records: a quarter of the set, drawn with the seed; the rest are catalogue URLs.
    share = max(1, count // 12)
    fixed += [
        ("project", f"/proyectos/{slug}/") for slug in rng.sample(real["projects"], min(share, len(real["projects"])))
    ]
    fixed += [
        ("organization", f"/organizaciones/{slug}/")
        for slug in rng.sample(real["organizations"], min(share, len(real["organizations"])))
    ]
    fixed += [("municipality", f"/municipios/{slug}/") for slug in rng.sample(real["municipalities"], min(share, 67))]
    urls, seen = [], set()
    for kind, path in fixed:
        urls.append((kind, path))
        seen.add(path)
    downloads, attempts = 0, 0
    while len(urls) < count and attempts < 100 * count:  # bounded: fewer distinct URLs may exist than asked for
        attempts += 1
        query = catalogue_query(rng, real)
        if downloads < max(5, count // 20) and rng.random() < 0.06:
            kind, path = "CSV download (first byte)", "/proyectos/descarga.csv" + query.replace("&page=", "&p=")
            downloads += 1
        elif rng.random() < 0.05:
            kind, path = "organizations (search)", "/organizaciones/?" + urlencode({"q": zipf(rng, real["q"])})
        else:
            kind, path = "catalogue (filters)", "/proyectos/" + query
        if path not in seen:
            seen.add(path)
            urls.append((kind, path))
    rng.shuffle(urls)
    return urls


def timed_get(port, path, first_byte):
    """Milliseconds to the whole response (or to its first byte) and the status, on a new connection each time. A
    download cut before its end (a server that gives up while streaming) keeps its first-byte time and counts as an
    error (status 0)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    started, elapsed = time.perf_counter(), None
    try:
        connection.request("GET", path, headers={"Accept-Language": "es-MX"})
        response = connection.getresponse()
        response.read(1) if first_byte else response.read()
        elapsed, status = time.perf_counter() - started, response.status
        response.read()  # a download is read to its end before the next request, so the worker is free again
    except (http.client.HTTPException, OSError):  # the answer was cut: an error
        status = 0
    finally:
        connection.close()
    if elapsed is None:  # no first byte: timed to the failure
        elapsed = time.perf_counter() - started
    return elapsed * 1000, status


def percentile(values, share):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))]


def run(base_port, urls):
    """{kind: {count, p50, p95, p99, max, errors}} plus "all pages", for one request per URL."""
    by_kind, errors, slowest = {}, [], []
    for kind, path in urls:
        elapsed, status = timed_get(base_port, path, kind.startswith("CSV"))
        by_kind.setdefault(kind, []).append(elapsed)
        slowest.append((elapsed, path))
        if status != 200:
            errors.append((status, path))
    pages = [ms for kind, times in by_kind.items() if not kind.startswith("CSV") for ms in times]
    summary = {kind: stats(times) for kind, times in sorted(by_kind.items())}
    summary["all pages"] = stats(pages)
    return {
        "kinds": summary,
        "errors": errors[:20],
        "error_count": len(errors),
        "slowest": [{"ms": round(ms, 1), "path": path} for ms, path in sorted(slowest, reverse=True)[:15]],
        "urls": len(urls),
    }


def stats(times):
    return {
        "count": len(times),
        "p50": round(statistics.median(times), 1),
        "p95": round(percentile(times, 0.95), 1),
        "p99": round(percentile(times, 0.99), 1),
        "max": round(max(times), 1),
    }


def judge(cold):
    pages = cold["kinds"]["all pages"]
    csv = cold["kinds"].get("CSV download (first byte)")
    return [
        (
            f"cold public pages (no cache, {pages['count']:,} distinct URLs): p95 <= {P95_MS} ms, p99 <= {P99_MS} ms",
            f"p95 {pages['p95']} ms, p99 {pages['p99']} ms, {cold['error_count']} errors",
            pages["p95"] <= P95_MS and pages["p99"] <= P99_MS and not cold["error_count"],
        ),
        (
            f"first byte of a filtered CSV download <= {CSV_FIRST_BYTE_MS} ms (p95)",
            f"p95 {csv['p95']} ms" if csv else "not measured",
            bool(csv) and csv["p95"] <= CSV_FIRST_BYTE_MS,
        ),
    ]


def markdown(cold):
    lines = [
        "## Cold pages (no cache)",
        "",
        f"{cold['urls']:,} distinct public URLs drawn from the data's real values, each requested once, one at a time,"
        " against the portal with Django's dummy cache (nothing remembered between requests). Errors: "
        f"{cold['error_count']}.",
        "",
        "| page kind | URLs | p50 ms | p95 ms | p99 ms | max ms |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for kind, row in cold["kinds"].items():
        lines.append(f"| {kind} | {row['count']} | {row['p50']} | {row['p95']} | {row['p99']} | {row['max']} |")
    lines += ["", "Slowest URLs:", ""]
    lines += [f"- {row['ms']} ms `{row['path']}`" for row in cold["slowest"][:10]]
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", default="ficosec_bench_data")
    parser.add_argument("--urls", type=int, default=URLS)
    parser.add_argument("--port", type=int, default=8110)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    args = parser.parse_args(argv)
    from . import __main__ as bench

    env = bench.server_environment(bench.bench_database_url(args.database), args.workers)
    os.environ.update(env)
    import django

    django.setup()
    bench.manage(env, "collectstatic", "--noinput", "-v", "0")
    urls = url_set(args.urls)
    with bench.server("cold", [str(bench.GUNICORN), "-c", "gunicorn.conf.py"], cold_env(env), args.port, "/healthz"):
        result = run(args.port, urls)
    print(markdown(result))
    for label, figure, met in judge(result):
        print(f"- {label}: {figure} — {'met' if met else 'NOT MET'}")


def cold_env(env):
    return {**env, "CACHE_BACKEND": "dummy"}


if __name__ == "__main__":
    main()
