"""Issue 18: the public money figures read the sums PostgreSQL keeps at their grain (projects_moneyfigure and
projects_moneyprojectcount, migration 0017), kept by deltas (each a row of its own since 0019) from
projects_moneyfact, which the ledger's triggers keep per project (migration 0014). Proven against the ledger itself,
summed here row by row, and against plain SQL sums of the facts: after every kind of write (insert; update of each
column the sums read, moves to another commitment, disbursement or project included; delete; bulk writes; a project
deleted, published, withdrawn or moved to another axis or award type; a funder's kind changed; a ledger table
truncated), and with two transactions writing one project's ledger at the same time, or one of them moving it or
changing its axis; two projects' ledgers written at once without waiting; and the locks of a ledger write, a
publication change and a funder's kind change taken in one order, so that none of them deadlocks with another."""

import threading
from collections import defaultdict
from datetime import date
from decimal import Decimal

import pytest
from django.db import connection, transaction
from django.db.models import Sum
from django.utils import timezone

from projects import accountability
from projects.models import (
    AwardDecision,
    Charge,
    Commitment,
    Disbursement,
    ExpenseProof,
    MoneyFact,
    MoneyFigure,
    MoneyProjectCount,
    Organization,
    Project,
)

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


GRAIN = "f.measure, f.year, f.kind, o.is_ficosec, o.kind, p.axis_id, p.award_type"
PUBLISHED_FACTS = """FROM projects_moneyfact f JOIN projects_project p ON p.id = f.project_id
    JOIN projects_organization o ON o.id = f.organization_id WHERE p.publication_state = 'published'"""


def plain_figures():
    """{grain: (amount, facts)} and {(year or 0, axis, award type): projects with a commitment}, summed here in plain
    SQL from the money facts of the published projects."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {GRAIN}, SUM(f.amount), COUNT(*) {PUBLISHED_FACTS} GROUP BY {GRAIN}")
        sums = {tuple(row[:7]): (row[7], row[8]) for row in cursor.fetchall()}
        cursor.execute(
            f"""SELECT f.year, p.axis_id, p.award_type, COUNT(DISTINCT p.id) {PUBLISHED_FACTS}
                AND f.measure = 'committed'
                GROUP BY GROUPING SETS ((f.year, p.axis_id, p.award_type), (p.axis_id, p.award_type))"""
        )
        counts = {(year or 0, axis, award): n for year, axis, award, n in cursor.fetchall()}
    return sums, counts


def kept_figures():
    """The same, from the deltas PostgreSQL keeps: each cell's rows added up (a cell whose facts all left sums to
    nothing; none is below nothing)."""
    figures = MoneyFigure.objects.values(*MoneyFigure.CELL).annotate(total=Sum("amount"), n=Sum("facts"))
    cells = figures.values_list(*MoneyFigure.CELL, "total", "n")
    assert all(facts > 0 or (facts == 0 and amount == 0) for *_key, amount, facts in cells)
    sums = {tuple(key): (amount, facts) for *key, amount, facts in cells if facts}
    counts = MoneyProjectCount.objects.values(*MoneyProjectCount.CELL).annotate(n=Sum("projects"))
    counted = counts.values_list(*MoneyProjectCount.CELL, "n")
    assert all(n >= 0 for *_key, n in counted)
    return sums, {tuple(key): n for *key, n in counted if n}


def assert_kept():
    assert kept_sums() == ledger_sums()
    assert kept_figures() == plain_figures()


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
    elsewhere = Commitment.objects.create(
        project=project, organization=org_a, amount=Decimal("90000.00"), date=date(2022, 3, 1)
    )
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
        lambda: Commitment.objects.filter(pk=commitment.pk).update(
            kind=Commitment.Kind.IN_KIND, in_kind_description="Equipo", valuation_method="Factura"
        ),
        lambda: Commitment.objects.filter(pk=commitment.pk).update(kind=Commitment.Kind.CASH),
        lambda: Disbursement.objects.filter(pk=paid.pk).update(amount=Decimal("39000.00")),
        lambda: ExpenseProof.record(invoice("hechos-2", total="2320.00", issued_on=date(2025, 2, 2)), paid),
        lambda: ExpenseProof.objects.filter(charges__disbursement=paid).update(issued_on=date(2026, 1, 5)),
        lambda: Charge.objects.filter(amount=Decimal("2320.00")).update(amount=Decimal("1000.00")),
        lambda: Commitment.objects.filter(pk=commitment.pk).update(project=other),  # moved: both projects
        # a disbursement moved to another project's commitment, then a charge moved back to the first project
        lambda: Disbursement.objects.filter(pk=paid.pk).update(commitment=elsewhere, tranche=9),
        lambda: Charge.objects.filter(amount=Decimal("1000.00")).update(
            disbursement=Disbursement.objects.get(actual_date=date(2025, 1, 9))
        ),
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


def test_a_deleted_project_and_a_truncated_ledger_table_leave_no_facts_behind(two_projects, ficosec_org):
    project, other, _commitment, _paid = two_projects
    Commitment.objects.create(project=other, organization=ficosec_org, amount=Decimal("10.00"), date=date(2024, 1, 1))
    AwardDecision.objects.filter(project=other).delete()  # (which protects a project from deletion)
    other.delete()  # its commitment goes with it (through the ORM, first)
    assert kept_sums() and {key[0] for key in kept_sums()} == {project.pk}
    assert_kept()
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # (the test's own deferred checks, done first)
        cursor.execute("TRUNCATE projects_charge")
    assert not MoneyFact.objects.filter(measure="proven").exists()
    assert MoneyFact.objects.filter(measure="paid").exists()
    assert_kept()


def test_a_published_project_deleted_before_its_ledger_takes_its_money_out_of_the_sums_at_once(
    two_projects, ficosec_org
):
    """Raw SQL may delete a project before its ledger (the foreign keys are checked at commit): its facts leave the
    figures with it, as nothing would file them once the project is gone."""
    project, other, _commitment, _paid = two_projects
    Commitment.objects.create(project=other, organization=ficosec_org, amount=Decimal("10.00"), date=date(2023, 1, 1))
    before = kept_figures()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM projects_project WHERE id = %s", [other.pk])
        assert kept_figures() != before
        assert_kept()
        cursor.execute("DELETE FROM projects_commitment WHERE project_id = %s", [other.pk])
        assert not MoneyFact.objects.filter(project_id=other.pk).exists()
        assert_kept()
        transaction.set_rollback(True)  # (the project's other rows stay: their checks, deferred, go with it)
    assert kept_figures() == before


def test_the_deltas_are_folded_into_one_row_per_cell_as_they_pile_up(two_projects):
    """Every write adds rows of its own; about every 1,024 rows one writer folds them into one row per cell, and the
    figures read the same before and after."""
    from axes.models import Axis

    project, *_ = two_projects
    axes = list(Axis.objects.order_by("number"))
    cells = len(plain_figures()[0])
    for n in range(400):  # a move writes 2 rows per cell it leaves and reaches: 2 cells here
        Project.objects.filter(pk=project.pk).update(axis=axes[n % len(axes)])
        assert MoneyFigure.objects.count() < 1024 + 2 * cells
    assert_kept()
    with connection.cursor() as cursor:
        cursor.execute("SELECT projects_money_compact()")
    assert MoneyFigure.objects.count() == cells
    assert MoneyProjectCount.objects.count() == len(plain_figures()[1])
    assert_kept()


def test_an_invoice_edit_that_leaves_its_date_alone_rewrites_nothing(two_projects):
    facts = set(MoneyFact.objects.values_list("pk", flat=True))
    ExpenseProof.objects.update(reviewed_at=timezone.now(), issuer_name="Otro nombre")
    assert set(MoneyFact.objects.values_list("pk", flat=True)) == facts  # the same rows, not written again
    assert_kept()


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


def at_once(first, second, then=None):
    """Run first() in a transaction left open until second(), started in its own transaction meanwhile, has been
    seen to wait for it (or for a second, if it does not), then() in first's transaction after that; then let both
    commit. Each runs in a thread of its own, with its own connection. Returns whether second() waited."""
    written, go, errors = threading.Event(), threading.Event(), []

    def run(write, hold):
        try:
            with transaction.atomic():
                write()
                if hold:
                    written.set()
                    assert go.wait(10)
                    if then:
                        then()
        except Exception as error:  # reported below
            errors.append(error)
        finally:
            connection.close()

    holder = threading.Thread(target=run, args=(first, True))
    holder.start()
    assert written.wait(10)
    follower = threading.Thread(target=run, args=(second, False))
    follower.start()
    follower.join(1)
    waited = follower.is_alive()
    go.set()
    holder.join(10)
    follower.join(10)
    assert not errors
    return waited


def concurrent_ledger(project, ficosec_org, org_a):
    commitment = Commitment.objects.create(
        project=project, organization=ficosec_org, amount=Decimal("100000.00"), date=date(2024, 1, 15)
    )
    first = commitment.disburse(Decimal("40000.00"), org_a, date(2024, 2, 1), date(2024, 2, 3))
    second = commitment.disburse(Decimal("40000.00"), org_a, date(2024, 3, 1), date(2024, 3, 3))
    return commitment, first, second


@pytest.mark.django_db(transaction=True)
def test_two_transactions_writing_one_projects_ledger_at_once_are_both_counted_once(
    reference_data, published_project, ficosec_org, org_a
):
    """The second writer waits for the first (a lock per project taken by the trigger), then reads both: without
    the lock it would add its own reading beside the first's rows and count the first invoice twice."""
    _commitment, first, second = concurrent_ledger(published_project, ficosec_org, org_a)
    assert at_once(
        lambda: ExpenseProof.record(invoice("a-la-vez-1", total="1160.00"), first),
        lambda: ExpenseProof.record(invoice("a-la-vez-2", total="1160.00"), second),
    )
    proven = MoneyFact.objects.filter(measure="proven").values_list("amount", flat=True)
    assert sum(proven) == Decimal("2320.00")
    assert_kept()


@pytest.mark.django_db(transaction=True)
def test_an_invoice_charged_while_its_commitment_moves_to_another_project_is_counted_there(
    reference_data, published_project, ficosec_org, org_a, org_b
):
    """The charge's trigger traces it to its project through the commitment, read FOR SHARE: it waits for the move
    to commit and refreshes the project the commitment moved to. Read without the lock, it would refresh the old
    project, and the charge would be counted nowhere."""
    other = make_project("FIC-2024-091", "Proyecto que recibe el compromiso", org_b, "published")
    commitment, first, _second = concurrent_ledger(published_project, ficosec_org, org_a)
    assert at_once(
        lambda: Commitment.objects.filter(pk=commitment.pk).update(project=other),
        lambda: ExpenseProof.record(invoice("mientras-se-mueve", total="1160.00"), first),
    )
    assert MoneyFact.objects.get(measure="proven").project_id == other.pk
    assert_kept()


def test_a_projects_publication_axis_and_award_and_a_funders_kind_move_its_sums(two_projects, ficosec_org, org_b):
    """The sums at the figures' grain follow what they are filed under, not only the ledger: the project's
    publication (withdrawn: out; published again: back), axis and award type, and the funder's kind and FICOSEC
    flag. A title edit moves nothing."""
    from axes.models import Axis

    project, other, _commitment, _paid = two_projects
    Commitment.objects.create(project=other, organization=org_b, amount=Decimal("500.00"), date=date(2023, 4, 1))
    projects = Project.objects.filter(pk__in=[project.pk, other.pk])
    steps = [
        lambda: projects.filter(pk=project.pk).update(title="Sólo el título"),
        lambda: projects.filter(pk=project.pk).update(axis=Axis.objects.exclude(pk=project.axis_id).first()),
        lambda: projects.update(award_type=Project.Award.DIRECT),
        lambda: projects.filter(pk=other.pk).update(publication_state=Project.Publication.DRAFT, axis=None),
        lambda: projects.filter(pk=other.pk).update(
            publication_state=Project.Publication.PUBLISHED, axis=Axis.objects.get(number=2)
        ),
        lambda: projects.filter(pk=project.pk).update(publication_state=Project.Publication.DRAFT),
        lambda: projects.filter(pk=project.pk).update(
            publication_state=Project.Publication.PUBLISHED, axis=Axis.objects.get(number=1)
        ),
        lambda: Organization.objects.filter(pk=org_b.pk).update(kind=Organization.Kind.COMPANY),
        lambda: Organization.objects.filter(pk=ficosec_org.pk).update(is_ficosec=False),
        lambda: Organization.objects.filter(pk=ficosec_org.pk).update(is_ficosec=True),
    ]
    for n, step in enumerate(steps):
        before = kept_figures()
        step()
        assert (kept_figures() != before) is (n != 0), f"step {n}"
        assert_kept()
    committed = {
        row["key"]: row["committed"] for row in accountability.compute()["rows"] if row["dimension"] == "sector"
    }
    assert committed["private"] == Decimal("500.00")  # org_b's commitment, now a company's


def test_a_truncated_catalogue_leaves_no_sums(two_projects):
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("TRUNCATE projects_project CASCADE")
    assert not MoneyFigure.objects.exists() and not MoneyProjectCount.objects.exists()
    assert kept_figures() == plain_figures() == ({}, {})


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("axis_first", [True, False])
def test_an_axis_change_and_a_ledger_write_on_one_project_at_once_file_every_peso_once(
    reference_data, published_project, ficosec_org, org_a, axis_first
):
    """The axis change waits for the ledger write's money lock on the project (or the other way round), then reads
    what it committed: without the lock, the sums would subtract under the old axis what was never added there."""
    from axes.models import Axis

    commitment, first, _second = concurrent_ledger(published_project, ficosec_org, org_a)
    move = lambda: Project.objects.filter(pk=published_project.pk).update(  # noqa: E731
        axis=Axis.objects.exclude(pk=published_project.axis_id).first()
    )
    write = lambda: ExpenseProof.record(invoice("eje-y-factura", total="1160.00"), first)  # noqa: E731
    assert at_once(*((move, write) if axis_first else (write, move)))
    assert MoneyFact.objects.filter(measure="proven").exists()
    assert_kept()


@pytest.mark.django_db(transaction=True)
def test_ledger_writes_on_two_projects_filed_alike_do_not_wait_for_each_other(
    reference_data, published_project, ficosec_org, org_a, org_b
):
    """Each delta is a row of its own: the second project's write adds its rows beside the first's while the first
    is still open, instead of waiting for the rows of the same cells (and risking a deadlock with it)."""
    other = make_project("FIC-2024-092", "Proyecto archivado igual", org_b, "published")
    Project.objects.filter(pk=other.pk).update(axis=published_project.axis_id, award_type=published_project.award_type)
    commit = lambda project: lambda: Commitment.objects.create(  # noqa: E731
        project=project, organization=ficosec_org, amount=Decimal("700.00"), date=date(2024, 6, 1)
    )
    commit(published_project)()
    commit(other)()
    assert not at_once(commit(published_project), commit(other))
    assert MoneyFact.objects.filter(measure="committed").count() == 2
    assert_kept()


@pytest.mark.django_db(transaction=True)
def test_a_ledger_write_and_a_publication_change_of_one_project_wait_in_one_order(
    reference_data, published_project, ficosec_org
):
    """A ledger write locks the project's row before its money lock, as an update of the project does: the
    withdrawal waits for the write to commit. Taken the other way round, the write would hold the money lock and
    wait for the row (its refresh_derived), the withdrawal the row and wait for the money lock: a deadlock."""
    insert = lambda: Commitment.objects.bulk_create(  # noqa: E731  (the INSERT of Commitment.save, without the rest)
        [Commitment(project=published_project, organization=ficosec_org, amount=Decimal("5.00"), date=date(2024, 1, 1))]
    )
    withdraw = lambda: Project.objects.filter(pk=published_project.pk).update(  # noqa: E731
        publication_state=Project.Publication.DRAFT
    )
    assert at_once(insert, withdraw, then=lambda: Project.objects.filter(pk=published_project.pk).refresh_derived())
    assert kept_figures() == plain_figures() == ({}, {})  # withdrawn after the write: nothing published has money
    assert_kept()


@pytest.mark.django_db(transaction=True)
def test_a_funders_kind_change_and_a_publication_change_wait_in_one_order(
    reference_data, published_project, ficosec_org, org_b
):
    """A funder's kind change locks the rows of the projects it funds before the money lock: a publication change of
    one of them waits for it, while it goes on to refresh those projects (as an organization's edit does)."""
    Commitment.objects.create(
        project=published_project, organization=org_b, amount=Decimal("9.00"), date=date(2024, 1, 1)
    )
    kind = lambda: Organization.objects.filter(pk=org_b.pk).update(kind=Organization.Kind.COMPANY)  # noqa: E731
    withdraw = lambda: Project.objects.filter(pk=published_project.pk).update(  # noqa: E731
        publication_state=Project.Publication.DRAFT
    )
    assert at_once(kind, withdraw, then=lambda: Project.objects.filter(pk=published_project.pk).refresh_derived())
    assert not Project.objects.filter(pk=published_project.pk, publication_state="published").exists()
    assert_kept()


@pytest.mark.django_db(transaction=True)
def test_a_funders_kind_change_waits_for_its_first_commitment_not_yet_committed(
    reference_data, published_project, org_b
):
    """The funder's first fact, filed by a transaction still open, is in no committed fact the kind change could
    find its project by: the change waits for the money lock that transaction holds, then moves that fact too.
    Without the wait, the fact would stay filed under the old kind."""
    first = lambda: Commitment.objects.create(  # noqa: E731
        project=published_project, organization=org_b, amount=Decimal("300.00"), date=date(2024, 2, 1)
    )
    kind = lambda: Organization.objects.filter(pk=org_b.pk).update(kind=Organization.Kind.COMPANY)  # noqa: E731
    assert at_once(first, kind)
    assert_kept()
