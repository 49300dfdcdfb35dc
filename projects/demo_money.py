"""Demo ledger: commitments from the demo projects' contributions, disbursements in tranches, synthetic CFDI proofs
(clearly fictitious RFCs with valid check digits, folios fiscales derived from the project code), two proofs that trip
the near-duplicate rules, and the totals FICOSEC published for 2022 and 2023. Idempotent: rows are looked up by
natural keys, so a second run writes nothing."""

import uuid
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from stdnum.mx import rfc as stdnum_rfc

from . import cfdi
from .models import AnnualReport, Commitment, ExpenseProof, Participation

NAMESPACE = uuid.UUID("6f1b2c3d-0000-4000-8000-00000000f1c0")  # folios fiscales of the demo: uuid5 of a label
SPLITS = [Decimal("0.4"), Decimal("0.4"), Decimal("0.2")]
TODAY = date(2026, 6, 30)  # fixed, so that the demo is the same whenever it is loaded
# FICOSEC's award shared among several implementers: project code -> {implementer slug: amount}, paid in one tranche
# each (the migrants project, whose participations say the split in their notes).
SHARED_AWARDS = {
    "FIC-2023-031": {"dhia": Decimal("2209181.70"), "casa": Decimal("1792168.51"), "sjr": Decimal("995111.30")},
}

ANNUAL_REPORTS = [
    (2022, 85, Decimal("204504877.00"), "FICOSEC, Informe anual 2022 (cifras publicadas)"),
    (2023, 109, Decimal("350837249.11"), "FICOSEC, Informe anual 2023 (cifras publicadas)"),
]


def fictitious_rfc(stem):
    """A company RFC (12 characters) with a valid check digit, built from an 11-character stem such as
    'EJE200101AA': the 'EJE' (ejemplo) prefix marks it as made up."""
    return stem + stdnum_rfc.calc_check_digit(stem)


def with_check_digit(stem, fallback):
    """stem + its check digit when that makes a valid RFC (the demo's organizations), else `fallback`."""
    from django.core.exceptions import ValidationError

    from .models.common import validate_rfc

    try:
        validate_rfc(stem + stdnum_rfc.calc_check_digit(stem))
    except ValidationError:
        return fallback
    return stem + stdnum_rfc.calc_check_digit(stem)


SUPPLIERS = [fictitious_rfc(f"EJE2001{day:02d}AA") for day in range(1, 10)]
RECEIVER = fictitious_rfc("EJF200101AA")  # the implementing organizations invoice under a made-up RFC too


def folio_fiscal(label):
    return str(uuid.uuid5(NAMESPACE, label)).upper()


def load():
    """Write what is missing; return the number of rows written."""
    changes = 0
    for year, projects, amount, source in ANNUAL_REPORTS:
        _report, created = AnnualReport.objects.get_or_create(
            year=year, defaults={"projects": projects, "amount": amount, "source": source}
        )
        changes += created
    participations = (
        Participation.objects.filter(amount__gt=0, role__in=["funder", "implementer"])
        .select_related("project", "organization")
        .order_by("project__code", "pk")
    )
    implementers = {
        p.project_id: p.organization
        for p in Participation.objects.filter(role="implementer").select_related("organization").order_by("-pk")
    }
    for number, participation in enumerate(participations):
        project = participation.project
        if project.pk not in implementers or not project.start_date:
            continue
        changes += ledger(number, participation, project, implementers[project.pk])
    changes += near_duplicates()
    return changes


def ledger(number, participation, project, implementer):
    in_kind = participation.contribution_kind == Participation.ContributionKind.IN_KIND
    commitment, created = Commitment.objects.get_or_create(
        project=project,
        organization=participation.organization,
        date=project.start_date,
        defaults={
            "amount": participation.amount,
            "kind": Commitment.Kind.IN_KIND if in_kind else Commitment.Kind.CASH,
            "in_kind_description": "Espacios, equipo y horas de personal (ejemplo)" if in_kind else "",
            "valuation_method": "Precio de mercado de renta y salarios (ejemplo)" if in_kind else "",
            "agreement_reference": f"CONV-{project.code}",
        },
    )
    changes = int(created)
    if in_kind or commitment.disbursements.exists():
        return changes
    shares = SHARED_AWARDS.get(project.code) if participation.organization.is_ficosec else None
    if shares and sum(shares.values()) == commitment.amount:
        return changes + shared(commitment, project, shares, number)
    span = max(((project.end_date or project.start_date) - project.start_date).days, 90)
    for tranche, share in enumerate(SPLITS, start=1):
        planned = project.start_date + timedelta(days=span * (tranche - 1) // len(SPLITS))
        amount = (commitment.amount * share).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
        if tranche == len(SPLITS):
            amount = commitment.amount - sum(d.amount for d in commitment.disbursements.all())
        paid = planned + timedelta(days=7) if planned + timedelta(days=7) <= TODAY else None
        disbursement = commitment.disburse(amount, implementer, planned, paid, tranche=tranche)
        changes += 1
        if paid and tranche < len(SPLITS):
            changes += prove(f"{project.code}-{commitment.pk}-{tranche}", disbursement, number + tranche, paid)
    return changes


def shared(commitment, project, shares, number):
    """One paid tranche of FICOSEC's commitment to each implementer of a shared award, each partly proven."""
    from .models import Organization

    paid = min(project.start_date + timedelta(days=7), TODAY)
    changes = 0
    for tranche, (slug, amount) in enumerate(shares.items(), start=1):
        disbursement = commitment.disburse(
            amount, Organization.objects.get(slug=slug), project.start_date, paid, tranche
        )
        changes += 1 + prove(f"{project.code}-{commitment.pk}-{tranche}", disbursement, number + tranche, paid)
    return changes


def prove(label, disbursement, seed, paid):
    """Two invoices per paid tranche, together proving about 70 % of it."""
    written = 0
    for n, share in enumerate((Decimal("0.45"), Decimal("0.25"))):
        total = (disbursement.amount * share).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
        xml = cfdi.build(
            folio_fiscal(f"{label}-{n}"),
            SUPPLIERS[(seed + n) % len(SUPPLIERS)],
            RECEIVER,
            paid + timedelta(days=10 + 20 * n),
            total,
            serie="D",
            folio=str(uuid.uuid5(NAMESPACE, f"{label}-{n}").int % 10**8),
            issuer_name="PROVEEDOR FICTICIO DE EJEMPLO",
        )
        ExpenseProof.record(xml, disbursement, filename=f"{label}-{n}.xml")
        written += 1
    return written


def near_duplicates():
    """Two proofs that the portal accepts but queues for review: one with the issuer, total and date of another
    invoice, one with another invoice's serie and folio."""
    first = ExpenseProof.objects.filter(xml__contains="PROVEEDOR FICTICIO").order_by("issued_on", "uuid").first()
    if first is None:
        return 0
    target = first.charges.select_related("disbursement").first().disbursement
    written = 0
    twins = [
        ("gemelo-mismo-total", first.issued_on, first.total, "Z", "9001"),
        ("gemelo-mismo-folio", first.issued_on + timedelta(days=3), Decimal("1234.56"), first.serie, first.folio),
    ]
    for label, issued_on, total, serie, folio in twins:
        uid = folio_fiscal(label)
        if ExpenseProof.objects.filter(uuid=uid).exists():
            continue
        xml = cfdi.build(uid, first.issuer_rfc, RECEIVER, issued_on, total, serie=serie, folio=folio)
        room = target.amount - sum(c.amount for c in target.charges.all())
        if room > 0:
            ExpenseProof.record(xml, target, amount=min(room, total, Decimal("1000.00")), filename=f"{label}.xml")
            written += 1
    return written
