"""Issue 18: the public money figures add up projects_moneyfact, which PostgreSQL's triggers keep per project from the
ledger (migration 0014). Proven against the ledger itself, summed here row by row: after every kind of write
(insert, update of each column the sums read, a move to another project, delete, bulk writes and a rollback), and
with two transactions writing one project's ledger at the same time."""

import threading
from collections import defaultdict
from datetime import date
from decimal import Decimal

import pytest
from django.db import connection, transaction
from django.utils import timezone

from projects import accountability
from projects.models import Charge, Commitment, Disbursement, ExpenseProof, MoneyFact

from .conftest import make_project
from .test_money import invoice

pytestmark = pytest.mark.django_db


def ledger_sums():
    """{(project, measure, year, funder, kind): amount}, added up here from the ledger's rows."""
    sums = defaultdict(Decimal)
    for c in Commitment.objects.all():
        sums[(c.project_id, "committed", c.date.year, c.organization_id, c.kind)] += c.amount
    for d in Disbursement.objects.filter(actual_date__isnull=False).select_related("commitment"):
        c = d.commitment
        sums[(c.project_id, "paid", d.actual_date.year, c.organization_id, c.kind)] += d.amount
    for charge in Charge.objects.select_related("proof", "disbursement__commitment"):
        c = charge.disbursement.commitment
        sums[(c.project_id, "proven", charge.proof.issued_on.year, c.organization_id, c.kind)] += charge.amount
    return dict(sums)


def kept_sums():
    rows = MoneyFact.objects.values_list("project", "measure", "year", "organization", "kind", "amount")
    kept = {}
    for *key, amount in rows:
        assert tuple(key) not in kept, f"{key} kept twice"
        kept[tuple(key)] = amount
    return kept


def assert_kept():
    assert kept_sums() == ledger_sums()


@pytest.fixture
def two_projects(published_project, ficosec_org, org_a, org_b):
    other = make_project("FIC-2024-090", "Otro proyecto con dinero", org_b, "published")
    commitment = Commitment.objects.create(
        project=published_project, organization=ficosec_org, amount=Decimal("100000.00"), date=date(2024, 1, 15)
    )
    paid = commitment.disburse(Decimal("40000.00"), org_a, date(2024, 2, 1), date(2024, 2, 3))
    ExpenseProof.record(invoice("hechos-1", total="11600.00"), paid, amount="5000.00")
    return published_project, other, commitment, paid


def test_every_write_to_the_ledger_is_followed_by_its_money_facts(two_projects, ficosec_org, org_a, org_b):
    project, other, commitment, paid = two_projects
    assert kept_sums() and kept_sums() == ledger_sums()  # the fixture's own writes (insert)
    checks = [
        # a second funder, in kind, in another year
        lambda: Commitment.objects.create(
            project=project,
            organization=org_b,
            amount=Decimal("7000.00"),
            date=date(2025, 6, 1),
            kind=Commitment.Kind.IN_KIND,
            in_kind_description="Salón",
            valuation_method="Renta de mercado",
        ),
        lambda: commitment.disburse(Decimal("1000.00"), org_a, date(2025, 1, 1)),  # planned, not paid: no change
        lambda: Disbursement.objects.filter(actual_date__isnull=True).update(actual_date=date(2025, 1, 9)),  # paid
        lambda: Commitment.objects.filter(pk=commitment.pk).update(amount=Decimal("120000.00")),
        lambda: Commitment.objects.filter(pk=commitment.pk).update(date=date(2023, 12, 31)),  # another year
        lambda: Commitment.objects.filter(pk=commitment.pk).update(organization=org_b),  # another funder
        lambda: ExpenseProof.record(invoice("hechos-2", total="2320.00", issued_on=date(2025, 2, 2)), paid),
        lambda: ExpenseProof.objects.filter(charges__disbursement=paid).update(issued_on=date(2026, 1, 5)),
        lambda: Charge.objects.filter(amount=Decimal("2320.00")).update(amount=Decimal("1000.00")),
        lambda: Commitment.objects.filter(pk=commitment.pk).update(project=other),  # moved: both projects
        lambda: Charge.objects.filter(amount=Decimal("1000.00")).delete(),
        lambda: Disbursement.objects.filter(actual_date=date(2025, 1, 9)).delete(),
        lambda: Commitment.objects.bulk_create(
            Commitment(project=p, organization=ficosec_org, amount=Decimal(n), date=date(2024, n, 1))
            for n, p in enumerate([project, other, project], start=1)
        ),
        lambda: Commitment.objects.filter(amount__lt=10).delete(),
    ]
    for n, write in enumerate(checks):
        before = kept_sums()
        write()
        assert (kept_sums() != before) is (n != 1), f"write {n}"  # each but the planned disbursement changes a sum
        assert_kept()
    assert any(key[0] == other.pk for key in kept_sums())  # the move reached the other project


def test_an_invoice_edit_that_leaves_its_date_alone_rewrites_nothing(two_projects):
    facts = set(MoneyFact.objects.values_list("pk", flat=True))
    ExpenseProof.objects.update(reviewed_at=timezone.now(), issuer_name="Otro nombre")
    assert set(MoneyFact.objects.values_list("pk", flat=True)) == facts  # the same rows, not written again
    assert_kept()


def test_a_rolled_back_write_leaves_the_facts_as_they_were(two_projects):
    project, _other, commitment, paid = two_projects
    before = kept_sums()
    with pytest.raises(RuntimeError), transaction.atomic():
        Commitment.objects.filter(pk=commitment.pk).update(amount=Decimal("1.00"))
        assert kept_sums() != before
        raise RuntimeError
    assert kept_sums() == before


def test_the_figures_add_up_the_facts_of_published_projects_only(two_projects, review_project, ficosec_org):
    project, *_ = two_projects
    Commitment.objects.create(
        project=review_project, organization=ficosec_org, amount=Decimal("999.00"), date=date(2024, 5, 5)
    )
    total = next(row for row in accountability.compute()["rows"] if row["dimension"] == "total")
    published = {key: amount for key, amount in ledger_sums().items() if key[0] == project.pk}
    for measure in ("committed", "paid", "proven"):
        assert total[measure] == sum(amount for key, amount in published.items() if key[1] == measure)
    assert total["projects"] == 1


@pytest.mark.django_db(transaction=True)
def test_two_transactions_writing_one_projects_ledger_at_once_are_both_counted_once(
    published_project, ficosec_org, org_a
):
    """The second writer waits for the first (a lock per project taken by the trigger), then reads both: without
    the lock it would add its own reading beside the first's rows and count the first invoice twice."""
    commitment = Commitment.objects.create(
        project=published_project, organization=ficosec_org, amount=Decimal("100000.00"), date=date(2024, 1, 15)
    )
    first = commitment.disburse(Decimal("40000.00"), org_a, date(2024, 2, 1), date(2024, 2, 3))
    second = commitment.disburse(Decimal("40000.00"), org_a, date(2024, 3, 1), date(2024, 3, 3))
    written, go, errors = threading.Event(), threading.Event(), []

    def charge(label, disbursement, wait):
        try:
            with transaction.atomic():
                ExpenseProof.record(invoice(label, total="1160.00"), disbursement)
                if wait:
                    written.set()
                    assert go.wait(10)
        except Exception as error:  # reported to the test below
            errors.append(error)
        finally:
            connection.close()

    holder = threading.Thread(target=charge, args=("a-la-vez-1", first, True))
    holder.start()
    assert written.wait(10)
    follower = threading.Thread(target=charge, args=("a-la-vez-2", second, False))
    follower.start()
    follower.join(1)
    assert follower.is_alive()  # waiting for the first writer's lock
    go.set()
    holder.join(10)
    follower.join(10)
    assert not errors
    proven = MoneyFact.objects.filter(measure="proven").values_list("amount", flat=True)
    assert sum(proven) == Decimal("2320.00")
    assert_kept()
