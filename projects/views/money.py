"""Money pages: the public "¿A dónde va el dinero?" page with its CSV, the money blocks of the project and
organization pages, and the workspace where staff enter the ledger, editors and partners upload CFDI, and
coordinators approve and resolve the review queue of near-duplicate invoices.

Every write is one model operation in one transaction (Commitment.disburse, ExpenseProof.record); these views only
collect input, ask permissions and report the outcome."""

import csv
from collections import defaultdict
from decimal import Decimal

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Prefetch, Sum
from django.db.models.functions import ExtractYear, TruncMonth
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from .. import accountability
from ..forms_money import AnnualReportForm, CommitmentForm, DisbursementForm, ProofUploadForm
from ..models import (
    AlreadyCharged,
    AnnualReport,
    Charge,
    Commitment,
    Disbursement,
    ExpenseProof,
    Project,
    is_staff_user,
)

# --- Public -----------------------------------------------------------------------------------------------------


def chosen_year(request):
    """The ?anio= of the money page and its CSV: None for all years; ValueError when it is not a sensible year."""
    value = request.GET.get("anio", "").strip()
    if not value:
        return None
    year = int(value)
    if not 2000 <= year <= 2100:
        raise ValueError(year)
    return year


@require_GET
def money_page(request):
    try:
        year = chosen_year(request)
    except ValueError:
        return render(
            request, "projects/public/bad_request.html", {"errors": {"anio": [_("Año inválido.")]}}, status=400
        )
    data = accountability.figures(year)
    sections = defaultdict(list)
    for row in data["rows"]:
        sections[row["dimension"]].append(row)
    years = [row for row in sections["year"]]
    return render(
        request,
        "projects/public/money.html",
        {
            "data": data,
            "sections": dict(sections),
            "year": year,
            "years": years,
            "total": sections["total"][0] if sections["total"] else None,
        },
    )


@require_GET
def money_csv(request):
    try:
        year = chosen_year(request)
    except ValueError:
        return HttpResponse(_("Año inválido."), status=400, content_type="text/plain; charset=utf-8")
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="dinero{"-" + str(year) if year else ""}.csv"'
    writer = csv.writer(response)
    writer.writerow([header for _key, header in accountability.CSV_COLUMNS])
    for row in accountability.figures(year)["rows"]:
        writer.writerow(["" if row[key] is None else row[key] for key, _header in accountability.CSV_COLUMNS])
    return response


def percent(part, whole):
    return accountability.ratio(part * 100, whole) if whole else None


def project_money(project):
    """The money timeline of one project: committed → paid → proven, per implementer, and proven per month.
    Invoices themselves are never shown here (an issuer may be a person); only amounts."""
    commitments = list(project.commitments.select_related("organization").order_by("date", "pk"))
    if not commitments:
        return None
    disbursements = list(
        Disbursement.objects.filter(commitment__project=project)
        .select_related("recipient", "commitment__organization")
        .order_by("planned_date", "pk")
    )
    charges = Charge.objects.filter(disbursement__commitment__project=project)
    proven_by = dict(charges.values_list("disbursement__recipient").annotate(s=Sum("amount")))
    months = list(
        charges.annotate(month=TruncMonth("proof__issued_on"))
        .values("month")
        .annotate(s=Sum("amount"))
        .order_by("month")
    )
    committed = sum((c.amount for c in commitments if c.kind == Commitment.Kind.CASH), Decimal("0"))
    in_kind = sum((c.amount for c in commitments if c.kind == Commitment.Kind.IN_KIND), Decimal("0"))
    paid_by = defaultdict(Decimal)
    recipients = {}
    for d in disbursements:
        recipients[d.recipient_id] = d.recipient
        if d.actual_date:
            paid_by[d.recipient_id] += d.amount
    paid, proven = sum(paid_by.values(), Decimal("0")), sum(proven_by.values(), Decimal("0"))
    return {
        "commitments": commitments,
        "disbursements": disbursements,
        "committed": committed,
        "in_kind": in_kind,
        "paid": paid,
        "proven": proven,
        "paid_share": percent(paid, committed),
        "proven_share": percent(proven, paid),
        "implementers": [
            {
                "organization": organization,
                "paid": paid_by[pk],
                "proven": proven_by.get(pk, Decimal("0")),
                "proven_share": percent(proven_by.get(pk, Decimal("0")), paid_by[pk]),
            }
            for pk, organization in recipients.items()
        ],
        "months": months,
    }


def money_received(organization):
    """Money paid to an organization for its published projects, per year and project."""
    return list(
        Disbursement.objects.filter(
            recipient=organization,
            actual_date__isnull=False,
            commitment__project__publication_state=Project.Publication.PUBLISHED,
        )
        .annotate(year=ExtractYear("actual_date"))
        .values("year", "commitment__project__code", "commitment__project__title", "commitment__project__slug")
        .annotate(amount=Sum("amount"))
        .order_by("-year", "commitment__project__code")
    )


# --- Workspace --------------------------------------------------------------------------------------------------


def ledger_project(request, code):
    """The project whose ledger the caller may open: staff any, a partner member its own organization's."""
    project = get_object_or_404(Project.objects.visible_to(request.user), code=code)
    if not (is_staff_user(request.user) or Project.objects.of_partner(request.user).filter(pk=project.pk).exists()):
        raise PermissionDenied(_("Solo el personal de FICOSEC y la organización del proyecto ven su registro."))
    return project


def render_ledger(request, project, status=200, **forms):
    staff = is_staff_user(request.user)
    context = {
        "project": project,
        "money": project_money(project),
        "staff": staff,
        "proofs": ExpenseProof.objects.visible_to(request.user)
        .filter(charges__disbursement__commitment__project=project)
        .distinct()
        .order_by("-created_at"),
        "commitment_form": forms.get("commitment_form") or CommitmentForm(auto_id="compromiso_%s"),
        "disbursement_form": forms.get("disbursement_form") or DisbursementForm(project, auto_id="ministracion_%s"),
        "upload_form": forms.get("upload_form") or ProofUploadForm(project, auto_id="cfdi_%s"),
    }
    return render(request, "projects/staff/project_ledger.html", context, status=status)


@login_required
def project_ledger(request, code):
    return render_ledger(request, ledger_project(request, code))


@login_required
@permission_required("projects.add_commitment", raise_exception=True)
@require_POST
def commitment_create(request, code):
    project = ledger_project(request, code)
    form = CommitmentForm(request.POST, instance=Commitment(project=project), auto_id="compromiso_%s")
    if not form.is_valid():
        return render_ledger(request, project, 400, commitment_form=form)
    form.save()
    messages.success(request, _("Compromiso registrado."))
    return redirect("project_ledger", code=project.code)


@login_required
@permission_required("projects.add_disbursement", raise_exception=True)
@require_POST
def disbursement_create(request, code):
    project = ledger_project(request, code)
    form = DisbursementForm(project, request.POST, auto_id="ministracion_%s")
    if form.is_valid():
        data = form.cleaned_data
        try:
            data["commitment"].disburse(data["amount"], data["recipient"], data["planned_date"], data["actual_date"])
        except ValidationError as error:
            form.add_error(None, error)
    if not form.is_valid():
        return render_ledger(request, project, 400, disbursement_form=form)
    messages.success(request, _("Ministración registrada."))
    return redirect("project_ledger", code=project.code)


@login_required
@permission_required("projects.add_expenseproof", raise_exception=True)
@require_POST
def proof_upload(request, code):
    project = ledger_project(request, code)
    form = ProofUploadForm(project, request.POST, request.FILES, auto_id="cfdi_%s")
    if form.is_valid():
        upload = form.cleaned_data["xml"]
        try:
            proof = ExpenseProof.record(
                upload.read(2 * 1024 * 1024 + 1),
                form.cleaned_data["disbursement"],
                form.cleaned_data["amount"],
                user=request.user,
                filename=upload.name,
            )
        except AlreadyCharged as error:
            form.add_error(None, duplicate_message(error.proof, request.user))
        except ValidationError as error:
            form.add_error("xml" if error.code != "charge_amount" else "amount", error)
    if not form.is_valid():
        return render_ledger(request, project, 400, upload_form=form)
    messages.success(
        request,
        _("CFDI %(uuid)s registrado.") % {"uuid": proof}
        + (
            " " + _("Quedó en la cola de revisión: %(reason)s.") % {"reason": proof.review_reason}
            if proof.review_reason
            else ""
        ),
    )
    return redirect("project_ledger", code=project.code)


def duplicate_message(proof, user):
    """Staff learn where the invoice was already charged (with a link); a partner only that it is already used."""
    if not is_staff_user(user):
        return _("Este CFDI ya está registrado en el portal y no puede cargarse de nuevo.")
    charge = proof.charges.select_related("disbursement__commitment__project").first()
    project = charge.disbursement.commitment.project
    return format_html(
        _(
            'Este CFDI (folio fiscal {uuid}) ya está registrado: cargado a <a href="{url}">{code}</a> '
            "por {amount} de un total de {total}."
        ),
        uuid=str(proof),
        url=reverse("project_ledger", args=[project.code]) + f"#cfdi-{proof.pk}",
        code=project.code,
        amount=f"${proof.charged:,.2f}",
        total=f"${proof.total:,.2f}",
    )


@login_required
@permission_required("projects.approve_money", raise_exception=True)
@require_POST
def ledger_approve(request, kind, pk):
    models = {"compromiso": Commitment, "ministracion": Disbursement}
    if kind not in models:
        return HttpResponse(status=404)
    row = get_object_or_404(models[kind], pk=pk)
    with transaction.atomic():
        row.approve(request.user)
    project = row.project if kind == "compromiso" else row.commitment.project
    messages.success(request, _("Aprobado."))
    return redirect("project_ledger", code=project.code)


@login_required
@permission_required("projects.view_commitment", raise_exception=True)
def review_queue(request):
    proofs = (
        ExpenseProof.objects.in_review()
        .prefetch_related(
            Prefetch("charges", queryset=Charge.objects.select_related("disbursement__commitment__project"))
        )
        .order_by("created_at")[:200]
    )
    return render(request, "projects/staff/review_queue.html", {"proofs": proofs})


@login_required
@permission_required("projects.approve_money", raise_exception=True)
@require_POST
def proof_review(request, pk):
    proof = get_object_or_404(ExpenseProof.objects.in_review(), pk=pk)
    proof.review(request.user)
    messages.success(request, _("CFDI %(uuid)s revisado.") % {"uuid": proof})
    return redirect("review_queue")


@login_required
@permission_required("projects.add_annualreport", raise_exception=True)
def annual_reports(request):
    form = AnnualReportForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, _("Cifras publicadas registradas."))
        return redirect("annual_reports")
    return render(
        request,
        "projects/staff/annual_reports.html",
        {"form": form, "reports": AnnualReport.objects.all()},
        status=400 if request.method == "POST" else 200,
    )
