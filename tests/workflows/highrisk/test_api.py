"""The high-risk case API (workflows/highrisk/api.py): the scoped list with the worklist's and register's filters
(numbers masked), the detail (numbers in full, timeline, open steps; the read logged), one POST per step through
the pages' services, and the error answers: 400 field errors, 403 with a reason, 404 for out of scope like
missing (and nothing changes), 409 when the case has moved on."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from cases.models import (
    Assessment,
    CasePlan,
    CaseTransfer,
    Delivery,
    FollowUpVisit,
    HighRiskCase,
    NearMiss,
    Tracing,
)
from organisations.models import AccessLog, Role
from tests.notifications.helpers import move_deadlines_into_past
from tests.personas import MembershipFactory, UserFactory
from tests.workflows import sync
from tests.workflows.highrisk.test_services import open_case
from workflows.deadlines import deadlines_sweep
from workflows.models import Deadline
from workflows.screening.services import assessment_record

LIST = "/api/highrisk-cases/"


def api(user):  # type: ignore[no-untyped-def]
    client = APIClient()
    client.force_login(user)
    return client


def url(case, step=None):  # type: ignore[no-untyped-def]
    pk = case if isinstance(case, str) else case.pk
    return f"{LIST}{pk}/" + (f"{step}/" if step else "")


def post(user, case, step, data=None):  # type: ignore[no-untyped-def]
    return api(user).post(url(case, step), data if data is not None else {}, format="json")


def ok(response):  # type: ignore[no-untyped-def]
    assert response.status_code == 200, response.content
    return response.json()


def listed(user, **params):  # type: ignore[no-untyped-def]
    response = api(user).get(LIST, params)
    assert response.status_code == 200, response.content
    return {row["id"] for row in response.json()["results"]}


def state(case):  # type: ignore[no-untyped-def]
    return HighRiskCase.objects.get(pk=case.pk).state


# --- List and detail ------------------------------------------------------------------------------------------

def test_the_list_is_scoped_and_filtered_like_the_worklist_and_register(personas):
    orange = open_case(personas)
    red = open_case(personas, inputs={"pa_pressure_mmhg": 60})
    other_county = open_case(personas, at="hospital_b", user="obstetrician_b")
    a, b = personas.users.obstetrician_a, personas.users.obstetrician_b
    assert listed(a) == {str(orange.pk), str(red.pk)}
    assert listed(b) == {str(other_county.pk)}
    assert listed(personas.users.mch_a) == {str(orange.pk), str(red.pk)}
    rows = api(a).get(LIST).json()["results"]
    assert [row["id"] for row in rows] == [str(red.pk), str(orange.pk)]  # danger first

    assert listed(a, colour="red") == {str(red.pk)}
    assert listed(a, tab="mine") == listed(a, tab="unreported") == {str(orange.pk), str(red.pk)}
    ok(post(a, orange, "report"))
    assert listed(a, tab="unreported") == {str(red.pk)}
    HighRiskCase.objects.filter(pk=red.pk).update(next_visit_at=timezone.localdate() - dt.timedelta(days=3))
    assert listed(a, tab="overdue") == listed(a, overdue="visit") == {str(red.pk)}
    ok(post(a, orange, "close", {"kind": "ended", "reason": "外院引产"}))
    assert listed(a) == {str(red.pk)}  # open cases by default, as the register
    assert listed(a, state="closed") == listed(a, state="all") - {str(red.pk)} == {str(orange.pk)}
    assert listed(a, q=orange.pregnancy.woman.name) == set()  # closed, so not among the open ones
    assert listed(a, q=orange.pregnancy.woman.name, state="all") == {str(orange.pk)}
    bad = api(a).get(LIST, {"state": "nonsense", "tab": "x"})
    assert bad.status_code == 400 and set(bad.json()) == {"state", "tab"}
    refused = api(personas.users.primary_a).get(LIST)
    assert refused.status_code == 403 and refused.json()["detail"]


def test_the_list_masks_the_numbers_the_detail_shows_them_and_the_read_is_logged(personas):
    case = open_case(personas)
    woman = case.pregnancy.woman
    doctor = personas.users.obstetrician_a
    row = api(doctor).get(LIST).json()["results"][0]
    assert row["woman_id_number"] == woman.id_number_masked != woman.id_number
    assert row["woman_phone"] == woman.phone_masked != woman.phone
    assert woman.id_number not in str(row) and woman.phone not in str(row)
    assert not AccessLog.objects.filter(object_id=str(case.pk)).exists()

    detail = ok(api(doctor).get(url(case)))
    assert (detail["woman_id_number"], detail["woman_phone"]) == (woman.id_number, woman.phone)
    assert detail["state"] == "opened" and detail["colour"] == "orange"
    assert detail["responsible_doctor"] == str(doctor.public_id)
    assert detail["institution_name"] == personas.inst.hospital_a.name
    assert [v["status"] for v in detail["visits"]] == ["scheduled"]
    assert detail["open_tracing"] is None and detail["pending_transfer"] is None
    assert {"report", "plan", "visit", "close", "death"} <= set(detail["allowed_steps"])
    assert "reopen" not in detail["allowed_steps"] and "transfer-accept" not in detail["allowed_steps"]
    assert {"assessment", "transition"} <= {event["kind"] for event in detail["timeline"]}
    log = AccessLog.objects.get(object_id=str(case.pk))
    assert (log.user, log.action, log.institution) == (doctor, AccessLog.Action.VIEW, personas.inst.hospital_a)
    assert woman.id_number not in log.summary

    officer = ok(api(personas.users.mch_a).get(url(case)))
    assert officer["allowed_steps"] == ["reassign"]


def test_another_countys_case_is_not_found_and_a_step_changes_nothing(personas):
    case = open_case(personas)
    b = personas.users.obstetrician_b
    history = case.history.count()
    missing = api(b).get(url(str(uuid.uuid4())))
    assert api(b).get(url(case)).status_code == 404
    assert api(b).get(url(case)).json() == missing.json()
    for step, body in [("report", {}), ("plan", {"kind": "management", "text": "x"}),
                       ("close", {"kind": "ended", "reason": "x"})]:
        assert post(b, case, step, body).status_code == 404
    assert state(case) == "opened" and case.history.count() == history and not case.plans.exists()
    assert not AccessLog.objects.filter(object_id=str(case.pk)).exists()


# --- Steps ----------------------------------------------------------------------------------------------------

def test_a_case_through_every_step_to_closed_and_reopened(personas):
    a, b = personas.users.obstetrician_a, personas.users.obstetrician_b
    case = open_case(personas)

    ok(post(a, case, "report"))
    assert state(case) == "reported" and HighRiskCase.objects.get(pk=case.pk).reported_at is not None
    ok(post(a, case, "plan", {"kind": "management", "text": "每两周产检，监测血压"}))
    out = ok(post(a, case, "plan", {"kind": "emergency", "text": "出血时立即转诊",
                                    "rescue_centre": str(personas.centres.city.pk)}))
    assert out["state"] == "managing" and {p["kind"] for p in out["plans"]} == {"management", "emergency"}
    assert CasePlan.objects.get(case=case, kind="emergency").rescue_centre == personas.centres.city

    due = FollowUpVisit.objects.get(case=case, status="scheduled")
    out = ok(post(a, case, "visit", {"institution": str(personas.inst.hospital_a.pk), "findings": "血压 150/95",
                                     "reassess": True, "age_years": 41, "hb_g_l": "85",
                                     "findings_codes": "O2.2.1，P2"}))
    due.refresh_from_db()
    assert due.status == "done" and due.findings == "血压 150/95" and due.done_by == a
    assert due.assessment is not None and due.assessment.stage == Assessment.Stage.DYNAMIC
    assert due.assessment.inputs["hb_g_l"] == 85.0 and due.assessment.inputs["findings"] == ["O2.2.1", "P2"]
    assert [v["status"] for v in out["visits"]] == ["done", "scheduled"]

    ok(post(a, case, "delivery-place", {"institution": str(personas.inst.mch_city.pk)}))
    assert HighRiskCase.objects.get(pk=case.pk).planned_delivery_institution == personas.inst.mch_city

    colleague = UserFactory(username="obstetrician_a2")
    MembershipFactory(user=colleague, institution=personas.inst.hospital_a, role=Role.OBSTETRICIAN)
    out = ok(post(a, case, "reassign", {"to": str(colleague.public_id), "reason": "休产假"}))
    assert out["responsible_doctor"] == str(colleague.public_id)
    assert case.history.latest().history_user == a

    out = ok(post(a, case, "transfer", {"to_institution": str(personas.inst.hospital_b.pk), "reason": "随丈夫迁居"}))
    assert out["pending_transfer"]["to_institution"] == str(personas.inst.hospital_b.pk)
    assert "transfer-accept" in ok(api(b).get(url(case)))["allowed_steps"]
    out = ok(post(b, case, "transfer-accept", {"doctor": str(b.public_id)}))
    assert out["institution"] == str(personas.inst.hospital_b.pk) and out["pending_transfer"] is None
    assert CaseTransfer.objects.get(case=case).status == "accepted"

    out = ok(post(b, case, "delivery", {
        "delivered_at": (timezone.now() - dt.timedelta(hours=2)).isoformat(), "place": "institution",
        "institution": str(personas.inst.hospital_b.pk), "mode": "caesarean", "caesarean_indication": "瘢痕子宫",
        "gestational_weeks": 38, "gestational_days": 2, "outcome": "母婴平安",
        "babies": [{"outcome": "live", "sex": "female", "weight_g": 3200}]}))
    assert out["state"] == "delivered"
    delivery = Delivery.objects.get(pregnancy=case.pregnancy)
    assert (delivery.mode, delivery.institution, delivery.live_births) == ("caesarean", personas.inst.hospital_b, 1)
    assert [(baby.sex, baby.weight_g) for baby in delivery.babies.all()] == [("female", 3200)]

    ok(post(b, case, "postpartum"))
    assert state(case) == "postpartum"
    assessment_record(pregnancy=case.pregnancy, institution=personas.inst.hospital_b, by=b,
                      stage=Assessment.Stage.DAY42, inputs={"age_years": 41}, colour="green",
                      override_reason="产后42天恢复良好")
    out = ok(post(b, case, "close", {"kind": "recovered", "reason": "产后42天检查恢复"}))
    assert out["state"] == "closed" and out["close_kind"] == "recovered"
    out = ok(post(b, case, "reopen", {"reason": "产后出血再入院"}))
    assert out["state"] == "managing" and out["reopen_reason"] == "产后出血再入院"
    reasons = list(case.history.order_by("history_date").values_list("history_change_reason", flat=True))
    assert "reported to the county MCH institute" in reasons and reasons[-1] == "next visit scheduled"


def test_a_transfer_rejected_or_withdrawn(personas):
    a, b = personas.users.obstetrician_a, personas.users.obstetrician_b
    case = open_case(personas)
    ok(post(a, case, "transfer", {"to_institution": str(personas.inst.hospital_b.pk), "reason": "迁居"}))
    refused = post(a, case, "transfer", {"to_institution": str(personas.inst.hospital_b.pk), "reason": "再次"})
    assert refused.status_code == 409 and refused.json()["detail"]
    ok(post(b, case, "transfer-reject", {"reason": "床位已满"}))
    assert CaseTransfer.objects.get(case=case).status == "rejected" and state(case) == "opened"
    assert post(b, case, "transfer-accept", {"doctor": str(b.public_id)}).status_code == 404  # no longer hers

    ok(post(a, case, "transfer", {"to_institution": str(personas.inst.hospital_b.pk), "reason": "再次迁居"}))
    out = ok(post(a, case, "transfer-withdraw", {"reason": "孕妇改变主意"}))
    assert out["pending_transfer"] is None
    assert set(CaseTransfer.objects.filter(case=case).values_list("status", flat=True)) == {"rejected", "cancelled"}
    late = post(a, case, "transfer-withdraw", {"reason": "再撤一次"})
    assert late.status_code == 409 and late.json()["detail"]


def test_tracing_a_woman_who_missed_her_visit(personas):
    a = personas.users.obstetrician_a
    case = open_case(personas)
    early = post(a, case, "tracing-attempt", {"method": "phone", "note": "x"})
    assert early.status_code == 409 and early.json()["detail"]  # no tracing open yet
    move_deadlines_into_past(Deadline.objects.filter(kind="highrisk.visit_missed"))
    deadlines_sweep()
    tracing = Tracing.objects.get(case=case)
    out = ok(post(a, case, "tracing-attempt", {"method": "phone", "reached": False, "note": "电话无人接听"}))
    assert out["open_tracing"]["id"] == str(tracing.pk) and len(out["open_tracing"]["attempts"]) == 1
    out = ok(post(a, case, "found", {"outcome": "已回老家，约定下周复诊"}))
    tracing.refresh_from_db()
    assert tracing.status == "found" and out["open_tracing"] is None
    assert FollowUpVisit.objects.filter(case=case, status="scheduled").count() == 1


def test_near_miss_and_death(personas, django_capture_on_commit_callbacks):
    a = personas.users.obstetrician_a
    case = open_case(personas)
    ok(post(a, case, "near-miss", {"criteria": ["cv_shock"], "note": "失血性休克"}))
    assert NearMiss.objects.get(pregnancy=case.pregnancy).criteria == ["cv_shock"]
    bad = post(a, case, "death", {"at": (timezone.now() + dt.timedelta(days=1)).isoformat(), "note": "x"})
    assert bad.status_code == 400 and set(bad.json()) == {"at"}
    out = ok(post(a, case, "death", {"at": (timezone.now() - dt.timedelta(hours=1)).isoformat(),
                                     "note": "产后出血，抢救无效"}))
    assert out["state"] == "died" and out["death_note"] == "产后出血，抢救无效"
    assert out["allowed_steps"] == ["near-miss"]


# --- Refusals -------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("persona", "step", "body"), [
    ("mch_a", "report", {}),
    ("mch_a", "plan", {"kind": "management", "text": "x"}),
    ("mch_a", "visit", {"institution": "00000000-0000-0000-0000-000000000000", "findings": "x"}),
    ("mch_a", "delivery-place", {"institution": "00000000-0000-0000-0000-000000000000"}),
    ("mch_a", "transfer", {"to_institution": "00000000-0000-0000-0000-000000000000", "reason": "x"}),
    ("mch_a", "close", {"kind": "ended", "reason": "x"}),
    ("mch_a", "death", {"at": "2026-01-01T08:00:00+08:00", "note": "x"}),
    ("mch_a", "near-miss", {}),
    ("duty_city", "report", {}),
    ("bureau_city", "reassign", {"to": "00000000-0000-0000-0000-000000000000", "reason": "x"}),
])
def test_a_denied_persona_gets_403_with_the_reason_and_nothing_changes(personas, persona, step, body):
    case = open_case(personas)
    if persona == "duty_city":  # a rescue centre's duty doctor: she sees the case only through a referral
        user = UserFactory(username="duty_city")
        MembershipFactory(user=user, institution=personas.inst.mch_city, role=Role.DUTY_DOCTOR)
    else:
        user = getattr(personas.users, persona)
    history = case.history.count()
    response = post(user, case, step, body)
    if persona == "duty_city" and response.status_code == 404:
        return  # out of her scope: the same answer as not found
    assert response.status_code == 403, response.content
    assert response.json()["detail"]
    assert case.history.count() == history and state(case) == "opened"


def test_the_transfer_answer_is_the_receiving_institutions(personas):
    a = personas.users.obstetrician_a
    case = open_case(personas)
    ok(post(a, case, "transfer", {"to_institution": str(personas.inst.hospital_b.pk), "reason": "迁居"}))
    for step, body in [("transfer-accept", {"doctor": str(a.public_id)}), ("transfer-reject", {"reason": "x"})]:
        refused = post(a, case, step, body)
        assert refused.status_code == 403 and personas.inst.hospital_b.name in refused.json()["detail"]
    assert CaseTransfer.objects.get(case=case).status == "requested"
    reopened = post(personas.users.mch_a, case, "reopen", {"reason": "x"})
    assert reopened.status_code == 409  # the officer may reopen, but only a closed case


def test_bad_bodies_are_400_field_errors(personas):
    a = personas.users.obstetrician_a
    case = open_case(personas)
    bad = post(a, case, "plan", {"kind": "nonsense"})
    assert bad.status_code == 400 and set(bad.json()) == {"kind", "text"}
    # The service's own check: an orange woman's emergency plan names the rescue centre it was made with.
    service = post(a, case, "plan", {"kind": "emergency", "text": "出血时立即转诊"})
    assert service.status_code == 400 and set(service.json()) == {"rescue_centre"}
    other_centre = post(a, case, "plan", {"kind": "emergency", "text": "x", "rescue_centre": str(personas.centres.b.pk)})
    assert other_centre.status_code == 400 and set(other_centre.json()) == {"rescue_centre"}
    assert post(a, case, "reassign", {"to": "not-a-uuid", "reason": "x"}).json().keys() == {"to"}
    no_baby = post(a, case, "delivery", {"delivered_at": timezone.now().isoformat(), "mode": "spontaneous",
                                         "babies": [{"outcome": "live"}]})
    assert no_baby.status_code == 400 and set(no_baby.json()) == {"babies"}
    assert post(a, case, "tracing-attempt", {"method": "pigeon", "note": "x"}).status_code in (400, 409)
    assert not case.plans.exists() and state(case) == "opened"


def test_a_step_the_state_no_longer_allows_is_409(personas):
    a = personas.users.obstetrician_a
    case = open_case(personas)
    ok(post(a, case, "report"))
    again = post(a, case, "report")
    assert again.status_code == 409 and again.json()["detail"]
    early = post(a, case, "postpartum")
    assert early.status_code == 409 and early.json()["detail"]
    assert post(a, case, "reopen", {"reason": "x"}).status_code == 409
    assert state(case) == "reported"


# --- Sync ------------------------------------------------------------------------------------------------------

def walk(user, **params):  # type: ignore[no-untyped-def]
    return sync.walk(api(user), LIST, **params)


def test_order_updated_lists_the_cases_as_a_sync_list_and_a_new_plan_moves_the_case_on(personas, settings):
    settings.API_SYNC_LAG_SECONDS = 0
    cases = [open_case(personas) for _ in range(3)]
    doctor = personas.users.obstetrician_a
    assert "count" in api(doctor).get(LIST).json()  # the worklist's numbered pages by default
    rows = walk(doctor, order="updated", page_size=2)
    assert [row["id"] for row in rows] == [str(c.pk) for c in sorted(cases, key=lambda c: (c.updated_at, c.pk))]
    last = rows[-1]["updated_at"]
    assert walk(doctor, updated_since=last) == []
    first = cases[0]
    ok(post(doctor, first, "plan", {"kind": "management", "text": "每两周产检"}))
    changed = walk(doctor, updated_since=last)
    assert [row["id"] for row in changed] == [str(first.pk)]
    assert walk(personas.users.obstetrician_b, order="updated") == []


def test_the_sync_list_keeps_the_filters_and_follows_closed_cases_with_state_all(personas, settings):
    settings.API_SYNC_LAG_SECONDS = 0
    case = open_case(personas)
    HighRiskCase.objects.filter(pk=case.pk).update(state=HighRiskCase.State.CLOSED)
    doctor = personas.users.obstetrician_a
    assert walk(doctor, order="updated") == []
    assert [row["id"] for row in walk(doctor, order="updated", state="all")] == [str(case.pk)]
    assert api(doctor).get(LIST, {"order": "sideways"}).status_code == 400
    assert api(doctor).get(LIST, {"cursor": "garbage"}).status_code == 404
