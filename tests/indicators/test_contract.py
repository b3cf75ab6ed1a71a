"""The indicators' operation answers as its OpenAPI document says, for a reader of figures (the project-wide
contract run, tests/test_api_contract.py, asks as two clinicians, who are refused)."""

from __future__ import annotations

import contextlib

import hypothesis
import schemathesis
from django.core.wsgi import get_wsgi_application
from rest_framework.views import APIView

from tests.test_api_contract import (  # noqa: F401  (in_test_transaction is a fixture)
    CHECKS,
    CSRF_TOKEN,
    MODES,
    _config,
    _run_operation,
    _session_cookie,
    in_test_transaction,
)


def test_indicators_answer_as_documented(dataset, monkeypatch, in_test_transaction):  # type: ignore[no-untyped-def]  # noqa: F811
    monkeypatch.setattr(APIView, "check_throttles", lambda self, request: None)
    schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", get_wsgi_application(), config=_config())
    operation = next(result.ok() for result in schema.get_all_operations()
                     if result.ok().path == "/api/indicators/")
    cookies = {"sessionid": _session_cookie(dataset.personas.users.bureau_province), "csrftoken": CSRF_TOKEN}
    seen: dict[str, set[int]] = {}
    for mode in MODES:
        with contextlib.suppress(hypothesis.errors.Unsatisfiable):  # nothing to negate
            _run_operation(operation, mode, cookies=cookies, ids={}, seen=seen)
    assert {400, 404} <= seen[operation.label]
    # And a real area, so the 200 body meets its schema too.
    case = operation.Case(query={"region": "350000", "from": "2025-01-01", "to": "2025-12-31"}, cookies=cookies,
                          headers={"X-CSRFToken": CSRF_TOKEN})
    response = case.call()
    assert response.status_code == 200
    case.validate_response(response, checks=CHECKS)
