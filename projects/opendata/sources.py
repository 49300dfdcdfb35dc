"""Where the open-data files read their facts: one named function per kind of fact.

The IATI and 360Giving writers and the data page only call these functions:

- `transactions_of(project)`: the money ledger's cash commitments (2 outgoing from FICOSEC, 11 incoming from the
  other funders), its paid disbursements (3, on their payment date) and the expenditure proven by CFDI charges
  (4, one sum per implementer and month: never an invoice's details); the cash participations as commitments
  when the project has no ledger rows.
- `awards_of(project)`: one grant per approved award decision to each implementer other than FICOSEC, the
  decision's amount split by what FICOSEC's commitments disbursed to each (else by the implementers'
  participations); without a decision, FICOSEC's contribution as one grant to the lead implementer.
- `award_date_of(project)`: the date of the decision's committee session; without a decision, the start of the
  project (or its publication when it starts in the future).
- `programme_of(project)`: the call the decision names, the axis and the lines.
- `results_of(project)`: the indicators and their periods as the public may see them: counts of people through
  `projects.privacy` (a small count is omitted, never printed), and for a sensitive site one total per period.
- `documents_of(project)`: the project's public page and the evaluations with a document.
- `locations_of(project)`: every municipality with its centroid (never a site: a sensitive site's name is
  internal and never read here).

Every function reads a project as `each_project` fetched it: the related rows are the lists `GRANT_FACTS` or
`ACTIVITY_FACTS` attach (`project.participation_list`), so a chunk of projects asks nothing more per project.
"""

import csv
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import cache
from pathlib import Path

from django.conf import settings
from django.db.models import Prefetch
from django.utils import timezone

from .. import exports, privacy
from ..models import (
    AwardDecision,
    Charge,
    Commitment,
    Disbursement,
    Indicator,
    Measurement,
    Organization,
    Participation,
    Project,
    period_of,
)

CENTROIDS = Path(__file__).parent / "data" / "municipality_centroids.csv"
CHUNK = 500


def ledger(*disbursement_facts):
    """The commitments with their organizations and disbursements (and what `disbursement_facts` adds to each)."""
    disbursements = Disbursement.objects.select_related("recipient").prefetch_related(*disbursement_facts)
    commitments = Commitment.objects.select_related("organization").prefetch_related(
        Prefetch("disbursements", queryset=disbursements, to_attr="disbursement_list")
    )
    return Prefetch("commitments", queryset=commitments, to_attr="commitment_list")


# What each file reads of a project: one query per relation for CHUNK projects at a time, each relation kept as a
# plain list on its object (`to_attr`, read as `project.participation_list`). Through `project.participations.all()`
# Django would build a queryset per project and relation (and per indicator, commitment and disbursement): at
# 100,000 projects that cost more than writing the files.
SHARED_FACTS = [
    Prefetch("lines", to_attr="line_list"),
    Prefetch("municipalities", to_attr="municipality_list"),
    Prefetch(
        "participations", queryset=Participation.objects.select_related("organization"), to_attr="participation_list"
    ),
]
GRANT_FACTS = [*SHARED_FACTS, ledger()]
ACTIVITY_FACTS = [
    *SHARED_FACTS,
    ledger(
        Prefetch(
            "charges",
            # Only the amount and the month of each invoice: nothing else of a CFDI is public.
            queryset=Charge.objects.select_related("proof").only(
                "id", "amount", "disbursement_id", "proof__id", "proof__issued_on"
            ),
            to_attr="charge_list",
        )
    ),
    Prefetch(
        "indicators",
        queryset=Indicator.objects.prefetch_related(
            Prefetch(
                "measurements",
                queryset=Measurement.objects.only("id", "indicator_id", "date", "value").order_by("date"),
                to_attr="measurement_list",
            ),
            Prefetch("periods", to_attr="period_list"),
        ),
        to_attr="indicator_list",
    ),
    Prefetch("evaluations", to_attr="evaluation_list"),
]
# Columns of a project no file writes: internal notes, the conflict-of-interest note, a sensitive site's name, the
# long description and the search columns are never even fetched (reading one would cost a query per project).
UNREAD = [
    "description",
    "internal_notes",
    "conflict_of_interest",
    "site_name",
    "search_places",
    "search_organizations",
    "search_vector",
]


def published_projects():
    """The projects every open-data file publishes: the catalogue's public ones, in a stable order."""
    return Project.objects.published().order_by("code")


def each_project(facts, projects=None):
    """The published projects (or `projects`) with the related rows `facts` names, read CHUNK at a time: a bounded
    number of queries per chunk and flat memory at any number of projects."""
    projects = published_projects() if projects is None else projects
    return (
        projects.select_related("axis", "award_decision__session", "award_decision__call")
        .defer(*UNREAD)
        .prefetch_related(*facts)
        .iterator(chunk_size=CHUNK)
    )


# --- FICOSEC as publisher --------------------------------------------------------------------------------------


@dataclass
class Publisher:
    identifier: str
    name: str
    acronym: str
    rfc: str


def publisher():
    """FICOSEC as the open data's publisher: `settings.FICOSEC_ORG_IDENTIFIER` when set, else `MX-RFC-<RFC>` of the
    organization marked as FICOSEC, else a portal-scoped id under `settings.GRANT_ID_PREFIX` (set one of the first
    two in production: the fallback is not a registered identifier)."""
    org = Organization.objects.filter(is_ficosec=True).only("name", "acronym", "rfc").first()
    name = org.name if org else "Fideicomiso para la Competitividad y Seguridad Ciudadana"
    acronym = org.acronym if org else "FICOSEC"
    rfc = org.rfc if org else ""
    identifier = settings.FICOSEC_ORG_IDENTIFIER or (f"MX-RFC-{rfc}" if rfc else f"{settings.GRANT_ID_PREFIX}-ORG")
    return Publisher(identifier=identifier, name=name, acronym=acronym, rfc=rfc)


def organization_identifier(organization):
    """`MX-RFC-<RFC>` (org-id.guide's prefix for Mexico's SAT register) when the organization has an RFC; otherwise
    an id scoped to this portal: `<GRANT_ID_PREFIX>-ORG-<slug>`."""
    if organization.rfc:
        return f"MX-RFC-{organization.rfc}"
    return f"{settings.GRANT_ID_PREFIX}-ORG-{organization.slug}"


# --- Facts per project -----------------------------------------------------------------------------------------


@dataclass
class Transaction:
    kind: str  # IATI TransactionType: 2 outgoing commitment, 11 incoming commitment, 3 disbursement, 4 expenditure
    date: date
    amount: Decimal
    provider: Organization
    receiver: Organization | None
    description: str


OUTGOING_COMMITMENT, INCOMING_COMMITMENT, DISBURSEMENT, EXPENDITURE = "2", "11", "3", "4"


def implementers(project):
    return [p.organization for p in project.participation_list if p.role == Participation.Role.IMPLEMENTER]


def transactions_of(project):
    """The project's money as IATI transactions, from the ledger when it has rows for the project:
    - each cash commitment: FICOSEC's as an outgoing commitment (2), another funder's as an incoming one (11),
      received by the lead implementer (none when the giver is the implementer itself);
    - each disbursement already paid (3), on its payment date, from the committing organization to its recipient;
    - the expenditure proven by CFDI charges (4): one sum per implementer and calendar month of the invoices, dated
      the month's last day (today for the current month); no invoice, issuer or folio is ever named.
    Without ledger rows: each cash participation with an amount, as a commitment of its organization."""
    commitments = [c for c in project.commitment_list if c.kind == Commitment.Kind.CASH]
    if not project.commitment_list:
        return participation_commitments(project)
    doers = implementers(project)
    lead = doers[0] if doers else None
    out = []
    spent = {}
    for commitment in commitments:
        giver = commitment.organization
        out.append(
            Transaction(
                kind=OUTGOING_COMMITMENT if giver.is_ficosec else INCOMING_COMMITMENT,
                date=commitment.date,
                amount=commitment.amount,
                provider=giver,
                receiver=lead if lead and lead.pk != giver.pk else None,
                description=f"Compromiso: {giver.name}",
            )
        )
    for commitment in commitments:
        for disbursement in commitment.disbursement_list:
            if disbursement.actual_date:
                out.append(
                    Transaction(
                        kind=DISBURSEMENT,
                        date=disbursement.actual_date,
                        amount=disbursement.amount,
                        provider=commitment.organization,
                        receiver=disbursement.recipient,
                        description=f"Ministración {disbursement.tranche}: {commitment.organization.name}",
                    )
                )
            for charge in disbursement.charge_list:
                month = charge.proof.issued_on.replace(day=1)
                key = (month, disbursement.recipient.pk)
                if key not in spent:
                    spent[key] = [disbursement.recipient, Decimal("0")]
                spent[key][1] += charge.amount
    today = timezone.localdate()
    for (month, _pk), (spender, amount) in sorted(spent.items(), key=lambda item: (item[0][0], item[0][1])):
        out.append(
            Transaction(
                kind=EXPENDITURE,
                date=min(month_end(month), today),
                amount=amount,
                provider=spender,
                receiver=None,
                description=f"Gasto comprobado con CFDI en {month:%m/%Y}",
            )
        )
    return out


def month_end(first):
    following = date(first.year + first.month // 12, first.month % 12 + 1, 1)
    return date.fromordinal(following.toordinal() - 1)


def participation_commitments(project):
    """Each cash participation with an amount, as a commitment (IATI type 2) from its organization, received by the
    lead implementer (none when the giver is the implementer itself)."""
    doers = implementers(project)
    lead = doers[0] if doers else None
    when = award_date_of(project)
    return [
        Transaction(
            kind=OUTGOING_COMMITMENT,
            date=when,
            amount=p.amount,
            provider=p.organization,
            receiver=lead if lead and lead.pk != p.organization_id else None,
            description=f"{Participation.Role(p.role).label}: {p.organization.name}",  # not get_role_display(): slow
        )
        for p in project.participation_list
        if p.amount and p.amount > 0 and p.contribution_kind == Participation.ContributionKind.CASH
    ]


@dataclass
class Award:
    project: Project
    number: int
    recipient: Organization
    amount: Decimal
    date: date
    from_open_call: bool


def decision_of(project):
    """The project's award decision (None when it has none), read from the row `each_project` joined."""
    try:
        return project.award_decision
    except AwardDecision.DoesNotExist:
        return None


def awards_of(project):
    """FICOSEC's grants in this project: one per implementer other than FICOSEC.

    With an approved award decision: its amount, split among the implementers in proportion to what FICOSEC's
    commitments disbursed to each in the ledger, else to the implementers' own participations, else all of it to
    the lead implementer; the last grant takes the rounding cents, so the grants add up to the decision. A rejected
    decision gives no grant. Without a decision: FICOSEC's contribution (`ficosec_amount`) as one grant to the lead
    implementer (the first by role order, largest own contribution first)."""
    doers = [org for org in implementers(project) if not org.is_ficosec]
    decision = decision_of(project)
    if decision is None:
        if not doers or not project.ficosec_amount or project.ficosec_amount <= 0:
            return []
        from_open_call = project.award_type == Project.Award.OPEN_CALL
        return [Award(project, 1, doers[0], project.ficosec_amount, award_date_of(project), from_open_call)]
    if not doers or decision.outcome != AwardDecision.Outcome.APPROVED or decision.amount <= 0:
        return []
    weights = split_weights(project, doers)
    total = sum(weights.values())
    receivers = [org for org in doers if weights.get(org.pk)] if total else doers[:1]
    when = award_date_of(project)
    from_open_call = decision.method == AwardDecision.Method.OPEN_CALL
    awards, given = [], Decimal("0")
    for number, org in enumerate(receivers, start=1):
        if number == len(receivers):
            amount = decision.amount - given
        else:
            amount = (decision.amount * weights[org.pk] / total).quantize(Decimal("0.01"))
        given += amount
        awards.append(Award(project, number, org, amount, when, from_open_call))
    return [award for award in awards if award.amount > 0]


def split_weights(project, doers):
    """{organization pk: weight} of each implementer in FICOSEC's award: what FICOSEC's commitments disbursed to it
    (planned or paid), else its participation's amount."""
    ids = {org.pk for org in doers}
    weights = {}
    for commitment in project.commitment_list:
        if commitment.organization.is_ficosec:
            for disbursement in commitment.disbursement_list:
                if disbursement.recipient_id in ids:
                    weights[disbursement.recipient_id] = weights.get(disbursement.recipient_id, 0) + disbursement.amount
    if weights:
        return weights
    return {
        p.organization_id: p.amount
        for p in project.participation_list
        if p.role == Participation.Role.IMPLEMENTER and p.organization_id in ids and p.amount and p.amount > 0
    }


def award_date_of(project):
    """When the money was awarded: the date of the award decision's session (never later than today). Without a
    decision: the project's start (actual, else planned) when it is not in the future, else the day it was
    published."""
    today = timezone.localdate()
    decision = decision_of(project)
    if decision is not None:
        return min(decision.session.held_on, today)
    start = project.start_date
    if start and start <= today:
        return start
    if project.published_at:
        return min(timezone.localdate(project.published_at), today)
    return today


def programme_of(project):
    """The programme a grant belongs to: the call the award decision names (without a decision, the call named on
    a project awarded by open call), the axis and the lines of action. A list of (code, title) pairs."""
    programmes = []
    decision = decision_of(project)
    if decision is not None:
        if decision.call_id:
            programmes.append((f"convocatoria-{decision.call_id}", decision.call.title))
    elif project.award_type == Project.Award.OPEN_CALL and project.call_name:
        programmes.append(("convocatoria", project.call_name))
    if project.axis:
        programmes.append((f"eje-{project.axis.number}", project.axis.name))
    programmes += [(f"linea-{line.number}", line.name) for line in sorted(project.line_list, key=lambda x: x.number)]
    return programmes


@dataclass
class Reading:
    """One public period of an indicator: its dates and its value (None when a small count of people is
    suppressed: the file then says so in words and never prints the number)."""

    start: date
    end: date
    value: Decimal | None


@dataclass
class Result:
    indicator: Indicator
    baseline: Decimal | None
    target: Decimal | None
    readings: list


def public_value(indicator, value):
    """`value` as the public may read it: None for a small count of people (projects.privacy)."""
    if value is not None and indicator.counts_people and privacy.is_small(value):
        return None
    return value


def results_of(project):
    """The indicators as the public may see them: baseline, target and one reading per period, counts of people
    under the small-cell threshold left out (projects.privacy, the pages' rule). Each measurement is its own
    period (from the previous one or the project's start), except for a sensitive site: one total per reporting
    period (the latest value within it; per calendar year without periods), as its page shows."""
    results = []
    for indicator in project.indicator_list:
        measurements = indicator.measurement_list
        if project.sensitive_site:
            readings = period_totals(indicator, measurements)
        else:
            readings, previous = [], project.start_date
            for m in measurements:
                start = previous if previous and previous <= m.date else m.date
                readings.append(Reading(start, m.date, m.value))
                previous = m.date
        for reading in readings:
            reading.value = public_value(indicator, reading.value)
        baseline = public_value(indicator, indicator.baseline)
        results.append(Result(indicator, baseline, public_value(indicator, indicator.target), readings))
    return results


def period_totals(indicator, measurements):
    periods = indicator.period_list
    totals = {}
    for m in measurements:
        period = period_of(periods, m.date)
        key = (period.start, period.end) if period else (date(m.date.year, 1, 1), date(m.date.year, 12, 31))
        totals[key] = m.value
    return [Reading(start, end, value) for (start, end), value in totals.items()]


def documents_of(project):
    """Documents about the project worth linking: (url, title, IATI DocumentCategory). Its public page (A12,
    activity web page) and each evaluation of it with a document (A07, review and evaluation)."""
    documents = [(absolute(project.get_absolute_url()), project.title, "A12")]
    for evaluation in sorted(project.evaluation_list, key=lambda e: (e.year, e.pk)):
        if evaluation.document_url:
            documents.append((evaluation.document_url, f"{evaluation.title} ({evaluation.year})", "A07"))
    return documents


@cache
def centroids():
    with CENTROIDS.open(encoding="utf-8") as f:
        return {row["inegi_code"]: (row["latitude"], row["longitude"]) for row in csv.DictReader(f)}


def locations_of(project):
    """The municipalities where the project works, each with its centroid (lat, lon) or None. Never anything below
    the municipality: a sensitive site (shelters, women's centres) is published as its municipality only, and its
    internal site name is never read here."""
    points = centroids()
    return [(m, points.get(m.inegi_code)) for m in sorted(project.municipality_list, key=lambda m: m.inegi_code)]


absolute = exports.absolute_url  # the one rule for a page's address inside a published file
