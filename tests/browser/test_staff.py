"""Staff journeys in Debian's Chromium: an editor builds a project and sends it to review, a coordinator publishes
it and a visitor finds it; two people edit one project at once; a failed import changes nothing."""

import re

import pytest
from playwright.sync_api import expect

from projects.models import Project

from ..conftest import award_by_committee, make_project
from .test_visitor import shot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PASSWORD = "clave-de-prueba-123"


def sign_in(page, live_server, username):
    page.goto(live_server.url + "/gestion/entrar/")
    page.get_by_label("Usuario").fill(username)
    page.get_by_label("Contraseña").fill(PASSWORD)
    page.get_by_role("button", name="Entrar").click()
    expect(page.get_by_role("heading", name="Gestión", exact=True)).to_be_visible()


def test_an_editor_creates_a_project_a_coordinator_publishes_it_and_a_visitor_finds_it(
    browser, live_server, editor, coordinator, org_a, ficosec_org
):
    editing = browser.new_context(locale="es-MX")
    page = editing.new_page()
    sign_in(page, live_server, "editora")
    page.get_by_role("link", name="Nuevo proyecto").first.click()
    page.get_by_label("Título").fill("Círculos de paz en Cuauhtémoc")
    page.get_by_label("Resumen").fill("Círculos de diálogo para jóvenes y familias en colonias de Cuauhtémoc.")
    page.get_by_label("Eje estratégico").select_option(label="3. Corresponsabilidad ciudadana frente al delito")
    page.get_by_label("Intervención para la prevención de la violencia").check()
    page.get_by_label("Municipios").select_option(label="Cuauhtémoc")
    page.get_by_label("Inicio planeado").fill("2025-03-01")
    page.get_by_label("Fin planeado").fill("2025-12-15")

    # A partner that is not in the directory yet: added without losing what was typed.
    page.locator("#id_new_org-name").fill("Colectivo Paz Serrana")
    page.locator("#id_new_org-acronym").fill("COPASE")
    page.locator("#id_new_org-kind").select_option("osc")
    page.get_by_role("button", name="Agregar organización").click()
    expect(page.get_by_text("Organización «Colectivo Paz Serrana (COPASE)» agregada")).to_be_visible()
    expect(page.get_by_label("Título")).to_have_value("Círculos de paz en Cuauhtémoc")

    page.locator("#id_participations-0-organization").fill("copase")
    page.locator("#id_participations-0-role").select_option("implementer")
    page.locator("#id_participations-0-amount").fill("180000")
    page.locator("#id_participations-1-organization").fill(ficosec_org.slug)
    page.locator("#id_participations-1-role").select_option("funder")
    page.locator("#id_participations-1-amount").fill("720000")
    page.locator("#id_indicators-0-name").fill("Círculos realizados")
    page.locator("#id_indicators-0-unit").fill("círculos")
    page.locator("#id_indicators-0-target").fill("40")
    page.get_by_role("button", name="Guardar").click()
    expect(page.get_by_text(re.compile(r"Proyecto FIC-\d{4}-\d{3} guardado"))).to_be_visible()
    expect(page.get_by_text("Falta la decisión de asignación")).to_be_visible()  # the committee has not decided yet
    expect(page.get_by_role("button", name="Pasar a «Publicado»")).to_have_count(0)
    page.get_by_label("Comentario (opcional)").fill("Listo para revisión")
    page.get_by_role("button", name="Pasar a «En revisión»").click()
    expect(page.get_by_text("El proyecto pasó a «En revisión».")).to_be_visible()
    shot(page, "staff-editor-sent-to-review")
    code = Project.objects.get(title="Círculos de paz en Cuauhtémoc").code
    award_by_committee(Project.objects.get(code=code))  # the technical committee's decision (governance pages)

    reviewing = browser.new_context(locale="es-MX")
    page = reviewing.new_page()
    sign_in(page, live_server, "coordinador")
    page.get_by_role("region", name="En espera de revisión").get_by_role(
        "link", name="Círculos de paz en Cuauhtémoc"
    ).click()
    page.get_by_label("Comentario (opcional)").fill("Aprobado por el comité técnico")
    page.get_by_role("button", name="Pasar a «Publicado»").click()
    expect(page.get_by_text("El proyecto pasó a «Publicado».")).to_be_visible()

    visiting = browser.new_context(locale="es-MX")
    page = visiting.new_page()
    page.goto(live_server.url + "/proyectos/?q=círculos+paz")
    page.get_by_role("link", name="Círculos de paz en Cuauhtémoc").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Círculos de paz en Cuauhtémoc")
    expect(page.get_by_text("Colectivo Paz Serrana").first).to_be_visible()
    expect(page.get_by_text("$900,000.00").first).to_be_visible()
    shot(page, "staff-published-project-seen-by-visitor")
    assert Project.objects.get(code=code).workflow_steps.count() == 2


def test_two_people_edit_one_project_and_the_second_save_is_refused_with_the_difference(
    browser, live_server, editor, coordinator, org_a
):
    project = make_project("FIC-2024-301", "Prevención en Parral", org_a)
    first = browser.new_context(locale="es-MX").new_page()
    second = browser.new_context(locale="es-MX").new_page()
    sign_in(first, live_server, "editora")
    sign_in(second, live_server, "coordinador")
    for page in (first, second):
        page.goto(f"{live_server.url}/gestion/proyectos/{project.code}/")
    first.get_by_label("Título").fill("Prevención comunitaria en Parral")
    first.get_by_role("button", name="Guardar").click()
    expect(first.get_by_text("Proyecto FIC-2024-301 guardado.")).to_be_visible()

    second.get_by_label("Resumen").fill("Resumen escrito por la coordinadora")
    second.get_by_role("button", name="Guardar").click()
    alert = second.get_by_role("alert").filter(has_text="Otra persona guardó este proyecto")
    expect(alert).to_be_visible()
    expect(alert.get_by_role("cell", name="Prevención comunitaria en Parral")).to_be_visible()
    expect(second.get_by_label("Resumen")).to_have_value("Resumen escrito por la coordinadora")
    shot(second, "staff-concurrent-edit-conflict")
    project.refresh_from_db()
    assert (
        project.title == "Prevención comunitaria en Parral" and project.summary != "Resumen escrito por la coordinadora"
    )

    second.get_by_role("button", name="Guardar").click()  # having read the difference, saving again keeps both
    expect(second.get_by_text("Proyecto FIC-2024-301 guardado.")).to_be_visible()
    project.refresh_from_db()
    assert (
        project.title == "Prevención comunitaria en Parral" and project.summary == "Resumen escrito por la coordinadora"
    )


def test_a_failed_import_shows_each_error_and_changes_nothing(page, live_server, editor, org_a, tmp_path):
    project = make_project("FIC-2024-401", "Proyecto existente", org_a)
    before = (Project.objects.count(), project.version)
    bad = tmp_path / "proyectos.csv"
    bad.write_text(
        "code,title,summary,axis,lines,municipalities,planned_start,planned_end,participations\n"
        f"FIC-2024-401,Título cambiado,Resumen,1,1,08037,2025-01-01,2025-12-31,{org_a.slug}:implementer:10:cash\n"
        "FIC-2025-402,Proyecto nuevo,Resumen,7,1,08037,2025-01-01,2025-12-31,nadie:implementer:10:cash\n",
        encoding="utf-8",
    )
    sign_in(page, live_server, "editora")
    page.goto(live_server.url + "/gestion/proyectos/importar/")
    page.get_by_label("Archivo CSV o XLSX").set_input_files(str(bad))
    page.get_by_role("button", name="Ver vista previa").click()
    expect(page.get_by_role("alert")).to_contain_text("no se importó nada")
    expect(page.get_by_text("No existe la organización «nadie».")).to_be_visible()
    expect(page.get_by_text("No existe: «7».")).to_be_visible()
    expect(page.get_by_role("button", name=re.compile("Confirmar"))).to_have_count(0)
    shot(page, "staff-failed-import")
    project.refresh_from_db()
    assert (Project.objects.count(), project.version) == before and project.title == "Proyecto existente"
