"""schemathesis fuzzes every operation of the OpenAPI schema: no server error, and every response as documented
(status code, content type and body). Calls go through the WSGI app, as the editor's staff key, so writes and their
validation are exercised too; everything happens inside the test's transaction."""

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


@pytest.fixture
def api_schema(db, published_project, draft_project, other_draft):
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    from ficosec.wsgi import application

    # As Django's test client does: a request must not close the test's connection (and its transaction).
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield schemathesis.openapi.from_wsgi("/api/v1/schema/", application)
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


def test_every_api_operation_conforms_to_its_schema(api_schema, staff_key):
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) >= 25
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=25, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True, database=None
        )
        def fuzz(case):
            case.call_and_validate(headers={"Authorization": f"Api-Key {staff_key}"}, checks=CHECKS)

        fuzz()


def test_the_schema_documents_every_error_status_of_writes(client, db):  # filters list their values from the database
    spec = client.get("/api/v1/schema/?format=json").json()
    patch = spec["paths"]["/api/v1/projects/{code}/"]["patch"]["responses"]
    assert {"400", "401", "403", "404", "409", "412", "428", "429"} <= set(patch)
    assert client.get("/api/v1/docs/").status_code == 200 and client.get("/api/v1/redoc/").status_code == 200
