"""Open data: the IATI 2.03 and 360Giving 1.4.3 files validate against the vendored official schemas and codelists,
a broken file fails, the files publish exactly what the catalogue shows, and the data page tells the truth about
every file (checksums, dictionary, licence)."""

import csv
import hashlib
import io
import json
import xml.etree.ElementTree as ET
from datetime import date, timedelta
from decimal import Decimal
from io import StringIO

import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.db.models import Sum

from projects import exports
from projects.models import AwardDecision, Call, Commitment, Disbursement, Organization, Participation, Project
from projects.opendata import dictionary, files, iati, validation

from .conftest import make_project

pytestmark = pytest.mark.django_db
PREFIX = "360G-FICOSEC"


@pytest.fixture(autouse=True)
def fresh_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def demo(settings):
    # The demo's FICOSEC carries no RFC (it must not invent a real entity's data): production sets the publisher's
    # identifier, and so does this fixture, with a fictitious one.
    settings.FICOSEC_ORG_IDENTIFIER = "MX-RFC-FCS120101AB1"
    settings.DEBUG = True
    call_command("load_demo", stdout=StringIO())
    settings.DEBUG = False
    cache.clear()


@pytest.fixture
def ficosec_rfc(ficosec_org):
    ficosec_org.rfc = "FCS120101AB1"
    ficosec_org.save()
    return ficosec_org


def body(response):
    return b"".join(response.streaming_content) if response.streaming else response.content


def get(client, url):
    response = client.get(url)
    assert response.status_code == 200, url
    return body(response)


# --- Validation of the full demo output ---------------------------------------------------------------------


def test_the_full_demo_output_validates_against_the_official_schemas_and_codelists(client, demo):
    activities = get(client, "/datos-abiertos/iati-actividades.xml")
    assert validation.iati_errors(activities) == []
    root = ET.fromstring(activities)
    assert len(root.findall("iati-activity")) == Project.objects.published().count()
    # Every code attribute in the file is checked against its codelist: none escapes the check.
    covered = set(validation.IATI_CODES) | validation.IATI_CONDITIONAL
    assert validation.code_attributes(root) <= covered
    # Including the attributes of the five codelists vendored from pyIATI: the demo's values pass them.
    pyiati = {("description", "type"), ("sector", "vocabulary"), ("result", "type"), ("indicator", "measure")}
    assert pyiati | {("document-link", "format")} <= validation.code_attributes(root)
    for tag in ("location", "sector", "budget", "transaction", "result", "participating-org", "document-link"):
        assert root.find(f"iati-activity/{tag}") is not None, tag
    assert root.find("iati-activity/sector[@vocabulary='99']").get("vocabulary-uri").endswith("/ejes/")

    organisation = get(client, "/datos-abiertos/iati-organizacion.xml")
    assert validation.iati_errors(organisation, "organisations") == []

    package = json.loads(get(client, "/datos-abiertos/360giving.json"))
    assert validation.giving_errors(package, PREFIX) == []
    assert len(package["grants"]) > 50
    assert {grant["fromOpenCall"] for grant in package["grants"]} == {"Yes", "No"}
    # The migrants project: FICOSEC's award shared by three implementers gives three grants, as the ledger pays it.
    migrants = [g for g in package["grants"] if g["id"].startswith(f"{PREFIX}-FIC-2023-031-")]
    assert sorted((g["recipientOrganization"][0]["alternateName"], g["amountAwarded"]) for g in migrants) == [
        ("CASA", 1792168.51),
        ("DHIA", 2209181.70),
        ("SJR", 995111.30),
    ]
    decision = AwardDecision.objects.select_related("session").get(project__code="FIC-2023-031")
    assert {g["fromOpenCall"] for g in migrants} == {"Yes" if decision.method == "open_call" else "No"}
    assert {g["awardDate"] for g in migrants} == {decision.session.held_on.isoformat()}
    for grant in package["grants"]:
        decision = AwardDecision.objects.only("method").get(
            project__code=grant["id"].split("-", 2)[2].rsplit("-", 1)[0]
        )
        assert grant["fromOpenCall"] == ("Yes" if decision.method == "open_call" else "No"), grant["id"]

    flat = get(client, "/datos-abiertos/360giving.csv").decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(flat)))
    assert [row["Identifier"] for row in rows] == [grant["id"] for grant in package["grants"]]
    assert [Decimal(row["Amount Awarded"]) for row in rows] == [
        Decimal(str(grant["amountAwarded"])) for grant in package["grants"]
    ]
    assert rows[0]["Recipient Org:Identifier"].startswith(("MX-RFC-", f"{PREFIX}-ORG-"))

    from openpyxl import load_workbook

    workbook = load_workbook(io.BytesIO(get(client, "/datos-abiertos/360giving.xlsx")), read_only=True)
    sheet = workbook["grants"]
    assert len(list(sheet.iter_rows(values_only=True))) == len(package["grants"]) + 1


def test_the_files_carry_exactly_the_catalogues_published_projects_and_money(client, demo):
    catalogue = list(csv.DictReader(io.StringIO(get(client, "/proyectos/descarga.csv").decode("utf-8-sig"))))
    published = Project.objects.published()
    root = ET.fromstring(get(client, "/datos-abiertos/iati-actividades.xml"))
    activities = root.findall("iati-activity")
    codes = {"-".join(a.findtext("iati-identifier").split("-")[-3:]) for a in activities}
    assert codes == {row["clave"] for row in catalogue} == set(published.values_list("code", flat=True))
    assert not codes & set(Project.objects.exclude(publication_state="published").values_list("code", flat=True))

    budgets = sum(Decimal(v.text) for v in root.iterfind("iati-activity/budget/value"))
    assert budgets == sum(Decimal(row["monto total MXN"] or 0) for row in catalogue)  # empty: unknown
    # Commitments: the ledger's cash commitments where a project has ledger rows, else its cash participations.
    committed = sum(
        Decimal(t.findtext("value"))
        for t in root.iterfind("iati-activity/transaction")
        if t.find("transaction-type").get("code") in ("2", "11")
    )
    ledgered = Commitment.objects.filter(project__in=published).values("project_id")
    in_ledger = Commitment.objects.filter(project__in=published, kind="cash").aggregate(s=Sum("amount"))["s"]
    cash = (
        Participation.objects.filter(project__in=published, contribution_kind="cash", amount__gt=0)
        .exclude(project__in=ledgered)
        .aggregate(s=Sum("amount"))["s"]
    )
    assert in_ledger > 0 and committed == in_ledger + (cash or 0)
    paid = Disbursement.objects.filter(commitment__project__in=published, commitment__kind="cash")
    paid = paid.filter(actual_date__isnull=False).aggregate(s=Sum("amount"))["s"]
    assert paid == sum(
        Decimal(t.findtext("value"))
        for t in root.iterfind("iati-activity/transaction")
        if t.find("transaction-type").get("code") == "3"
    )

    # Grants: each approved award decision, split among the implementers other than FICOSEC, adds up to it.
    package = json.loads(get(client, "/datos-abiertos/360giving.json"))
    by_code = {}
    for grant in package["grants"]:
        code = grant["id"].removeprefix(f"{PREFIX}-").rsplit("-", 1)[0]
        by_code[code] = by_code.get(code, Decimal("0")) + Decimal(str(grant["amountAwarded"]))
    doers = Participation.objects.filter(role="implementer", organization__is_ficosec=False).values("project_id")
    decisions = AwardDecision.objects.filter(
        project__in=published.filter(pk__in=doers), outcome="approved", amount__gt=0
    ).select_related("project")
    assert by_code == {d.project.code: d.amount for d in decisions}
    assert len(by_code) > 50


# --- A broken file fails ---------------------------------------------------------------------------------------


@pytest.fixture
def valid_iati(client, published_project, ficosec_rfc):
    data = get(client, "/datos-abiertos/iati-actividades.xml")
    assert validation.iati_errors(data) == []
    return data


def mutate(data, change):
    root = ET.fromstring(data)
    change(root.find("iati-activity"))
    return ET.tostring(root)


def test_a_file_without_a_required_element_fails_the_schema(valid_iati):
    broken = mutate(valid_iati, lambda a: a.remove(a.find("iati-identifier")))
    assert any(error.startswith("XSD:") for error in validation.iati_errors(broken))


def test_elements_out_of_order_fail_the_schema(valid_iati):
    def swap(activity):
        status = activity.find("activity-status")
        activity.remove(status)
        activity.append(status)

    assert any(error.startswith("XSD:") for error in validation.iati_errors(mutate(valid_iati, swap)))


@pytest.mark.parametrize(
    "path, attribute, bad",
    [
        ("activity-status", "code", "9"),
        ("participating-org", "role", "7"),
        ("participating-org", "type", "99"),
        ("sector[@vocabulary='1']", "code", "99999"),
        ("budget/value", "currency", "XXX"),
        ("transaction/transaction-type", "code", "42"),
        ("recipient-country", "code", "ZZ"),
        ("reporting-org", "ref", "ZZ-NOPE-123"),
    ],
)
def test_a_code_missing_from_its_codelist_fails_although_the_schema_passes(valid_iati, path, attribute, bad):
    broken = mutate(valid_iati, lambda a: a.find(path).set(attribute, bad))
    errors = validation.iati_errors(broken)
    assert errors and not any(error.startswith("XSD:") for error in errors), errors


@pytest.mark.parametrize(
    "path, attribute, bad, codelist",
    [
        ("description[@type='1']", "type", "5", "DescriptionType"),
        ("sector[@vocabulary='99']", "vocabulary", "97", "SectorVocabulary"),
        ("result", "type", "4", "ResultType"),
        ("result/indicator", "measure", "6", "IndicatorMeasure"),
        ("document-link", "format", "text/htm", "FileFormat"),
    ],
)
def test_a_value_outside_the_codelists_vendored_from_pyiati_fails_with_its_codelist_named(
    valid_iati, path, attribute, bad, codelist
):
    element = ET.fromstring(valid_iati).find(f"iati-activity/{path}")
    assert element is not None and element.get(attribute) in validation.codelist(codelist), path
    broken = mutate(valid_iati, lambda a: a.find(path).set(attribute, bad))
    tag = path.split("/")[-1].split("[")[0]
    assert validation.iati_errors(broken) == [f"Código {bad!r} de {tag}/@{attribute} no está en {codelist}"]


@pytest.fixture
def valid_package(client, published_project, ficosec_rfc):
    package = json.loads(get(client, "/datos-abiertos/360giving.json"))
    assert validation.giving_errors(package, PREFIX) == []
    return package


@pytest.mark.parametrize(
    "change, expected",
    [
        (lambda g: g.pop("amountAwarded"), "Esquema"),
        (lambda g: g.update(currency="pesos"), "Esquema"),
        (lambda g: g.update(fromOpenCall="Sí"), "Esquema"),
        (lambda g: g.update(awardDate="15/01/2024"), "Esquema"),
        (lambda g: g.update(amountAwarded=0), "mayor que cero"),
        (lambda g: g.update(awardDate=(date.today() + timedelta(days=30)).isoformat()), "futuro"),
        (lambda g: g["recipientOrganization"][0].update(id="CCA100101AB1"), "prefijo conocido"),
        (lambda g: g.update(id="OTRO-1"), "prefijo 360G-FICOSEC"),
    ],
)
def test_a_broken_grant_fails(valid_package, change, expected):
    change(valid_package["grants"][0])
    errors = validation.giving_errors(valid_package, PREFIX)
    assert any(expected in error for error in errors), errors


def test_a_repeated_grant_id_fails(valid_package):
    twin = json.loads(json.dumps(valid_package["grants"][0]))
    twin["title"] = "Otro"
    valid_package["grants"].append(twin)
    assert any("repetido" in error for error in validation.giving_errors(valid_package, PREFIX))


def test_without_an_rfc_or_setting_the_publisher_id_is_flagged_and_the_setting_fixes_it(
    client, published_project, settings
):
    errors = validation.iati_errors(get(client, "/datos-abiertos/iati-actividades.xml"))
    assert any("reporting-org" in error for error in errors)
    settings.FICOSEC_ORG_IDENTIFIER = "MX-RFC-FCS120101AB1"
    data = get(client, "/datos-abiertos/iati-actividades.xml")
    assert validation.iati_errors(data) == []
    assert b"<iati-identifier>MX-RFC-FCS120101AB1-FIC-2024-001</iati-identifier>" in data


# --- Visibility ----------------------------------------------------------------------------------------------


def test_only_published_projects_and_never_internal_notes_reach_the_files(
    client, published_project, draft_project, review_project, archived_project, ficosec_rfc
):
    Project.objects.filter(pk=published_project.pk).update(conflict_of_interest="CONFLICTO-SECRETO")
    for url in (
        "/datos-abiertos/iati-actividades.xml",
        "/datos-abiertos/360giving.json",
        "/datos-abiertos/360giving.csv",
        "/datos-abiertos/datapackage.json",
        f"/datos-abiertos/iati/{published_project.code}.xml",
    ):
        data = get(client, url)
        for secret in ("NOTA-INTERNA", "CONFLICTO-SECRETO", draft_project.code, review_project.code):
            assert secret.encode() not in data, (url, secret)
        assert archived_project.code.encode() not in data, url
    assert published_project.code.encode() in get(client, "/datos-abiertos/iati-actividades.xml")


def test_the_file_of_one_project_answers_only_for_published_projects(client, published_project, draft_project):
    data = get(client, f"/datos-abiertos/iati/{published_project.code}.xml")
    assert len(ET.fromstring(data).findall("iati-activity")) == 1
    assert client.get(f"/datos-abiertos/iati/{draft_project.code}.xml").status_code == 404
    assert client.get("/datos-abiertos/iati/FIC-1999-999.xml").status_code == 404


def test_one_grant_per_award_to_a_non_ficosec_implementer(published_project, ficosec_rfc):
    from projects.opendata import giving360

    grants = list(giving360.grants())
    assert [g["id"] for g in grants] == [f"{PREFIX}-{published_project.code}-1"]
    grant = grants[0]
    assert grant["amountAwarded"] == 1000000.0  # the decision's amount
    assert grant["awardDate"] == "2023-12-01"  # the decision's session
    assert grant["recipientOrganization"][0]["id"] == "MX-RFC-CCA100101AB7"
    assert grant["fromOpenCall"] == "No"  # awarded by invitation, although the project's old field says open call
    assert grant["beneficiaryLocation"][0]["geoCode"] == "08037"
    assert {p["code"] for p in grant["grantProgramme"]} == {"eje-3", "linea-3"}
    # Awarded through a call: Yes, and the call is the programme.
    call = Call.objects.create(
        title="Convocatoria de prueba 2023", opens_on=date(2023, 9, 1), closes_on=date(2023, 10, 1), budget=10**7
    )
    AwardDecision.objects.filter(project=published_project).update(method="open_call", call=call)
    grant = next(giving360.grants())
    assert grant["fromOpenCall"] == "Yes"
    assert {"code": f"convocatoria-{call.pk}", "title": call.title} in grant["grantProgramme"]
    # A rejected decision is no grant; FICOSEC implementing its own project is not a grant either.
    AwardDecision.objects.filter(project=published_project).update(outcome="rejected")
    assert list(giving360.grants()) == []
    AwardDecision.objects.filter(project=published_project).update(outcome="approved")
    Participation.objects.filter(project=published_project, role="implementer").update(organization=ficosec_rfc)
    assert list(giving360.grants()) == []


# --- The data page -------------------------------------------------------------------------------------------


def test_the_data_page_is_linked_from_home_and_footer_and_tells_the_truth_about_every_file(
    client, published_project, ficosec_rfc, settings
):
    # The catalogue download writes absolute links from the request's host, the data page from PORTAL_URL: in
    # production they are the same host, and here too.
    settings.PORTAL_URL = "http://testserver"
    home = client.get("/").content.decode()
    assert home.count('href="/datos-abiertos/"') >= 2
    call_command("build_open_data", stdout=StringIO())  # the page shows the checksums of the files as built
    page = client.get("/datos-abiertos/").content.decode()
    assert "CC BY 4.0" in page and "creativecommons.org/licenses/by/4.0" in page
    for open_file in files.FILES:
        assert f'href="{open_file.url}"' in page, open_file.key
        digest = hashlib.sha256(get(client, open_file.url)).hexdigest()
        assert f'data-file="{open_file.key}">{digest}</code>' in page, open_file.key
    for column in dictionary.catalogue_columns():
        assert column["column"] in page
    assert str(Project._meta.get_field("ficosec_amount").verbose_name) in page
    assert "amountAwarded" in page and "Amount Awarded" in page
    assert "<code>participating-org</code>" in page and "<code>recipientOrganization/id</code>" in page
    assert "Cómo citar" in page


def test_a_change_to_a_project_changes_the_checksums(client, published_project, ficosec_rfc):
    before = files.summary(files.current_stamp())["sha256"]
    published_project.title = "Jóvenes constructores de paz, fase 2"
    published_project.save()
    after = files.summary(files.current_stamp())["sha256"]
    assert before["iati-activities"] != after["iati-activities"]
    assert before["360giving-json"] != after["360giving-json"]
    assert after["iati-activities"] in client.get("/datos-abiertos/").content.decode()


def test_the_data_page_never_builds_a_file_and_says_the_checksums_come_with_the_build(
    client, published_project, ficosec_rfc, settings, tmp_path
):
    settings.OPEN_DATA_DIR = str(tmp_path)
    page = client.get("/datos-abiertos/").content.decode()
    assert list(tmp_path.iterdir()) == []  # nothing written: at 100,000 projects a build takes minutes
    assert "aún no se han generado" in page
    for open_file in files.FILES:
        assert f'data-file="{open_file.key}">se calcula al generar el archivo</span>' in page, open_file.key
    assert "amountAwarded" in page  # the dictionary does not wait for the build
    call_command("build_open_data", stdout=StringIO())
    page = client.get("/datos-abiertos/").content.decode()
    assert "se calcula al generar" not in page and "aún no se han generado" not in page
    assert "los 1 proyectos publicados, 1 donativos de FICOSEC y las 2 organizaciones" in page
    published_project.title = "Otro título"
    published_project.save()  # the built checksums are of the old data: the page shows none until the next build
    page = client.get("/datos-abiertos/").content.decode()
    assert "aún no se han generado" in page and 'class="hash" data-file' not in page


# The queries of the data page, whether its files are built or not: the time of the last change (figures.stamp),
# the publisher, and the dictionary's sample of grants (the publisher again, the projects, their lines,
# municipalities, participations and commitments: 6).
DATA_PAGE_QUERIES = 8


@pytest.mark.parametrize("built", [False, True])
def test_the_data_page_asks_a_fixed_number_of_queries(
    client, org_a, ficosec_rfc, built, settings, tmp_path, django_assert_num_queries
):
    settings.OPEN_DATA_DIR = str(tmp_path)
    make_project("FIC-2024-201", "Uno", org_a, Project.Publication.PUBLISHED, ficosec=ficosec_rfc)
    for n in range(2, 6):
        make_project(f"FIC-2024-2{n:02d}", f"Otro {n}", org_a, Project.Publication.PUBLISHED, ficosec=ficosec_rfc)
    if built:
        call_command("build_open_data", stdout=StringIO())
    client.get("/datos-abiertos/")  # the first request also reads the site's demo flag, kept for later ones
    with django_assert_num_queries(DATA_PAGE_QUERIES):
        assert client.get("/datos-abiertos/").status_code == 200


def test_the_datapackage_describes_the_csv_files_as_they_are(client, published_project, ficosec_rfc):
    package = json.loads(get(client, "/datos-abiertos/datapackage.json"))
    assert {"name", "resources", "licenses"} <= set(package)
    assert package["licenses"][0]["name"] == "CC-BY-4.0"
    assert len(package["resources"]) == 2
    for resource in package["resources"]:
        assert {"name", "path", "schema", "format"} <= set(resource)
        assert resource["name"] == resource["name"].lower() and " " not in resource["name"]
        fields = resource["schema"]["fields"]
        assert all({"name", "type"} <= set(field) for field in fields)
        assert all(field["type"] in {"string", "number", "integer", "date"} for field in fields)
        path = resource["path"].split("://", 1)[1].split("/", 1)[1]
        header = next(csv.reader(io.StringIO(get(client, f"/{path}").decode("utf-8-sig"))))
        assert [field["name"] for field in fields] == header, resource["name"]


def test_the_catalogue_dictionary_follows_the_export_columns():
    assert [row["column"] for row in dictionary.catalogue_columns()] == [h for _k, h in exports.COLUMNS]
    assert set(dictionary.CATALOGUE_SOURCES) == {key for key, _h in exports.COLUMNS}


def test_every_organization_kind_and_project_status_has_an_iati_code():
    assert set(iati.ORGANISATION_TYPE) == set(Organization.Kind)
    assert set(iati.ACTIVITY_STATUS) == set(Project.Status)
    assert set(iati.ORGANISATION_TYPE.values()) | {iati.FICOSEC_TYPE} <= validation.codelist("OrganisationType")
    assert set(iati.ACTIVITY_STATUS.values()) <= validation.codelist("ActivityStatus")
    assert set(iati.DAC_SECTOR_BY_LINE.values()) <= validation.codelist("Sector")


def test_built_files_are_served_from_disk_with_the_same_bytes(client, published_project, ficosec_rfc):
    live = get(client, "/datos-abiertos/iati-actividades.xml")
    out = StringIO()
    call_command("build_open_data", stdout=out)
    stamp = files.current_stamp()
    for key in ("iati-activities", "360giving-json"):
        open_file = files.BY_KEY[key]
        assert files.built_path(open_file, stamp) is not None, key
        assert f"sha256:{files.sha256(open_file, stamp)}" in out.getvalue()
    response = client.get("/datos-abiertos/iati-actividades.xml")
    assert response.__class__.__name__ == "FileResponse"
    assert body(response) == live
    published_project.title = "Otro título"
    published_project.save()  # a change: the next download is made afresh, never the stale file
    assert b"Otro t\xc3\xadtulo" in get(client, "/datos-abiertos/iati-actividades.xml")


def test_the_sitemap_lists_the_data_page(client):
    assert "/datos-abiertos/</loc>" in client.get("/sitemap.xml").content.decode()


# --- Where the figures come from: ledger, award decisions, small-cell rule, sensitive sites --------------------


def activity_of(client, project):
    root = ET.fromstring(get(client, f"/datos-abiertos/iati/{project.code}.xml"))
    return root.find("iati-activity")


def transactions(activity):
    return [
        (
            t.find("transaction-type").get("code"),
            t.find("transaction-date").get("iso-date"),
            Decimal(t.findtext("value")),
        )
        for t in activity.iterfind("transaction")
    ]


def test_a_ledger_backed_project_publishes_commitments_paid_disbursements_and_monthly_expenditure(
    client, published_project, ficosec_rfc, org_a, org_b
):
    from projects import cfdi
    from projects.demo_money import fictitious_rfc
    from projects.models import ExpenseProof

    issuer = fictitious_rfc("PSE200101AA")

    # Without ledger rows: the cash participations, as commitments.
    assert sorted(transactions(activity_of(client, published_project))) == [
        ("2", "2023-12-01", Decimal("250000.00")),
        ("2", "2023-12-01", Decimal("1000000.00")),
    ]
    ours = Commitment.objects.create(
        project=published_project, organization=ficosec_rfc, amount=900000, date=date(2024, 1, 10)
    )
    theirs = Commitment.objects.create(
        project=published_project, organization=org_b, amount=100000, date=date(2024, 1, 20)
    )
    Commitment.objects.create(
        project=published_project,
        organization=org_b,
        amount=5000,
        date=date(2024, 1, 20),
        kind="in_kind",
        in_kind_description="Salón",
        valuation_method="Renta de mercado",
    )
    first = ours.disburse(400000, org_a, date(2024, 2, 1), date(2024, 2, 3))
    ours.disburse(500000, org_a, date(2024, 8, 1))  # planned, not paid: no transaction yet
    theirs.disburse(100000, org_a, date(2024, 2, 1), date(2024, 2, 5))
    for n, (day, total) in enumerate(
        [(date(2024, 3, 5), "1000.00"), (date(2024, 3, 20), "2500.50"), (date(2024, 4, 2), "700")]
    ):
        xml = cfdi.build(
            f"6f1b2c3d-0000-4000-8000-00000000a0{n:02d}",
            issuer,
            "CCA100101AB7",
            day,
            total,
            serie="Z",
            folio=f"FOLIO-SECRETO-{n}",
            issuer_name="PROVEEDORA SECRETA",
        )
        ExpenseProof.record(xml, first)

    data = get(client, f"/datos-abiertos/iati/{published_project.code}.xml") + get(
        client, "/datos-abiertos/iati-actividades.xml"
    )
    activity = activity_of(client, published_project)
    assert sorted(transactions(activity)) == [
        ("11", "2024-01-20", Decimal("100000.00")),  # another funder's commitment: incoming
        ("2", "2024-01-10", Decimal("900000.00")),  # FICOSEC's own: outgoing
        ("3", "2024-02-03", Decimal("400000.00")),
        ("3", "2024-02-05", Decimal("100000.00")),
        ("4", "2024-03-31", Decimal("3500.50")),  # March's two invoices, as one sum
        ("4", "2024-04-30", Decimal("700.00")),
    ]
    expenditure = [t for t in activity.iterfind("transaction") if t.find("transaction-type").get("code") == "4"]
    assert {t.find("provider-org").get("ref") for t in expenditure} == {"MX-RFC-CCA100101AB7"}
    for secret in (b"FOLIO-SECRETO", b"PROVEEDORA SECRETA", issuer.encode(), b"6F1B2C3D", b"6f1b2c3d", b"2024-03-05"):
        assert secret not in data, secret
    assert validation.iati_errors(data[: data.index(b"</iati-activities>") + 18]) == []


def test_a_shared_award_gives_one_grant_per_implementer_split_by_the_ledger(published_project, ficosec_rfc, org_b):
    from projects.opendata import giving360

    Participation.objects.create(project=published_project, organization=org_b, role="implementer")
    ours = Commitment.objects.create(
        project=published_project, organization=ficosec_rfc, amount=1000000, date=date(2024, 1, 10)
    )
    ours.disburse(Decimal("666666.67"), org_b, date(2024, 2, 1))
    ours.disburse(
        Decimal("333333.33"),
        published_project.participations.get(role="implementer", amount=250000).organization,
        date(2024, 2, 1),
    )
    AwardDecision.objects.filter(project=published_project).update(amount=Decimal("900000.00"))
    grants = list(giving360.grants())
    assert [(g["id"], g["recipientOrganization"][0]["name"], Decimal(str(g["amountAwarded"]))) for g in grants] == [
        (f"{PREFIX}-{published_project.code}-1", "Centro Comunitario Alfa, A.C.", Decimal("300000.00")),
        (f"{PREFIX}-{published_project.code}-2", org_b.name, Decimal("600000.00")),
    ]
    assert validation.giving_errors({"version": "1.4", "grants": grants}, PREFIX) == []


def numbers_in(value):
    if isinstance(value, dict):
        return [n for v in value.values() for n in numbers_in(v)]
    if isinstance(value, list):
        return [n for v in value for n in numbers_in(v)]
    return [value] if isinstance(value, (int, float)) else []


def test_a_count_of_people_under_the_threshold_never_reaches_the_files(client, published_project, ficosec_rfc):
    indicator = published_project.indicators.get()
    indicator.measurements.create(date=date(2024, 6, 30), value=7)
    indicator.baseline = 3
    indicator.unit_kind = indicator.UnitKind.PEOPLE
    indicator.save()
    iati_bytes = get(client, "/datos-abiertos/iati-actividades.xml") + get(
        client, f"/datos-abiertos/iati/{published_project.code}.xml"
    )
    assert b'value="7' not in iati_bytes and b'value="3' not in iati_bytes
    assert b'value="40' in iati_bytes and b'value="100' in iati_bytes  # what is not small is published
    period = ET.fromstring(iati_bytes[: iati_bytes.index(b"</iati-activities>") + 18]).findall(".//period")[-1]
    assert period.find("period-end").get("iso-date") == "2024-06-30"
    assert period.find("actual").get("value") is None
    assert period.findtext("actual/comment/narrative") == "menos de 10"
    assert validation.iati_errors(iati_bytes[: iati_bytes.index(b"</iati-activities>") + 18]) == []
    package = json.loads(get(client, "/datos-abiertos/360giving.json"))
    assert 7 not in numbers_in(package) and 3 not in numbers_in(package)
    assert b",7," not in get(client, "/datos-abiertos/360giving.csv")


def test_a_sensitive_sites_name_never_reaches_the_files_and_its_series_is_one_total_per_period(
    client, published_project, ficosec_rfc
):
    indicator = published_project.indicators.get()
    indicator.measurements.create(date=date(2024, 5, 31), value=55)
    Project.objects.filter(pk=published_project.pk).update(sensitive_site=True, site_name="Refugio Casa Lucero")
    urls = [
        "/datos-abiertos/iati-actividades.xml",
        f"/datos-abiertos/iati/{published_project.code}.xml",
        "/datos-abiertos/360giving.json",
        "/datos-abiertos/360giving.csv",
        "/datos-abiertos/360giving.xlsx",
        "/datos-abiertos/datapackage.json",
    ]
    for url in urls:
        data = get(client, url)
        assert b"Lucero" not in data, url
    activity = activity_of(client, published_project)
    assert [loc.get("ref") for loc in activity.iterfind("location")] == ["MX-INEGI-08037"]
    periods = activity.findall(".//period")
    assert [(p.find("period-start").get("iso-date"), p.find("period-end").get("iso-date")) for p in periods] == [
        ("2024-01-01", "2024-12-31")  # one total for the year: no dated measurement
    ]
    assert periods[0].find("actual").get("value") == "55"
