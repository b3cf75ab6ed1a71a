"""Two officers take the same evaluation step at the same moment: two province officers open the same round, two
city officers return the result of the same county, two draw the city's sample. One wins; the other gets its
refusal and changes nothing (the unique round, the submission's and the round's row locks). Needs PostgreSQL (CI's
leg)."""

from __future__ import annotations

import pytest
from django.db import connection

from cases.models import EvaluationRound, EvaluationSample, EvaluationSubmission, SelfInspectionReport
from organisations.models import Role
from tests.concurrency import post_at_once
from tests.workflows.referral.helpers import member
from workflows.evaluation import services as svc

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
YEAR = 2025
ROUNDS, SUBMISSIONS = "/api/evaluation-rounds/", "/api/evaluation-submissions/"


@pytest.fixture(autouse=True)
def postgres_only(national_data) -> None:  # type: ignore[no-untyped-def]
    if connection.vendor != "postgresql":
        pytest.skip("Concurrent steps need PostgreSQL (the CI PostgreSQL leg runs this).")


def test_two_province_officers_opening_the_same_round_make_one(personas):  # type: ignore[no-untyped-def]
    u, inst = personas.users, personas.inst
    second = member("bureau_province2", inst.bureau_province, Role.BUREAU_OFFICER)
    body = {"province": "350000", "year": YEAR, "level": "county"}
    codes = post_at_once([(u.bureau_province, ROUNDS, body), (second, ROUNDS, body)])
    assert sorted(codes) == [201, 400], codes
    round_ = EvaluationRound.objects.get()
    assert round_.submissions.count() == 5  # three county systems and two county centres, not twice
    assert round_.history.count() == 1


def test_two_city_officers_returning_one_result_at_once_one_wins(personas):  # type: ignore[no-untyped-def]
    u, r, inst = personas.users, personas.regions, personas.inst
    second = member("bureau_city2", inst.bureau_city, Role.BUREAU_OFFICER)
    round_ = svc.round_open(by=u.bureau_province, province=r.fujian, year=YEAR, level="county")
    submission = round_.submissions.get(subject="system", region=r.county_a)
    for score in submission.scores.select_related("indicator"):
        if score.indicator.value_source == "entered" and score.indicator.target_type != "not_captured":
            svc.score_enter(score=score, by=u.bureau_a, value="100", evidence="批复文件")
    SelfInspectionReport.objects.create(region=r.county_a, year=YEAR, kind="self_evaluation", state="finalised",
                                        created_by=u.mch_a, updated_by=u.mch_a)
    svc.submission_submit(submission=submission, by=u.bureau_a, summary="自评小结")
    path = f"{SUBMISSIONS}{submission.pk}/decide/"
    codes = post_at_once([(u.bureau_city, path, {"passed": True, "reason": ""}),
                           (second, path, {"passed": False, "reason": "人员库未更新"})])
    assert sorted(codes) == [200, 409], codes
    fresh = EvaluationSubmission.objects.get(pk=submission.pk)
    winner_passed = codes[0] == 200
    assert fresh.state == (EvaluationSubmission.State.PASSED if winner_passed else EvaluationSubmission.State.FAILED)
    assert fresh.history.filter(state__in=EvaluationSubmission.EVALUATED_STATES).count() == 1


def test_two_city_officers_drawing_the_sample_at_once_draw_it_once(personas):  # type: ignore[no-untyped-def]
    u, r, inst = personas.users, personas.regions, personas.inst
    second = member("bureau_city2", inst.bureau_city, Role.BUREAU_OFFICER)
    round_ = svc.round_open(by=u.bureau_province, province=r.fujian, year=YEAR, level="county")
    path = f"{ROUNDS}{round_.pk}/sample/"
    codes = post_at_once([(u.bureau_city, path, {"evaluator": "350100"}), (second, path, {"evaluator": "350100"})])
    assert sorted(codes) == [201, 400], codes
    assert EvaluationSample.objects.filter(round=round_).count() == 1
    assert round_.submissions.filter(subject="system", on_site=True).count() == 1
