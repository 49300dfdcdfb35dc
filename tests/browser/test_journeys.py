"""A visitor's journeys on the real links, in Debian's Chromium: paging a filtered list to the end and back,
downloading what the home page's search found, and filtering on a 360 px phone (with JavaScript off)."""

import csv
import io
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from axes.models import Axis

from ..conftest import make_project

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def many(org_a, org_b, ficosec_org):
    """45 published projects: 25 on axis 3 (two pages of 20), 20 on axis 1; Juárez for all."""
    for n in range(45):
        make_project(
            f"FIC-2024-{300 + n}",
            f"Proyecto {n:02d} de {'jóvenes' if n % 2 else 'policía'}",
            org_a if n % 3 else org_b,
            "published",
            ficosec=ficosec_org if n % 4 else None,
            axis=Axis.objects.get(number=3 if n < 25 else 1),
        )


def titles(page):
    return page.locator(".project-card__title a").all_inner_texts()


def shown_count(page):
    return int(re.match(r"(\d+) proyectos?", page.locator("#resultados-titulo").inner_text()).group(1))


def test_visitor_pages_a_filtered_list_to_the_last_page_and_back(page, live_server, many):
    page.goto(live_server.url + "/proyectos/?axis=corresponsabilidad-ciudadana")
    count, seen, first = shown_count(page), [], titles(page)
    assert count == 25
    while True:
        seen += titles(page)
        following = page.locator("a[rel=next]")
        if not following.count():
            break
        following.click()
        expect(page).to_have_url(re.compile(r"axis=corresponsabilidad-ciudadana.*page=\d|page=\d.*axis="))
    assert len(seen) == len(set(seen)) == count
    expect(page.get_by_text("Página 2 de 2")).to_be_visible()
    page.locator("a[rel=prev]").click()
    expect(page.get_by_text("Página 1 de 2")).to_be_visible()
    assert titles(page) == first and "axis=corresponsabilidad-ciudadana" in page.url


def test_visitor_downloads_what_the_home_search_found(page, live_server, many):
    page.goto(live_server.url + "/")
    page.get_by_label("Buscar proyectos").fill("jóvenes")
    page.get_by_role("button", name="Buscar").click()
    page.wait_for_url(re.compile(r"q=j"))
    count = shown_count(page)
    assert 0 < count < 45
    with page.expect_download() as download_info:
        page.get_by_role("link", name="CSV", exact=True).click()
    text = Path(download_info.value.path()).read_text(encoding="utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) == count and all("jóvenes" in row["título"] for row in rows)


def test_visitor_filters_on_a_phone_without_javascript(browser, live_server, many):
    context = browser.new_context(viewport={"width": 360, "height": 740}, locale="es-MX", java_script_enabled=False)
    page = context.new_page()
    page.goto(live_server.url + "/proyectos/")
    toggle = page.get_by_text("Filtros (0)")
    results = page.locator("#resultados-titulo")
    assert toggle.bounding_box()["y"] < results.bounding_box()["y"]  # the control comes before the results
    expect(page.get_by_role("link", name="Saltar a resultados")).to_be_visible()
    toggle.click()
    page.locator("summary", has_text="Eje estratégico").click()
    choice = page.get_by_label(re.compile(r"1\. Fortalecimiento"))
    assert page.locator("label", has=choice).bounding_box()["height"] >= 24  # WCAG 2.2 target size
    choice.check()
    assert page.url.endswith("/proyectos/")  # ticking a box reloads nothing
    page.get_by_role("button", name="Aplicar").last.click()
    page.wait_for_url(re.compile(r"axis=fortalecimiento"))
    assert shown_count(page) == 20
    expect(page.get_by_text("Filtros (1)")).to_be_visible()
    chips = page.get_by_role("list", name="Filtros activos")
    expect(chips).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    context.close()
