"""Process 1's records through the REST API: women, pregnancies, screenings and assessments, each endpoint for an
allowed and a denied persona; scope (another county's woman is 404 and unlisted), masking in lists, full numbers
and an access-log row per detail read, the look-up's second factor, the error contract (400, 403, 404, 409)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from cases.models import Assessment, Pregnancy, Woman, WomanLink
from cases.rules import screening_items, settings_for
from organisations.models import AccessLog
from tests.personas import make_id_number

ID_A = make_id_number("350121", dt.date(1992, 3, 4), 8)


@pytest.fixture(autouse=True)
def _no_sync_lag(settings):  # type: ignore[no-untyped-def]
    settings.API_SYNC_LAG_SECONDS = 0  # the lag has its own tests (test_api_sync.py)


def client_for(user):  # type: ignore[no-untyped-def]
    client = APIClient()
    client.force_authenticate(user)
    return client


def register(personas, user="obstetrician_a", at="hospital_a", **body):  # type: ignore[no-untyped-def]
    data = {"institution": str(getattr(personas.inst, at).pk), "name": "林秀英", "id_type": "resident_id",
            "id_number": ID_A, "phone": "13800001111", "residence_region": "350121", **body}
    return client_for(getattr(personas.users, user)).post("/api/women/", data, format="json")


def book(personas, woman_id, user="obstetrician_a", at="hospital_a", **body):  # type: ignore[no-untyped-def]
    today = timezone.localdate()
    data = {"woman": str(woman_id), "institution": str(getattr(personas.inst, at).pk),
            "lmp": str(today - dt.timedelta(days=70)), "booking_date": str(today), "gravidity": 2, "parity": 1, **body}
    return client_for(getattr(personas.users, user)).post("/api/pregnancies/", data, format="json")


def answers(personas, **yes):  # type: ignore[no-untyped-def]
    items = screening_items(settings_for(personas.inst.hospital_a))
    result = {item.code: False for item in items if item.required}
    result.update({code.replace("_", "."): True for code in yes})
    return result


@pytest.fixture
def pregnancy(personas):  # type: ignore[no-untyped-def]
    woman = register(personas).json()
    return Pregnancy.objects.get(pk=book(personas, woman["id"]).json()["id"])


def assess(personas, pregnancy, user="obstetrician_a", at="hospital_a", **body):  # type: ignore[no-untyped-def]
    data = {"institution": str(getattr(personas.inst, at).pk), "stage": "first",
            "inputs": {"age_years": 30}, **body}
    return client_for(getattr(personas.users, user)).post(f"/api/pregnancies/{pregnancy.pk}/assess/", data,
                                                          format="json")


# --- Women -------------------------------------------------------------------------------------------

def test_register_answers_her_full_record_and_each_detail_read_is_logged(personas):
    created = register(personas)
    assert created.status_code == 201, created.json()
    body = created.json()
    assert (body["id_number"], body["phone"], body["date_of_birth"]) == (ID_A, "13800001111", "1992-03-04")
    woman = Woman.objects.get(pk=body["id"])
    assert woman.history.latest().history_user == personas.users.obstetrician_a
    client = client_for(personas.users.obstetrician_a)
    views = AccessLog.objects.filter(user=personas.users.obstetrician_a, action="view", object_id=str(woman.pk))
    assert views.count() == 0
    for expected in (1, 2):
        detail = client.get(f"/api/women/{woman.pk}/")
        assert detail.status_code == 200
        assert (detail.json()["id_number"], detail.json()["phone"]) == (ID_A, "13800001111")
        assert views.count() == expected


def test_a_bad_id_number_is_a_field_error(personas):
    refused = register(personas, id_number="350121199203040000")
    assert refused.status_code == 400
    assert set(refused.json()) == {"id_number"}
    no_reason = register(personas, id_type="none", id_number="", date_of_birth="1995-01-01")
    assert (no_reason.status_code, set(no_reason.json())) == (400, {"no_id_reason"})
    assert not Woman.objects.exists()


def test_roles_that_do_not_register_are_refused_with_a_reason(personas):
    for user, at in (("bureau_a", "bureau_a"), ("duty_a", "hospital_a")):
        refused = register(personas, user=user, at=at)
        assert refused.status_code == 403, user
        assert refused.json()["detail"]
    assert client_for(personas.users.outsider).get("/api/women/").status_code == 403
    assert not Woman.objects.exists()


def test_lists_mask_numbers_and_keep_other_counties_women_out(personas):
    woman_id = register(personas).json()["id"]
    listed = client_for(personas.users.obstetrician_a).get("/api/women/").json()["results"]
    row = next(r for r in listed if r["id"] == woman_id)
    assert row["id_number"] == Woman.objects.get(pk=woman_id).id_number_masked != ID_A
    assert row["phone"] != "13800001111" and row["phone"].endswith("1111")
    assert ID_A not in str(listed)
    other = client_for(personas.users.obstetrician_b)
    assert woman_id not in {r["id"] for r in other.get("/api/women/").json()["results"]}
    assert other.get(f"/api/women/{woman_id}/").status_code == 404
    # Out of scope reads like missing.
    missing = other.get("/api/women/00000000-0000-4000-8000-000000000000/")
    assert (missing.status_code, missing.json()) == (404, other.get(f"/api/women/{woman_id}/").json())


def test_registering_her_number_elsewhere_needs_the_second_factor(personas):
    woman_id = register(personas).json()["id"]
    mismatch = register(personas, user="obstetrician_b", at="hospital_b", name="王芳")
    assert mismatch.status_code == 400
    assert not WomanLink.objects.filter(woman_id=woman_id, institution=personas.inst.hospital_b).exists()
    found = register(personas, user="obstetrician_b", at="hospital_b", name=" 林 秀英 ")
    assert (found.status_code, found.json()["id"]) == (200, woman_id)
    assert Woman.objects.count() == 1
    assert client_for(personas.users.obstetrician_b).get(f"/api/women/{woman_id}/").status_code == 200


def test_the_look_up_answers_no_record_and_a_mismatch_alike_and_logs_both(personas):
    woman_id = register(personas).json()["id"]
    client = client_for(personas.users.obstetrician_b)
    body = {"institution": str(personas.inst.hospital_b.pk), "id_type": "resident_id", "name": "王芳"}
    mismatch = client.post("/api/women/lookup/", {**body, "id_number": ID_A}, format="json")
    nobody = client.post("/api/women/lookup/", {**body, "id_number": make_id_number("350212", dt.date(1990, 1, 1), 4)},
                         format="json")
    assert (mismatch.status_code, nobody.status_code) == (400, 400)
    assert mismatch.json() == nobody.json()
    lookups = AccessLog.objects.filter(user=personas.users.obstetrician_b, action="lookup")
    assert lookups.count() == 2
    assert client.get(f"/api/women/{woman_id}/").status_code == 404  # still out of sight
    found = client.post("/api/women/lookup/", {**body, "id_number": ID_A, "name": "林秀英"}, format="json")
    assert (found.status_code, found.json()["id"], found.json()["id_number"]) == (200, woman_id, ID_A)
    assert lookups.filter(object_id=woman_id).count() == 2  # the refusal and the match
    assert not Woman.objects.exclude(pk=woman_id).exists()  # a look-up registers no one
    assert client.get(f"/api/women/{woman_id}/").status_code == 200
    refused = client_for(personas.users.bureau_a).post("/api/women/lookup/", {**body, "id_number": ID_A},
                                                        format="json")
    assert refused.status_code == 403


# --- Pregnancies ---------------------------------------------------------------------------------------

def test_booking_a_pregnancy_and_reading_it(personas):
    woman_id = register(personas).json()["id"]
    booked = book(personas, woman_id, status="closed")  # a state in the body is not an input
    assert booked.status_code == 201, booked.json()
    body = booked.json()
    assert (body["status"], body["colour"], body["timeline"], body["screenings"]) == ("ongoing", "", [], [])
    again = book(personas, woman_id)
    assert (again.status_code, set(again.json())) == (400, {"lmp"})  # one ongoing pregnancy at a time
    client = client_for(personas.users.obstetrician_a)
    assert client.get(f"/api/pregnancies/{body['id']}/").status_code == 200
    assert AccessLog.objects.filter(action="view", object_id=body["id"]).count() == 1
    listed = client.get("/api/pregnancies/", {"woman": woman_id}).json()["results"]
    assert [r["id"] for r in listed] == [body["id"]]
    assert client.get(f"/api/women/{woman_id}/").json()["pregnancies"][0]["id"] == body["id"]


def test_booking_is_refused_to_other_roles_and_for_women_out_of_sight(personas):
    woman_id = register(personas).json()["id"]
    assert book(personas, woman_id, user="bureau_a", at="bureau_a").status_code == 403
    hidden = book(personas, woman_id, user="obstetrician_b", at="hospital_b")
    assert (hidden.status_code, set(hidden.json())) == (400, {"woman"})
    assert not Pregnancy.objects.exists()


def test_another_county_cannot_read_or_list_the_pregnancy(personas, pregnancy):
    other = client_for(personas.users.obstetrician_b)
    assert other.get(f"/api/pregnancies/{pregnancy.pk}/").status_code == 404
    assert str(pregnancy.pk) not in {r["id"] for r in other.get("/api/pregnancies/").json()["results"]}
    assert other.post(f"/api/pregnancies/{pregnancy.pk}/screen/", {}, format="json").status_code == 404


# --- Screenings --------------------------------------------------------------------------------------

def test_a_negative_screen_marks_her_green(personas, pregnancy):
    client = client_for(personas.users.obstetrician_a)
    screened = client.post(f"/api/pregnancies/{pregnancy.pk}/screen/",
                           {"institution": str(personas.inst.hospital_a.pk), "answers": answers(personas)},
                           format="json")
    assert screened.status_code == 201, screened.json()
    assert screened.json()["positive"] is False
    pregnancy.refresh_from_db()
    assert pregnancy.colour == "green"
    assert [s["id"] for s in client.get("/api/screenings/", {"pregnancy": str(pregnancy.pk)}).json()["results"]] == [
        screened.json()["id"]]
    assert client.get(f"/api/screenings/{screened.json()['id']}/").status_code == 200
    assert client.get(f"/api/pregnancies/{pregnancy.pk}/").json()["screenings"][0]["id"] == screened.json()["id"]
    other = client_for(personas.users.obstetrician_b)
    assert other.get(f"/api/screenings/{screened.json()['id']}/").status_code == 404
    assert other.get("/api/screenings/").json()["results"] == []


def test_screening_needs_its_answers_and_a_booking_role(personas, pregnancy):
    client = client_for(personas.users.obstetrician_a)
    missing = client.post(f"/api/pregnancies/{pregnancy.pk}/screen/",
                          {"institution": str(personas.inst.hospital_a.pk), "answers": {}}, format="json")
    assert (missing.status_code, set(missing.json())) == (400, {"answers"})
    refused = client_for(personas.users.duty_a).post(
        f"/api/pregnancies/{pregnancy.pk}/screen/",
        {"institution": str(personas.inst.hospital_a.pk), "answers": answers(personas)}, format="json")
    assert refused.status_code == 403 and refused.json()["detail"]


def test_screening_a_pregnancy_that_ended_is_409(personas, pregnancy):
    Pregnancy.objects.filter(pk=pregnancy.pk).update(status=Pregnancy.Status.ENDED)
    late = client_for(personas.users.obstetrician_a).post(
        f"/api/pregnancies/{pregnancy.pk}/screen/",
        {"institution": str(personas.inst.hospital_a.pk), "answers": answers(personas)}, format="json")
    assert late.status_code == 409 and late.json()["detail"]


# --- Assessments -------------------------------------------------------------------------------------

def test_grading_by_the_national_table_and_the_colour_timeline(personas, pregnancy):
    red = assess(personas, pregnancy, inputs={"age_years": 36, "pa_pressure_mmhg": 55})
    assert red.status_code == 201, red.json()
    assert (red.json()["computed_colour"], red.json()["colour"], red.json()["status"]) == ("red", "red", "valid")
    assert "R1.1.1" in {row["code"] for row in red.json()["matched"]}
    yellow = assess(personas, pregnancy, stage="dynamic", inputs={"age_years": 36, "pa_pressure_mmhg": 55},
                    colour="yellow", override_reason="复查肺动脉压正常")
    assert (yellow.status_code, yellow.json()["colour"], yellow.json()["overridden"]) == (201, "yellow", True)
    detail = client_for(personas.users.obstetrician_a).get(f"/api/pregnancies/{pregnancy.pk}/").json()
    assert [(a["id"], a["colour"]) for a in detail["timeline"]] == [(red.json()["id"], "red"),
                                                                    (yellow.json()["id"], "yellow")]
    assert detail["timeline"][0]["assessor_name"] == str(personas.users.obstetrician_a)
    assert detail["timeline"][0]["institution_name"] == personas.inst.hospital_a.name
    assert detail["colour"] == "yellow"


def test_grading_lower_without_a_reason_and_bad_inputs_are_field_errors(personas, pregnancy):
    lower = assess(personas, pregnancy, inputs={"age_years": 36, "pa_pressure_mmhg": 55}, colour="green")
    assert (lower.status_code, set(lower.json())) == (400, {"override_reason"})
    bad = assess(personas, pregnancy, inputs={"age_years": 300, "ruleset": "x"})
    assert bad.status_code == 400 and {"age_years", "ruleset"} <= set(bad.json())
    assert not Assessment.objects.exists()


def test_grading_is_refused_to_an_mch_officer_and_out_of_scope_is_404(personas, pregnancy):
    refused = assess(personas, pregnancy, user="mch_a", at="mch_a")
    assert refused.status_code == 403 and refused.json()["detail"]
    assert assess(personas, pregnancy, user="obstetrician_b", at="hospital_b").status_code == 404
    assert not Assessment.objects.exists()


def test_voiding_needs_a_reason_and_happens_once(personas, pregnancy):
    graded = assess(personas, pregnancy, inputs={"age_years": 36, "pa_pressure_mmhg": 55}).json()
    path = f"/api/assessments/{graded['id']}/void/"
    client = client_for(personas.users.obstetrician_a)
    no_reason = client.post(path, {"reason": ""}, format="json")
    assert (no_reason.status_code, set(no_reason.json())) == (400, {"reason"})
    assert client_for(personas.users.obstetrician_b).post(path, {"reason": "录错"}, format="json").status_code == 404
    assert client_for(personas.users.mch_a).post(path, {"reason": "录错"}, format="json").status_code == 403
    voided = client.post(path, {"reason": "录错了孕妇"}, format="json")
    assert voided.status_code == 200, voided.json()
    assert (voided.json()["status"], voided.json()["void_reason"]) == ("voided", "录错了孕妇")
    again = client.post(path, {"reason": "再作废"}, format="json")
    assert again.status_code == 409 and again.json()["detail"]
    pregnancy.refresh_from_db()
    assert pregnancy.colour == ""
    listed = client.get("/api/assessments/", {"pregnancy": str(pregnancy.pk)}).json()["results"]
    assert [(a["id"], a["status"]) for a in listed] == [(graded["id"], "voided")]
    assert client_for(personas.users.obstetrician_b).get("/api/assessments/").json()["results"] == []


# --- The caller's external ids ---------------------------------------------------------------------------

def test_external_ids_are_kept_found_by_and_never_shared(personas):
    created = register(personas, external_id="HIS-W-1")
    assert created.status_code == 201, created.json()
    woman_id = created.json()["id"]
    client = client_for(personas.users.obstetrician_a)
    listed = client.get("/api/women/", {"external_id": "HIS-W-1"}).json()["results"]
    assert [row["id"] for row in listed] == [woman_id] and listed[0]["external_id"] == "HIS-W-1"
    assert client.get("/api/women/", {"external_id": "HIS-W-2"}).json()["results"] == []
    # Another woman cannot take it; the same woman found again keeps hers.
    other = register(personas, id_number=make_id_number("350121", dt.date(1990, 5, 6), 4), external_id="HIS-W-1")
    assert other.status_code == 400 and "external_id" in other.json()
    again = register(personas, external_id="HIS-W-9")
    assert again.status_code == 200 and again.json()["external_id"] == "HIS-W-1"
    booked = book(personas, woman_id, external_id="HIS-P-1")
    assert booked.status_code == 201 and booked.json()["external_id"] == "HIS-P-1"
    found = client.get("/api/pregnancies/", {"external_id": "HIS-P-1"}).json()["results"]
    assert [row["id"] for row in found] == [booked.json()["id"]]
    assert client_for(personas.users.obstetrician_b).get(
        "/api/pregnancies/", {"external_id": "HIS-P-1"}).json()["results"] == []


def test_a_woman_found_without_an_external_id_gets_the_callers(personas):
    assert register(personas).status_code == 201
    found = register(personas, external_id="HIS-W-5")
    assert found.status_code == 200 and found.json()["external_id"] == "HIS-W-5"
    woman = Woman.objects.get(pk=found.json()["id"])
    assert woman.history.latest().history_change_reason == "external id recorded"


def test_a_pregnancys_external_id_is_one_pregnancys(personas):
    first = register(personas).json()
    assert book(personas, first["id"], external_id="HIS-P-7").status_code == 201
    second = register(personas, id_number=make_id_number("350121", dt.date(1990, 5, 6), 4)).json()
    refused = book(personas, second["id"], external_id="HIS-P-7")
    assert refused.status_code == 400 and "external_id" in refused.json()
    assert not Pregnancy.objects.filter(woman_id=second["id"]).exists()
