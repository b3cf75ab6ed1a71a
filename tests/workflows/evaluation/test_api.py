"""The evaluation API: opening a round, the scoped lists and details, the steps of a submission from the
self-evaluation to the result (and the rectification), the sample, the 400/403/404/409 contract, and the
operations in the OpenAPI schema (checked against the schema by schemathesis as the evaluating personas)."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
import schemathesis
from django.core.wsgi import get_wsgi_application
from django.utils import timezone
from hypothesis.errors import Unsatisfiable
from rest_framework.test import APIClient
from rest_framework.views import APIView

from cases.models import EvaluationRound, EvaluationSample, EvaluationSubmission, SelfInspectionReport
from organisations.models import Role
from tests.personas import _member
from tests.test_api_contract import (
    CSRF_TOKEN,
    MODES,
    _config,
    _run_operation,
    _session_cookie,
    in_test_transaction,  # noqa: F401  (fixture)
)
from workflows.evaluation import services as svc

pytestmark = pytest.mark.django_db
YEAR = 2025
ROUNDS, SUBMISSIONS = "/api/evaluation-rounds/", "/api/evaluation-submissions/"
S = EvaluationSubmission.State


def api(user: Any) -> APIClient:
    client = APIClient()
    client.force_login(user)
    return client


def get(user: Any, path: str, params: dict[str, Any] | None = None) -> Any:
    return api(user).get(path, params or {})


def post(user: Any, path: str, data: dict[str, Any] | None = None) -> Any:
    return api(user).post(path, data or {}, format="json")


def seen(user: Any, **params: Any) -> set[tuple[str, str, str | None]]:
    response = get(user, SUBMISSIONS, params)
    assert response.status_code == 200, response.content
    return {(row["subject"], row["region"], row["centre"]) for row in response.json()["results"]}


def scores(user: Any, submission: EvaluationSubmission) -> dict[str, dict[str, Any]]:
    return {row["indicator_number"]: row for row in get(user, f"{SUBMISSIONS}{submission.pk}/").json()["scores"]}


@pytest.fixture
def opened(personas):  # type: ignore[no-untyped-def]
    response = post(personas.users.bureau_province, ROUNDS, {"province": "350000", "year": YEAR, "level": "county"})
    assert response.status_code == 201, response.content
    return EvaluationRound.objects.get(pk=response.json()["id"])


@pytest.fixture
def head_a(personas):  # type: ignore[no-untyped-def]
    return _member("head_a", personas.inst.hospital_a, Role.HEAD)


def test_the_province_opens_a_round_and_nobody_else_does(personas):  # type: ignore[no-untyped-def]
    u = personas.users
    body = {"province": "350000", "year": YEAR, "level": "county"}
    refused = post(u.bureau_a, ROUNDS, body)
    assert refused.status_code == 403 and "福建省" in refused.json()["detail"]
    assert post(u.bureau_gd, ROUNDS, body).status_code == 403
    assert post(u.obstetrician_a, ROUNDS, body).status_code == 403  # the evaluation is not open to her at all
    assert not EvaluationRound.objects.exists()
    bad = post(u.bureau_province, ROUNDS, {"province": "350100", "level": "ward"})
    assert bad.status_code == 400 and {"province", "year", "level"} <= set(bad.json())
    made = post(u.bureau_province, ROUNDS, body)
    assert made.status_code == 201, made.content
    round_ = made.json()
    assert (round_["state"], round_["year"], round_["level"], round_["province"]) == ("open", YEAR, "county", "350000")
    assert round_["submission_count"] == 5 and round_["submitted_count"] == 0  # 3 counties, 2 county centres
    assert EvaluationSubmission.objects.filter(round_id=round_["id"]).count() == 5
    again = post(u.bureau_province, ROUNDS, body)
    assert again.status_code == 400 and "year" in again.json()  # the service's field error
    assert EvaluationRound.objects.count() == 1


def test_a_county_sees_its_own_a_city_its_counties_and_out_of_scope_is_not_found(personas, opened, head_a):  # type: ignore[no-untyped-def]
    u, c = personas.users, personas.centres
    county_a = {("system", "350121", None), ("centre", "350121", str(c.a.pk))}
    assert seen(u.mch_a) == county_a
    assert seen(u.mch_b) == {("system", "350212", None), ("centre", "350212", str(c.b.pk))}
    assert seen(u.bureau_city) == county_a | {("system", "350102", None)}
    assert seen(head_a) == {("centre", "350121", str(c.a.pk))}
    assert seen(u.bureau_gd) == set() and get(u.bureau_gd, ROUNDS).json()["results"] == []
    assert seen(u.mch_a, subject="centre") == {("centre", "350121", str(c.a.pk))}
    assert seen(u.mch_a, round=str(opened.pk), state="draft") == county_a
    assert seen(u.mch_a, state="passed") == set()
    assert get(u.mch_a, SUBMISSIONS, {"state": "nonsense"}).status_code == 400
    assert get(u.obstetrician_a, SUBMISSIONS).status_code == 403

    theirs = opened.submissions.get(centre=c.b)
    missing = get(u.mch_a, f"{SUBMISSIONS}{uuid.uuid4()}/")
    out_of_scope = get(u.mch_a, f"{SUBMISSIONS}{theirs.pk}/")
    assert out_of_scope.status_code == missing.status_code == 404
    assert out_of_scope.json() == missing.json()
    assert post(u.mch_a, f"{SUBMISSIONS}{theirs.pk}/return/", {"reason": "x"}).status_code == 404
    assert EvaluationSubmission.objects.get(pk=theirs.pk).state == S.DRAFT
    mine = get(u.mch_a, f"{SUBMISSIONS}{opened.submissions.get(centre=c.a).pk}/")
    assert mine.status_code == 200 and {s["indicator_number"] for s in mine.json()["scores"]} == {"16", "17", "18"}

    rounds = get(u.mch_a, ROUNDS).json()["results"]
    assert [r["id"] for r in rounds] == [str(opened.pk)] and rounds[0]["submission_count"] == 2
    assert get(u.mch_a, ROUNDS, {"year": YEAR, "level": "county", "province": "350000"}).json()["count"] == 1
    assert get(u.mch_a, ROUNDS, {"level": "city"}).json()["count"] == 0
    assert get(u.mch_a, ROUNDS, {"year": "last"}).status_code == 400
    assert get(u.bureau_gd, f"{ROUNDS}{opened.pk}/").status_code == 404


def test_a_centre_from_self_evaluation_to_the_result_through_the_api(personas, opened, head_a):  # type: ignore[no-untyped-def]
    u = personas.users
    submission = opened.submissions.get(centre=personas.centres.a)
    detail = f"{SUBMISSIONS}{submission.pk}/"
    rows = scores(head_a, submission)
    threshold, deliveries = rows["17"]["id"], rows["18"]["id"]

    # The self-evaluation, by the head of the host institution.
    bad = post(head_a, f"{detail}enter-score/", {"score": threshold, "self_value": "abc", "evidence": "x"})
    assert bad.status_code == 400 and "self_value" in bad.json()
    no_evidence = post(head_a, f"{detail}enter-score/", {"score": threshold, "self_value": "0.4"})
    assert no_evidence.status_code == 400 and "evidence" in no_evidence.json()  # the service's field error
    assert post(head_a, f"{detail}enter-score/", {"score": str(uuid.uuid4()), "self_value": "1",
                                                  "evidence": "x"}).status_code == 404
    other = opened.submissions.get(subject="system", region=personas.regions.county_a).scores.first()
    assert post(head_a, f"{detail}enter-score/", {"score": str(other.pk), "self_value": "1",
                                                  "evidence": "x"}).status_code == 404  # not this submission's score
    denied = post(u.mch_a, f"{detail}enter-score/", {"score": threshold, "self_value": "0.4", "evidence": "年报"})
    # The county evaluates the centre, it does not fill it in.
    assert denied.status_code == 403 and denied.json()["detail"]
    early = post(head_a, f"{detail}submit/", {"self_summary": "小结"})
    assert early.status_code == 400 and "scores" in early.json()
    entered = post(head_a, f"{detail}enter-score/", {"score": threshold, "self_value": "0.4", "evidence": "执业报告卡"})
    assert entered.status_code == 200, entered.content
    row = next(s for s in entered.json()["scores"] if s["id"] == threshold)
    assert (row["self_value"], row["evidence"], row["met"]) == ("0.4000", "执业报告卡", True)
    assert post(head_a, f"{detail}submit/", {}).status_code == 400  # no summary
    submitted = post(head_a, f"{detail}submit/", {"self_summary": "全年救治危重孕产妇12例。"})
    assert submitted.status_code == 200, submitted.content
    assert submitted.json()["state"] == "submitted" and submitted.json()["submitted_by_name"]
    assert EvaluationSubmission.objects.get(pk=submission.pk).state == S.SUBMITTED
    conflict = post(head_a, f"{detail}submit/", {"self_summary": "again"})
    assert conflict.status_code == 409 and conflict.json()["detail"]

    # The evaluation, by the county's MCH officer, on site.
    assert post(head_a, f"{detail}decide/", {"passed": True}).status_code == 403  # she does not evaluate herself
    no_reason = post(u.mch_a, f"{detail}evaluate-score/", {"score": deliveries, "evaluator_value": "1200"})
    assert no_reason.status_code == 400 and "override_reason" in no_reason.json()
    evaluated = post(u.mch_a, f"{detail}evaluate-score/", {"score": deliveries, "evaluator_value": "1200",
                                                           "override_reason": "以医院年报为准",
                                                           "evidence_checked": True})
    assert evaluated.status_code == 200, evaluated.content
    row = next(s for s in evaluated.json()["scores"] if s["id"] == deliveries)
    assert (row["computed_value"], row["evaluator_value"], row["value"]) == ("0.0000", "1200.0000", "1200.0000")
    assert row["overridden"] and row["override_reason"] == "以医院年报为准" and row["evidence_checked"] is True
    no_visit = post(u.mch_a, f"{detail}decide/", {"passed": True})
    assert no_visit.status_code == 400 and "visits" in no_visit.json()
    future = post(u.mch_a, f"{detail}visit/", {"visited_on": "2099-01-01", "evaluators": "王", "findings": "x"})
    assert future.status_code == 400 and "visited_on" in future.json()
    visited = post(u.mch_a, f"{detail}visit/", {"visited_on": timezone.localdate().isoformat(), "evaluators": "王主任",
                                                "findings": "值班到岗"})
    assert visited.status_code == 201, visited.content
    assert [(v["unannounced"], v["evaluators"]) for v in visited.json()["visits"]] == [(True, "王主任")]
    assert visited.json()["totals"]["suggested_pass"] is True
    decided = post(u.mch_a, f"{detail}decide/", {"passed": True})
    assert decided.status_code == 200, decided.content
    body = decided.json()
    assert body["state"] == "passed" and body["suggested_pass"] is True and body["evaluated_by_name"]
    fresh = EvaluationSubmission.objects.get(pk=submission.pk)
    assert fresh.state == S.PASSED and fresh.evaluated_by == u.mch_a
    assert fresh.history.first().history_change_reason == "result: passed"
    assert post(u.mch_a, f"{detail}decide/", {"passed": False, "reason": "x"}).status_code == 409

    ranking = get(u.mch_a, f"{ROUNDS}{opened.pk}/").json()["ranking"]
    assert [(r["rank"], r["submission"], r["state"]) for r in ranking] == [(1, str(submission.pk), "passed")]


def test_a_failed_centre_rectifies_and_a_step_out_of_turn_is_a_conflict(personas, opened, head_a):  # type: ignore[no-untyped-def]
    u = personas.users
    submission = opened.submissions.get(centre=personas.centres.a)
    detail = f"{SUBMISSIONS}{submission.pk}/"
    assert post(u.mch_a, f"{detail}rectify/", {"requirements": "增配"}).status_code == 409  # nothing failed yet
    threshold = scores(head_a, submission)["17"]["id"]
    post(head_a, f"{detail}enter-score/", {"score": threshold, "self_value": "0.25", "evidence": "执业报告卡"})
    assert post(head_a, f"{detail}submit/", {"self_summary": "小结"}).status_code == 200
    post(u.mch_a, f"{detail}visit/", {"visited_on": timezone.localdate().isoformat(), "evaluators": "王主任",
                                      "findings": "夜间值班产科医师仅1人", "unannounced": False})
    assert post(u.mch_a, f"{detail}decide/", {"passed": False}).status_code == 400  # a fail needs the reason
    failed = post(u.mch_a, f"{detail}decide/", {"passed": False, "reason": "产科医师床位比未达1:3"})
    assert failed.status_code == 200 and failed.json()["state"] == "failed"
    assert post(u.mch_a, f"{detail}rectify/", {"requirements": ""}).status_code == 400
    rectifying = post(u.mch_a, f"{detail}rectify/", {"requirements": "增配产科医师至床位比1:3"})
    assert rectifying.status_code == 200 and rectifying.json()["state"] == "rectifying"
    interview = EvaluationSubmission.objects.get(pk=submission.pk).rectification
    assert interview is not None and rectifying.json()["rectification"] == str(interview.pk)
    early = post(u.mch_a, f"{detail}reevaluate/", {"passed": False, "findings": "仍不足"})
    assert early.status_code == 400 and "findings" in early.json()  # the rectification is not verified yet
    assert post(u.mch_a, f"{detail}restore/", {"reason": "复评合格"}).status_code == 409  # not de-listed
    assert EvaluationSubmission.objects.get(pk=submission.pk).state == S.RECTIFYING


def test_a_county_system_is_returned_by_its_city_and_not_evaluated_by_itself(personas, opened):  # type: ignore[no-untyped-def]
    u, r = personas.users, personas.regions
    submission = opened.submissions.get(subject="system", region=r.county_a)
    detail = f"{SUBMISSIONS}{submission.pk}/"
    for row in scores(u.bureau_a, submission).values():
        if row["value_source"] == "entered" and row["target_type"] != "not_captured":
            assert post(u.bureau_a, f"{detail}enter-score/", {"score": row["id"], "self_value": "1",
                                                              "evidence": "批复文件"}).status_code == 200
    no_report = post(u.bureau_a, f"{detail}submit/", {"self_summary": "自评小结"})
    assert no_report.status_code == 400 and "report" in no_report.json()
    SelfInspectionReport.objects.create(region=r.county_a, year=YEAR, kind="self_evaluation", state="finalised",
                                        created_by=u.mch_a, updated_by=u.mch_a)
    assert post(u.bureau_a, f"{detail}submit/", {"self_summary": "自评小结"}).status_code == 200
    refused = post(u.bureau_a, f"{detail}decide/", {"passed": True})
    assert refused.status_code == 403 and "福州市" in refused.json()["detail"]
    assert post(u.bureau_city, f"{detail}return/", {}).status_code == 400
    returned = post(u.bureau_city, f"{detail}return/", {"reason": "人员库截图缺失"})
    assert returned.status_code == 200
    assert (returned.json()["state"], returned.json()["returned_reason"]) == ("draft", "人员库截图缺失")
    assert post(u.bureau_city, f"{detail}return/", {"reason": "again"}).status_code == 409
    assert post(u.bureau_city, f"{detail}recompute/").status_code == 409  # only while awaiting evaluation


def test_the_city_draws_its_sample_through_the_api(personas, opened):  # type: ignore[no-untyped-def]
    u, r = personas.users, personas.regions
    path = f"{ROUNDS}{opened.pk}/sample/"
    before = get(u.bureau_city, f"{ROUNDS}{opened.pk}/").json()
    assert before["to_draw"] == [{"code": "350100", "name": r.fuzhou.name}] and before["samples"] == []
    assert get(u.bureau_a, f"{ROUNDS}{opened.pk}/").json()["to_draw"] == []
    refused = post(u.bureau_a, path, {"evaluator": "350100"})
    assert refused.status_code == 403 and refused.json()["detail"]
    assert post(u.bureau_city, path, {"evaluator": "440000"}).status_code == 400  # not an evaluator of the round
    assert post(u.bureau_city, path, {}).status_code == 400
    drawn = post(u.bureau_city, path, {"evaluator": "350100"})
    assert drawn.status_code == 201, drawn.content
    (sample,) = drawn.json()["samples"]
    assert sample["evaluator"] == "350100" and sample["share"] == 30 and len(sample["drawn"]) == 1
    assert drawn.json()["to_draw"] == []
    area = sample["drawn"][0]["region"]
    assert area in {"350121", "350102"} and opened.submissions.get(subject="system", region_id=area).on_site
    assert EvaluationSample.objects.filter(round=opened, evaluator=r.fuzhou).count() == 1
    again = post(u.bureau_city, path, {"evaluator": "350100"})
    assert again.status_code == 400 and "sample" in again.json()
    assert post(u.bureau_gd, path, {"evaluator": "350100"}).status_code == 404


def test_the_round_closes_only_when_every_result_is_in(personas, opened):  # type: ignore[no-untyped-def]
    u = personas.users
    path = f"{ROUNDS}{opened.pk}/close/"
    assert post(u.bureau_city, path, {}).status_code == 403  # the city does not close the province's round
    waiting = post(u.bureau_province, path, {})
    assert waiting.status_code == 400 and "round" in waiting.json()
    opened.refresh_from_db()
    assert opened.state == EvaluationRound.State.OPEN
    assert post(u.bureau_gd, path, {}).status_code == 404


def test_the_schema_documents_every_evaluation_operation(personas):  # type: ignore[no-untyped-def]
    response = get(personas.users.mch_a, "/api/schema/", {"format": "json"})
    assert response.status_code == 200
    paths = response.json()["paths"]
    assert set(paths[ROUNDS]) == {"get", "post"} and set(paths[SUBMISSIONS]) == {"get"}
    assert set(paths[f"{ROUNDS}{{id}}/"]) == {"get"} and set(paths[f"{SUBMISSIONS}{{id}}/"]) == {"get"}
    steps = {"sample": ROUNDS, "close": ROUNDS, **{step: SUBMISSIONS for step in (
        "enter-score", "submit", "return", "evaluate-score", "recompute", "visit", "decide", "rectify", "reevaluate",
        "restore")}}
    for step, base in steps.items():
        operation = paths[f"{base}{{id}}/{step}/"]["post"]
        assert {"400", "403", "404", "409"} <= set(operation["responses"]), step
        assert set(operation["responses"]) & {"200", "201"}, step
        assert "·" in operation["summary"], step
        body = operation.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema", {})
        assert "state" not in body.get("properties", {}), step
    assert {p["name"] for p in paths[SUBMISSIONS]["get"]["parameters"]} >= {"round", "state", "subject"}
    assert {p["name"] for p in paths[ROUNDS]["get"]["parameters"]} >= {"year", "level", "province"}
    schemas = response.json()["components"]["schemas"]
    assert schemas["EvaluationSubmissionDetail"]["properties"]["state"]["readOnly"] is True


# --- The schema as the contract, for the evaluating personas (the project-wide run signs in as two clinicians,
# whom the evaluation refuses outright) ---------------------------------------------------------------------

@pytest.mark.usefixtures("in_test_transaction")
@pytest.mark.parametrize("persona", ["mch_a", "bureau_city"])
def test_the_evaluation_operations_answer_as_documented(personas, head_a, persona, monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setattr(APIView, "check_throttles", lambda self, request: None)
    # Opened by the service: a test-client request would reconnect what in_test_transaction disconnects.
    opened = svc.round_open(by=personas.users.bureau_province, province=personas.regions.fujian, year=YEAR,
                            level="county")
    centre = opened.submissions.get(centre=personas.centres.a)
    threshold = centre.scores.get(indicator__number="17")
    svc.score_enter(score=threshold, by=head_a, value="0.4", evidence="执业报告卡")
    svc.submission_submit(submission=centre, by=head_a, summary="小结")  # awaiting the county's evaluation
    ids = {"evaluation-rounds": [str(opened.pk)],
           "evaluation-submissions": [str(s.pk) for s in opened.submissions.order_by("pk")]}
    schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", get_wsgi_application(), config=_config())
    user = getattr(personas.users, persona)
    cookies = {"sessionid": _session_cookie(user), "csrftoken": CSRF_TOKEN}
    operations = [result.ok() for result in schema.get_all_operations()
                  if result.ok().path.startswith(("/api/evaluation-rounds/", "/api/evaluation-submissions/"))]
    assert len(operations) == 17, [op.label for op in operations]
    failures: list[str] = []
    answers: dict[str, set[int]] = {}
    for operation in operations:
        for mode in MODES:
            try:
                _run_operation(operation, mode, cookies=cookies, ids=ids, seen=answers)
            except Unsatisfiable:
                if mode != schemathesis.GenerationMode.NEGATIVE:
                    raise
            except (Exception, BaseExceptionGroup) as exc:  # noqa: BLE001  (every operation's failures at once)
                failures.append(f"{operation.label} [{mode.value}]: {exc}")
    assert not failures, "\n\n".join(failures)
    reads = answers[f"GET {SUBMISSIONS}{{id}}/"] | answers[f"GET {ROUNDS}{{id}}/"]
    assert 200 in reads and 404 in reads, answers  # real records were read, and invented ids not found
    steps = set().union(*(codes for label, codes in answers.items() if label.startswith(f"POST {SUBMISSIONS}{{id}}/")))
    assert steps & {200, 201, 409}, answers  # the steps met the services, not only the input checks

