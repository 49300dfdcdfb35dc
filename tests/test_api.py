"""The partner REST API: shapes, filters, pagination, writes under the portal's rules, errors, throttling and
permissions."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from projects.api.viewsets import etag_of
from projects.models import ApiKey, Measurement, Project, ProjectDocument

from .conftest import make_project

pytestmark = pytest.mark.django_db


def auth(raw):
    return {"HTTP_AUTHORIZATION": f"Api-Key {raw}"}


@pytest.fixture
def cast(published_project, draft_project, other_draft, review_project, archived_project):
    return published_project


# --- Reading ------------------------------------------------------------------------------------------------------


def test_a_project_reads_with_english_fields_iso_dates_and_decimal_money(client, cast):
    response = client.get(f"/api/v1/projects/{cast.code}/")
    data = response.json()
    assert response.status_code == 200 and response["ETag"] == etag_of(data)
    assert data["code"] == "FIC-2024-001" and data["axis"] == "corresponsabilidad-ciudadana"
    assert (
        data["planned_start"] == "2024-01-15" and data["municipalities"] == ["08037"] and data["regions"] == ["juarez"]
    )
    assert (data["total_amount"], data["ficosec_amount"], data["leverage"]) == ("1250000.00", "1000000.00", "0.2500")
    assert {"sector": "ficosec", "amount": "1000000.00"} in data["money_by_sector"]
    assert data["partners"][0]["organization"] in {"alfa", "ficosec"}
    assert data["indicators"][0]["latest_value"] == "40.0000" and data["indicators"][0]["latest_date"] == "2024-03-31"
    assert "internal_notes" not in data


def test_list_items_and_detail_agree_on_every_shared_field(client, cast):
    item = client.get("/api/v1/projects/").json()["results"][0]
    detail = client.get(f"/api/v1/projects/{item['code']}/").json()
    assert {key: detail[key] for key in item} == item
    assert set(detail) - set(item) == {"description"}


def test_visitors_read_published_projects_only(client, cast):
    codes = [row["code"] for row in client.get("/api/v1/projects/?page_size=100").json()["results"]]
    assert codes == [cast.code]
    for project in Project.objects.exclude(pk=cast.pk):
        assert client.get(f"/api/v1/projects/{project.code}/").status_code == 404
    indicators = client.get("/api/v1/indicators/").json()["results"]
    assert {row["project"] for row in indicators} == {cast.code}


def test_staff_read_internal_notes_and_every_state(client, cast, editor):
    client.force_login(editor)
    rows = client.get("/api/v1/projects/?page_size=100").json()["results"]
    assert len(rows) == 5 and all(row["internal_notes"].startswith("NOTA-INTERNA") for row in rows)


def test_a_partner_key_reads_its_organizations_drafts_but_not_others(
    client, cast, partner_key, draft_project, other_draft
):
    codes = {row["code"] for row in client.get("/api/v1/projects/", **auth(partner_key)).json()["results"]}
    assert codes == {cast.code, draft_project.code}
    assert client.get(f"/api/v1/projects/{other_draft.code}/", **auth(partner_key)).status_code == 404


def test_the_api_filters_with_the_catalogue_filterset(client, org_a, org_b, ficosec_org):
    make_project("FIC-2024-301", "Jóvenes en Juárez", org_a, "published")
    make_project("FIC-2024-302", "Policía de proximidad", org_b, "published", status="completed")

    def codes(query):
        return sorted(row["code"] for row in client.get(f"/api/v1/projects/?{query}").json()["results"])

    assert codes("q=joven") == ["FIC-2024-301"]
    assert codes("q=policia") == ["FIC-2024-302"]
    assert codes("status=completed") == ["FIC-2024-302"]
    assert codes("organization=alfa") == ["FIC-2024-301"]
    assert codes("ordering=title") == ["FIC-2024-301", "FIC-2024-302"]
    stamp = (timezone.now() + timedelta(minutes=1)).isoformat()
    assert codes("updated_since=" + stamp.replace("+", "%2B")) == []


@pytest.mark.parametrize(
    "query, field",
    [
        ("year=abc", "year"),
        ("axis=no-existe", "axis"),
        ("ordering=drop", "ordering"),
        ("orden=drop", "ordering"),
        ("updated_since=ayer", "updated_since"),
        ("page=0", "page"),
        ("municipality=1", "municipality"),
    ],
)
def test_bad_filters_answer_400_with_the_error_shape(client, cast, query, field):
    response = client.get(f"/api/v1/projects/?{query}")
    body = response.json()
    assert response.status_code == 400 and body["status"] == 400 and field in body["errors"] and body["detail"]


def test_page_number_pagination_caps_the_page_size_and_404s_past_the_end(client, cast):
    body = client.get("/api/v1/projects/?page_size=5000").json()
    assert body["count"] == 1 and len(body["results"]) == 1
    missing = client.get("/api/v1/projects/?page=999")
    assert missing.status_code == 404 and missing.json()["status"] == 404


def test_sync_walks_every_project_once_by_cursor_without_counting(client, org_a):
    for n in range(7):
        make_project(f"FIC-2024-4{n:02d}", f"Proyecto {n}", org_a, "published")
    seen, url = [], "/api/v1/projects/sync/?page_size=3"
    with CaptureQueriesContext(connection) as queries:
        while url:
            body = client.get(url).json()
            seen += [row["code"] for row in body["results"]]
            url = body["next"]
    assert sorted(seen) == sorted(set(seen)) and len(seen) == 7
    assert not any("COUNT(" in q["sql"].upper() for q in queries.captured_queries)


def test_a_bad_cursor_names_no_page_404(client, cast):
    response = client.get("/api/v1/projects/sync/?cursor=%%%")
    assert response.status_code == 404 and response.json()["status"] == 404


def test_a_search_broader_than_the_bound_is_listed_newest_first(client, org_a, monkeypatch):
    from projects import filters

    for n in range(3):
        make_project(f"FIC-2024-6{n:02d}", f"Proyecto {n}", org_a, "published")
    newest_first = list(Project.objects.published().order_by("-published_at", "-pk").values_list("code", flat=True))
    monkeypatch.setattr(filters, "BROAD_SEARCH", 2)  # the one home of the rule, shared with the catalogue
    assert [row["code"] for row in client.get("/api/v1/projects/?q=resumen").json()["results"]] == newest_first
    monkeypatch.setattr(filters, "BROAD_SEARCH", 3)  # not broader than the bound: ranked (here all alike, then by -pk)
    assert client.get("/api/v1/projects/?q=resumen&x=1").json()["count"] == 3


def test_the_public_project_count_is_cached_until_a_project_changes(
    client, org_a, coordinator, published_project, review_project
):
    cache.clear()
    assert client.get("/api/v1/projects/").json()["count"] == 1
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/api/v1/projects/?page=1").json()["count"] == 1
    assert not [q for q in queries.captured_queries if "COUNT(" in q["sql"].upper()]
    review_project.transition("published", coordinator)
    assert client.get("/api/v1/projects/").json()["count"] == 2  # correct right after a publish
    assert client.get("/api/v1/projects/?axis=no-such-axis").status_code == 400


@pytest.mark.parametrize(
    "endpoint",
    [
        "/api/v1/projects/",
        "/api/v1/indicators/",
        "/api/v1/measurements/",
        "/api/v1/participations/",
        "/api/v1/organizations/",
    ],
)
def test_list_endpoints_use_the_same_number_of_queries_whatever_the_page_size(client, org_a, ficosec_org, endpoint):
    for n in range(12):
        make_project(f"FIC-2024-5{n:02d}", f"Proyecto {n}", org_a, "published", ficosec=ficosec_org)
    counts = []
    for size in (1, 10):
        cache.clear()  # the public project count is cached; count it each time here
        ProjectDocument.objects.all().delete()  # and the projects' documents are built each time
        with CaptureQueriesContext(connection) as queries:
            assert client.get(f"{endpoint}?page_size={size}").status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1]
    if endpoint == "/api/v1/projects/":
        # the freshness stamp, the count (cached for the public), one data query for the page, the demo flag
        # (read once per cache lifetime; cache.clear() above forgets it) and the anonymous caller's rate counter
        # (the database holds the shared counters when there is no Redis); then the page's documents, missing,
        # built in one query and stored in another
        assert counts[0] == 5 + 2
        cache.clear()
        with CaptureQueriesContext(connection) as queries:  # the documents stored by the request before
            assert client.get(f"{endpoint}?page_size=10").status_code == 200
        assert len(queries) == 5


def test_list_endpoints_answer_csv(client, cast):
    response = client.get("/api/v1/projects/?format=csv")
    text = response.content.decode("utf-8")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    assert text.startswith("\ufeffcode,slug,title") and cast.code in text


# --- Writing ------------------------------------------------------------------------------------------------------


NEW_PROJECT = {
    "code": "FIC-2026-001",
    "title": "Nuevo proyecto por API",
    "summary": "Resumen",
    "axis": "corresponsabilidad-ciudadana",
    "lines": ["prevencion-violencia"],
    "municipalities": ["08019"],
    "planned_start": "2026-01-01",
    "planned_end": "2026-12-31",
    "populations": ["youth"],
    "description": "<p>Hola<script>alert(1)</script></p>",
}


def test_an_editor_creates_a_project_with_the_same_rules_as_the_pages(client, editor):
    client.force_login(editor)
    response = client.post("/api/v1/projects/", NEW_PROJECT, content_type="application/json")
    assert response.status_code == 201, response.json()
    project = Project.objects.get(code="FIC-2026-001")
    assert (
        project.created_by == editor and project.publication_state == "draft" and "<script" not in project.description
    )
    assert project.municipalities.get().inegi_code == "08019"


@pytest.mark.parametrize(
    "change, field, message",
    [
        (
            {"planned_end": "2025-01-01"},
            "non_field_errors",
            "El fin planeado no puede ser anterior al inicio planeado.",
        ),
        ({"code": "proyecto"}, "code", "Clave inválida"),
        ({"award_type": "open_call"}, "non_field_errors", "Indique el nombre de la convocatoria abierta."),
        ({"evaluation_design": 9}, "evaluation_design", ""),
        ({"axis": "no-existe"}, "axis", ""),
        ({"populations": ["marcianos"]}, "populations", ""),
    ],
)
def test_invalid_projects_are_refused_with_spanish_field_errors_and_nothing_written(
    client, editor, change, field, message
):
    client.force_login(editor)
    response = client.post("/api/v1/projects/", {**NEW_PROJECT, **change}, content_type="application/json")
    body = response.json()
    assert response.status_code == 400 and field in body["errors"], body
    assert message in " ".join(body["errors"][field])
    assert not Project.objects.filter(code__in=["FIC-2026-001", "proyecto"]).exists()


def test_a_duplicate_code_is_refused_not_a_500(client, editor, cast):
    client.force_login(editor)
    response = client.post("/api/v1/projects/", {**NEW_PROJECT, "code": cast.code}, content_type="application/json")
    assert response.status_code == 400 and "code" in response.json()["errors"]


def test_updates_need_if_match_and_a_stale_one_is_refused(client, editor, draft_project):
    client.force_login(editor)
    url = f"/api/v1/projects/{draft_project.code}/"
    etag = client.get(url)["ETag"]
    assert client.patch(url, {"title": "Sin If-Match"}, content_type="application/json").status_code == 428
    first = client.patch(url, {"title": "Primero"}, content_type="application/json", HTTP_IF_MATCH=etag)
    assert first.status_code == 200 and first["ETag"] != etag
    stale = client.patch(url, {"title": "Segundo"}, content_type="application/json", HTTP_IF_MATCH=etag)
    assert stale.status_code == 412 and stale.json()["status"] == 412
    assert Project.objects.get(pk=draft_project.pk).title == "Primero"


def test_the_workflow_is_the_models_editor_reviews_coordinator_publishes(client, editor, coordinator, draft_project):
    url = f"/api/v1/projects/{draft_project.code}/transition/"
    client.force_login(editor)
    assert (
        client.post(url, {"to_state": "review", "comment": "Lista"}, content_type="application/json").status_code == 200
    )
    refused = client.post(url, {"to_state": "published"}, content_type="application/json")
    assert refused.status_code == 403 and refused.json()["detail"]
    client.force_login(coordinator)
    assert client.post(url, {"to_state": "published"}, content_type="application/json").status_code == 200
    assert Project.objects.get(pk=draft_project.pk).publication_state == "published"


def test_publishing_an_incomplete_project_lists_what_it_lacks(client, coordinator):
    project = Project.objects.create(code="FIC-2026-009", title="Incompleto", publication_state="review")
    client.force_login(coordinator)
    response = client.post(
        f"/api/v1/projects/{project.code}/transition/", {"to_state": "published"}, content_type="application/json"
    )
    assert response.status_code == 400 and "Falta el resumen." in str(response.json()["errors"])


def test_a_partner_key_reports_and_corrects_measurements_on_its_own_projects(client, cast, partner_key):
    indicator = cast.indicators.get()
    created = client.post(
        "/api/v1/measurements/",
        {"indicator": indicator.pk, "date": "2024-06-30", "value": "70", "source": "Informe"},
        content_type="application/json",
        **auth(partner_key),
    )
    assert created.status_code == 201, created.json()
    measurement = Measurement.objects.get(pk=created.json()["id"])
    assert measurement.reported_by_key.organization.acronym == "ALFA"
    url = f"/api/v1/measurements/{measurement.pk}/"
    etag = client.get(url, **auth(partner_key))["ETag"]
    corrected = client.patch(
        url, {"value": "72"}, content_type="application/json", HTTP_IF_MATCH=etag, **auth(partner_key)
    )
    assert corrected.status_code == 200 and Measurement.objects.get(pk=measurement.pk).value == Decimal("72")
    stale = client.patch(url, {"value": "73"}, content_type="application/json", HTTP_IF_MATCH=etag, **auth(partner_key))
    assert stale.status_code == 412


def test_a_partner_key_cannot_report_on_another_organizations_project(
    client, cast, partner_key, other_draft, review_project
):
    def post(indicator_id):
        response = client.post(
            "/api/v1/measurements/",
            {"indicator": indicator_id, "date": "2024-06-30", "value": "1"},
            content_type="application/json",
            **auth(partner_key),
        )
        return response.status_code, str(response.json()).replace(str(indicator_id), "ID")

    missing = post(999_999)
    assert missing[0] == 400
    for project in (other_draft, review_project):  # hidden from the partner: answered as if it did not exist
        assert post(project.indicators.get().pk) == missing
    assert not Measurement.objects.filter(date="2024-06-30").exists()


def test_a_second_measurement_on_the_same_date_is_a_clear_400(client, cast, partner_key):
    existing = cast.indicators.get().measurements.get()
    response = client.post(
        "/api/v1/measurements/",
        {"indicator": existing.indicator_id, "date": existing.date.isoformat(), "value": "1"},
        content_type="application/json",
        **auth(partner_key),
    )
    assert response.status_code == 400 and "Ya hay una medición" in str(response.json()["errors"])


@pytest.mark.parametrize("state", ["revoked", "expired", "garbage"])
def test_revoked_expired_or_wrong_keys_answer_401(client, cast, org_a, coordinator, state):
    key, raw = ApiKey.issue("k", created_by=coordinator, organization=org_a)
    if state == "revoked":
        key.revoke()
    elif state == "expired":
        ApiKey.objects.filter(pk=key.pk).update(expires_at=timezone.now() - timedelta(days=1))
    else:
        raw = "fic_nada_nada"
    response = client.get("/api/v1/projects/", **auth(raw))
    assert (
        response.status_code == 401 and response.json()["status"] == 401 and response["WWW-Authenticate"] == "Api-Key"
    )


def test_a_keys_last_use_is_recorded(client, cast, partner_key):
    client.get("/api/v1/projects/", **auth(partner_key))
    assert ApiKey.objects.get().last_used_at is not None


def test_throttling_answers_429_with_the_error_shape(client, cast, settings):
    from django.core.cache import cache

    cache.clear()
    settings.API_RATE_ANON = "3/min"
    statuses = [client.get("/api/v1/axes/").status_code for _ in range(4)]
    response = client.get("/api/v1/axes/")
    assert statuses == [200, 200, 200, 429] and response.json()["status"] == 429 and "Retry-After" in response
    cache.clear()


# --- The permission matrix ----------------------------------------------------------------------------------------
# Every endpoint and method, for every kind of caller. "own" is a project of organization A (the partner's),
# "other" a draft of organization B.

CALLERS = ["anonymous", "partner_key", "editor", "coordinator", "revoked_key", "expired_key"]


def matrix():
    ok = 200
    rows = [
        # (method, url template, body, expected per caller in CALLERS order)
        ("get", "/api/v1/axes/", None, [ok, ok, ok, ok, 401, 401]),
        ("get", "/api/v1/axes/fortalecimiento-institucional/", None, [ok, ok, ok, ok, 401, 401]),
        ("get", "/api/v1/lines/", None, [ok, ok, ok, ok, 401, 401]),
        ("get", "/api/v1/lines/estado-de-derecho/", None, [ok, ok, ok, ok, 401, 401]),
        ("get", "/api/v1/regions/", None, [ok, ok, ok, ok, 401, 401]),
        ("get", "/api/v1/regions/juarez/", None, [ok, ok, ok, ok, 401, 401]),
        ("get", "/api/v1/municipalities/", None, [ok, ok, ok, ok, 401, 401]),
        ("get", "/api/v1/municipalities/08037/", None, [ok, ok, ok, ok, 401, 401]),
        ("get", "/api/v1/organizations/", None, [ok, ok, ok, ok, 401, 401]),
        ("get", "/api/v1/organizations/alfa/", None, [ok, ok, ok, ok, 401, 401]),
        ("get", "/api/v1/organizations/beta/", None, [404, 404, ok, ok, 401, 401]),
        ("get", "/api/v1/projects/", None, [ok, ok, ok, ok, 401, 401]),
        ("get", "/api/v1/projects/sync/", None, [ok, ok, ok, ok, 401, 401]),
        ("get", "/api/v1/projects/{public}/", None, [ok, ok, ok, ok, 401, 401]),
        ("get", "/api/v1/projects/{own}/", None, [404, ok, ok, ok, 401, 401]),
        ("get", "/api/v1/projects/{other}/", None, [404, 404, ok, ok, 401, 401]),
        ("post", "/api/v1/projects/", "new_project", [401, 403, 201, 201, 401, 401]),
        ("patch", "/api/v1/projects/{own}/", "title", [401, 403, ok, ok, 401, 401]),
        ("patch", "/api/v1/projects/{other}/", "title", [401, 403, ok, ok, 401, 401]),
        ("post", "/api/v1/projects/{own}/transition/", "to_review", [401, 403, ok, ok, 401, 401]),
        ("post", "/api/v1/projects/{other}/transition/", "to_review", [401, 404, ok, ok, 401, 401]),
        ("get", "/api/v1/participations/", None, [ok, ok, ok, ok, 401, 401]),
        ("get", "/api/v1/participations/{own_participation}/", None, [404, ok, ok, ok, 401, 401]),
        ("post", "/api/v1/participations/", "participation", [401, 403, 201, 201, 401, 401]),
        ("patch", "/api/v1/participations/{own_participation}/", "amount", [401, 403, ok, ok, 401, 401]),
        ("get", "/api/v1/indicators/", None, [ok, ok, ok, ok, 401, 401]),
        ("get", "/api/v1/indicators/{own_indicator}/", None, [404, ok, ok, ok, 401, 401]),
        ("get", "/api/v1/indicators/{other_indicator}/", None, [404, 404, ok, ok, 401, 401]),
        ("post", "/api/v1/indicators/", "indicator", [401, 403, 201, 201, 401, 401]),
        ("patch", "/api/v1/indicators/{own_indicator}/", "unit", [401, 403, ok, ok, 401, 401]),
        ("get", "/api/v1/measurements/", None, [ok, ok, ok, ok, 401, 401]),
        ("get", "/api/v1/measurements/{own_measurement}/", None, [404, ok, ok, ok, 401, 401]),
        ("post", "/api/v1/measurements/", "measurement_own", [401, 201, 201, 201, 401, 401]),
        # Another organization's draft: its indicator answers as if it did not exist (no leak).
        ("post", "/api/v1/measurements/", "measurement_other", [401, 400, 201, 201, 401, 401]),
        ("patch", "/api/v1/measurements/{own_measurement}/", "value", [401, ok, ok, ok, 401, 401]),
        ("patch", "/api/v1/measurements/{other_measurement}/", "value", [401, 404, ok, ok, 401, 401]),
        # Governance (issue 15): read-only for everybody; a visitor reads decisions on published projects only.
        ("get", "/api/v1/award-decisions/", None, [ok, ok, ok, ok, 401, 401]),
        ("get", "/api/v1/calls/", None, [ok, ok, ok, ok, 401, 401]),
        # Read-only endpoints: a method they do not have is 405 for everybody, before any permission question.
        ("post", "/api/v1/calls/", None, [405, 405, 405, 405, 405, 405]),
        ("post", "/api/v1/award-decisions/", None, [405, 405, 405, 405, 405, 405]),
        ("get", "/api/v1/commitments/", None, [ok, ok, ok, ok, 401, 401]),
        ("get", "/api/v1/disbursements/", None, [ok, ok, ok, ok, 401, 401]),
        ("get", "/api/v1/proofs/", None, [ok, ok, ok, ok, 401, 401]),  # invoices: an empty list for the public
        ("get", "/api/v1/money-figures/", None, [ok, ok, ok, ok, 401, 401]),
        ("post", "/api/v1/proofs/check/", "uuids", [401, ok, ok, ok, 401, 401]),
        ("get", "/api/v1/periods/", None, [ok, ok, ok, ok, 401, 401]),
        ("post", "/api/v1/periods/", "period_own", [401, 201, 201, 201, 401, 401]),
        ("post", "/api/v1/periods/", "period_other", [401, 403, 201, 201, 401, 401]),
        ("post", "/api/v1/measurements/{own_measurement}/breakdown/", "breakdown", [401, ok, ok, ok, 401, 401]),
        ("post", "/api/v1/measurements/{other_measurement}/breakdown/", "breakdown", [401, 404, ok, ok, 401, 401]),
        # Projects are archived through the workflow, never deleted: DELETE does not exist (405 for everyone).
        ("delete", "/api/v1/projects/{own}/", None, [405, 405, 405, 405, 405, 405]),
    ]
    for method, url, body, expected in rows:
        for caller, status in zip(CALLERS, expected, strict=False):
            yield pytest.param(method, url, body, caller, status, id=f"{method} {url} {caller}")


@pytest.mark.parametrize("method, url, body, caller, expected", list(matrix()))
def test_permission_matrix(client, method, url, body, caller, expected, org_a, org_b, coordinator, editor, request):
    published = request.getfixturevalue("published_project")
    own = request.getfixturevalue("draft_project")
    other = request.getfixturevalue("other_draft")
    ids = {
        "public": published.code,
        "own": own.code,
        "other": other.code,
        "own_participation": own.participations.first().pk,
        "own_indicator": own.indicators.get().pk,
        "other_indicator": other.indicators.get().pk,
        "own_measurement": own.indicators.get().measurements.get().pk,
        "other_measurement": other.indicators.get().measurements.get().pk,
    }
    bodies = {
        "new_project": {**NEW_PROJECT, "code": "FIC-2026-077"},
        "title": {"title": "Cambio"},
        "to_review": {"to_state": "review"},
        "participation": {"project": own.code, "organization": "beta", "role": "ally", "amount": "10.00"},
        "amount": {"amount": "99.00"},
        "indicator": {"project": own.code, "name": "Nuevo", "unit": "personas"},
        "unit": {"unit": "casos"},
        "value": {"value": "5"},
        "uuids": {"uuids": ["6F1B2C3D-0000-4000-8000-000000000001"]},
        "measurement_own": {"indicator": ids["own_indicator"], "date": "2025-01-31", "value": "3"},
        "measurement_other": {"indicator": ids["other_indicator"], "date": "2025-01-31", "value": "3"},
        "period_own": {"indicator": ids["own_indicator"], "start": "2024-01-01", "end": "2024-03-31", "target": "20"},
        "period_other": {"indicator": ids["other_indicator"], "start": "2024-01-01", "end": "2024-03-31"},
        "breakdown": {"parts": [{"dimension": "sex", "category": "women", "value": "40"}]},
    }
    headers = {}
    if caller == "partner_key":
        headers = auth(request.getfixturevalue("partner_key"))
    elif caller in ("revoked_key", "expired_key"):
        key, raw = ApiKey.issue("k", created_by=coordinator, organization=org_a)
        key.revoke() if caller == "revoked_key" else ApiKey.objects.filter(pk=key.pk).update(
            expires_at=timezone.now() - timedelta(days=1)
        )
        headers = auth(raw)
    elif caller in ("editor", "coordinator"):
        client.force_login(editor if caller == "editor" else coordinator)
    path = url.format(**ids)
    if method in ("patch",) and expected not in (401,):
        current = client.get(path, **headers)
        if current.status_code == 200:
            headers["HTTP_IF_MATCH"] = current["ETag"]
    response = getattr(client, method)(path, bodies.get(body), content_type="application/json", **headers)
    assert response.status_code == expected, response.content[:300]
    if response.status_code >= 400 and response.status_code != 405:
        assert response.json()["status"] == expected and response.json()["detail"]
