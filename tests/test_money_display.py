"""Money and counts as people read them: rounding, whole head counts, unknown amounts that are not zero, and the
totals every list shows ("17 proyectos · $X en total · $Y de FICOSEC")."""

import csv
import io
import json
from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse

from projects.models import Indicator, Participation, Project
from projects.resources import ProjectResource
from projects.templatetags.portal import grouped, mxn, whole

from .conftest import make_project
from .pages import Page, shown_count, shown_money
from .test_staff import form_data

pytestmark = pytest.mark.django_db


def body(response):
    return (b"".join(response.streaming_content) if response.streaming else response.content).decode("utf-8")


@pytest.fixture
def unknown_project(org_b, ficosec_org):
    """A published project whose partners' amounts nobody has published (FICOSEC takes part, amount unknown)."""
    project = make_project("FIC-2024-090", "Mediación comunitaria sin monto", org_b, "published")
    Participation.objects.filter(project=project).update(amount=None)
    Participation.objects.create(project=project, organization=ficosec_org, role="funder", amount=None)
    project.refresh_derived()
    project.refresh_from_db()
    return project


# --- Formatting ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value, decimals, shown",
    [
        (Decimal("1.005"), 2, "$1.01"),  # number_format alone truncates to $1.00
        (Decimal("2.5"), 0, "$3"),
        (Decimal("3879927.43"), 0, "$3,879,927"),
        (Decimal("1999.999"), 2, "$2,000.00"),
        (Decimal("1250000.50"), None, "$1,250,000.50"),
        (Decimal("1250000"), None, "$1,250,000.00"),
        (None, None, "Monto no publicado"),
        (Decimal("-0.004"), None, "$0.00"),  # never "$-0.00"
        (Decimal("NaN"), None, "—"),
        ("Infinity", 0, "—"),
    ],
)
def test_money_is_rounded_half_up_and_unknown_money_says_so(value, decimals, shown):
    assert (mxn(value) if decimals is None else mxn(value, decimals)) == shown


@pytest.mark.parametrize("language", ["es-mx", "en", "de", "zh-hans"])
@pytest.mark.parametrize(
    "value, decimals",
    [
        (0, 0),
        (7, 0),
        (1234, 0),
        (-1234567, 0),
        (10**15 + 1, 0),
        (Decimal("1234567.89"), 2),
        (Decimal("-0.01"), 2),
        (Decimal("999.50"), 2),
        (Decimal("3879927"), 0),
        (Decimal("1000000.000"), 3),
        (Decimal("0.00"), 2),
        (Decimal("-0.00"), 2),
        (Decimal("-0"), 0),
        (Decimal("-0.004"), 2),
    ],
)
def test_grouped_numbers_read_as_djangos_number_format_writes_them(language, value, decimals):
    """`grouped` (the catalogue's fast path for its map and filter counts) writes what number_format does, in the
    portal's languages and in languages with other marks (German: 1.234,5) or grouping (Chinese, by four)."""
    from django.utils import translation
    from django.utils.formats import number_format

    with translation.override(language):
        assert grouped(value, decimals) == number_format(value, decimals, force_grouping=True)


def test_people_are_counted_in_whole_numbers():
    assert whole(Decimal("233.40")) == "233" and whole(Decimal("9.5")) == "10" and whole(None) == "—"
    assert whole(Decimal("-0.4")) == "0" and whole("NaN") == "—"
    assert Indicator(unit="personas").counts_whole and Indicator(unit="adolescentes").counts_whole
    assert not Indicator(unit="%").counts_whole and not Indicator(unit="tasa por 100 mil").counts_whole


def test_a_head_count_indicator_shows_no_decimals_on_the_project_page(client, published_project):
    indicator = published_project.indicators.get()
    indicator.measurements.create(date=date(2024, 6, 30), value=Decimal("233.40"))
    text = body(client.get(published_project.get_absolute_url()))
    assert "233.40" not in text and "233.4" not in text
    assert ">233 <" in text or ">233<" in text


def test_a_card_and_its_project_page_show_the_same_amount(client, published_project, org_b):
    Participation.objects.create(project=published_project, organization=org_b, role="ally", amount=Decimal("0.50"))
    published_project.refresh_from_db()
    assert published_project.total_amount == Decimal("1250000.50")
    assert "$1,250,000.50" in body(client.get("/proyectos/"))
    assert "$1,250,000.50" in body(client.get(published_project.get_absolute_url()))


# --- Unknown is not zero ------------------------------------------------------------------------------------------


def test_a_project_whose_amounts_are_unknown_has_an_unknown_total_not_zero(unknown_project):
    assert unknown_project.total_amount is None and unknown_project.ficosec_amount is None
    assert unknown_project.leverage is None


def test_totals_add_the_known_amounts_and_ficosec_is_zero_only_when_it_takes_no_part(org_a, org_b, ficosec_org):
    project = make_project("FIC-2024-091", "Mitad conocida", org_a, "published", ficosec=ficosec_org)
    Participation.objects.create(project=project, organization=org_b, role="funder", amount=None)
    project.refresh_from_db()
    assert project.total_amount == Decimal("1250000") and project.ficosec_amount == Decimal("1000000")
    alone = make_project("FIC-2024-092", "Sin FICOSEC", org_b, "published")
    assert alone.total_amount == Decimal("250000") and alone.ficosec_amount == Decimal("0")


def test_unknown_amounts_read_as_unpublished_on_pages_downloads_and_the_api(client, unknown_project, published_project):
    page = body(client.get(unknown_project.get_absolute_url()))
    assert "Monto no publicado" in page and "$0" not in page
    assert "Monto no publicado" in body(client.get("/proyectos/?q=mediación"))

    rows = list(csv.DictReader(io.StringIO(body(client.get("/proyectos/descarga.csv")).removeprefix("\ufeff"))))
    row = next(r for r in rows if r["clave"] == unknown_project.code)
    assert row["monto total MXN"] == "" and row["monto FICOSEC MXN"] == ""
    item = next(
        i for i in json.loads(body(client.get("/proyectos/descarga.json"))) if i["code"] == unknown_project.code
    )
    assert item["total_amount"] is None and item["ficosec_amount"] is None

    api = client.get(f"/api/v1/projects/{unknown_project.code}/").json()
    assert api["total_amount"] is None and api["ficosec_amount"] is None and api["leverage"] is None
    assert {p["amount"] for p in api["partners"]} == {None} and api["money_by_sector"] == []
    listed = client.get("/api/v1/projects/?ordering=-total_amount").json()["results"]
    assert [p["code"] for p in listed] == [published_project.code, unknown_project.code]  # unknown last, not first


def test_a_list_says_how_many_projects_have_no_published_amount(client, unknown_project, published_project):
    page = Page(body(client.get("/proyectos/")))
    assert shown_count(page) == 2
    assert shown_money(page) == (Decimal("1250000"), Decimal("1000000"))
    assert "1 proyecto sin monto publicado" in page.text(".totals")
    ordered = Page(body(client.get("/proyectos/?orden=monto")))
    titles = [link["text"].strip() for link in ordered.links if ".project-card__title" in link["within"]]
    assert titles == [published_project.title, unknown_project.title]


def test_an_editor_saves_a_partner_with_a_blank_amount_as_unknown(client, editor, org_a):
    client.force_login(editor)
    data = form_data(
        **{
            "participations-TOTAL_FORMS": "1",
            "participations-0-organization": org_a.slug,
            "participations-0-role": "implementer",
            "participations-0-amount": "",
            "participations-0-contribution_kind": "cash",
        }
    )
    response = client.post(reverse("project_create"), data)
    assert response.status_code == 302, response.context and response.context["form"].errors
    project = Project.objects.get(code="FIC-2025-050")
    assert project.participations.get().amount is None and project.total_amount is None


def test_the_import_format_keeps_a_blank_amount_blank(org_a, unknown_project):
    resource = ProjectResource()
    [participation] = resource.parse_participations(f"{org_a.slug}:implementer::cash")
    parsed = (participation.organization, participation.role, participation.amount, participation.contribution_kind)
    assert parsed == (org_a, "implementer", None, "cash")
    exported = resource.dehydrate_participations(unknown_project)
    assert "None" not in exported and "implementer::cash" in exported


# --- Totals on every list -----------------------------------------------------------------------------------------


def test_home_axis_and_organization_pages_show_their_totals(client, published_project, unknown_project, org_a):
    for url in ["/", "/ejes/", "/ejes/corresponsabilidad-ciudadana/"]:
        page = Page(body(client.get(url)), url)
        assert shown_count(page) == 2, url
        assert shown_money(page) == (Decimal("1250000"), Decimal("1000000")), url
    page = Page(body(client.get(org_a.get_absolute_url())))
    assert shown_count(page) == 1 and shown_money(page) == (Decimal("1250000"), Decimal("1000000"))


def test_the_home_says_what_its_money_counts(client, published_project):
    text = body(client.get("/"))
    assert "Inversión" not in text
    assert "todas las fuentes" in text and "en especie" in text


def test_the_organization_directory_shows_counts_and_money_and_sorts_by_them(
    client, published_project, unknown_project, org_a, org_b, ficosec_org
):
    make_project("FIC-2024-093", "Segundo de Beta", org_b, "published")
    make_project("FIC-2024-094", "Tercero de Beta", org_b, "published")

    def names(order):
        page = Page(body(client.get(f"/organizaciones/?orden={order}")))
        return [
            link["text"].strip()
            for link in page.links
            if link["href"].startswith("/organizaciones/") and link["href"].count("/") == 3
        ]

    assert names("proyectos")[0] == org_b.name  # three projects; FICOSEC two, Alfa one
    assert names("monto") == [org_a.name, ficosec_org.name, org_b.name]  # 1,250,000 each (then by name); Beta 500,000
    text = body(client.get("/organizaciones/"))
    assert "$1,250,000" in text and "$500,000" in text
