"""What people read is labels, never codes: the history's workflow moves, the download's partner roles; and the
download's links lead to the project's page wherever the file is opened."""

import csv
import io
import json

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def download(client, path):
    response = client.get(path)
    assert response.status_code == 200
    return b"".join(response.streaming_content).decode("utf-8-sig")


def test_the_history_shows_workflow_moves_with_state_labels_in_the_pages_language(
    client, editor, coordinator, review_project
):
    review_project.transition("published", coordinator)  # no comment: the move itself is the reason
    client.force_login(editor)
    spanish = client.get(reverse("project_history", args=[review_project.code])).content.decode()
    assert "En revisión → Publicado" in spanish
    assert "review → published" not in spanish
    english = client.get(f"/en/gestion/proyectos/{review_project.code}/historial/").content.decode()
    assert "In review → Published" in english and "review → published" not in english


def test_a_comment_given_with_a_move_stays_the_reason_shown(client, editor, coordinator, review_project):
    review_project.transition("published", coordinator, "Revisado con la organización")
    client.force_login(editor)
    text = client.get(reverse("project_history", args=[review_project.code])).content.decode()
    assert "Revisado con la organización" in text


def test_the_spanish_download_names_roles_in_spanish_not_codes(client, published_project):
    rows = list(csv.DictReader(io.StringIO(download(client, "/proyectos/descarga.csv"))))
    partners = rows[0]["organizaciones (rol)"]
    assert "Centro Comunitario Alfa, A.C. (Implementadora)" in partners
    assert "(Financiadora / co-inversionista)" in partners
    assert "implementer" not in partners and "funder" not in partners
    items = json.loads(download(client, "/proyectos/descarga.json"))
    assert "Centro Comunitario Alfa, A.C. (Implementadora)" in items[0]["organizations"]


@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_the_downloads_link_to_the_project_page_with_an_absolute_url(client, published_project, fmt, settings):
    settings.PORTAL_URL = "https://proyectos.example.org/"  # the portal's public address, whatever the request's host
    text = download(client, f"/proyectos/descarga.{fmt}")
    rows = list(csv.DictReader(io.StringIO(text))) if fmt == "csv" else json.loads(text)
    url = rows[0]["url"]
    assert url == f"https://proyectos.example.org/proyectos/{published_project.slug}/"
    page = client.get(url.removeprefix("https://proyectos.example.org"))
    assert page.status_code == 200 and published_project.title in page.content.decode()
