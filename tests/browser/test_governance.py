"""Governance journeys in Debian's Chromium: a coordinator records a session whose decision involves a declared
conflict without a recusal and sees the flag, then adds the recusal and the flag clears; a visitor on a phone reads
the governance page and the open-call share."""

from datetime import date

import pytest
from playwright.sync_api import expect

from projects.models import AwardDecision, CommitteeMember, ConflictDeclaration, Project

from ..conftest import make_project
from .test_staff import sign_in
from .test_visitor import shot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_coordinator_sees_the_conflict_flag_and_clears_it_with_a_recusal(browser, live_server, coordinator, org_a):
    project = make_project("FIC-2025-040", "Círculos de paz con vínculo declarado", org_a)
    project.award_decision.delete()
    member = CommitteeMember.objects.create(name="Consejera Fundadora", represents="Sector empresarial")
    ConflictDeclaration.objects.create(member=member, organization=org_a, tie="founder", declared_on=date(2020, 1, 1))
    context = browser.new_context(locale="es-MX")
    page = context.new_page()
    sign_in(page, live_server, "coordinador")
    page.get_by_role("link", name="Gobernanza").click()
    page.get_by_role("link", name="Nueva sesión").click()
    page.get_by_label("Órgano").select_option(label="Comité técnico")
    page.get_by_label("Fecha").fill("2025-04-02")
    page.locator("#id_asistencia-0-member").select_option(label="Consejera Fundadora")
    page.get_by_role("button", name="Guardar la sesión").click()
    page.get_by_role("link", name="Registrar una decisión").click()
    page.get_by_label("Proyecto").select_option(label=str(project))
    page.get_by_label("Forma de asignación").select_option(label="Asignación directa")
    page.get_by_label("Monto aprobado (MXN)").fill("800000")
    page.get_by_role("button", name="Guardar").click()
    expect(page.get_by_text("Conflicto no resuelto")).to_be_visible()
    shot(page, "governance-flag")
    page.get_by_role("button", name="Registrar la excusa de Consejera Fundadora").click()
    expect(page.get_by_text("Sin conflicto pendiente")).to_be_visible()
    expect(page.get_by_text("Conflicto no resuelto")).to_have_count(0)
    assert AwardDecision.objects.get(project=project).recusals.get().member == member
    context.close()


def test_a_visitor_on_a_phone_reads_the_governance_page_and_the_open_call_share(browser, live_server, org_a):
    project = make_project("FIC-2024-041", "Proyecto por convocatoria", org_a, Project.Publication.PUBLISHED)
    AwardDecision.objects.filter(project=project).update(method="direct")
    context = browser.new_context(viewport={"width": 360, "height": 740}, locale="es-MX")
    page = context.new_page()
    page.goto(live_server.url + "/")
    page.get_by_role("link", name="Gobernanza: cómo se eligen los proyectos").click()
    expect(page.get_by_role("heading", name="Asignación por convocatoria abierta, por año")).to_be_visible()
    expect(page.locator(".open-share").first).to_have_text("0 %")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 360, f"the page scrolls sideways ({width}px)"
    shot(page, "governance-360")
    context.close()
