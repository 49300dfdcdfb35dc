"""Issue 18: the catalogue counts from the project rows alone (the id arrays refresh_derived() keeps, read through
the project_facts index). Proven against plain SQL over the link tables: the arrays after every kind of write, and
the facet counts and filters for random filter sets."""

import random
import re
from datetime import date
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.db import connection
from django.http import QueryDict

from axes.models import Axis, Line
from projects.filters import ProjectFilter, facet_counts, facet_years, year_condition
from projects.models import Municipality, Organization, Participation, Population, Project, Region
from projects.models.projects import FACT_COLUMNS

from .conftest import make_project

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
    }


def stored_ids(project):
    return Project.objects.filter(pk=project.pk).values(
        "line_ids", "municipality_ids", "region_ids", "organization_ids"
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

    # A partner joins and leaves.
    joined = Participation.objects.create(project=project, organization=org_b, role="ally", amount=Decimal("0"))
    assert org_b.pk in stored_ids(project)["organization_ids"]
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


@pytest.fixture
def varied_catalogue(org_a, org_b, ficosec_org):
    """24 published projects (and 4 drafts) spread over axes, lines, places, partners, statuses, populations, years."""
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


@pytest.mark.parametrize("seed", range(12))
def test_list_and_facet_counts_equal_plain_sql_over_the_link_tables(varied_catalogue, seed):
    rng = random.Random(seed)
    params = random_params(rng, varied_catalogue)
    filterset = ProjectFilter(params, queryset=Project.objects.published())
    assert filterset.is_valid(), filterset.errors
    expected = reference_queryset(params)
    assert sorted(filterset.qs.values_list("pk", flat=True)) == sorted(expected.values_list("pk", flat=True))

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


@pytest.mark.parametrize("url", ["/proyectos/", "/proyectos/?axis={axis}&year=2024&population=youth", "/"])
def test_facet_counts_totals_and_the_map_read_only_columns_of_the_facts_index(client, varied_catalogue, url):
    """PostgreSQL answers a query from an index alone (an index-only scan, as the benchmark's EXPLAIN shows at 100k)
    only when every column it reads of the table is in the index: the counting queries must read no other."""
    from django.test.utils import CaptureQueriesContext

    cache.clear()  # the figures are cached until a project changes
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url.format(axis=Axis.objects.order_by("number").first().slug))
        assert response.status_code == 200 and response.context["map"]
    counting = [
        q["sql"]
        for q in captured.captured_queries
        if ("unnest" in q["sql"] or "COUNT(" in q["sql"] or "SUM(" in q["sql"])
        and '"projects_project"' in q["sql"]
        and "search_vector" not in q["sql"]
    ]
    assert len(counting) >= 3  # facets (or figures), totals, map
    indexed = set(FACT_COLUMNS) | {"publication_state"}
    for sql in counting:
        read = set(re.findall(r'"projects_project"\."(\w+)"', sql))
        assert read <= indexed, (read - indexed, sql[:300])


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
