"""One home per rule (issue 12): each rule below is written once, and every interface (page, API, import, command)
reaches it. Each test proves the sharing through the interfaces and pins the behaviour chosen where two copies
used to disagree. Also the object-move matrix of issue 13: a write is allowed on the object as it is AND as it
will be, for sessions and API keys alike."""

import itertools
import json
from datetime import date
from decimal import Decimal

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from projects import exports, roles
from projects.forms import ApiKeyForm, ProjectForm
from projects.models import (
    ApiKey,
    Indicator,
    KeyUser,
    Measurement,
    Organization,
    Participation,
    Project,
)
from projects.resources import ProjectResource
from projects.serializers import ProjectSerializer

from .conftest import make_project
from .test_staff import form_data


def auth(raw_key):
    return {"HTTP_AUTHORIZATION": f"Api-Key {raw_key}"}


# --- 1. Saving a project with its children: Project.save_edit ------------------------------------------------


@pytest.fixture
def save_edit_calls(monkeypatch):
    calls = []
    original = Project.save_edit

    def spy(self, user, *args, **kwargs):
        calls.append(self.code)
        return original(self, user, *args, **kwargs)

    monkeypatch.setattr(Project, "save_edit", spy)
    return calls


def test_the_page_the_api_and_the_importer_all_save_through_project_save_edit(
    client, editor, published_project, save_edit_calls
):
    client.force_login(editor)
    page = client.post(
        reverse("project_edit", args=[published_project.code]), form_data(published_project, title="Desde la página")
    )
    assert page.status_code == 302
    url = f"/api/v1/projects/{published_project.code}/"
    api = client.patch(url, {"title": "Desde la API"}, content_type="application/json", HTTP_IF_MATCH="*")
    assert api.status_code == 200, api.json()
    dataset = ProjectResource().export(Project.objects.filter(pk=published_project.pk))
    dataset.dict = [{**dataset.dict[0], "title": "Desde la importación"}]
    result = ProjectResource(user=editor).import_data(dataset, dry_run=False, use_transactions=True)
    assert not result.has_errors() and not result.has_validation_errors()
    assert save_edit_calls == [published_project.code] * 3
    published_project.refresh_from_db()
    assert published_project.title == "Desde la importación" and published_project.updated_by == editor


def test_every_interface_refuses_a_stale_save_and_writes_nothing(client, editor, draft_project):
    """The version check lives in save_edit: the page answers 409, the API 412, a direct call StaleVersion."""
    client.force_login(editor)
    stale = form_data(draft_project, title="Copia vieja")
    Project.objects.get(pk=draft_project.pk).save_edit(editor, draft_project.version)  # somebody saves first
    assert client.post(reverse("project_edit", args=[draft_project.code]), stale).status_code == 409
    assert Project.objects.get(pk=draft_project.pk).title == draft_project.title


def test_an_import_keeps_the_derived_money_as_the_page_does(editor, org_a, ficosec_org, draft_project):
    dataset = ProjectResource().export(Project.objects.filter(pk=draft_project.pk))
    row = dataset.dict[0]
    row["participations"] = f"{org_a.slug}:implementer:100:cash; {ficosec_org.slug}:funder:300:cash"
    dataset.dict = [row]
    result = ProjectResource(user=editor).import_data(dataset, dry_run=False, use_transactions=True)
    assert not result.has_validation_errors()
    draft_project.refresh_from_db()
    assert (draft_project.total_amount, draft_project.ficosec_amount) == (Decimal("400"), Decimal("300"))


# --- 2. Recording a measurement: Measurement.record -----------------------------------------------------------


def with_new_measurement(indicator, day, value):
    """The project form of the indicator's project (whose one stored measurement is form 0) plus a new one."""
    data = form_data(indicator.project, **{"measurements-TOTAL_FORMS": "2"})
    data.update({"measurements-1-indicator": str(indicator.pk), "measurements-1-date": day.isoformat()})
    data["measurements-1-value"] = str(value)
    return data


def test_a_repeated_date_is_refused_on_the_page_in_the_api_and_by_record(client, editor, published_project):
    """Chosen rule: a new measurement never overwrites another one (no upsert); a correction edits the one there."""
    indicator = published_project.indicators.get()
    existing = indicator.measurements.get()
    with pytest.raises(ValidationError):
        Measurement(indicator=indicator, date=existing.date, value=1).record(editor)
    client.force_login(editor)
    api = client.post(
        "/api/v1/measurements/",
        {"indicator": indicator.pk, "date": existing.date.isoformat(), "value": "1"},
        content_type="application/json",
    )
    assert api.status_code == 400 and "Ya hay una medición" in str(api.json()["errors"])
    page = client.post(
        reverse("project_edit", args=[published_project.code]), with_new_measurement(indicator, existing.date, 1)
    )
    assert page.status_code == 400 and "Ya hay una medición" in page.content.decode()
    assert list(indicator.measurements.values_list("value", flat=True)) == [existing.value]


def test_record_asks_who_may_report_before_anything_else(partner, outsider, published_project, other_draft):
    own = published_project.indicators.get()
    assert Measurement(indicator=own, date=date(2025, 1, 31), value=3).record(partner).reported_by == partner
    for user, indicator in ((outsider, own), (AnonymousUser(), own), (partner, other_draft.indicators.get())):
        with pytest.raises(PermissionDenied):  # before the date rule: no hint that a measurement exists there
            Measurement(indicator=indicator, date=date(2024, 3, 31), value=3).record(user)


def test_the_page_records_measurements_through_record(client, editor, published_project, monkeypatch):
    calls = []
    original = Measurement.record

    def spy(self, user, **kwargs):
        calls.append(user)
        return original(self, user, **kwargs)

    monkeypatch.setattr(Measurement, "record", spy)
    client.force_login(editor)
    indicator = published_project.indicators.get()
    data = with_new_measurement(indicator, date(2024, 9, 30), 9)
    assert client.post(reverse("project_edit", args=[published_project.code]), data).status_code == 302
    api = client.post(
        "/api/v1/measurements/",
        {"indicator": indicator.pk, "date": "2024-12-31", "value": "12"},
        content_type="application/json",
    )
    assert api.status_code == 201 and calls == [editor, editor]


# --- The object-move matrix: before and after, sessions and keys ---------------------------------------------


@pytest.fixture
def places(db, org_a, org_b, draft_project, published_project, other_draft, archived_project):
    """own_* belong to the partner's organization (A), other_* to B; a project in each publication state."""
    return {
        "own_draft": draft_project,
        "own_published": published_project,
        "own_archived": make_project("FIC-2024-081", "Archivado de Alfa", org_a, "archived"),
        "other_draft": other_draft,
        "other_published": make_project("FIC-2024-082", "Publicado de Beta", org_b, "published"),
        "other_archived": archived_project,
    }


def partner_callers(client, partner, partner_key):
    def session():
        client.logout()
        client.force_login(partner)
        return {}

    def key():
        client.logout()
        return auth(partner_key)

    return {"session": session, "key": key}


REPORTABLE = {"own_draft", "own_published"}  # the partner's own projects that are not archived
HIDDEN = {"other_draft", "other_archived"}  # drafts and archived projects of another organization


def expected_move(before, after):
    if before not in REPORTABLE:
        return 404  # not among the measurements the caller may change
    if after in REPORTABLE:
        return 200
    return 400 if after in HIDDEN else 403  # a hidden indicator answers as if it did not exist


def test_a_partner_moves_a_measurement_only_between_projects_it_may_report_on(client, partner, partner_key, places):
    measurements = {  # a date of its own for each, so that no move meets another measurement's date
        name: Measurement.objects.create(indicator=project.indicators.get(), date=date(2025, month, 28), value=1)
        for month, (name, project) in enumerate(places.items(), start=1)
    }
    unexpected = []
    for caller, sign_in in partner_callers(client, partner, partner_key).items():
        for before, measurement in measurements.items():
            for after, project in places.items():
                headers = sign_in()
                target = project.indicators.get()
                response = client.patch(
                    f"/api/v1/measurements/{measurement.pk}/",
                    {"indicator": target.pk, "value": "7"},
                    content_type="application/json",
                    HTTP_IF_MATCH="*",
                    **headers,
                )
                stored = Measurement.objects.get(pk=measurement.pk)
                wanted = expected_move(before, after)
                wrote = stored.value == 7 or stored.indicator_id != measurement.indicator_id
                if response.status_code != wanted or wrote != (wanted == 200):
                    unexpected.append((caller, before, after, response.status_code))
                Measurement.objects.filter(pk=measurement.pk).update(indicator=measurement.indicator, value=1)
    assert unexpected == []


def test_a_partner_reports_only_on_indicators_it_may_report_on_and_hidden_ones_do_not_exist(
    client, partner, partner_key, places
):
    def post(headers, indicator_id):
        response = client.post(
            "/api/v1/measurements/",
            {"indicator": indicator_id, "date": "2024-03-31", "value": "5"},  # every indicator has one on that date
            content_type="application/json",
            **headers,
        )
        return response.status_code, str(response.json()).replace(f'"{indicator_id}"', '"ID"')  # the quoted id only

    for caller, sign_in in partner_callers(client, partner, partner_key).items():
        missing = post(sign_in(), 999_999)
        for name, project in places.items():
            answer = post(sign_in(), project.indicators.get().pk)
            if name in REPORTABLE:
                assert answer[0] == 400 and "Ya hay una medición" in answer[1], (caller, name)  # its own: told why
            elif name in HIDDEN:
                assert answer == missing, (caller, name)  # neither "exists" nor "duplicate"
            else:
                assert answer[0] == 403, (caller, name)
    assert Measurement.objects.filter(value=5).count() == 0


def test_participations_and_indicators_move_only_for_staff(client, editor, partner, partner_key, ficosec_org, places):
    callers = {**partner_callers(client, partner, partner_key), "editor": lambda: client.force_login(editor) or {}}
    unexpected = []
    for before, origin in places.items():
        participation = Participation.objects.create(project=origin, organization=ficosec_org, role="evaluator")
        indicator = Indicator.objects.create(project=origin, name="Movible", unit="casos")
        for (caller, sign_in), (after, project) in itertools.product(callers.items(), places.items()):
            for kind, row in (("participations", participation), ("indicators", indicator)):
                headers = sign_in()
                response = client.patch(
                    f"/api/v1/{kind}/{row.pk}/",
                    {"project": project.code},
                    content_type="application/json",
                    HTTP_IF_MATCH="*",
                    **headers,
                )
                wanted = 200 if caller == "editor" else 403
                moved = type(row).objects.get(pk=row.pk).project_id == project.pk
                if response.status_code != wanted or (moved and before != after and wanted != 200):
                    unexpected.append((caller, kind, before, after, response.status_code))
                type(row).objects.filter(pk=row.pk).update(project=origin)
        participation.delete()
        indicator.delete()
    assert unexpected == []


# --- 3. Organization visibility: Organization.objects.visible_to ----------------------------------------------


def test_pages_sitemap_and_api_agree_on_which_organizations_exist(
    client, coordinator, partner, org_a, org_b, published_project, other_draft
):
    for user in (None, partner, coordinator):
        client.logout()
        if user:
            client.force_login(user)
        visible = set(Organization.objects.visible_to(user or AnonymousUser()).values_list("slug", flat=True))
        for slug in (org_a.slug, org_b.slug):
            wanted = 200 if slug in visible else 404
            assert client.get(f"/organizaciones/{slug}/").status_code == wanted, (user, slug)
            assert client.get(f"/api/v1/organizations/{slug}/").status_code == wanted, (user, slug)
        listed = {row["slug"] for row in client.get("/api/v1/organizations/").json()["results"]}
        assert listed == visible
        page = client.get("/organizaciones/").content.decode()
        assert (org_b.name in page) == (org_b.slug in visible)
    client.logout()
    assert org_b.slug not in client.get("/sitemap.xml").content.decode()
    assert client.get("/organizaciones/beta/").status_code == 404  # only drafts: nobody outside staff sees it
    client.force_login(coordinator)  # the disagreement of old: HTML 404, API 200; now 200 on both
    assert client.get("/organizaciones/beta/").status_code == 200
    assert client.get("/api/v1/organizations/beta/").status_code == 200


# --- 4. Ordering and the broad-search rule: ProjectFilter -------------------------------------------------------


def test_ordering_speaks_one_vocabulary_with_the_old_names_as_aliases(client, editor, org_a, ficosec_org):
    for n, title in enumerate(["Beta", "Alfa", "Gama"]):
        make_project(f"FIC-2024-09{n}", title, org_a, "published", ficosec=ficosec_org if n == 1 else None)

    def page(query):
        return [p.code for p in client.get(f"/proyectos/?{query}").context["page"].object_list]

    def api(query):
        return [row["code"] for row in client.get(f"/api/v1/projects/?{query}").json()["results"]]

    by_title = ["FIC-2024-091", "FIC-2024-090", "FIC-2024-092"]
    for query in ("ordering=title", "orden=titulo", "orden=title", "ordering=titulo"):
        assert page(query) == api(query) == by_title, query
    assert page("orden=monto")[0] == api("ordering=-total_amount")[0] == "FIC-2024-091"
    # Relevance needs a search: without one, both list newest first (the catalogue's old rule, now the API's too).
    assert page("ordering=relevance") == api("ordering=relevance") == api("ordering=-published_at")
    assert client.get("/api/v1/projects/?orden=nada").status_code == 400


def test_the_staff_index_filters_by_publication_state_in_the_filterset(client, editor, cast_states):
    client.force_login(editor)
    for state in ("draft", "review", "published", "archived"):
        listed = client.get(f"/gestion/proyectos/?estado={state}").context["page"].object_list
        assert {p.publication_state for p in listed} == {state}
    assert not client.get("/gestion/proyectos/?estado=nada").context["page"].object_list
    client.logout()  # the same filter, in the API, never widens what a visitor sees
    assert client.get("/api/v1/projects/?estado=draft").json()["results"] == []


@pytest.fixture
def cast_states(published_project, draft_project, review_project, archived_project):
    return [published_project, draft_project, review_project, archived_project]


# --- 5. Validation: the model speaks once ------------------------------------------------------------------------


def test_a_key_with_two_owners_or_none_is_refused_in_the_constraints_words(org_a, editor):
    constraint = next(c for c in ApiKey._meta.constraints if c.name == "apikey_one_owner")
    for data in ({"name": "k", "organization": org_a.pk, "user": editor.pk}, {"name": "k"}):
        form = ApiKeyForm(data)
        assert not form.is_valid() and list(form.non_field_errors()) == [str(constraint.violation_error_message)]


def test_the_importer_reports_the_participation_models_own_messages(editor, org_a, draft_project):
    unique = next(c for c in Participation._meta.constraints if c.name == "participation_unique_role")
    resource = ProjectResource(user=editor)
    cases = {
        f"{org_a.slug}:jefa:1:cash": "no es una opción válida",
        f"{org_a.slug}:ally:1:regalo": "no es una opción válida",
        f"{org_a.slug}:ally:-5:cash": "mayor o igual a 0",  # the field's own validator
        f"{org_a.slug}:ally:1:cash; {org_a.slug}:ally:2:cash": str(unique.violation_error_message),
    }
    for cell, message in cases.items():
        with pytest.raises(ValidationError) as error:
            resource.parse_participations(cell)
        assert any(message in text for text in error.value.message_dict["participations"]), (cell, error.value)


def test_the_api_runs_the_same_full_clean_as_the_page(client, editor):
    client.force_login(editor)
    data = {"code": "FIC-2026-088", "title": "Al revés", "planned_start": "2026-05-01", "planned_end": "2026-01-01"}
    api = client.post("/api/v1/projects/", data, content_type="application/json")
    page = client.post(reverse("project_create"), form_data(**data))
    message = "El fin planeado no puede ser anterior al inicio planeado."
    assert api.status_code == page.status_code == 400
    assert message in str(api.json()["errors"]) and message in page.content.decode()


# --- 6. The editable field list: Project.EDITABLE_FIELDS ---------------------------------------------------------


def test_form_api_importer_and_restore_share_one_editable_field_list():
    editable = Project.EDITABLE_FIELDS
    assert list(ProjectForm.base_fields)[: len(editable)] == editable
    writable = [name for name, field in ProjectSerializer().fields.items() if not field.read_only]
    assert sorted(writable) == sorted(editable)
    assert [field.column_name for field in ProjectResource().get_import_fields()] == [*editable, "participations"]
    assert Project.RESTORABLE == [name for name in editable if name not in Project.LINKS]


# --- 7. Rendering a project row: each figure once ----------------------------------------------------------------


def test_leverage_money_by_sector_dates_and_url_read_the_same_on_the_page_the_api_and_the_download(
    client, org_a, org_b, ficosec_org
):
    project = make_project("FIC-2024-095", "Con varios sectores", org_a, "published", ficosec=ficosec_org)
    Participation.objects.create(project=project, organization=org_b, role="ally", amount=0)  # nothing put in
    Project.objects.filter(pk=project.pk).update(actual_start=date(2024, 2, 1))
    api = client.get(f"/api/v1/projects/{project.code}/").json()
    page = client.get(project.get_absolute_url())
    download = json.loads(b"".join(client.get("/proyectos/descarga.json").streaming_content))[0]
    assert api["leverage"] == "0.2500" and page.context["project"].leverage == Decimal("0.25")
    sectors = [(row["sector"], row["amount"]) for row in api["money_by_sector"]]
    assert sectors == [("ficosec", "1000000.00"), ("civil_society", "250000.00")]  # no sector that put in nothing
    assert [bar["label"] for bar in page.context["money"]["sectors"]] == ["FICOSEC", "Sociedad civil"]
    assert api["url"] == project.get_absolute_url()
    assert download["url"] == exports.absolute_url(project.get_absolute_url())  # a download links the public address
    assert download["start"] == "2024-02-01" and download["end"] == "2024-12-15"


def test_downloads_and_the_api_write_csv_the_same_way(client, published_project):
    Project.objects.filter(pk=published_project.pk).update(title="=HYPERLINK(1)")
    download = b"".join(client.get("/proyectos/descarga.csv").streaming_content).decode()
    api = client.get("/api/v1/projects/?format=csv").content.decode()
    for text in (download, api):
        assert text.startswith("\ufeff") and "'=HYPERLINK(1)" in text


def test_every_resource_has_the_same_etag_scheme_and_accepts_if_match_star(client, editor, published_project):
    client.force_login(editor)
    measurement = published_project.indicators.get().measurements.get()
    for url, body in (
        (f"/api/v1/projects/{published_project.code}/", {"title": "Con estrella"}),
        (f"/api/v1/measurements/{measurement.pk}/", {"value": "41"}),
    ):
        etag = client.get(url)["ETag"]
        assert etag.startswith('W/"') and len(etag) == 36, url
        assert client.patch(url, body, content_type="application/json", HTTP_IF_MATCH='W/"1"').status_code == 412
        assert client.patch(url, body, content_type="application/json", HTTP_IF_MATCH="*").status_code == 200


# --- The rest: keys answer as partners (the demo goes through the workflow: test_foundation.py) ------------


def test_a_partner_key_has_exactly_the_partner_roles_permissions(org_a, coordinator):
    key, _raw = ApiKey.issue("k", created_by=coordinator, organization=org_a)
    assert KeyUser(key).PERMISSIONS == set(roles.ROLE_PERMISSIONS[roles.PARTNER])
