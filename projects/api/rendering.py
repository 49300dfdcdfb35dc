"""How API lists are rendered and paged: fast JSON, CSV, page numbers with a cached public count, sync cursors."""

import base64
import hashlib
import json
import re

import orjson
from django.core.cache import cache
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from rest_framework import exceptions, renderers
from rest_framework.pagination import PageNumberPagination

from ..exports import csv_chunks
from ..figures import stamp
from ..filters import storable_moment
from ..models import SiteFlag

# --- Rendering and pagination -----------------------------------------------------------------------------------


class FastJSONRenderer(renderers.JSONRenderer):
    def render(self, data, accepted_media_type=None, renderer_context=None):
        if data is None:
            return b""
        try:
            return orjson.dumps(data)
        except TypeError:
            return super().render(data, accepted_media_type, renderer_context)


class CSVRenderer(renderers.BaseRenderer):
    """Flat CSV of a list's results (lists joined with "; ", nested objects as JSON), safe to open in Excel."""

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        rows = data.get("results", data) if isinstance(data, dict) else data
        if isinstance(rows, dict):
            rows = [rows]
        if not rows:
            return "\ufeff".encode("utf-8")
        columns = list(rows[0].keys())
        cells = ([flat(row.get(column)) for column in columns] for row in rows)
        return "".join(csv_chunks(columns, cells)).encode("utf-8")


def flat(value):
    """A cell's value: nested objects (and lists of them) as JSON; lists of plain values are joined by csv_cell."""
    if isinstance(value, dict) or (isinstance(value, list) and value and isinstance(value[0], dict)):
        return json.dumps(value, ensure_ascii=False, default=str)  # OPTIONS metadata carries Decimals
    return value


class Pages(PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 1000

    def get_page_number(self, request, paginator):
        number = request.query_params.get(self.page_query_param) or "1"
        if not PAGE_NUMBER.fullmatch(number):
            raise exceptions.ValidationError({"page": [_("La página debe ser un número entero positivo.")]})
        return int(number)

    def get_page_size(self, request):
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None or raw == "":
            return self.page_size
        if not PAGE_NUMBER.fullmatch(raw):
            raise exceptions.ValidationError(
                {"page_size": [_("El tamaño de página debe ser un número entero entre 1 y 1000.")]}
            )
        return min(int(raw), self.max_page_size)

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            parameter["schema"] = {"type": "integer", "minimum": 1, "maximum": 999_999_999}
        return parameters

    def get_paginated_response(self, data):
        return demo_marked(super().get_paginated_response(data))


# ASCII digits only ("²".isdigit() is true but int() refuses it), no leading zero, at most 9 of them.
PAGE_NUMBER = re.compile(r"[1-9][0-9]{0,8}", re.ASCII)


def demo_marked(response):
    """A list response whose metadata says "demo": true while the demo data set is loaded."""
    if SiteFlag.demo():
        response.data = {"demo": True, **response.data}
    return response


def public_count(request, queryset):
    """The number of published projects matching the request's filters, cached until any project changes."""
    filters = sorted(
        (key, value) for key, value in request.query_params.lists() if key not in ("page", "page_size", "format")
    )
    key = "api-count:" + hashlib.sha256(repr((stamp(), filters)).encode()).hexdigest()
    count = cache.get(key)
    if count is None:
        count = queryset.count()
        cache.set(key, count, 60 * 60)
    return count


def encode_cursor(row):
    return base64.urlsafe_b64encode(f"{row['updated_at']}|{row['code']}".encode()).decode()


def decode_cursor(raw):
    try:
        stamp, code = base64.urlsafe_b64decode(raw.encode()).decode().split("|", 1)
        moment = parse_datetime(stamp)
        if moment is None or "\x00" in code or len(code) > 64:
            raise ValueError
        if not storable_moment(moment):  # an offset PostgreSQL cannot store (beyond ±15:59; ±24 h raises here)
            raise ValueError
        return moment, code
    except (ValueError, UnicodeError, base64.binascii.Error, OverflowError):
        # A cursor names a page, as a page number does: one that names none is a page that does not exist (404).
        raise exceptions.NotFound(_("Cursor inválido: esa página no existe.")) from None
