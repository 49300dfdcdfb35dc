"""Streamed downloads of a project list (CSV for spreadsheets, JSON for programs).

The list's ids are read in its order with a server-side cursor, and each chunk of them is then read whole (names of
related rows as arrays) and written as it comes: the first bytes leave after one chunk, not after every row of the
list was read and sorted, and a worker's memory stays flat whatever the size of the list. Internal notes are never
part of an export.
"""

import csv
import io
import json

from django.conf import settings
from django.contrib.postgres.expressions import ArraySubquery
from django.db.models import Case, F, OuterRef, Value, When
from django.db.models.functions import Concat
from django.http import StreamingHttpResponse

from axes.models import localized

from . import privacy
from .facets import ByIds
from .models import Participation, Project, SiteFlag

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


def role_label():
    """The participation's role as a person reads it, in the language of the download."""
    return Case(
        *[When(role=value, then=Value(str(label))) for value, label in Participation.Role.choices], default=F("role")
    )


CHUNK = 500  # projects read whole per query
FIRST_CHUNK = 50  # the first query reads fewer, so that the first bytes leave sooner


def rows(projects, absolute=lambda path: path):
    """Plain dicts, one per project, in the list's order; `absolute` makes the page's URL absolute
    (request.build_absolute_uri). `projects` is a queryset, or a list the counting index has ordered
    (projects.facets.ByIds: its ids, then the rows of its queryset)."""
    if isinstance(projects, ByIds):
        ids, projects = projects.ids, projects.queryset
    else:
        ids = projects.values_list("pk", flat=True).iterator(chunk_size=CHUNK * 4)
    chunk, size = [], FIRST_CHUNK
    for pk in ids:
        chunk.append(pk)
        if len(chunk) == size:
            yield from chunk_rows(projects, chunk, absolute)
            chunk, size = [], CHUNK
    if chunk:
        yield from chunk_rows(projects, chunk, absolute)


def chunk_rows(projects, ids, absolute):
    """The rows of the projects `ids` of `projects`, in the order of `ids`, in one query."""
    through_lines = Project.lines.through.objects.filter(project=OuterRef("pk")).order_by("line__number")
    through_places = Project.municipalities.through.objects.filter(project=OuterRef("pk")).order_by(
        "municipality__name"
    )
    partners = Participation.objects.filter(project=OuterRef("pk")).order_by("role", "organization__name")
    queryset = (
        projects.filter(pk__in=ids)
        .order_by()
        .annotate(
            axis_name=localized("axis__name"),
            line_names=ArraySubquery(through_lines.values(name=localized("line__name"))),
            place_names=ArraySubquery(through_places.values("municipality__name")),
            region_names=ArraySubquery(
                through_places.exclude(municipality__region=None).values("municipality__region__name").distinct()
            ),
            partner_names=ArraySubquery(
                partners.values(label=Concat("organization__name", Value(" ("), role_label(), Value(")")))
            ),
            **Project.dates(),
        )
        .values(
            "pk",
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
            "start",
            "end",
        )
    )
    labels = dict(Project.Status.choices)
    page_url = absolute(Project.url_for("-"))[:-2]  # the detail URL without its slug and "/"
    found = {row["pk"]: row for row in queryset}
    for row in (found[pk] for pk in ids if pk in found):
        yield {
            "code": row["code"],
            "title": row["title"],
            "axis": row["axis_name"] or "",
            "lines": row["line_names"],
            "status": str(labels[row["status"]]),
            "municipalities": row["place_names"],
            "regions": sorted(set(row["region_names"])),
            "organizations": row["partner_names"],
            "total_amount": money_text(row["total_amount"]),
            "ficosec_amount": money_text(row["ficosec_amount"]),
            "beneficiaries_target": privacy.suppress(row["beneficiaries_target"]),
            "beneficiaries_reached": privacy.suppress(row["beneficiaries_reached"]),
            "start": row["start"].isoformat() if row["start"] else None,
            "end": row["end"].isoformat() if row["end"] else None,
            "url": f"{page_url}{row['slug']}/",
        }


def money_text(amount):
    """A decimal string, or None (an empty CSV cell, JSON null) for an amount nobody has published."""
    return None if amount is None else f"{amount:.2f}"


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


def csv_chunks(header, rows):
    """The one CSV writer (downloads and the API's CSV): a UTF-8 byte order mark, so that Excel reads accents and ñ
    correctly, the header, then each row's cells made spreadsheet-safe, in chunks of about 64 KB (the first one
    sooner: at 8 KB)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    buffer.write("\ufeff")
    writer.writerow(header)
    size = 8 * 1024
    for row in rows:
        writer.writerow([csv_cell(value) for value in row])
        if buffer.tell() > size:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
            size = 64 * 1024
    yield buffer.getvalue()


def csv_lines(projects, absolute):
    demo = ["DEMO"] if SiteFlag.demo() else []  # a last column "demo" on every row while demo data is loaded
    cells = ([row[key] for key, _header in COLUMNS] + demo for row in rows(projects, absolute))
    return csv_chunks([header for _key, header in COLUMNS] + (["demo"] if demo else []), cells)


def json_chunks(projects, absolute):
    yield "["
    demo = {"demo": True} if SiteFlag.demo() else {}
    for i, row in enumerate(rows(projects, absolute)):
        row.update(demo)
        yield ("," if i else "") + json.dumps(row, ensure_ascii=False)
    yield "]"


def absolute_url(path):
    """A page's address inside a downloaded file: the portal's public address (PORTAL_URL), the same in the list's
    download and in the open-data copy of it, so that both carry the same bytes and checksum."""
    return settings.PORTAL_URL.rstrip("/") + path


def stream(projects, fmt, absolute=absolute_url):
    if fmt == "csv":
        response = StreamingHttpResponse(csv_lines(projects, absolute), content_type="text/csv; charset=utf-8")
    else:
        response = StreamingHttpResponse(
            json_chunks(projects, absolute), content_type="application/json; charset=utf-8"
        )
    response["Content-Disposition"] = f'attachment; filename="proyectos-ficosec.{fmt}"'
    return response
