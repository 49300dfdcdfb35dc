"""Results you can see: the map by municipality, small-cell suppression, sensitive sites, the privacy notice,
indicator progress and the evidence hub."""

import re
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from projects import geo
from projects.models import Municipality, Participation, Region

from .conftest import make_project

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fresh_cache():
    cache.clear()
    yield
    cache.clear()


def map_row(response, slug):
    return next(row for row in response.context["map"]["rows"] if row["municipality"].slug == slug)


# --- The map --------------------------------------------------------------------------------------------------------


def test_the_shapes_cover_the_67_municipalities_once():
    paths, viewbox = geo.shapes()
    assert len(paths) == 67 == Municipality.objects.count()
    assert set(paths) == set(Municipality.objects.values_list("inegi_code", flat=True))
    assert viewbox.startswith("0 0 480 ")
    assert sum(geo.population().values()) == 3_741_869


def test_the_home_map_links_every_municipality_with_its_name_and_figure(client, published_project):
    body = client.get("/").content.decode()
    links = re.findall(r'<a href="/municipios/([\w-]+)/" aria-label="([^"]+)"', body)
    assert len(links) == 67
    assert ("juarez", "Juárez, proyectos: 1") in links
    assert "Fuente: INEGI, Marco Geoestadístico 2025" in body and "simplificada" in body
    assert "Censo de Población y Vivienda 2020" in body


def test_the_map_follows_its_link_to_the_municipality_page(client, published_project, draft_project):
    body = client.get("/municipios/juarez/").content.decode()
    assert published_project.title in body
    assert draft_project.title not in body
    assert "Centro Comunitario Alfa" in body  # the implementer
    assert "Jóvenes que concluyen el programa" in body  # an indicator
    assert client.get("/municipios/no-existe/").status_code == 404


def test_drafts_are_never_on_the_map(client, draft_project, review_project):
    response = client.get("/")
    assert map_row(response, "juarez")["projects"] == 0
    assert map_row(response, "juarez")["fill"] == geo.EMPTY


def test_the_catalogue_map_reflects_the_active_filters(client, published_project):
    shown = client.get("/proyectos/?axis=corresponsabilidad-ciudadana")
    assert map_row(shown, "juarez")["projects"] == 1
    other = client.get("/proyectos/?axis=fomento-competitividad")
    assert other.status_code == 200
    assert map_row(other, "juarez")["projects"] == 0


def test_money_of_a_project_in_two_municipalities_is_split_evenly(client, org_a, ficosec_org):
    project = make_project("FIC-2024-050", "Dos municipios", org_a, "published", ficosec=ficosec_org)
    project.municipalities.add(Municipality.objects.get(inegi_code="08019"))
    response = client.get("/?medida=monto")
    assert map_row(response, "juarez")["money"] == project.total_amount / 2
    assert map_row(response, "chihuahua")["money"] == project.total_amount / 2
    per_100k = map_row(response, "juarez")["per_100k"]
    assert per_100k == project.total_amount / 2 * 100_000 / 1_512_450


def test_statewide_projects_are_counted_apart_not_smeared(client, org_a, published_project):
    wide = make_project("FIC-2024-060", "Observatorio estatal", org_a, "published")
    for region in Region.objects.all():
        wide.municipalities.add(region.municipalities.first())
    response = client.get("/")
    assert map_row(response, "juarez")["projects"] == 1  # only the local project
    assert response.context["map"]["statewide"]["projects"] == 1
    assert "1 proyecto estatal" in response.content.decode()


def test_the_table_sorts_by_the_query_string_and_ignores_nonsense(client, published_project):
    by_projects = client.get("/?mapa_orden=proyectos")
    assert by_projects.context["map"]["rows"][0]["municipality"].slug == "juarez"
    by_name = client.get("/?mapa_orden=nonsense&medida=nonsense")
    assert by_name.status_code == 200
    assert by_name.context["map"]["rows"][0]["municipality"].slug == "ahumada"
    assert by_name.context["map"]["measure"] == "proyectos"


def test_the_legend_has_one_class_per_colour_and_each_fill_is_in_it(client, org_a):
    for n, code in enumerate(["08037", "08019", "08017", "08021", "08032", "08050"]):
        project = make_project(f"FIC-2024-{70 + n:03d}", f"Proyecto {n}", org_a, "published")
        project.municipalities.set([Municipality.objects.get(inegi_code=code)])
        Participation.objects.filter(project=project).update(amount=Decimal(100_000 * (n + 1)))
        project.refresh_derived()
    data = client.get("/?medida=monto").context["map"]
    fills = {entry["fill"] for entry in data["legend"]}
    assert len(data["legend"]) == 6  # no projects + five classes
    assert {row["fill"] for row in data["rows"]} <= fills


def test_the_municipality_page_query_count_does_not_grow_with_projects(client, org_a):
    def count():
        cache.clear()
        with CaptureQueriesContext(connection) as captured:
            assert client.get("/municipios/juarez/").status_code == 200
        return len(captured)

    make_project("FIC-2024-080", "Uno", org_a, "published")
    one = count()
    for n in range(81, 90):
        make_project(f"FIC-2024-{n:03d}", f"Proyecto {n}", org_a, "published")
    assert count() == one


def test_the_home_map_asks_nothing_more_once_cached(client, published_project, django_assert_max_num_queries):
    client.get("/")
    # freshness stamp (figures), latest projects, their municipalities, freshness stamp (map)
    with django_assert_max_num_queries(4):
        client.get("/")
