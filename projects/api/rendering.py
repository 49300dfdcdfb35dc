"""How API lists are rendered and paged: fast JSON, CSV, page numbers with a cached public count, sync cursors."""

import base64
import hashlib
import json

import orjson
from django.core.cache import cache
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from rest_framework import exceptions, renderers
from rest_framework.pagination import PageNumberPagination

from ..exports import csv_cell
from ..figures import stamp
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
        import csv
        import io

        rows = data.get("results", data) if isinstance(data, dict) else data
        if isinstance(rows, dict):
            rows = [rows]
        buffer = io.StringIO()
        buffer.write("\ufeff")
        if rows:
            writer = csv.writer(buffer)
            columns = list(rows[0].keys())
            writer.writerow(columns)
            for row in rows:
                writer.writerow(
                    [
                        csv_cell(
                            json.dumps(v, ensure_ascii=False)
                            if isinstance(v, dict) or (isinstance(v, list) and v and isinstance(v[0], dict))
                            else v
                        )
                        for v in (row.get(c) for c in columns)
                    ]
                )
        return buffer.getvalue().encode("utf-8")


class Pages(PageNumberPagination):
    page_size_query_param = "page_size"
    max_page_size = 1000

    def get_page_number(self, request, paginator):
        number = request.query_params.get(self.page_query_param) or 1
        if not str(number).isdigit() or int(number) < 1:
            raise exceptions.ValidationError({"page": [_("La página debe ser un número entero positivo.")]})
        return number

    def get_paginated_response(self, data):
        return demo_marked(super().get_paginated_response(data))


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
        if moment is None:
            raise ValueError
        return moment, code
    except (ValueError, UnicodeError, base64.binascii.Error):
        raise exceptions.ValidationError({"cursor": [_("Cursor inválido.")]}) from None
