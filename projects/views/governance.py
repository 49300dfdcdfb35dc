"""Governance and continuity pages (issue 15).

Workspace (/gestion/gobernanza/, /gestion/transiciones/): editors capture calls, applications, members and their
declarations, sessions with who was present, decisions and recusals; coordinators approve sessions and keep the
administrations; partners read their own applications and decisions. Public (/gobernanza/): how projects are chosen,
the calls' numbers, the sessions and their decisions, declared ties and recusals, flagged decisions and continuity
across administrations. The flag is AwardDecision.objects.with_conflict_flag() everywhere."""

import csv
from decimal import Decimal

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import IntegrityError, transaction
from django.db.models import Count, Exists, OuterRef, Prefetch, Q, Sum
from django.db.models.functions import ExtractYear
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from .. import governance_forms as forms
from ..models import (
    Administration,
    Agreement,
    Application,
    Attendance,
    AwardDecision,
    Call,
    CommitteeMember,
    CommitteeSession,
    ConflictDeclaration,
    Organization,
    Participation,
    Project,
    Recusal,
    partner_organization_ids,
)
from ..models.governance import APPROVE_PERMISSION, CAPTURE_PERMISSION, continuity_figures

# --- Workspace: capture --------------------------------------------------------------------------------------------

# url kind -> (model, form, permission, title)
KINDS = {
    "convocatoria": (Call, forms.CallForm, CAPTURE_PERMISSION, gettext_lazy("Convocatoria")),
    "solicitud": (Application, forms.ApplicationForm, CAPTURE_PERMISSION, gettext_lazy("Solicitud")),
    "integrante": (CommitteeMember, forms.MemberForm, CAPTURE_PERMISSION, gettext_lazy("Integrante de comité")),
    "declaracion": (
        ConflictDeclaration,
        forms.DeclarationForm,
        CAPTURE_PERMISSION,
        gettext_lazy("Declaración de conflicto de interés"),
    ),
    "decision": (AwardDecision, forms.DecisionForm, CAPTURE_PERMISSION, gettext_lazy("Decisión de asignación")),
    "excusa": (Recusal, forms.RecusalForm, CAPTURE_PERMISSION, gettext_lazy("Excusa")),
    "administracion": (Administration, forms.AdministrationForm, APPROVE_PERMISSION, gettext_lazy("Administración")),
    "convenio": (Agreement, forms.AgreementForm, CAPTURE_PERMISSION, gettext_lazy("Convenio")),
}

INTEGRITY_MESSAGE = gettext_lazy(
    "No se guardó: el registro contradice una regla (p. ej. la persona que se excusa no estuvo presente en la sesión). "
    "Revise los datos."
)


def require(user, permission):
    if not user.has_perm(permission):
        raise PermissionDenied(_("No tiene permiso para esta acción."))


def save_or_explain(form):
    """Save a valid form in one transaction; a rule only the database knows becomes a Spanish form error."""
    try:
        with transaction.atomic():
            return form.save()
    except IntegrityError:
        form.add_error(None, INTEGRITY_MESSAGE)
        return None


@login_required
def governance_capture(request, kind, pk=None):
    if kind not in KINDS:
        raise Http404(_("Tipo de registro desconocido."))
    model, form_class, permission, title = KINDS[kind]
    require(request.user, permission)
    instance = get_object_or_404(model, pk=pk) if pk else model()
    initial = {key: value for key, value in request.GET.items() if key in form_class.base_fields}
    form = form_class(request.POST or None, request.FILES or None, instance=instance, initial=initial)
    if request.method == "POST" and form.is_valid() and (saved := save_or_explain(form)):
        messages.success(request, _("«%(record)s» guardado.") % {"record": saved})
        session_id = getattr(saved, "session_id", None) or getattr(getattr(saved, "decision", None), "session_id", None)
        return redirect("session_edit", pk=session_id) if session_id else redirect("governance_index")
    return render(
        request,
        "projects/staff/governance_form.html",
        {"form": form, "title": title, "instance": instance},
        status=400 if request.method == "POST" else 200,
    )


@login_required
@permission_required(CAPTURE_PERMISSION, raise_exception=True)
def governance_index(request):
    decisions = (
        AwardDecision.objects.with_conflict_flag()
        .select_related("project", "session", "call")
        .order_by("-unresolved_conflict", "-session__held_on", "-pk")
    )
    return render(
        request,
        "projects/staff/governance_index.html",
        {
            "decisions": Paginator(decisions, 50).get_page(request.GET.get("page")),
            "sessions": CommitteeSession.objects.annotate(
                present=Count("attendances", distinct=True), decided=Count("decisions", distinct=True)
            )[:20],
            "calls": calls_with_numbers()[:20],
            "members": CommitteeMember.objects.annotate(ties=Count("declarations"))[:100],
            "administrations": Administration.objects.select_related("municipality")[:50],
            "agreements": Agreement.objects.select_related("counterpart", "administration__municipality")[:50],
        },
    )


def calls_with_numbers():
    return Call.objects.annotate(
        applied=Count("applications", distinct=True),
        eligible=Count("applications", filter=Q(applications__status__in=Application.ELIGIBLE_STATUSES), distinct=True),
    ).prefetch_related(
        Prefetch(
            "applications",
            queryset=Application.objects.filter(status=Application.Status.SELECTED).select_related("organization"),
            to_attr="selected",
        )
    )


# --- Workspace: sessions ----------------------------------------------------------------------------------------


@login_required
@permission_required(CAPTURE_PERMISSION, raise_exception=True)
def session_create(request):
    return session_form(request, CommitteeSession())


@login_required
@permission_required(CAPTURE_PERMISSION, raise_exception=True)
def session_edit(request, pk):
    return session_form(request, get_object_or_404(CommitteeSession, pk=pk))


def session_form(request, session):
    """The session, who was present (one form, one transaction), its decisions with the flag and the recusals."""
    if session.approved_at and not request.user.has_perm(APPROVE_PERMISSION) and request.method == "POST":
        raise PermissionDenied(_("La sesión ya fue aprobada: solo la coordinación puede modificarla."))
    form = forms.SessionForm(request.POST or None, request.FILES or None, instance=session)
    formset = forms.AttendanceFormSet(request.POST or None, instance=session, prefix="asistencia")
    if request.method == "POST" and form.is_valid() and formset.is_valid():
        try:
            with transaction.atomic():
                session = form.save()
                formset.instance = session
                formset.save()
        except IntegrityError:
            form.add_error(None, INTEGRITY_MESSAGE)
        else:
            messages.success(request, _("Sesión guardada."))
            return redirect("session_edit", pk=session.pk)
    decisions = []
    if session.pk:
        decisions = (
            AwardDecision.objects.with_conflict_flag()
            .filter(session=session)
            .select_related("project", "call", "session")
            .prefetch_related("recusals__member")
        )
        for decision in decisions:
            decision.conflicts = list(decision.unresolved_declarations()) if decision.unresolved_conflict else []
    return render(
        request,
        "projects/staff/session_form.html",
        {"form": form, "formset": formset, "session": session, "decisions": decisions},
        status=400 if request.method == "POST" else 200,
    )


@login_required
@permission_required(APPROVE_PERMISSION, raise_exception=True)
@require_POST
def session_approve(request, pk):
    session = get_object_or_404(CommitteeSession, pk=pk)
    session.approved_at = timezone.now()
    session.approved_by = request.user
    session._change_reason = _("Sesión aprobada")
    session.save()
    messages.success(request, _("Sesión aprobada."))
    return redirect("session_edit", pk=pk)


@login_required
def governance_mine(request):
    """A partner's own applications and the decisions on their organizations' projects."""
    organizations = partner_organization_ids(request.user)
    return render(
        request,
        "projects/staff/governance_mine.html",
        {
            "applications": Application.objects.filter(organization_id__in=organizations).select_related(
                "call", "organization"
            ),
            "decisions": AwardDecision.objects.with_conflict_flag()
            .filter(project__in=Project.objects.of_partner(request.user))
            .select_related("project", "session", "call"),
        },
    )


# --- Workspace: the transition radar ----------------------------------------------------------------------------


def radar_rows(today=None):
    """Agreements at risk at the next change of government, with days left and the projects that outlive the term."""
    today = today or timezone.localdate()
    agreements = list(
        Agreement.objects.at_risk(today).prefetch_related(
            Prefetch("projects", queryset=Project.objects.order_by("code"))
        )
    )
    for agreement in agreements:
        agreement.days = agreement.days_left(today)
        term_end = agreement.administration.term_end
        agreement.outliving = [p for p in agreement.projects.all() if not p.end_date or p.end_date > term_end]
    return agreements


@login_required
@permission_required("projects.view_project", raise_exception=True)
def transition_radar(request):
    return render(request, "projects/staff/transition_radar.html", {"agreements": radar_rows()})


@login_required
@permission_required("projects.view_project", raise_exception=True)
def handover_file(request, slug):
    """Everything the incoming officials need, on one printable page: the counterpart's agreements and projects."""
    counterpart = get_object_or_404(Organization, slug=slug)
    agreements = (
        Agreement.objects.filter(counterpart=counterpart)
        .select_related("administration__municipality")
        .prefetch_related(
            Prefetch(
                "projects",
                queryset=Project.objects.prefetch_related(
                    Prefetch("participations", queryset=Participation.objects.select_related("organization"))
                ).order_by("code"),
            )
        )
        .annotate(money=Sum("projects__total_amount"), people=Sum("projects__beneficiaries_target"))
    )
    if not agreements:
        raise Http404(_("Esta organización no tiene convenios."))
    return render(
        request,
        "projects/staff/handover.html",
        {"counterpart": counterpart, "agreements": agreements, "today": timezone.localdate()},
    )


# --- Public -------------------------------------------------------------------------------------------------------


def public_declarations():
    """Declarations that relate to a public decision: a member present at the session declared a tie with the
    implementer of the decided (published) project. Members' other data is never shown."""
    relating = AwardDecision.objects.public().filter(
        session__attendances__member=OuterRef("member"),
        project__participations__organization=OuterRef("organization"),
        project__participations__role=Participation.Role.IMPLEMENTER,
    )
    return (
        ConflictDeclaration.objects.filter(Exists(relating))
        .select_related("member", "organization")
        .order_by("member__name", "-declared_on")
    )


def open_call_shares():
    """Per year of decision: money and projects awarded by open call and in other ways, and the open-call shares."""
    rows = (
        AwardDecision.objects.public()
        .filter(outcome=AwardDecision.Outcome.APPROVED)
        .annotate(year=ExtractYear("session__held_on"))
        .values("year")
        .annotate(
            money=Sum("amount"),
            projects=Count("pk"),
            open_money=Sum("amount", filter=Q(method=AwardDecision.Method.OPEN_CALL)),
            open_projects=Count("pk", filter=Q(method=AwardDecision.Method.OPEN_CALL)),
        )
        .order_by("-year")
    )
    years = []
    for row in rows:
        open_money = row["open_money"] or Decimal("0")
        years.append(
            {
                **row,
                "open_money": open_money,
                "other_money": row["money"] - open_money,
                "other_projects": row["projects"] - row["open_projects"],
                "money_share": round(100 * open_money / row["money"]) if row["money"] else 0,
                "project_share": round(100 * row["open_projects"] / row["projects"]),
            }
        )
    return years


def public_decisions():
    return (
        AwardDecision.objects.public()
        .with_conflict_flag()
        .select_related("project", "session", "call")
        .prefetch_related("recusals__member")
    )


@require_GET
def governance_public(request):
    sessions = (
        CommitteeSession.objects.filter(Exists(AwardDecision.objects.public().filter(session=OuterRef("pk"))))
        .prefetch_related(
            Prefetch("decisions", queryset=public_decisions().order_by("project__code")),
            Prefetch("attendances", queryset=Attendance.objects.select_related("member")),
        )
        .order_by("-held_on", "-pk")
    )
    return render(
        request,
        "projects/public/governance.html",
        {
            "years": open_call_shares(),
            "calls": calls_with_numbers(),
            "sessions": Paginator(sessions, 20).get_page(request.GET.get("page")),
            "declarations": public_declarations(),
            "flagged": public_decisions().filter(unresolved_conflict=True).order_by("-session__held_on"),
            "continuity": continuity_figures(),
        },
    )


@require_GET
def governance_download(request, table):
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="gobernanza-{table}.csv"'
    writer = csv.writer(response)
    if table == "decisiones":
        writer.writerow(
            [
                _("clave"),
                _("proyecto"),
                _("fecha"),
                _("órgano"),
                _("forma de asignación"),
                _("convocatoria"),
                _("decisión"),
                _("monto (MXN)"),
                _("votos a favor"),
                _("votos en contra"),
                _("abstenciones"),
                _("excusas"),
                _("conflicto no resuelto"),
            ]
        )
        for d in public_decisions().order_by("-session__held_on", "project__code"):
            writer.writerow(
                [
                    d.project.code,
                    d.project.title,
                    d.session.held_on.isoformat(),
                    d.session.get_body_display(),
                    d.get_method_display(),
                    d.call.title if d.call_id else "",
                    d.get_outcome_display(),
                    d.amount,
                    d.votes_for,
                    d.votes_against,
                    d.votes_abstained,
                    "; ".join(r.member.name for r in d.recusals.all()),
                    _("sí") if d.unresolved_conflict else _("no"),
                ]
            )
    elif table == "convocatorias":
        writer.writerow(
            [_("convocatoria"), _("apertura"), _("cierre"), _("presupuesto (MXN)"), _("solicitudes"), _("elegibles")]
            + [_("seleccionadas")]
        )
        for call in calls_with_numbers():
            writer.writerow(
                [call.title, call.opens_on.isoformat(), call.closes_on.isoformat(), call.budget, call.applied]
                + [call.eligible, "; ".join(a.organization.name for a in call.selected)]
            )
    else:
        raise Http404(_("Descarga desconocida."))
    return response


def project_award(project):
    """How a project was awarded, by whom and when, with any recusal and the flag (None when not recorded)."""
    return (
        AwardDecision.objects.with_conflict_flag()
        .filter(project=project)
        .select_related("session", "call")
        .prefetch_related("recusals__member")
        .prefetch_related(Prefetch("session__attendances", queryset=Attendance.objects.select_related("member")))
        .first()
    )
