"""Results you can see: the map by municipality, small-cell suppression, sensitive sites, the privacy notice,
indicator progress and the evidence hub."""

import re
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from projects import geo
from projects.models import Municipality, Participation, Project, Region

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


# --- Small-cell suppression: one rule ---------------------------------------------------------------------------


def test_small_counts_read_as_menos_de_10_and_zero_stays():
    from projects import privacy

    assert privacy.suppress(3) == "menos de 10"
    assert privacy.suppress(0) == 0
    assert privacy.suppress(10) == 10
    assert privacy.suppress(None) is None


def test_a_hidden_cell_cannot_be_recovered_from_the_total():
    from projects import privacy

    cells, total = privacy.suppress_cells({"women": 3, "men": 20, "other": 30}, 53)
    assert cells == {"women": "menos de 10", "men": "menos de 10", "other": 30}
    assert total == 53
    cells, total = privacy.suppress_cells({"women": 4, "men": 3}, 7)
    assert set(cells.values()) == {"menos de 10"} and total == "menos de 10"
    cells, _total = privacy.suppress_cells({"women": 40, "men": 30}, 70)
    assert cells == {"women": 40, "men": 30}


def test_the_threshold_is_a_setting(settings):
    from projects import privacy

    settings.SMALL_CELL_THRESHOLD = 5
    assert privacy.suppress(6) == 6
    assert privacy.suppress(4) == "menos de 5"


@pytest.fixture
def small_project(org_a, ficosec_org):
    """A published project whose counts of people are all small: beneficiaries, a people indicator, a breakdown."""
    from datetime import date

    from django.contrib.auth.models import AnonymousUser

    from projects.models import Indicator, set_breakdown

    project = make_project(
        "FIC-2024-200",
        "Proyecto pequeño",
        org_a,
        "published",
        ficosec=ficosec_org,
        beneficiaries_target=8,
        beneficiaries_reached=7,
    )
    indicator = Indicator.objects.create(
        project=project, name="Adolescentes atendidos", unit="personas", unit_kind="people", baseline=0, target=9
    )
    measurement = indicator.record(date(2024, 6, 30), 6, user=AnonymousUser())
    set_breakdown(measurement, [("sex", "women", 4), ("sex", "men", 2)])
    big = Indicator.objects.create(
        project=project, name="Personas en talleres", unit="personas", unit_kind="people", baseline=0, target=90
    )
    measurement = big.record(date(2024, 6, 30), 34, user=AnonymousUser())
    set_breakdown(measurement, [("sex", "women", 4), ("sex", "men", 30)])
    return project


PEOPLE_KEYS = {"beneficiaries_target", "beneficiaries_reached"}


def small_numbers(data, keys=PEOPLE_KEYS):
    """Every value under `keys` in a JSON document that is a count from 1 to 9."""
    found = []
    if isinstance(data, dict):
        for key, value in data.items():
            if key in keys and str(value).split(".")[0].isdigit() and 0 < float(value) < 10:
                found.append((key, value))
            found += small_numbers(value, keys)
    elif isinstance(data, list):
        for item in data:
            found += small_numbers(item, keys)
    return found


def small_people_cells(html):
    """The counts of people (elements of class "people") in a page that show a number from 1 to 9."""
    cells = re.findall(r'class="[^"]*\bpeople\b[^"]*">([^<]*)<', html)
    assert cells, "the page marks no count of people"
    return [cell for cell in cells if re.search(r"(?<![\d,.])[1-9](?![\d,.])", cell)]


def test_no_public_output_shows_a_count_of_people_under_the_threshold(client, small_project):
    """The scan: pages, CSV and JSON downloads and the API, for a project whose every count of people is small."""
    import csv
    import io
    import json

    page = client.get(small_project.get_absolute_url()).content.decode()
    assert "meta menos de 10; alcanzadas menos de 10" in page
    assert re.search(r"<td>Mujeres</td><td class=\"num people\">[1-9]</td>", page) is None
    assert '<td>Hombres</td><td class="num people">menos de 10</td>' in page  # complementary: 30 hidden beside 4
    assert '<td>Hombres</td><td class="num people">30</td>' not in page
    urls = [small_project.get_absolute_url(), "/", "/ejes/", "/ejes/corresponsabilidad-ciudadana/", "/evidencia/"]
    for url in urls + ["/municipios/juarez/"]:
        assert small_people_cells(client.get(url).content.decode()) == [], url
    csv_text = b"".join(client.get("/proyectos/descarga.csv").streaming_content).decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(csv_text)))
    people = [value for row in rows for key, value in row.items() if "personas" in key]
    assert people and set(people) == {"menos de 10"}
    download = json.loads(b"".join(client.get("/proyectos/descarga.json").streaming_content))
    assert small_numbers(download) == []
    api = client.get("/api/v1/projects/").json()
    assert small_numbers(api) == []
    indicators = [i for p in api["results"] for i in p["indicators"] if i["unit_kind"] == "people"]
    assert {i["latest_value"] for i in indicators} == {"menos de 10", "34.0000"}
    measurements = client.get("/api/v1/measurements/").json()["results"]
    people_values = [m["value"] for m in measurements if m["indicator"] in {i["id"] for i in indicators}]
    assert "menos de 10" in people_values and not [v for v in people_values if v[0].isdigit() and 0 < float(v) < 10]
    cells = [p["value"] for m in measurements for p in m["breakdown"]]
    assert cells and not [v for v in cells if v[0].isdigit() and 0 < float(v) < 10]


def test_staff_see_the_real_counts(client, small_project, editor):
    client.force_login(editor)
    rows = client.get("/api/v1/projects/").json()["results"]
    assert next(r for r in rows if r["code"] == "FIC-2024-200")["beneficiaries_reached"] == 7


# --- Sensitive sites ------------------------------------------------------------------------------------------------


@pytest.fixture
def sensitive_project(small_project):
    Project.objects.filter(pk=small_project.pk).update(sensitive_site=True, site_name="Refugio Las Palmas")
    small_project.refresh_from_db()
    return small_project


def test_a_sensitive_site_shows_no_site_and_only_period_totals(client, sensitive_project):
    page = client.get(sensitive_project.get_absolute_url()).content.decode()
    assert "Las Palmas" not in page
    assert "Ver totales por periodo" in page
    assert "30/06/2024" not in page  # no dated series
    for url in ("/api/v1/projects/", "/api/v1/measurements/", "/api/v1/periods/"):
        assert "Las Palmas" not in client.get(url).content.decode()
    body = b"".join(client.get("/proyectos/descarga.csv").streaming_content).decode()
    assert "Las Palmas" not in body
    measured = {m["project"] for m in client.get("/api/v1/measurements/").json()["results"]}
    assert sensitive_project.code not in measured


def test_the_partner_still_reports_on_its_sensitive_site_through_the_api(client, sensitive_project, partner_key):
    measured = client.get("/api/v1/measurements/", HTTP_AUTHORIZATION=f"Api-Key {partner_key}").json()["results"]
    assert sensitive_project.code in {m["project"] for m in measured}


def test_publication_refuses_public_text_that_names_the_site(org_a, coordinator):
    from django.core.exceptions import ValidationError

    project = make_project("FIC-2024-210", "Atención en el Refugio Las Palmas", org_a, "review")
    Project.objects.filter(pk=project.pk).update(sensitive_site=True, site_name="refugio las palmas")
    project.refresh_from_db()
    assert "Sitio sensible: el texto público no puede nombrar el sitio." in [str(g) for g in project.publication_gaps()]
    with pytest.raises(ValidationError):
        project.transition("published", coordinator)
    project.title = project.summary = project.description = "Atención a mujeres en un refugio"
    project.save()
    project.transition("published", coordinator)
    assert project.is_public


# --- Privacy notice --------------------------------------------------------------------------------------------------


def test_the_privacy_notice_is_linked_from_every_page_and_explains_arco(client, published_project):
    home = client.get("/").content.decode()
    assert 'href="/aviso-de-privacidad/"' in home
    notice = client.get("/aviso-de-privacidad/").content.decode()
    for words in ("Ley Federal de Protección de Datos Personales", "ARCO", "comités", "privacidad@ficosec.local"):
        assert words in notice
