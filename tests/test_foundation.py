"""The foundation: the database itself guards the domain's integrity; history, demo data and reference data."""

import csv
from datetime import date, timedelta
from decimal import Decimal
from io import StringIO
from pathlib import Path

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command
from django.db import IntegrityError, transaction
from django.utils import timezone

from axes.models import Axis, Line
from projects.models import (
    ApiKey,
    Indicator,
    Measurement,
    Municipality,
    Organization,
    Participation,
    Project,
    Region,
    StaleVersion,
    WorkflowStep,
)

pytestmark = pytest.mark.django_db


def rejected(write):
    """The database refuses the write (IntegrityError), and nothing of it remains."""
    with pytest.raises(IntegrityError):
        with transaction.atomic():
            write()


# --- The database rejects each kind of bad row ------------------------------------------------------------------


def test_database_rejects_a_duplicate_project_code(published_project):
    rejected(lambda: Project.objects.create(code=published_project.code, title="Otro", slug="otro"))


def test_database_rejects_a_duplicate_project_slug(published_project):
    rejected(lambda: Project.objects.create(code="FIC-2030-001", title="Otro", slug=published_project.slug))


def test_database_rejects_a_malformed_project_code():
    rejected(lambda: Project.objects.create(code="proyecto 7", title="Mal", slug="mal"))


@pytest.mark.parametrize("start, end", [("planned_start", "planned_end"), ("actual_start", "actual_end")])
def test_database_rejects_an_end_before_the_start(start, end):
    fields = {start: date(2024, 5, 1), end: date(2024, 4, 30)}
    rejected(lambda: Project.objects.create(code="FIC-2030-002", title="Fechas", slug="fechas", **fields))


def test_database_rejects_negative_beneficiaries():
    rejected(lambda: Project.objects.create(code="FIC-2030-003", title="N", slug="n", beneficiaries_target=-1))


def test_database_rejects_a_negative_contribution(draft_project, org_b):
    rejected(
        lambda: Participation.objects.bulk_create(
            [Participation(project=draft_project, organization=org_b, role="funder", amount=Decimal("-1"))]
        )
    )


def test_database_rejects_the_same_organization_twice_in_the_same_role(draft_project, org_a):
    rejected(lambda: Participation.objects.create(project=draft_project, organization=org_a, role="implementer"))


def test_same_organization_may_hold_two_different_roles(draft_project, org_a):
    Participation.objects.create(project=draft_project, organization=org_a, role="funder", amount=10)
    assert draft_project.participations.filter(organization=org_a).count() == 2


@pytest.mark.parametrize("rfc", ["ABC", "abc900101ab1", "1234567890123", "ABC-900101AB1", "ABC99999999ZZ"])
def test_database_rejects_a_malformed_rfc(rfc):
    rejected(lambda: Organization.objects.bulk_create([Organization(name="X", slug="x", kind="osc", rfc=rfc)]))


def test_rfc_is_stored_in_capitals_and_accepts_companies_and_persons():
    company = Organization.objects.create(name="Empresa", kind="company", rfc=" emp010101ab1 ")
    person = Organization.objects.create(name="Persona", kind="osc", rfc="PEGJ800101AB1")
    assert (company.rfc, person.rfc) == ("EMP010101AB1", "PEGJ800101AB1")


def test_database_rejects_a_duplicate_rfc(org_a):
    rejected(lambda: Organization.objects.create(name="Copia", kind="osc", rfc=org_a.rfc))


def test_database_rejects_a_second_ficosec(ficosec_org):
    rejected(lambda: Organization.objects.create(name="Otra", kind="foundation", is_ficosec=True))


@pytest.mark.parametrize("code", ["8037", "8037 ", "08A37"])
def test_database_rejects_a_malformed_inegi_code(code):
    rejected(lambda: Municipality.objects.create(inegi_code=code, name="X", slug=f"x-{code}"))


def test_database_rejects_an_open_call_without_its_name():
    rejected(lambda: Project.objects.create(code="FIC-2030-004", title="C", slug="c", award_type="open_call"))


def test_database_rejects_a_published_project_without_axis(draft_project):
    rejected(lambda: Project.objects.filter(pk=draft_project.pk).update(axis=None, publication_state="published"))


def test_database_rejects_an_evaluation_design_outside_the_maryland_scale():
    rejected(lambda: Project.objects.create(code="FIC-2030-005", title="M", slug="m", evaluation_design=6))


def test_database_rejects_two_measurements_on_the_same_date(published_project):
    indicator = published_project.indicators.get()
    existing = indicator.measurements.get()
    rejected(lambda: Measurement.objects.create(indicator=indicator, date=existing.date, value=1))


@pytest.mark.parametrize("owners", ["both", "neither"])
def test_database_rejects_an_api_key_with_both_or_no_owner(owners, org_a, editor):
    fields = {"organization": org_a, "user": editor} if owners == "both" else {}
    rejected(lambda: ApiKey.objects.create(name="k", prefix="abcd1234", key_hash="0" * 64, **fields))


def test_database_rejects_a_duplicate_axis_number():
    rejected(lambda: Axis.objects.create(number=1, name="Otro eje", slug="otro-eje", short_name="Otro"))


# --- The same rules reach forms and the API through full_clean(), in Spanish ------------------------------------


def test_full_clean_reports_a_bad_rfc_in_spanish_on_its_field():
    organization = Organization(name="X", slug="x", kind="osc", rfc="MAL")
    with pytest.raises(ValidationError) as error:
        organization.full_clean()
    assert "RFC inválido" in error.value.message_dict["rfc"][0]


def test_full_clean_reports_dates_out_of_order_in_spanish():
    project = Project(
        code="FIC-2030-006", title="F", slug="f", planned_start=date(2024, 5, 1), planned_end=date(2024, 1, 1)
    )
    with pytest.raises(ValidationError) as error:
        project.full_clean()
    assert "El fin planeado no puede ser anterior al inicio planeado." in error.value.messages


# --- Rich text --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "payload",
    [
        "<script>alert(1)</script>",
        '<img src=x onerror="alert(1)">',
        '<a href="javascript:alert(1)">x</a>',
        '<p onclick="alert(1)">x</p>',
        "<iframe src=//evil></iframe>",
        "<svg onload=alert(1)>",
    ],
)
def test_description_never_stores_a_script(draft_project, payload):
    draft_project.description = f"<p>Antes</p>{payload}"
    draft_project.save()
    Project.objects.filter(pk=draft_project.pk).update(description=f"<p>Otra vez</p>{payload}")
    stored = Project.objects.values_list("description", flat=True).get(pk=draft_project.pk)
    for danger in ("<script", "onerror", "javascript:", "onclick", "<iframe", "onload", "<svg"):
        assert danger not in stored.lower()
    assert "Otra vez" in stored


# --- Derived money --------------------------------------------------------------------------------------------


def test_money_totals_and_leverage_follow_the_participations(draft_project, ficosec_org, org_b):
    assert (draft_project.total_amount, draft_project.ficosec_amount, draft_project.leverage) == (
        Decimal("250000"),
        0,
        None,
    )
    funding = Participation.objects.create(
        project=draft_project, organization=ficosec_org, role="funder", amount=Decimal("500000")
    )
    Participation.objects.create(project=draft_project, organization=org_b, role="funder", amount=Decimal("250000"))
    draft_project.refresh_from_db()
    assert (draft_project.total_amount, draft_project.ficosec_amount, draft_project.leverage) == (
        Decimal("1000000"),
        Decimal("500000"),
        1,
    )
    funding.amount = Decimal("1000000")
    funding.save()
    draft_project.refresh_from_db()
    assert draft_project.total_amount == Decimal("1500000")
    funding.delete()
    draft_project.refresh_from_db()
    assert (draft_project.total_amount, draft_project.ficosec_amount) == (Decimal("500000"), 0)


# --- History --------------------------------------------------------------------------------------------------


def test_history_records_who_changed_which_project_field_from_what_to_what(draft_project, editor):
    draft_project.title = "Título corregido"
    draft_project._history_user = editor
    draft_project.save()
    latest, previous = draft_project.history.all()[:2]
    delta = latest.diff_against(previous)
    changes = {change.field: (change.old, change.new) for change in delta.changes}
    assert changes["title"] == ("Borrador secreto de mediación escolar", "Título corregido")
    assert latest.history_user == editor
    assert latest.history_date <= timezone.now()


@pytest.mark.parametrize("model_name", ["participation", "indicator", "measurement", "organization"])
def test_history_records_changes_to_related_records(model_name, published_project, org_a, editor):
    participation = published_project.participations.get(role="implementer")
    indicator = published_project.indicators.get()
    record, field, value = {
        "participation": (participation, "amount", Decimal("300000.00")),
        "indicator": (indicator, "target", Decimal("120.0000")),
        "measurement": (indicator.measurements.get(), "value", Decimal("55.0000")),
        "organization": (org_a, "name", "Centro Comunitario Alfa Renovado, A.C."),
    }[model_name]
    old = getattr(record, field)
    setattr(record, field, value)
    record._history_user = editor
    record.save()
    latest, previous = record.history.all()[:2]
    changes = {change.field: (change.old, change.new) for change in latest.diff_against(previous).changes}
    assert changes[field] == (old, value)
    assert latest.history_user == editor


def test_history_records_changes_of_lines_and_places(draft_project):
    draft_project.lines.add(Line.objects.get(number=1))
    assert draft_project.history.count() >= 2


# --- Workflow and concurrency -----------------------------------------------------------------------------------


def test_editor_sends_to_review_but_cannot_publish(draft_project, editor):
    draft_project.transition("review", editor, "Lista para revisión")
    assert draft_project.publication_state == "review"
    with pytest.raises(PermissionDenied):
        draft_project.transition("published", editor)
    draft_project.refresh_from_db()
    assert draft_project.publication_state == "review"


def test_coordinator_cannot_publish_a_project_with_gaps(coordinator):
    project = Project.objects.create(code="FIC-2030-007", title="Incompleto", publication_state="review")
    with pytest.raises(ValidationError) as error:
        project.transition("published", coordinator)
    assert "Falta el resumen." in error.value.messages
    project.refresh_from_db()
    assert project.publication_state == "review" and not WorkflowStep.objects.filter(project=project).exists()


def test_coordinator_publishes_a_complete_project_and_the_step_is_recorded(review_project, coordinator):
    review_project.transition("published", coordinator, "Aprobado por el comité")
    review_project.refresh_from_db()
    assert review_project.publication_state == "published" and review_project.published_at
    step = WorkflowStep.objects.get(project=review_project)
    assert (step.from_state, step.to_state, step.actor, step.comment) == (
        "review",
        "published",
        coordinator,
        "Aprobado por el comité",
    )


def test_workflow_refuses_impossible_moves(draft_project, coordinator):
    with pytest.raises(ValidationError):
        draft_project.transition("published", coordinator)


def test_a_stale_save_is_refused_and_writes_nothing(draft_project, editor):
    mine = Project.objects.get(pk=draft_project.pk)
    theirs = Project.objects.get(pk=draft_project.pk)
    theirs.title = "Guardado primero"
    theirs.save_if_current(theirs.version, editor)
    mine.title = "Guardado después"
    with pytest.raises(StaleVersion) as stale:
        mine.save_if_current(draft_project.version, editor)
    assert stale.value.current_version == theirs.version
    assert Project.objects.get(pk=draft_project.pk).title == "Guardado primero"


# --- API keys and visibility -------------------------------------------------------------------------------------


def test_an_api_key_is_stored_hashed_and_authenticates_only_while_active(org_a, coordinator):
    key, raw = ApiKey.issue("Llave", created_by=coordinator, organization=org_a)
    assert raw not in key.key_hash and ApiKey.objects.filter(key_hash=ApiKey.hash(raw)).exists()
    assert ApiKey.objects.authenticate(raw) == key
    assert ApiKey.objects.authenticate(raw[:-1] + ("A" if raw[-1] != "A" else "B")) is None
    assert ApiKey.objects.authenticate("basura") is None
    key.expires_at = timezone.now() - timedelta(seconds=1)
    key.save()
    assert ApiKey.objects.authenticate(raw) is None
    key.expires_at = None
    key.save()
    key.revoke()
    assert ApiKey.objects.authenticate(raw) is None


def test_a_partner_key_sees_and_reports_only_on_its_organizations_projects(
    org_a, coordinator, published_project, draft_project, other_draft, review_project
):
    key, _raw = ApiKey.issue("Llave", created_by=coordinator, organization=org_a)
    actor = key.acting_user()
    assert set(Project.objects.visible_to(actor)) == {published_project, draft_project}
    assert set(Project.objects.reportable_by(actor)) == {published_project, draft_project}
    assert not actor.has_perm("projects.change_project")


def test_visitors_report_nothing_and_editors_see_everything(editor, published_project, draft_project, other_draft):
    assert not Project.objects.reportable_by(AnonymousUser()).exists()
    assert Project.objects.visible_to(editor).count() == 3


# --- Reference and demo data --------------------------------------------------------------------------------------


def test_the_67_municipalities_match_the_inegi_reference_list():
    reference = Path(__file__).resolve().parent.parent / "projects" / "data" / "chihuahua_municipalities.csv"
    with reference.open(encoding="utf-8") as f:
        expected = {row["inegi_code"]: row["name"] for row in csv.DictReader(f)}
    assert len(expected) == 67
    assert dict(Municipality.objects.values_list("inegi_code", "name")) == expected
    known = {
        "08037": "Juárez",
        "08019": "Chihuahua",
        "08017": "Cuauhtémoc",
        "08021": "Delicias",
        "08032": "Hidalgo del Parral",
        "08050": "Nuevo Casas Grandes",
    }
    assert {code: expected[code] for code in known} == known


def test_axes_lines_and_regions_are_seeded_with_their_spanish_names():
    assert list(Axis.objects.values_list("name", flat=True)) == [
        "Fortalecimiento institucional en seguridad y justicia",
        "Evaluar, medir y monitorear la acción de gobierno en seguridad y justicia",
        "Corresponsabilidad ciudadana frente al delito",
        "Fomento a la competitividad",
    ]
    assert Line.objects.count() == 4 and "Estado de derecho y cultura de la legalidad" in Line.objects.values_list(
        "name", flat=True
    )
    assert set(Region.objects.values_list("slug", flat=True)) == {
        "juarez",
        "chihuahua",
        "cuauhtemoc",
        "delicias",
        "parral",
        "nuevo-casas-grandes",
    }
    assert Municipality.objects.get(inegi_code="08037").region.slug == "juarez"


MODELS = [Project, Organization, Participation, Indicator, Measurement, WorkflowStep]


def counts():
    from django.contrib.auth.models import User

    return {model.__name__: model.objects.count() for model in MODELS + [User]} | {
        "history": Project.history.count() + Participation.history.count() + Measurement.history.count(),
    }


def test_load_demo_twice_leaves_the_same_counts_and_says_it_is_demo_data(settings):
    settings.DEBUG = True  # the loader refuses to run with DEBUG off (pytest's default)
    first = StringIO()
    call_command("load_demo", stdout=first)
    after_first = counts()
    second = StringIO()
    call_command("load_demo", stdout=second)
    assert counts() == after_first
    assert "DEMOSTRACIÓN" in first.getvalue() and "0 filas escritas" in second.getvalue()
    assert 110 <= after_first["Project"] <= 130 and 55 <= after_first["Organization"] <= 65


@pytest.mark.parametrize("debug", [False])
def test_load_demo_refuses_to_run_in_production(settings, debug):
    from django.core.management.base import CommandError

    settings.DEBUG = debug
    with pytest.raises(CommandError):
        call_command("load_demo", stdout=StringIO())
    assert not Project.objects.exists()
