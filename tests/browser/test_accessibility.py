"""WCAG 2.1 AA as axe-core checks it, in Debian's Chromium, on every kind of public and workspace page, on a phone
width and a desktop width."""

from pathlib import Path

import pytest

from ..test_markup import public_pages, workspace_pages

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
AXE = Path("node_modules/axe-core/axe.min.js")
WCAG = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


def violations(page, url):
    page.goto(url)
    page.add_script_tag(path=str(AXE))  # the context bypasses our CSP for this injected checker only
    found = page.evaluate("async (tags) => (await axe.run(document, {runOnly: tags})).violations", WCAG)
    return [f"{url}: {v['id']} ({v['impact']}) {[node['target'] for node in v['nodes']][:3]}" for v in found]


@pytest.mark.parametrize("width", [360, 1280])
def test_every_kind_of_page_passes_axe_wcag_21_aa(
    browser, live_server, published_project, draft_project, org_a, coordinator, width
):
    context = browser.new_context(locale="es-MX", bypass_csp=True, viewport={"width": width, "height": 800})
    page = context.new_page()
    found = [v for url in public_pages(published_project, org_a) for v in violations(page, live_server.url + url)]
    page.goto(live_server.url + "/gestion/entrar/")
    page.get_by_label("Usuario").fill("coordinador")
    page.get_by_label("Contraseña").fill("clave-de-prueba-123")
    page.get_by_role("button", name="Entrar").click()
    page.wait_for_url("**/gestion/")
    found += [v for url in workspace_pages(published_project, org_a) for v in violations(page, live_server.url + url)]
    context.close()
    assert found == []
