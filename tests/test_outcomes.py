"""What a person gets, compared with what the page says, over the demo data: for each way of reaching a list of
projects (the home search box, the catalogue form, a shared link with each filter, an axis page, an organization
page) the count on the page = the rows of its CSV = the items of its JSON = the API's count for the same filters = the
projects met by following "Siguiente" to the end; and the totals on the page = the sum of the CSV's money."""

import csv
import io
import json
from decimal import Decimal
from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest
from django.conf import settings

from .pages import Page, shown_count, shown_money

pytestmark = pytest.mark.django_db

FILTERS = [
    "axis",
    "line",
    "region",
    "municipality",
    "status",
    "prevention_level",
    "population",
    "organization",
    "year",
    "award_type",
    "evidence_level",
]


def get(client, url):
    response = client.get(url)
    assert response.status_code == 200, f"{url}: {response.status_code}"
    body = b"".join(response.streaming_content) if response.streaming else response.content
    return body.decode("utf-8")


def open_page(client, url):
    return Page(get(client, url), url)


def csv_rows(client, url):
    return list(csv.DictReader(io.StringIO(get(client, url).removeprefix("\ufeff"))))


def money(rows, column):
    return sum((Decimal(row[column]) for row in rows if row[column]), Decimal("0"))


def projects_on_every_page(client, page):
    """The project links met by following rel=next from `page` to the last page."""
    seen, pages = [], 0
    while True:
        pages += 1
        seen += [link["href"] for link in page.links if ".project-card__title" in link["within"]]
        following = page.link(rel="next")
        if not following:
            return seen, pages
        page = open_page(client, page.absolute(following))


def api_count(client, list_url):
    query = [
        (k, v) for k, v in parse_qsl(urlsplit(list_url).query, keep_blank_values=True) if k not in ("orden", "page")
    ]
    response = client.get("/api/v1/projects/?" + urlencode(query + [("page_size", "1")]))
    assert response.status_code == 200, response.content
    return response.json()["count"]


def assert_list_delivers_what_it_says(client, url):
    page = open_page(client, url)
    count = shown_count(page)
    assert count > 0, f"{url} shows no project: choose another entry"
    total, ficosec = shown_money(page)

    rows = csv_rows(client, page.absolute(page.link(text="CSV")))
    items = json.loads(get(client, page.absolute(page.link(text="JSON"))))
    seen, pages = projects_on_every_page(client, page)

    assert len(rows) == count, f"{url}: the page says {count}, the CSV holds {len(rows)}"
    assert len(items) == count, f"{url}: the page says {count}, the JSON holds {len(items)}"
    assert api_count(client, page.url) == count, f"{url}: the API counts otherwise"
    assert len(seen) == count and len(set(seen)) == count, f"{url}: {pages} pages hold {len(seen)} projects"
    assert {row["url"].removeprefix(settings.PORTAL_URL.rstrip("/")) for row in rows} == set(seen)
    assert money(rows, "monto total MXN") == total
    assert money(rows, "monto FICOSEC MXN") == ficosec
    return count


@pytest.fixture
def demo(demo_data, db):
    return demo_data


def test_the_home_search_box_leads_to_a_list_that_delivers_what_it_says(client, demo):
    home = open_page(client, "/")
    box = next(form for form in home.forms if any(name == "q" for name, _value in form["fields"]))
    assert assert_list_delivers_what_it_says(client, home.submit(box, q="jóvenes")) > 0


def test_the_catalogue_form_submitted_with_filters_delivers_what_it_says(client, demo):
    catalogue = open_page(client, "/proyectos/")
    form = next(form for form in catalogue.forms if "municipality" in form["choices"])
    url = catalogue.submit(form, municipality="08037", status=form["choices"]["status"][0])
    assert assert_list_delivers_what_it_says(client, url) > 0


@pytest.mark.parametrize("name", FILTERS)
def test_a_shared_link_with_each_filter_delivers_what_it_says(client, demo, name):
    catalogue = open_page(client, "/proyectos/")
    form = next(form for form in catalogue.forms if "municipality" in form["choices"])
    value = form["choices"][name][0]  # the first value the page offers, which has at least one project
    assert assert_list_delivers_what_it_says(client, f"/proyectos/?{urlencode({name: value})}") > 0


def test_the_whole_catalogue_pages_to_the_end_and_delivers_what_it_says(client, demo):
    assert assert_list_delivers_what_it_says(client, "/proyectos/") > 20  # more than one page


def test_an_axis_page_counts_what_its_pages_and_its_catalogue_link_deliver(client, demo):
    axis = open_page(client, "/ejes/corresponsabilidad-ciudadana/")
    count = shown_count(axis)
    seen, pages = projects_on_every_page(client, axis)
    assert pages > 1 and len(set(seen)) == len(seen) == count
    catalogue = axis.absolute(axis.link(text="Buscar y filtrar los proyectos de este eje"))
    assert assert_list_delivers_what_it_says(client, catalogue) == count
    assert shown_money(open_page(client, catalogue)) == shown_money(axis)


def test_an_organization_page_counts_what_its_catalogue_link_delivers(client, demo):
    organization = open_page(client, "/organizaciones/casa/")
    count = shown_count(organization)
    catalogue = organization.absolute(
        organization.link(text="Ver estos proyectos en el catálogo para filtrarlos y descargarlos")
    )
    assert assert_list_delivers_what_it_says(client, catalogue) == count
    assert shown_money(open_page(client, catalogue)) == shown_money(organization)


def test_the_home_headline_adds_up_the_whole_catalogue(client, demo):
    home, catalogue = open_page(client, "/"), open_page(client, "/proyectos/")
    assert shown_count(home) == shown_count(catalogue)
    assert shown_money(home) == shown_money(catalogue)


def test_an_organization_page_lists_on_its_pages_every_project_it_counts(client, demo):
    """The page is paged (FICOSEC takes part in most projects): following 'Siguiente' to the end meets each project
    the totals count, once."""
    from projects.models import Organization, Project

    busiest = max(
        Organization.objects.all(),
        key=lambda o: Project.objects.published().filter(organization_ids__contains=[o.pk]).count(),
    )
    page = open_page(client, f"/organizaciones/{busiest.slug}/")
    count, seen, pages = shown_count(page), [], 0
    while page:
        pages += 1
        seen += [
            link["href"]
            for link in page.links
            if link["href"].startswith("/proyectos/") and "?" not in link["href"] and link["href"] != "/proyectos/"
        ]
        following = page.link(rel="next")
        page = open_page(client, page.absolute(following)) if following else None
    assert count > 20 and pages == -(-len(seen) // 20), (count, len(seen), pages)  # 20 rows a page, the last one too
    assert len(set(seen)) == count  # a row per role: a project is counted once
