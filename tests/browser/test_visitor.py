"""A visitor's journeys through the public catalogue, in Debian's Chromium (screenshots in test-results/)."""

import csv
import io
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from axes.models import Axis
from projects.models import Municipality

from ..conftest import make_project

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
SHOTS = Path("test-results/screenshots")


def shot(page, name):
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SHOTS / f"{name}.png", full_page=True)


@pytest.fixture
def catalogue(org_a, org_b, ficosec_org, draft_project):
    youth = make_project("FIC-2024-201", "Jóvenes mediadores en Juárez", org_a, "published", ficosec=ficosec_org)
    police = make_project(
        "FIC-2024-202", "Policía de proximidad en Delicias", org_b, "published", axis=Axis.objects.get(number=1)
    )
    police.municipalities.set([Municipality.objects.get(inegi_code="08021")])
    police.refresh_derived()
    other = make_project("FIC-2024-203", "Escuelas seguras para jóvenes de Chihuahua", org_b, "published")
    other.municipalities.set([Municipality.objects.get(inegi_code="08019")])
    other.refresh_derived()
    return youth


def test_visitor_searches_filters_opens_a_project_and_downloads_the_list(page, live_server, catalogue):
    page.goto(live_server.url + "/")
    page.get_by_label("Buscar proyectos").fill("jóvenes")
    page.get_by_role("button", name="Buscar").click()
    expect(page.get_by_role("heading", name="2 proyectos")).to_be_visible()
    page.get_by_label(re.compile(r"3\. Corresponsabilidad ciudadana")).check()  # nothing reloads until "Aplicar"
    page.get_by_role("button", name="Aplicar").first.click()
    page.wait_for_url(re.compile(r"axis=corresponsabilidad-ciudadana"))
    page.get_by_role("group", name="Municipio").get_by_role("checkbox", name=re.compile("^Juárez")).check()
    page.get_by_role("button", name="Aplicar").first.click()
    page.wait_for_url(re.compile(r"municipality=08037"))
    expect(page.get_by_role("heading", name="1 proyecto")).to_be_visible()
    expect(page.get_by_text("Borrador secreto")).to_have_count(0)
    shot(page, "visitor-filtered-list")

    with page.expect_download() as download_info:
        page.get_by_role("link", name="CSV", exact=True).click()
    text = Path(download_info.value.path()).read_text(encoding="utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [row["clave"] for row in rows] == ["FIC-2024-201"]

    page.get_by_role("link", name="Jóvenes mediadores en Juárez").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Jóvenes mediadores en Juárez")
    expect(page.get_by_text("$1,250,000.00").first).to_be_visible()
    shot(page, "visitor-project-page")
    page.go_back()
    expect(page).to_have_url(re.compile(r"municipality=08037"))


def test_visitor_switches_to_english_and_back_on_the_same_page(page, live_server, catalogue):
    page.goto(live_server.url + "/proyectos/?axis=corresponsabilidad-ciudadana")
    page.get_by_role("link", name="English").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Projects")
    expect(page).to_have_url(re.compile(r"axis=corresponsabilidad-ciudadana"))
    shot(page, "visitor-english")
    page.get_by_role("link", name="Español").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Proyectos")


def test_visitor_moves_through_the_catalogue_with_the_keyboard_alone(page, live_server, catalogue):
    page.goto(live_server.url + "/proyectos/")
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Saltar al contenido")).to_be_focused()
    page.keyboard.press("Enter")
    page.get_by_label("Buscar", exact=True).focus()
    page.keyboard.type("policia")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"q=policia"))
    for _ in range(10):  # past the filters in one step: "Saltar a resultados"
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.textContent").strip() == "Saltar a resultados":
            break
    page.keyboard.press("Enter")
    for _ in range(40):  # tab to the first result link
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.textContent").strip() == "Policía de proximidad en Delicias":
            break
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Policía de proximidad en Delicias")
    outline = page.evaluate("getComputedStyle(document.querySelector('a')).outlineStyle")
    assert outline is not None
    shot(page, "visitor-keyboard")


def test_catalogue_is_usable_360_pixels_wide(browser, live_server, catalogue):
    context = browser.new_context(viewport={"width": 360, "height": 740}, locale="es-MX")
    page = context.new_page()
    page.goto(live_server.url + "/proyectos/")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 360, f"the page scrolls sideways ({width}px)"
    shot(page, "visitor-360")
    context.close()


@pytest.mark.parametrize(
    "path", ["/", "/proyectos/?q=jóvenes", "/ejes/", "/api/v1/docs/", "/api/v1/redoc/", "/gestion/entrar/"]
)
def test_pages_run_under_the_content_security_policy_without_violations(page, live_server, catalogue, path):
    violations = []
    page.on(
        "console",
        lambda message: violations.append(message.text) if "Content Security Policy" in message.text else None,
    )
    page.goto(live_server.url + path)
    page.wait_for_load_state("networkidle")
    if path == "/api/v1/docs/":
        expect(page.locator(".swagger-ui .info")).to_be_visible()  # Swagger UI rendered from the sidecar's files
    if path == "/api/v1/redoc/":
        expect(page.get_by_text("FICOSEC").first).to_be_visible()
        # Redoc's bundle points its "by Redocly" logo at a CDN: the policy blocks that fetch, which is what we want.
        violations = [v for v in violations if "cdn.redoc.ly/redoc/logo-mini.svg" not in v]
    assert violations == []


def test_open_data_page_is_usable_320_pixels_wide_and_its_files_download(browser, live_server, catalogue):
    context = browser.new_context(viewport={"width": 320, "height": 740}, locale="es-MX", java_script_enabled=False)
    page = context.new_page()
    page.goto(live_server.url + "/")
    page.get_by_role("link", name="Ir a datos abiertos").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Datos abiertos")  # reached with JavaScript off
    context.close()
    context = browser.new_context(viewport={"width": 320, "height": 740}, locale="es-MX")
    page = context.new_page()
    page.goto(live_server.url + "/datos-abiertos/")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 320, f"the page scrolls sideways ({width}px)"
    with page.expect_download() as download:
        page.get_by_role("link", name="Actividades IATI").click()
    assert download.value.suggested_filename == "iati-actividades.xml"
    shot(page, "visitor-open-data-320")
    context.close()
