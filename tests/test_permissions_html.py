"""Who reaches which page: every HTML URL x every role, and a guard that no URL escapes the table.
(The API's endpoints have their own matrix in test_api.py.)"""

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

pytestmark = pytest.mark.django_db

ROLES = ["visitor", "editor", "coordinator", "partner", "outsider", "superuser"]
ALL = dict.fromkeys(ROLES, 200)
SIGNED_IN = {"visitor": 302, **dict.fromkeys(ROLES[1:], 200)}
STAFF = {"visitor": 302, "editor": 200, "coordinator": 200, "partner": 403, "outsider": 403, "superuser": 200}
COORDINATORS = {**STAFF, "editor": 403}
POST_ONLY = {**STAFF, "editor": 405, "coordinator": 405, "superuser": 405}
COORDINATORS_POST_ONLY = {**POST_ONLY, "editor": 403}

# url name -> (path, expected status per role)
TABLE = {
    "home": ("/", ALL),
    "project_list": ("/proyectos/", ALL),
    "project_download": ("/proyectos/descarga.csv", ALL),
    "project_detail": ("/proyectos/{public}/", ALL),
    "project_detail (own draft)": (
        "/proyectos/{own}/",
        {"visitor": 404, "editor": 200, "coordinator": 200, "partner": 200, "outsider": 404, "superuser": 200},
    ),
    "project_detail (other draft)": (
        "/proyectos/{other}/",
        {"visitor": 404, "editor": 200, "coordinator": 200, "partner": 404, "outsider": 404, "superuser": 200},
    ),
    "organization_list": ("/organizaciones/", ALL),
    "organization_detail": ("/organizaciones/alfa/", ALL),
    # Organization.objects.visible_to, as in the API: staff reach an organization whose projects are all unpublished.
    "organization_detail (no public project)": (
        "/organizaciones/beta/",
        {"visitor": 404, "editor": 200, "coordinator": 200, "partner": 404, "outsider": 404, "superuser": 200},
    ),
    "axis_list": ("/ejes/", ALL),
    "axis_detail": ("/ejes/corresponsabilidad-ciudadana/", ALL),
    "sitemap": ("/sitemap.xml", ALL),
    "robots": ("/robots.txt", ALL),
    "municipality_detail": ("/municipios/juarez/", ALL),
    "evidence": ("/evidencia/", ALL),
    "privacy_notice": ("/aviso-de-privacidad/", ALL),
    "project_results (own draft)": (
        "/gestion/proyectos/{own_code}/resultados/",
        {"visitor": 302, "editor": 200, "coordinator": 200, "partner": 200, "outsider": 404, "superuser": 200},
    ),
    "project_results (other draft)": (
        "/gestion/proyectos/{other_code}/resultados/",
        {"visitor": 302, "editor": 200, "coordinator": 200, "partner": 404, "outsider": 404, "superuser": 200},
    ),
    "healthz": ("/healthz", ALL),
    "readyz": ("/readyz", ALL),
    "api_guide": ("/api/v1/guia/", ALL),
    "api_schema": ("/api/v1/schema/", ALL),
    "api_docs": ("/api/v1/docs/", ALL),
    "api_redoc": ("/api/v1/redoc/", ALL),
    "dashboard": ("/gestion/", SIGNED_IN),
    "login": ("/gestion/entrar/", ALL),
    # The admin's sign-in under the workspace's policy: the superuser, already in, is sent on to the admin.
    "admin_sign_in": ("/admin/login/", {**ALL, "superuser": 302}),
    "logout": ("/gestion/salir/", dict.fromkeys(ROLES, 405)),  # sign out is a POST form, never a link
    "password_change": ("/gestion/contrasena/", SIGNED_IN),
    "password_change_done": ("/gestion/contrasena/cambiada/", SIGNED_IN),
    "password_reset": ("/gestion/contrasena/restablecer/", ALL),
    "password_reset_done": ("/gestion/contrasena/restablecer/enviado/", ALL),
    "password_reset_confirm": ("/gestion/contrasena/restablecer/MQ/token-invalido/", ALL),
    "password_reset_complete": ("/gestion/contrasena/restablecida/", ALL),
    "project_index": ("/gestion/proyectos/", STAFF),
    "project_create": ("/gestion/proyectos/nuevo/", STAFF),
    "project_import": ("/gestion/proyectos/importar/", STAFF),
    "project_export": ("/gestion/proyectos/exportar.csv", STAFF),
    "project_edit (own draft)": ("/gestion/proyectos/{own_code}/", STAFF),
    "project_edit (other draft)": ("/gestion/proyectos/{other_code}/", STAFF),
    "project_edit (unknown)": (
        "/gestion/proyectos/FIC-1999-999/",
        {**STAFF, "editor": 404, "coordinator": 404, "superuser": 404},
    ),
    "project_transition": ("/gestion/proyectos/{own_code}/estado/", POST_ONLY),
    "project_history": ("/gestion/proyectos/{other_code}/historial/", STAFF),
    "project_restore": ("/gestion/proyectos/{own_code}/historial/1/restaurar/", COORDINATORS_POST_ONLY),
    "organization_index": ("/gestion/organizaciones/", STAFF),
    "organization_create": ("/gestion/organizaciones/nueva/", STAFF),
    "organization_edit": ("/gestion/organizaciones/beta/", STAFF),
    "organization_merge": ("/gestion/organizaciones/beta/fusionar/", COORDINATORS_POST_ONLY),
    "user_index": ("/gestion/personas/", COORDINATORS),
    "user_create": ("/gestion/personas/nueva/", COORDINATORS),
    "user_edit": ("/gestion/personas/{staffer}/", COORDINATORS),
    "apikey_index": ("/gestion/llaves/", COORDINATORS),
    "apikey_revoke": ("/gestion/llaves/999/revocar/", COORDINATORS_POST_ONLY),
    "set_language": ("/i18n/setlang/", dict.fromkeys(ROLES, 302)),
    # Governance and continuity (issue 15)
    "governance_public": ("/gobernanza/", ALL),
    "governance_download": ("/gobernanza/decisiones.csv", ALL),
    "governance_download (calls)": ("/gobernanza/convocatorias.csv", ALL),
    "governance_index": ("/gestion/gobernanza/", STAFF),
    "governance_mine": ("/gestion/gobernanza/mias/", SIGNED_IN),
    "session_create": ("/gestion/gobernanza/sesiones/nueva/", STAFF),
    "session_edit": (
        "/gestion/gobernanza/sesiones/999999/",
        {**STAFF, "editor": 404, "coordinator": 404, "superuser": 404},
    ),
    "session_approve": ("/gestion/gobernanza/sesiones/999999/aprobar/", COORDINATORS_POST_ONLY),
    "governance_create": ("/gestion/gobernanza/convocatoria/nuevo/", STAFF),
    "governance_create (declaration)": ("/gestion/gobernanza/declaracion/nuevo/", STAFF),
    "governance_create (recusal)": ("/gestion/gobernanza/excusa/nuevo/", STAFF),
    "governance_create (administration)": ("/gestion/gobernanza/administracion/nuevo/", COORDINATORS),
    "governance_edit": (
        "/gestion/gobernanza/decision/999999/",
        {**STAFF, "editor": 404, "coordinator": 404, "superuser": 404},
    ),
    "transition_radar": ("/gestion/transiciones/", STAFF),
    "handover_file": (
        "/gestion/transiciones/beta/entrega/",
        {**STAFF, "editor": 404, "coordinator": 404, "superuser": 404},
    ),
    "money": ("/dinero/", ALL),
    "money_csv": ("/dinero/descarga.csv", ALL),
    "project_ledger": (
        "/gestion/proyectos/{own_code}/dinero/",
        {"visitor": 302, "editor": 200, "coordinator": 200, "partner": 200, "outsider": 404, "superuser": 200},
    ),
    "project_ledger (other draft)": (
        "/gestion/proyectos/{other_code}/dinero/",
        {"visitor": 302, "editor": 200, "coordinator": 200, "partner": 404, "outsider": 404, "superuser": 200},
    ),
    "commitment_create": ("/gestion/proyectos/{own_code}/dinero/compromiso/", POST_ONLY),
    "disbursement_create": ("/gestion/proyectos/{own_code}/dinero/ministracion/", POST_ONLY),
    "proof_upload": ("/gestion/proyectos/{own_code}/dinero/cfdi/", {**POST_ONLY, "partner": 405}),
    "ledger_approve": ("/gestion/dinero/aprobar/compromiso/999/", COORDINATORS_POST_ONLY),
    "review_queue": ("/gestion/dinero/revision/", STAFF),
    "proof_review": ("/gestion/dinero/revision/999/", COORDINATORS_POST_ONLY),
    "annual_reports": ("/gestion/dinero/informes/", COORDINATORS),
    "admin:index": ("/admin/", {**dict.fromkeys(ROLES, 302), "superuser": 200}),
    "admin:projects_project_changelist": ("/admin/projects/project/", {**dict.fromkeys(ROLES, 302), "superuser": 200}),
    "open_data": ("/datos-abiertos/", ALL),
    "open_data_iati": ("/datos-abiertos/iati-actividades.xml", ALL),
    "open_data_iati_organisation": ("/datos-abiertos/iati-organizacion.xml", ALL),
    "open_data_iati_activity": ("/datos-abiertos/iati/FIC-2024-001.xml", ALL),
    "open_data_iati_activity (draft)": ("/datos-abiertos/iati/{own_code}.xml", dict.fromkeys(ROLES, 404)),
    "open_data_360giving": ("/datos-abiertos/360giving.json", ALL),
    "open_data_360giving (xlsx)": ("/datos-abiertos/360giving.xlsx", ALL),
    "open_data_datapackage": ("/datos-abiertos/datapackage.json", ALL),
}


@pytest.mark.parametrize("name, role", [(name, role) for name in TABLE for role in ROLES])
def test_every_html_url_answers_each_role_as_expected(
    client, request, name, role, published_project, draft_project, other_draft, editor
):
    if role != "visitor":
        client.force_login(request.getfixturevalue(role))
    path, expected = TABLE[name]
    path = path.format(
        public=published_project.slug,
        own=draft_project.slug,
        other=other_draft.slug,
        own_code=draft_project.code,
        other_code=other_draft.code,
        staffer=editor.pk,
    )
    response = client.get(path)
    assert response.status_code == expected[role], f"{path} as {role}"
    if response.status_code == 302 and name in ("dashboard", "password_change", "password_change_done"):
        assert response["Location"].startswith("/gestion/entrar/")


# Every state-changing workspace URL, posted empty: who is turned away before anything is read or written.
# 302 = sent to sign in; 403 = no permission; otherwise the request reaches the form (400 invalid, 302 done).
POSTS = {
    "/gestion/proyectos/nuevo/": {**STAFF, "editor": 400, "coordinator": 400, "superuser": 400},
    "/gestion/proyectos/{own_code}/": {**STAFF, "editor": 400, "coordinator": 400, "superuser": 400},
    "/gestion/proyectos/{own_code}/estado/": {**STAFF, "editor": 302, "coordinator": 302, "superuser": 302},
    "/gestion/proyectos/{own_code}/historial/1/restaurar/": {**COORDINATORS, "coordinator": 404, "superuser": 404},
    "/gestion/proyectos/importar/": {**STAFF, "editor": 400, "coordinator": 400, "superuser": 400},
    "/gestion/organizaciones/nueva/": {**STAFF, "editor": 400, "coordinator": 400, "superuser": 400},
    "/gestion/organizaciones/beta/": {**STAFF, "editor": 400, "coordinator": 400, "superuser": 400},
    "/gestion/organizaciones/beta/fusionar/": {**COORDINATORS, "coordinator": 302, "superuser": 302},
    "/gestion/personas/nueva/": {**COORDINATORS, "coordinator": 400, "superuser": 400},
    "/gestion/personas/{staffer}/": {**COORDINATORS, "coordinator": 400, "superuser": 400},
    "/gestion/llaves/": {**COORDINATORS, "coordinator": 400, "superuser": 400},
    "/gestion/llaves/999/revocar/": {**COORDINATORS, "coordinator": 404, "superuser": 404},
    "/gestion/gobernanza/sesiones/nueva/": {**STAFF, "editor": 400, "coordinator": 400, "superuser": 400},
    "/gestion/gobernanza/convocatoria/nuevo/": {**STAFF, "editor": 400, "coordinator": 400, "superuser": 400},
    "/gestion/gobernanza/excusa/nuevo/": {**STAFF, "editor": 400, "coordinator": 400, "superuser": 400},
    "/gestion/gobernanza/administracion/nuevo/": {**COORDINATORS, "coordinator": 400, "superuser": 400},
    "/gestion/gobernanza/sesiones/999999/aprobar/": {**COORDINATORS, "coordinator": 404, "superuser": 404},
    "/gestion/proyectos/{own_code}/dinero/compromiso/": {**STAFF, "editor": 400, "coordinator": 400, "superuser": 400},
    "/gestion/proyectos/{own_code}/dinero/ministracion/": {
        **STAFF,
        "editor": 400,
        "coordinator": 400,
        "superuser": 400,
    },
    "/gestion/proyectos/{own_code}/dinero/cfdi/": {
        **STAFF,
        "partner": 400,
        "editor": 400,
        "coordinator": 400,
        "superuser": 400,
    },
    "/gestion/dinero/aprobar/compromiso/999/": {**COORDINATORS, "coordinator": 404, "superuser": 404},
    "/gestion/dinero/revision/999/": {**COORDINATORS, "coordinator": 404, "superuser": 404},
    "/gestion/dinero/informes/": {**COORDINATORS, "coordinator": 400, "superuser": 400},
}


@pytest.mark.parametrize("path, role", [(path, role) for path in POSTS for role in ROLES])
def test_every_workspace_form_turns_away_whoever_may_not_post_to_it(
    client, request, path, role, draft_project, other_draft, editor
):
    if role != "visitor":
        client.force_login(request.getfixturevalue(role))
    url = path.format(own_code=draft_project.code, staffer=editor.pk)
    assert client.post(url, {}).status_code == POSTS[path][role], f"POST {url} as {role}"


def named_patterns(resolver=None, namespace=""):
    for pattern in (resolver or get_resolver()).url_patterns:
        if isinstance(pattern, URLResolver):
            inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            yield from named_patterns(pattern, inner)
        elif isinstance(pattern, URLPattern) and pattern.name:
            yield f"{namespace}{pattern.name}"


def test_no_url_escapes_the_permission_tables():
    from . import test_api

    api_names = {"api-root"} | {
        f"api-{resource}-{suffix}"
        for resource in (
            "axis",
            "line",
            "region",
            "municipality",
            "organization",
            "project",
            "participation",
            "indicator",
            "measurement",
            "award-decision",  # governance (issue 15)
            "call",
            "commitment",
            "disbursement",
            "proof",
            "money-figures",
            "period",
        )
        for suffix in ("list", "detail", "sync", "transition", "check", "breakdown")
    }
    covered = {name.split(" (")[0] for name in TABLE}
    missing = sorted(
        name
        for name in set(named_patterns())
        if name not in covered and name not in api_names and not (name.startswith("admin:") and name != "admin:index")
    )
    assert missing == [], f"add these URLs to the permission table: {missing}"
    assert test_api.CALLERS  # the API's own matrix covers the api-* names
