"""Issue 18's benchmark parts: the held load with edits (bench/edits.py), whose URL mix is deterministic and spread
over many catalogue URLs and whose browser-like poster saves the staff form as a browser would, changing the title
and nothing else; and the floor's cached count (bench/floor.py), the API's count policy."""

import json
from urllib.parse import urlencode

import psycopg2
from django.db import connection
from django.test import Client

from bench import edits, floor

from .conftest import make_project

REAL = {  # the shape of bench.cold.values(), with a few values per dimension
    "municipality": ["08037", "08019", "08017", "08032", "08050"],
    "axis": ["prevenir-violencia", "fortalecimiento-institucional", "evaluar-medir-monitorear"],
    "year": ["2024", "2023", "2022", "2021"],
    "q": ["ajedrez", "prevención", "jóvenes"],
    "region": ["centro", "norte", "sierra"],
    "line": ["linea-1", "linea-2", "linea-3", "linea-4"],
    "population": ["youth", "women", "children"],
    "organization": ["casa", "fechac", "municipio"],
    "status": ["in_progress", "finished"],
    "prevention_level": ["primary", "secondary"],
    "evidence_level": ["none", "promising"],
}


def test_the_catalogue_mix_is_deterministic_and_reaches_many_distinct_urls():
    ranked = edits.ranked_catalogue_paths(REAL, distinct=300)
    assert ranked == edits.ranked_catalogue_paths(REAL, distinct=300)
    assert len(ranked) == len(set(ranked)) == 300
    assert ranked[0] == "/proyectos/" and all(path.startswith("/proyectos/?") for path in ranked[1:])
    mix = edits.zipf_mix(ranked, 15_000)
    assert mix == edits.zipf_mix(ranked, 15_000) and mix != edits.zipf_mix(ranked, 15_000, seed=1)
    counts = {path: mix.count(path) for path in set(mix)}
    assert len(counts) > 200  # the tail is reached, not one URL served from the cache
    assert counts[ranked[0]] > counts[ranked[9]] > counts.get(ranked[199], 0)  # Zipf: rank 1 most, then fewer


def test_the_poster_saves_the_staff_form_as_a_browser_does_changing_only_the_title(editor, published_project):
    browser = Client(enforce_csrf_checks=True)  # the CSRF token must come from the page, as in the benchmark
    sign_in = edits.form_fields(browser.get("/gestion/entrar/").content.decode())
    fields = edits.replaced(sign_in, {"username": "editora", "password": "clave-de-prueba-123"})
    assert post(browser, "/gestion/entrar/", fields).status_code == 302

    path = f"/gestion/proyectos/{published_project.code}/"
    page = browser.get(path).content.decode()
    fields = edits.form_fields(page, {"class": "project-form"})
    names = {name for name, _value in fields}
    assert {"csrfmiddlewaretoken", "version", "participations-TOTAL_FORMS", "indicators-0-id"} <= names
    assert {"measurements-TOTAL_FORMS", "lines", "municipalities", "populations"} <= names
    assert "add_organization" not in names and "to_state" not in names  # only the button pressed is sent
    before, version = snapshot(published_project), published_project.version

    title = "Jóvenes constructores de paz · benchabc123e001"
    assert edits.EDIT_SUFFIX.sub("", title) == published_project.title  # a run that cannot put it back is undone
    response = post(browser, path, edits.replaced(fields, {"title": title}) + [("save", "1")])

    assert response.status_code == 302, edits.FormErrors.of(response.content.decode())
    published_project.refresh_from_db()
    assert published_project.title == title
    assert snapshot(published_project) == before
    assert published_project.version == version + 1
    assert published_project.publication_state == "published"
    stale = post(browser, path, edits.replaced(fields, {"title": "Otra"}) + [("save", "1")])
    assert stale.status_code == 409  # the version read with the page is checked: a second save of it is refused


def post(browser, path, fields):
    return browser.post(path, urlencode(fields), content_type="application/x-www-form-urlencoded")


def snapshot(project):
    return {
        "summary": project.summary,
        "populations": project.populations,
        "lines": list(project.lines.values_list("pk", flat=True)),
        "municipalities": list(project.municipalities.values_list("pk", flat=True)),
        "participations": list(project.participations.values_list("organization_id", "role", "amount")),
        "indicators": list(project.indicators.values_list("name", "target")),
        "measurements": list(project.indicators.values_list("measurements__date", "measurements__value")),
        "planned_start": project.planned_start,
    }


def test_the_floor_remembers_its_count_until_a_project_changes(reference_data, published_project, org_b):
    """bench/floor.py's `count=cached` is the API's count policy: the same page as counting every request, the
    total remembered while no project changes, counted again when one does."""
    floor._connection = psycopg2.connect(dbname=connection.settings_dict["NAME"], **credentials(connection))
    floor._connection.autocommit = True
    floor._remembered.update(stamp=None, known=None)
    try:
        counted, cached = page("page_size=50"), page("page_size=50&count=cached")
        assert cached == counted and cached["count"] == 1 and floor._remembered["known"] == 1
        floor._remembered["known"] = 7  # what the worker remembers is used while the stamp has not moved
        assert page("page_size=50&count=cached")["count"] == 7
        make_project("FIC-2024-009", "Otro proyecto", org_b, "published")  # a change moves the stamp
        assert page("page_size=50&count=cached")["count"] == 2 == page("page_size=50")["count"]
    finally:
        floor._connection.close()
        floor._connection = None


def page(query):
    return json.loads(b"".join(floor.app({"QUERY_STRING": query, "HTTP_HOST": "testserver"}, lambda *a: None)))


def credentials(connection):
    settings = connection.settings_dict  # the test database's server and account
    return {
        "user": settings["USER"],
        "password": settings["PASSWORD"],
        "host": settings["HOST"],
        "port": settings["PORT"],
    }


def test_the_warm_up_requests_each_distinct_url_of_the_mix_once_and_counts_what_failed():
    import threading
    from collections import Counter
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    asked = Counter()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            asked[self.path] += 1
            self.send_response(500 if "broken" in self.path else 200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        mix = ["/proyectos/", "/proyectos/?q=a", "/proyectos/", "/proyectos/?broken=1", "/proyectos/?q=a"]
        warmed = edits.warm(server.server_address[1], mix, threads=2)
    finally:
        server.shutdown()
    assert asked == {"/proyectos/": 1, "/proyectos/?q=a": 1, "/proyectos/?broken=1": 1}
    assert warmed["urls"] == 3 and warmed["errors"] == 1
    assert warmed["max_ms"] >= warmed["p50_ms"] > 0
