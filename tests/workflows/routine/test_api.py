"""The routine records through the REST API (workflows/routine/api.py): visits and the delivery of a pregnancy
with or without a high-risk case, each endpoint for an allowed and a denied persona; scope (another county's
pregnancy is refused like a missing one, its records 404 and unlisted), the caller's external ids, the
corrections, a removed visit in the removals' sync list, and the error contract (400, 403, 404, 409)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from cases.models import Delivery, HighRiskCase, Pregnancy, Visit
from tests.workflows.highrisk.test_services import open_case
from tests.workflows.routine.test_services import pregnancy_at

VISITS, DELIVERIES = "/api/visits/", "/api/deliveries/"


@pytest.fixture(autouse=True)
def _no_sync_lag(settings):  # type: ignore[no-untyped-def]
    settings.API_SYNC_LAG_SECONDS = 0  # the lag has its own tests (tests/workflows/screening/test_api_sync.py)


def api(user):  # type: ignore[no-untyped-def]
    client = APIClient()
    client.force_authenticate(user)
    return client


def ids(response):  # type: ignore[no-untyped-def]
    assert response.status_code == 200, response.content
    return {row["id"] for row in response.json()["results"]}


def record_visit(personas, of, user="obstetrician_a", at="hospital_a", **body):  # type: ignore[no-untyped-def]
    data = {"pregnancy": str(of.pk), "kind": "antenatal",
            "date": str(timezone.localdate() - dt.timedelta(days=3)),
            "institution": str(getattr(personas.inst, at).pk), **body}
    return api(getattr(personas.users, user)).post(VISITS, data, format="json")


def record_delivery(personas, of, user="obstetrician_a", at="hospital_a", **body):  # type: ignore[no-untyped-def]
    data = {"pregnancy": str(of.pk), "delivered_at": (timezone.now() - dt.timedelta(days=1)).isoformat(),
            "place": "institution", "institution": str(getattr(personas.inst, at).pk), "mode": "spontaneous",
            "gestational_weeks": 39, "babies": [{"outcome": "live", "sex": "female", "weight_g": 3200}], **body}
    return api(getattr(personas.users, user)).post(DELIVERIES, data, format="json")


# --- Visits ------------------------------------------------------------------------------------------------

def test_a_visit_recorded_read_listed_and_found_by_its_external_id(personas):
    pregnancy = pregnancy_at(personas.inst.hospital_a)
    other = pregnancy_at(personas.inst.hospital_a)
    created = record_visit(personas, pregnancy, external_id="HIS-CJ-1", note="血压 120/80")
    assert created.status_code == 201, created.content
    body = created.json()
    visit = Visit.objects.get(pk=body["id"])
    assert (body["external_id"], body["kind"], body["note"]) == ("HIS-CJ-1", "antenatal", "血压 120/80")
    assert visit.history.get().history_user == personas.users.obstetrician_a
    record_visit(personas, other)
    doctor = api(personas.users.obstetrician_a)
    assert doctor.get(f"{VISITS}{visit.pk}/").json()["id"] == str(visit.pk)
    assert len(ids(doctor.get(VISITS))) == 2
    assert ids(doctor.get(VISITS, {"pregnancy": str(pregnancy.pk)})) == {str(visit.pk)}
    assert ids(doctor.get(VISITS, {"external_id": "HIS-CJ-1"})) == {str(visit.pk)}
    assert ids(doctor.get(VISITS, {"external_id": "HIS-CJ-2"})) == set()


def test_another_countys_pregnancy_is_refused_like_a_missing_one_and_its_visits_are_not_found(personas):
    pregnancy = pregnancy_at(personas.inst.hospital_a)
    visit = record_visit(personas, pregnancy).json()
    foreign = record_visit(personas, pregnancy, user="obstetrician_b", at="hospital_b")
    assert foreign.status_code == 400 and "pregnancy" in foreign.json()
    other = api(personas.users.obstetrician_b)
    assert ids(other.get(VISITS)) == set()
    assert other.get(f"{VISITS}{visit['id']}/").status_code == 404
    for step, body in (("correct", {"reason": "x", "note": "y"}), ("void", {"reason": "x"})):
        assert other.post(f"{VISITS}{visit['id']}/{step}/", body, format="json").status_code == 404
    assert Visit.objects.filter(pk=visit["id"], note="").exists()


@pytest.mark.parametrize("persona", ["bureau_a", "outsider"])
def test_a_persona_without_the_right_gets_403_and_nothing_is_written(personas, persona):
    pregnancy = pregnancy_at(personas.inst.hospital_a)
    response = api(getattr(personas.users, persona)).post(VISITS, {
        "pregnancy": str(pregnancy.pk), "kind": "antenatal", "date": str(timezone.localdate()),
        "institution": str(personas.inst.hospital_a.pk)}, format="json")
    assert response.status_code == 403, response.content
    assert response.json()["detail"]
    assert not Visit.objects.exists()


def test_a_duty_doctor_records_deliveries_but_not_visits(personas):
    pregnancy = pregnancy_at(personas.inst.hospital_a)
    refused = record_visit(personas, pregnancy, user="duty_a")
    assert refused.status_code == 403 and refused.json()["detail"]
    assert not Visit.objects.exists()
    assert record_delivery(personas, pregnancy, user="duty_a").status_code == 201


def test_a_bureau_officer_records_no_delivery(personas):
    pregnancy = pregnancy_at(personas.inst.hospital_a)
    refused = record_delivery(personas, pregnancy, user="bureau_a")
    assert refused.status_code == 403 and refused.json()["detail"]
    assert not Delivery.objects.exists()


@pytest.mark.parametrize(("body", "field"), [
    ({"date": "2999-01-01"}, "date"),
    ({"date": str(timezone.localdate() + dt.timedelta(days=2))}, "date"),
    ({"kind": "postpartum"}, "kind"),
    ({"kind": "house_call"}, "kind"),
    ({"institution": "5b1f0c2e-8a44-4d1e-9a57-2f6a1c0b9e11"}, "institution"),
    ({"pregnancy": "not-a-uuid"}, "pregnancy"),
])
def test_bad_visits_are_400_field_errors(personas, body, field):
    pregnancy = pregnancy_at(personas.inst.hospital_a)
    response = record_visit(personas, pregnancy, **body)
    assert response.status_code == 400, response.content
    assert field in response.json()
    assert not Visit.objects.exists()


def test_an_external_id_is_one_visits(personas):
    pregnancy = pregnancy_at(personas.inst.hospital_a)
    assert record_visit(personas, pregnancy, external_id="HIS-CJ-7").status_code == 201
    again = record_visit(personas, pregnancy, external_id="HIS-CJ-7")
    assert again.status_code == 400 and "external_id" in again.json()
    assert Visit.objects.count() == 1


def test_a_correction_changes_what_is_sent_and_keeps_the_reason(personas):
    pregnancy = pregnancy_at(personas.inst.hospital_a)
    visit = record_visit(personas, pregnancy, note="first").json()
    doctor = api(personas.users.obstetrician_a)
    missing = doctor.post(f"{VISITS}{visit['id']}/correct/", {"note": "second"}, format="json")
    assert missing.status_code == 400 and "reason" in missing.json()
    new_date = str(timezone.localdate() - dt.timedelta(days=5))
    corrected = doctor.post(f"{VISITS}{visit['id']}/correct/", {"reason": "日期录错", "date": new_date}, format="json")
    assert corrected.status_code == 200, corrected.content
    assert (corrected.json()["date"], corrected.json()["note"]) == (new_date, "first")
    row = Visit.objects.get(pk=visit["id"]).history.latest()
    assert row.history_change_reason == "visit corrected: 日期录错"


def test_a_visit_removed_is_gone_and_listed_among_the_removals_of_those_who_see_the_pregnancy(personas):
    pregnancy = pregnancy_at(personas.inst.hospital_a)
    kept = record_visit(personas, pregnancy).json()
    wrong = record_visit(personas, pregnancy, external_id="HIS-CJ-9").json()
    doctor = api(personas.users.obstetrician_a)
    assert doctor.post(f"{VISITS}{wrong['id']}/void/", {}, format="json").status_code == 400
    removed = doctor.post(f"{VISITS}{wrong['id']}/void/", {"reason": "录错孕妇"}, format="json")
    assert removed.status_code == 204
    assert ids(doctor.get(VISITS)) == {kept["id"]}
    assert doctor.get(f"{VISITS}{wrong['id']}/").status_code == 404
    listing = doctor.get(f"{VISITS}removed/")
    assert listing.status_code == 200, listing.content
    [row] = listing.json()["results"]
    assert (row["id"], row["external_id"], row["pregnancy"]) == (wrong["id"], "HIS-CJ-9", str(pregnancy.pk))
    assert row["reason"] == "visit voided: 录错孕妇"
    after = doctor.get(f"{VISITS}removed/", {"updated_since": row["removed_at"]})
    assert after.json()["results"] == []
    assert api(personas.users.obstetrician_b).get(f"{VISITS}removed/").json()["results"] == []


def test_the_removals_are_read_page_by_page_without_a_repeat(personas):
    pregnancy = pregnancy_at(personas.inst.hospital_a)
    doctor = api(personas.users.obstetrician_a)
    made = [record_visit(personas, pregnancy).json()["id"] for _ in range(3)]
    for pk in made:
        assert doctor.post(f"{VISITS}{pk}/void/", {"reason": "重复"}, format="json").status_code == 204
    seen: list[str] = []
    page = doctor.get(f"{VISITS}removed/", {"page_size": 2}).json()
    while True:
        seen += [row["id"] for row in page["results"]]
        if not page["next"]:
            break
        page = doctor.get(page["next"]).json()
    assert sorted(seen) == sorted(made)


# --- The delivery ------------------------------------------------------------------------------------------

def test_the_delivery_of_a_pregnancy_without_a_case(personas):
    pregnancy = pregnancy_at(personas.inst.hospital_a)
    created = record_delivery(personas, pregnancy, external_id="HIS-FM-1", babies=[
        {"outcome": "live", "sex": "female", "weight_g": 3100}, {"outcome": "live", "sex": "male", "weight_g": 2900}])
    assert created.status_code == 201, created.content
    body = created.json()
    assert (body["live_births"], body["stillbirths"], len(body["babies"])) == (2, 0, 2)
    assert body["external_id"] == "HIS-FM-1"
    assert Pregnancy.objects.get(pk=pregnancy.pk).status == Pregnancy.Status.DELIVERED
    doctor = api(personas.users.obstetrician_a)
    assert ids(doctor.get(DELIVERIES, {"external_id": "HIS-FM-1"})) == {body["id"]}
    assert doctor.get(f"{DELIVERIES}{body['id']}/").json()["babies"][1]["sex"] == "male"
    second = record_delivery(personas, pregnancy)
    assert second.status_code == 409 and second.json()["detail"]
    assert Delivery.objects.count() == 1


def test_the_delivery_of_a_pregnancy_with_an_open_case_moves_the_case_on(personas):
    case = open_case(personas)
    assert record_delivery(personas, case.pregnancy).status_code == 201
    assert HighRiskCase.objects.get(pk=case.pk).state == HighRiskCase.State.DELIVERED


@pytest.mark.parametrize(("body", "field"), [
    ({"delivered_at": "9999-12-31T23:59:59+08:00"}, "delivered_at"),
    ({"delivered_at": "0001-01-01T00:00:00Z"}, "delivered_at"),
    ({"delivered_at": (timezone.now() + dt.timedelta(days=1)).isoformat()}, "delivered_at"),
    ({"babies": []}, "babies"),
    ({"babies": [{"outcome": "alive", "sex": "female"}]}, "babies"),
    ({"mode": "caesarean"}, "caesarean_indication"),
    ({"place": "home"}, "institution"),
])
def test_bad_deliveries_are_400_field_errors(personas, body, field):
    pregnancy = pregnancy_at(personas.inst.hospital_a)
    response = record_delivery(personas, pregnancy, **body)
    assert response.status_code == 400, response.content
    assert field in response.json(), response.json()
    assert not Delivery.objects.exists()
    assert Pregnancy.objects.get(pk=pregnancy.pk).status == Pregnancy.Status.ONGOING


def test_another_countys_delivery_is_not_found_and_its_pregnancy_refused(personas):
    pregnancy = pregnancy_at(personas.inst.hospital_a)
    delivery = record_delivery(personas, pregnancy).json()
    other = api(personas.users.obstetrician_b)
    assert ids(other.get(DELIVERIES)) == set()
    assert other.get(f"{DELIVERIES}{delivery['id']}/").status_code == 404
    correct = other.post(f"{DELIVERIES}{delivery['id']}/correct/", {"reason": "x", "mode": "caesarean"},
                         format="json")
    assert correct.status_code == 404
    second = pregnancy_at(personas.inst.hospital_a)
    refused = record_delivery(personas, second, user="obstetrician_b", at="hospital_b")
    assert refused.status_code == 400 and "pregnancy" in refused.json()


def test_a_delivery_corrected_with_new_babies(personas):
    pregnancy = pregnancy_at(personas.inst.hospital_a)
    delivery = record_delivery(personas, pregnancy).json()
    doctor = api(personas.users.obstetrician_a)
    corrected = doctor.post(f"{DELIVERIES}{delivery['id']}/correct/", {
        "reason": "双胎漏录", "babies": [{"outcome": "live", "sex": "female", "weight_g": 3200},
                                        {"outcome": "stillborn", "sex": "male"}]}, format="json")
    assert corrected.status_code == 200, corrected.content
    body = corrected.json()
    assert (body["live_births"], body["stillbirths"], body["mode"]) == (1, 1, "spontaneous")
    assert Delivery.objects.get(pk=delivery["id"]).history.latest().history_change_reason == (
        "delivery corrected: 双胎漏录")
    assert Pregnancy.objects.get(pk=pregnancy.pk).status == Pregnancy.Status.DELIVERED
