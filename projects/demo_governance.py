"""Demo data of governance and continuity (issue 15): administrations (plausible terms, marked as demo), committee
members with fictitious names, calls with applications, one session a year with its decisions for every project,
declarations with recusals (and one unresolved conflict to show the flag), agreements with the state and the two
largest municipalities (Juárez 08037, Chihuahua 08019) and a past transition. Idempotent: upserts only."""

from datetime import date
from decimal import Decimal

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
    Municipality,
    Organization,
    Project,
    Recusal,
)

MEMBERS = [
    ("Integrante Demo A. Ruiz", "Sector empresarial de Chihuahua"),
    ("Integrante Demo B. Loya", "Sector empresarial de Juárez"),
    ("Integrante Demo C. Baca", "Sociedad civil"),
    ("Integrante Demo D. Terrazas", "Gobierno del Estado"),
    ("Integrante Demo E. Holguín", "Academia"),
]

# level, INEGI code, start, end (all marked as demo data)
ADMINISTRATIONS = [
    ("federal", None, date(2024, 10, 1), date(2030, 9, 30)),
    ("state", None, date(2016, 10, 4), date(2021, 9, 7)),
    ("state", None, date(2021, 9, 8), date(2027, 9, 7)),
    ("municipal", "08037", date(2021, 9, 10), date(2024, 9, 9)),
    ("municipal", "08037", date(2024, 9, 10), date(2027, 9, 9)),
    ("municipal", "08019", date(2021, 9, 10), date(2024, 9, 9)),
    ("municipal", "08019", date(2024, 9, 10), date(2027, 9, 9)),
]


def load(loader):
    """Called by projects.demo.Loader.run(); returns nothing (the loader counts the rows it writes)."""
    members = [
        loader.upsert(CommitteeMember, {"name": name}, {"represents": represents, "is_active": True})
        for name, represents in MEMBERS
    ]
    organizations = loader.organizations
    administrations = load_administrations(loader)
    calls = load_calls(loader, organizations)
    load_decisions(loader, members, calls)
    loader.publish_pending()  # publishing needs the award decision; the agreements below link published projects
    load_declarations(loader, members, organizations)
    load_agreements(loader, organizations, administrations)


def load_administrations(loader):
    administrations = {}
    for level, code, start, end in ADMINISTRATIONS:
        municipality = Municipality.objects.get(inegi_code=code) if code else None
        place = municipality.name if municipality else {"federal": "Gobierno federal", "state": "Gobierno del Estado"}
        administration = loader.upsert(
            Administration,
            {"level": level, "municipality": municipality, "term_start": start},
            {"term_end": end, "governed_by": f"{place} {start.year}-{end.year} (demostración)", "is_demo": True},
        )
        administrations[level, code, start.year] = administration
    return administrations


def load_calls(loader, organizations):
    calls = {}
    for year in (2023, 2024, 2025):
        calls[year] = loader.upsert(
            Call,
            {"title": f"Convocatoria de demostración {year}: prevención comunitaria"},
            {
                "opens_on": date(year - 1, 10, 1),
                "closes_on": date(year - 1, 11, 30),
                "budget": Decimal("25000000"),
                "requires_cluni": True,
                "requires_authorized_donee": year >= 2024,
                "min_years_operating": 2,
                "terms_url": "https://example.org/demo/bases.pdf",
            },
        )
    applicants = [org for org in organizations.values() if org.kind == "osc"][:8]
    statuses = ["selected", "selected", "not_selected", "not_eligible", "eligible", "not_selected", "received"]
    for year, call in calls.items():
        for number, organization in enumerate(applicants[: len(statuses)]):
            status = statuses[(number + year) % len(statuses)]
            loader.upsert(
                Application,
                {"call": call, "organization": organization},
                {
                    "status": status,
                    "reason": "Sin CLUNI vigente (demostración)." if status == "not_eligible" else "",
                    "score": None if status in ("received", "not_eligible") else Decimal(60 + 5 * number),
                },
            )
    return calls


def load_decisions(loader, members, calls):
    """One technical-committee session a year, everyone present, and a decision for every project."""
    sessions = {}
    projects = Project.objects.order_by("code").only("code", "award_type", "ficosec_amount", "total_amount")
    for number, project in enumerate(projects):
        year = int(project.code.split("-")[1])
        if year not in sessions:
            session = loader.upsert(
                CommitteeSession,
                {"body": "technical_committee", "held_on": date(year, 2, 15)},
                {"minutes_url": f"https://example.org/demo/acta-{year}.pdf"},
            )
            for member in members:
                loader.upsert(Attendance, {"session": session, "member": member}, {"represents": member.represents})
            sessions[year] = session
        method = project.award_type or ("invitation" if number % 3 else "co_investment")
        call = calls.get(year) if method == "open_call" else None
        if method == "open_call" and call is None:
            call = calls[min(calls, key=lambda y: abs(y - year))]
        loader.upsert(
            AwardDecision,
            {"project": project},
            {
                "session": sessions[year],
                "method": method,
                "call": call,
                "amount": project.ficosec_amount or project.total_amount or Decimal("0"),
                "votes_for": 5,
                "votes_against": 0,
                "votes_abstained": 0,
            },
        )


def load_declarations(loader, members, organizations):
    """Member A founded CASA and recused from its decisions, except the latest one: the unresolved conflict."""
    casa = organizations["casa"]
    founder, donor = members[0], members[1]
    loader.upsert(
        ConflictDeclaration,
        {"member": founder, "organization": casa, "tie": "founder"},
        {"declared_on": date(2015, 3, 1)},
    )
    other = Organization.objects.filter(kind="osc").exclude(pk=casa.pk).order_by("slug").first()
    loader.upsert(
        ConflictDeclaration, {"member": donor, "organization": other, "tie": "donor"}, {"declared_on": date(2019, 6, 1)}
    )
    casa_decisions = list(
        AwardDecision.objects.filter(
            project__participations__organization=casa, project__participations__role="implementer"
        )
        .order_by("session__held_on", "project__code")
        .distinct()
    )
    for decision in casa_decisions[:-1]:
        loader.upsert(Recusal, {"decision": decision, "member": founder}, {"reason": "Fundador de la organización."})
    for decision in AwardDecision.objects.filter(
        project__participations__organization=other, project__participations__role="implementer"
    ).distinct():
        loader.upsert(Recusal, {"decision": decision, "member": donor}, {"reason": "Donante de la organización."})


def load_agreements(loader, organizations, administrations):
    def projects_in(code, count):
        return list(
            Project.objects.published().filter(municipalities__inegi_code=code).order_by("code").distinct()[:count]
        )

    specs = [
        # title, counterpart, office, post, signed, valid until, administration, status, ended, projects
        (
            "Convenio de demostración: prevención en escuelas estatales",
            "sspe",
            "Dirección de Prevención del Delito",
            "Secretario de Seguridad Pública del Estado",
            date(2023, 3, 1),
            date(2028, 12, 31),
            ("state", None, 2021),
            "in_force",
            None,
            projects_in("08019", 3),
        ),
        (
            "Convenio de demostración: parque policial y digitalización (Juárez)",
            "municipio-juarez",
            "Secretaría de Seguridad Pública Municipal",
            "Presidente Municipal de Juárez",
            date(2025, 1, 15),
            date(2028, 6, 30),
            ("municipal", "08037", 2024),
            "in_force",
            None,
            projects_in("08037", 3),
        ),
        (
            "Convenio de demostración: Violencia Cero (Chihuahua)",
            "municipio-chihuahua",
            "Dirección de Seguridad Pública Municipal",
            "Presidente Municipal de Chihuahua",
            date(2025, 2, 1),
            date(2027, 12, 31),
            ("municipal", "08019", 2024),
            "in_force",
            None,
            projects_in("08019", 2),
        ),
        # The past transition of September 2024: one continued, one ended early.
        (
            "Convenio de demostración: mediación comunitaria (Chihuahua, 2022)",
            "municipio-chihuahua",
            "Dirección de Desarrollo Humano",
            "Presidente Municipal de Chihuahua",
            date(2022, 4, 1),
            date(2025, 12, 31),
            ("municipal", "08019", 2021),
            "renewed",
            None,
            projects_in("08019", 1),
        ),
        (
            "Convenio de demostración: policía de proximidad (Juárez, 2022)",
            "municipio-juarez",
            "Secretaría de Seguridad Pública Municipal",
            "Presidente Municipal de Juárez",
            date(2022, 5, 2),
            date(2025, 12, 31),
            ("municipal", "08037", 2021),
            "terminated",
            date(2024, 11, 30),
            projects_in("08037", 1),
        ),
    ]
    for title, counterpart, office, post, signed, until, administration, status, ended, projects in specs:
        agreement = loader.upsert(
            Agreement,
            {"title": title},
            {
                "counterpart": organizations[counterpart],
                "office": office,
                "signatory_post": post,
                "signed_on": signed,
                "valid_until": until,
                "administration": administrations[administration],
                "status": status,
                "ended_on": ended,
                "document_url": "https://example.org/demo/convenio.pdf",
            },
        )
        loader.set_m2m(agreement.projects, projects)
