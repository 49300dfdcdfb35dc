"""JSON bodies are parsed only after their size and nesting depth are known to be reasonable: a body nested
100,000 levels would otherwise exhaust Python's recursion (a 500) while being parsed."""

import re

import orjson
from django.conf import settings
from django.utils.translation import gettext as _
from rest_framework import exceptions
from rest_framework.parsers import JSONParser

STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
BRACKET = re.compile(rb"[\[\]{}]")


def json_depth(body):
    """The deepest nesting of arrays and objects in a JSON text (strings skipped), without parsing it."""
    depth = deepest = 0
    for bracket in BRACKET.finditer(STRING.sub(b"", body)):
        if bracket[0] in (b"[", b"{"):
            depth += 1
            deepest = max(deepest, depth)
        else:
            depth -= 1
    return deepest


class PayloadTooLarge(exceptions.APIException):
    status_code = 413
    default_detail = "El cuerpo de la solicitud es demasiado grande."


class BoundedJSONParser(JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        body = stream.read(settings.API_MAX_BODY_BYTES + 1) if stream is not None else b""
        if len(body) > settings.API_MAX_BODY_BYTES:
            raise PayloadTooLarge(_("El cuerpo de la solicitud es demasiado grande."))
        if json_depth(body) > settings.API_MAX_JSON_DEPTH:
            raise exceptions.ParseError(
                _("El JSON anida más de %(depth)s niveles.") % {"depth": settings.API_MAX_JSON_DEPTH}
            )
        try:
            data = orjson.loads(body)
        except orjson.JSONDecodeError:
            raise exceptions.ParseError(_("El cuerpo no es JSON válido.")) from None
        if has_control_characters(data):
            raise exceptions.ParseError(
                _("El JSON contiene caracteres de control (solo se admiten tabulador y saltos).")
            )
        return data


CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def has_control_characters(value):
    """True when a key or text anywhere in parsed JSON holds a control character (NUL, escape, bell...)."""
    if isinstance(value, str):
        return bool(CONTROL.search(value))
    if isinstance(value, dict):
        return any(has_control_characters(k) or has_control_characters(v) for k, v in value.items())
    if isinstance(value, list):
        return any(has_control_characters(item) for item in value)
    return False
