"""Slow down guessing: after `limit` failures within `window` seconds an identity (e.g. an account and an address)
is locked until the window ends. Counters live in the cache, shared by every worker when REDIS_URL is set."""

import hashlib
import time

from django.core.cache import cache


def _key(scope, ident):
    return f"throttle:{scope}:{hashlib.sha256(ident.encode()).hexdigest()[:32]}"


def locked_for(scope, ident):
    """Seconds until the identity may try again (0 when it may now)."""
    until = cache.get(_key(scope, ident) + ":until")
    return max(0, int(until - time.time())) if until else 0


def fail(scope, ident, limit, window):
    """Count one failure; lock the identity for `window` seconds once it reaches `limit`."""
    key = _key(scope, ident)
    cache.add(key, 0, window)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, window)
        count = 1
    if count >= limit:
        cache.set(key + ":until", time.time() + window, window)


def clear(scope, ident):
    key = _key(scope, ident)
    cache.delete_many([key, key + ":until"])


def client_ip(request):
    return request.META.get("REMOTE_ADDR", "")
