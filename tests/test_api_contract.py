"""The OpenAPI document is the contract: schemathesis generates requests from ``/api/schema/`` for every
operation, sends them in process to the WSGI app as two personas (a county obstetrician who refers,
and the receiving rescue centre's duty doctor) and checks every answer: never a server error, and a
documented status code, content type and body.

Bounded and deterministic: a fixed number of examples per operation and generation mode, derandomised,
no example database, no shrinking. Path ids are drawn from the records that exist as well as from
the generator, so the transition endpoints run through the real services.
"""

from __future__ import annotations

import uuid
from typing import Any

import hypothesis
import hypothesis.errors
import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from django.test import Client
from hypothesis import strategies as st
from rest_framework.views import APIView
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from cases.models import Referral
from tests.workflows.referral.helpers import refer, rescue_staff
from workflows.referral import services as rs

MAX_EXAMPLES = 12
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
CSRF_TOKEN = "a" * 32
MODES = [schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE]


def _config() -> Any:
    # Our session cookie authenticates; the generator must not invent one of its own.
    return schemathesis.Config.from_dict({"generation": {"with-security-parameters": False}})


@pytest.fixture
def records(personas, settings):  # type: ignore[no-untyped-def]
    """A referral waiting for an answer, one accepted and one closed with feedback: records with empty
    optional choices (colour, consciousness, transport, outcome) and with every field filled."""
    settings.API_SYNC_LAG_SECONDS = 0  # the sync lists show the records just made
    staff = rescue_staff(personas)
    waiting = refer(personas)
    accepted = refer(personas, urgency="urgent")
    Referral.objects.filter(pk=waiting.pk).update(colour="")  # an unscreened woman
    rs.referral_accept(referral=accepted, by=staff.city1, team="产科ICU")
    rs.referral_depart(referral=accepted, by=personas.users.obstetrician_a, transport="ambulance", escort="助产士")
    rs.referral_arrive(referral=accepted, by=staff.city2)
    rs.referral_start_treatment(referral=accepted, by=staff.city2)
    rs.referral_outcome(referral=accepted, by=staff.city2, outcome="discharged", note="出院")
    rs.referral_feedback(referral=accepted, by=staff.city2, summary="好转", advice="随访")
    ids = {
        "referrals": [str(waiting.pk), str(accepted.pk), str(refer(personas, urgency="planned").pk)],
        **_process_one_records(personas, waiting.pregnancy),
        "institutions": [str(personas.inst.hospital_a.pk), str(personas.inst.mch_city.pk)],
        "rescue-centres": [str(personas.centres.city.pk), str(personas.centres.province.pk)],
        "highrisk-cases": _highrisk_records(personas),
        **_routine_records(personas, waiting.pregnancy),
    }
    return staff, ids


def _highrisk_records(personas: Any) -> list[str]:
    """An open high-risk case of the obstetrician's and a closed one: the steps meet the services."""
    from tests.workflows.highrisk.test_services import open_case
    from workflows.highrisk import services as hr

    opened = open_case(personas)
    closed = open_case(personas, inputs={"pa_pressure_mmhg": 60})
    hr.case_close(case=closed, by=personas.users.obstetrician_a, kind="ended", reason="外院引产")
    return [str(opened.pk), str(closed.pk)]


def _routine_records(personas: Any, pregnancy: Any) -> dict[str, list[str]]:
    """A visit of the referred pregnancy and the delivery (two babies) of another, recorded by the obstetrician."""
    import datetime as dt

    from django.utils import timezone

    from tests.workflows.routine.test_services import pregnancy_at
    from workflows.routine import services as routine
    from workflows.routine.services import BabyData

    doctor, hospital = personas.users.obstetrician_a, personas.inst.hospital_a
    visit = routine.visit_record(pregnancy=pregnancy, by=doctor, kind="antenatal", date=timezone.localdate(),
                                 institution=hospital, external_id="HIS-CJ-1")
    delivery = routine.delivery_record(
        pregnancy=pregnancy_at(hospital), by=doctor, delivered_at=timezone.now() - dt.timedelta(days=1),
        place="institution", institution=hospital, mode="caesarean", caesarean_indication="臀位",
        babies=[BabyData("live", "female", 2800), BabyData("stillborn", "male")])
    return {"visits": [str(visit.pk)], "deliveries": [str(delivery.pk)]}


def _process_one_records(personas: Any, pregnancy: Any) -> dict[str, list[str]]:
    """The women's, pregnancies', screenings' and assessments' ids the operations meet: a screened and graded
    pregnancy (one valid and one voided assessment) and the referred one."""
    from cases.models import Screening
    from cases.rules import screening_items, settings_for
    from workflows.screening import services as ss

    doctor, hospital = personas.users.obstetrician_a, personas.inst.hospital_a
    screening = Screening.objects.filter(pregnancy=pregnancy).first() or ss.screening_record(
        pregnancy=pregnancy, institution=hospital, by=doctor,
        answers={item.code: False for item in screening_items(settings_for(hospital)) if item.required})
    graded = ss.assessment_record(pregnancy=pregnancy, institution=hospital, by=doctor, stage="dynamic",
                                  inputs={"age_years": 36, "pa_pressure_mmhg": 55})
    voided = ss.assessment_record(pregnancy=pregnancy, institution=hospital, by=doctor, stage="dynamic",
                                  inputs={"age_years": 30})
    ss.assessment_void(assessment=voided, by=doctor, reason="录错")
    return {"women": [str(pregnancy.woman_id)], "pregnancies": [str(pregnancy.pk)], "screenings": [str(screening.pk)],
            "assessments": [str(graded.pk), str(voided.pk)]}


@pytest.fixture
def in_test_transaction():  # type: ignore[no-untyped-def]
    """Requests through the WSGI app would close the database connection when they finish (and with
    it the test's transaction on PostgreSQL); Django's own test client keeps it open the same way."""
    for signal in (signals.request_started, signals.request_finished):
        signal.disconnect(close_old_connections)
    yield
    for signal in (signals.request_started, signals.request_finished):
        signal.connect(close_old_connections)


def _session_cookie(user: Any) -> str:
    client = Client()
    client.force_login(user)
    return client.cookies["sessionid"].value


def _known_ids(path: str, ids: dict[str, list[str]]) -> list[str]:
    return next((values for prefix, values in ids.items() if path.startswith(f"/api/{prefix}/")), [])


def _run_operation(operation: Any, mode: Any, *, cookies: dict[str, str], ids: dict[str, list[str]],
                   seen: dict[str, set[int]]) -> None:
    strategy = operation.as_strategy(generation_mode=mode, cookies=cookies, headers={"X-CSRFToken": CSRF_TOKEN})
    known = _known_ids(operation.path, ids)
    if "{id}" in operation.path and known:
        # Half the time a real record, so the steps meet the services and their state checks.
        strategy = st.tuples(strategy, st.sampled_from([None, *known])).map(lambda pair: _with_id(*pair))

    @hypothesis.settings(max_examples=MAX_EXAMPLES, derandomize=True, database=None, deadline=None,
                         phases=[hypothesis.Phase.explicit, hypothesis.Phase.generate],
                         suppress_health_check=list(hypothesis.HealthCheck), report_multiple_bugs=False)
    @hypothesis.given(case=strategy)
    def run(case: Any) -> None:
        response = case.call()
        seen.setdefault(operation.label, set()).add(response.status_code)
        case.validate_response(response, checks=CHECKS)

    run()


def _with_id(case: Any, pk: str | None) -> Any:
    if pk is not None:
        case.path_parameters = {**(case.path_parameters or {}), "id": pk}
    return case


@pytest.mark.parametrize("persona", ["obstetrician_a", "duty_city1"])
def test_every_operation_answers_as_documented(personas, records, persona, monkeypatch,  # type: ignore[no-untyped-def]
                                               in_test_transaction):
    # Hundreds of generated requests from one user would meet the API's throttles (429, documented);
    # the contract run is about everything else.
    monkeypatch.setattr(APIView, "check_throttles", lambda self, request: None)
    staff, ids = records
    user = personas.users.obstetrician_a if persona == "obstetrician_a" else staff.city1
    app = get_wsgi_application()
    schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", app, config=_config())
    cookies = {"sessionid": _session_cookie(user), "csrftoken": CSRF_TOKEN}
    failures: list[str] = []
    seen: dict[str, set[int]] = {}
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 17, [op.label for op in operations]
    for operation in operations:
        for mode in MODES:
            try:
                _run_operation(operation, mode, cookies=cookies, ids=ids, seen=seen)
            except hypothesis.errors.Unsatisfiable:
                # Nothing to negate (no parameter, no body): only positive cases exist.
                if mode != schemathesis.GenerationMode.NEGATIVE:
                    raise
            except (Exception, BaseExceptionGroup) as exc:  # noqa: BLE001  (every operation's failures at once)
                failures.append(f"{operation.label} [{mode.value}]: {exc}")
    assert not failures, "\n\n".join(failures)
    assert set(seen) == {op.label for op in operations}
    steps = set().union(*(codes for label, codes in seen.items() if label.startswith("POST /api/referrals/{id}/")))
    assert steps & {200, 201, 409}, seen  # the steps met the services, not only the input checks


def test_a_non_uuid_id_under_api_answers_json_404(personas):  # type: ignore[no-untyped-def]
    client = Client()
    client.force_login(personas.users.obstetrician_a)
    for path in ("/api/referrals/not-a-uuid/", "/api/institutions/12/", "/api/referrals/x/accept/", "/api/nothing/"):
        response = client.get(path)
        assert response.status_code == 404, path
        assert response["Content-Type"].startswith("application/json"), path
        assert "detail" in response.json(), path
    assert client.get(f"/api/referrals/{uuid.uuid4()}/").json() == client.get("/api/referrals/x/").json()
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(personas.users.obstetrician_a)
    refused = strict.post("/api/referrals/not-a-uuid/accept/", {}, content_type="application/json")
    assert (refused.status_code, refused["Content-Type"]) == (404, "application/json")
