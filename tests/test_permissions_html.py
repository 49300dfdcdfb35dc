"""Who reaches which page: every HTML URL x every role, and a guard that no URL escapes the table.
(The API's endpoints have their own matrix in test_api.py.)"""

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

pytestmark = pytest.mark.django_db

ROLES = ["visitor", "editor", "coordinator", "partner", "outsider", "superuser"]
ALL = dict.fromkeys(ROLES, 200)
SIGNED_IN = {"visitor": 302, **dict.fromkeys(ROLES[1:], 200)}

# url name -> (path, expected status per role)
TABLE = {
    "home": ("/", ALL),
    "project_list": ("/proyectos/", ALL),
    "project_download": ("/proyectos/descarga.csv", ALL),
    "project_detail": ("/proyectos/{public}/", ALL),
    "project_detail (own draft)": ("/proyectos/{own}/", {"visitor": 404, "editor": 200, "coordinator": 200, "partner": 200, "outsider": 404, "superuser": 200}),
    "project_detail (other draft)": ("/proyectos/{other}/", {"visitor": 404, "editor": 200, "coordinator": 200, "partner": 404, "outsider": 404, "superuser": 200}),
    "organization_list": ("/organizaciones/", ALL),
    "organization_detail": ("/organizaciones/alfa/", ALL),
    "organization_detail (no public project)": ("/organizaciones/beta/", dict.fromkeys(ROLES, 404)),
    "axis_list": ("/ejes/", ALL),
    "axis_detail": ("/ejes/corresponsabilidad-ciudadana/", ALL),
    "sitemap": ("/sitemap.xml", ALL),
    "robots": ("/robots.txt", ALL),
    "healthz": ("/healthz", ALL),
    "readyz": ("/readyz", ALL),
    "api_guide": ("/api/v1/guia/", ALL),
    "api_schema": ("/api/v1/schema/", ALL),
    "api_docs": ("/api/v1/docs/", ALL),
    "api_redoc": ("/api/v1/redoc/", ALL),
    "dashboard": ("/gestion/", SIGNED_IN),
    "login": ("/gestion/entrar/", ALL),
    "logout": ("/gestion/salir/", dict.fromkeys(ROLES, 405)),  # sign out is a POST form, never a link
    "password_change": ("/gestion/contrasena/", SIGNED_IN),
    "password_change_done": ("/gestion/contrasena/cambiada/", SIGNED_IN),
    "password_reset": ("/gestion/contrasena/restablecer/", ALL),
    "password_reset_done": ("/gestion/contrasena/restablecer/enviado/", ALL),
    "password_reset_confirm": ("/gestion/contrasena/restablecer/MQ/token-invalido/", ALL),
    "password_reset_complete": ("/gestion/contrasena/restablecida/", ALL),
    "set_language": ("/i18n/setlang/", dict.fromkeys(ROLES, 302)),
    "admin:index": ("/admin/", {**dict.fromkeys(ROLES, 302), "superuser": 200}),
    "admin:projects_project_changelist": ("/admin/projects/project/", {**dict.fromkeys(ROLES, 302), "superuser": 200}),
}


@pytest.mark.parametrize("name, role", [(name, role) for name in TABLE for role in ROLES])
def test_every_html_url_answers_each_role_as_expected(client, request, name, role, published_project, draft_project, other_draft):
    if role != "visitor":
        client.force_login(request.getfixturevalue(role))
    path, expected = TABLE[name]
    path = path.format(public=published_project.slug, own=draft_project.slug, other=other_draft.slug)
    response = client.get(path)
    assert response.status_code == expected[role], f"{path} as {role}"
    if response.status_code == 302 and name in ("dashboard", "password_change", "password_change_done"):
        assert response["Location"].startswith("/gestion/entrar/")


def named_patterns(resolver=None, namespace=""):
    for pattern in (resolver or get_resolver()).url_patterns:
        if isinstance(pattern, URLResolver):
            inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            yield from named_patterns(pattern, inner)
        elif isinstance(pattern, URLPattern) and pattern.name:
            yield f"{namespace}{pattern.name}"


def test_no_url_escapes_the_permission_tables():
    from . import test_api

    api_names = {"api-root"} | {f"api-{resource}-{suffix}" for resource in ("axis", "line", "region", "municipality", "organization", "project", "participation", "indicator", "measurement") for suffix in ("list", "detail", "sync", "transition")}
    covered = {name.split(" (")[0] for name in TABLE}
    missing = sorted(
        name for name in set(named_patterns())
        if name not in covered and name not in api_names and not (name.startswith("admin:") and name != "admin:index")
    )
    assert missing == [], f"add these URLs to the permission table: {missing}"
    assert test_api.CALLERS  # the API's own matrix covers the api-* names
