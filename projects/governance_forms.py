"""Workspace forms of governance and continuity (issue 15). Validation is the models' (constraints and clean())."""

from django import forms
from django.forms import inlineformset_factory

from .models import (
    Administration,
    Agreement,
    Application,
    Attendance,
    AwardDecision,
    Call,
    CommitteeMember,
    CommitteeSession,
    ConflictDeclaration,
    Recusal,
)

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def dated(model, fields, dates=()):
    return type(
        f"{model.__name__}Form",
        (forms.ModelForm,),
        {"Meta": type("Meta", (), {"model": model, "fields": fields, "widgets": dict.fromkeys(dates, DATE)})},
    )


CallForm = dated(
    Call,
    [
        "title",
        "axis",
        "lines",
        "regions",
        "opens_on",
        "closes_on",
        "budget",
        "requires_cluni",
        "requires_authorized_donee",
        "min_years_operating",
        "terms_url",
        "terms_file",
    ],
    ["opens_on", "closes_on"],
)
ApplicationForm = dated(Application, ["call", "organization", "status", "reason", "score"])
MemberForm = dated(CommitteeMember, ["name", "represents", "is_active"])
DeclarationForm = dated(
    ConflictDeclaration, ["member", "organization", "tie", "declared_on", "ended_on"], ["declared_on", "ended_on"]
)
DecisionForm = dated(
    AwardDecision,
    ["project", "session", "method", "call", "outcome", "amount", "votes_for", "votes_against", "votes_abstained"],
)
RecusalForm = dated(Recusal, ["decision", "member", "reason"])
AdministrationForm = dated(
    Administration, ["level", "municipality", "governed_by", "term_start", "term_end"], ["term_start", "term_end"]
)
AgreementForm = dated(
    Agreement,
    [
        "title",
        "counterpart",
        "office",
        "signatory_post",
        "signed_on",
        "valid_until",
        "administration",
        "projects",
        "document_url",
        "document_file",
        "status",
        "ended_on",
        "handover_meeting_held",
        "ratified",
    ],
    ["signed_on", "valid_until", "ended_on"],
)
SessionForm = dated(CommitteeSession, ["body", "held_on", "minutes_url", "minutes_file"], ["held_on"])
AttendanceFormSet = inlineformset_factory(
    CommitteeSession, Attendance, fields=["member", "represents"], extra=4, can_delete=True
)
