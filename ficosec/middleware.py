"""One structured log line per request: who asked what, what we answered and how long it took."""

import json
import logging
import re
import time
import uuid

logger = logging.getLogger("ficosec.request")
REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


class RequestLogMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.headers.get("X-Request-ID", "")
        request.request_id = incoming if REQUEST_ID.match(incoming) else uuid.uuid4().hex
        started = time.perf_counter()
        response = self.get_response(request)
        response["X-Request-ID"] = request.request_id
        logger.info(
            json.dumps(
                {
                    "request_id": request.request_id,
                    "method": request.method,
                    "path": request.path,
                    "status": response.status_code,
                    "duration_ms": round((time.perf_counter() - started) * 1000, 1),
                    "user": caller(request),
                    "ip": request.META.get("REMOTE_ADDR", ""),
                }
            )
        )
        return response


def caller(request):
    """The signed-in username, `key:<prefix>` for an API key (DRF keeps it on the request), or "-"."""
    key = getattr(request, "auth", None) or getattr(getattr(request, "_drf_request", None), "auth", None)
    if getattr(key, "prefix", None):
        return f"key:{key.prefix}"
    user = getattr(request, "user", None)
    return user.get_username() if user is not None and user.is_authenticated and getattr(user, "pk", None) else "-"
