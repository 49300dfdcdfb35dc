"""IATI 2.03: the activity file of the published projects and the organisation file of FICOSEC.

Each activity is built as one small element tree and written out before the next is read, so the file streams with
flat memory. Codes come from the codelists vendored in `standards/iati-2.03/codelists/` (the tests check every one).
"""

import xml.etree.ElementTree as ET
from datetime import UTC, date, datetime
from decimal import Decimal
from functools import cache

from django.db.models import Sum
from django.db.models.functions import Coalesce, ExtractYear
from django.urls import reverse
from django.utils import timezone, translation

from .. import privacy
from ..models import Organization, Population, Project
from . import sources

XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
CURRENCY = "MXN"

# OrganisationType codelist, from the portal's kinds of organization. FICOSEC itself, a public-private trust: 30.
ORGANISATION_TYPE = {
    Organization.Kind.OSC: "22",  # National NGO
    Organization.Kind.GOV_MUNICIPAL: "11",  # Local Government
    Organization.Kind.GOV_STATE: "11",  # Local Government (sub-national)
    Organization.Kind.GOV_FEDERAL: "10",  # Government
    Organization.Kind.AUTONOMOUS: "15",  # Other Public Sector
    Organization.Kind.COMPANY: "70",  # Private Sector
    Organization.Kind.ACADEMIA: "80",  # Academic, Training and Research
    Organization.Kind.FOUNDATION: "60",  # Foundation
    Organization.Kind.INTERNATIONAL: "40",  # Multilateral
}
FICOSEC_TYPE = "30"  # Public Private Partnership

# ActivityStatus codelist, from the project's life cycle.
ACTIVITY_STATUS = {
    Project.Status.FORMULATION: "1",  # Pipeline/identification
    Project.Status.APPROVED: "1",
    Project.Status.IN_PROGRESS: "2",  # Implementation
    Project.Status.COMPLETED: "4",  # Closed
    Project.Status.SUSPENDED: "6",  # Suspended
    Project.Status.CANCELLED: "5",  # Cancelled
}

# OECD DAC 5-digit purpose codes (Sector codelist) for each line of action, by the line's number.
DAC_SECTOR_BY_LINE = {
    1: "15210",  # Incidencia en políticas públicas: Security system management and reform
    2: "15130",  # Estado de derecho y cultura de la legalidad: Legal and judicial development
    3: "15220",  # Intervención para la prevención de la violencia: Civilian peace-building, conflict prevention
    4: "15110",  # Fortalecimiento de capacidades institucionales: Public sector policy and administrative management
}
# The children of <iati-activity> this writer produces (the data page documents them from the schema).
WRITTEN_ELEMENTS = [
    "iati-identifier",
    "reporting-org",
    "title",
    "description",
    "participating-org",
    "activity-status",
    "activity-date",
    "recipient-country",
    "location",
    "sector",
    "budget",
    "transaction",
    "document-link",
    "result",
]
SECTOR_VOCABULARY_DAC = "1"
SECTOR_VOCABULARY_REPORTING_ORG = "99"


def organisation_type(organization):
    return FICOSEC_TYPE if organization.is_ficosec else ORGANISATION_TYPE[organization.kind]


def iati_ref(organization):
    """An organisation's IATI identifier when it has a registered one (its RFC); none otherwise, as IATI asks."""
    return f"MX-RFC-{organization.rfc}" if organization.rfc else None


def sub(parent, tag, text=None, **attributes):
    element = ET.SubElement(parent, tag, {k.replace("_", "-"): str(v) for k, v in attributes.items() if v is not None})
    if text is not None:
        narrative(element, text)
    return element


def narrative(parent, text, lang=None):
    element = ET.SubElement(parent, "narrative", {XML_LANG: lang} if lang else {})
    element.text = str(text)
    return element


def iso(day):
    return day.isoformat() if day else None


def decimal_text(value):
    """A decimal as IATI wants it: no exponent, no trailing zeros beyond the cents."""
    text = format(Decimal(value), "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def activity_identifier(project, publisher):
    return f"{publisher.identifier}-{project.code}"


def reporting_org(parent, publisher):
    element = sub(parent, "reporting-org", ref=publisher.identifier, type=FICOSEC_TYPE)
    narrative(element, publisher.name)
    return element


def percentages(count):
    """`count` percentages that add up to exactly 100 (the last one takes the rounding)."""
    share = (Decimal(100) / count).quantize(Decimal("0.01"))
    return [share] * (count - 1) + [Decimal(100) - share * (count - 1)]


@cache
def population_labels(language):
    """{population: its label in `language`}: translated once, not once per project."""
    with translation.override(language):
        return {value: str(label) for value, label in Population.choices}


def activity(project, publisher):
    """One <iati-activity> element, its children in the order the 2.03 schema requires."""
    root = ET.Element(
        "iati-activity",
        {
            "last-updated-datetime": project.updated_at.isoformat(timespec="seconds"),
            XML_LANG: "es",
            "default-currency": CURRENCY,
            "hierarchy": "1",
        },
    )
    identifier = ET.SubElement(root, "iati-identifier")
    identifier.text = activity_identifier(project, publisher)
    reporting_org(root, publisher)
    sub(root, "title", project.title)
    sub(root, "description", project.summary, type="1")  # 1 general
    if project.populations:  # 3 target groups, in Spanish and (where the portal translates the labels) English
        spanish = ", ".join(population_labels("es-mx")[p] for p in project.populations)
        element = sub(root, "description", spanish, type="3")
        english = ", ".join(population_labels("en")[p] for p in project.populations)
        if english != spanish:
            narrative(element, english, lang="en")

    seen = set()
    for participation in project.participation_list:
        org = participation.organization
        key = (org.pk, participation.iati_role)
        if key in seen:
            continue
        seen.add(key)
        element = sub(
            root,
            "participating-org",
            ref=iati_ref(org),
            type=organisation_type(org),
            role=participation.iati_role,
        )
        narrative(element, org.name)

    sub(root, "activity-status", code=ACTIVITY_STATUS[project.status])
    for kind, day in (
        ("1", project.planned_start),
        ("2", project.actual_start),
        ("3", project.planned_end),
        ("4", project.actual_end),
    ):
        if day and not (kind in ("2", "4") and day > timezone.localdate()):
            sub(root, "activity-date", type=kind, iso_date=iso(day))
    sub(root, "recipient-country", code="MX", percentage="100")

    for municipality, point in sources.locations_of(project):
        location = sub(root, "location", ref=f"MX-INEGI-{municipality.inegi_code}")
        sub(location, "name", f"{municipality.name}, Chihuahua")
        sub(
            location,
            "description",
            f"Municipio de {municipality.name}, Chihuahua (clave INEGI {municipality.inegi_code})",
        )
        sub(location, "administrative", vocabulary="A4", level="0", code="MX")
        if point:
            pos = ET.SubElement(sub(location, "point", srsName="http://www.opengis.net/def/crs/EPSG/0/4326"), "pos")
            pos.text = f"{point[0]} {point[1]}"

    codes = sorted({DAC_SECTOR_BY_LINE[line.number] for line in project.line_list if line.number in DAC_SECTOR_BY_LINE})
    for code, share in zip(codes, percentages(len(codes)) if codes else [], strict=True):
        sub(root, "sector", vocabulary=SECTOR_VOCABULARY_DAC, code=code, percentage=decimal_text(share))
    if project.axis:
        element = sub(
            root,
            "sector",
            vocabulary=SECTOR_VOCABULARY_REPORTING_ORG,
            vocabulary_uri=sources.absolute(reverse("axis_list")),
            code=project.axis.number,
            percentage="100",
        )
        narrative(element, project.axis.name)

    start, end = project.start_date, project.end_date
    if start and end and project.total_amount and project.total_amount > 0:
        budget = sub(root, "budget", type="1", status="2")  # original, committed
        sub(budget, "period-start", iso_date=iso(start))
        sub(budget, "period-end", iso_date=iso(end))
        value = sub(budget, "value", currency=CURRENCY, value_date=iso(start))
        value.text = decimal_text(project.total_amount)

    for transaction in sources.transactions_of(project):
        element = sub(root, "transaction")
        sub(element, "transaction-type", code=transaction.kind)
        sub(element, "transaction-date", iso_date=iso(transaction.date))
        value = sub(element, "value", currency=CURRENCY, value_date=iso(transaction.date))
        value.text = decimal_text(transaction.amount)
        sub(element, "description", transaction.description)
        provider = sub(
            element,
            "provider-org",
            ref=iati_ref(transaction.provider),
            type=organisation_type(transaction.provider),
        )
        narrative(provider, transaction.provider.name)
        if transaction.receiver:
            receiver = sub(
                element,
                "receiver-org",
                ref=iati_ref(transaction.receiver),
                type=organisation_type(transaction.receiver),
            )
            narrative(receiver, transaction.receiver.name)

    for url, title, category in sources.documents_of(project):
        link = sub(root, "document-link", url=url, format="text/html")
        sub(link, "title", title)
        sub(link, "category", code=category)
        sub(link, "language", code="es")

    for result in sources.results_of(project):
        result_element(root, project, result)
    return root


def result_element(parent, project, public):
    """One indicator as an IATI result. A value the small-cell rule hides (None) is left out of its element (the
    schema makes `value` optional) and the actual says why in words; the number itself is never written."""
    indicator = public.indicator
    result = sub(parent, "result", type="1", aggregation_status="0")  # 1 output
    sub(result, "title", indicator.name)
    element = sub(
        result,
        "indicator",
        measure="2" if indicator.unit.strip() == "%" else "1",  # 2 percentage, 1 unit
        ascending="1" if indicator.direction == indicator.Direction.INCREASE else "0",
    )
    sub(element, "title", f"{indicator.name} ({indicator.unit})")
    start = project.start_date
    if public.baseline is not None and start:
        sub(element, "baseline", year=start.year, iso_date=iso(start), value=decimal_text(public.baseline))
    for n, reading in enumerate(public.readings):
        period = sub(element, "period")
        sub(period, "period-start", iso_date=iso(reading.start))
        sub(period, "period-end", iso_date=iso(reading.end))
        if public.target is not None and n == len(public.readings) - 1:
            sub(period, "target", value=decimal_text(public.target))
        if reading.value is None:
            actual = sub(period, "actual")
            sub(actual, "comment", str(privacy.label()))
        else:
            sub(period, "actual", value=decimal_text(reading.value))


def generated(stamp):
    """The file's generation time: the last change to any project (so the same data gives the same bytes, and the
    checksum on the data page matches the download)."""
    return datetime.fromtimestamp(stamp, tz=UTC).isoformat(timespec="seconds")


def activities_chunks(stamp, projects=None):
    """The activity file as text chunks (for a StreamingHttpResponse): header, one activity per project, footer."""
    publisher = sources.publisher()
    now = generated(stamp)
    yield '<?xml version="1.0" encoding="UTF-8"?>\n'
    yield f'<iati-activities version="2.03" generated-datetime="{now}">\n'
    with translation.override("es-mx"):
        for project in sources.each_project(sources.ACTIVITY_FACTS, projects):
            yield ET.tostring(activity(project, publisher), encoding="unicode") + "\n"
    yield "</iati-activities>\n"


def organisation_chunks(stamp):
    """The organisation file of FICOSEC: identity and, per calendar year, the total it put into published projects."""
    publisher = sources.publisher()
    now = generated(stamp)
    root = ET.Element("iati-organisation", {"last-updated-datetime": now, XML_LANG: "es", "default-currency": CURRENCY})
    identifier = ET.SubElement(root, "organisation-identifier")
    identifier.text = publisher.identifier
    sub(root, "name", publisher.name)
    reporting_org(root, publisher)
    by_year = (
        sources.published_projects()
        .annotate(year=ExtractYear(Coalesce("actual_start", "planned_start")))
        .exclude(year=None)
        .values("year")
        .annotate(money=Sum("ficosec_amount"))
        .filter(money__gt=0)
        .order_by("year")
    )
    for row in by_year:
        budget = sub(root, "total-budget", status="2")
        sub(budget, "period-start", iso_date=date(row["year"], 1, 1).isoformat())
        sub(budget, "period-end", iso_date=date(row["year"], 12, 31).isoformat())
        value = sub(budget, "value", currency=CURRENCY, value_date=date(row["year"], 1, 1).isoformat())
        value.text = decimal_text(row["money"])
    link = sub(root, "document-link", url=sources.absolute(reverse("open_data")), format="text/html")
    sub(link, "title", "Datos abiertos de los proyectos de prevención de FICOSEC")
    sub(link, "category", code="B01")  # Organisation web page
    sub(link, "language", code="es")
    yield '<?xml version="1.0" encoding="UTF-8"?>\n'
    yield f'<iati-organisations version="2.03" generated-datetime="{now}">\n'
    yield ET.tostring(root, encoding="unicode") + "\n"
    yield "</iati-organisations>\n"
