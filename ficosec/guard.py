"""Refuse malformed requests before any view sees them, with a clear 4xx in the caller's format: structured JSON
under /api/, a Spanish page elsewhere.

- a NUL character in the query string (PostgreSQL cannot store or compare it): 400;
- an API body larger than API_MAX_BODY_BYTES (checked on Content-Length, before reading it): 413;
- an HTTP method the portal does not speak at all (TRACE, PROPFIND, CONNECT...): 405.
JSON nesting is capped where JSON is parsed (projects.api.parsers.BoundedJSONParser).
"""

from django.conf import settings
from django.http import JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

KNOWN_METHODS = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}


def refuse(request, status, detail, field=None, headers=None):
    if request.path.startswith("/api/"):
        response = JsonResponse({"status": status, "detail": detail, "errors": {field: [detail]} if field else {}})
        response.status_code = status
    else:
        response = render(request, "400.html", {"detail": detail, "status": status}, status=status)
    for name, value in (headers or {}).items():
        response[name] = value
    return response


class BadInputMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.method not in KNOWN_METHODS:
            return refuse(request, 405, _("Método no permitido."), headers={"Allow": "GET, HEAD, POST, PATCH, OPTIONS"})
        for name, values in request.GET.lists():
            if "\x00" in name or any("\x00" in value for value in values):
                return refuse(request, 400, _("La consulta contiene un carácter nulo."), field=name.replace("\x00", ""))
        if request.path.startswith("/api/"):
            try:
                length = int(request.META.get("CONTENT_LENGTH") or 0)
            except ValueError:
                return refuse(request, 400, _("Encabezado Content-Length no válido."))
            if length > settings.API_MAX_BODY_BYTES:
                return refuse(
                    request,
                    413,
                    _("El cuerpo de la solicitud supera el máximo de %(kb)s KB.")
                    % {"kb": settings.API_MAX_BODY_BYTES // 1024},
                )
        response = self.get_response(request)
        if response.status_code == 405 and not response.content and not request.path.startswith("/api/"):
            # require_GET and friends answer an empty 405: say it, in Spanish, on a page
            return refuse(request, 405, _("Esta página no admite ese método."), headers={"Allow": response["Allow"]})
        return response


def not_found(request, exception=None):
    """404 in the caller's format: structured JSON under /api/ (an address no route matches), the page elsewhere."""
    if request.path.startswith("/api/"):
        return refuse(request, 404, _("No encontrado."))
    from django.views.defaults import page_not_found

    return page_not_found(request, exception)
