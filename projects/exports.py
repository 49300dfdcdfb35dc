"""Streamed downloads of a project list (CSV for spreadsheets, JSON for programs).

Rows are read with a server-side cursor in chunks and written as they come, so a worker's memory stays flat
whatever the size of the list. Internal notes are never part of an export.
"""

import json

from django.contrib.postgres.expressions import ArraySubquery
from django.db.models import F, OuterRef, Value
from django.db.models.functions import Concat
from django.http import StreamingHttpResponse

from . import privacy
from .models import Participation, Project

COLUMNS = [
    ("code", "clave"),
    ("title", "título"),
    ("axis", "eje"),
    ("lines", "líneas de acción"),
    ("status", "estado"),
    ("municipalities", "municipios"),
    ("regions", "regiones"),
    ("organizations", "organizaciones (rol)"),
    ("total_amount", "monto total MXN"),
    ("ficosec_amount", "monto FICOSEC MXN"),
    ("beneficiaries_target", "personas beneficiarias (meta)"),
    ("beneficiaries_reached", "personas beneficiarias (alcanzadas)"),
    ("start", "inicio"),
    ("end", "fin"),
    ("url", "url"),
]
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def rows(projects):
    """Plain dicts, one per project, in one query (related names as arrays)."""
    through_lines = Project.lines.through.objects.filter(project=OuterRef("pk")).order_by("line__number")
    through_places = Project.municipalities.through.objects.filter(project=OuterRef("pk")).order_by(
        "municipality__name"
    )
    partners = Participation.objects.filter(project=OuterRef("pk")).order_by("role", "organization__name")
    queryset = projects.annotate(
        axis_name=F("axis__name"),
        line_names=ArraySubquery(through_lines.values("line__name")),
        place_names=ArraySubquery(through_places.values("municipality__name")),
        region_names=ArraySubquery(
            through_places.exclude(municipality__region=None).values("municipality__region__name").distinct()
        ),
        partner_names=ArraySubquery(
            partners.values(label=Concat("organization__name", Value(" ("), "role", Value(")")))
        ),
    ).values(
        "code",
        "title",
        "slug",
        "axis_name",
        "line_names",
        "status",
        "place_names",
        "region_names",
        "partner_names",
        "total_amount",
        "ficosec_amount",
        "beneficiaries_target",
        "beneficiaries_reached",
        "planned_start",
        "planned_end",
        "actual_start",
        "actual_end",
    )
    labels = dict(Project.Status.choices)
    for row in queryset.iterator(chunk_size=2000):
        start, end = row["actual_start"] or row["planned_start"], row["actual_end"] or row["planned_end"]
        yield {
            "code": row["code"],
            "title": row["title"],
            "axis": row["axis_name"] or "",
            "lines": row["line_names"],
            "status": str(labels[row["status"]]),
            "municipalities": row["place_names"],
            "regions": sorted(set(row["region_names"])),
            "organizations": row["partner_names"],
            "total_amount": str(row["total_amount"]),
            "ficosec_amount": str(row["ficosec_amount"]),
            "beneficiaries_target": privacy.suppress(row["beneficiaries_target"]),
            "beneficiaries_reached": privacy.suppress(row["beneficiaries_reached"]),
            "start": start.isoformat() if start else None,
            "end": end.isoformat() if end else None,
            "url": f"/proyectos/{row['slug']}/",
        }


def csv_cell(value):
    """A spreadsheet-safe cell: lists joined, and text that a spreadsheet would run as a formula made inert."""
    if value is None:
        return ""
    if isinstance(value, list):
        value = "; ".join(value)
    value = str(value)
    if value.startswith(FORMULA_STARTS):
        value = "'" + value
    return value


def csv_lines(projects):
    import csv
    import io

    buffer = io.StringIO()
    writer = csv.writer(buffer)
    yield "\ufeff"  # UTF-8 byte order mark: Excel then reads accents and ñ correctly
    writer.writerow([header for _key, header in COLUMNS])
    for row in rows(projects):
        writer.writerow([csv_cell(row[key]) for key, _header in COLUMNS])
        if buffer.tell() > 64 * 1024:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def json_chunks(projects):
    yield "["
    for i, row in enumerate(rows(projects)):
        yield ("," if i else "") + json.dumps(row, ensure_ascii=False)
    yield "]"


def stream(projects, fmt):
    if fmt == "csv":
        response = StreamingHttpResponse(csv_lines(projects), content_type="text/csv; charset=utf-8")
    else:
        response = StreamingHttpResponse(json_chunks(projects), content_type="application/json; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="proyectos-ficosec.{fmt}"'
    return response
