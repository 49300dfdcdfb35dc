"""The data dictionary of the data page, generated from the code: the export's column list and the model fields
behind each column (verbose name, help text, choices), and the standards' own schemas for the 360Giving fields
and the IATI elements the portal writes. Nothing is typed twice."""

import json
import xml.etree.ElementTree as ET
from functools import cache

from django.db import models

from axes.models import Axis, Line

from .. import exports
from ..models import Municipality, Participation, Project
from . import giving360, iati, validation

XSD = "{http://www.w3.org/2001/XMLSchema}"

# Where each column of the catalogue export comes from: (model, field name) pairs, in the order they are combined.
CATALOGUE_SOURCES = {
    "code": [(Project, "code")],
    "title": [(Project, "title")],
    "axis": [(Project, "axis"), (Axis, "name")],
    "lines": [(Project, "lines"), (Line, "name")],
    "status": [(Project, "status")],
    "municipalities": [(Project, "municipalities"), (Municipality, "name")],
    "regions": [(Municipality, "region")],
    "organizations": [(Participation, "organization"), (Participation, "role")],
    "total_amount": [(Project, "total_amount")],
    "ficosec_amount": [(Project, "ficosec_amount")],
    "beneficiaries_target": [(Project, "beneficiaries_target")],
    "beneficiaries_reached": [(Project, "beneficiaries_reached")],
    "start": [(Project, "actual_start"), (Project, "planned_start")],
    "end": [(Project, "actual_end"), (Project, "planned_end")],
    "url": [(Project, "slug")],
}
FRICTIONLESS_TYPE = {
    models.DecimalField: "number",
    models.PositiveIntegerField: "integer",
    models.DateField: "date",
}


def field_text(model, name):
    field = model._meta.get_field(name)
    text = f"{model._meta.verbose_name}: {field.verbose_name}"
    if getattr(field, "help_text", ""):
        text += f" ({field.help_text})"
    if getattr(field, "choices", None):
        text += ". " + "; ".join(str(label) for _value, label in field.choices)
    return text


def column_type(key):
    model, name = CATALOGUE_SOURCES[key][0]
    field = model._meta.get_field(name)
    for kind, frictionless in FRICTIONLESS_TYPE.items():
        if isinstance(field, kind):
            return frictionless
    return "string"


def catalogue_columns():
    """One row per column of the catalogue CSV (and key of the JSON), with its source fields described."""
    return [
        {
            "column": header,
            "key": key,
            "type": column_type(key),
            "description": " · ".join(field_text(model, name) for model, name in CATALOGUE_SOURCES[key]),
        }
        for key, header in exports.COLUMNS
    ]


@cache
def grant_schema():
    return json.loads(giving360.GRANT_SCHEMA.read_text(encoding="utf-8"))


def schema_fields(schema, properties, prefix=""):
    defs = grant_schema()["$defs"]
    for name, spec in properties.items():
        ref = spec.get("items", spec).get("$ref", "")
        yield {
            "field": prefix + name,
            "title": spec.get("title", ""),
            "description": spec.get("description", ""),
        }
        if ref.startswith("#/$defs/"):
            inner = defs[ref.rsplit("/", 1)[1]].get("properties", {})
            yield from schema_fields(schema, inner, prefix=f"{prefix}{name}/")


def giving_fields(used):
    """The 360Giving fields the portal fills (`used`: paths such as "recipientOrganization/id"), with the title and
    description the standard's schema gives them; additional fields (not in the standard) say so."""
    known = {row["field"]: row for row in schema_fields(grant_schema(), grant_schema()["properties"])}
    rows = []
    for path in used:
        rows.append(
            known.get(path)
            or {"field": path, "title": path, "description": "Campo adicional del portal (no es parte del estándar)."}
        )
    return rows


def used_paths(grants):
    """The field paths the grants use, in order of first use (a list of objects is described by its items' keys)."""
    paths = []
    for grant in grants:
        for key, value in grant.items():
            if key not in paths:
                paths.append(key)
            if isinstance(value, list):
                for item in value:
                    if isinstance(item, dict):
                        paths += [f"{key}/{k}" for k in item if f"{key}/{k}" not in paths]
    return sorted(paths, key=lambda path: paths.index(path.split("/")[0]))


@cache
def iati_elements():
    """The IATI activity elements the portal writes, in the order it writes them, with the documentation the 2.03
    schema gives each (read from the XSD's own annotations: the element inside <iati-activity>, or the global one
    it refers to)."""
    root = ET.parse(validation.IATI / "iati-activities-schema.xsd").getroot()
    common = ET.parse(validation.IATI / "iati-common.xsd").getroot()
    activity = next(e for e in root.iter(f"{XSD}element") if e.get("name") == "iati-activity")
    docs = {}
    for element in activity.find(f"{XSD}complexType/{XSD}sequence"):
        name = element.get("name") or element.get("ref")
        docs.setdefault(name, documentation(element) or type_documentation(element.get("type"), (root, common)))
    for schema in (root, common):
        for element in schema.findall(f"{XSD}element"):
            if not docs.get(element.get("name")):
                docs[element.get("name")] = documentation(element)
    return [{"element": name, "description": docs.get(name, "")} for name in iati.WRITTEN_ELEMENTS]


def type_documentation(type_name, schemas):
    for schema in schemas:
        for complex_type in schema.findall(f"{XSD}complexType"):
            if type_name and complex_type.get("name") == type_name:
                return documentation(complex_type)
    return ""


def documentation(element):
    node = element.find(f"{XSD}annotation/{XSD}documentation")
    return " ".join((node.text or "").split()) if node is not None else ""
