"""Results you can see, in Debian's Chromium: the map operated by keyboard, the new pages at 320 px, and a visitor
on a phone seeing whether a project is on track."""

import re

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_keyboard_user_tabs_to_a_municipality_on_the_map_and_opens_it(page, live_server, published_project):
    page.goto(live_server.url + "/")
    juarez = page.locator('#mapa svg a[href="/municipios/juarez/"]')
    expect(juarez).to_have_attribute("aria-label", "Juárez, proyectos: 1")
    page.locator("#mapa .map__measures a").last.focus()  # the last link before the map
    for _ in range(80):  # the municipalities in the order they are drawn (by name); Juárez comes within 80 stops
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.getAttribute('href')") == "/municipios/juarez/":
            break
    assert page.evaluate("document.activeElement.closest('svg') !== null")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/municipios/juarez/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Juárez")
    expect(page.get_by_role("link", name=published_project.title).first).to_be_visible()


@pytest.mark.parametrize("path", ["/", "/evidencia/", "/municipios/juarez/", "/aviso-de-privacidad/", "project"])
def test_the_new_pages_reflow_at_320_px(page, live_server, published_project, path):
    page.set_viewport_size({"width": 320, "height": 640})
    page.goto(live_server.url + (published_project.get_absolute_url() if path == "project" else path))
    assert page.evaluate("document.documentElement.scrollWidth") <= 320


def test_a_visitor_on_a_phone_sees_whether_a_project_is_on_track(page, live_server, published_project):
    page.set_viewport_size({"width": 375, "height": 740})
    page.goto(live_server.url + published_project.get_absolute_url())
    status = page.locator(".status__label").first
    expect(status).to_be_visible()
    expect(status).to_have_text(re.compile("En camino|En riesgo|Rezagado|Sin informe reciente"))
    expect(page.get_by_text("informe atrasado").first).to_be_visible()
