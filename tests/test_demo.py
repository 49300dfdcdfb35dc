"""Demo data that cannot embarrass anyone: it says DEMO on every page, download and API list while it is loaded;
real organizations carry no invented identifier; the real projects' money is recorded as the press gave it;
every municipality belongs to a region; loading twice changes nothing."""

import csv
import io
import json
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.urls import reverse
from stdnum.mx import rfc as sat_rfc

from projects import demo
from projects.models import Measurement, Municipality, Organization, Participation, Project, Region, SiteFlag

pytestmark = pytest.mark.django_db

REAL = ["ficosec", "casa", "dhia", "sjr", "paz-y-convivencia", "fechac"]


@pytest.fixture
def demo_on(db):
    """The flag as load_demo leaves it, read from the database (its cache cleared first)."""
    cache.delete(SiteFlag.cache_key(SiteFlag.DEMO))
    SiteFlag.objects.create(name=SiteFlag.DEMO)
    yield
    cache.delete(SiteFlag.cache_key(SiteFlag.DEMO))


def download(client, fmt):
    response = client.get(reverse("project_download", args=[fmt]))
    assert response.status_code == 200
    return b"".join(response.streaming_content).decode("utf-8-sig")


# --- The banner and the DEMO marks ------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/", "/proyectos/", "/ejes/", "/organizaciones/", "/en/", "/gestion/entrar/"])
def test_every_page_says_demo_while_demo_data_is_loaded(client, demo_on, published_project, path):
    text = client.get(path).content.decode()
    assert 'class="demo-banner"' in text and "DEMO" in text


def test_a_real_deployment_shows_no_banner_and_no_demo_marks(client, published_project):
    cache.delete(SiteFlag.cache_key(SiteFlag.DEMO))  # read the (empty) flag table, as a fresh server does
    assert "demo-banner" not in client.get("/").content.decode()
    assert "demo" not in next(csv.reader(io.StringIO(download(client, "csv"))))
    assert "demo" not in json.loads(download(client, "json"))[0]
    assert "demo" not in client.get("/api/v1/projects/").json()


def test_downloads_and_api_lists_say_demo_while_demo_data_is_loaded(client, demo_on, published_project):
    rows = list(csv.DictReader(io.StringIO(download(client, "csv"))))
    assert [row["demo"] for row in rows] == ["DEMO"]
    assert json.loads(download(client, "json"))[0]["demo"] is True
    listing = client.get("/api/v1/projects/").json()
    assert listing["demo"] is True and listing["count"] == 1
    assert client.get("/api/v1/projects/sync/").json()["demo"] is True


def test_the_flag_is_read_once_not_on_every_page(client, demo_on, published_project):
    client.get("/")
    SiteFlag.objects.all().delete()  # behind the cache's back: the next pages still say DEMO from the cache
    assert 'class="demo-banner"' in client.get("/").content.decode()
    SiteFlag.turn_off(SiteFlag.DEMO)
    assert 'class="demo-banner"' not in client.get("/").content.decode()


# --- Geography --------------------------------------------------------------------------------------------------


def test_every_one_of_the_67_municipalities_belongs_to_exactly_one_region(db):
    assert Municipality.objects.count() == 67
    assert not Municipality.objects.filter(region=None).exists()
    assert Region.objects.count() == 6
    assert sum(region.municipalities.count() for region in Region.objects.all()) == 67
    assert Municipality.objects.get(inegi_code="08065").region.slug == "cuauhtemoc"  # Urique
    assert Municipality.objects.get(inegi_code="08046").region.slug == "parral"  # Morelos


# --- The demo set itself ----------------------------------------------------------------------------------------


@pytest.fixture
def loaded(demo_data, db):
    """The demo set, loaded once for these tests (conftest's demo_data; this section is the module's last, so no
    test above sees it), with the flag read from the database."""
    cache.delete(SiteFlag.cache_key(SiteFlag.DEMO))
    yield
    cache.delete(SiteFlag.cache_key(SiteFlag.DEMO))


def test_loading_the_demo_twice_changes_nothing_and_leaves_the_flag_on(loaded, client):
    projects = list(Project.objects.order_by("pk").values_list("code", "updated_at", "total_amount"))
    assert demo.load(force=True) == 0
    assert list(Project.objects.order_by("pk").values_list("code", "updated_at", "total_amount")) == projects
    assert SiteFlag.objects.filter(name=SiteFlag.DEMO).count() == 1
    assert 'class="demo-banner"' in client.get("/").content.decode()


def test_the_demo_invents_nothing_about_real_organizations_and_only_valid_rfcs_for_invented_ones(loaded):
    for organization in Organization.objects.filter(slug__in=[slug for slug, *_rest in demo.ORGANIZATIONS]):
        assert (organization.rfc, organization.cluni, organization.is_donataria) == ("", "", False), organization
    assert set(REAL) <= set(Organization.objects.values_list("slug", flat=True))
    for name in demo.REAL_GENERATED:
        assert Organization.objects.get(name=name).rfc == ""
    invented = Organization.objects.exclude(rfc="")
    assert invented.count() > 20
    for organization in invented:
        assert sat_rfc.validate(organization.rfc, validate_check_digits=True), organization
        assert "ficticia" in organization.description


def test_the_demo_measurements_never_cite_a_real_organizations_report(loaded):
    from projects import demo_results

    sources = set(Measurement.objects.values_list("source", flat=True))
    # The generic fictitious source, or the results demo's own sources, marked as demo data.
    assert demo.MEASUREMENT_SOURCE in sources
    assert all(s == demo.MEASUREMENT_SOURCE or s.endswith(demo_results.DEMO) for s in sources), sources
    assert not any("Informe" in s for s in sources)
    assert "Informe" not in demo.MEASUREMENT_SOURCE


def test_the_migrants_project_splits_ficosecs_money_among_its_three_implementers_as_reported(loaded):
    project = Project.objects.get(code="FIC-2023-031")
    parts = {(p.organization.slug, p.role): p for p in project.participations.select_related("organization")}
    assert parts[("ficosec", "funder")].amount == Decimal("4996461.51")
    split = {"dhia": "2,209,181.70", "casa": "1,792,168.51", "sjr": "995,111.30"}
    for slug, amount in split.items():
        assert amount in parts[(slug, "implementer")].note
    assert sum(Decimal(a.replace(",", "")) for a in split.values()) == project.ficosec_amount


def test_the_police_park_records_its_three_contributions_separately(loaded):
    project = Project.objects.get(code="FIC-2025-003")
    rows = sorted(
        Participation.objects.filter(project=project).values_list("organization__slug", "amount", "contribution_kind")
    )
    assert rows == [
        ("ficosec", Decimal("180000000.00"), "cash"),
        ("municipio-juarez", Decimal("20000000.00"), "in_kind"),
        ("municipio-juarez", Decimal("63000000.00"), "cash"),
    ]


def test_the_demo_covers_every_axis_line_region_status_and_state(loaded):
    published = Project.objects.published()
    assert set(published.values_list("axis__number", flat=True)) == {1, 2, 3, 4}
    assert set(published.values_list("lines__number", flat=True)) == {1, 2, 3, 4}
    assert Region.objects.exclude(municipalities__projects__in=published).count() == 0
    assert set(published.values_list("status", flat=True)) == set(Project.Status.values)
    assert set(Project.objects.values_list("publication_state", flat=True)) == set(Project.Publication.values)
    assert all(not project.publication_gaps() for project in published)
    assert Measurement.objects.values("indicator").distinct().count() >= 100
    # Every state was reached through Project.transition, as a person would: each step recorded, in order.
    for project in Project.objects.exclude(publication_state="draft").prefetch_related("workflow_steps"):
        steps = [step.to_state for step in sorted(project.workflow_steps.all(), key=lambda step: step.pk)]
        assert steps[0] == "review" and steps[-1] == project.publication_state, project.code


def test_the_demo_keeps_the_facts_of_the_real_projects(loaded):
    casa = Project.objects.get(title="Transformando personas y entornos violentos")
    assert casa.ficosec_amount == Decimal("1600000") and casa.total_amount == Decimal("2200000")
    assert casa.municipalities.get().inegi_code == "08019" and casa.beneficiaries_target == 350
    assert casa.participations.get(role="implementer").organization.acronym == "CASA"
    assert Project.objects.get(title__startswith="Modelo").ficosec_amount == Decimal("3879927.43")
    assert Project.objects.get(title="Un paso en familia").ficosec_amount == Decimal("896556")
    assert Project.objects.get(title__startswith="Fortalecimiento CAVIM").ficosec_amount == Decimal("238927")
    movilidad = Project.objects.get(title="Seguridad ciudadana para personas en movilidad")
    assert movilidad.participations.filter(role="implementer").count() == 3
