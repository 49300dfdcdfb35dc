"""Issue 18: the evidence page's roll-up reads each indicator's latest measurement from projects_latestmeasurement,
which PostgreSQL's triggers keep (migration 0015). Proven against the measurements themselves, the latest picked
here in Python: after every kind of write (insert, an update of the date or value, a move to another indicator,
delete, bulk writes, an indicator and a project deleted, the table truncated), and with two transactions writing
one indicator's measurements at the same time."""

from datetime import date
from decimal import Decimal

import pytest
from django.db import connection

from projects.models import AwardDecision, Indicator, LatestMeasurement, Measurement, Project

from .conftest import make_project
from .test_money_facts import at_once

pytestmark = pytest.mark.django_db


def latest_by_hand():
    """{indicator: (date, value)} of the latest measurement of each indicator that has one, picked here."""
    latest = {}
    for m in Measurement.objects.order_by("indicator", "date"):
        latest[m.indicator_id] = (m.date, m.value)
    return latest


def kept():
    return {row.indicator_id: (row.date, row.value) for row in LatestMeasurement.objects.all()}


def assert_kept():
    assert kept() == latest_by_hand()


@pytest.fixture
def two_indicators(published_project):
    first = published_project.indicators.get()  # make_project's, measured on 2024-03-31
    second = Indicator.objects.create(project=published_project, name="Sesiones", unit="sesiones", target=12)
    return first, second


def test_every_write_to_the_measurements_is_followed_by_the_latest(two_indicators, org_a):
    first, second = two_indicators
    assert kept() == {first.pk: (date(2024, 3, 31), Decimal("40.0000"))}  # the fixture's own insert
    other = make_project("FIC-2024-092", "Otro proyecto medido", org_a, "published").indicators.get()
    older = Measurement.objects.create(indicator=first, date=date(2023, 12, 31), value=10)
    newest = Measurement.objects.create(indicator=second, date=date(2024, 6, 30), value=3)
    checks = [
        lambda: Measurement.objects.create(indicator=first, date=date(2024, 9, 30), value=55),  # a later one
        lambda: Measurement.objects.create(indicator=first, date=date(2022, 1, 31), value=1),  # an earlier one
        lambda: Measurement.objects.filter(pk=older.pk).update(date=date(2025, 1, 31)),  # the old becomes latest
        lambda: Measurement.objects.filter(pk=older.pk).update(value=Decimal("12.5")),  # its value corrected
        lambda: Measurement.objects.filter(pk=newest.pk).update(indicator=first),  # moved to another indicator
        lambda: Measurement.objects.filter(indicator=first, date=date(2025, 1, 31)).delete(),  # the latest deleted
        lambda: Measurement.objects.bulk_create(
            [Measurement(indicator=second, date=date(2024, month, 28), value=month) for month in (1, 2, 3)]
        ),
        lambda: Measurement.objects.filter(indicator=second).update(value=Decimal("7")),  # several at once
        lambda: Measurement.objects.filter(indicator=second).delete(),  # every measurement of one indicator
        lambda: Indicator.objects.filter(pk=other.pk).delete(),  # an indicator, its measurements with it
    ]
    for check in checks:
        check()
        assert_kept()
    assert second.pk not in kept()  # no measurement, no latest
    assert kept()[first.pk] == (date(2024, 9, 30), Decimal("55.0000"))


def test_a_deleted_project_and_a_truncated_table_leave_nothing_behind(two_indicators, org_a):
    first, _second = two_indicators
    other = make_project("FIC-2024-093", "Proyecto que se borra", org_a, "published")
    assert other.indicators.get().pk in kept()
    AwardDecision.objects.filter(project=other).delete()  # (which protects a project from deletion)
    Project.objects.filter(pk=other.pk).delete()  # its indicators and their measurements go with it (the ORM)
    assert_kept()
    assert set(kept()) == {first.pk}
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # the deletes' deferred checks, which TRUNCATE won't leave
        cursor.execute("TRUNCATE projects_measurement CASCADE")
    assert kept() == {}
    Measurement.objects.create(indicator=first, date=date(2024, 12, 31), value=90)
    assert_kept()


def test_a_statement_touching_more_than_64_indicators_is_followed_too(published_project):
    """Past 64 indicators a statement takes one lock for every indicator instead of one each (a COPY, a bulk write)."""
    indicators = Indicator.objects.bulk_create(
        Indicator(project=published_project, name=f"Indicador {n}", unit="personas", target=10) for n in range(70)
    )
    Measurement.objects.bulk_create(
        Measurement(indicator=indicator, date=date(2024, 1 + n % 12, 1), value=n)
        for n, indicator in enumerate(indicators)
    )
    assert_kept()
    assert len(kept()) == 71  # make_project's indicator too
    Measurement.objects.filter(indicator__in=indicators).update(date=date(2025, 5, 5))
    assert_kept()
    Measurement.objects.filter(indicator__in=indicators[:66]).delete()
    assert_kept()
    assert len(kept()) == 5


@pytest.mark.django_db(transaction=True)
def test_two_transactions_measuring_one_indicator_at_once_leave_the_later_date(reference_data, published_project):
    """The second writer waits for the first (a lock per indicator taken by the trigger), then reads both. Without
    the lock each sees only its own measurement: the second's insert of the indicator's row then collides with the
    first's (checked: a primary key violation), and without that key it would keep the earlier date."""
    indicator = published_project.indicators.get()
    assert at_once(
        lambda: Measurement.objects.create(indicator=indicator, date=date(2025, 6, 30), value=70),
        lambda: Measurement.objects.create(indicator=indicator, date=date(2025, 3, 31), value=60),
    )
    assert kept()[indicator.pk] == (date(2025, 6, 30), Decimal("70.0000"))
    assert_kept()
