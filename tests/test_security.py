"""Attacks and hardening: production settings, headers, stored scripts, CSRF, guessing other organizations' data,
and rate limits on sign-in and password reset (the API's is in test_api)."""

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.core import mail
from django.core.cache import cache
from django.db import connection
from django.test import Client

from ficosec import throttle
from projects.models import ApiKey, Organization, Participation, Project

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parent.parent


def manage(*args, **env):
    environment = {**os.environ, "DJANGO_SETTINGS_MODULE": "ficosec.settings", **env}
    for name in [key for key, value in env.items() if value is None]:
        environment.pop(name)
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=environment, capture_output=True, text=True
    )


PRODUCTION = {
    "DJANGO_ALLOW_ASYNC_UNSAFE": None,
    "DEBUG": "false",
    "SECRET_KEY": secrets.token_urlsafe(50),
    "ALLOWED_HOSTS": "portal.example.org",
}


@pytest.mark.parametrize("database", ["migrated", "not yet created"])
def test_check_deploy_is_clean_under_production_settings(database):
    # A deployment runs `check --deploy` before `migrate`: the check must not need the tables (the API schema's
    # lists of accepted values come from them).
    settings = connection.settings_dict
    name = settings["NAME"] if database == "migrated" else f"ficosec_absent_{secrets.token_hex(4)}"
    url = f"postgres://{settings['USER']}:{settings['PASSWORD']}@{settings['HOST']}:{settings['PORT']}/{name}"
    result = manage("check", "--deploy", "--fail-level", "WARNING", **PRODUCTION, DATABASE_URL=url)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


@pytest.mark.parametrize("missing", ["SECRET_KEY", "ALLOWED_HOSTS"])
def test_production_refuses_to_start_without_a_secret_key_or_hosts(missing):
    result = manage("check", **{**PRODUCTION, missing: None})
    assert result.returncode != 0 and "ImproperlyConfigured" in result.stderr and missing in result.stderr


def test_pages_carry_a_strict_content_security_policy_and_security_headers(client):
    response = client.get("/")
    policy = response["Content-Security-Policy"]
    script_src = next(part for part in policy.split(";") if part.strip().startswith("script-src"))
    assert "'self'" in script_src and "unsafe-inline" not in script_src and "unsafe-eval" not in script_src
    assert "frame-ancestors 'none'" in policy
    assert response["X-Frame-Options"] == "DENY" and response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"


def test_no_page_relies_on_inline_scripts_or_styles(client, published_project):
    for url in [
        "/",
        "/proyectos/",
        published_project.get_absolute_url(),
        "/ejes/",
        "/organizaciones/",
        "/api/v1/guia/",
        "/gestion/entrar/",
    ]:
        html = client.get(url).content.decode()
        assert "<script>" not in html and " style=" not in html and "onclick=" not in html, url


# --- Stored scripts render inert everywhere ------------------------------------------------------------------------

PAYLOAD = '<script>alert("xss")</script><img src=x onerror=alert(1)>"><svg onload=alert(2)>'


@pytest.fixture
def poisoned(published_project, org_a, ficosec_org):
    Project.objects.filter(pk=published_project.pk).update(
        title=f"Título {PAYLOAD}",
        summary=f"Resumen {PAYLOAD}",
        description=f"<p>Descripción</p>{PAYLOAD}",
        call_name=f"Convocatoria {PAYLOAD}",
        conflict_of_interest=f"Conflicto {PAYLOAD}",
    )
    Organization.objects.filter(pk=org_a.pk).update(
        name=f"Alfa {PAYLOAD}", description=f"Desc {PAYLOAD}", acronym="ALFA"
    )
    indicator = published_project.indicators.get()
    indicator.name, indicator.unit = f"Indicador {PAYLOAD}", "personas"
    indicator.save()
    measurement = indicator.measurements.get()
    measurement.note, measurement.source = f"Nota {PAYLOAD}", f"Fuente {PAYLOAD}"
    measurement.save()
    Participation.objects.filter(project=published_project).update(note=f"Nota {PAYLOAD}")
    published_project.refresh_derived()
    published_project.refresh_from_db()
    return published_project


def assert_inert(html):
    for live in ("<script>alert", "<img src=x onerror", "<svg onload"):
        assert live not in html


def test_script_payloads_render_inert_on_every_public_page(client, poisoned, org_a):
    for url in [
        "/",
        "/proyectos/",
        "/proyectos/?q=Título",
        poisoned.get_absolute_url(),
        "/ejes/corresponsabilidad-ciudadana/",
        "/organizaciones/",
        org_a.get_absolute_url(),
        "/sitemap.xml",
    ]:
        response = client.get(url)
        assert response.status_code == 200, url
        assert_inert(response.content.decode())
    assert "&lt;script&gt;" in client.get(poisoned.get_absolute_url()).content.decode()


def test_script_payloads_stay_data_in_downloads_and_the_api(client, poisoned):
    for url in [
        "/proyectos/descarga.json",
        f"/api/v1/projects/{poisoned.code}/",
        "/api/v1/organizations/",
        "/api/v1/measurements/",
    ]:
        response = client.get(url)
        body = b"".join(response.streaming_content) if response.streaming else response.content
        assert (
            response["Content-Type"].startswith("application/json") and response["X-Content-Type-Options"] == "nosniff"
        )
        json.loads(body)  # well-formed: the payload is a string value, never markup
    api = client.get(f"/api/v1/projects/{poisoned.code}/?format=json").json()
    assert "<script" not in api["description"]  # rich text was sanitised when stored


def test_script_payloads_render_inert_in_the_workspace_and_the_admin(client, poisoned, superuser, coordinator, org_a):
    client.force_login(coordinator)
    poisoned.title = f"Otro título {PAYLOAD}"
    poisoned.save()  # a recorded change, so that the history page shows the payload as from -> to
    for url in [
        "/gestion/",
        "/gestion/proyectos/",
        f"/gestion/proyectos/{poisoned.code}/",
        f"/gestion/proyectos/{poisoned.code}/historial/",
        "/gestion/organizaciones/",
        f"/gestion/organizaciones/{org_a.slug}/",
    ]:
        response = client.get(url)
        assert response.status_code == 200, url
        assert_inert(response.content.decode())
        assert "&lt;script&gt;" in response.content.decode(), url
    client.force_login(superuser)
    for url in [
        "/admin/projects/project/",
        f"/admin/projects/project/{poisoned.pk}/change/",
        "/admin/projects/organization/",
    ]:
        response = client.get(url)
        assert response.status_code == 200, url
        assert_inert(response.content.decode())


def test_password_reset_emails_escape_nothing_dangerous_because_they_are_plain_text(client, editor):
    editor.username = "<b>editora</b>"
    editor.save()
    client.post("/gestion/contrasena/restablecer/", {"email": editor.email})
    message = mail.outbox[0]
    assert message.content_subtype == "plain" and "<b>editora</b>" in message.body and not message.alternatives


# --- CSRF -----------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url, data, signed_in",
    [
        ("/i18n/setlang/", {"language": "en"}, False),
        ("/gestion/entrar/", {"username": "editora", "password": "clave-de-prueba-123"}, False),
        ("/gestion/contrasena/restablecer/", {"email": "editora@example.org"}, False),
        ("/gestion/salir/", {}, True),
        (
            "/gestion/contrasena/",
            {
                "old_password": "clave-de-prueba-123",
                "new_password1": "Otra-clave-9876",
                "new_password2": "Otra-clave-9876",
            },
            True,
        ),
        ("/api/v1/projects/", {"code": "FIC-2026-100", "title": "x"}, True),
        ("/gestion/proyectos/nuevo/", {"code": "FIC-2026-100", "title": "x"}, True),
        ("/gestion/proyectos/{code}/", {"code": "FIC-2026-100", "title": "x"}, True),
        ("/gestion/proyectos/{code}/estado/", {"to_state": "archived"}, True),
        ("/gestion/proyectos/{code}/historial/{history_id}/restaurar/", {}, True),
        ("/gestion/proyectos/importar/", {"confirm": "1"}, True),
        ("/gestion/organizaciones/nueva/", {"name": "x", "kind": "osc"}, True),
        ("/gestion/organizaciones/alfa/fusionar/", {"duplicate": "beta"}, True),
        ("/gestion/personas/nueva/", {"username": "x", "email": "x@example.org"}, True),
        ("/gestion/llaves/", {"name": "x"}, True),
        ("/gestion/llaves/{key}/revocar/", {}, True),
    ],
)
def test_every_state_changing_form_requires_the_csrf_token(
    coordinator, draft_project, org_a, org_b, url, data, signed_in
):
    key, _raw = ApiKey.issue("Llave", created_by=coordinator, organization=org_a)
    client = Client(enforce_csrf_checks=True)
    if signed_in:
        client.force_login(coordinator)  # may do everything: only the missing token can refuse
    url = url.format(code=draft_project.code, history_id=draft_project.history.latest().history_id, key=key.pk)
    before = (
        Project.objects.count(),
        draft_project.version,
        Organization.objects.count(),
        ApiKey.objects.active().count(),
    )
    response = client.post(url, data)
    assert response.status_code == 403
    draft_project.refresh_from_db()
    assert (
        Project.objects.count(),
        draft_project.version,
        Organization.objects.count(),
        ApiKey.objects.active().count(),
    ) == before


# --- Guessing another organization's ids and slugs -----------------------------------------------------------------


def test_a_partner_cannot_read_another_organizations_drafts_by_guessing(
    client, partner, draft_project, other_draft, review_project
):
    client.force_login(partner)
    assert client.get(draft_project.get_absolute_url()).status_code == 200  # their own draft
    for project in (other_draft, review_project):
        assert client.get(project.get_absolute_url()).status_code == 404
        assert client.get(f"/api/v1/projects/{project.code}/").status_code == 404
        indicator = project.indicators.get()
        assert client.get(f"/api/v1/indicators/{indicator.pk}/").status_code == 404
        assert client.get(f"/api/v1/measurements/{indicator.measurements.get().pk}/").status_code == 404
        assert client.get(f"/api/v1/participations/{project.participations.first().pk}/").status_code == 404


def test_the_organization_filter_offers_each_caller_only_organizations_of_projects_it_sees(
    client, editor, partner, org_b, other_draft, review_project
):
    """The filter's form class is built once for every request (ProjectFilter.get_form_class), but the organization
    choices stay the caller's own: beta takes part only in projects the public and alfa's partner cannot see, so for
    them it is an unknown choice, whoever asked before."""
    url = f"/api/v1/projects/?organization={org_b.slug}"
    callers = [None, editor, partner, None, editor]
    for caller in callers:
        client.logout()
        if caller is not None:
            client.force_login(caller)
        response = client.get(url)
        if caller is editor:
            assert response.status_code == 200
            assert sorted(row["code"] for row in response.json()["results"]) == sorted(
                [other_draft.code, review_project.code]
            )
        else:
            assert response.status_code == 400 and "organization" in response.json()["errors"]


def test_a_partner_cannot_change_another_organizations_data_by_guessing(client, partner, other_draft):
    client.force_login(partner)
    measurement = other_draft.indicators.get().measurements.get()
    response = client.patch(
        f"/api/v1/measurements/{measurement.pk}/",
        {"value": "999"},
        content_type="application/json",
        HTTP_IF_MATCH="*",
        HTTP_X_CSRFTOKEN="x",
    )
    assert response.status_code in (403, 404)
    measurement.refresh_from_db()
    assert measurement.value != 999


# --- Rate limits -----------------------------------------------------------------------------------------------------


def test_repeated_failed_sign_ins_lock_the_account_with_a_clear_429(client, editor, settings):
    cache.clear()
    settings.LOGIN_ATTEMPTS = 3
    for _ in range(3):
        response = client.post("/gestion/entrar/", {"username": "editora", "password": "mala"})
        assert response.status_code == 200 and "Usuario o contraseña incorrectos" in response.content.decode()
    locked = client.post("/gestion/entrar/", {"username": "editora", "password": "clave-de-prueba-123"})
    assert locked.status_code == 429 and "Demasiados intentos fallidos" in locked.content.decode()
    assert "_auth_user_id" not in client.session
    throttle.reset()  # an operator lifts the lock
    assert (
        client.post("/gestion/entrar/", {"username": "editora", "password": "clave-de-prueba-123"}).status_code == 302
    )


def test_a_successful_sign_in_lands_on_the_workspace_and_ignores_foreign_next_urls(client, editor):
    cache.clear()
    response = client.post(
        "/gestion/entrar/", {"username": "editora", "password": "clave-de-prueba-123", "next": "https://evil.example/"}
    )
    assert response.status_code == 302 and response["Location"] == "/gestion/"


def test_repeated_password_reset_requests_get_a_429(client, editor, settings):
    cache.clear()
    settings.PASSWORD_RESET_ATTEMPTS = 2
    statuses = [client.post("/gestion/contrasena/restablecer/", {"email": editor.email}).status_code for _ in range(3)]
    assert statuses == [302, 302, 429]
    assert len(mail.outbox) == 2
    cache.clear()
