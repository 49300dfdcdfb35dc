"""Performance structure: no N+1 query on any public list page or API list endpoint, and the plans of the hot queries.

The benchmark suite (bench/, `make bench`) measures speed on a big synthetic catalogue; these tests guard the shape
of the work on every run: how many times a request repeats one query, and which index a query can use. The pinned
query counts of single pages live in test_catalogue.py and test_api.py.
"""

import json
import re
from collections import Counter
from contextlib import contextmanager
from datetime import date
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from axes.models import Line
from projects.models import Municipality, Organization, Participation, Project

from .conftest import make_project

pytestmark = pytest.mark.django_db

# --- The N+1 detector -------------------------------------------------------------------------------------------

REPEATS_ALLOWED = 2  # a request may run one query shape twice (e.g. two facet bases); a loop over rows runs it more
LITERALS = [
    (re.compile(r"'(?:[^']|'')*'"), "?"),  # string literals
    (re.compile(r"\b\d+(?:\.\d+)?\b"), "?"),  # numbers (ids, limits, offsets)
    (re.compile(r"\(\s*\?(?:\s*,\s*\?)*\s*\)"), "(?)"),  # IN lists of any length
    (re.compile(r"\s+"), " "),
]


def query_shape(sql):
    """The SQL with its literals normalised: two queries differing only in ids, dates or list lengths share a shape."""
    for pattern, replacement in LITERALS:
        sql = pattern.sub(replacement, sql)
    return sql.strip()


def repeated_shapes(queries, allowed=REPEATS_ALLOWED):
    counts = Counter(query_shape(q["sql"]) for q in queries)
    return {shape: n for shape, n in counts.items() if n > allowed}


@contextmanager
def no_n_plus_one(allowed=REPEATS_ALLOWED):
    """Fail when a query shape runs more than `allowed` times inside the block (one request)."""
    with CaptureQueriesContext(connection) as captured:
        yield captured
    repeated = repeated_shapes(captured.captured_queries, allowed)
    assert not repeated, "N+1 queries:\n" + "\n".join(f"{n} x {shape[:300]}" for shape, n in repeated.items())


def test_the_detector_catches_a_loop_that_queries_per_row(rich_catalogue):
    with pytest.raises(AssertionError, match="N\\+1 queries"):
        with no_n_plus_one():
            [project.axis.slug for project in Project.objects.all()]  # one axis query per project


def test_the_detector_lets_a_single_query_per_list_through(rich_catalogue):
    with no_n_plus_one() as captured:
        [project.axis.slug for project in Project.objects.select_related("axis")]
    assert len(captured) == 1


def test_query_shapes_ignore_ids_texts_and_list_lengths():
    assert query_shape("SELECT * FROM t WHERE id IN (1, 2, 3) AND name = 'Juárez'") == query_shape(
        "SELECT *  FROM t WHERE id IN (7) AND name = 'O''Brien'"
    )
    assert query_shape("SELECT * FROM t WHERE id = 1") != query_shape("SELECT * FROM u WHERE id = 1")


# --- A catalogue with several rows everywhere ---------------------------------------------------------------------


@pytest.fixture
def rich_catalogue(org_a, org_b, ficosec_org):
    """Six published projects, each with three partners, two places, two lines, two indicators with measurements,
    plus a draft: enough rows that a per-row query shows up as repeats."""
    company = Organization.objects.create(
        name="Maquiladora del Norte, S.A. de C.V.", kind="company", rfc="MNO900101AB3"
    )
    places = list(Municipality.objects.filter(inegi_code__in=["08019", "08017", "08021"]))
    lines = list(Line.objects.all())
    projects = []
    for n in range(6):
        project = make_project(
            f"FIC-2024-6{n:02d}", f"Prevención de la violencia juvenil {n}", org_a, "published", ficosec=ficosec_org
        )
        Participation.objects.create(
            project=project, organization=company, role="funder", amount=Decimal(10_000 * (n + 1))
        )
        Participation.objects.create(project=project, organization=org_b, role="ally", amount=Decimal("0"))
        project.municipalities.add(places[n % len(places)])
        project.lines.add(lines[n % len(lines)])
        project.refresh_derived()  # as every path that changes links does (Project.save_edit)
        indicator = project.indicators.create(name="Escuelas con protocolo", unit="escuelas", target=20)
        for month in (3, 6, 9):
            indicator.measurements.create(date=date(2024, month, 28), value=month)
        project.refresh_derived()
        projects.append(project)
    Project.objects.filter(pk=projects[0].pk).update(summary="Clubes de ajedrez para jóvenes de secundaria.")
    make_project("FIC-2024-699", "Borrador de mediación", org_b)
    return projects


PUBLIC_LISTS = [
    "/",
    "/proyectos/",
    "/proyectos/?q=violencia",
    "/proyectos/?axis=corresponsabilidad-ciudadana&municipality=08019",
    "/proyectos/?orden=monto&page=1",
    "/ejes/",
    "/ejes/corresponsabilidad-ciudadana/",
    "/organizaciones/",
    "/organizaciones/?q=alfa",
    "/sitemap.xml",
    "/proyectos/descarga.csv",
    "/proyectos/descarga.json",
]
API_LISTS = [
    "axes",
    "lines",
    "regions",
    "municipalities",
    "organizations",
    "projects",
    "projects/?q=violencia",
    "projects/?ordering=-total_amount&page_size=3",
    "projects/?format=csv",
    "projects/sync/?page_size=4",
    "participations",
    "indicators",
    "measurements",
]


@pytest.mark.parametrize("url", PUBLIC_LISTS)
def test_public_list_pages_run_no_query_per_row(client, rich_catalogue, url):
    with no_n_plus_one():
        response = client.get(url)
        assert response.status_code == 200
        if response.streaming:
            b"".join(response.streaming_content)


@pytest.mark.parametrize("page", ["project", "organization"])
def test_detail_pages_listing_many_related_rows_run_no_query_per_row(client, rich_catalogue, org_a, page):
    url = rich_catalogue[0].get_absolute_url() if page == "project" else org_a.get_absolute_url()
    with no_n_plus_one():
        assert client.get(url).status_code == 200


def test_the_directory_asks_two_queries_and_lists_only_organizations_of_published_projects(
    client, rich_catalogue, org_a, org_b, django_assert_num_queries
):
    from projects.models import Organization

    loner = Organization.objects.create(name="Asociación sin proyectos publicados", kind="osc")
    client.get("/organizaciones/")  # the first request also reads the site's demo flag, kept for later ones
    # The number of organizations with a published project (one correlated LIMIT 1 per organization) and the page
    # with each one's totals (two correlated subqueries in the same statement).
    with django_assert_num_queries(2):
        page = client.get("/organizaciones/").content.decode()
    assert org_a.name in page and org_b.name in page and loner.name not in page


def test_the_axis_page_takes_its_count_from_the_axis_figures(client, rich_catalogue):
    with CaptureQueriesContext(connection) as captured:
        response = client.get("/ejes/corresponsabilidad-ciudadana/")
    assert not [q["sql"] for q in captured if 'AS "__count"' in q["sql"]]  # the paginator counted nothing
    page = response.context["page"]
    assert page.paginator.count == response.context["row"]["projects"] == page.paginator.object_list.count() > 0


@pytest.mark.parametrize("caller", ["visitor", "staff_key", "partner_key"])
@pytest.mark.parametrize("endpoint", API_LISTS)
def test_api_list_endpoints_run_no_query_per_row(client, rich_catalogue, request, caller, endpoint):
    headers = {} if caller == "visitor" else {"HTTP_AUTHORIZATION": f"Api-Key {request.getfixturevalue(caller)}"}
    url = f"/api/v1/{endpoint}" if "?" in endpoint else f"/api/v1/{endpoint}/"
    with no_n_plus_one():
        response = client.get(url, **headers)
        assert response.status_code == 200
    body = response.content if url.endswith("csv") else response.json()
    assert body  # the endpoint did list rows


# --- Query plans ----------------------------------------------------------------------------------------------------
# The test tables hold a handful of rows, where a sequential scan always wins; forbidding it (and plain index scans
# where a bitmap index is the question) makes the planner show the plan it would choose on a big table.


def plan_of(sql, **settings):
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {Project._meta.db_table}")
        for name, value in settings.items():
            cursor.execute(f"SET {name} = {value}")
        try:
            cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}")
            return cursor.fetchone()[0][0]["Plan"]
        finally:
            for name in settings:
                cursor.execute(f"RESET {name}")


def nodes(plan):
    yield plan
    for child in plan.get("Plans", []):
        yield from nodes(child)


def project_scans(plan):
    return [node for node in nodes(plan) if node.get("Relation Name") == Project._meta.db_table]


def search_queries(client, url):
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return [q["sql"] for q in captured.captured_queries if "@@" in q["sql"]]


@pytest.fixture
def thousands(rich_catalogue, org_b):
    """3,000 more published projects, none about chess, each with a place and a partner: tables where reading
    every row costs what it costs, with fresh statistics as autovacuum would leave them."""
    axis, place = rich_catalogue[0].axis, Municipality.objects.get(inegi_code="08037")
    projects = Project.objects.bulk_create(
        [
            Project(
                code=f"FIC-2023-{n:04d}",
                slug=f"proyecto-{n}",
                title=f"Prevención comunitaria {n}",
                axis=axis,
                summary="Talleres de convivencia y mediación para familias.",
                publication_state="published",
            )
            for n in range(3000)
        ]
    )
    Project.municipalities.through.objects.bulk_create(
        [Project.municipalities.through(project=project, municipality=place) for project in projects]
    )
    Participation.objects.bulk_create(
        [Participation(project=project, organization=org_b, role="implementer") for project in projects]
    )
    Project.objects.filter(pk__in=[project.pk for project in projects]).refresh_derived()  # bulk writes skip it
    with connection.cursor() as cursor:  # outside a test transaction (see below), so VACUUM may run
        for model in (Project, Participation, Project.municipalities.through):
            cursor.execute(f"VACUUM ANALYZE {model._meta.db_table}")


@pytest.mark.parametrize("url", ["/proyectos/?q=ajedrez", "/api/v1/projects/?q=ajedrez"])
def test_every_query_of_a_selective_search_finds_its_projects_through_the_gin_index(
    client, reference_data, thousands, url
):
    # reference_data makes this test transactional: VACUUM then gives the GIN index the statistics autovacuum gives
    # it in production, from which the planner prices a GIN search.
    queries = search_queries(client, url)
    assert queries  # the count, the page and, on the catalogue, the facets all filter by the search
    for sql in queries:
        plan = plan_of(sql, enable_seqscan="off")
        matching = [
            node for node in project_scans(plan) if "@@" in node.get("Recheck Cond", "") + node.get("Filter", "")
        ]
        index_names = {node.get("Index Name") for node in nodes(plan)}
        assert matching and "project_search_gin" in index_names, f"search without the GIN index:\n{sql[:500]}"


def sync_page_query(client):
    """The data query of the second sync page (the one that continues from a cursor), its documents stored."""
    first = client.get("/api/v1/projects/sync/?page_size=2").json()
    client.get(first["next"])  # stores the page's documents (projects.serializers.project_documents)
    with CaptureQueriesContext(connection) as captured:
        assert client.get(first["next"]).status_code == 200
    # the rate-limit counter (ficosec.throttle, in the database when there is no Redis) and the page's tombstones
    # (one small indexed query, projects.Withdrawal) are not the page's data query
    return [
        q["sql"]
        for q in captured.captured_queries
        if "projects_counter" not in q["sql"] and "projects_withdrawal" not in q["sql"]
    ]


def index_names(plan):
    return {node["Index Name"] for node in nodes(plan) if "Index Name" in node}


def test_the_sync_cursor_query_uses_a_project_index_and_counts_nothing(client, rich_catalogue):
    queries = sync_page_query(client)
    assert len(queries) == 1  # one query builds the whole page; nothing counts the rows
    plan = plan_of(queries[0], enable_seqscan="off")
    scans = project_scans(plan)
    assert scans and all(node["Node Type"] != "Seq Scan" for node in scans)
    assert index_names(plan) & {"project_updated", "project_state_updated", "project_state_published"}, index_names(
        plan
    )
    assert not [node for node in nodes(plan) if node["Node Type"] == "Aggregate"]
    assert "COUNT(" not in queries[0].upper()


def test_the_sync_cursor_starts_its_index_range_at_the_cursor(client, reference_data, thousands):
    # An ordered index scan that starts at the cursor reads one page of rows whatever the page's position: the row
    # comparison (updated_at, code) > (t, c) is an index condition of the sync indexes, not a filter after the fact.
    plan = plan_of(sync_page_query(client)[0], enable_seqscan="off", enable_bitmapscan="off")
    conditions = [
        node.get("Index Cond", "")
        for node in project_scans(plan)
        if node.get("Index Name") in ("project_updated", "project_state_updated")
    ]
    assert any("ROW(updated_at" in condition for condition in conditions), json.dumps(project_scans(plan), indent=1)[
        :2000
    ]
