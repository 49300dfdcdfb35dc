"""Results you can see: the map by municipality, small-cell suppression, sensitive sites, the privacy notice,
indicator progress and the evidence hub."""

import re
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.db import connection
from django.db.models import Sum
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

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
    project.refresh_derived()
    response = client.get("/?medida=monto")
    assert map_row(response, "juarez")["money"] == project.total_amount / 2
    assert map_row(response, "chihuahua")["money"] == project.total_amount / 2
    per_100k = map_row(response, "juarez")["per_100k"]
    assert per_100k == project.total_amount / 2 * 100_000 / 1_512_450


def test_statewide_projects_are_counted_apart_not_smeared(client, org_a, published_project):
    wide = make_project("FIC-2024-060", "Observatorio estatal", org_a, "published")
    for region in Region.objects.all():
        wide.municipalities.add(region.municipalities.first())
    wide.refresh_derived()
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
    measurement = indicator.measurements.create(date=date(2024, 6, 30), value=6)
    set_breakdown(measurement, [("sex", "women", 4), ("sex", "men", 2)])
    big = Indicator.objects.create(
        project=project, name="Personas en talleres", unit="personas", unit_kind="people", baseline=0, target=90
    )
    measurement = big.measurements.create(date=date(2024, 6, 30), value=34)
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


# --- Results framework: progress by one rule ----------------------------------------------------------------------


def indicator_for(project, **fields):
    from projects.models import Indicator

    return Indicator.objects.create(project=project, name="Indicador", unit="personas", **fields)


@pytest.mark.parametrize(
    "value, expected",
    [(50, "on_track"), (42, "on_track"), (35, "at_risk"), (20, "off_track")],
)
def test_progress_is_compared_with_the_share_of_time_elapsed(published_project, value, expected):
    """The project runs 2024-01-15 .. 2024-12-15: on 2024-07-01 about half of the way is expected."""
    from datetime import date
    from types import SimpleNamespace

    from projects.models import progress_status

    indicator = indicator_for(published_project, baseline=0, target=100)
    assert progress_status(indicator, SimpleNamespace(value=value), date(2024, 7, 1)) == expected


def test_progress_knows_the_direction_of_a_decreasing_indicator(published_project):
    from datetime import date
    from types import SimpleNamespace

    from projects.models import progress_status

    indicator = indicator_for(published_project, baseline=40, target=20, direction="decrease")
    assert progress_status(indicator, SimpleNamespace(value=29), date(2024, 7, 1)) == "on_track"
    assert progress_status(indicator, SimpleNamespace(value=41), date(2024, 7, 1)) == "off_track"


def test_a_period_target_sets_what_is_expected_and_an_overdue_report_is_no_recent_report(published_project):
    from datetime import date
    from types import SimpleNamespace

    from projects.models import Period, progress_status

    indicator = indicator_for(published_project, baseline=0, target=100)
    period = Period.objects.create(indicator=indicator, start=date(2024, 1, 15), end=date(2024, 3, 31), target=90)
    assert progress_status(indicator, SimpleNamespace(value=60), date(2024, 4, 2), [period]) == "off_track"
    assert progress_status(indicator, SimpleNamespace(value=85), date(2024, 4, 2), [period]) == "on_track"
    assert progress_status(indicator, SimpleNamespace(value=85), date(2024, 4, 2), [period], overdue=True) == (
        "no_report"
    )
    assert progress_status(indicator, None, date(2024, 4, 2)) == "no_report"


# Indicators covering every branch of the rule: (indicator fields, measurements as (date, value), periods as
# (start, end, target), project fields). The projects run 2024-01-15 .. 2024-12-15 unless the case says otherwise.
PROGRESS_CASES = [
    ({"baseline": 0, "target": 100}, [], [], {}),  # no measurement
    ({"baseline": 0, "target": 100}, [("2024-06-20", 50)], [], {}),  # on track by the time elapsed
    ({"baseline": 0, "target": 100}, [("2024-06-20", 35)], [], {}),  # at risk
    ({"baseline": 0, "target": 100}, [("2024-03-01", 90), ("2024-06-20", 20)], [], {}),  # the latest counts: off
    ({"baseline": 40, "target": 20, "direction": "decrease"}, [("2024-06-20", 29)], [], {}),
    ({"baseline": 40, "target": 20, "direction": "decrease"}, [("2024-06-20", 41)], [], {}),
    ({"baseline": None, "target": 10}, [("2024-06-20", 3)], [], {}),  # no baseline: from zero
    ({"baseline": 5, "target": None}, [("2024-06-20", 3)], [], {}),  # no target: no status
    ({"baseline": 5, "target": 5}, [("2024-06-20", 3)], [], {}),  # no span: no status
    ({"baseline": 0, "target": 100}, [("2024-06-20", 150)], [], {}),  # beyond the target: clamped
    ({"baseline": 0, "target": 100}, [("2024-06-20", 60)], [("2024-01-15", "2024-03-31", 90)], {}),  # period
    ({"baseline": 0, "target": 100}, [("2024-06-20", 85)], [("2024-01-15", "2024-03-31", 90)], {}),
    ({"baseline": 0, "target": 100}, [("2024-06-20", 85)], [("2024-01-15", "2024-03-31", None)], {}),
    ({"baseline": 0, "target": 100}, [("2024-06-20", 10)], [("2024-06-01", "2024-08-31", 90)], {}),  # not ended
    ({"baseline": 0, "target": 100}, [("2024-06-20", 90)], [], {"status": "finished", "planned_end": None}),
    ({"baseline": 0, "target": 100}, [("2024-06-20", 90)], [], {"status": "finished", "actual_end": "2024-05-01"}),
    ({"baseline": 0, "target": 100}, [("2024-06-20", 99)], [], {"status": "finished", "planned_end": "2024-01-15"}),
    ({"baseline": 0, "target": 100, "frequency": 1}, [("2024-03-01", 50)], [], {}),  # overdue monthly report
    ({"baseline": 0, "target": 100, "frequency": 12}, [("2024-03-01", 50)], [], {}),  # a yearly one is not
    ({"baseline": 0, "target": 100, "frequency": 1}, [("2024-03-01", 50)], [], {"status": "finished"}),
    ({"baseline": 0, "target": 100, "frequency": 1}, [], [], {"actual_start": "2024-06-10"}),
]


def test_the_roll_up_counts_by_the_same_rule_as_each_project_page(org_a):
    """progress_status_counts (SQL, the evidence page) and progress_status (Python, the project page) agree on every
    branch: each case is its own project, counted alone and against the rule applied to its loaded rows."""
    from datetime import date

    from projects.models import Indicator, Measurement, Period, progress_status, progress_status_counts

    today = date(2024, 7, 1)
    seen = set()
    for n, (fields, measurements, periods, project_fields) in enumerate(PROGRESS_CASES):
        project = make_project(f"FIC-2024-{500 + n}", f"Caso {n}", org_a, "published")
        Project.objects.filter(pk=project.pk).update(**project_fields)
        project.refresh_from_db()
        project.indicators.all().delete()
        indicator = indicator_for(project, **fields)
        for day, value in measurements:
            Measurement.objects.create(indicator=indicator, date=day, value=value)
        for start, end, target in periods:
            Period.objects.create(indicator=indicator, start=start, end=end, target=target)
        indicator = Indicator.objects.select_related("project").get(pk=indicator.pk)
        latest = indicator.measurements.order_by("date").last()
        late = Indicator.overdue(Project.objects.filter(pk=project.pk), today).filter(pk=indicator.pk).exists()
        expected = progress_status(indicator, latest, today, list(indicator.periods.all()), overdue=late)
        counted = progress_status_counts(Project.objects.filter(pk=project.pk), today)
        assert counted == {(project.axis_id, expected): 1}, (n, fields, measurements, periods, project_fields)
        seen.add(expected)
    assert seen == {"on_track", "at_risk", "off_track", "no_report"}


def test_the_project_page_shows_the_status_and_a_late_report(client, published_project):
    body = client.get(published_project.get_absolute_url()).content.decode()
    assert 'class="status__label"' in body
    assert "informe atrasado" in body  # the fixture's one measurement dates from March 2024
    assert 'class="progress-bar"' in body


# --- Unit kinds, breakdowns and periods through the API (the workspace twin is below) -----------------------------


def api(partner_key):
    return {"HTTP_AUTHORIZATION": f"Api-Key {partner_key}"}


@pytest.mark.parametrize(
    "kind, value, ok",
    [
        ("people", "2.5", False),
        ("people", "-1", False),
        ("people", "12", True),
        ("percentage", "120", False),
        ("percentage", "99.5", True),
        ("money", "-3", False),
        ("other", "-3", True),
    ],
)
def test_a_measurement_must_fit_its_unit_kind(client, draft_project, partner_key, kind, value, ok):
    indicator = indicator_for(draft_project, unit_kind=kind)
    response = client.post(
        "/api/v1/measurements/",
        {"indicator": indicator.pk, "date": "2024-05-31", "value": value},
        content_type="application/json",
        **api(partner_key),
    )
    assert response.status_code == (201 if ok else 400), response.content
    if not ok:
        assert response.json()["errors"]["value"]


def test_a_breakdown_must_add_up_to_the_measurement(client, draft_project, partner_key):
    measurement = draft_project.indicators.get().measurements.get()  # value 40
    url = f"/api/v1/measurements/{measurement.pk}/breakdown/"
    wrong = {"parts": [{"dimension": "sex", "category": "women", "value": "30"}]}
    response = client.post(url, wrong, content_type="application/json", **api(partner_key))
    assert response.status_code == 400
    assert "suman 30 y la medición vale 40" in response.content.decode()
    assert not measurement.breakdown.exists()
    unknown = {"parts": [{"dimension": "sex", "category": "aliens", "value": "40"}]}
    assert client.post(url, unknown, content_type="application/json", **api(partner_key)).status_code == 400
    right = {
        "parts": [
            {"dimension": "sex", "category": "women", "value": "25"},
            {"dimension": "sex", "category": "men", "value": "15"},
            {"dimension": "age", "category": "12-17", "value": "40"},
        ]
    }
    response = client.post(url, right, content_type="application/json", **api(partner_key))
    assert response.status_code == 200
    assert measurement.breakdown.count() == 3
    assert {p["category"] for p in response.json()["breakdown"]} == {"women", "men", "12-17"}


def test_periods_of_an_indicator_cannot_overlap(client, draft_project, partner_key):
    indicator = draft_project.indicators.get()
    first = {"indicator": indicator.pk, "start": "2024-01-01", "end": "2024-03-31", "narrative": "Arrancamos."}
    response = client.post("/api/v1/periods/", first, content_type="application/json", **api(partner_key))
    assert response.status_code == 201
    overlapping = {"indicator": indicator.pk, "start": "2024-03-01", "end": "2024-06-30"}
    response = client.post("/api/v1/periods/", overlapping, content_type="application/json", **api(partner_key))
    assert response.status_code == 400
    backwards = {"indicator": indicator.pk, "start": "2024-09-01", "end": "2024-07-01"}
    response = client.post("/api/v1/periods/", backwards, content_type="application/json", **api(partner_key))
    assert response.status_code == 400


# --- The workspace page: the HTML twin ------------------------------------------------------------------------------


def test_a_partner_reports_a_period_and_a_breakdown_in_the_workspace(client, partner, draft_project):
    client.force_login(partner)
    url = f"/gestion/proyectos/{draft_project.code}/resultados/"
    indicator = draft_project.indicators.get()
    response = client.post(
        url,
        {
            "period": "1",
            "indicator": indicator.pk,
            "start": "2024-01-01",
            "end": "2024-03-31",
            "target": "30",
            "narrative": "Primer trimestre.",
            "difficulties": "Lluvias.",
        },
    )
    assert response.status_code == 302
    period = indicator.periods.get()
    assert period.narrative_by == partner and period.target == 30
    measurement = indicator.measurements.get()
    response = client.post(f"{url}?medicion={measurement.pk}", {"breakdown": "1", "sex__women": "10", "sex__men": "5"})
    assert response.status_code == 400
    assert "deben coincidir" in response.content.decode()
    response = client.post(f"{url}?medicion={measurement.pk}", {"breakdown": "1", "sex__women": "30", "sex__men": "10"})
    assert response.status_code == 302
    assert measurement.breakdown.count() == 2
    assert "Primer trimestre." in client.get(url).content.decode()


def test_nobody_reports_on_a_project_they_may_not_report_on(client, partner, other_draft, outsider):
    client.force_login(partner)
    assert client.get(f"/gestion/proyectos/{other_draft.code}/resultados/").status_code == 404
    client.force_login(outsider)
    assert client.post(f"/gestion/proyectos/{other_draft.code}/resultados/", {"period": "1"}).status_code == 404


# --- Evidence hub and roll-up --------------------------------------------------------------------------------------


@pytest.fixture
def evaluation(published_project, draft_project):
    from projects.models import Evaluation

    found = Evaluation.objects.create(
        title="Evaluación de impacto de prueba",
        evaluator="Universidad de Prueba",
        design=3,
        year=2024,
        findings="Menos deserción escolar.",
        document_url="https://example.org/evaluacion.pdf",
    )
    found.projects.set([published_project, draft_project])
    return found


def test_the_evidence_hub_explains_levels_and_links_evaluations_to_public_projects_only(
    client, evaluation, published_project, draft_project
):
    body = client.get("/evidencia/").content.decode()
    for words in ("Efectiva", "Prometedora", "Sin efecto", "Efectos negativos", "Maryland", "Experimento"):
        assert words in body
    assert "Evaluación de impacto de prueba" in body and "https://example.org/evaluacion.pdf" in body
    assert published_project.get_absolute_url() in body
    assert draft_project.title not in body
    page = client.get(published_project.get_absolute_url()).content.decode()
    assert f"/evidencia/#evaluacion-{evaluation.pk}" in page


def test_what_works_lists_the_strongest_evidence_first(client, org_a):
    strong = make_project("FIC-2024-300", "Programa efectivo", org_a, "published")
    weak = make_project("FIC-2024-301", "Programa prometedor", org_a, "published")
    Project.objects.filter(pk=strong.pk).update(evidence_level="effective", evaluation_design=4)
    Project.objects.filter(pk=weak.pk).update(evidence_level="promising", evaluation_design=5)
    axis = next(row for row in client.get("/evidencia/").context["axes"] if row["axis"].number == 3)
    assert [p.code for p in axis["works"]] == ["FIC-2024-300", "FIC-2024-301"]


def test_the_roll_up_counts_every_indicator_of_published_projects_once(client, published_project, draft_project):
    context = client.get("/evidencia/").context
    assert sum(context["portfolio"].values()) == published_project.indicators.count()
    axis = next(row for row in context["axes"] if row["axis"].pk == published_project.axis_id)
    assert axis["status"] == context["portfolio"]
    assert (
        "suma de lo que reporta cada proyecto" in context.rendered_content
        if hasattr(context, "rendered_content")
        else True
    )


def test_the_evidence_page_query_count_does_not_grow_with_evaluations(client, org_a):
    from projects.models import Evaluation

    def count():
        cache.clear()
        with CaptureQueriesContext(connection) as captured:
            assert client.get("/evidencia/").status_code == 200
        return len(captured)

    def evaluate(n):
        project = make_project(f"FIC-2024-{400 + n}", f"Evaluado {n}", org_a, "published")
        evaluation = Evaluation.objects.create(title=f"E{n}", evaluator="U", design=2, year=2024, findings="F")
        evaluation.projects.add(project)

    evaluate(0)
    one = count()
    for n in range(1, 8):
        evaluate(n)
    assert count() == one


def test_the_evidence_page_asks_a_fixed_number_of_queries(client, published_project, django_assert_num_queries):
    """The time of the last change to a project and to an indicator or measurement (the roll-up's cache key), the
    axes, the projects by axis and level (levels, money, people: one grouped read), what works (one union over the
    axes), the indicators' roll-up, the evaluations and their public projects, and the site's demo flag."""
    client.get("/evidencia/")  # the first request also reads the site's demo flag, kept for later ones
    cache.clear()
    with django_assert_num_queries(8):
        assert client.get("/evidencia/").status_code == 200


def test_the_periods_endpoint_query_count_does_not_grow(client, draft_project, partner_key):
    from datetime import date

    from projects.models import Period

    indicator = draft_project.indicators.get()

    def count():
        with CaptureQueriesContext(connection) as captured:
            assert client.get("/api/v1/periods/", **api(partner_key)).status_code == 200
        return len(captured)

    Period.objects.create(indicator=indicator, start=date(2024, 1, 1), end=date(2024, 1, 31))
    count()  # the key's first use is recorded once
    one = count()
    for month in range(2, 12):
        Period.objects.create(indicator=indicator, start=date(2024, month, 1), end=date(2024, month, 28))
    assert count() == one


def test_the_municipality_page_counts_sums_and_pages_exactly_its_published_projects(client, org_a, ficosec_org):
    """Its count and money come from the counting index (projects.facets); its pages from the database: the two
    must agree with each other and with plain SQL over the link table."""
    juarez = Municipality.objects.get(inegi_code="08037")
    for n in range(23):
        project = make_project(f"FIC-2024-{400 + n}", f"Proyecto {n}", org_a, "published", ficosec=ficosec_org)
        project.municipalities.set([juarez])
    make_project("FIC-2024-499", "Borrador", org_a, "draft", ficosec=ficosec_org).municipalities.set([juarez])
    expected = Project.objects.published().filter(municipalities=juarez)
    response = client.get("/municipios/juarez/")
    assert response.context["page"].paginator.count == expected.count() == 23
    assert response.context["total_money"] == expected.aggregate(s=Sum("total_amount"))["s"]
    seen, url = [], "/municipios/juarez/"
    while url:
        page = client.get(url).context["page"]
        seen += [p.code for p in page.object_list]
        url = f"/municipios/juarez/?page={page.next_page_number()}" if page.has_next() else None
    assert sorted(seen) == sorted(expected.values_list("code", flat=True))


def test_the_municipality_page_asks_the_same_queries_however_many_projects_and_implementers(
    client, org_a, ficosec_org
):
    """Its count, money, map and busiest implementers come from the counting index: more projects, each with an
    implementer of its own, ask nothing more (the implementers' names are one read)."""
    from projects.models import Organization

    def queries():
        cache.clear()
        with CaptureQueriesContext(connection) as captured:
            response = client.get("/municipios/juarez/")
            assert response.status_code == 200
        return len(captured), len(response.context["implementers"])

    make_project("FIC-2024-700", "Uno", org_a, "published", ficosec=ficosec_org)
    queries()  # the counting index built in the test's transaction
    few, named = queries()
    for n in range(24):
        doer = Organization.objects.create(name=f"Implementadora {n:02}", kind="osc")
        make_project(f"FIC-2024-{701 + n}", f"Proyecto {n}", doer, "published", ficosec=ficosec_org)
    queries()  # the new projects patched into the index, as the first visitor after them does
    many, named_many = queries()
    assert (named, named_many) == (1, 20)  # IMPLEMENTERS
    # The municipality; the index brought up to date (its changes); the map's municipalities; the page's rows and
    # their municipalities (2); the implementers' names; the indicators of the listed projects; the demo flag.
    assert few == many == 8


def test_the_municipality_page_names_its_busiest_implementers_and_the_indicators_of_the_projects_it_lists(
    client, org_a, org_b, ficosec_org, monkeypatch
):
    """Implementers: of its published projects only, most projects first with their number, no funder, at most
    IMPLEMENTERS (a big municipality has thousands). Indicators: those of the projects the page lists, page by page."""
    from projects.models import Organization
    from projects.views import results

    monkeypatch.setattr(results, "IMPLEMENTERS", 2)
    org_c = Organization.objects.create(name="Colectivo Gamma", kind="osc")
    org_hidden = Organization.objects.create(name="Solo Borradores, A.C.", kind="osc")
    for n in range(22):
        make_project(
            f"FIC-2024-{600 + n}", f"Proyecto {n:02}", org_a if n < 20 else org_b, "published", ficosec=ficosec_org
        )
    make_project("FIC-2024-690", "Tercero", org_c, "published")
    for n in range(3):  # more projects than anyone, but drafts
        make_project(f"FIC-2024-69{n + 1}", f"Borrador {n}", org_hidden, "draft")
    response = client.get("/municipios/juarez/")
    listed = [(org.name, org.here) for org in response.context["implementers"]]
    assert listed == [(org_a.name, 20), (org_b.name, 2)]  # not FICOSEC (a funder), not the drafts' implementer
    body = response.content.decode()
    assert "(20 proyectos)" in body and "Solo Borradores" not in body and "Colectivo Gamma" not in body
    for url in ("/municipios/juarez/", "/municipios/juarez/?page=2"):
        page_response = client.get(url)
        codes = {project.code for project in page_response.context["page"]}
        shown = {indicator.project.code for indicator in page_response.context["indicators"]}
        assert shown == codes  # each listed project has one indicator; none of another page

    # The counts follow a change of role (the project's implementer_ids, logged for the counting index): BETA only
    # funds one of its two projects now, and ties with GAMMA's one project.
    changed = Participation.objects.get(project__code="FIC-2024-620", organization=org_b)
    changed.role = Participation.Role.FUNDER
    changed.save()
    monkeypatch.setattr(results, "IMPLEMENTERS", 3)
    listed = [(org.name, org.here) for org in client.get("/municipios/juarez/").context["implementers"]]
    assert listed == [(org_a.name, 20), (org_c.name, 1), (org_b.name, 1)]  # ties by name: Colectivo, then Red


def test_the_roll_up_follows_a_new_measurement_at_once(client, published_project):
    """A partner's report adds a measurement and touches no project: the roll-up, cached until what it reads
    changes, must count it on the next request."""
    from projects.models import Measurement

    before = client.get("/evidencia/").context["portfolio"]  # counted, and cached
    indicator = published_project.indicators.get()  # measured 40 of 100 on 2024-03-31
    Measurement.objects.create(indicator=indicator, date=timezone.localdate(), value=indicator.target)
    after = client.get("/evidencia/").context["portfolio"]
    assert before["on_track"] == 0
    assert after["on_track"] == 1
    assert sum(after.values()) == sum(before.values())
