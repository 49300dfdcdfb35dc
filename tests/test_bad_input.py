"""Issue 13: a table of bad input over every public page and every API operation. Never a 5xx; always a clear 4xx
in the right format and language (a Spanish page on the site, the structured JSON document in the API); nothing
written."""

import json
import re

import pytest

from projects.models import Indicator, Measurement, Organization, Participation, Project

ENGLISH = re.compile(r"\b(the|is|not|invalid|must|allowed|found|required|expected)\b", re.I)

# Raw query-string values (already percent-encoded where they need to be).
BAD_VALUES = {
    "nul": "a%00b",
    "controls": "%07%1B%7F%08",
    "superscript_digit": "%C2%B2",
    "arabic_digit": "%D9%A3",
    "overlong": "9" * 5000,
    "bad_utf8": "%FF%FE%C3",
    "negative": "-1",
    "array_syntax": "%5B1%2C2%5D",
}
PAGE_PARAMS = ["q", "page", "organization", "year", "axis", "orden", "updated_since"]
METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "PROPFIND", "CONNECT"]


@pytest.fixture
def cast(published_project, draft_project, other_draft, archived_project):
    return published_project


def public_pages(project):
    return [
        "/",
        "/proyectos/",
        "/proyectos/descarga.csv",
        "/proyectos/descarga.json",
        f"/proyectos/{project.slug}/",
        "/ejes/",
        f"/ejes/{project.axis.slug}/",
        "/organizaciones/",
        f"/organizaciones/{project.participations.first().organization.slug}/",
        "/sitemap.xml",
        "/robots.txt",
        "/gestion/entrar/",
        "/gestion/contrasena/restablecer/",
    ]


def counts():
    return [model.objects.count() for model in (Project, Participation, Indicator, Measurement, Organization)]


def assert_clear_page_answer(response, what, method="GET"):
    assert response.status_code < 500, what
    if response.status_code >= 400 and method != "HEAD":  # a HEAD answer has no body to read
        assert response.get("Content-Type", "").startswith("text/html"), (what, response.get("Content-Type"))
        assert 'lang="es' in response.content.decode(errors="replace"), what


def assert_clear_api_answer(response, what, method="GET"):
    assert response.status_code < 500, what
    if response.status_code >= 400 and method != "HEAD":
        assert response["Content-Type"].startswith("application/json"), what
        body = response.json()
        assert body["status"] == response.status_code and body["detail"], what
        assert not ENGLISH.search(body["detail"]), (what, body["detail"])
        assert "ErrorDetail" not in json.dumps(body), what


def test_bad_query_values_on_every_public_page(client, cast):
    before, tried = counts(), 0
    for page in public_pages(cast):
        for name in PAGE_PARAMS:
            for label, value in BAD_VALUES.items():
                response = client.get(f"{page}?{name}={value}")
                assert_clear_page_answer(response, (page, name, label))
                tried += 1
    assert counts() == before
    assert tried == 13 * len(PAGE_PARAMS) * len(BAD_VALUES)


def test_every_http_method_on_every_public_page(client, cast):
    before = counts()
    for page in public_pages(cast):
        for method in METHODS:
            response = client.generic(method, page)
            assert_clear_page_answer(response, (page, method), method)
            if method in ("PUT", "PATCH", "DELETE", "TRACE", "PROPFIND", "CONNECT"):
                assert response.status_code in (403, 405), (page, method, response.status_code)
    assert counts() == before


def api_operations(project):
    participation = project.participations.first()
    indicator = project.indicators.first()
    measurement = indicator.measurements.first()
    return {
        "/api/v1/axes/": [],
        f"/api/v1/axes/{project.axis.slug}/": [],
        "/api/v1/lines/": [],
        "/api/v1/regions/": [],
        "/api/v1/municipalities/": [],
        "/api/v1/municipalities/08037/": [],
        "/api/v1/organizations/": [],
        f"/api/v1/organizations/{participation.organization.slug}/": [],
        "/api/v1/projects/": ["post"],
        f"/api/v1/projects/{project.code}/": ["patch"],
        f"/api/v1/projects/{project.code}/transition/": ["post"],
        "/api/v1/projects/sync/": [],
        "/api/v1/participations/": ["post"],
        f"/api/v1/participations/{participation.pk}/": ["patch"],
        "/api/v1/indicators/": ["post"],
        f"/api/v1/indicators/{indicator.pk}/": ["patch"],
        "/api/v1/measurements/": ["post"],
        f"/api/v1/measurements/{measurement.pk}/": ["patch"],
    }


API_PARAMS = ["page", "page_size", "format", "q", "axis", "organization", "year", "updated_since", "ordering", "cursor"]


def test_bad_query_values_on_every_api_operation(client, cast, editor):
    client.force_login(editor)
    before, tried = counts(), 0
    for url in api_operations(cast):
        if url.endswith("/transition/"):
            continue
        for name in API_PARAMS:
            for label, value in BAD_VALUES.items():
                assert_clear_api_answer(client.get(f"{url}?{name}={value}"), (url, name, label))
                tried += 1
    assert counts() == before


WRONG_BODIES = {
    "string_for_object": '"texto"',
    "array_for_object": "[1, 2, 3]",
    "null": "null",
    # (a number given for a text field is read as its text, as DRF does: not a wrong type here)
    "number_for_everything": json.dumps({field: 1 for field in ("axis", "indicator", "date", "status", "to_state")}),
    "array_for_scalars": json.dumps({field: [1] for field in ("title", "project", "indicator", "date", "value")}),
    "object_for_scalars": json.dumps({field: {"a": 1} for field in ("title", "project", "indicator", "date")}),
    "nul_in_strings": json.dumps({"title": "a\x00b", "code": "FIC-2024-0\x00", "note": "\x00", "to_state": "\x00"}),
    "controls": json.dumps({"title": "\x07\x1b", "date": "\x1b[31m"}),
    "non_ascii_digits": json.dumps(
        {
            "value": "²",
            "date": "٢٠٢٤-٠١-٠١",
            "amount": "³",
            "project": "¹",
            "beneficiaries_target": "²",
            "baseline": "²",
            "target": "³",
        }
    ),
    "overlong": json.dumps({"title": "x" * 100_000, "code": "9" * 5000, "value": "9" * 5000}),
    "deep": '{"a":' * 5000 + "1" + "}" * 5000,
    "deeper": "[" * 100_000 + "]" * 100_000,
    "not_json": "{title: sin comillas",
    "bad_utf8": b'{"title": "\xff\xfe"}',
    "huge": json.dumps({"title": "x" * (2 * 1024 * 1024)}),
}


def test_wrong_bodies_on_every_api_write(client, cast, editor):
    client.force_login(editor)
    before = counts()
    for url, methods in api_operations(cast).items():
        for method in methods:
            for label, body in WRONG_BODIES.items():
                headers = {"HTTP_IF_MATCH": "*"} if method == "patch" else {}
                shown = client.get(url).json() if method == "patch" else None
                response = client.generic(method.upper(), url, body, content_type="application/json", **headers)
                assert_clear_api_answer(response, (url, method, label))
                if method == "post":
                    assert response.status_code >= 400, (url, method, label, response.status_code)
                else:  # fields a resource does not have are ignored; the resource must not change
                    assert response.status_code >= 400 or client.get(url).json() == shown, (url, label)
    assert counts() == before


def test_every_http_method_on_every_api_operation(client, cast, partner_key, editor):
    before = counts()
    for auth in ({}, {"HTTP_AUTHORIZATION": f"Api-Key {partner_key}"}):
        for url, methods in api_operations(cast).items():
            for method in METHODS:
                response = client.generic(method, url, **auth)
                assert_clear_api_answer(response, (url, method), method)
                if method.lower() not in ["get", "head", "options", *methods]:
                    assert response.status_code == 405, (url, method, response.status_code)
    assert counts() == before
