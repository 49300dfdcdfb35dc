"""Governance and continuity (issue 15): calls, committee decisions with conflicts and recusals, agreements tied to
administrations, the transition radar, and what the public sees of them."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from projects.models import (
    Administration,
    Agreement,
    Application,
    Attendance,
    AwardDecision,
    Call,
    CommitteeMember,
    CommitteeSession,
    ConflictDeclaration,
    Municipality,
    Organization,
    Project,
    Recusal,
)

from .conftest import award_by_committee, make_project

pytestmark = pytest.mark.django_db


@pytest.fixture
def member(db):
    return CommitteeMember.objects.create(name="Consejera Prueba Uno", represents="Sector empresarial")


@pytest.fixture
def absent_member(db):
    return CommitteeMember.objects.create(name="Consejero Ausente", represents="Gobierno del estado")


@pytest.fixture
def conflicted(published_project, member, org_a):
    """The published project's decision, taken in a session where a member tied to its implementer was present."""
    decision = published_project.award_decision
    Attendance.objects.create(session=decision.session, member=member, represents="Sector empresarial")
    ConflictDeclaration.objects.create(member=member, organization=org_a, tie="founder", declared_on=date(2020, 1, 1))
    return decision


def flagged(decision):
    return AwardDecision.objects.with_conflict_flag().get(pk=decision.pk).unresolved_conflict


# --- Constraints ------------------------------------------------------------------------------------------------


def test_database_refuses_a_recusal_of_a_member_absent_from_the_session(published_project, absent_member):
    decision = published_project.award_decision
    with pytest.raises(IntegrityError), transaction.atomic():
        Recusal.objects.create(decision=decision, member=absent_member)
    recusal = Recusal(decision=decision, member=absent_member)
    with pytest.raises(ValidationError) as error:
        recusal.full_clean()
    assert "Solo puede excusarse una persona presente" in str(error.value)


def test_database_refuses_a_call_that_closes_before_it_opens():
    call = Call(title="Mal fechada", opens_on=date(2025, 3, 1), closes_on=date(2025, 2, 1), budget=1)
    with pytest.raises(ValidationError) as error:
        call.full_clean()
    assert "El cierre de la convocatoria no puede ser anterior a su apertura." in str(error.value)
    with pytest.raises(IntegrityError), transaction.atomic():
        call.save()


def test_database_refuses_inconsistent_terms_and_agreements(org_b):
    with pytest.raises(IntegrityError), transaction.atomic():
        Administration.objects.create(
            level="state", governed_by="X", term_start=date(2027, 9, 8), term_end=date(2021, 9, 8)
        )
    with pytest.raises(IntegrityError), transaction.atomic():
        Administration.objects.create(
            level="municipal", governed_by="X", term_start=date(2024, 9, 10), term_end=date(2027, 9, 9)
        )
    state = Administration.objects.create(
        level="state", governed_by="X", term_start=date(2021, 9, 8), term_end=date(2027, 9, 7)
    )
    agreement = Agreement(
        title="Convenio",
        counterpart=org_b,
        signatory_post="Titular",
        signed_on=date(2025, 1, 1),
        valid_until=date(2024, 1, 1),
        administration=state,
    )
    with pytest.raises(ValidationError) as error:
        agreement.full_clean()
    assert "La vigencia no puede terminar antes de la firma." in str(error.value)


def test_an_ineligible_application_needs_its_reason(org_a):
    call = Call.objects.create(title="C", opens_on=date(2025, 1, 1), closes_on=date(2025, 2, 1), budget=10)
    application = Application(call=call, organization=org_a, status="not_eligible")
    with pytest.raises(ValidationError) as error:
        application.full_clean()
    assert "Indique el motivo" in str(error.value)


def test_a_project_cannot_be_published_without_its_award_decision(org_a, coordinator):
    project = make_project("FIC-2024-090", "Sin decisión", org_a, Project.Publication.REVIEW)
    assert project.publication_gaps() == []
    project.award_decision.delete()
    project = Project.objects.get(pk=project.pk)
    with pytest.raises(ValidationError) as error:
        project.transition(Project.Publication.PUBLISHED, coordinator)
    assert "Falta la decisión de asignación" in str(error.value)
    award_by_committee(project)
    Project.objects.get(pk=project.pk).transition(Project.Publication.PUBLISHED, coordinator)


# --- The flag ---------------------------------------------------------------------------------------------------


def test_a_present_member_with_a_declared_tie_flags_the_decision_until_recused(conflicted, member):
    assert flagged(conflicted)
    assert [d.member for d in conflicted.unresolved_declarations()] == [member]
    Recusal.objects.create(decision=conflicted, member=member)
    assert not flagged(conflicted)
    assert not conflicted.unresolved_declarations().exists()


def test_a_tie_ended_before_the_session_or_declared_after_it_does_not_flag(conflicted):
    declaration = ConflictDeclaration.objects.get()
    declaration.ended_on = conflicted.session.held_on - timedelta(days=1)
    declaration.save()
    assert not flagged(conflicted)
    declaration.ended_on = None
    declaration.declared_on = conflicted.session.held_on + timedelta(days=1)
    declaration.save()
    assert not flagged(conflicted)


def test_an_absent_member_with_a_tie_does_not_flag(published_project, absent_member, org_a):
    ConflictDeclaration.objects.create(
        member=absent_member, organization=org_a, tie="donor", declared_on=date(2020, 1, 1)
    )
    assert not flagged(published_project.award_decision)


def test_everything_is_in_the_history(conflicted, member):
    recusal = Recusal.objects.create(decision=conflicted, member=member, reason="Fundó la organización")
    assert recusal.history.count() == 1
    declaration = ConflictDeclaration.objects.get()
    declaration.tie = "board"
    declaration.save()
    assert [h.tie for h in declaration.history.all()] == ["board", "founder"]


# --- Workspace (HTTP) -------------------------------------------------------------------------------------------


def session_post(held_on, members, decision_fields=None):
    data = {
        "body": "technical_committee",
        "held_on": held_on,
        "asistencia-TOTAL_FORMS": str(len(members)),
        "asistencia-INITIAL_FORMS": "0",
        "asistencia-MIN_NUM_FORMS": "0",
        "asistencia-MAX_NUM_FORMS": "1000",
    }
    for number, member in enumerate(members):
        data[f"asistencia-{number}-member"] = member.pk
        data[f"asistencia-{number}-represents"] = member.represents
    return data


def test_a_coordinator_records_a_session_sees_the_flag_and_clears_it_with_a_recusal(
    client, coordinator, org_a, member, absent_member
):
    project = make_project("FIC-2025-001", "Mediación con conflicto", org_a)
    project.award_decision.delete()
    ConflictDeclaration.objects.create(member=member, organization=org_a, tie="board", declared_on=date(2024, 1, 1))
    client.force_login(coordinator)
    response = client.post("/gestion/gobernanza/sesiones/nueva/", session_post("2025-03-10", [member]))
    assert response.status_code == 302
    session = CommitteeSession.objects.get(held_on=date(2025, 3, 10))
    assert list(session.attendances.values_list("member", flat=True)) == [member.pk]
    response = client.post(
        "/gestion/gobernanza/decision/nuevo/",
        {"project": project.pk, "session": session.pk, "method": "direct", "outcome": "approved", "amount": "500000"}
        | {"votes_for": 4, "votes_against": 0, "votes_abstained": 0},
    )
    assert response.status_code == 302 and response["Location"] == f"/gestion/gobernanza/sesiones/{session.pk}/"
    page = client.get(response["Location"]).content.decode()
    assert "Conflicto no resuelto" in page and "Consejera Prueba Uno declaró un vínculo" in page
    assert "Conflicto no resuelto" in client.get("/gestion/gobernanza/").content.decode()
    decision = AwardDecision.objects.get(project=project)
    response = client.post("/gestion/gobernanza/excusa/nuevo/", {"decision": decision.pk, "member": member.pk})
    assert response.status_code == 302
    page = client.get(response["Location"]).content.decode()
    assert "Conflicto no resuelto" not in page and "Se excusaron: Consejera Prueba Uno" in page
    # The session is approved by the coordinator, and the approval is in its history.
    assert client.post(f"/gestion/gobernanza/sesiones/{session.pk}/aprobar/").status_code == 302
    session.refresh_from_db()
    assert session.approved_by == coordinator and session.history.first().history_user == coordinator


def test_a_recusal_of_an_absent_member_is_a_clear_400_not_a_500(client, editor, published_project, absent_member):
    client.force_login(editor)
    decision = published_project.award_decision
    response = client.post("/gestion/gobernanza/excusa/nuevo/", {"decision": decision.pk, "member": absent_member.pk})
    assert response.status_code == 400
    assert "Solo puede excusarse una persona presente en la sesión de la decisión." in response.content.decode()
    assert not Recusal.objects.exists()


def test_a_call_with_inconsistent_dates_is_a_clear_400(client, editor):
    client.force_login(editor)
    response = client.post(
        "/gestion/gobernanza/convocatoria/nuevo/",
        {"title": "Convocatoria", "opens_on": "2025-05-01", "closes_on": "2025-04-01", "budget": "1000"}
        | {"min_years_operating": 0},
    )
    assert response.status_code == 400
    assert "El cierre de la convocatoria no puede ser anterior a su apertura." in response.content.decode()
    assert not Call.objects.exists()


def test_editors_capture_but_only_coordinators_keep_administrations_and_approve(client, editor, org_a):
    client.force_login(editor)
    assert client.get("/gestion/gobernanza/administracion/nuevo/").status_code == 403
    assert client.get("/gestion/gobernanza/desconocido/nuevo/").status_code == 404
    session = CommitteeSession.objects.create(body="board", held_on=date(2025, 1, 1))
    assert client.post(f"/gestion/gobernanza/sesiones/{session.pk}/aprobar/").status_code == 403
    response = client.post("/gestion/gobernanza/integrante/nuevo/", {"name": "Nueva", "represents": "Academia"})
    assert response.status_code == 302 and CommitteeMember.objects.get().history.first().history_user == editor


def test_a_partner_sees_its_own_applications_and_decisions_only(client, partner, org_a, org_b, published_project):
    call = Call.objects.create(title="C 2025", opens_on=date(2025, 1, 1), closes_on=date(2025, 2, 1), budget=10)
    Application.objects.create(call=call, organization=org_a, status="not_selected", score=50)
    Application.objects.create(call=call, organization=org_b, status="not_eligible", reason="Motivo-ajeno-secreto")
    other = make_project("FIC-2024-070", "Proyecto ajeno decidido", org_b, Project.Publication.PUBLISHED)
    client.force_login(partner)
    page = client.get("/gestion/gobernanza/mias/").content.decode()
    assert "No seleccionada" in page and published_project.code in page
    assert "Motivo-ajeno-secreto" not in page and other.code not in page
    assert client.get("/gestion/gobernanza/").status_code == 403


# --- Public page, CSV and API -----------------------------------------------------------------------------------


@pytest.fixture
def public_record(org_a, org_b, ficosec_org):
    """2024: one open-call project (3 M) and one direct award (1 M), both published; a draft decided too; a call
    with four applications, one selected (org_a), one not selected (a name that must never be public)."""
    call = Call.objects.create(title="Convocatoria 2024", opens_on=date(2023, 10, 1), closes_on=date(2023, 11, 1))
    call.budget = Decimal("20000000")
    call.save()
    hidden = Organization.objects.create(name="Organización Rechazada Secreta, A.C.", kind="osc")
    Application.objects.create(call=call, organization=org_a, status="selected", score=90)
    Application.objects.create(call=call, organization=hidden, status="not_selected", score=40)
    Application.objects.create(call=call, organization=org_b, status="not_eligible", reason="Sin CLUNI")
    Application.objects.create(
        call=call, organization=Organization.objects.create(name="Otra Recibida, A.C.", kind="osc")
    )
    opened = make_project("FIC-2024-010", "Por convocatoria", org_a, Project.Publication.PUBLISHED)
    AwardDecision.objects.filter(project=opened).update(method="open_call", call=call, amount=Decimal("3000000"))
    direct = make_project("FIC-2024-011", "Por asignación directa", org_b, Project.Publication.PUBLISHED)
    AwardDecision.objects.filter(project=direct).update(method="direct", amount=Decimal("1000000"))
    make_project("FIC-2024-012", "Borrador decidido secreto", org_b)
    return call


def test_the_public_page_shows_the_open_call_share_per_year_and_the_calls_numbers(client, public_record):
    page = client.get("/gobernanza/").content.decode()
    assert '<th scope="row">2023</th>' in page  # the test sessions are held on 01/12/2023
    assert "75 %" in page  # 3 M of 4 M by open call
    assert "50 %" in page  # 1 of 2 projects
    assert "Centro Comunitario Alfa, A.C." in page  # selected
    assert "Borrador decidido secreto" not in page and "FIC-2024-012" not in page
    csv_text = client.get("/gobernanza/convocatorias.csv").content.decode()
    assert "Convocatoria 2024" in csv_text and ",4,2," in csv_text  # applied 4, eligible 2 (selected + not selected)


def test_the_names_of_organizations_not_selected_are_never_public(client, public_record):
    secret = "Organización Rechazada Secreta"
    for url in (
        "/gobernanza/",
        "/gobernanza/convocatorias.csv",
        "/gobernanza/decisiones.csv",
        "/api/v1/calls/",
        "/api/v1/award-decisions/",
        f"/api/v1/calls/{public_record.pk}/",
    ):
        response = client.get(url)
        assert response.status_code == 200 and secret not in response.content.decode(), url
    assert client.get("/api/v1/calls/").json()["results"][0]["selected"] == ["Centro Comunitario Alfa, A.C."]


def test_visitors_read_decisions_of_published_projects_only(client, editor, public_record):
    codes = [row["project"] for row in client.get("/api/v1/award-decisions/").json()["results"]]
    assert sorted(codes) == ["FIC-2024-010", "FIC-2024-011"]
    assert "FIC-2024-012" not in client.get("/gobernanza/decisiones.csv").content.decode()
    client.force_login(editor)
    codes = [row["project"] for row in client.get("/api/v1/award-decisions/").json()["results"]]
    assert "FIC-2024-012" in codes


def test_the_flag_declarations_and_recusals_are_public_and_on_the_project_page(client, conflicted, member):
    page = client.get("/gobernanza/").content.decode()
    assert "Conflicto no resuelto" in page and "Consejera Prueba Uno: fundador(a) de Centro Comunitario Alfa" in page
    project_page = client.get(conflicted.project.get_absolute_url()).content.decode()
    assert "Conflicto no resuelto" in project_page and "decidió el Comité técnico el 01/12/2023" in project_page
    api = client.get(f"/api/v1/award-decisions/{conflicted.pk}/").json()
    assert api["unresolved_conflict"] is True
    Recusal.objects.create(decision=conflicted, member=member)
    assert "Conflicto no resuelto" not in client.get("/gobernanza/").content.decode()
    assert "Se excusaron: Consejera Prueba Uno" in client.get(conflicted.project.get_absolute_url()).content.decode()
    assert "Consejera Prueba Uno" in client.get("/gobernanza/decisiones.csv").content.decode()


def test_list_pages_and_endpoints_ask_a_fixed_number_of_queries(
    client, coordinator, org_a, member, django_assert_max_num_queries
):
    def grow(start):
        for n in range(start, start + 4):
            project = make_project(f"FIC-2024-6{n:02d}", f"Proyecto {n}", org_a, Project.Publication.PUBLISHED)
            decision = project.award_decision
            Attendance.objects.get_or_create(session=decision.session, member=member)
            Recusal.objects.create(decision=decision, member=member) if n % 2 else None

    grow(0)
    client.force_login(coordinator)
    urls = ["/gobernanza/", "/gestion/gobernanza/", "/gestion/transiciones/", "/api/v1/award-decisions/"]
    urls += ["/api/v1/calls/", "/gobernanza/decisiones.csv"]
    counts = {}
    for url in urls:
        cache.clear()  # both rounds measured from the same (empty) cache, whatever earlier tests left in it
        with django_assert_max_num_queries(20) as queries:
            assert client.get(url).status_code == 200
        counts[url] = len(queries)
    grow(10)
    for url in urls:
        cache.clear()
        with django_assert_max_num_queries(counts[url]):
            assert client.get(url).status_code == 200


# --- Continuity -------------------------------------------------------------------------------------------------


@pytest.fixture
def agreements(org_b, published_project):
    juarez = Municipality.objects.get(inegi_code="08037")
    today = date.today()
    current = Administration.objects.create(
        level="municipal",
        municipality=juarez,
        governed_by="Actual",
        term_start=today - timedelta(days=400),
        term_end=today + timedelta(days=200),
    )
    past = Administration.objects.create(
        level="municipal",
        municipality=juarez,
        governed_by="Anterior",
        term_start=today - timedelta(days=1500),
        term_end=today - timedelta(days=401),
    )
    counterpart = Organization.objects.create(name="Municipio de Prueba", kind="gov_municipal")
    at_risk = Agreement.objects.create(
        title="Convenio que rebasa el periodo",
        counterpart=counterpart,
        signatory_post="Presidencia municipal",
        signed_on=today - timedelta(days=100),
        valid_until=today + timedelta(days=900),
        administration=current,
    )
    at_risk.projects.add(published_project)
    Project.objects.filter(pk=published_project.pk).update(planned_end=today + timedelta(days=600))  # outlives the term
    Agreement.objects.create(
        title="Convenio dentro del periodo",
        counterpart=counterpart,
        signatory_post="Presidencia municipal",
        signed_on=today - timedelta(days=100),
        valid_until=today + timedelta(days=100),
        administration=current,
    )
    ended = Agreement.objects.create(
        title="Convenio terminado",
        counterpart=counterpart,
        signatory_post="Presidencia municipal",
        signed_on=today - timedelta(days=1000),
        valid_until=today,
        administration=past,
        status="terminated",
        ended_on=today - timedelta(days=300),
    )
    ended.projects.add(published_project)
    Agreement.objects.create(
        title="Convenio que continuó",
        counterpart=counterpart,
        signatory_post="Presidencia municipal",
        signed_on=today - timedelta(days=1000),
        valid_until=today + timedelta(days=30),
        administration=past,
        status="renewed",
    )
    return counterpart


def test_the_radar_lists_agreements_that_outlive_the_term_with_days_left_and_stakes(client, coordinator, agreements):
    client.force_login(coordinator)
    page = client.get("/gestion/transiciones/").content.decode()
    assert "Convenio que rebasa el periodo" in page and "Convenio dentro del periodo" not in page
    row = page[page.index("Convenio que rebasa el periodo") :]
    assert ">200<" in row and "FIC-2024-001" in row and "$1,250,000" in row
    assert "Convenio que rebasa el periodo" in client.get("/gestion/").content.decode()  # the dashboard block
    handover = client.get(f"/gestion/transiciones/{agreements.slug}/entrega/")
    assert handover.status_code == 200 and 'class="handover-page"' in handover.content.decode()
    assert "Jóvenes constructores de paz" in handover.content.decode()


def test_public_continuity_figures_count_each_past_transition(client, agreements):
    page = client.get("/gobernanza/").content.decode()
    section = page[page.index('id="continuidad"') :]
    assert "Juárez" in section
    cells = [cell.split("<")[0] for cell in section.split('<td class="num')[1:6]]
    assert cells[:4] == ['">2', '">1', '">1', '">1'] and "1,250,000" in cells[4]
