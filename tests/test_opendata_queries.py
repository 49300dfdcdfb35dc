"""Open data at scale: the IATI activity file and the 360Giving package are read from the database a chunk of
projects at a time, with a fixed number of queries per chunk, never per project (bench/opendata.py measures the
time and the memory at 100,000 projects)."""

import json
import xml.etree.ElementTree as ET
from datetime import date

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from projects import cfdi
from projects.demo_money import fictitious_rfc
from projects.models import AwardDecision, Call, Commitment, Evaluation, ExpenseProof, Project
from projects.opendata import sources

from .conftest import make_project

pytestmark = pytest.mark.django_db

ACTIVITIES, GRANTS = "/datos-abiertos/iati-actividades.xml", "/datos-abiertos/360giving.json"
# The queries of downloading both files. Once per file: the time of the last change (figures.stamp), the publisher,
# the cursor over the published projects (2 x 3).
ONCE = 6
# Then per chunk of projects, one per relation the files read:
# - IATI activities: lines, municipalities, participations with their organizations, commitments with theirs,
#   disbursements with their recipients, charges with their invoices' dates, indicators, measurements, periods,
#   evaluations (10);
# - 360Giving grants: lines, municipalities, participations, commitments, disbursements (5).
PER_CHUNK = 15


@pytest.fixture(autouse=True)
def fresh_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def call(db):
    return Call.objects.create(
        title="Convocatoria de prueba 2023", opens_on=date(2023, 9, 1), closes_on=date(2023, 10, 1), budget=10**7
    )


@pytest.fixture
def add_projects(org_a, ficosec_org, call):
    """Adds published projects carrying every relation the two files read."""
    ficosec_org.rfc = "FCS120101AB1"
    ficosec_org.save()
    made = []

    def add(count):
        for _ in range(count):
            made.append(complete_project(len(made) + 1, org_a, ficosec_org, call))

    return add


def complete_project(n, implementer, ficosec, call):
    """A published project with its line, municipality, implementer and funder, an indicator with a measurement and
    a period, FICOSEC's commitment paid in a tranche proven by a CFDI, an evaluation with a document, and an award
    decision through a call; every third one a sensitive site (its results read per period)."""
    project = make_project(
        f"FIC-2024-{n:03d}", f"Proyecto {n}", implementer, Project.Publication.PUBLISHED, ficosec=ficosec
    )
    if n % 3 == 0:
        Project.objects.filter(pk=project.pk).update(sensitive_site=True, site_name=f"Refugio {n}")
    project.indicators.get().periods.create(start=date(2024, 1, 1), end=date(2024, 6, 30), target=50)
    commitment = Commitment.objects.create(project=project, organization=ficosec, amount=900000, date=date(2024, 1, 10))
    tranche = commitment.disburse(400000, implementer, date(2024, 2, 1), date(2024, 2, 3))
    invoice = cfdi.build(
        f"6f1b2c3d-0000-4000-8000-{n:012d}", fictitious_rfc("PSE200101AA"), implementer.rfc, date(2024, 3, 5), "1000"
    )
    ExpenseProof.record(invoice, tranche)
    evaluation = Evaluation.objects.create(
        title=f"Evaluación {n}",
        evaluator="Evaluadora",
        design=2,
        year=2024,
        document_url=f"https://example.org/evaluacion-{n}.pdf",
        findings="Hallazgos.",
    )
    evaluation.projects.add(project)
    AwardDecision.objects.filter(project=project).update(method="open_call", call=call)
    return project


def both_files(client):
    """(queries asked, activities, grants) of downloading the IATI activity file and the 360Giving package."""
    with CaptureQueriesContext(connection) as captured:
        activities, grants = client.get(ACTIVITIES), client.get(GRANTS)
        assert activities.streaming and grants.streaming
        activities = ET.fromstring(b"".join(activities.streaming_content)).findall("iati-activity")
        grants = json.loads(b"".join(grants.streaming_content))["grants"]
    return len(captured.captured_queries), activities, grants


def test_the_queries_for_both_files_do_not_grow_with_the_projects(client, add_projects):
    add_projects(5)
    asked, activities, grants = both_files(client)
    assert (len(activities), len(grants)) == (5, 5)
    assert asked == ONCE + PER_CHUNK
    # Every relation is there to be read: ledger transactions (commitment, disbursement, expenditure), a result with
    # its period, the evaluation, a location, and the call as the grant's programme.
    first = activities[0]
    assert {t.find("transaction-type").get("code") for t in first.iterfind("transaction")} == {"2", "3", "4"}
    assert first.find("result/indicator/period") is not None and first.find("location") is not None
    assert first.find("document-link/category[@code='A07']") is not None
    assert any(p["code"].startswith("convocatoria-") for p in grants[0]["grantProgramme"])

    add_projects(20)
    asked_for_25, activities, grants = both_files(client)
    assert (len(activities), len(grants)) == (25, 25)
    assert asked_for_25 == asked


def test_each_chunk_of_projects_costs_the_same_few_queries(client, add_projects, monkeypatch):
    monkeypatch.setattr(sources, "CHUNK", 5)
    add_projects(25)
    asked, activities, grants = both_files(client)
    assert (len(activities), len(grants)) == (25, 25)
    assert asked == ONCE + 5 * PER_CHUNK


def test_a_project_is_read_without_its_internal_columns(add_projects):
    add_projects(1)
    project = next(sources.each_project(sources.ACTIVITY_FACTS))
    assert {"internal_notes", "conflict_of_interest", "site_name", "description"} <= project.get_deferred_fields()
