"""Governance and continuity (issue 15): calls, committee decisions with conflicts and recusals, agreements tied to
administrations, the transition radar, and what the public sees of them."""

from datetime import date, timedelta

import pytest
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
    ConflictDeclaration,
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
