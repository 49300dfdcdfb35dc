"""Every kind of page is valid HTML, as the Nu HTML checker (the W3C's validator, run offline) reads it."""

import json
import subprocess
from pathlib import Path

import pytest

pytestmark = pytest.mark.django_db
VNU = Path("node_modules/vnu-jar/build/dist/vnu.jar")


def public_pages(project, organization):
    return [
        "/",
        "/proyectos/",
        "/proyectos/?q=jóvenes&axis=corresponsabilidad-ciudadana",
        project.get_absolute_url(),
        "/ejes/",
        "/ejes/corresponsabilidad-ciudadana/",
        "/organizaciones/",
        organization.get_absolute_url(),
        "/api/v1/guia/",
        "/gobernanza/",
        "/datos-abiertos/",
        "/gestion/entrar/",
        "/gestion/contrasena/restablecer/",
        "/no-existe/",
        "/en/",
        "/en/proyectos/?axis=corresponsabilidad-ciudadana",
        "/en" + project.get_absolute_url(),
        "/dinero/",
        "/municipios/juarez/",
        "/evidencia/",
        "/aviso-de-privacidad/",
    ]


def workspace_pages(project, organization):
    return [
        "/gestion/",
        "/gestion/proyectos/",
        "/gestion/proyectos/nuevo/",
        f"/gestion/proyectos/{project.code}/",
        f"/gestion/proyectos/{project.code}/historial/",
        "/gestion/proyectos/importar/",
        "/gestion/organizaciones/",
        f"/gestion/organizaciones/{organization.slug}/",
        "/gestion/personas/",
        "/gestion/personas/nueva/",
        "/gestion/llaves/",
        "/gestion/gobernanza/",
        "/gestion/gobernanza/sesiones/nueva/",
        f"/gestion/gobernanza/sesiones/{project.award_decision.session_id}/",
        "/gestion/gobernanza/convocatoria/nuevo/",
        "/gestion/gobernanza/mias/",
        "/gestion/transiciones/",
        f"/gestion/proyectos/{project.code}/dinero/",
        "/gestion/dinero/revision/",
        "/gestion/dinero/informes/",
        f"/gestion/proyectos/{project.code}/resultados/",
    ]


def test_every_kind_of_page_is_valid_html(client, tmp_path, published_project, draft_project, org_a, coordinator):
    files = {}
    for url in public_pages(published_project, org_a):
        files[url] = client.get(url).content
    client.force_login(coordinator)
    for url in workspace_pages(published_project, org_a):
        response = client.get(url)
        assert response.status_code == 200, url
        files[url] = response.content
    paths = []
    for n, body in enumerate(files.values()):
        path = tmp_path / f"page{n}.html"
        path.write_bytes(body)
        paths.append(str(path))
    names = dict(zip(paths, files, strict=False))
    result = subprocess.run(
        ["java", "-jar", str(VNU), "--errors-only", "--format", "json", *paths],
        capture_output=True,
        text=True,
        timeout=300,
    )
    messages = json.loads(result.stderr or result.stdout)["messages"]
    errors = [
        f"{names.get(m['url'].removeprefix('file:'), m['url'])}:{m.get('lastLine')}: {m['message']}" for m in messages
    ]
    assert errors == []
