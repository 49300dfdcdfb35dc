"""Money journeys in Debian's Chromium: an editor uploads a CFDI and sees it counted, the same file on another project
is refused with a link to the first, and the public money page reads on a phone without sideways scrolling."""

from datetime import date
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from projects.models import Commitment, ExpenseProof

from ..conftest import make_project
from ..test_money import invoice
from .test_staff import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def two_ledgers(org_a, org_b, ficosec_org):
    first = make_project("FIC-2024-001", "Jóvenes constructores de paz", org_a, "published", ficosec=ficosec_org)
    second = make_project("FIC-2024-003", "Policía de proximidad", org_b, "published", ficosec=ficosec_org)
    paid = []
    for project, organization in ((first, org_a), (second, org_b)):
        commitment = Commitment.objects.create(
            project=project, organization=ficosec_org, amount=Decimal("100000.00"), date=date(2024, 1, 15)
        )
        paid.append(commitment.disburse(Decimal("50000.00"), organization, date(2024, 2, 1), date(2024, 2, 2)))
    return first, second, paid


def test_an_editor_uploads_a_cfdi_sees_it_counted_and_the_same_file_elsewhere_is_refused(
    browser, live_server, editor, two_ledgers, tmp_path
):
    first, second, _paid = two_ledgers
    xml = tmp_path / "factura.xml"
    xml.write_bytes(invoice("navegador", total="11600.00"))
    page = browser.new_context(locale="es-MX").new_page()
    sign_in(page, live_server, "editora")
    page.goto(f"{live_server.url}/gestion/proyectos/{first.code}/dinero/")
    page.get_by_label("Archivo XML del CFDI").set_input_files(str(xml))
    page.get_by_label("Ministración a la que se carga").select_option(index=1)
    page.get_by_role("button", name="Cargar CFDI").click()
    expect(page.locator('[data-measure="proven"]').first).to_have_text("$11,600.00")
    expect(page.locator("#tabla-cfdi")).to_contain_text(str(ExpenseProof.objects.get()))

    page.goto(f"{live_server.url}/gestion/proyectos/{second.code}/dinero/")
    page.get_by_label("Archivo XML del CFDI").set_input_files(str(xml))
    page.get_by_label("Ministración a la que se carga").select_option(index=1)
    page.get_by_role("button", name="Cargar CFDI").click()
    expect(page.get_by_role("alert")).to_contain_text("ya está registrado")
    page.get_by_role("alert").get_by_role("link", name=first.code).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(first.code)
    assert ExpenseProof.objects.get().charges.count() == 1


def test_the_money_page_reads_on_a_phone_without_sideways_scrolling(browser, live_server, two_ledgers):
    context = browser.new_context(viewport={"width": 360, "height": 740}, locale="es-MX")
    page = context.new_page()
    page.goto(live_server.url + "/")
    page.get_by_role("link", name="¿A dónde va el dinero?").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("¿A dónde va el dinero?")
    expect(page.locator('#totales [data-measure="paid"]')).to_have_text("$100,000.00")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 360, f"the page scrolls sideways ({width}px)"
    context.close()
