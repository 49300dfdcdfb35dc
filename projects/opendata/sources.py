"""Where the open-data files read their facts: one named function per kind of fact.

Each function answers from today's models. When the money ledger (commitments, disbursements, CFDI proofs), the
award decisions and calls (governance) and the evaluations with small-cell suppression (results) are merged, these
are the only functions to point at them; the IATI and 360Giving writers and the data page stay as they are:

- `transactions_of(project)`: today the cash contribution of each participation, as a commitment;
  later the ledger's commitments, disbursements and expenditure.
- `awards_of(project)`: today FICOSEC's contribution as one grant to the lead implementer, dated by
  `award_date_of`; later one grant per award decision to each implementer.
- `award_date_of(project)`: today the start of the project (or its publication when it starts in the future);
  later the date of the award decision.
- `programme_of(project)`: today the axis, the lines and the call named on the project; later the call record.
- `results_of(project)`: today every indicator with its measurements; later the results after small-cell suppression.
- `documents_of(project)`: today the project's public page; later its published evaluations too.
- `locations_of(project)`: today every municipality; later without site detail for sensitive projects.

Every function reads the related rows through `.all()`, so a chunk of projects fetched with `PREFETCH` asks
nothing more per project.
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

from ..models import Indicator, Measurement, Organization, Participation, Project

CENTROIDS = Path(__file__).parent / "data" / "municipality_centroids.csv"
CHUNK = 500

PREFETCH = [
    "lines",
    "municipalities",
    Prefetch("participations", queryset=Participation.objects.select_related("organization")),
    Prefetch(
        "indicators",
        queryset=Indicator.objects.prefetch_related(
            Prefetch(
                "measurements",
                queryset=Measurement.objects.only("id", "indicator_id", "date", "value").order_by("date"),
            )
        ),
    ),
]


def published_projects():
    """The projects every open-data file publishes: the catalogue's public ones, in a stable order."""
    return Project.objects.published().order_by("code")


def each_project(projects=None):
    """The published projects with their related rows, fetched CHUNK at a time (flat memory at any size)."""
    projects = published_projects() if projects is None else projects
    return projects.select_related("axis").prefetch_related(*PREFETCH).iterator(chunk_size=CHUNK)


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
    kind: str  # IATI TransactionType: 2 commitment, 3 disbursement, 4 expenditure
    date: date
    amount: Decimal
    provider: Organization
    receiver: Organization | None
    description: str


def implementers(project):
    return [p.organization for p in project.participations.all() if p.role == Participation.Role.IMPLEMENTER]


def transactions_of(project):
    """Money promised to the project. Today: each cash participation with an amount, as a commitment (IATI type 2)
    from its organization, received by the lead implementer (none when the giver is the implementer itself).
    Point at the ledger's commitments, disbursements and expenditure when it exists."""
    doers = implementers(project)
    lead = doers[0] if doers else None
    when = award_date_of(project)
    return [
        Transaction(
            kind="2",
            date=when,
            amount=p.amount,
            provider=p.organization,
            receiver=lead if lead and lead.pk != p.organization_id else None,
            description=f"{p.get_role_display()}: {p.organization.name}",
        )
        for p in project.participations.all()
        if p.amount > 0 and p.contribution_kind == Participation.ContributionKind.CASH
    ]


@dataclass
class Award:
    project: Project
    number: int
    recipient: Organization
    amount: Decimal
    date: date
    from_open_call: bool


def awards_of(project):
    """FICOSEC's grants in this project. Today: FICOSEC's contribution (the project's `ficosec_amount`) as one grant
    to the lead implementer (the first by role order, largest own contribution first), when there is an amount and
    an implementer other than FICOSEC. Point at the award decisions (one per implementer) when they exist."""
    doers = [org for org in implementers(project) if not org.is_ficosec]
    if not doers or project.ficosec_amount <= 0:
        return []
    return [
        Award(
            project=project,
            number=1,
            recipient=doers[0],
            amount=project.ficosec_amount,
            date=award_date_of(project),
            from_open_call=project.award_type == Project.Award.OPEN_CALL,
        )
    ]


def award_date_of(project):
    """When the money was awarded. Today: the project's start (actual, else planned) when it is not in the future,
    else the day it was published. Point at the award decision's date when governance records it."""
    today = timezone.localdate()
    start = project.start_date
    if start and start <= today:
        return start
    if project.published_at:
        return min(timezone.localdate(project.published_at), today)
    return today


def programme_of(project):
    """The programme a grant belongs to: the call (when awarded by open call), the axis and the lines of action.
    A list of (code, title) pairs. Point at the call record when governance has one."""
    programmes = []
    if project.award_type == Project.Award.OPEN_CALL and project.call_name:
        programmes.append(("convocatoria", project.call_name))
    if project.axis:
        programmes.append((f"eje-{project.axis.number}", project.axis.name))
    programmes += [(f"linea-{line.number}", line.name) for line in sorted(project.lines.all(), key=lambda x: x.number)]
    return programmes


def results_of(project):
    """The indicators and their measurements as the public may see them. Point at the results with small-cell
    suppression when that exists."""
    return [(indicator, list(indicator.measurements.all())) for indicator in project.indicators.all()]


def documents_of(project):
    """Documents about the project worth linking: (url, title, IATI DocumentCategory). Today its public page
    (A12, activity web page). Add the published evaluations (A07 review and evaluation) when they exist."""
    return [(absolute(project.get_absolute_url()), project.title, "A12")]


@cache
def centroids():
    with CENTROIDS.open(encoding="utf-8") as f:
        return {row["inegi_code"]: (row["latitude"], row["longitude"]) for row in csv.DictReader(f)}


def locations_of(project):
    """The municipalities where the project works, each with its centroid (lat, lon) or None. Point at the rule for
    sensitive sites (no site detail) when it exists."""
    points = centroids()
    return [(m, points.get(m.inegi_code)) for m in sorted(project.municipalities.all(), key=lambda m: m.inegi_code)]


def absolute(path):
    return settings.PORTAL_URL.rstrip("/") + path
