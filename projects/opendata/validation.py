"""Validate the open-data files against the vendored standards, offline: what IATI's and 360Giving's own
validators check that can be checked without a network.

- IATI: the XSD (xmlschema) and every code attribute against its codelist XML.
- 360Giving: the package schema (JSON Schema draft 2020-12 with the grant schema registered under the URL the package
  refers to, and the format checker) and the data-quality rules on identifiers, amounts and dates.
Each function returns a list of error messages: empty means valid.
"""

import json
import xml.etree.ElementTree as ET
from datetime import date
from functools import cache
from pathlib import Path

from django.utils import timezone

STANDARDS = Path(__file__).parent / "standards"
IATI = STANDARDS / "iati-2.03"
GIVING = STANDARDS / "360giving-1.4.3"

# (element, attribute) -> the codelist its value must belong to. Elements are matched by tag wherever they occur.
# Every codelist is a file in standards/iati-2.03/codelists/ (where each came from: standards/README.md).
IATI_CODES = {
    ("iati-activity", "default-currency"): "Currency",
    ("iati-organisation", "default-currency"): "Currency",
    ("value", "currency"): "Currency",
    ("reporting-org", "type"): "OrganisationType",
    ("participating-org", "type"): "OrganisationType",
    ("participating-org", "role"): "OrganisationRole",
    ("provider-org", "type"): "OrganisationType",
    ("receiver-org", "type"): "OrganisationType",
    ("activity-status", "code"): "ActivityStatus",
    ("activity-date", "type"): "ActivityDateType",
    ("recipient-country", "code"): "Country",
    ("administrative", "vocabulary"): "GeographicVocabulary",
    ("budget", "type"): "BudgetType",
    ("budget", "status"): "BudgetStatus",
    ("total-budget", "status"): "BudgetStatus",
    ("transaction-type", "code"): "TransactionType",
    ("category", "code"): "DocumentCategory",
    ("language", "code"): "Language",
    ("description", "type"): "DescriptionType",
    ("sector", "vocabulary"): "SectorVocabulary",
    ("result", "type"): "ResultType",
    ("indicator", "measure"): "IndicatorMeasure",
    ("document-link", "format"): "FileFormat",
}
# Codes whose codelist depends on a vocabulary attribute beside them: checked in code_errors.
IATI_CONDITIONAL = {("sector", "code"), ("administrative", "code")}
# Attributes that are codes only under some condition, checked by hand below.
SECTOR_CODELISTS = {"1": "Sector", "2": "SectorCategory"}


@cache
def codelist(name):
    root = ET.parse(IATI / "codelists" / f"{name}.xml").getroot()
    return frozenset(code.text.strip() for code in root.iter("code"))


@cache
def iati_schema(kind="activities"):
    import xmlschema

    return xmlschema.XMLSchema(str(IATI / f"iati-{kind}-schema.xsd"))


def iati_errors(source, kind="activities"):
    """Every problem in an IATI file (a path or bytes): schema errors, then codes missing from their codelists."""
    if isinstance(source, bytes | str) and not (isinstance(source, str) and Path(source).exists()):
        source = source.encode() if isinstance(source, str) else source
        import io

        text = source
        source_for_schema = io.BytesIO(text)
        root = ET.fromstring(text)
    else:
        source_for_schema = str(source)
        root = ET.parse(source).getroot()
    errors = [f"XSD: {error.reason} ({error.path})" for error in iati_schema(kind).iter_errors(source_for_schema)]
    errors += code_errors(root)
    return errors


def code_errors(root):
    errors = []
    for element in root.iter():
        for attribute, value in element.attrib.items():
            key = (element.tag, attribute)
            if key in IATI_CODES and value not in codelist(IATI_CODES[key]):
                errors.append(f"Código {value!r} de {element.tag}/@{attribute} no está en {IATI_CODES[key]}")
        if element.tag == "sector" and element.get("vocabulary", "1") in SECTOR_CODELISTS:
            name = SECTOR_CODELISTS[element.get("vocabulary", "1")]
            if element.get("code") not in codelist(name):
                errors.append(f"Código {element.get('code')!r} de sector no está en {name}")
        if element.tag == "administrative" and element.get("vocabulary") == "A4":
            if element.get("code") not in codelist("Country"):
                errors.append(f"Código {element.get('code')!r} de administrative (A4) no está en Country")
        for ref_owner in ("reporting-org", "participating-org", "provider-org", "receiver-org"):
            if element.tag == ref_owner and element.get("ref") and not known_prefix(element.get("ref")):
                errors.append(f"Identificador {element.get('ref')!r} de {ref_owner} sin prefijo registrado")
    return errors


def code_attributes(root):
    """Every (element, attribute) that carries a code in this file: what the codelist check must cover."""
    names = {"code", "type", "role", "status", "vocabulary", "currency", "default-currency", "measure", "format"}
    return {(element.tag, attribute) for element in root.iter() for attribute in element.attrib if attribute in names}


@cache
def registration_agencies():
    return codelist("OrganisationRegistrationAgency")


def known_prefix(identifier, extra=()):
    """An organisation identifier starts with a registration agency's code (e.g. MX-RFC) and a hyphen, or with one
    of the `extra` prefixes (a publisher's own scope, e.g. 360G-FICOSEC)."""
    if any(identifier.startswith(f"{prefix}-") for prefix in extra):
        return True
    parts = identifier.split("-")
    return any("-".join(parts[:n]) in registration_agencies() for n in (2, 3) if len(parts) > n)


# --- 360Giving -----------------------------------------------------------------------------------------------


@cache
def giving_validator():
    import jsonschema
    import referencing
    import referencing.jsonschema

    package = json.loads((GIVING / "360-giving-package-schema.json").read_text(encoding="utf-8"))
    grant = json.loads((GIVING / "360-giving-schema.json").read_text(encoding="utf-8"))
    grant_url = package["properties"]["grants"]["items"]["$ref"]
    resource = referencing.Resource(contents=grant, specification=referencing.jsonschema.DRAFT202012)
    registry = referencing.Registry().with_resource(grant_url, resource)
    return jsonschema.Draft202012Validator(
        package, registry=registry, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )


def giving_errors(package, own_prefix, today=None):
    """Schema errors, then the offline data-quality rules: unique grant ids starting with the publisher's prefix,
    amounts above zero, award dates not in the future, organisation ids with a known prefix."""
    today = today or timezone.localdate()
    errors = [
        f"Esquema: {error.message} ({'/'.join(map(str, error.absolute_path))})"
        for error in giving_validator().iter_errors(package)
    ]
    seen = set()
    for grant in package.get("grants", []):
        grant_id = grant.get("id", "")
        if grant_id in seen:
            errors.append(f"Identificador de donativo repetido: {grant_id}")
        seen.add(grant_id)
        if not grant_id.startswith(f"{own_prefix}-"):
            errors.append(f"{grant_id}: el identificador no empieza con el prefijo {own_prefix}")
        amount = grant.get("amountAwarded")
        if not isinstance(amount, int | float) or amount <= 0:
            errors.append(f"{grant_id}: amountAwarded debe ser mayor que cero")
        award = str(grant.get("awardDate", ""))[:10]
        try:
            if date.fromisoformat(award) > today:
                errors.append(f"{grant_id}: awardDate {award} está en el futuro")
        except ValueError:
            errors.append(f"{grant_id}: awardDate {award!r} no es una fecha")
        for key in ("recipientOrganization", "fundingOrganization"):
            for org in grant.get(key, []):
                if not known_prefix(org.get("id", ""), extra=(own_prefix,)):
                    errors.append(f"{grant_id}: {key} {org.get('id')!r} sin prefijo conocido")
    return errors
