"""The public catalogue over HTTP: filters, facets, ordering, search, downloads, figures and the no-leak rule."""

import csv
import io
import json
import re
import threading
from datetime import date
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.db import connection, transaction
from django.urls import reverse
from django.utils import timezone

from axes.models import Axis, Line
from projects import geo
from projects.models import AwardDecision, Municipality, Organization, Participation, Project
from projects.models.projects import project_history

from .conftest import make_project
from .pages import Page, shown_cards, shown_count

pytestmark = pytest.mark.django_db

LEAK_MARKERS = ["Borrador secreto", "Proyecto en revisión", "Proyecto archivado", "Borrador ajeno", "NOTA-INTERNA"]


@pytest.fixture
def every_state(published_project, draft_project, review_project, archived_project, other_draft):
    return published_project


def cards(response):
    """[(code, title)] of the cards the page shows, as a visitor reads them (cached or drawn afresh)."""
    return shown_cards(Page(response.content.decode()))


def codes(response):
    return [code for code, _title in cards(response)]


def count(response):
    return shown_count(Page(response.content.decode()))


def download(client, fmt, query=""):
    response = client.get(reverse("project_download", args=[fmt]) + query)
    assert response.status_code == 200
    return b"".join(response.streaming_content).decode("utf-8")


# --- Nobody sees what they should not --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "/",
        "/proyectos/",
        "/proyectos/?q=proyecto",
        "/proyectos/?q=borrador",
        "/ejes/",
        "/ejes/corresponsabilidad-ciudadana/",
        "/organizaciones/",
        "/sitemap.xml",
        "/proyectos/descarga.csv",
        "/proyectos/descarga.json",
    ],
)
def test_visitor_never_sees_drafts_reviews_archived_projects_or_internal_notes(client, every_state, url):
    response = client.get(url)
    body = b"".join(response.streaming_content) if response.streaming else response.content
    text = body.decode("utf-8")
    assert response.status_code == 200
    for marker in LEAK_MARKERS:
        assert marker not in text, f"{marker} leaked on {url}"


@pytest.mark.parametrize("fixture", ["draft_project", "review_project", "archived_project"])
def test_a_non_public_project_url_answers_404(client, request, fixture):
    project = request.getfixturevalue(fixture)
    assert client.get(project.get_absolute_url()).status_code == 404


def test_the_public_project_page_shows_its_facts_but_not_its_internal_notes(client, published_project):
    response = client.get(published_project.get_absolute_url())
    text = response.content.decode()
    assert response.status_code == 200
    assert "Jóvenes constructores de paz" in text and "$1,250,000.00" in text and "Juárez" in text
    assert "0.25 pesos de otras fuentes por cada peso de FICOSEC" in text
    assert "NOTA-INTERNA" not in text


def test_facets_and_totals_count_published_projects_only(client, every_state):
    response = client.get("/proyectos/")
    axis_facet = dict((value, count) for value, _label, count, _sel in response.context["facets"]["axis"])
    assert axis_facet == {"corresponsabilidad-ciudadana": 1}
    home = client.get("/")
    third = next(row for row in home.context["figures"]["axes"] if row["axis"].number == 3)
    assert (third["projects"], third["money"]) == (1, Decimal("1250000.00"))


def test_an_organization_with_only_non_public_projects_is_not_listed(client, every_state, org_b):
    assert org_b.name not in client.get("/organizaciones/").content.decode()
    assert client.get(org_b.get_absolute_url()).status_code == 404


# --- Filters ---------------------------------------------------------------------------------------------------


@pytest.fixture
def catalogue(db, org_a, org_b, ficosec_org):
    """Four published projects that differ on every filter dimension."""
    delicias = Municipality.objects.get(inegi_code="08021")
    first = make_project("FIC-2021-010", "Mediación escolar en Juárez", org_a, "published", ficosec=ficosec_org)
    second = make_project(
        "FIC-2022-011",
        "Policía de proximidad en Delicias",
        org_b,
        "published",
        axis=Axis.objects.get(number=1),
        status="completed",
        prevention_level="primary",
        populations=["police"],
        planned_start=date(2022, 2, 1),
        planned_end=date(2022, 11, 30),
        award_type="direct",
        call_name="",
        evidence_level="effective",
    )
    second.municipalities.set([delicias])
    second.lines.set([Line.objects.get(number=4)])
    Participation.objects.create(project=second, organization=ficosec_org, role="funder", amount=Decimal("5000000"))
    third = make_project(
        "FIC-2023-012",
        "Observatorio de violencia familiar",
        org_b,
        "published",
        axis=Axis.objects.get(number=2),
        planned_start=date(2023, 1, 1),
        planned_end=date(2023, 12, 31),
        populations=["women", "families"],
    )
    fourth = make_project(
        "FIC-2020-013",
        "Atención a víctimas en la familia",
        org_a,
        "published",
        axis=Axis.objects.get(number=2),
        planned_start=date(2020, 5, 1),
        planned_end=date(2021, 4, 30),
        status="cancelled",
        populations=["women"],
    )
    for project in (first, second, third, fourth):
        project.refresh_derived()
    return {"first": first, "second": second, "third": third, "fourth": fourth}


@pytest.mark.parametrize(
    "query, expected",
    [
        ("axis=fortalecimiento-institucional", ["FIC-2022-011"]),
        (
            "axis=evaluar-medir-monitorear&axis=fortalecimiento-institucional",
            ["FIC-2020-013", "FIC-2022-011", "FIC-2023-012"],
        ),
        ("line=capacidades-institucionales", ["FIC-2022-011"]),
        ("region=delicias", ["FIC-2022-011"]),
        ("region=juarez", ["FIC-2020-013", "FIC-2021-010", "FIC-2023-012"]),
        ("municipality=08021", ["FIC-2022-011"]),
        ("status=completed", ["FIC-2022-011"]),
        ("status=cancelled&status=completed", ["FIC-2020-013", "FIC-2022-011"]),
        ("prevention_level=primary", ["FIC-2022-011"]),
        ("population=police", ["FIC-2022-011"]),
        ("population=families", ["FIC-2023-012"]),
        ("organization=beta", ["FIC-2022-011", "FIC-2023-012"]),
        ("year=2021", ["FIC-2020-013"]),
        ("year=2023", ["FIC-2023-012"]),
        ("award_type=direct", ["FIC-2022-011"]),
        ("award_type=open_call&axis=evaluar-medir-monitorear", ["FIC-2020-013", "FIC-2023-012"]),
        ("evidence_level=effective", ["FIC-2022-011"]),
        ("region=delicias&axis=corresponsabilidad-ciudadana", []),
    ],
)
def test_every_filter_narrows_the_list(client, catalogue, query, expected):
    response = client.get(f"/proyectos/?{query}&orden=titulo")
    assert response.status_code == 200
    assert sorted(codes(response)) == expected


def test_facet_counts_tell_how_many_results_each_value_would_give(client, catalogue):
    response = client.get("/proyectos/?axis=evaluar-medir-monitorear")
    facets = {
        name: {value: count for value, _label, count, _sel in values}
        for name, values in response.context["facets"].items()
    }
    # Within the active dimension, counts ignore its own filter (choosing another axis adds to the list)...
    assert facets["axis"] == {
        "fortalecimiento-institucional": 1,
        "evaluar-medir-monitorear": 2,
        "corresponsabilidad-ciudadana": 1,
    }
    # ...other dimensions count within the current results.
    assert facets["status"] == {"in_progress": 1, "cancelled": 1}
    assert facets["population"] == {"women": 2, "families": 1}
    assert facets["municipality"] == {"08037": 2}
    assert facets["organization"] == {"alfa": 1, "beta": 1}
    for value, count in facets["status"].items():
        assert len(codes(client.get(f"/proyectos/?axis=evaluar-medir-monitorear&status={value}"))) == count


def test_active_filters_are_listed_and_each_removes_itself_in_one_click(client, catalogue):
    response = client.get("/proyectos/?axis=evaluar-medir-monitorear&status=cancelled")
    chips = response.context["active"]
    assert [(label, value) for label, value, _rest in chips] == [
        ("Eje estratégico", "2. Evaluar, medir y monitorear la acción de gobierno en seguridad y justicia"),
        ("Estado del proyecto", "Cancelado"),
    ]
    without_status = client.get(f"/proyectos/?{chips[1][2]}")
    assert sorted(codes(without_status)) == ["FIC-2020-013", "FIC-2023-012"]


def test_an_organization_chip_reads_only_the_chosen_organization(client, catalogue, org_b):
    """The chip's label comes from the chosen row: no query reads the whole directory (every organization
    checked against the published projects: 170 ms for FICOSEC at 100,000 projects)."""
    from django.test.utils import CaptureQueriesContext

    cache.clear()
    with CaptureQueriesContext(connection) as captured:
        response = client.get(f"/proyectos/?organization={org_b.slug}&status=cancelled")
    assert ("Organización", str(org_b)) in [(str(label), value) for label, value, _rest in response.context["active"]]
    directory = [
        q["sql"]
        for q in captured.captured_queries
        if 'FROM "projects_organization"' in q["sql"]
        and not re.search(r'"projects_organization"\."(slug|id)" (IN|=)', q["sql"])
    ]
    assert directory == []


# --- Ordering and search -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "order, expected",
    [
        ("monto", ["FIC-2022-011", "FIC-2021-010", "FIC-2020-013", "FIC-2023-012"]),
        ("titulo", ["FIC-2020-013", "FIC-2021-010", "FIC-2023-012", "FIC-2022-011"]),
    ],
)
def test_the_list_orders_by_money_and_title(client, catalogue, order, expected):
    assert codes(client.get(f"/proyectos/?orden={order}")) == expected


def test_the_list_orders_by_newest_publication(client, catalogue):
    Project.objects.filter(pk=catalogue["third"].pk).update(published_at="2030-01-01T00:00:00Z")
    assert codes(client.get("/proyectos/?orden=recientes"))[0] == "FIC-2023-012"


def test_search_ranks_the_title_match_first(client, catalogue):
    assert codes(client.get("/proyectos/?q=observatorio violencia"))[0] == "FIC-2023-012"


@pytest.mark.parametrize(
    "query, expected_code",
    [
        ("joven", "FIC-2021-010"),
        ("policia", "FIC-2022-011"),
        ("POLICÍA", "FIC-2022-011"),
        ("violencia familiar", "FIC-2023-012"),
        ("mediacion", "FIC-2021-010"),
        ("delicias", "FIC-2022-011"),
        ("beta", "FIC-2022-011"),
    ],
)
def test_search_ignores_accents_and_case_and_stems_spanish(client, catalogue, query, expected_code):
    Project.objects.filter(pk=catalogue["first"].pk).update(summary="Programa con jóvenes de secundaria.")
    assert expected_code in codes(client.get("/proyectos/", {"q": query}))


def test_violencia_familiar_finds_violencia_en_la_familia(client, catalogue):
    assert "FIC-2020-013" not in codes(client.get("/proyectos/", {"q": "violencia familiar"}))
    edit_summary = dict(summary="Atención a la violencia en la familia.", updated_at=timezone.now())  # as saves do
    Project.objects.filter(pk=catalogue["fourth"].pk).update(**edit_summary)
    assert "FIC-2020-013" in codes(client.get("/proyectos/", {"q": "violencia familiar"}))


def test_search_is_served_by_the_gin_index(catalogue):
    query = Project.objects.search("violencia familiar")
    with connection.cursor() as cursor:
        # The test table is tiny: forbid the plans that only win on tiny tables, as a big table would.
        cursor.execute("SET enable_seqscan = off; SET enable_indexscan = off")
        sql, params = query.query.sql_with_params()
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
        cursor.execute("RESET enable_seqscan; RESET enable_indexscan")
    assert "project_search_gin" in plan


# --- Bad input never breaks a page ----------------------------------------------------------------------------------


def test_a_search_broader_than_the_bound_is_listed_newest_first_without_counting_everything(
    client, catalogue, monkeypatch
):
    from projects import filters

    narrow = client.get("/proyectos/?q=resumen")
    assert narrow.context["order"] == "relevance" and narrow.context["facets"]
    monkeypatch.setattr(filters, "BROAD_SEARCH", 1)  # the one home of the rule, shared with the API
    response = client.get("/proyectos/?q=resumen&orden=relevancia&x=1")  # another URL: not the cached fragment
    assert response.status_code == 200
    assert response.context["broad"] and response.context["order"] == "-published_at"
    assert (
        codes(response)
        == list(
            Project.objects.published()
            .search("resumen")
            .order_by("-published_at", "-pk")
            .values_list("code", flat=True)
        )[:2]
    )  # listed up to the bound + 1
    text = response.content.decode()
    assert "Más de 1 proyectos" in text and "La búsqueda es muy amplia" in text


@pytest.mark.parametrize(
    "query",
    [
        "axis=no-existe",
        "page=9999",
        "page=-1",
        "page=abc",
        "year=dos-mil",
        "year=1800",
        "municipality=99999",
        "q=" + "x" * 5000,
        "orden=drop%20table",
        "status=nope",
        "q=a:*b%20%26%20!",
        "updated_since=ayer",
    ],
)
def test_bad_query_parameters_get_a_friendly_page_never_a_500(client, catalogue, query):
    response = client.get(f"/proyectos/?{query}")
    assert response.status_code == 200
    assert "<h1>Proyectos</h1>" in response.content.decode()


def test_an_invalid_filter_explains_itself_in_spanish(client, catalogue):
    text = client.get("/proyectos/?year=dos-mil").content.decode()
    assert "Algunos filtros no son válidos" in text and "Año" in text


def test_a_download_with_invalid_filters_answers_400(client, catalogue):
    assert client.get("/proyectos/descarga.csv?year=nunca").status_code == 400


# --- Downloads ------------------------------------------------------------------------------------------------------


def test_csv_download_holds_exactly_the_filtered_list_and_opens_in_excel(client, catalogue):
    text = download(client, "csv", "?axis=evaluar-medir-monitorear")
    assert text.startswith("\ufeff")
    rows = list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))
    assert sorted(row["clave"] for row in rows) == ["FIC-2020-013", "FIC-2023-012"]
    assert rows[0]["eje"].startswith("Evaluar")
    assert "NOTA-INTERNA" not in text


def test_json_download_holds_exactly_the_filtered_list(client, catalogue):
    data = json.loads(download(client, "json", "?region=delicias"))
    assert [row["code"] for row in data] == ["FIC-2022-011"]
    assert data[0]["municipalities"] == ["Delicias"] and data[0]["total_amount"] == "5250000.00"


def test_csv_cells_cannot_run_as_spreadsheet_formulas(client, catalogue):
    Project.objects.filter(pk=catalogue["first"].pk).update(title='=HYPERLINK("http://evil","clic")')
    text = download(client, "csv")
    assert "'=HYPERLINK" in text and "\n=HYPERLINK" not in text


# --- Figures --------------------------------------------------------------------------------------------------------


def test_home_figures_are_right_immediately_after_a_publish(client, catalogue, review_project, coordinator):
    def third_axis():
        return next(row for row in client.get("/").context["figures"]["axes"] if row["axis"].number == 3)

    before = third_axis()
    review_project.transition("published", coordinator)
    after = third_axis()
    assert after["projects"] == before["projects"] + 1
    assert after["money"] == before["money"] + review_project.total_amount


def test_home_figures_are_cached_between_requests(client, catalogue, django_assert_max_num_queries):
    client.get("/")
    # freshness stamp, latest projects, their municipalities, the counting index brought up to date (projects.facets)
    with django_assert_max_num_queries(4):
        client.get("/")


# --- Query counts ---------------------------------------------------------------------------------------------------


def list_queries(client):
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        assert client.get("/proyectos/?axis=corresponsabilidad-ciudadana").status_code == 200
    return len(captured)


def test_the_list_page_query_count_does_not_grow_with_the_results(
    client, org_a, ficosec_org, django_assert_num_queries
):
    make_project("FIC-2024-100", "Uno", org_a, "published", ficosec=ficosec_org)
    geo.municipalities()  # reference data, cached for a day
    one = list_queries(client)
    for n in range(101, 125):
        make_project(f"FIC-2024-{n}", f"Proyecto {n}", org_a, "published")
    many = list_queries(client)
    # freshness stamp; the axis filter's value checked (2); the counting index brought up to date: its changes, and
    # the changed projects re-read (projects.facets; 2; here, in the test's own transaction, built afresh: the
    # rows and the statistics of the search words, 2); page rows, municipalities of the page; the axes, lines,
    # regions, municipalities and organizations named in the facets (5). The active filter's label is the row the
    # filter checked: it asks nothing more.
    assert one == many
    assert many == 13


def test_the_project_page_query_count_does_not_grow_with_indicators(
    client, published_project, django_assert_num_queries
):
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as first:
        client.get(published_project.get_absolute_url())
    for n in range(5):
        indicator = published_project.indicators.create(name=f"Indicador {n}", unit="personas", target=10)
        indicator.measurements.create(date=date(2024, 6, 30), value=n)
    with CaptureQueriesContext(connection) as second:
        client.get(published_project.get_absolute_url())
    assert len(first) == len(second)


# --- Language -------------------------------------------------------------------------------------------------------


def test_the_language_switch_keeps_the_page_and_shows_english(client, published_project):
    response = client.post(
        "/i18n/setlang/", {"language": "en", "next": "/proyectos/?axis=corresponsabilidad-ciudadana"}
    )
    # English lives at its own address (/en/...), with the page and its query string kept.
    assert response.status_code == 302
    assert response["Location"] == "/en/proyectos/?axis=corresponsabilidad-ciudadana"
    english = client.get(response["Location"]).content.decode()
    assert 'lang="en"' in english and "Projects" in english and "Skip to content" in english
    # and back: the English page's switch links to the Spanish address of the same page
    assert 'href="http://testserver/proyectos/?axis=corresponsabilidad-ciudadana" hreflang="es-MX"' in english
    assert "Saltar al contenido" in client.get("/").content.decode()


def test_a_cached_catalogue_page_is_kept_apart_per_language(client, catalogue):
    """The catalogue's cached fragment is per language: the English page drawn after the Spanish one (and the
    Spanish one served again from the cache) each read in their own language, headings and facet labels alike."""
    cache.clear()
    axis = Axis.objects.get(number=1)
    spanish_label, english_label = f"1. {axis.name}", f"1. {axis.name_en}"
    assert axis.name_en and axis.name_en != axis.name
    spanish = client.get("/proyectos/?status=completed").content.decode()
    assert spanish_label in spanish and english_label not in spanish and "1 proyecto" in spanish
    again, english = drawn_again(client, "/en/proyectos/?status=completed")
    assert again and english_label in english and spanish_label not in english and "1 project" in english
    again, spanish_again = drawn_again(client, "/proyectos/?status=completed")
    assert not again and spanish_label in spanish_again and english_label not in spanish_again  # from the cache
    again, english_again = drawn_again(client, "/en/proyectos/?status=completed")
    assert not again and english_label in english_again and spanish_label not in english_again


def test_sitemap_and_robots_point_at_public_pages_only(client, every_state):
    sitemap = client.get("/sitemap.xml").content.decode()
    assert every_state.get_absolute_url() in sitemap and "/gestion/" not in sitemap
    robots = client.get("/robots.txt").content.decode()
    assert "Disallow: /gestion/" in robots and "sitemap.xml" in robots


def test_missing_pages_answer_404_in_spanish(client):
    response = client.get("/no-existe/")
    assert response.status_code == 404 and "No encontramos esta página" in response.content.decode()


def test_a_deleted_project_leaves_the_cached_pages_at_once_even_when_it_was_not_the_newest(client, catalogue):
    """The pages are cached under the time of the newest change to any project: a deletion is such a change (the
    catalogue's change log records it) although no remaining row is newer than before."""
    oldest = Project.objects.published().order_by("updated_at").first()
    for url in ("/proyectos/", "/", f"/proyectos/?q={oldest.title.split()[0]}"):
        assert oldest.title in client.get(url).content.decode(), url  # cached with it
    shown = count(client.get("/proyectos/"))
    newest = Project.objects.order_by("-updated_at").values_list("updated_at", flat=True).first()
    AwardDecision.objects.filter(project=oldest).delete()  # protected: an administrator removes it first
    oldest.delete()
    assert Project.objects.order_by("-updated_at").values_list("updated_at", flat=True).first() == newest
    for url in ("/proyectos/", f"/proyectos/?q={oldest.title.split()[0]}"):
        assert oldest.title not in client.get(url).content.decode(), url
    assert f"{shown - 1} proyectos" in client.get("/proyectos/").content.decode()


# --- The catalogue page's cache: dropped when what it shows changes, and only then --------------------------------


def edit_title(project, title):
    """A title edit as every write path leaves it: a new title and a newer updated_at."""
    from django.utils import timezone

    Project.objects.filter(pk=project.pk).update(title=title, updated_at=timezone.now())


def drawn_again(client, url):
    """(whether the page was computed again, its body): a page kept in the cache asks nothing of the catalogue."""
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        body = client.get(url).content.decode()
    return any("pg_snapshot_xmin" in q["sql"] for q in captured.captured_queries), body


def test_a_kept_catalogue_page_is_sent_whole_and_apart_per_host_and_for_signed_in_visitors(
    client, catalogue, editor, settings, django_assert_num_queries, monkeypatch
):
    """A page still shown as drawn is sent as it was: one query (the catalogue's version and the listed projects' newest
    edit), no template. The language links name the host, and a signed-in visitor's menu has the staff link: each is
    kept apart, and no copy outlives the build that drew it. A visitor with a message to read gets a page of their
    own, kept for nobody."""
    from django.contrib.messages import get_messages
    from django.contrib.messages.storage.fallback import FallbackStorage
    from django.contrib.sessions.backends.db import SessionStore
    from django.test import RequestFactory

    from projects import figures

    settings.ALLOWED_HOSTS = ["testserver", "otro.example"]
    url = "/proyectos/?municipality=08021"
    drawn = client.get(url)
    with django_assert_num_queries(1):
        kept = client.get(url)
    assert kept.content == drawn.content and not kept.templates  # sent as drawn: no template rendered
    assert codes(kept) and ">Gestión</a>" not in kept.content.decode()
    monkeypatch.setattr(figures, "_build", lambda: "otra-version")  # a deployment: new templates or static files
    assert client.get(url).templates
    monkeypatch.undo()
    elsewhere = client.get(url, HTTP_HOST="otro.example").content.decode()
    assert 'href="http://otro.example/en/proyectos/?municipality=08021"' in elsewhere
    assert "http://testserver/" not in elsewhere
    client.force_login(editor)
    staff = client.get(url)
    assert ">Gestión</a>" in staff.content.decode() and codes(staff) == codes(kept)
    client.logout()
    assert ">Gestión</a>" not in client.get(url).content.decode()

    request = RequestFactory().get(url)
    request.user, request.session = editor, SessionStore()
    request._messages = FallbackStorage(request)
    assert figures.page_key(request, "g")
    request._messages.add(20, "Guardado.")
    assert figures.page_key(request, "g") is None and len(get_messages(request)) == 1  # (not read: still to show)


def test_a_save_that_changes_nothing_shown_keeps_every_cached_page_whatever_order_its_rows_are_read_in(
    client, published_project, org_b
):
    """The derived search text lists a project's organizations in the order they were added: a participation row
    rewritten (which moves it in the table) reads back in another order, and a refresh of the project then wrote
    another text, logged as a change of what the catalogue counts: every cached page was drawn again."""
    from projects import figures

    zeta = Organization.objects.create(name="Zeta Asociación Civil", acronym="ZAC", kind="osc")
    first = Participation.objects.create(project=published_project, organization=zeta, role="funder", amount=1)
    Participation.objects.create(project=published_project, organization=org_b, role="funder", amount=1)
    Project.objects.filter(pk=published_project.pk).refresh_derived()
    written = Project.objects.values_list("search_organizations", flat=True).get(pk=published_project.pk)
    assert written.index("Zeta") < written.index(org_b.name)
    version = figures.catalogue_version()
    other = "/proyectos/?municipality=08019"  # a page that does not list the project
    client.get(other)
    Participation.objects.filter(pk=first.pk).update(note="Reescrita")  # (a new row version, last in the table)
    Project.objects.filter(pk=published_project.pk).refresh_derived()
    assert Project.objects.values_list("search_organizations", flat=True).get(pk=published_project.pk) == written
    assert figures.catalogue_version() == version and drawn_again(client, other)[0] is False


def test_a_title_edit_redraws_the_pages_that_list_the_project_and_no_other(client, catalogue):
    cache.clear()
    edited = Project.objects.get(code="FIC-2022-011")  # axis 1, Delicias
    other = "/proyectos/?axis=evaluar-medir-monitorear"  # does not list it
    listing = "/proyectos/?municipality=08021"
    for url in (other, listing, "/proyectos/"):
        client.get(url)
    assert drawn_again(client, other)[0] is False and drawn_again(client, listing)[0] is False  # cached
    edit_title(edited, "Policía de barrio en Delicias")
    assert drawn_again(client, other)[0] is False  # it does not show the project: kept
    for url in (listing, "/proyectos/"):
        again, body = drawn_again(client, url)
        assert again and ">Policía de barrio en Delicias</a>" in body, url
        assert ">Policía de proximidad en Delicias</a>" not in body, url


def test_a_search_page_follows_an_edit_that_adds_or_removes_a_match_it_does_not_list(client, catalogue, monkeypatch):
    """A search depends on the text of projects it does not list: its count moves at once when an edit makes one
    match, or stops one matching (a match on a later page), and a page is kept through an edit of no match."""
    from projects.views import public

    monkeypatch.setattr(public, "PAGE_SIZE", 1)  # one project per page: the matches beyond it are not listed
    cache.clear()
    url = "/proyectos/?q=familia"
    first = client.get(url)
    matched = count(first)
    assert matched >= 2
    unrelated = Project.objects.get(code="FIC-2022-011")
    edit_title(unrelated, "Policía de proximidad en Delicias, segunda etapa")  # matches neither before nor after
    assert drawn_again(client, url)[0] is False
    edit_title(unrelated, "Policía de proximidad y familia en Delicias")  # now it matches
    again, body = drawn_again(client, url)
    assert again and count(client.get(url)) == matched + 1
    listed = codes(client.get(url))[0]
    later = Project.objects.published().search("familia").exclude(code=listed).exclude(pk=unrelated.pk).first()
    Project.objects.filter(pk=later.pk).update(description="<p>Otro texto.</p>", summary="Otro resumen.")
    edit_title(later, "Observatorio sin la palabra")
    again, body = drawn_again(client, url)  # the HTML itself, not the context (computed afresh on every request)
    assert again and f"{Project.objects.published().search('familia').count()} proyecto" in body


def saved(project, **fields):
    """An edit saved as the staff form, the API and the importer save it (Project.save_edit: the version check, a
    version in its history, then the derived columns refreshed)."""
    project.refresh_from_db()
    for name, value in fields.items():
        setattr(project, name, value)
    return project.save_edit(None, project.version)


def fresh(client, url):
    """The page's list as the database gives it now (nothing cached): [(code, title)]."""
    cache.clear()
    return cards(client.get(url))


def test_a_broad_search_is_kept_through_edits_that_leave_its_matches_and_redrawn_when_they_change(
    client, catalogue, monkeypatch
):
    """A search broader than the bound never reads all its matches, so whether an edited project it does not list
    matched then is read from the project's history: kept when the edit leaves the matches as they were (the list,
    newest first, and its count are the same), redrawn when a project starts or stops matching."""
    from projects import filters
    from projects.views import public

    monkeypatch.setattr(public, "PAGE_SIZE", 1)
    monkeypatch.setattr(filters, "BROAD_SEARCH", 1)  # two matches of «familia»: broader than the bound
    cache.clear()
    url = "/proyectos/?q=familia"
    first = client.get(url)
    assert first.context["broad"] and len(first.context["page"]) == 1
    listed = first.context["page"][0].code
    unlisted = Project.objects.published().search("familia").exclude(code=listed).get()
    saved(unlisted, title=f"{unlisted.title} (segunda etapa)")  # still a match
    again, body = drawn_again(client, url)
    assert not again and f">{unlisted.title} (segunda etapa)</a>" not in body
    assert cards(client.get(url)) == fresh(client, url)

    client.get(url)
    mediation = Project.objects.get(code="FIC-2021-010")
    saved(mediation, title="Mediación escolar y familiar en Juárez")  # starts matching
    assert drawn_again(client, url)[0]
    client.get(url)
    saved(mediation, title="Mediación escolar en Juárez")  # stops matching
    again, body = drawn_again(client, url)
    assert again and cards(client.get(url)) == fresh(client, url)


def test_a_ranked_search_is_redrawn_when_an_unlisted_match_changes_relevance_and_kept_otherwise(
    client, catalogue, monkeypatch
):
    """A search within the bound is ranked by relevance: an edit of a match it does not list is kept when the match
    is as relevant as before (a word added that is not searched), and redrawn when its relevance moves (the word
    now in its title), in the order the database gives."""
    from projects.views import public

    monkeypatch.setattr(public, "PAGE_SIZE", 1)
    cache.clear()
    url = "/proyectos/?q=familia"
    first = client.get(url)
    assert not first.context["broad"] and first.context["page"].paginator.count == 2 == count(first)
    unlisted = Project.objects.published().search("familia").exclude(code=codes(first)[0]).get()
    saved(unlisted, summary=f"{unlisted.summary} Con talleres.")
    assert drawn_again(client, url)[0] is False
    before = fresh(client, url)
    saved(unlisted, title=f"Familia: {unlisted.title}")
    again, body = drawn_again(client, url)
    assert again and cards(client.get(url)) == fresh(client, url)
    assert fresh(client, url) != before  # the retitled match moved up to the first page


def test_a_search_is_redrawn_when_an_edited_project_has_no_version_recorded_before_the_page(client, catalogue):
    """What a project's text said when the page was drawn is read from its history: a project written without one
    (a bulk load) redraws the searches when it is edited, whatever the edit."""
    cache.clear()
    url = "/proyectos/?q=familia"
    unrelated = Project.objects.get(code="FIC-2021-010")
    project_history().objects.filter(id=unrelated.pk).delete()
    client.get(url)
    saved(unrelated, summary="Otro resumen.")
    assert drawn_again(client, url)[0]
    saved(unrelated, summary="Otro resumen más.")  # its history now has the version current when the page was drawn
    assert drawn_again(client, url)[0] is False


def test_an_edited_draft_leaves_the_searches_cached_and_a_kept_check_is_not_read_again(client, catalogue, org_a):
    from django.test.utils import CaptureQueriesContext

    draft = make_project("FIC-2024-090", "Borrador sobre seguridad", org_a)
    cache.clear()
    url = "/proyectos/?q=familia"
    client.get(url)
    saved(draft, title="Borrador sobre la familia")  # a draft that starts matching: not on the public page
    assert drawn_again(client, url)[0] is False
    saved(Project.objects.get(code="FIC-2021-010"), summary="Otro resumen.")
    with CaptureQueriesContext(connection) as checked:
        client.get(url)
    assert any("historicalproject" in q["sql"] for q in checked.captured_queries)  # the edit was checked
    with CaptureQueriesContext(connection) as again:
        client.get(url)
    assert not any("historicalproject" in q["sql"] for q in again.captured_queries)  # and recorded: not again
    assert len(again) < len(checked)


@pytest.mark.django_db(transaction=True)
def test_an_edit_committed_after_a_later_one_was_checked_is_still_checked(reference_data, client, catalogue):
    """An editor's transaction takes its `updated_at`, then a second editor saves and commits, a visitor's check
    keeps the page (the second edit changes no match), and only then the first commits an edit that makes its
    project match: the page follows it."""
    cache.clear()
    url = "/proyectos/?q=familia"
    before = client.get(url).context["page"].paginator.count
    first = Project.objects.get(code="FIC-2021-010")  # does not match «familia»
    taken, go_on, done = threading.Event(), threading.Event(), threading.Event()

    def slow_editor():
        try:
            with transaction.atomic():
                saved(first, title="Mediación escolar y familiar en Juárez")
                taken.set()
                go_on.wait(10)
        finally:
            connection.close()
            done.set()

    thread = threading.Thread(target=slow_editor)
    thread.start()
    assert taken.wait(10)
    saved(Project.objects.get(code="FIC-2022-011"), summary="Otro resumen.")
    assert drawn_again(client, url)[0] is False  # checked: no match moved
    go_on.set()
    assert done.wait(10)
    thread.join()
    again, body = drawn_again(client, url)
    assert again and f"{before + 1} proyectos" in body


def test_a_renamed_organization_reaches_the_search_at_once(client, catalogue, org_a):
    """A project's search text holds its organizations' names (not in its history): a rename refreshes the text of
    the organization's projects and draws the searches again, so a search for the new name finds them at once and
    keeps finding them after an edit."""
    cache.clear()
    url = "/proyectos/?q=faro"
    assert client.get(url).context["page"].paginator.count == 0
    org_a.name = "Centro Comunitario Faro, A.C."
    org_a.save()
    expected = Project.objects.published().filter(organization_ids__contains=[org_a.pk]).count()
    assert expected and f"{expected} proyecto" in client.get(url).content.decode()
    saved(Project.objects.get(code="FIC-2021-010"), summary="Otro resumen.")
    assert f"{expected} proyecto" in client.get(url).content.decode()
    cache.clear()
    assert client.get(url).context["page"].paginator.count == expected


def test_a_search_follows_text_a_project_copies_from_its_organizations_whatever_wrote_it(client, catalogue, org_b):
    """A name changed with no save (a bulk update) reaches the projects' search text at their next refresh (here a
    partner's row saved): the change log records that text, so the search is drawn again."""
    url = "/proyectos/?q=faro"
    Organization.objects.filter(pk=org_b.pk).update(name="Red Faro, A.C.")
    cache.clear()
    assert client.get(url).context["page"].paginator.count == 0  # its projects' text still says the old name
    participation = Participation.objects.filter(organization=org_b).first()
    participation.save()  # the derived columns of its project follow (refresh_derived)
    assert Project.objects.published().search("faro").count() == 1
    again, body = drawn_again(client, url)
    assert again and "1 proyecto<" in body


def test_an_organization_renamed_is_renamed_at_once_in_the_facets_of_a_page_that_does_not_list_it(client, catalogue):
    cache.clear()
    url = f"/proyectos/?organization=beta&axis={Axis.objects.get(number=3).slug}"  # no project: beta is only named
    beta = Organization.objects.get(slug="beta")
    response = client.get(url)
    assert response.context["page"].paginator.count == 0 and beta.name in response.content.decode()
    beta.name = "Red Beta Renombrada, A.C."
    beta.save()
    assert "Red Beta Renombrada" in client.get(url).content.decode()


def test_an_order_by_title_is_redrawn_after_any_edit(client, catalogue):
    cache.clear()
    url = "/proyectos/?orden=titulo"
    client.get(url)
    edit_title(Project.objects.get(code="FIC-2021-010"), "Aaa primero en el orden")
    again, body = drawn_again(client, url)
    codes_in_order = codes(client.get(url))
    assert again and codes_in_order[0] == "FIC-2021-010"


def test_a_list_of_what_was_updated_since_a_date_takes_in_a_project_edited_after_it_was_drawn(client, catalogue):
    from django.utils import timezone

    cache.clear()
    from datetime import timedelta

    moment = timezone.localtime(timezone.now()) + timedelta(seconds=2)  # the filter reads the portal's local time
    url = f"/proyectos/?updated_since={moment.strftime('%Y-%m-%dT%H:%M:%S')}"
    assert client.get(url).context["page"].paginator.count == 0
    edited = Project.objects.filter(code="FIC-2022-011")
    edited.update(title="Policía de barrio en Delicias", updated_at=moment + timedelta(seconds=1))
    body = client.get(url).content.decode()  # what the visitor reads (the context would be computed afresh)
    assert ">Policía de barrio en Delicias</a>" in body and "1 proyecto" in body


def test_a_search_narrowed_by_a_filter_recounts_its_facets_when_an_unlisted_match_stops_matching(client, catalogue):
    """The status facet of `q=familia&status=cancelled` counts the word's matches in every status: an edit of a
    match in another status (not listed) moves that count at once."""
    cache.clear()
    violence = Project.objects.get(code="FIC-2023-012")  # "Observatorio de violencia familiar", in progress
    assert violence.status == "in_progress" and Project.objects.get(code="FIC-2020-013").status == "cancelled"
    url = "/proyectos/?q=familia&status=cancelled"

    def in_progress():
        """The count the page's HTML shows beside "in progress" (None: not offered)."""
        body = client.get(url).content.decode()
        assert ">Atención a víctimas en la familia</a>" in body
        found = re.search(r'name="status" value="in_progress"[^>]*>[^<]*<span class="facet__count">\((\d+)\)', body)
        return int(found.group(1)) if found else None

    assert in_progress() == 1
    Project.objects.filter(pk=violence.pk).update(summary="Otro resumen.", description="<p>Otro texto.</p>")
    edit_title(violence, "Observatorio de la violencia")
    assert in_progress() is None  # no match left in that status: not offered


def test_the_filter_panel_and_the_map_escape_what_they_print_and_mark_what_is_chosen(client, catalogue, org_b):
    """The facet groups and the map's shapes and table are written in Python (projects/templatetags/portal.py):
    names are escaped as a template would, the chosen value is checked and its group open, the others are not."""
    org_b.name = '<b>Casa</b> & "Hogar"'  # the implementer of the one project listed
    org_b.save()
    body = client.get("/proyectos/?status=completed&municipality=08021").content.decode()
    assert "&lt;b&gt;Casa&lt;/b&gt; &amp; &quot;Hogar&quot;" in body and "<b>Casa</b>" not in body
    assert re.search(r'<details class="facet-group" open>\s*<summary>Estado del proyecto</summary>', body)
    assert re.search(r'<details class="facet-group">\s*<summary>Eje estratégico</summary>', body)
    assert re.search(r'name="status" value="completed" checked>\s*Concluido <span class="facet__count">\(1\)', body)
    assert re.search(r'name="axis" value="fortalecimiento-institucional">\s*1\. ', body)  # offered, not chosen
    assert body.count('<path d="M') == Municipality.objects.count()  # one shape per municipality with its link
    delicias = Municipality.objects.get(inegi_code="08021")
    row = re.search(rf'<tr><th scope="row"><a href="/municipios/{delicias.slug}/">Delicias</a></th>(.*?)</tr>', body)
    assert row and '<td class="num">1</td>' in row.group(1)
    money = Project.objects.get(code="FIC-2022-011").total_amount  # its only project: all of its money is here
    assert f'<td class="num money">${money:,.0f}</td>' in row.group(1)
