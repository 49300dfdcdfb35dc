"""Operations: health probes, structured request logs, backups that restore, Redis and read replicas."""

import json
import os
import subprocess
import sys
from datetime import date
from decimal import Decimal
from pathlib import Path

import psycopg2
import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import OperationalError, connection
from django.test import override_settings

from projects.models import ApiKey, Commitment, Project

from .conftest import make_project

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parent.parent
REDIS_URL = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/15"


def test_healthz_answers_without_the_database(client, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = client.get("/healthz")
    assert response.status_code == 200 and response.json() == {"status": "ok"}


def test_readyz_checks_the_database(client):
    assert client.get("/readyz").json() == {"status": "ok", "database": "ok"}


def test_readyz_answers_503_when_the_database_fails(client, monkeypatch):
    def broken(*args, **kwargs):
        raise OperationalError("server closed the connection")

    monkeypatch.setattr(connection, "cursor", broken)
    response = client.get("/readyz")
    assert response.status_code == 503 and response.json()["database"] == "error"


def test_every_request_logs_one_json_line_with_its_request_id(client, caplog, editor, partner_key, published_project):
    caplog.set_level("INFO", logger="ficosec.request")
    client.get("/proyectos/", HTTP_X_REQUEST_ID="abc-123")
    client.force_login(editor)
    client.get("/gestion/")
    client.logout()
    client.get("/api/v1/projects/", HTTP_AUTHORIZATION=f"Api-Key {partner_key}", HTTP_X_REQUEST_ID="<script>")
    lines = [json.loads(record.getMessage()) for record in caplog.records if record.name == "ficosec.request"]
    assert len(lines) == 3
    assert lines[0]["request_id"] == "abc-123" and lines[0]["status"] == 200 and lines[0]["user"] == "-"
    assert lines[0]["path"] == "/proyectos/" and lines[0]["method"] == "GET" and lines[0]["duration_ms"] >= 0
    assert lines[1]["user"] == "editora"
    assert lines[2]["user"] == f"key:{ApiKey.objects.get().prefix}" and lines[2]["request_id"] != "<script>"


def test_the_request_id_is_echoed_to_the_client(client):
    assert client.get("/healthz", HTTP_X_REQUEST_ID="req-42")["X-Request-ID"] == "req-42"
    assert len(client.get("/healthz")["X-Request-ID"]) == 32


@pytest.mark.django_db(transaction=True)
def test_a_backup_restores_into_a_fresh_database_with_the_same_projects_history_and_keys(
    tmp_path, reference_data, org_a, coordinator, editor
):
    project = make_project("FIC-2024-901", "Proyecto respaldado", org_a, "published")
    project.title = "Proyecto respaldado y corregido"
    project._history_user = editor
    project.save()
    key, _raw = ApiKey.issue("Llave respaldada", created_by=coordinator, organization=org_a)
    Commitment.objects.create(project=project, organization=org_a, amount=Decimal("1234.50"), date=date(2024, 5, 1))
    dump = tmp_path / "respaldo.dump"
    call_command("backup", output=str(dump))
    assert dump.stat().st_size > 0

    db = settings.DATABASES["default"]
    fresh = f"restore_test_{os.getpid()}"
    admin = psycopg2.connect(
        dbname="postgres", user=db["USER"], password=db["PASSWORD"], host=db["HOST"], port=db["PORT"]
    )
    admin.autocommit = True
    admin.cursor().execute(f'CREATE DATABASE "{fresh}"')
    try:
        url = f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST']}:{db['PORT']}/{fresh}"
        call_command("restore", str(dump), database_url=url)
        restored = psycopg2.connect(
            dbname=fresh, user=db["USER"], password=db["PASSWORD"], host=db["HOST"], port=db["PORT"]
        )
        with restored, restored.cursor() as cursor:
            cursor.execute("SELECT code, title FROM projects_project")
            assert cursor.fetchall() == [("FIC-2024-901", "Proyecto respaldado y corregido")]
            cursor.execute("SELECT count(*) FROM projects_historicalproject WHERE code = 'FIC-2024-901'")
            assert cursor.fetchone()[0] == Project.history.filter(code="FIC-2024-901").count() >= 2
            cursor.execute("SELECT key_hash FROM projects_apikey")
            assert cursor.fetchall() == [(key.key_hash,)]
            # The catalogue's change log says the catalogue was replaced (its newest entry: every process builds
            # its counting index afresh), and the triggers that keep it are back (insert and delete, update,
            # truncate, and a change of text only: migrations 0009 and 0013).
            cursor.execute("SELECT project_id FROM projects_cataloguechange ORDER BY xid DESC, id DESC LIMIT 1")
            assert cursor.fetchall() == [(None,)]
            cursor.execute("SELECT tgname FROM pg_trigger WHERE tgname LIKE 'projects_catalogue_%' ORDER BY 1")
            assert [name for (name,) in cursor.fetchall()] == [
                "projects_catalogue_insert_delete",
                "projects_catalogue_text",
                "projects_catalogue_truncate",
                "projects_catalogue_update",
            ]
            # The money facts came back as they were, and so did the triggers that keep them (migration 0014).
            cursor.execute("SELECT measure, year, amount FROM projects_moneyfact")
            assert cursor.fetchall() == [("committed", 2024, Decimal("1234.50"))]
            cursor.execute("SELECT count(*) FROM pg_trigger WHERE tgname LIKE 'projects_%_money_%'")
            # commitments, disbursements, charges; an invoice's date (0014); a project's and an organization's
            # update, the facts' truncation (0017); a project's deletion (0019)
            assert cursor.fetchone()[0] == 3 * 4 + 1 + 3 + 1
            # The sums at the figures' grain came back too (migration 0017).
            cursor.execute("SELECT measure, year, amount, facts FROM projects_moneyfigure")
            assert cursor.fetchall() == [("committed", 2024, Decimal("1234.50"), 1)]
            # The latest measurement of make_project's indicator, and its four triggers (migration 0015).
            cursor.execute("SELECT date, value FROM projects_latestmeasurement")
            assert cursor.fetchall() == [(date(2024, 3, 31), Decimal("40.0000"))]
            cursor.execute("SELECT count(*) FROM pg_trigger WHERE tgname LIKE 'projects_measurement_latest_%'")
            assert cursor.fetchone()[0] == 4
            # The triggers that move the projects' document versions (migration 0020): a project's update, deletion
            # and truncation; every write to its partners, indicators, measurements, lines and places; a change of
            # the names of organizations, axes, lines, municipalities and regions.
            cursor.execute("SELECT count(*) FROM pg_trigger WHERE tgname LIKE '%\\_document\\_%'")
            assert cursor.fetchone()[0] == 3 + 5 * 4 + 5
        restored.close()
    finally:
        admin.cursor().execute(f'DROP DATABASE IF EXISTS "{fresh}" WITH (FORCE)')
        admin.close()


def test_restore_refuses_to_replace_the_configured_database_without_confirmation(tmp_path):
    from django.core.management.base import CommandError

    dump = tmp_path / "x.dump"
    dump.write_bytes(b"not a dump")
    with pytest.raises(CommandError, match="--yes"):
        call_command("restore", str(dump))


# --- Scale-out code paths ------------------------------------------------------------------------------------------


def test_the_shared_redis_cache_holds_sign_in_locks_for_every_worker(editor, client):
    import redis

    from ficosec import throttle

    caches = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
    with override_settings(CACHES=caches, LOGIN_ATTEMPTS=2):
        from django.core.cache import cache

        cache.clear()
        for _ in range(2):
            client.post("/gestion/entrar/", {"username": "editora", "password": "mala"})
        # Another worker (a separate Redis connection) sees the same lock.
        other = redis.Redis.from_url(REDIS_URL)
        assert any(b"throttle:login" in key for key in other.keys("*"))
        assert throttle.locked_for("login", "editora|127.0.0.1", settings.LOGIN_ATTEMPTS) > 0
        assert (
            client.post("/gestion/entrar/", {"username": "editora", "password": "clave-de-prueba-123"}).status_code
            == 429
        )
        cache.clear()


def test_reads_go_to_the_replica_and_writes_and_transactions_to_the_primary():
    """A separate process configured with DATABASE_REPLICA_URL (pointing at the same test database) routes
    its queries through ficosec.db_router."""
    db = settings.DATABASES["default"]
    url = f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
    code = """
from django.db import connections, transaction
from django.test.utils import CaptureQueriesContext
from projects.models import Region
replica_queries = CaptureQueriesContext(connections["replica1"])
with replica_queries as replica, CaptureQueriesContext(connections["default"]) as primary:
    outside = Region.objects.count()
    with transaction.atomic():
        inside = Region.objects.count()
        Region.objects.filter(slug="juarez").update(order=1)
print(len([q for q in replica if "COUNT" in q["sql"]]), len([q for q in primary if "COUNT" in q["sql"]]),
      len([q for q in primary if q["sql"].startswith("UPDATE")]), outside == inside)
"""
    env = {**os.environ, "DATABASE_URL": url, "DATABASE_REPLICA_URL": url, "DJANGO_SETTINGS_MODULE": "ficosec.settings"}
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", code], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[-4:] == ["1", "1", "1", "True"]
