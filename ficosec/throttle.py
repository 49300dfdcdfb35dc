"""Slow down guessing and flooding with fixed-window counters: after `limit` hits within `window` seconds an identity
(an account and an address, an address alone, an API key) is refused until the window ends.

The counters must be the same for every worker and application server, so they live in a shared store: Redis when
the cache is Redis (REDIS_URL set), one round trip per hit (SET NX EX, INCR and PTTL in one MULTI/EXEC), otherwise
the database table projects.Counter, incremented atomically in one statement. Process memory is never used
(docs/deployment.md).
"""

import hashlib
import random

from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache
from django.db import connection

PRUNE_SHARE = 0.01  # of the hits that also forget the windows closed for a day


def _key(scope, ident):
    return f"throttle:{scope}:{hashlib.sha256(ident.encode()).hexdigest()[:32]}"


def redis(key):
    """(the Redis client of the default cache, the cache's own name for `key`) when the cache is Redis; else None.
    The counters then sit among the cache's keys (its prefix and version) and go where the cache is cleared."""
    cache = caches["default"]
    if not isinstance(cache, RedisCache):
        return None
    return cache._cache.get_client(write=True), cache.make_and_validate_key(key)


# Now and then (`prune`), the same statement forgets the windows that closed long ago (not this key's: one statement
# must not both delete and update a row): one query per hit either way, so the query counts the tests pin hold.
HIT_SQL = """
WITH pruned AS (
    DELETE FROM projects_counter
    WHERE %(prune)s AND key <> %(key)s AND expires_at < clock_timestamp() - interval '1 day'
)
INSERT INTO projects_counter (key, count, expires_at)
VALUES (%(key)s, 1, clock_timestamp() + %(window)s * interval '1 second')
ON CONFLICT (key) DO UPDATE SET
    count = CASE WHEN projects_counter.expires_at <= clock_timestamp() THEN 1 ELSE projects_counter.count + 1 END,
    expires_at = CASE WHEN projects_counter.expires_at <= clock_timestamp() THEN EXCLUDED.expires_at
                      ELSE projects_counter.expires_at END
RETURNING count, EXTRACT(EPOCH FROM (expires_at - clock_timestamp()))
"""
PEEK_SQL = """
SELECT count, EXTRACT(EPOCH FROM (expires_at - clock_timestamp())) FROM projects_counter
WHERE key = %(key)s AND expires_at > clock_timestamp()
"""


def hit(scope, ident, window):
    """Count one hit; (hits in the current window, seconds until it closes)."""
    key = _key(scope, ident)
    if shared := redis(key):
        client, name = shared
        # The window opens with the first hit (SET NX EX creates the key, at 0, with its expiry; INCR keeps it) and
        # closes when the key expires: the next hit then starts a new one at 1. One transaction, so no hit ever sees
        # a key without its expiry.
        _created, count, left = client.pipeline().set(name, 0, ex=window, nx=True).incr(name).pttl(name).execute()
        return count, seconds(left)
    with connection.cursor() as cursor:
        cursor.execute(HIT_SQL, {"key": key, "window": window, "prune": random.random() < PRUNE_SHARE})
        count, left = cursor.fetchone()
    return count, max(1, int(left))


def peek(scope, ident):
    """(hits in the current window, seconds until it closes), without counting; (0, 0) when none is open."""
    key = _key(scope, ident)
    if shared := redis(key):
        client, name = shared
        count, left = client.pipeline().get(name).pttl(name).execute()
        return (int(count), seconds(left)) if count is not None and left > 0 else (0, 0)
    with connection.cursor() as cursor:
        cursor.execute(PEEK_SQL, {"key": key})
        row = cursor.fetchone()
    return (row[0], max(1, int(row[1]))) if row else (0, 0)


def seconds(milliseconds):
    """Whole seconds until a Redis key expires (its PTTL), rounded up: a lock is never said to be over early."""
    return max(1, -(-milliseconds // 1000))


def locked_for(scope, ident, limit):
    """Seconds until the identity may try again: 0 while it has fewer than `limit` hits in the open window."""
    count, left = peek(scope, ident)
    return left if count >= limit else 0


def fail(scope, ident, limit, window):
    """Count one failure; (True, seconds) once the identity has reached `limit` failures in the window."""
    count, left = hit(scope, ident, window)
    return count >= limit, left


def clear(scope, ident):
    key = _key(scope, ident)
    if shared := redis(key):
        client, name = shared
        client.delete(name)
        return
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM projects_counter WHERE key = %s", [key])


def client_ip(request):
    return request.META.get("REMOTE_ADDR", "")


def reset():
    """Forget every counter and lock (an operator lifting all locks; tests)."""
    if isinstance(caches["default"], RedisCache):
        caches["default"].clear()
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM projects_counter")
