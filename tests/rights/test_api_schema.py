"""Every API operation against its OpenAPI schema: schemathesis generates requests (valid
and invalid) from /api/schema/ and sends them in-process through the WSGI application.
Okasio's platform's operations get their service token, so the handlers themselves are
exercised (their 401 is tested in tests/consent/).

Checks: no 5xx, every status code and content type documented, every response body valid
against its schema, and schema-invalid input refused.
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis import checks
from schemathesis.specs.openapi import checks as openapi_checks

CHECKS = [
    checks.not_a_server_error,
    openapi_checks.status_code_conformance,
    openapi_checks.content_type_conformance,
    openapi_checks.response_schema_conformance,
    openapi_checks.negative_data_rejection,
]


@pytest.fixture
def api_schema(db, settings):
    """The schema as served, with limits high enough that fuzzing does not hit them."""
    from django.core import signals
    from django.db import close_old_connections

    from okasio_privacy.wsgi import application

    def app(environ, start_response):
        environ.setdefault("REMOTE_ADDR", "192.0.2.1")  # every WSGI server sets it; werkzeug not
        return application(environ, start_response)

    settings.RIGHTS_RATE_LIMIT_PER_IP = "100000/h"
    settings.RIGHTS_RATE_LIMIT_PER_EMAIL = "100000/h"
    settings.RIGHTS_RATE_LIMIT_TRACKER_PER_IP = "100000/h"
    settings.OPPOSITION_API_TOKENS = [TOKENS["oppositionToken"]]
    settings.PLATFORM_API_TOKENS = [TOKENS["platformToken"]]
    # As Django's test client does: the test's transaction must outlive each request.
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        yield schemathesis.openapi.from_wsgi("/api/schema/", app)
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


# The service tokens, by the security scheme the schema names for each operation.
TOKENS = {"oppositionToken": "schema-test-opposition", "platformToken": "schema-test-platform"}

schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(
    max_examples=50,
    deadline=None,
    # The same examples on every run: CI judges the code, not the draw.
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_it_keeps_to_its_schema(case):
    schemes = [name for rule in case.operation.definition.raw.get("security", []) for name in rule]
    tokens = [TOKENS[name] for name in schemes if name in TOKENS]
    response = case.call(headers={"Authorization": f"Bearer {tokens[0]}"} if tokens else None)
    case.validate_response(response, checks=CHECKS)
