"""The floor: the API's project page served as cheaply as this machine can, to measure the API against.

A bare WSGI application (no Django, no DRF) that answers `GET /?page=P&page_size=N` with the same projects, in the
same order and with the same fields as `GET /api/v1/projects/?page=P&page_size=N` (see
projects.serializers.project_rows), built as one JSON document by ONE SQL query, and handed to the socket as
PostgreSQL wrote it. `count=0` leaves out the total (the shape of the `sync` endpoint, which does not count).

The total has two policies (issue 18), so that the API can be compared with the floor doing the same work:
`count=cached` counts as the API does for anonymous callers (projects.api.rendering.public_count): the total is
remembered in the worker until any project changes (the newest `updated_at`, figures.stamp()), and the same one
query checks the stamp and counts only when it moved; without it (the default) every request counts. Serve it with gunicorn, as the benchmark does: `gunicorn -w 2 -b 127.0.0.1:8101 bench.floor:app`; the database
is DATABASE_URL's.
"""

import os
from urllib.parse import parse_qs

import psycopg2

# An instant as Python's datetime.isoformat() writes it in UTC (microseconds only when there are some), so that
# the floor's bytes are the API's.
ISO = """(to_char({0} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS')
          || CASE WHEN extract(microseconds FROM {0})::bigint %% 1000000 <> 0 THEN to_char({0} AT TIME ZONE 'UTC', '.US') ELSE '' END
          || '+00:00')"""

# projects.privacy's small-cell rule (counts of people from 1 to the threshold - 1 read "menos de 10"), in SQL.
SMALL = int(os.environ.get("SMALL_CELL_THRESHOLD", "10"))
PEOPLE = f"CASE WHEN {{0}} > 0 AND {{0}} < {SMALL} THEN to_json('menos de {SMALL}'::text) ELSE to_json({{0}}) END"

# projects.models.sector_expression, in SQL.
SECTOR = """CASE WHEN o.is_ficosec THEN 'ficosec'
                 WHEN o.kind IN ('osc', 'academia') THEN 'civil_society'
                 WHEN o.kind IN ('gov_municipal', 'gov_state', 'gov_federal', 'autonomous') THEN 'government'
                 WHEN o.kind IN ('company', 'foundation') THEN 'private'
                 WHEN o.kind = 'international' THEN 'international' END"""

QUERY = f"""
WITH {{total}}, page AS (
    SELECT id, published_at FROM projects_project
     WHERE publication_state = 'published'
     ORDER BY published_at DESC, id DESC
     LIMIT %(limit)s OFFSET %(offset)s
), partner AS (
    SELECT pa.project_id, pa.id, pa.role, pa.amount, pa.contribution_kind, o.slug, o.name, {SECTOR} AS sector
      FROM page JOIN projects_participation pa ON pa.project_id = page.id JOIN projects_organization o ON o.id = pa.organization_id
), partners AS (
    SELECT project_id, json_agg(json_build_object('organization', slug, 'name', name, 'role', role, 'amount', amount::text,
                                                  'contribution_kind', contribution_kind, 'sector', sector)
                                ORDER BY role, amount DESC, id) AS list
      FROM partner GROUP BY project_id
), sectors AS (
    SELECT project_id, json_agg(json_build_object('sector', sector, 'amount', amount::text) ORDER BY amount DESC) AS list
      FROM (SELECT project_id, sector, sum(amount) AS amount FROM partner GROUP BY project_id, sector) by_sector
     GROUP BY project_id
), indicators AS (
    SELECT i.project_id, json_agg(json_build_object('id', i.id, 'name', i.name, 'unit', i.unit, 'baseline', i.baseline::text,
                                                    'target', i.target::text, 'direction', i.direction, 'frequency', i.frequency, 'unit_kind', i.unit_kind,
                                                    'latest_value', CASE WHEN i.unit_kind = 'people' AND latest.value > 0 AND latest.value < {SMALL}
                                                                         THEN 'menos de {SMALL}' ELSE latest.value::text END,
                                                    'latest_date', latest.date)
                                  ORDER BY i."order", i.id) AS list
      FROM page JOIN projects_indicator i ON i.project_id = page.id
      LEFT JOIN LATERAL (SELECT value, date FROM projects_measurement WHERE indicator_id = i.id ORDER BY date DESC LIMIT 1) latest ON true
     GROUP BY i.project_id
), lines AS (
    SELECT pl.project_id, array_agg(l.slug ORDER BY l.number) AS list
      FROM page JOIN projects_project_lines pl ON pl.project_id = page.id JOIN axes_line l ON l.id = pl.line_id
     GROUP BY pl.project_id
), places AS (
    SELECT pm.project_id, array_agg(m.inegi_code ORDER BY m.inegi_code) AS codes,
           array_remove(array_agg(DISTINCT r.slug ORDER BY r.slug), NULL) AS regions
      FROM page JOIN projects_project_municipalities pm ON pm.project_id = page.id
      JOIN projects_municipality m ON m.id = pm.municipality_id LEFT JOIN projects_region r ON r.id = m.region_id
     GROUP BY pm.project_id
), item AS (
    SELECT page.published_at, page.id, json_build_object(
        'code', p.code, 'slug', p.slug, 'title', p.title, 'summary', p.summary, 'url', '/proyectos/' || p.slug || '/',
        'axis', a.slug, 'lines', COALESCE(lines.list, '{{}}'), 'municipalities', COALESCE(places.codes, '{{}}'),
        'regions', COALESCE(places.regions, '{{}}'),
        'status', p.status, 'publication_state', p.publication_state, 'prevention_level', p.prevention_level,
        'populations', p.populations, 'planned_start', p.planned_start, 'planned_end', p.planned_end,
        'actual_start', p.actual_start, 'actual_end', p.actual_end,
        'beneficiaries_target', {PEOPLE.format("p.beneficiaries_target")},
        'beneficiaries_reached', {PEOPLE.format("p.beneficiaries_reached")},
        'evidence_level', p.evidence_level, 'evaluation_design', p.evaluation_design, 'award_type', p.award_type,
        'call_name', p.call_name, 'conflict_of_interest', p.conflict_of_interest,
        'total_amount', p.total_amount::text, 'ficosec_amount', p.ficosec_amount::text,
        'leverage', CASE WHEN p.ficosec_amount <> 0 THEN round((p.total_amount - p.ficosec_amount) / p.ficosec_amount, 4)::text END,
        'money_by_sector', COALESCE(sectors.list, '[]'), 'partners', COALESCE(partners.list, '[]'),
        'indicators', COALESCE(indicators.list, '[]'),
        'published_at', {ISO.format("p.published_at")}, 'updated_at', {ISO.format("p.updated_at")}, 'version', p.version
    ) AS row
      FROM page JOIN projects_project p ON p.id = page.id LEFT JOIN axes_axis a ON a.id = p.axis_id
      LEFT JOIN partners ON partners.project_id = p.id LEFT JOIN sectors ON sectors.project_id = p.id
      LEFT JOIN indicators ON indicators.project_id = p.id LEFT JOIN lines ON lines.project_id = p.id
      LEFT JOIN places ON places.project_id = p.id
)
SELECT json_build_object(
    {{head}},
    'previous', %(previous)s,
    'results', COALESCE((SELECT json_agg(row ORDER BY published_at DESC, id DESC) FROM item), '[]')
)::text{{extra}}
"""
# The page-number shape (count, and a next link while pages remain) and the sync shape (no count, so the unused
# `total` is never computed; a next link when the page is full).
PUBLISHED = "SELECT count(*) FROM projects_project WHERE publication_state = 'published'"
HEAD = (
    "'count', (SELECT n FROM total), 'next', CASE WHEN %(offset)s + %(limit)s < (SELECT n FROM total) THEN %(next)s END"
)


def shape(total, head, extra=""):
    return QUERY.replace("{total}", total).replace("{head}", head).replace("{extra}", extra)


COUNTED = shape(f"total AS ({PUBLISHED.replace('count(*)', 'count(*) AS n')})", HEAD)
UNCOUNTED = shape(
    "total AS (SELECT 0 AS n)", "'next', CASE WHEN (SELECT count(*) FROM item) = %(limit)s THEN %(next)s END"
)
# The remembered total while the stamp has not moved (PostgreSQL runs the count's subplan only when CASE reaches
# it), and the stamp and total returned beside the page, for the worker to remember.
CACHED = shape(
    f"""fresh AS (SELECT max(updated_at) AS stamp FROM projects_project),
total AS (SELECT CASE WHEN (SELECT stamp FROM fresh) IS NOT DISTINCT FROM %(stamp)s::timestamptz THEN %(known)s::bigint
                      ELSE ({PUBLISHED}) END AS n)""",
    HEAD,
    ", (SELECT stamp FROM fresh), (SELECT n FROM total)",
)

_connection = None
_remembered = {"stamp": None, "known": None}  # this worker's cached total (count=cached)


def connection():
    """One connection per worker process, opened on its first request (after gunicorn forks)."""
    global _connection
    if _connection is None or _connection.closed:
        _connection = psycopg2.connect(os.environ["DATABASE_URL"])
        _connection.autocommit = True
    return _connection


def number(params, name, default, highest):
    try:
        value = int(params.get(name, [default])[0])
    except ValueError:
        return None
    return value if 1 <= value <= highest else None


def app(environ, start_response):
    params = parse_qs(environ.get("QUERY_STRING", ""))
    page, size = number(params, "page", 1, 10**9), number(params, "page_size", 50, 1000)
    if page is None or size is None:
        start_response("400 Bad Request", [("Content-Type", "text/plain")])
        return [b"page and page_size must be positive integers (page_size at most 1000)\n"]
    base = f"http://{environ.get('HTTP_HOST', 'localhost')}/?page_size={size}&page="
    values = {
        "limit": size,
        "offset": (page - 1) * size,
        "next": f"{base}{page + 1}",
        "previous": f"{base}{page - 1}" if page > 1 else None,
    }
    policy = params.get("count", [""])[0]
    with connection().cursor() as cursor:
        if policy == "cached":
            cursor.execute(CACHED, values | _remembered)
            body, _remembered["stamp"], _remembered["known"] = cursor.fetchone()
            body = body.encode()
        else:
            cursor.execute(UNCOUNTED if policy == "0" else COUNTED, values)
            body = cursor.fetchone()[0].encode()
    start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return [body]
