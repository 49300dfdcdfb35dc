"""Who calls the API and what they may do: API-key authentication, the permission class, throttling and the
error format."""

from django.conf import settings
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError
from django.http import Http404
from django.utils.translation import gettext as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import exceptions, status
from rest_framework.authentication import BaseAuthentication
from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.throttling import SimpleRateThrottle
from rest_framework.views import exception_handler as drf_exception_handler

from ficosec import throttle

from ..models import (
    ApiKey,
)
from ..serializers import (
    model_errors,
)

# --- Authentication, permissions, throttling ---------------------------------------------------------------------


class ApiKeyAuthentication(BaseAuthentication):
    keyword = "Api-Key"

    def authenticate(self, request):
        header = request.META.get("HTTP_AUTHORIZATION", "")
        if not header:
            return None
        keyword, _sep, raw = header.partition(" ")
        if keyword not in (self.keyword, "Bearer"):
            return None
        key = ApiKey.objects.authenticate(raw.strip())
        if key is None:
            raise exceptions.AuthenticationFailed(_("Llave de API inválida, revocada o vencida."))
        return key.acting_user(), key

    def authenticate_header(self, request):
        return self.keyword


class ApiKeyScheme(OpenApiAuthenticationExtension):
    target_class = "projects.api.access.ApiKeyAuthentication"
    name = "ApiKey"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "`Authorization: Api-Key <llave>` — llaves emitidas por la coordinación de FICOSEC.",
        }


class PortalPermission(BasePermission):
    """Reads are open (the querysets decide what exists for the caller); writes need the model permission."""

    ACTIONS = {"POST": "add", "PUT": "change", "PATCH": "change", "DELETE": "delete"}

    def has_permission(self, request, view):
        if request.method in SAFE_METHODS:
            return True
        if not request.user.is_authenticated:
            raise exceptions.NotAuthenticated(_("Identifíquese con una llave de API para escribir."))
        if getattr(view, "action", None) in view.rule_checked_actions:
            return True  # the model operation itself asks the permission question (e.g. Project.transition)
        model = view.write_model
        return request.user.has_perm(f"{model._meta.app_label}.{self.ACTIONS[request.method]}_{model._meta.model_name}")


class CallerThrottle(SimpleRateThrottle):
    """One budget per API key (or signed-in user), another per anonymous client address."""

    scope = "api"

    def __init__(self):
        pass  # the rate depends on the caller, so it is chosen per request in allow_request

    def get_rate(self):
        return settings.API_RATE_KEY if self.keyed else settings.API_RATE_ANON

    def allow_request(self, request, view):
        """A fixed window per caller, counted in the store every worker shares (ficosec.throttle)."""
        self.keyed = request.auth is not None or request.user.is_authenticated
        self.rate = self.get_rate()
        self.num_requests, self.duration = self.parse_rate(self.rate)
        count, self.left = throttle.hit("api", self.get_cache_key(request, view), self.duration)
        return count <= self.num_requests

    def wait(self):
        return self.left

    def get_cache_key(self, request, view):
        if isinstance(request.auth, ApiKey):
            ident = f"key:{request.auth.prefix}"
        elif request.user.is_authenticated:
            ident = f"user:{request.user.pk}"
        else:
            ident = f"ip:{self.get_ident(request)}"
        return f"throttle:api:{ident}"


def error_handler(exc, context):
    """Every error as {"status", "detail", "errors"}: DRF's own, and Django's that would otherwise be a 500 or HTML."""
    if isinstance(exc, DjangoValidationError):
        exc = model_errors(exc)
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied(str(exc) or None)
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound(_("No encontrado."))
    elif isinstance(exc, IntegrityError):
        exc = Conflict(_("El cambio contradice otro registro (por ejemplo, un duplicado)."))
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    data = response.data
    if isinstance(exc, exceptions.ValidationError):
        errors = data if isinstance(data, dict) else {"non_field_errors": data}
        errors = {field: flat_messages(messages) for field, messages in errors.items()}
        body = {"status": response.status_code, "detail": _("Datos no válidos."), "errors": errors}
    else:
        body = {
            "status": response.status_code,
            "detail": str(data.get("detail", data)) if isinstance(data, dict) else str(data),
            "errors": {},
        }
    response.data = body
    return response


def flat_messages(messages, prefix=""):
    """A field's messages as plain strings: a list item's (`{0: [...]}`) or a nested field's are prefixed with its
    position or name ("1: «x» no es una opción válida."), never printed as Python."""
    if isinstance(messages, dict):
        return [m for key, value in messages.items() for m in flat_messages(value, f"{prefix}{key}: ")]
    if isinstance(messages, list | tuple):
        return [m for value in messages for m in flat_messages(value, prefix)]
    return [f"{prefix}{messages}"]


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "Conflicto."


class PreconditionFailed(exceptions.APIException):
    status_code = status.HTTP_412_PRECONDITION_FAILED
    default_detail = "El recurso cambió desde que lo leyó; vuelva a leerlo (ETag) y repita el cambio."


class PreconditionRequired(exceptions.APIException):
    status_code = 428
    default_detail = "Las actualizaciones requieren el encabezado If-Match con el ETag del recurso."
