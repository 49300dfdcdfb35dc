"""Every kind of page, public and workspace, reflows at 320 and 360 px: nothing scrolls sideways (WCAG 1.4.10)."""

import pytest

from projects.models import Participation

from ..conftest import chess_projects

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCROLLS_SIDEWAYS = "document.documentElement.scrollWidth > window.innerWidth"


def public_pages(project, organization):
    return [
        "/",
        "/proyectos/",
        "/proyectos/?q=jóvenes&axis=corresponsabilidad-ciudadana&municipality=08037",
        project.get_absolute_url(),
        "/ejes/",
        "/ejes/corresponsabilidad-ciudadana/",
        "/organizaciones/",
        organization.get_absolute_url(),
        "/gestion/entrar/",
    ]


def workspace_pages(project):
    return [
        "/gestion/",
        "/gestion/proyectos/",
        "/gestion/proyectos/nuevo/",
        f"/gestion/proyectos/{project.code}/",
        f"/gestion/proyectos/{project.code}/historial/",
    ]


def overflowing(page, base, urls):
    found = []
    for url in urls:
        page.goto(base + url)
        if page.evaluate(SCROLLS_SIDEWAYS):
            width = page.evaluate("document.documentElement.scrollWidth")
            found.append(f"{url}: {width}px")
    return found


@pytest.mark.parametrize("width", [320, 360])
def test_every_kind_of_page_fits_a_phone_without_sideways_scrolling(
    browser, live_server, published_project, org_a, org_b, coordinator, width
):
    # A contributions table with a long organization name: what stretched the project page to 507 px.
    org_b.name = "Organización de la Sociedad Civil con un Nombre Muy Largo para Probar, A.C."
    org_b.save()
    Participation.objects.create(project=published_project, organization=org_b, role="evaluator", amount=123456789)
    context = browser.new_context(locale="es-MX", viewport={"width": width, "height": 740})
    page = context.new_page()
    found = overflowing(page, live_server.url, public_pages(published_project, org_a))
    page.goto(live_server.url + "/gestion/entrar/")
    page.get_by_label("Usuario").fill("coordinador")
    page.get_by_label("Contraseña").fill("clave-de-prueba-123")
    page.get_by_role("button", name="Entrar").click()
    page.wait_for_url("**/gestion/")
    found += overflowing(page, live_server.url, workspace_pages(published_project))
    context.close()
    assert found == []


@pytest.fixture
def chess_catalogue(seeded, org_a, ficosec_org):
    """conftest's chess catalogue, committed for the live server (its shared, rolled-back version serves classes)."""
    return chess_projects(org_a, ficosec_org)


@pytest.mark.parametrize("width", [320, 360])
def test_an_uncounted_filter_group_and_its_note_fit_a_phone(
    browser,
    live_server,
    chess_catalogue,
    monkeypatch,
    width,
):
    """A word broader than the bound narrowed by a place: the chosen place's group lists it with no number and says
    why ("Sin cuentas…"); on a phone the note wraps inside the panel, read in full, and nothing scrolls sideways."""
    from projects import filters
    from projects.models import Project

    here = Project.objects.published().filter(municipalities__inegi_code="08037").count()
    assert here < Project.objects.published().search("ajedrez").count()
    monkeypatch.setattr(filters, "BROAD_SEARCH", here)  # the place alone within the bound; the word alone not
    context = browser.new_context(locale="es-MX", viewport={"width": width, "height": 740})
    page = context.new_page()
    page.goto(f"{live_server.url}/proyectos/?q=ajedrez&municipality=08037")
    page.locator("summary.filters__toggle").click()  # the filter panel, closed on a phone
    note = page.get_by_text("Sin cuentas:")
    assert note.is_visible()
    box = note.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= width
    assert not page.evaluate(SCROLLS_SIDEWAYS)
    context.close()
