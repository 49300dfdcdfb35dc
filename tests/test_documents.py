"""The API's stored project documents (projects.serializers.project_documents, migration 0020): a list serves each
project's document as stored while its version holds, and every change a document reads, by any path (the ORM,
a queryset update that skips Python, raw SQL), gives its projects a new version, so the next list shows it."""

from datetime import date
from decimal import Decimal

import orjson
import pytest
from django.db import connection
from django.utils import translation

from axes.models import Axis, Line
from projects.models import (
    AwardDecision,
    Indicator,
    Measurement,
    Municipality,
    Organization,
    Participation,
    Project,
    ProjectDocument,
    ProjectVersion,
    Region,
)
from projects.serializers import project_documents, project_rows

from .conftest import make_project
from .test_money_facts import at_once

pytestmark = pytest.mark.django_db


def listed(client, **headers):
    """{code: item} of the API's first page."""
    response = client.get("/api/v1/projects/?page_size=100", **headers)
    assert response.status_code == 200
    return {item["code"]: item for item in response.json()["results"]}


def truth(project, staff=False):
    """The project's list item built afresh from the database, as JSON reads it back."""
    return orjson.loads(orjson.dumps(project_rows(Project.objects.filter(pk=project.pk), staff=staff)[0]))


def stored(project):
    return set(ProjectDocument.objects.filter(project=project).values_list("variant", "version", "body"))


@pytest.fixture
def pair(org_a, org_b, ficosec_org):
    one = make_project("FIC-2024-801", "Mediación escolar", org_a, "published", ficosec=ficosec_org)
    other = make_project("FIC-2024-802", "Ajedrez en secundarias", org_b, "published")
    other.municipalities.set([Municipality.objects.get(inegi_code="08019")])
    return one, other


def raw(sql, *params):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


# Each change reaches the first project's document only (`narrow`), or through shared names, both.
CHANGES = {
    "title saved": (True, lambda p: Project.objects.filter(pk=p.pk).update(title="Mediación escolar y comunitaria")),
    "summary by raw SQL, no updated_at": (
        True,
        lambda p: raw("UPDATE projects_project SET summary = 'Otro resumen.' WHERE id = %s", p.pk),
    ),
    "partner's amount by a queryset update": (
        True,
        lambda p: Participation.objects.filter(project=p, role="implementer").update(amount=Decimal("99.50")),
    ),
    "a new partner": (
        True,
        lambda p: Participation.objects.create(
            project=p, organization=Organization.objects.create(name="Aliada nueva", kind="osc"), role="ally"
        ),
    ),
    "a partner removed": (True, lambda p: Participation.objects.filter(project=p, role="funder").delete()),
    "organization renamed": (True, lambda p: Organization.objects.filter(slug="alfa").update(name="Alfa renombrada")),
    "organization's kind (its sector)": (
        True,
        lambda p: Organization.objects.filter(participations__project=p, is_ficosec=False).update(kind="company"),
    ),
    "a newer measurement": (
        True,
        lambda p: Measurement.objects.create(indicator=p.indicators.get(), date=date(2024, 9, 30), value=77),
    ),
    "the latest measurement deleted": (
        True,
        lambda p: Measurement.objects.filter(indicator__project=p).delete(),
    ),
    "indicator renamed by raw SQL": (
        True,
        lambda p: raw("UPDATE projects_indicator SET name = 'Otro indicador' WHERE project_id = %s", p.pk),
    ),
    "a new indicator": (True, lambda p: Indicator.objects.create(project=p, name="Talleres", unit="talleres")),
    "a line added through its table": (
        True,
        lambda p: Project.lines.through.objects.create(project=p, line=Line.objects.exclude(number=3).first()),
    ),
    "a place removed through its table": (
        True,
        lambda p: Project.municipalities.through.objects.filter(project=p).delete(),
    ),
    "line's slug": (False, lambda p: Line.objects.filter(number=3).update(slug="linea-renombrada")),
    "axis's slug": (False, lambda p: Axis.objects.filter(number=3).update(slug="eje-renombrado")),
    "municipality's region": (
        False,
        lambda p: Municipality.objects.filter(inegi_code="08037").update(
            region=Region.objects.exclude(municipalities__inegi_code="08037").first()
        ),
    ),
    "region's slug": (
        False,
        lambda p: Region.objects.filter(municipalities__inegi_code="08037").update(slug="region-renombrada"),
    ),
}


@pytest.mark.parametrize("change", CHANGES)
def test_every_change_a_document_reads_reaches_the_next_list(client, pair, change):
    one, other = pair
    before = listed(client)
    assert before == {"FIC-2024-801": truth(one), "FIC-2024-802": truth(other)}
    kept = stored(other)
    assert stored(one) and kept  # the first list stored both documents

    narrow, apply = CHANGES[change]
    apply(one)

    after = listed(client)
    assert after["FIC-2024-801"] == truth(one) != before["FIC-2024-801"]
    assert after["FIC-2024-802"] == truth(other)
    if narrow:  # the other project's document was served as stored, not built again
        assert stored(other) == kept and after["FIC-2024-802"] == before["FIC-2024-802"]


def test_a_document_built_before_a_change_is_never_served_after_it(client, pair):
    one, _other = pair
    listed(client)
    (old,) = ProjectDocument.objects.filter(project=one)
    Project.objects.filter(pk=one.pk).update(title="Título nuevo")
    # a caller that read the project before the change stores its document after it (a late writer)
    ProjectDocument.objects.filter(pk=old.pk).update(version=old.version, body=old.body)
    assert listed(client)["FIC-2024-801"]["title"] == "Título nuevo"
    assert ProjectVersion.objects.get(project=one).version != old.version


def test_a_document_of_another_build_is_not_served(client, pair, monkeypatch):
    one, _other = pair
    listed(client)
    ProjectDocument.objects.filter(project=one).update(body=orjson.dumps({"code": "FIC-2024-801"}).decode())
    assert listed(client)["FIC-2024-801"] == {"code": "FIC-2024-801"}  # (what is stored is what is served)
    monkeypatch.setattr("projects.serializers.document_build", lambda: "another-build")
    assert listed(client)["FIC-2024-801"] == truth(one)


def test_staff_public_and_each_language_read_their_own_documents(client, pair, staff_key):
    one, _other = pair
    Project.objects.filter(pk=one.pk).update(beneficiaries_target=4)  # a small cell: hidden from the public
    staff = listed(client, HTTP_AUTHORIZATION=f"Api-Key {staff_key}")["FIC-2024-801"]
    public = listed(client)["FIC-2024-801"]
    with translation.override("en"):  # (the API answers in Spanish; a document is per language all the same)
        ((english,),) = project_documents(Project.objects.filter(pk=one.pk))
        english = orjson.loads(english)
    assert staff["internal_notes"] == "NOTA-INTERNA-FIC-2024-801" and staff["beneficiaries_target"] == 4
    assert "internal_notes" not in public and public["beneficiaries_target"] == "menos de 10"
    assert public == truth(one) and staff == truth(one, staff=True)
    with translation.override("en"):
        assert english == truth(one) != public
    assert {variant for variant, _version, _body in stored(one)} == {"staff:es-mx", "public:es-mx", "public:en"}
    # served again from what is stored, each to its own caller
    assert listed(client)["FIC-2024-801"] == public
    assert "NOTA-INTERNA" not in client.get("/api/v1/projects/sync/").content.decode()


def test_the_sync_pages_serve_the_stored_documents_and_see_a_measurement(client, pair):
    one, other = pair
    from django.test.utils import CaptureQueriesContext

    first = client.get("/api/v1/projects/sync/").json()["results"]
    assert [item["code"] for item in first] == ["FIC-2024-801", "FIC-2024-802"]
    assert stored(one) and stored(other)  # the first page stored both documents
    kept = stored(other)
    Measurement.objects.create(indicator=one.indicators.get(), date=date(2025, 1, 31), value=90)
    with CaptureQueriesContext(connection) as second:
        again = {item["code"]: item for item in client.get("/api/v1/projects/sync/").json()["results"]}
    assert again["FIC-2024-801"]["indicators"][0]["latest_value"] == "90.0000"
    assert again == {"FIC-2024-801": truth(one), "FIC-2024-802": truth(other)}
    (store,) = [query["sql"] for query in second if "INSERT INTO projects_projectdocument" in query["sql"]]
    assert store.split("unnest(", 1)[1].startswith(f"ARRAY[{one.pk}]::bigint[]")  # built and stored: `one` alone
    assert stored(other) == kept  # the other project's document was served as stored, not built again
    with CaptureQueriesContext(connection) as third:
        assert client.get("/api/v1/projects/sync/").json()["results"] == list(again.values())
    assert not [query for query in third if "INSERT INTO projects_projectdocument" in query["sql"]]  # all as stored


def test_a_deleted_project_takes_its_documents_and_version_with_it(client, pair):
    one, _other = pair
    listed(client)
    Project.objects.filter(pk=one.pk).update(title="Con versión")
    assert ProjectDocument.objects.filter(project_id=one.pk).exists()
    assert ProjectVersion.objects.filter(project_id=one.pk).exists()
    pk = one.pk
    AwardDecision.objects.filter(project=one).delete()
    one.delete()
    assert not ProjectDocument.objects.filter(project_id=pk).exists()
    assert not ProjectVersion.objects.filter(project_id=pk).exists()
    assert set(listed(client)) == {"FIC-2024-802"}


def test_a_change_of_a_column_no_document_reads_leaves_the_documents_stored(client, pair):
    one, other = pair
    listed(client)
    kept = stored(one) | stored(other)
    Organization.objects.filter(slug="alfa").update(description="Otra descripción de la organización.")
    Line.objects.filter(number=3).update(name_en="Renamed line")
    assert stored(one) | stored(other) == kept


@pytest.mark.django_db(transaction=True)
def test_a_partner_written_and_a_project_edit_of_one_project_wait_in_one_order(reference_data, org_a, org_b):
    """A new version locks the project's row before its version row, as an update of the project does: the edit
    waits for the partner's transaction to commit. Taken the other way round, the partner's transaction would hold
    the version row and wait for the project's (its refresh_derived), the edit the project's and wait for the
    version row: a deadlock."""
    project = make_project("FIC-2024-803", "Orden de los candados", org_a, "published")
    insert = lambda: Participation.objects.bulk_create(  # noqa: E731  (the INSERT alone, without refresh_derived)
        [Participation(project=project, organization=org_b, role="ally")]
    )
    edit = lambda: Project.objects.filter(pk=project.pk).update(title="Editado a la vez")  # noqa: E731
    assert at_once(insert, edit, then=lambda: Project.objects.filter(pk=project.pk).refresh_derived())
    from django.test import Client

    assert listed(Client())["FIC-2024-803"] == truth(Project.objects.get(pk=project.pk))


@pytest.mark.django_db(transaction=True)
def test_a_deletion_and_a_reader_storing_the_same_documents_lock_them_in_one_order(reference_data, org_a):
    """A reader stores documents in project order (STORE); the deletion of those projects locks their documents in
    the same order before deleting them. Here the later project's document lies first on disk: deleted in the
    order of a scan, the deletion would take it, then wait for the reader's lock on the earlier one while the
    reader waits for the later one (a deadlock)."""
    from projects.serializers import STORE, document_build

    early = make_project("FIC-2024-804", "Primero en orden", org_a)
    late = make_project("FIC-2024-805", "Primero en disco", org_a)
    AwardDecision.objects.filter(project__in=[early, late]).delete()  # it would protect them from deletion
    variant, build = "public:es-mx", document_build()
    for project in (late, early):  # the later project's document written (and laid on disk) first
        raw(STORE, variant, build, [project.pk], [1], ["{}"])
    store = lambda project: raw(STORE, variant, build, [project.pk], [2], ["{}"])  # noqa: E731  (a new version)
    delete = lambda: Project.objects.filter(pk__in=[early.pk, late.pk]).delete()  # noqa: E731
    assert at_once(lambda: store(early), delete, then=lambda: store(late))  # the deletion waited for the reader
    assert not Project.objects.filter(pk__in=[early.pk, late.pk]).exists()
    assert not ProjectDocument.objects.filter(project_id__in=[early.pk, late.pk]).exists()
    assert not ProjectVersion.objects.filter(project_id__in=[early.pk, late.pk]).exists()


def test_a_new_small_cell_threshold_builds_the_documents_again(client, pair, settings):
    one, _other = pair
    Project.objects.filter(pk=one.pk).update(beneficiaries_target=7)
    assert listed(client)["FIC-2024-801"]["beneficiaries_target"] == "menos de 10"
    settings.SMALL_CELL_THRESHOLD = 5  # a setting, not data: no version moves
    assert listed(client)["FIC-2024-801"]["beneficiaries_target"] == 7
