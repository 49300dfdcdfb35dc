"""Issue 13, limits that hold: counters shared by every worker (the database when no Redis), one sign-in policy for
the workspace and the admin, a per-address limit across accounts, and Retry-After on every 429."""

import atexit
import contextlib
import functools
import http.client
import os
import re
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest
from django.db import connection

from projects.models import Counter

from .conftest import make_user

PASSWORD = "clave-de-prueba-123"
BASE_DIR = Path(__file__).resolve().parent.parent


def test_sign_in_counters_live_in_the_database_when_the_cache_is_process_memory(client, editor):
    client.post("/gestion/entrar/", {"username": "editora", "password": "mala"})
    assert Counter.objects.filter(count=1).count() == 2  # the account+address and the address alone


def test_the_admin_sign_in_locks_like_the_workspace_with_retry_after(client, superuser, settings):
    settings.LOGIN_ATTEMPTS = 3
    for _ in range(3):
        response = client.post("/admin/login/", {"username": "raiz", "password": "mala", "next": "/admin/"})
        assert response.status_code == 200
    locked = client.post("/admin/login/", {"username": "raiz", "password": PASSWORD, "next": "/admin/"})
    assert locked.status_code == 429
    assert int(locked["Retry-After"]) > 0
    assert "Demasiados intentos fallidos" in locked.content.decode()
    assert "_auth_user_id" not in client.session


def test_twenty_guesses_over_five_accounts_from_one_address_are_limited(db, client, settings):
    for number in range(5):
        make_user(f"persona{number}")
    statuses = []
    for guess in range(4):
        for number in range(5):
            response = client.post("/gestion/entrar/", {"username": f"persona{number}", "password": f"mala{guess}"})
            statuses.append(response.status_code)
    assert statuses[: settings.LOGIN_ADDRESS_ATTEMPTS] == [200] * settings.LOGIN_ADDRESS_ATTEMPTS
    assert set(statuses[settings.LOGIN_ADDRESS_ATTEMPTS :]) == {429}
    assert int(response["Retry-After"]) > 0
    # the right password from that address waits too
    assert client.post("/gestion/entrar/", {"username": "persona0", "password": PASSWORD}).status_code == 429


def test_every_429_carries_retry_after(client, editor, settings):
    settings.PASSWORD_RESET_ATTEMPTS = 1
    client.post("/gestion/contrasena/restablecer/", {"email": editor.email})
    refused = client.post("/gestion/contrasena/restablecer/", {"email": editor.email})
    assert refused.status_code == 429 and int(refused["Retry-After"]) > 0
    settings.API_RATE_ANON = "2/min"
    statuses = [client.get("/api/v1/axes/") for _ in range(3)]
    assert [r.status_code for r in statuses] == [200, 200, 429]
    assert 0 < int(statuses[-1]["Retry-After"]) <= 60
    assert statuses[-1].json()["status"] == 429


@pytest.mark.parametrize("prune", [False, True])
def test_a_hit_is_one_query_and_now_and_then_forgets_windows_closed_for_a_day(db, monkeypatch, prune):
    """The pruning of old windows rides in the hit's own statement: a hit is one query either way (the query
    counts pinned elsewhere hold whatever the draw), and it forgets only windows closed more than a day ago."""
    from datetime import timedelta

    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from ficosec import throttle

    now = timezone.now()
    Counter.objects.create(key="viejo", count=3, expires_at=now - timedelta(days=2))
    Counter.objects.create(key="reciente", count=3, expires_at=now - timedelta(hours=1))
    monkeypatch.setattr(throttle, "PRUNE_SHARE", 1.0 if prune else 0.0)
    with CaptureQueriesContext(connection) as captured:
        count, left = throttle.hit("api", "1.2.3.4", 60)
        assert throttle.hit("api", "1.2.3.4", 60)[0] == count + 1 == 2 and 0 < left <= 60
    assert len(captured) == 2
    kept = set(Counter.objects.values_list("key", flat=True))
    assert ("viejo" in kept) is not prune and "reciente" in kept and throttle._key("api", "1.2.3.4") in kept


def test_redis_counters_are_one_round_trip_a_hit_and_their_window_closes(db, settings, monkeypatch):
    """With the cache in Redis a hit is one round trip (SET NX EX, INCR, PTTL in one MULTI/EXEC): the window opens
    with the first hit, later hits do not move its end, and once it closes the count starts again at 1."""
    import uuid

    import redis
    from django.core.cache import caches

    from ficosec import throttle

    from .test_ops import REDIS_URL

    prefix = f"limits-{uuid.uuid4().hex}"  # this test's own keys: other workers share the Redis database
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": prefix,
        }
    }
    sent = []
    send = redis.connection.Connection.send_packed_command
    monkeypatch.setattr(
        redis.connection.Connection,
        "send_packed_command",
        lambda self, command, *args, **kwargs: sent.append(command) or send(self, command, *args, **kwargs),
    )
    hits = [throttle.hit("api", "5.6.7.8", 2)]
    sent.clear()  # the first also opened the connection (CLIENT SETINFO)
    hits += [throttle.hit("api", "5.6.7.8", 2) for _ in range(2)]
    assert len(sent) == 2 and all(b"MULTI" in b"".join(command) for command in sent)  # one round trip per hit
    assert [count for count, _left in hits] == [1, 2, 3] and all(left in (1, 2) for _count, left in hits)
    assert throttle.peek("api", "5.6.7.8")[0] == 3 and throttle.locked_for("api", "5.6.7.8", 3) > 0
    assert throttle.locked_for("api", "5.6.7.8", 4) == 0
    other = redis.Redis.from_url(REDIS_URL)  # another worker's connection sees the same counter, with its expiry
    (name,) = other.keys(f"{prefix}:*")
    assert int(other.get(name)) == 3 and 0 < other.pttl(name) <= 2000
    time.sleep(other.pttl(name) / 1000 + 0.05)
    assert throttle.peek("api", "5.6.7.8") == (0, 0)
    assert throttle.hit("api", "5.6.7.8", 2)[0] == 1
    throttle.clear("api", "5.6.7.8")
    assert throttle.peek("api", "5.6.7.8") == (0, 0) and other.keys(f"{prefix}:*") == []
    assert Counter.objects.count() == 0  # nothing went to the database
    other.close()
    caches["default"]._cache.get_client(write=True).connection_pool.disconnect()


# --- Against a real 2-worker gunicorn ---------------------------------------------------------------------------


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def request(port, method, path, body=None, headers=None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)  # a new connection: any worker may answer
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        return response.status, dict(response.getheaders()), response.read().decode()
    finally:
        conn.close()


def sign_in_attempt(port, username, password):
    _status, headers, page = request(port, "GET", "/gestion/entrar/")
    cookie = re.search(r"csrftoken=([^;]+)", headers.get("Set-Cookie", ""))[1]
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)[1]
    body = f"csrfmiddlewaretoken={token}&username={username}&password={password}"
    return request(
        port,
        "POST",
        "/gestion/entrar/",
        body,
        {"Content-Type": "application/x-www-form-urlencoded", "Cookie": f"csrftoken={cookie}"},
    )


@functools.cache
def static_root():
    """A STATIC_ROOT of this test process's own. Never the project's staticfiles/: collectstatic rewrites files
    there while another pytest-xdist worker's test client may be listing it (WhiteNoise does when it starts)."""
    root = tempfile.mkdtemp(prefix="ficosec-static-")
    atexit.register(shutil.rmtree, root, ignore_errors=True)
    return root


def collected_static(env):
    """`static_root()`, with the static files collected into it the first time (as `make serve` does)."""
    root = static_root()
    if not (Path(root) / "staticfiles.json").exists():
        subprocess.run(
            [str(BASE_DIR / ".venv/bin/python"), "manage.py", "collectstatic", "--noinput", "-v", "0"],
            cwd=BASE_DIR,
            env={**env, "STATIC_ROOT": root},
            check=True,
        )
    return root


@contextlib.contextmanager
def gunicorn(**settings):
    """`make serve`'s server (gunicorn.conf.py, DEBUG off, no REDIS_URL) with 2 workers on the test database;
    `settings` are extra environment variables. Yields the port."""
    db = connection.settings_dict
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "DEBUG": "false",
        "SECRET_KEY": "prueba-" + "x" * 50,
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "false",
        "BIND": f"127.0.0.1:{port}",
        "WEB_CONCURRENCY": "2",
        **settings,
    }
    env.pop("REDIS_URL", None)
    env["STATIC_ROOT"] = collected_static(env)
    args = ["-c", "gunicorn.conf.py", "--no-control-socket", "-w", "2"]
    with serving(args, env, lambda: request(port, "GET", "/healthz")[0] == 200):
        yield port


@contextlib.contextmanager
def serving(args, env, answer):
    """A gunicorn started with `args` and `env`, stopped on exit; yields the first truthy `answer()` (asked every
    0.25 s while the server starts: a connection refused means not yet)."""
    server = subprocess.Popen(
        [str(BASE_DIR / ".venv/bin/gunicorn"), *args],
        cwd=BASE_DIR,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(240):
            with contextlib.suppress(OSError):
                if found := answer():
                    break
            time.sleep(0.25)
        else:
            pytest.fail("gunicorn did not start")
        yield found
    finally:
        server.terminate()
        server.wait(timeout=30)


@pytest.fixture
def gunicorn_two_workers(transactional_db):
    with gunicorn(LOGIN_ATTEMPTS="5", API_RATE_ANON="4/min") as port:
        yield port


def test_the_lockout_and_the_api_budget_hold_across_two_gunicorn_workers(gunicorn_two_workers):
    port = gunicorn_two_workers
    make_user("editora")
    statuses = [sign_in_attempt(port, "editora", "mala")[0] for _ in range(10)]
    assert statuses == [200] * 5 + [429] * 5  # locked at the configured attempt, whichever worker answers
    status, headers, _page = sign_in_attempt(port, "editora", PASSWORD)
    assert status == 429 and int(headers["Retry-After"]) > 0
    answers = [request(port, "GET", "/api/v1/axes/") for _ in range(8)]
    assert [status for status, _h, _b in answers] == [200] * 4 + [429] * 4
    assert all(int(headers["Retry-After"]) > 0 for status, headers, _b in answers if status == 429)


@pytest.mark.parametrize("worker_class", [None, "sync"])
def test_a_download_longer_than_the_worker_timeout_is_not_cut(worker_class):
    """gunicorn.conf.py's threaded workers: an answer that streams for 5 s reaches its end under a 2 s timeout.
    The same server with sync workers (the control) cuts it: the timeout is real, and the setting is what helps.
    (A threaded worker tells the arbiter it is alive once per second of waiting for events, so a 1 s timeout left it
    no margin: CI once saw it killed on a busy machine, three rows short.)"""
    from . import slow_download

    port = free_port()
    args = ["-c", "gunicorn.conf.py", "--no-control-socket", "-w", "1", "--timeout", "2", "--bind", f"127.0.0.1:{port}"]
    if worker_class:
        args += ["--worker-class", worker_class, "--threads", "1"]
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "ficosec.settings",
        "DATABASE_URL": "postgres://nobody@127.0.0.1:1/x",
    }

    def answer():
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        connection.request("GET", "/descarga.csv")
        return connection.getresponse()

    with serving([*args, "tests.slow_download:app"], env, answer) as response:
        started = time.monotonic()
        try:
            body = response.read()
        except http.client.IncompleteRead as cut:
            body = cut.partial
        rows = body.decode().splitlines()
        if worker_class == "sync":
            assert len(rows) < slow_download.CHUNKS  # killed by the timeout while streaming
        else:
            assert rows == [f"fila,{n}" for n in range(slow_download.CHUNKS)]
            assert time.monotonic() - started >= (slow_download.CHUNKS - 1) * slow_download.PAUSE
