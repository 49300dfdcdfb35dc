"""Money you can follow: the ledger's rules (over-disbursement, duplicate and near-duplicate invoices, RFCs, CFDI
reading), who sees invoices, and the public figures (page = CSV = API, totals = sums of rows, half-up rounding)."""

import csv
import io
import re
from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from projects import accountability, cfdi
from projects.demo_money import fictitious_rfc, folio_fiscal
from projects.models import (
    AlreadyCharged,
    AnnualReport,
    Charge,
    Commitment,
    Disbursement,
    ExpenseProof,
    Organization,
    Project,
)
from projects.models.common import validate_rfc

from .conftest import make_project

pytestmark = pytest.mark.django_db

SUPPLIER = fictitious_rfc("EJE200101AA")
OTHER_SUPPLIER = fictitious_rfc("EJE200102AA")
RECEIVER = fictitious_rfc("EJF200101AA")


def invoice(label, total="1160.00", issuer=SUPPLIER, issued_on=date(2024, 3, 1), serie="A", folio=None, **extra):
    return cfdi.build(
        folio_fiscal(label), issuer, RECEIVER, issued_on, Decimal(total), serie=serie, folio=folio or label, **extra
    )


@pytest.fixture
def ledger(published_project, ficosec_org, org_a):
    """FICOSEC commits 1,000,000 to the published project and pays 400,000 of it to org_a (tranche 1)."""
    commitment = Commitment.objects.create(
        project=published_project, organization=ficosec_org, amount=Decimal("1000000.00"), date=date(2024, 1, 15)
    )
    disbursement = commitment.disburse(Decimal("400000.00"), org_a, date(2024, 2, 1), date(2024, 2, 3))
    return commitment, disbursement


@pytest.fixture
def other_ledger(review_project, ficosec_org, org_b):
    commitment = Commitment.objects.create(
        project=review_project, organization=ficosec_org, amount=Decimal("500000.00"), date=date(2024, 1, 20)
    )
    return commitment, commitment.disburse(Decimal("100000.00"), org_b, date(2024, 2, 1), date(2024, 2, 5))


def nothing_written():
    return (ExpenseProof.objects.count(), Charge.objects.count(), Disbursement.objects.count())


# --- RFC -----------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["GODE561231GR8", SUPPLIER, "XAXX010101000", "XEXX010101000", "gode561231gr8"])
def test_real_fictitious_and_generic_rfcs_pass_the_one_validator(value):
    validate_rfc(value)


@pytest.mark.parametrize("value", ["CAP900101AB2", "ABC991399AA1", "ABC", "1234567890123"])
def test_rfcs_with_a_wrong_check_digit_date_or_shape_are_refused_in_spanish(value):
    with pytest.raises(ValidationError) as error:
        validate_rfc(value)
    assert "RFC inválido" in error.value.messages[0]


# --- CFDI reading ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("version", ["3.3", "4.0"])
def test_a_stamped_cfdi_is_read_with_its_folio_fiscal_rfcs_date_total_and_number(version):
    read = cfdi.parse(invoice("leer", total="2320.50", version=version, folio="77"))
    assert read.uuid == folio_fiscal("leer")
    assert (read.version, read.issuer_rfc, read.receiver_rfc) == (version, SUPPLIER, RECEIVER)
    assert (read.issued_on, read.total, read.currency, read.serie, read.folio) == (
        date(2024, 3, 1),
        Decimal("2320.50"),
        "MXN",
        "A",
        "77",
    )


def unstamped():
    return re.sub(rb"<cfdi:Complemento>.*</cfdi:Complemento>", b"", invoice("sin-timbre"), flags=re.S)


@pytest.mark.parametrize(
    "data, message",
    [
        (b"", "vacío"),
        (b"esto no es XML", "no es un CFDI timbrado"),
        (b"<?xml version='1.0'?><factura/>", "no es un CFDI timbrado"),
        (invoice("ns").replace(b"cfd/4", b"cfd/9"), "no es un CFDI timbrado"),
        (b'<!DOCTYPE x [<!ENTITY a "a">]>' + invoice("bomba"), "no es un CFDI timbrado"),
        (b"<a>" + b" " * (2 * 1024 * 1024) + b"</a>", "2 MB"),
        (invoice("rfc", issuer="CAP900101AB2"), "RFC del emisor"),
    ],
)
def test_anything_but_a_stamped_cfdi_is_refused_with_a_clear_message(data, message):
    with pytest.raises(ValidationError) as error:
        cfdi.parse(data)
    assert message in error.value.messages[0]


def test_a_cfdi_without_its_timbre_fiscal_is_refused():
    with pytest.raises(ValidationError) as error:
        cfdi.parse(unstamped())
    assert "no está timbrado" in error.value.messages[0]


# --- The ledger's rules ------------------------------------------------------------------------------------------


def test_a_disbursement_beyond_what_remains_committed_is_refused_and_nothing_is_written(ledger, org_a):
    commitment, _first = ledger
    second = commitment.disburse(Decimal("600000.00"), org_a, date(2024, 6, 1))
    assert second.tranche == 2
    before = nothing_written()
    with pytest.raises(ValidationError) as error:
        commitment.disburse(Decimal("0.01"), org_a, date(2024, 9, 1))
    assert "excede lo que queda" in error.value.messages[0]
    assert nothing_written() == before


def test_the_database_refuses_non_positive_amounts(ledger):
    commitment, disbursement = ledger
    with pytest.raises(IntegrityError), transaction.atomic():
        Disbursement.objects.filter(pk=disbursement.pk).update(amount=0)
    with pytest.raises(IntegrityError), transaction.atomic():
        Commitment.objects.filter(pk=commitment.pk).update(amount=-1)


def test_an_in_kind_commitment_must_say_what_and_how_it_was_valued(published_project, org_b):
    commitment = Commitment(project=published_project, organization=org_b, amount=10, date=date(2024, 1, 1))
    commitment.kind = Commitment.Kind.IN_KIND
    with pytest.raises(ValidationError) as error:
        commitment.full_clean()
    assert "especie" in str(error.value)


def test_one_invoice_may_be_split_across_projects_but_never_above_its_total(ledger, other_ledger):
    data = invoice("dividida", total="1000.00")
    proof = ExpenseProof.record(data, ledger[1], Decimal("600.00"))
    assert proof.remaining == Decimal("400.00")
    proof = ExpenseProof.record(data, other_ledger[1])  # the rest, by default
    assert (proof.charged, proof.charges.count()) == (Decimal("1000.00"), 2)
    with pytest.raises(IntegrityError), transaction.atomic():  # the database itself refuses more than the total
        ExpenseProof.objects.filter(pk=proof.pk).update(charged=Decimal("1000.01"))


def test_the_same_folio_fiscal_charged_again_is_refused_and_nothing_is_written(ledger, other_ledger):
    data = invoice("duplicada")
    ExpenseProof.record(data, ledger[1])
    before = nothing_written()
    with pytest.raises(AlreadyCharged):
        ExpenseProof.record(data, other_ledger[1])
    with pytest.raises(AlreadyCharged):  # nor twice to the same disbursement, even split
        ExpenseProof.record(data, ledger[1], Decimal("1.00"))
    assert nothing_written() == before


def test_near_duplicates_are_accepted_but_queued_with_the_reason(ledger):
    first = ExpenseProof.record(invoice("original", total="5000.00", folio="100"), ledger[1])
    same_day = ExpenseProof.record(invoice("gemelo", total="5000.00", folio="101"), ledger[1])
    same_number = ExpenseProof.record(
        invoice("renumerado", total="10.00", issued_on=date(2024, 4, 2), folio="100"), ledger[1]
    )
    unrelated = ExpenseProof.record(invoice("otro", total="5000.00", issuer=OTHER_SUPPLIER, folio="100"), ledger[1])
    assert not first.review_reason and not unrelated.review_reason
    assert "mismo emisor, total y fecha" in same_day.review_reason and str(first) in same_day.review_reason
    assert "misma serie y folio (A100)" in same_number.review_reason
    assert set(ExpenseProof.objects.in_review()) == {same_day, same_number}


# --- The workspace -----------------------------------------------------------------------------------------------


def upload(client, project, data, disbursement, amount="", name="factura.xml"):
    return client.post(
        f"/gestion/proyectos/{project.code}/dinero/cfdi/",
        {
            "xml": SimpleUploadedFile(name, data, content_type="text/xml"),
            "disbursement": disbursement.pk,
            "amount": amount,
        },
    )


def test_an_editor_uploads_a_cfdi_and_sees_it_counted(client, editor, ledger, published_project):
    client.force_login(editor)
    response = upload(client, published_project, invoice("contada", total="2320.00"), ledger[1])
    assert response.status_code == 302
    page = client.get(response["Location"]).content.decode()
    assert folio_fiscal("contada") in page
    assert 'data-measure="proven">$2,320.00' in page


def test_the_same_file_on_another_project_is_refused_with_a_link_to_the_first(
    client, editor, ledger, other_ledger, published_project, review_project
):
    client.force_login(editor)
    data = invoice("enlazada")
    upload(client, published_project, data, ledger[1])
    before = nothing_written()
    response = upload(client, review_project, data, other_ledger[1])
    assert response.status_code == 400
    body = response.content.decode()
    assert "ya está registrado" in body
    proof = ExpenseProof.objects.get()
    link = f'href="/gestion/proyectos/{published_project.code}/dinero/#cfdi-{proof.pk}"'
    assert link in body
    assert (
        f'id="cfdi-{proof.pk}"' in client.get(f"/gestion/proyectos/{published_project.code}/dinero/").content.decode()
    )
    assert nothing_written() == before


def test_a_partner_uploads_to_its_own_project_and_learns_only_that_a_duplicate_is_used(
    client, partner, editor, ledger, other_ledger, published_project, review_project
):
    data = invoice("socia")
    client.force_login(editor)
    upload(client, review_project, data, other_ledger[1])
    client.force_login(partner)
    response = upload(client, published_project, data, ledger[1])
    assert response.status_code == 400
    body = response.content.decode()
    assert "ya está registrado" in body and review_project.code not in body
    assert upload(client, published_project, invoice("socia-2"), ledger[1]).status_code == 302
    # the other organization's project is out of reach
    assert upload(client, review_project, invoice("socia-3"), other_ledger[1]).status_code == 404


@pytest.mark.parametrize("data", [b"no es xml", unstamped(), invoice("rfc-malo", issuer="CAP900101AB2")])
def test_an_invalid_cfdi_upload_is_a_400_in_spanish_and_nothing_is_written(
    client, editor, ledger, published_project, data
):
    client.force_login(editor)
    before = nothing_written()
    response = upload(client, published_project, data, ledger[1])
    assert response.status_code == 400 and "CFDI" in response.content.decode() or "RFC" in response.content.decode()
    assert nothing_written() == before


def test_an_over_disbursement_in_the_workspace_is_a_400_and_nothing_is_written(
    client, editor, ledger, published_project, org_a
):
    client.force_login(editor)
    before = nothing_written()
    response = client.post(
        f"/gestion/proyectos/{published_project.code}/dinero/ministracion/",
        {"commitment": ledger[0].pk, "recipient": org_a.pk, "amount": "600000.01", "planned_date": "2024-05-01"},
    )
    assert response.status_code == 400 and "excede lo que queda" in response.content.decode()
    assert nothing_written() == before
    response = client.post(
        f"/gestion/proyectos/{published_project.code}/dinero/ministracion/",
        {"commitment": ledger[0].pk, "recipient": org_a.pk, "amount": "600000.00", "planned_date": "2024-05-01"},
    )
    assert response.status_code == 302 and ledger[0].disbursements.count() == 2


def test_staff_record_commitments_and_coordinators_approve_them(client, editor, coordinator, published_project, org_b):
    client.force_login(editor)
    response = client.post(
        f"/gestion/proyectos/{published_project.code}/dinero/compromiso/",
        {"organization": org_b.pk, "amount": "250000.00", "date": "2024-02-01", "kind": "cash"},
    )
    assert response.status_code == 302
    commitment = Commitment.objects.get(organization=org_b)
    assert client.post(f"/gestion/dinero/aprobar/compromiso/{commitment.pk}/").status_code == 403
    client.force_login(coordinator)
    assert client.post(f"/gestion/dinero/aprobar/compromiso/{commitment.pk}/").status_code == 302
    commitment.refresh_from_db()
    assert commitment.approved_by == coordinator
    assert commitment.history.count() == 2  # created, approved: history kept like everything else


def test_the_review_queue_lists_near_duplicates_and_coordinators_clear_them(client, editor, coordinator, ledger):
    ExpenseProof.record(invoice("cola-1", total="700.00"), ledger[1])
    twin = ExpenseProof.record(invoice("cola-2", total="700.00"), ledger[1])
    client.force_login(editor)
    page = client.get("/gestion/dinero/revision/").content.decode()
    assert str(twin) in page and "mismo emisor, total y fecha" in page
    assert client.post(f"/gestion/dinero/revision/{twin.pk}/").status_code == 403
    client.force_login(coordinator)
    assert client.post(f"/gestion/dinero/revision/{twin.pk}/").status_code == 302
    assert f"<code>{twin}</code>" not in client.get("/gestion/dinero/revision/").content.decode()


def test_review_queue_queries_do_not_grow_with_rows(client, editor, ledger, django_assert_max_num_queries):
    client.force_login(editor)
    for n in range(6):
        ExpenseProof.record(invoice(f"q-{n}", total="300.00"), ledger[1], Decimal("1.00"))
    with django_assert_max_num_queries(8):
        assert client.get("/gestion/dinero/revision/").status_code == 200


# --- What the public sees ----------------------------------------------------------------------------------------


@pytest.fixture
def figures_data(ledger, other_ledger, published_project, org_b, ficosec_org):
    """Cash and in kind from others, paid and proven money, and the annual totals of 2024."""
    Commitment.objects.create(
        project=published_project, organization=org_b, amount=Decimal("300000.005"), date=date(2024, 3, 1)
    )
    Commitment.objects.create(
        project=published_project,
        organization=org_b,
        amount=Decimal("50000.00"),
        date=date(2024, 3, 1),
        kind=Commitment.Kind.IN_KIND,
        in_kind_description="Salón",
        valuation_method="Renta de mercado",
    )
    ExpenseProof.record(invoice("publica", total="123456.785"), ledger[1])
    AnnualReport.objects.create(year=2024, projects=3, amount=Decimal("2000000.00"), source="Informe 2024")


def test_the_home_page_links_to_the_money_page(client):
    assert 'href="/dinero/"' in client.get("/").content.decode()


def test_totals_equal_the_sums_of_their_rows(figures_data):
    data = accountability.compute()
    total = next(row for row in data["rows"] if row["dimension"] == "total")
    for dimension in ("year", "axis", "sector", "kind", "award"):
        rows = [row for row in data["rows"] if row["dimension"] == dimension]
        for measure in ("committed", "paid", "proven"):
            assert sum(row[measure] for row in rows) == total[measure], (dimension, measure)
            assert all(isinstance(row[measure], Decimal) for row in rows)


def test_only_published_projects_count_and_leverage_keeps_in_kind_apart(figures_data):
    total = next(row for row in accountability.compute()["rows"] if row["dimension"] == "total")
    # the review project's 500,000 is not public; 1,000,000 FICOSEC + 300,000.01 (rounded on save) + 50,000 in kind
    assert total["committed"] == Decimal("1350000.01")
    assert total["paid"] == Decimal("400000.00")
    assert total["leverage_cash"] == Decimal("0.30")
    assert total["in_kind_per_ficosec_peso"] == Decimal("0.05")


def money_cells(html):
    """The three totals at the top of the money page."""
    block = html.split('id="totales"', 1)[1].split("</dl>", 1)[0]
    return dict(re.findall(r'data-measure="(committed|paid|proven)">([^<]+)<', block))


def test_page_csv_and_api_show_the_same_figures(client, figures_data):
    page = client.get("/dinero/").content.decode()
    assert money_cells(page) == {"committed": "$1,350,000.01", "paid": "$400,000.00", "proven": "$123,456.79"}
    rows = list(csv.DictReader(io.StringIO(client.get("/dinero/descarga.csv").content.decode())))
    api = client.get("/api/v1/money-figures/").json()["rows"]
    assert len(rows) == len(api)
    for from_csv, from_api in zip(rows, api, strict=True):
        assert (from_csv["comprometido"], from_csv["ministrado"], from_csv["comprobado"]) == (
            from_api["committed"],
            from_api["paid"],
            from_api["proven"],
        )
    total = api[0]
    assert total["dimension"] == "total" and total["proven"] == "123456.79"  # stored to the cent, half up


def test_every_figure_links_to_a_catalogue_that_holds_its_projects(client, figures_data, published_project):
    page = client.get("/dinero/").content.decode()
    links = set(re.findall(r'href="(/proyectos/\?[^"]+)"', page))
    assert links
    for link in links:
        catalogue = client.get(link.replace("&amp;", "&"))
        assert catalogue.status_code == 200
        assert published_project.title in catalogue.content.decode(), link


def test_the_reconciliation_shows_the_published_total_beside_the_portals_with_the_difference(client, figures_data):
    row = accountability.compute()["reconciliation"][0]
    assert (row["published_amount"], row["portal_amount"]) == (Decimal("2000000.00"), Decimal("1350000.01"))
    assert row["difference_amount"] == Decimal("-649999.99")
    assert (row["published_projects"], row["portal_projects"], row["difference_projects"]) == (3, 1, -2)
    page = client.get("/dinero/").content.decode()
    assert "-$649,999.99" in page or "$-649,999.99" in page


@pytest.mark.parametrize(
    "value, shown", [("2.005", "$2.01"), ("2.015", "$2.02"), ("1234567.125", "$1,234,567.13"), ("-0.005", "-$0.01")]
)
def test_money_is_shown_rounded_half_up(value, shown):
    from projects.templatetags.portal import mxn

    assert mxn(Decimal(value)) in (shown, shown.replace("-$", "$-"))


def test_the_cached_figures_change_as_soon_as_an_invoice_is_charged(client, figures_data, ledger):
    assert money_cells(client.get("/dinero/").content.decode())["proven"] == "$123,456.79"
    ExpenseProof.record(invoice("despues", total="1.21"), ledger[1])
    assert money_cells(client.get("/dinero/").content.decode())["proven"] == "$123,458.00"
    assert client.get("/api/v1/money-figures/").json()["rows"][0]["proven"] == "123458.00"


def row_labels(html):
    return set(re.findall(r'<th scope="row">(?:<a [^>]+>)?([^<]+)<', html))


def test_each_language_gets_its_own_labels_whichever_visit_filled_the_cache(client, figures_data, published_project):
    Project.objects.filter(pk=published_project.pk).update(award_type="")  # a row without award type
    english = row_labels(client.get("/en/dinero/").content.decode())
    spanish = row_labels(client.get("/dinero/").content.decode())  # the same cached figures
    axis = published_project.axis
    assert {axis.short_name_en, "No data", "Cash", "Civil society"} <= english
    assert {axis.short_name, "Sin dato", "Monetaria", "Sociedad civil"} <= spanish
    assert not english & {axis.short_name, "Sin dato", "Monetaria"}
    assert not spanish & {axis.short_name_en, "No data", "Cash"}


def test_a_bad_year_is_a_400_not_a_500(client):
    assert client.get("/dinero/?anio=abc").status_code == 400
    assert client.get("/dinero/descarga.csv?anio=1800").status_code == 400
    assert client.get("/api/v1/money-figures/?anio=abc").status_code == 400


def test_invoices_are_never_public(client, figures_data, published_project):
    proof = ExpenseProof.objects.get()
    assert client.get("/api/v1/proofs/").json()["count"] == 0
    for path in ("/dinero/", "/dinero/descarga.csv", published_project.get_absolute_url(), "/api/v1/money-figures/"):
        body = client.get(path).content.decode()
        assert str(proof) not in body and proof.issuer_rfc not in body, path


def test_the_project_page_shows_the_money_timeline_per_implementer(client, figures_data, published_project):
    body = client.get(published_project.get_absolute_url()).content.decode()
    assert 'id="seguimiento-dinero"' in body
    assert "$400,000.00" in body and "$123,456.79" in body
    assert "30.86 %" in body  # proven share of what was paid: 123,456.79 / 400,000


def test_the_organization_page_shows_money_received_per_year(client, figures_data, org_a):
    body = client.get(org_a.get_absolute_url()).content.decode()
    assert 'id="tabla-recibido"' in body and "$400,000.00" in body


def test_the_money_page_and_lists_do_not_grow_queries_with_rows(
    client, figures_data, ledger, org_a, django_assert_max_num_queries
):
    for n in range(5):
        ledger[0].disburse(Decimal("1000.00"), org_a, date(2024, 7, n + 1), date(2024, 7, n + 1))
    with django_assert_max_num_queries(14):
        assert client.get("/dinero/").status_code == 200
    for path in ("/api/v1/commitments/", "/api/v1/disbursements/", "/api/v1/money-figures/"):
        with django_assert_max_num_queries(12):
            assert client.get(path).status_code == 200


def grow_ledger(projects, tranches, invoices, implementer, ficosec, first=0):
    """More published projects, each with a FICOSEC commitment, paid tranches and charged invoices."""
    for n in range(first, first + projects):
        project = make_project(f"FIC-2024-2{n:02d}", f"Proyecto que crece {n}", implementer, "published")
        commitment = Commitment.objects.create(
            project=project, organization=ficosec, amount=Decimal("90000.00"), date=date(2024, 2, 1)
        )
        for tranche in range(1, tranches + 1):
            paid = commitment.disburse(Decimal("1000.00"), implementer, date(2024, 3, tranche), date(2024, 3, tranche))
            for k in range(invoices):
                label = f"crece-{n}-{tranche}-{k}"
                ExpenseProof.record(invoice(label, total=f"{100 + 7 * n + 3 * tranche + k}.00"), paid)


def queries_of(client, path):
    with CaptureQueriesContext(connection) as queries:
        assert client.get(path).status_code == 200
    return [query["sql"] for query in queries.captured_queries]


def test_the_money_page_runs_the_same_queries_for_a_big_ledger_as_for_a_small_one(
    client, figures_data, org_a, ficosec_org
):
    """Uncached (every ledger write changes the figures' cache key), the page runs a fixed handful of aggregate
    queries whatever the number of projects, tranches and invoices: what the benchmark measures at 100,000
    projects and 900,000 invoices is the cost of those aggregates, never more of them."""
    small = queries_of(client, "/dinero/")
    grow_ledger(4, 3, 3, org_a, ficosec_org)
    assert Charge.objects.count() > 36
    big = queries_of(client, "/dinero/")
    # The cache key (stamp: the newest catalogue change and the newest ledger history rows, in one query: 1), the
    # figures (committed, paid and proven by year, axis, sector, kind and award, from the sums PostgreSQL keeps at
    # their grain: 1; projects with a commitment per year, axis and award type: 1), the axes' names (1) and the
    # annual reports (1). Neither the ledger nor the per-project money facts are read.
    assert len(big) == len(small) == 5
    assert sum("projects_moneyfigure" in sql for sql in big) == sum("projects_moneyprojectcount" in sql for sql in big)
    assert sum("projects_moneyfigure" in sql for sql in big) == 1
    assert not any("projects_moneyfact" in sql for sql in big)
    assert not any(table in sql for sql in big for table in ("projects_charge", "projects_disbursement"))
    assert len(queries_of(client, "/dinero/?anio=2024")) == 5


def test_the_money_timeline_runs_the_same_queries_for_many_tranches_and_invoices(client, org_a, ficosec_org):
    grow_ledger(1, 1, 1, org_a, ficosec_org)
    few = len(queries_of(client, Project.objects.get(code="FIC-2024-200").get_absolute_url()))
    grow_ledger(1, 6, 4, org_a, ficosec_org, first=1)
    many = Project.objects.get(code="FIC-2024-201")
    assert Charge.objects.filter(disbursement__commitment__project=many).count() == 24
    assert len(queries_of(client, many.get_absolute_url())) == few


# --- API ---------------------------------------------------------------------------------------------------------


def key_header(raw):
    return {"HTTP_AUTHORIZATION": f"Api-Key {raw}"}


def test_commitments_and_disbursements_are_public_for_published_projects_only(client, figures_data, review_project):
    codes = {row["project"] for row in client.get("/api/v1/commitments/").json()["results"]}
    assert codes == {Project.objects.get(publication_state="published").code}
    assert review_project.code not in client.get("/api/v1/disbursements/").content.decode()
    filtered = client.get("/api/v1/commitments/?organization=beta&year=2024").json()
    assert filtered["count"] == 2


def test_a_partner_key_uploads_a_cfdi_to_its_own_project_and_sees_only_its_proofs(
    client, partner_key, ledger, other_ledger, editor
):
    ExpenseProof.record(invoice("ajena"), other_ledger[1])
    response = client.post(
        "/api/v1/proofs/",
        {"xml": SimpleUploadedFile("f.xml", invoice("por-api")), "disbursement": ledger[1].pk},
        **key_header(partner_key),
    )
    assert response.status_code == 201, response.content
    assert response.json()["uuid"].upper() == folio_fiscal("por-api")
    listed = client.get("/api/v1/proofs/", **key_header(partner_key)).json()
    assert [row["uuid"].upper() for row in listed["results"]] == [folio_fiscal("por-api")]
    again = client.post(
        "/api/v1/proofs/",
        {"xml": SimpleUploadedFile("f.xml", invoice("ajena")), "disbursement": ledger[1].pk},
        **key_header(partner_key),
    )
    assert again.status_code == 409 and "ya está registrado" in again.json()["detail"]
    assert other_ledger[0].project.code not in again.json()["detail"]
    elsewhere = client.post(
        "/api/v1/proofs/",
        {"xml": SimpleUploadedFile("f.xml", invoice("fuera")), "disbursement": other_ledger[1].pk},
        **key_header(partner_key),
    )
    assert elsewhere.status_code == 404
    bad = client.post(
        "/api/v1/proofs/",
        {"xml": SimpleUploadedFile("f.xml", b"nada"), "disbursement": ledger[1].pk},
        **key_header(partner_key),
    )
    assert bad.status_code == 400 and "CFDI" in str(bad.json()["errors"])


def test_staff_see_where_a_duplicate_was_charged_through_the_api(client, editor, ledger, other_ledger):
    ExpenseProof.record(invoice("api-dup"), ledger[1])
    client.force_login(editor)
    response = client.post(
        "/api/v1/proofs/", {"xml": SimpleUploadedFile("f.xml", invoice("api-dup")), "disbursement": other_ledger[1].pk}
    )
    assert response.status_code == 409 and ledger[0].project.code in response.json()["detail"]


def test_a_cofunder_key_learns_yes_or_no_per_uuid_and_nothing_else(client, ledger, coordinator, caplog):
    ExpenseProof.record(invoice("fechac"), ledger[1])
    fechac = Organization.objects.create(name="Fundación Cofinanciadora", kind="foundation")
    from projects.models import ApiKey

    _key, raw = ApiKey.issue("Cofinanciador", created_by=coordinator, organization=fechac)
    unknown = "00000000-0000-4000-8000-0000000000AA"
    with caplog.at_level("INFO", logger="ficosec.cofunder"):
        response = client.post(
            "/api/v1/proofs/check/",
            {"uuids": [folio_fiscal("fechac").lower(), unknown]},
            content_type="application/json",
            **key_header(raw),
        )
    assert response.status_code == 200
    assert response.json() == {folio_fiscal("fechac"): True, unknown: False}
    assert "2 asked, 1 already charged" in caplog.text
    assert client.post("/api/v1/proofs/check/", {"uuids": ["x"]}, content_type="application/json").status_code == 401
    for wrong in (["x"], [False], [0]):  # a folio fiscal is text: `false` is not UUID 0 (found by the fuzz run)
        bad = client.post("/api/v1/proofs/check/", {"uuids": wrong}, content_type="application/json", **key_header(raw))
        assert bad.status_code == 400, wrong


def test_the_money_figures_refuse_a_year_that_is_empty_or_not_ascii_digits(client, db):
    for year in ("", "²⁰²³", "1999", "abc"):
        response = client.get(f"/api/v1/money-figures/?anio={year}")
        assert response.status_code == 400 and "anio" in response.json()["errors"], year
    assert client.get("/api/v1/money-figures/?anio=2023").status_code == 200


def test_the_cofunder_check_has_its_own_rate_limit(client, coordinator, org_b, monkeypatch):
    from projects.api.money import CofunderThrottle
    from projects.models import ApiKey

    monkeypatch.setattr(CofunderThrottle, "RATE", "2/hour")
    _key, raw = ApiKey.issue("Cofinanciador", created_by=coordinator, organization=org_b)
    body = {"uuids": ["00000000-0000-4000-8000-000000000001"]}
    codes = [
        client.post("/api/v1/proofs/check/", body, content_type="application/json", **key_header(raw)).status_code
        for _ in range(3)
    ]
    assert codes == [200, 200, 429]


def test_the_money_figures_outlive_a_title_edit_and_follow_a_change_of_axis(client, figures_data, published_project):
    """The figures' cache key moves with what they read (the ledger, a project's publication, axis or award), not
    with every edit: a working day of title edits does not recompute them; an axis change does, at once."""
    from django.core.cache import cache

    from axes.models import Axis

    cache.clear()
    assert any("projects_moneyfigure" in sql for sql in queries_of(client, "/dinero/"))
    Project.objects.filter(pk=published_project.pk).update(title="Un título nuevo", updated_at=timezone.now())
    assert not any("projects_moneyfigure" in sql for sql in queries_of(client, "/dinero/"))  # from the cache
    before = accountability.compute()
    axis_rows = {row["key"]: row["committed"] for row in before["rows"] if row["dimension"] == "axis"}
    other = Axis.objects.exclude(pk=published_project.axis_id).order_by("number").first()
    Project.objects.filter(pk=published_project.pk).update(axis=other)  # the change log records it (trigger)
    shown = {row["key"]: row["committed"] for row in client.get("/dinero/").context["sections"]["axis"]}
    assert shown == {str(other.pk): axis_rows[str(published_project.axis_id)]}
