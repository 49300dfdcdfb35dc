"""Issue 18: the catalogue counts from the project rows alone (the id arrays refresh_derived() keeps, read through
the project_facts index). Proven against plain SQL over the link tables: the arrays after every kind of write, and
the facet counts and filters for random filter sets."""

import csv
import io
import random
import re
from datetime import date
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.db import connection
from django.db.models import Sum
from django.http import QueryDict
from django.test.utils import CaptureQueriesContext

from axes.models import Axis, Line
from projects import facets
from projects.facets import Catalogue, facet_counts
from projects.filters import ProjectFilter, facet_years, year_condition
from projects.models import Municipality, Organization, Participation, Population, Project, Region
from projects.models.projects import FACT_COLUMNS

from .conftest import ORGANIZATIONS, make_project, rolled_back

CODE_HEADER = "clave"  # projects.exports.COLUMNS

pytestmark = pytest.mark.django_db


def link_table_ids(project):
    """The project's linked ids read from the link tables (what the arrays must say)."""
    places = Project.municipalities.through.objects.filter(project=project)
    return {
        "line_ids": sorted(
            set(Project.lines.through.objects.filter(project=project).values_list("line_id", flat=True))
        ),
        "municipality_ids": sorted(set(places.values_list("municipality_id", flat=True))),
        "region_ids": sorted(
            set(places.exclude(municipality__region=None).values_list("municipality__region_id", flat=True))
        ),
        "organization_ids": sorted(
            set(Participation.objects.filter(project=project).values_list("organization_id", flat=True))
        ),
        "implementer_ids": sorted(
            set(
                Participation.objects.filter(project=project, role="implementer").values_list(
                    "organization_id", flat=True
                )
            )
        ),
    }


def stored_ids(project):
    return Project.objects.filter(pk=project.pk).values(
        "line_ids", "municipality_ids", "region_ids", "organization_ids", "implementer_ids"
    )[0]


def test_the_arrays_follow_every_write_that_changes_links(org_a, org_b, ficosec_org, editor, coordinator):
    project = make_project("FIC-2024-301", "Mediación escolar", org_a, "published", ficosec=ficosec_org)
    assert stored_ids(project) == link_table_ids(project) and stored_ids(project)["organization_ids"]
    # The staff form's, the API's and the importer's path: links set in save_edit.
    juarez, cuauhtemoc = Municipality.objects.get(inegi_code="08037"), Municipality.objects.get(inegi_code="08017")
    project.save_edit(editor, project.version, links={"municipalities": [juarez]})
    first = project.history.latest()
    project.refresh_from_db()
    project.save_edit(
        editor,
        project.version,
        links={"lines": list(Line.objects.order_by("pk")[:2]), "municipalities": [juarez, cuauhtemoc]},
    )
    assert stored_ids(project) == link_table_ids(project)
    assert len(stored_ids(project)["municipality_ids"]) == 2 and len(stored_ids(project)["line_ids"]) == 2

    # A partner joins, becomes an implementer, goes back to being an ally and leaves.
    joined = Participation.objects.create(project=project, organization=org_b, role="ally", amount=Decimal("0"))
    assert org_b.pk in stored_ids(project)["organization_ids"]
    assert stored_ids(project)["implementer_ids"] == [org_a.pk]
    joined.role = "implementer"
    joined.save()
    assert stored_ids(project)["implementer_ids"] == sorted([org_a.pk, org_b.pk]) == link_table_ids(project)[
        "implementer_ids"
    ]
    joined.role = "ally"
    joined.save()
    assert stored_ids(project)["implementer_ids"] == [org_a.pk]
    joined.delete()
    assert org_b.pk not in stored_ids(project)["organization_ids"]

    # Organizations merged: the project now names the one that survives.
    duplicate = Organization.objects.create(name="Centro Comunitario Alfa (duplicado)", kind="osc")
    Participation.objects.create(project=project, organization=duplicate, role="ally")
    duplicate.merge_into(org_b)
    assert (
        duplicate.pk not in stored_ids(project)["organization_ids"]
        and org_b.pk in stored_ids(project)["organization_ids"]
    )

    # A coordinator restores the first version: its lines and places come back, and so do the arrays.
    project.refresh_from_db()
    project.restore(first, coordinator)
    assert stored_ids(project) == link_table_ids(project)
    assert stored_ids(project)["municipality_ids"] == [juarez.pk]


def reference_queryset(params):
    """The published projects matching `params`, by joins over the link tables (not the arrays)."""
    projects = Project.objects.published()
    for name, values in params.lists():
        if name == "axis":
            projects = projects.filter(axis__slug__in=values)
        elif name == "line":
            projects = projects.filter(pk__in=Project.objects.filter(lines__slug__in=values).values("pk"))
        elif name == "municipality":
            projects = projects.filter(
                pk__in=Project.objects.filter(municipalities__inegi_code__in=values).values("pk")
            )
        elif name == "region":
            projects = projects.filter(
                pk__in=Project.objects.filter(municipalities__region__slug__in=values).values("pk")
            )
        elif name == "organization":
            projects = projects.filter(
                pk__in=Participation.objects.filter(organization__slug__in=values).values("project")
            )
        elif name == "status":
            projects = projects.filter(status__in=values)
        elif name == "population":
            projects = projects.filter(populations__overlap=values)
        elif name == "year":
            projects = projects.filter(year_condition(int(values[0])))
    return projects


@pytest.fixture(scope="class")
def varied_catalogue(django_db_setup, django_db_blocker):
    """24 published projects (and 4 drafts) spread over axes, lines, places, partners, statuses, populations, years:
    written once for the tests of a class (TestOnAVariedCatalogue), which share them (conftest.rolled_back)."""
    with rolled_back(django_db_blocker):
        partners = [Organization.objects.create(**ORGANIZATIONS[key]) for key in ("alfa", "beta", "ficosec")]
        yield varied_projects(*partners)


def varied_projects(org_a, org_b, ficosec_org):
    rng = random.Random(18)
    axes, lines = list(Axis.objects.all()), list(Line.objects.all())
    places = list(Municipality.objects.filter(inegi_code__in=["08037", "08019", "08017", "08021", "08032", "08011"]))
    partners = [org_a, org_b, ficosec_org]
    for n in range(28):
        start = date(rng.choice([2019, 2021, 2023, 2024]), rng.randint(1, 12), 1)
        project = make_project(
            f"FIC-2024-{400 + n}",
            f"Proyecto variado {n}",
            rng.choice(partners[:2]),
            "published" if n < 24 else "draft",
            ficosec=ficosec_org if rng.random() < 0.6 else None,
            axis=rng.choice(axes),
            status=rng.choice(["in_progress", "completed", "approved"]),
            populations=rng.sample([p.value for p in Population], rng.randint(1, 3)),
            planned_start=start,
            planned_end=date(start.year + rng.randint(0, 2), 12, 31),
        )
        project.save_edit(
            None,
            project.version,
            links={
                "lines": rng.sample(lines, rng.randint(1, 3)),
                "municipalities": rng.sample(places, rng.randint(1, 3)),
            },
        )
    return places


def random_params(rng, places):
    values = {
        "axis": list(Axis.objects.values_list("slug", flat=True)),
        "line": list(Line.objects.values_list("slug", flat=True)),
        "municipality": [place.inegi_code for place in places],
        "region": list(Region.objects.values_list("slug", flat=True)),
        "organization": list(Organization.objects.values_list("slug", flat=True)),
        "status": ["in_progress", "completed", "approved"],
        "population": [p.value for p in Population],
        "year": [str(year) for year in (2019, 2021, 2023, 2024)],
    }
    params = QueryDict(mutable=True)
    for name in rng.sample(sorted(values), rng.randint(0, 3)):
        count = 1 if name == "year" else rng.randint(1, 2)
        params.setlist(name, rng.sample(values[name], min(count, len(values[name]))))
    return params


FACET_OF = {
    "axis": "axis",
    "line": "line",
    "municipality": "municipality",
    "region": "region",
    "organization": "organization",
    "status": "status",
    "population": "population",
    "year": "year",
}


def reference_map(projects):
    """The map's figures from the link tables: statewide projects (in every region with municipalities) apart, the
    others' money split evenly among their municipalities (rounded to the cent as the page shows it)."""
    regions = Region.objects.filter(municipalities__isnull=False).distinct().count()
    local, apart = {}, {"projects": 0, "money": Decimal(0)}
    for project in projects.prefetch_related("municipalities"):
        places = list(project.municipalities.all())
        if regions and len({m.region_id for m in places if m.region_id}) >= regions:
            apart["projects"] += 1
            apart["money"] += project.total_amount or 0
            continue
        for place in places:
            row = local.setdefault(place.pk, {"projects": 0, "money": Decimal(0)})
            row["projects"] += 1
            if project.total_amount is not None:
                row["money"] += project.total_amount / len(places)
    for row in local.values():
        row["money"] = row["money"].quantize(Decimal("0.01"))
    return local, apart


FACET_VALUES = {
    "line": lambda: Line.objects.values_list("slug", flat=True),
    "municipality": lambda: Municipality.objects.values_list("inegi_code", flat=True),
    "status": lambda: [value for value, _label in Project.Status.choices],
    "axis": lambda: Axis.objects.values_list("slug", flat=True),
}


@pytest.mark.parametrize("today", [date(2026, 11, 30), date(2031, 1, 2)])
def test_the_years_facet_reaches_next_year_whatever_the_date(today):
    from unittest import mock

    from django.utils import timezone

    with mock.patch.object(timezone, "localdate", return_value=today):
        years = list(facet_years())
    assert years[0] == 2012 and years[-1] == today.year + 1


def test_links_changed_from_either_side_or_by_moving_a_participation_refresh_the_arrays(org_a, org_b, ficosec_org):
    project = make_project("FIC-2024-311", "Mediación comunitaria", org_a, "published", ficosec=ficosec_org)
    other = make_project("FIC-2024-312", "Círculos de paz", org_b, "published")
    # A direct change of links, with no refresh_derived() after it (as the admin's form or its history's revert do).
    parral = Municipality.objects.get(inegi_code="08032")
    project.municipalities.add(parral)
    assert parral.pk in stored_ids(project)["municipality_ids"] and stored_ids(project) == link_table_ids(project)
    # From the line's side, adding and clearing.
    line = Line.objects.exclude(pk__in=project.lines.values("pk")).first()
    line.projects.add(project, other)
    assert line.pk in stored_ids(project)["line_ids"] and line.pk in stored_ids(other)["line_ids"]
    line.projects.clear()
    assert line.pk not in stored_ids(project)["line_ids"] and line.pk not in stored_ids(other)["line_ids"]
    # A participation moved to another project: the organization leaves the first one's ids and joins the second's.
    moved = Participation.objects.get(project=project, organization=org_a)
    moved.project = other
    moved.save()
    assert org_a.pk not in stored_ids(project)["organization_ids"] and org_a.pk in stored_ids(other)["organization_ids"]
    assert stored_ids(project) == link_table_ids(project) and stored_ids(other) == link_table_ids(other)


@pytest.mark.parametrize("model", ["projects/municipality", "projects/region", "axes/line"])
def test_reference_places_and_lines_cannot_be_deleted_from_the_admin(admin_client, model):
    app_label, name = model.split("/")
    from django.apps import apps

    row = apps.get_model(app_label, name).objects.first()
    response = admin_client.get(f"/admin/{app_label}/{name}/{row.pk}/delete/")
    assert response.status_code == 403
    assert apps.get_model(app_label, name).objects.filter(pk=row.pk).exists()


@pytest.mark.django_db(transaction=True)
def test_the_shared_index_follows_every_commit_and_forgets_a_rollback(reference_data, org_a, ficosec_org):
    """projects.facets keeps one index per process, current from the change log its trigger fills: a write by any
    path is counted from its commit on; a transaction's own writes are counted only by that transaction."""
    from django.db import transaction

    from projects import facets

    facets.reset()
    before = facets.current()
    assert facets._shared is before
    project = make_project("FIC-2024-351", "Ajedrez en el barrio", org_a, "published", ficosec=ficosec_org)
    index = facets.current()
    assert project.pk in index.members and facets._shared is index and index is not before
    assert project.pk in index.union("axis", [project.axis_id])
    # A write that no form or signal sees (raw UPDATE): the trigger still logs it.
    Project.objects.filter(pk=project.pk).update(status=Project.Status.COMPLETED, total_amount=Decimal("1234.50"))
    index = facets.current()
    assert project.pk in index.union("status", [Project.Status.COMPLETED])
    assert index.totals(index.union("status", [Project.Status.COMPLETED]))["money"] == Decimal("1234.50")
    # A transaction's own writes: counted inside it by a private copy, gone with its rollback.
    with pytest.raises(RuntimeError), transaction.atomic():
        other = make_project("FIC-2024-352", "Ligas de paz", org_a, "published", ficosec=ficosec_org)
        assert other.pk in facets.current().members and other.pk not in facets._shared.members
        raise RuntimeError("rolled back")
    assert other.pk not in facets.current().members and project.pk in facets.current().members
    # Unpublished, then deleted: out of every count.
    Project.objects.filter(pk=project.pk).update(publication_state="draft")
    assert project.pk not in facets.current().members
    assert project.pk not in facets.current().union("status", [Project.Status.COMPLETED])
    draft = make_project("FIC-2024-354", "Círculos de paz", org_a, "draft", ficosec=ficosec_org)
    assert draft.pk not in facets.current().members
    Project.objects.filter(pk=draft.pk).update(publication_state="published")
    assert draft.pk in facets.current().members
    from projects.models import AwardDecision

    AwardDecision.objects.filter(project=draft).delete()
    Project.objects.filter(pk=draft.pk).delete()
    index = facets.current()
    assert draft.pk not in index.members and index.totals(index.members)["projects"] == len(index.members)
    # Emptied by TRUNCATE (as a test database flush does): the log says so and the index is built afresh.
    make_project("FIC-2024-353", "Mediación", org_a, "published", ficosec=ficosec_org)
    assert len(facets.current().members) == 1  # the one unpublished above stays out
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE projects_project CASCADE")
    assert len(facets.current().members) == 0


def listed_codes(client, query):
    """The codes a visitor reads on every page of the list, following the page's own 'next' links."""
    codes, url = [], f"/proyectos/?{query}"
    while url:
        response = client.get(url)
        assert response.status_code == 200
        page = response.context["page"]
        codes += [project.code for project in page]
        url = f"/proyectos/?{query}&page={page.next_page_number()}" if page.has_next() else None
        if url:
            assert f"page={page.next_page_number()}" in response.content.decode()
    return codes, response


def search_queries(queries):
    return [q["sql"] for q in queries.captured_queries if "@@" in q["sql"]]


def only_cut_or_given_ids(searching):
    """Whether every search query was cut at a limit, tested on given ids or only planned (EXPLAIN, the estimate):
    none read all the words' matches."""
    return all(sql.startswith("EXPLAIN ") or re.search(r"LIMIT \d+|\.\"id\" = ANY\(", sql) for sql in searching)


class TestOnAVariedCatalogue:
    """The index's counts, pages and downloads against plain SQL over one varied catalogue, written once for the
    class (varied_catalogue)."""

    @pytest.mark.parametrize("seed", range(12))
    def test_list_and_facet_counts_equal_plain_sql_over_the_link_tables(self, varied_catalogue, seed):
        rng = random.Random(seed)
        params = random_params(rng, varied_catalogue)
        filterset = ProjectFilter(params, queryset=Project.objects.published())
        assert filterset.is_valid(), filterset.errors
        expected = reference_queryset(params)
        assert sorted(filterset.qs.values_list("pk", flat=True)) == sorted(expected.values_list("pk", flat=True))

        # The list's count, its totals and its map, as the page shows them (projects.facets), against plain SQL.
        counted = Catalogue(filterset)
        assert counted.count == expected.count()
        totals = counted.totals()
        reference = expected.totals()
        assert {key: totals[key] for key in reference} == reference
        assert totals["reached"] == expected.aggregate(s=Sum("beneficiaries_reached"))["s"]
        assert counted.municipality_figures() == reference_map(expected)

        facets = facet_counts(filterset)
        checked = 0
        for dimension in FACET_OF:
            others = params.copy()
            others.pop(dimension, None)
            base = reference_queryset(others)
            for value, _label, count, selected in facets.get(dimension, []):
                one = others.copy()
                one.setlist(dimension, [value])
                assert count == reference_queryset(one).filter(pk__in=base.values("pk")).count(), (
                    dimension,
                    value,
                    dict(params),
                )
                assert selected == (value in params.getlist(dimension))
                checked += 1
            # Every value with projects is offered (organizations: the most frequent ones).
            offered = {value for value, *_rest in facets.get(dimension, [])}
            if dimension in ("line", "municipality", "status", "axis"):
                for value in (FACET_VALUES[dimension])():
                    one = others.copy()
                    one.setlist(dimension, [value])
                    if reference_queryset(one).exists():
                        assert value in offered, (dimension, value)
        assert checked >= 5

    @pytest.mark.parametrize("url", ["/proyectos/", "/proyectos/?axis={axis}&year=2024&population=youth", "/"])
    def test_pages_count_with_the_index_which_reads_only_columns_of_the_facts_index(
        self, client, varied_catalogue, url
    ):
        """Facet counts, totals, the map and the home's figures come from projects.facets: the page asks the database
        for no COUNT, SUM or unnest over the project rows, and the index's own read of the projects reads only columns
        of the project_facts index (an index-only scan, as the benchmark's EXPLAIN shows at 100k)."""
        from django.test.utils import CaptureQueriesContext

        cache.clear()  # the figures are cached until a project changes
        facets.reset()  # and the index is built once for the class's transaction: read it again, within the request
        with CaptureQueriesContext(connection) as captured:
            response = client.get(url.format(axis=Axis.objects.order_by("number").first().slug))
            assert response.status_code == 200 and response.context["map"]
        on_projects = [q["sql"] for q in captured.captured_queries if 'FROM "projects_project"' in q["sql"]]
        counting = [sql for sql in on_projects if any(word in sql for word in ("COUNT(", "SUM(", "unnest"))]
        assert counting == []
        index_reads = [  # the reads of the arrays, not of a page's rows (those read the title)
            sql for sql in on_projects if '"projects_project"."organization_ids"' in sql and '"title"' not in sql
        ]
        assert index_reads  # inside the test's transaction the index is read for the request (see projects.facets)
        indexed = set(FACT_COLUMNS) | {"publication_state"}
        for sql in index_reads:
            read = set(re.findall(r'"projects_project"\."(\w+)"', sql))
            assert read <= indexed, (read - indexed, sql[:300])

    @pytest.mark.parametrize("seed", [*range(4), None])  # None: no filter (listed off the snapshot's whole order)
    def test_the_index_lists_and_downloads_newest_first_as_postgresql_orders_them(self, client, varied_catalogue, seed):
        """The default order comes from the index (publication dates by id, no sort in SQL): the pages a visitor
        follows and the CSV download list exactly what ORDER BY published_at DESC, id DESC lists, ties and a project
        without a date (PostgreSQL puts it first) included."""
        published = list(Project.objects.published().order_by("pk"))
        same = published[3].published_at
        Project.objects.filter(pk__in=[p.pk for p in published[4:9]]).update(published_at=same)  # ties, broken by id
        Project.objects.filter(pk=published[10].pk).update(published_at=None)
        params = QueryDict(mutable=True) if seed is None else random_params(random.Random(seed), varied_catalogue)
        expected = list(ProjectFilter(params, queryset=Project.objects.published()).qs.values_list("code", flat=True))
        assert expected and list(ProjectFilter(params, queryset=Project.objects.published()).qs.query.order_by) == [
            "-published_at",
            "-pk",
        ]
        cache.clear()
        query = params.urlencode()
        codes, _response = listed_codes(client, query)
        assert codes == expected
        download = client.get(f"/proyectos/descarga.csv?{query}")
        rows = list(csv.DictReader(io.StringIO(b"".join(download.streaming_content).decode("utf-8-sig"))))
        assert [row[CODE_HEADER] for row in rows] == expected


class TestOnAChessCatalogue:
    """Searches narrowed, ranked, listed and downloaded over one catalogue that mentions chess more or less, written
    once for the class (conftest.chess_catalogue)."""

    @pytest.mark.parametrize(
        "query", ["q=ajedrez", "q=ajedrez&municipality=08019", "q=torneo ajedrez", "q=ajedrez&orden=relevancia&page=1"]
    )
    def test_a_search_is_listed_in_the_order_postgresql_ranks_it_with_one_search_query(
        self, client, chess_catalogue, query
    ):
        """The index orders the matches by the relevance read with their ids (one pass over the matches, with another
        filter too when the words are within the bound): the same order, page after page, as ORDER BY rank of the
        database, drafts never included."""
        params = QueryDict(query.replace(" ", "+"), mutable=True)
        expected = ProjectFilter(params, queryset=Project.objects.published()).qs
        reference = list(expected.values_list("code", "rank"))
        assert len({rank for _code, rank in reference}) > 3  # the ranks do differ: the order is not by id alone
        cache.clear()
        with CaptureQueriesContext(connection) as queries:
            codes, response = listed_codes(client, query.replace(" ", "+"))
        assert codes == [code for code, _rank in reference] and "FIC-2025-531" not in codes
        assert response.context["order"] == "relevance" and response.context["page"].paginator.count == len(reference)
        searching = search_queries(queries)
        pages = 2 if len(reference) > 20 else 1
        assert len(searching) == pages and not any("COUNT(" in sql for sql in searching), searching

    @pytest.mark.parametrize("query", ["q=ajedrez&municipality=08019", "q=ajedrez&municipality=08037&orden=relevancia"])
    def test_a_broad_word_narrowed_by_filters_within_the_bound_is_tested_on_those_projects_only(
        self, client, chess_catalogue, monkeypatch, query
    ):
        """A word that alone matches more than the bound, with filters that alone select no more than the bound: the
        page counts and ranks the list exactly as SQL does, yet no query reads all the word's matches (each is cut at
        the bound + 1 or tested on given ids: 480,000 rows at 1M projects otherwise). The chosen filter's facet, whose
        list (the word alone) is broader than the bound, lists its chosen value uncounted and says so; the other
        facets count the list."""
        from projects import filters

        params = QueryDict(query, mutable=True)
        reference = list(ProjectFilter(params, queryset=Project.objects.published()).qs.values_list("code", "rank"))
        alone = Project.objects.published().search("ajedrez").count()
        code = params["municipality"]
        here = Project.objects.published().filter(municipalities__inegi_code=code).count()
        monkeypatch.setattr(filters, "BROAD_SEARCH", here)  # the filter alone is within the bound; the word is not
        assert len(reference) <= here < alone
        cache.clear()
        with CaptureQueriesContext(connection) as queries:
            codes, response = listed_codes(client, query)
        assert not response.context["broad"] and response.context["order"] == "relevance"
        assert codes == [code for code, _rank in reference]
        assert response.context["page"].paginator.count == len(reference)
        searching = search_queries(queries)
        assert searching and not any("COUNT(" in sql or "ORDER BY" in sql for sql in searching), searching
        assert only_cut_or_given_ids(searching), searching
        facets_shown = response.context["facets"]
        assert [(value, count, on) for value, _label, count, on in facets_shown["municipality"]] == [(code, None, True)]
        assert "Sin cuentas" in response.content.decode()
        listed = Project.objects.published().search("ajedrez").filter(municipalities__inegi_code=code)
        years = {value: count for value, _label, count, _on in facets_shown["year"]}
        assert years
        assert all(count == listed.filter(year_condition(int(year))).count() for year, count in years.items()), years
        assert sum(count for _v, _l, count, _on in facets_shown["status"]) == len(reference)

    def test_words_the_planner_estimates_broad_are_not_read_alone_first(self, client, chess_catalogue, monkeypatch):
        """With the planner's estimate above the slack (forced here: every word presumed broad), a narrowed search does
        not read the words alone up to the bound: one query tests them on the filter's projects, the list is still
        exactly SQL's, and the chosen filter's facet (the words alone) is uncounted rather than read."""
        from projects import facets, filters

        query = "q=ajedrez&municipality=08019"
        here = Project.objects.published().filter(municipalities__inegi_code="08019").count()
        monkeypatch.setattr(filters, "BROAD_SEARCH", here)
        monkeypatch.setattr(facets, "ESTIMATE_SLACK", 0)
        reference = list(
            ProjectFilter(QueryDict(query), queryset=Project.objects.published()).qs.values_list("code", flat=True)
        )
        cache.clear()
        with CaptureQueriesContext(connection) as queries:
            response = client.get(f"/proyectos/?{query}")
        assert [p.code for p in response.context["page"]] == reference[:20]
        assert response.context["page"].paginator.count == len(reference)
        searching = search_queries(queries)
        assert len(searching) == 2 and "EXPLAIN" in searching[0] and "LIMIT" not in searching[1], searching
        shown = response.context["facets"]["municipality"]
        assert [(value, count) for value, _label, count, _on in shown] == [("08019", None)]

    def test_a_broad_word_narrowed_by_two_filters_counts_the_facet_whose_list_is_within_the_bound(
        self, client, chess_catalogue, monkeypatch
    ):
        """Two filters: the facet of the status counts the word with each status among the municipality's projects
        (that list is within the bound, and tested too); the municipality's facet (the word with that status
        everywhere) is broader, and uncounted."""
        from projects import filters

        chosen = Project.objects.published().filter(municipalities__inegi_code="08019")
        status = chosen.values_list("status", flat=True).first()
        query = f"q=ajedrez&municipality=08019&status={status}"
        alone = Project.objects.published().search("ajedrez").count()
        with_status = Project.objects.published().filter(status=status).count()
        monkeypatch.setattr(filters, "BROAD_SEARCH", chosen.count())
        assert with_status > chosen.count() and alone > chosen.count()  # the status alone and the word are broad
        cache.clear()
        response = client.get(f"/proyectos/?{query}")
        expected = ProjectFilter(QueryDict(query), queryset=Project.objects.published()).qs
        assert response.context["page"].paginator.count == expected.count() > 0
        shown = response.context["facets"]
        statuses = {value: count for value, _label, count, _on in shown["status"]}
        words_here = Project.objects.published().search("ajedrez").filter(municipalities__inegi_code="08019")
        assert statuses == {
            value: n for value, _label in Project.Status.choices if (n := words_here.filter(status=value).count())
        }
        assert [(value, count) for value, _l, count, _on in shown["municipality"]] == [("08019", None)]

    @pytest.mark.parametrize(
        ("tested_at_most", "probed_at_most", "probe_cost"), [(2, 100, 0), (2, 4, 0), (3, 12, 0), (2, 100, 10**9)]
    )
    def test_a_broad_word_narrowed_by_a_broad_filter_to_within_the_bound_is_counted_and_ranked_as_sql_does(
        self, client, chess_catalogue, monkeypatch, tested_at_most, probed_at_most, probe_cost
    ):
        """A word and a filter each broader than what is tested at once, whose list is within the bound. Probed newest
        first in chunks (all of the filter's projects within WORDS_PROBED_AT_MOST): the list is counted and ranked as
        SQL does with no query reading all the word's matches, and the chosen filter's facet is uncounted. Beyond
        WORDS_PROBED_AT_MOST, or when the probe would cost more than reading the matches (PROBE_COST), the word's
        matches are read once as a set: the same list, and every facet counted."""
        from projects import facets, filters

        published = Project.objects.published()
        matches = published.search("ajedrez")
        sizes = {
            code: (
                matches.filter(municipalities__inegi_code=code).count(),
                published.filter(municipalities__inegi_code=code).count(),
            )
            for code in ("08019", "08037")
        }
        code, (listed, here) = next((code, size) for code, size in sizes.items() if size[0] < size[1])
        monkeypatch.setattr(filters, "BROAD_SEARCH", listed)  # the list within the bound; the filter and the word not
        monkeypatch.setattr(facets, "WORDS_TESTED_AT_MOST", tested_at_most)
        # (3, 12): the cap inside a chunk (3, 6, 12)
        monkeypatch.setattr(facets, "WORDS_PROBED_AT_MOST", probed_at_most)
        monkeypatch.setattr(facets, "PROBE_COST", probe_cost)  # 0: probing is cheaper; 10**9: reading the set is
        assert matches.count() > listed and 12 < here < 100
        query = f"q=ajedrez&municipality={code}"
        reference = list(ProjectFilter(QueryDict(query), queryset=published).qs.values_list("code", flat=True))
        cache.clear()
        with CaptureQueriesContext(connection) as queries:
            codes, response = listed_codes(client, query)
        assert codes == reference and response.context["order"] == "relevance" and not response.context["broad"]
        assert response.context["page"].paginator.count == listed
        municipality = {value: count for value, _label, count, _on in response.context["facets"]["municipality"]}
        if probed_at_most > here and not probe_cost:
            assert municipality == {code: None} and only_cut_or_given_ids(search_queries(queries))
        else:
            for other in ("08019", "08037"):
                assert municipality.get(other, 0) == matches.filter(municipalities__inegi_code=other).count()

    @pytest.mark.parametrize("probed_at_most", [80_000, 2])
    def test_a_broad_word_narrowed_by_a_broad_filter_stays_broad_and_lists_its_newest_matches(
        self, client, chess_catalogue, monkeypatch, probed_at_most
    ):
        """Probed newest first until more than the bound match: the page lists the newest matches exactly as SQL's
        newest-first order does, says "more than the bound", counts nothing, and no query reads all the matches. Past
        the probe's cap (2 here) the matches are read as a set: the same page, still ordered by the index (no ORDER BY
        in SQL)."""
        from projects import facets, filters

        monkeypatch.setattr(filters, "BROAD_SEARCH", 3)
        monkeypatch.setattr(facets, "WORDS_TESTED_AT_MOST", 2 if probed_at_most > 2 else 1)
        monkeypatch.setattr(facets, "WORDS_PROBED_AT_MOST", probed_at_most)
        monkeypatch.setattr(facets, "PROBE_COST", 0)  # probing presumed cheaper than reading the matches as a set
        query = "q=ajedrez&municipality=08019"
        expected = ProjectFilter(QueryDict(query), queryset=Project.objects.published()).qs
        newest = list(expected.order_by("-published_at", "-pk").values_list("code", flat=True)[:4])
        assert expected.count() > 4
        cache.clear()
        with CaptureQueriesContext(connection) as queries:
            response = client.get(f"/proyectos/?{query}")
        assert response.context["broad"] and response.context["page"].paginator.count == 4  # the bound + 1
        assert [p.code for p in response.context["page"]] == newest and response.context["facets"] == {}
        assert "Más de 3 proyectos" in response.content.decode()
        searching = search_queries(queries)
        assert not any("ORDER BY" in sql for sql in searching), searching
        assert only_cut_or_given_ids(searching) == (probed_at_most > 2), searching

    def test_a_broad_word_still_broad_after_a_filter_is_listed_newest_first_up_to_the_bound(
        self, client, chess_catalogue, monkeypatch
    ):
        from projects import filters

        monkeypatch.setattr(filters, "BROAD_SEARCH", 3)
        response = client.get("/proyectos/?q=ajedrez&municipality=08019")
        expected = Project.objects.published().search("ajedrez").filter(municipalities__inegi_code="08019")
        assert expected.count() > 4
        assert response.context["broad"] and response.context["page"].paginator.count == 4  # the bound + 1
        assert response.context["facets"] == {} and response.context["order"] == "-published_at"
        newest = expected.order_by("-published_at", "-pk").values_list("code", flat=True)[:4]
        assert [p.code for p in response.context["page"]] == list(newest)

    def test_a_single_broad_word_is_searched_once(self, client, chess_catalogue, monkeypatch):
        """Words that alone match more than the bound: one search query (not a second one to count them)."""
        from projects import filters

        monkeypatch.setattr(filters, "BROAD_SEARCH", 5)
        with CaptureQueriesContext(connection) as queries:
            response = client.get("/proyectos/?q=ajedrez")
        assert response.context["broad"] and response.context["page"].paginator.count == 6
        expected = Project.objects.published().search("ajedrez").order_by("-published_at", "-pk")
        assert [p.code for p in response.context["page"]] == list(expected.values_list("code", flat=True)[:6])
        assert len([q for q in queries.captured_queries if "@@" in q["sql"]]) == 2  # the matches, then the page

    @pytest.mark.parametrize("query", ["q=ajedrez", "q=ajedrez&municipality=08019"])
    def test_the_download_of_a_search_broader_than_the_bound_lists_every_match_newest_first(
        self, client, chess_catalogue, monkeypatch, query
    ):
        """A download lists the whole list: a search too broad to rank is read as a set and ordered by the index
        (newest first, as the page lists it), every match included, with no ORDER BY asked of the database."""
        from projects import filters

        monkeypatch.setattr(filters, "BROAD_SEARCH", 3)
        params = QueryDict(query, mutable=True)
        expected = ProjectFilter(params, queryset=Project.objects.published()).qs.order_by("-published_at", "-pk")
        expected = list(expected.values_list("code", flat=True))
        assert len(expected) > 4
        with CaptureQueriesContext(connection) as queries:
            download = client.get(f"/proyectos/descarga.csv?{query}")
            rows = list(csv.DictReader(io.StringIO(b"".join(download.streaming_content).decode("utf-8-sig"))))
        assert [row[CODE_HEADER] for row in rows] == expected
        assert not any("@@" in q["sql"] and "ORDER BY" in q["sql"] for q in queries.captured_queries)

    def test_the_words_matches_are_read_from_the_gin_index_and_the_planner_setting_is_put_back(
        self, client, chess_catalogue
    ):
        """searched() turns sequential scans off for its one query (a common word would otherwise be tested on every
        vector): within an enclosing transaction (this test's) the setting is as it was afterwards, and a query that
        needs a sequential scan is planned as usual."""
        with connection.cursor() as cursor:
            cursor.execute("SHOW enable_seqscan")
            assert cursor.fetchone()[0] == "on"
            response = client.get("/proyectos/?q=ajedrez&municipality=08019")
            assert response.status_code == 200 and response.context["page"].paginator.count > 0
            cursor.execute("SHOW enable_seqscan")
            assert cursor.fetchone()[0] == "on"
            cursor.execute("EXPLAIN SELECT count(*) FROM projects_project WHERE title LIKE '%%ajedrez%%'")
            assert "Seq Scan" in "\n".join(row[0] for row in cursor.fetchall())
