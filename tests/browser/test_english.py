"""In Debian's Chromium: a coordinator creates a project choosing its partner by the name the list shows, publishes
it, and finds it in English at /en/ with English axis names; the demo banner reflows at 320 px."""

import re

import pytest
from django.core.cache import cache
from playwright.sync_api import expect

from projects.models import Project, SiteFlag

from ..conftest import award_by_committee
from .test_staff import sign_in
from .test_visitor import shot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_partner_chosen_by_its_name_is_published_and_found_in_english(
    browser, live_server, coordinator, org_a, ficosec_org
):
    page = browser.new_context(locale="es-MX").new_page()
    sign_in(page, live_server, "coordinador")
    page.goto(live_server.url + "/gestion/proyectos/nuevo/")
    page.get_by_label("Título").fill("Mediación comunitaria en Juárez")
    page.get_by_label("Resumen").fill("Mediación de conflictos vecinales con jóvenes de Ciudad Juárez.")
    page.get_by_label("Eje estratégico").select_option(label="3. Corresponsabilidad ciudadana frente al delito")
    page.get_by_label("Intervención para la prevención de la violencia").check()
    page.get_by_label("Municipios").select_option(label="Juárez")
    page.get_by_label("Inicio planeado").fill("2025-03-01")
    page.get_by_label("Fin planeado").fill("2025-12-15")
    # The list offers names: the editor types the visible name (or picks it), never a slug.
    options = page.locator("#organizaciones option")
    assert "Centro Comunitario Alfa, A.C. (ALFA)" in [o.get_attribute("value") for o in options.all()]
    page.locator("#id_participations-0-organization").fill("Centro Comunitario Alfa, A.C. (ALFA)")
    page.locator("#id_participations-0-role").select_option("implementer")
    page.locator("#id_participations-0-amount").fill("150000")
    page.locator("#id_participations-1-organization").fill("FICOSEC")
    page.locator("#id_participations-1-role").select_option("funder")
    page.locator("#id_participations-1-amount").fill("600000")
    page.locator("#id_indicators-0-name").fill("Conflictos mediados")
    page.locator("#id_indicators-0-unit").fill("conflictos")
    page.locator("#id_indicators-0-target").fill("80")
    page.get_by_role("button", name="Guardar").click()
    expect(page.get_by_text(re.compile(r"Proyecto FIC-\d{4}-\d{3} guardado"))).to_be_visible()
    # the saved rows show the organizations by name (funders first)
    expect(page.locator('#socios input[value="Centro Comunitario Alfa, A.C. (ALFA)"]')).to_have_count(1)
    page.get_by_role("button", name="Pasar a «En revisión»").click()
    award_by_committee(Project.objects.get(title="Mediación comunitaria en Juárez"))  # the committee's decision
    page.reload()
    page.get_by_role("button", name="Pasar a «Publicado»").click()
    expect(page.get_by_text("El proyecto pasó a «Publicado».")).to_be_visible()

    visitor = browser.new_context(locale="es-MX").new_page()
    visitor.goto(live_server.url + "/proyectos/?axis=corresponsabilidad-ciudadana")
    visitor.get_by_role("link", name="English").click()
    expect(visitor).to_have_url(live_server.url + "/en/proyectos/?axis=corresponsabilidad-ciudadana")
    visitor.get_by_role("link", name="Mediación comunitaria en Juárez").click()
    slug = Project.objects.get(title="Mediación comunitaria en Juárez").slug
    expect(visitor).to_have_url(f"{live_server.url}/en/proyectos/{slug}/")
    expect(visitor.locator("html")).to_have_attribute("lang", "en")
    expect(
        visitor.get_by_role("link", name=re.compile("Citizen co-responsibility in preventing crime"))
    ).to_be_visible()
    expect(visitor.get_by_text("Interventions to prevent violence")).to_be_visible()
    shot(visitor, "english-project-page")
    visitor.get_by_role("link", name="Español").click()
    expect(visitor).to_have_url(f"{live_server.url}/proyectos/{slug}/")
    expect(visitor.get_by_text("Corresponsabilidad ciudadana frente al delito").first).to_be_visible()


@pytest.mark.parametrize("width", [320, 360])
def test_the_demo_banner_shows_and_reflows_on_a_phone(browser, live_server, published_project, width):
    cache.delete(SiteFlag.cache_key(SiteFlag.DEMO))
    SiteFlag.objects.create(name=SiteFlag.DEMO)
    page = browser.new_context(locale="es-MX", viewport={"width": width, "height": 700}).new_page()
    for path in ("/", "/proyectos/", "/organizaciones/", "/en/"):
        page.goto(live_server.url + path)
        expect(page.locator(".demo-banner")).to_be_visible()
        expect(page.locator(".demo-banner")).to_contain_text("DEMO")
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), (path, width)
    shot(page, f"demo-banner-{width}")
    cache.delete(SiteFlag.cache_key(SiteFlag.DEMO))
