"""The referral API (cases/referral_api.py): create, scoped list and detail, one POST per step through to
closed, and the error answers — 400 field errors, 403 with a reason, 404 for out of scope like missing,
409 naming who acted first — in the request's language, never a 500."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from django.db import connection
from django.utils import timezone, translation
from django.utils.translation import gettext
from rest_framework.test import APIClient
from viewflow.workflow.status import PROCESS

from cases.models import Colour, Pregnancy, Referral, Urgency
from notifications.models import Alert
from organisations.models import AccessLog, Membership, RescueCentre, Role
from tests.notifications.helpers import move_deadlines_into_past
from tests.personas import book_woman
from tests.workflows import sync
from tests.workflows.highrisk.test_concurrency import race
from tests.workflows.referral.helpers import member, refer, rescue_staff
from workflows.deadlines import deadlines_sweep
from workflows.models import Deadline
from workflows.referral import services as rs

S = Referral.State
LIST = "/api/referrals/"


@pytest.fixture
def staff(personas):  # type: ignore[no-untyped-def]
    return rescue_staff(personas)


def api(user=None):  # type: ignore[no-untyped-def]
    client = APIClient()
    if user is not None:
        client.force_login(user)
    return client


def url(referral, step=None):  # type: ignore[no-untyped-def]
    pk = referral if isinstance(referral, str) else referral.pk
    return f"{LIST}{pk}/" + (f"{step}/" if step else "")


def post(user, path, data=None, **extra):  # type: ignore[no-untyped-def]
    return api(user).post(path, data if data is not None else {}, format="json", **extra)


def listed(user, **params):  # type: ignore[no-untyped-def]
    response = api(user).get(LIST, params)
    assert response.status_code == 200, response.content
    return {row["id"] for row in response.json()["results"]}


def new_pregnancy(personas, *, purple=False):  # type: ignore[no-untyped-def]
    pregnancy = Pregnancy.objects.get(woman=book_woman(at=personas.inst.hospital_a))
    if purple:
        Pregnancy.objects.filter(pk=pregnancy.pk).update(colour=Colour.PURPLE, purple=True)
        pregnancy.refresh_from_db()
    return pregnancy


def create_body(personas, pregnancy, **overrides):  # type: ignore[no-untyped-def]
    body = {"pregnancy": str(pregnancy.pk), "from_institution": str(personas.inst.hospital_a.pk),
            "to_centre": str(personas.centres.city.pk), "urgency": "emergency", "reason": "产后出血，宫缩乏力",
            "diagnosis": "产后出血 1500 mL", "systolic_bp": 82, "diastolic_bp": 50, "pulse": 128,
            "respiratory_rate": 24, "spo2": 94, "temperature": "37.2", "consciousness": "voice"}
    body.update(overrides)
    return body


def without_value(message: str, value: str) -> str:
    return message.replace(value, "<id>")


# --- Create -------------------------------------------------------------------------------------------

def test_create_answers_201_with_the_referral_and_alerts_the_centre(personas, staff):
    pregnancy = new_pregnancy(personas)
    # A state in the body is not an input: a referral always starts as requested.
    response = post(personas.users.obstetrician_a, LIST, create_body(personas, pregnancy, state="closed"))
    assert response.status_code == 201, response.content
    body = response.json()
    referral = Referral.objects.get()
    assert body["id"] == str(referral.pk)
    assert (body["state"], body["urgency"], body["diagnosis"], body["spo2"], body["consciousness"]) == (
        "requested", "emergency", "产后出血 1500 mL", 94, "voice")
    assert body["to_centre"] == str(personas.centres.city.pk) and body["to_centre_name"] == "福州市妇幼保健院"
    assert (referral.requested_by, referral.pregnancy, referral.systolic_bp) == (
        personas.users.obstetrician_a, pregnancy, 82)
    assert str(referral.temperature) == "37.2"
    assert set(Alert.objects.filter(kind="referral.requested").values_list("recipient__username", flat=True)) == {
        "duty_city1", "duty_city2"}
    assert list(referral.history.values_list("history_change_reason", flat=True)) == ["referral requested"]


@pytest.mark.parametrize(("overrides", "field"), [
    ({"reason": None}, "reason"),
    ({"reason": "   "}, "reason"),
    ({"urgency": "soon"}, "urgency"),
    ({"spo2": 150}, "spo2"),
    ({"pulse": 5}, "pulse"),
    ({"temperature": "warm"}, "temperature"),
    ({"consciousness": "asleep"}, "consciousness"),
    ({"pregnancy": "not-a-uuid"}, "pregnancy"),
    ({"to_centre": str(uuid.uuid4())}, "to_centre"),
])
def test_create_refuses_bad_input_with_field_errors(personas, staff, overrides, field):
    body = create_body(personas, new_pregnancy(personas))
    body.update(overrides)
    body = {k: v for k, v in body.items() if v is not None}
    response = post(personas.users.obstetrician_a, LIST, body)
    assert response.status_code == 400
    errors = response.json()
    assert set(errors) == {field}
    assert isinstance(errors[field], list) and errors[field][0]
    assert not Referral.objects.exists()


def test_create_with_a_missing_or_malformed_body_is_400_never_500(personas, staff):
    client = api(personas.users.obstetrician_a)
    empty = client.post(LIST, {}, format="json")
    assert empty.status_code == 400
    assert {"pregnancy", "from_institution", "to_centre", "urgency", "reason", "diagnosis"} <= set(empty.json())
    assert client.post(LIST, "{not json", content_type="application/json").status_code == 400
    listed_body = client.post(LIST, ["a"], format="json")
    assert listed_body.status_code == 400 and "non_field_errors" in listed_body.json()
    assert not Referral.objects.exists()


def test_create_refuses_a_pregnancy_out_of_scope_exactly_like_a_missing_one(personas, staff):
    pregnancy = new_pregnancy(personas)  # booked at 闽侯县医院: not obstetrician_b's
    other = {"from_institution": str(personas.inst.hospital_b.pk), "to_centre": str(personas.centres.city.pk),
             "off_suggestion_reason": "家属要求"}
    missing = str(uuid.uuid4())
    hidden = post(personas.users.obstetrician_b, LIST, create_body(personas, pregnancy, **other))
    absent = post(personas.users.obstetrician_b, LIST, {**create_body(personas, pregnancy, **other),
                                                        "pregnancy": missing})
    assert hidden.status_code == absent.status_code == 400
    assert set(hidden.json()) == set(absent.json()) == {"pregnancy"}
    assert without_value(hidden.json()["pregnancy"][0], str(pregnancy.pk)) == without_value(
        absent.json()["pregnancy"][0], missing)
    assert not Referral.objects.exists()


def test_create_from_an_institution_where_the_user_does_not_refer_is_403(personas, staff):
    # The city MCH hospital is visible to obstetrician_a (it covers her county) but she holds no role there.
    body = create_body(personas, new_pregnancy(personas), from_institution=str(personas.inst.mch_city.pk),
                       to_centre=str(personas.centres.province.pk))
    response = post(personas.users.obstetrician_a, LIST, body)
    assert response.status_code == 403
    assert "福州市妇幼保健院" in response.json()["detail"]
    assert not Referral.objects.exists()


def test_create_to_a_centre_of_another_province_is_refused_like_a_missing_one(personas, staff):
    guangdong = RescueCentre.objects.create(institution=personas.inst.hospital_gd, level=RescueCentre.Level.PROVINCE)
    missing = str(uuid.uuid4())
    body = create_body(personas, new_pregnancy(personas), off_suggestion_reason="x")
    elsewhere = post(personas.users.obstetrician_a, LIST, {**body, "to_centre": str(guangdong.pk)})
    absent = post(personas.users.obstetrician_a, LIST, {**body, "to_centre": missing})
    assert elsewhere.status_code == absent.status_code == 400
    assert set(elsewhere.json()) == set(absent.json()) == {"to_centre"}
    assert without_value(elsewhere.json()["to_centre"][0], str(guangdong.pk)) == without_value(
        absent.json()["to_centre"][0], missing)
    assert not Referral.objects.exists()


def test_create_for_a_centre_outside_the_sending_institutions_province(personas, staff):
    # A doctor working in both provinces may name the Guangdong centre, but not for a Fujian hospital.
    guangdong = RescueCentre.objects.create(institution=personas.inst.hospital_gd, level=RescueCentre.Level.PROVINCE)
    Membership.objects.create(user=personas.users.obstetrician_a, institution=personas.inst.hospital_gd,
                              role=Role.OBSTETRICIAN)
    body = create_body(personas, new_pregnancy(personas), to_centre=str(guangdong.pk), off_suggestion_reason="x")
    response = post(personas.users.obstetrician_a, LIST, body)
    assert response.status_code == 400, response.content.decode()
    with translation.override("zh-hans"):
        expected = gettext("Choose a rescue centre in the province of %(institution)s.") % {"institution": "闽侯县医院"}
    assert response.json() == {"to_centre": [expected]}
    assert not Referral.objects.exists()


def test_create_off_the_suggested_centre_needs_a_reason_from_the_service(personas, staff):
    body = create_body(personas, new_pregnancy(personas), to_centre=str(personas.centres.province.pk))
    response = post(personas.users.obstetrician_a, LIST, body)
    assert response.status_code == 400 and set(response.json()) == {"off_suggestion_reason"}
    body["off_suggestion_reason"] = "需要体外膜肺氧合"
    assert post(personas.users.obstetrician_a, LIST, body).status_code == 201


def test_a_second_open_referral_for_the_same_woman_is_409(personas, staff):
    referral = refer(personas)
    body = create_body(personas, referral.pregnancy)
    response = post(personas.users.obstetrician_a, LIST, body)
    assert response.status_code == 409
    assert "福州市妇幼保健院" in response.json()["detail"]
    assert Referral.objects.count() == 1


# --- Reading --------------------------------------------------------------------------------------------

def test_list_is_scoped_and_a_centre_never_sees_another_centres_referral(personas, staff):
    to_city = refer(personas)
    to_province = refer(personas, centre=personas.centres.province, off_suggestion_reason="ECMO")
    # A referral from 鼓楼区医院 (county A2) to the city centre: nothing to do with 闽侯县医院.
    gulou = member("obstetrician_a2", personas.inst.hospital_a2, Role.OBSTETRICIAN)
    pregnancy = Pregnancy.objects.get(woman=book_woman(at=personas.inst.hospital_a2))
    from_gulou = rs.referral_request(pregnancy=pregnancy, by=gulou, from_institution=personas.inst.hospital_a2,
                                     to_centre=personas.centres.city, urgency=Urgency.URGENT, reason="重度子痫前期",
                                     diagnosis="重度子痫前期")
    users = personas.users
    assert listed(users.obstetrician_a) == {str(to_city.pk), str(to_province.pk)}
    assert listed(staff.city1) == listed(staff.city2) == {str(to_city.pk), str(from_gulou.pk)}
    assert listed(staff.province1) == {str(to_province.pk)}
    assert listed(gulou) == {str(from_gulou.pk)}
    # duty_a works at the sending hospital (闽侯县医院, itself county centre A): it sees what its hospital sent,
    # never what another hospital sent to another centre.
    assert listed(users.duty_a) == {str(to_city.pk), str(to_province.pk)}
    for who in (users.duty_b, users.obstetrician_b, users.mch_b):
        assert listed(who) == set(), who
    assert api(users.outsider).get(LIST).status_code == 403  # no role that opens referrals
    assert api().get(LIST).status_code == 403  # anonymous


def test_list_filters_and_refuses_unknown_filter_values(personas, staff):
    emergency = refer(personas)
    urgent = refer(personas, urgency=Urgency.URGENT)
    rs.referral_accept(referral=urgent, by=staff.city1, team="产科")
    sender, centre = personas.users.obstetrician_a, staff.city1
    assert listed(centre, state="accepted") == {str(urgent.pk)}
    assert listed(centre, state="requested", urgency="emergency") == {str(emergency.pk)}
    assert listed(centre, urgency="planned") == set()
    assert listed(centre, side="centre") == {str(emergency.pk), str(urgent.pk)}
    assert listed(centre, side="sender") == set()
    assert listed(sender, side="sender") == {str(emergency.pk), str(urgent.pk)}
    assert listed(sender, side="centre") == set()  # 闽侯县医院 is a centre, but nothing was sent to it
    page = api(centre).get(LIST).json()
    assert page["count"] == 2 and page["next"] is None
    assert [row["id"] for row in page["results"]] == [str(urgent.pk), str(emergency.pk)]  # newest first
    bad = api(centre).get(LIST, {"state": "lost", "side": "both", "urgency": "now"})
    assert bad.status_code == 400 and set(bad.json()) == {"state", "side", "urgency"}


def test_the_list_never_shows_a_purple_womans_diagnosis_but_the_referral_does(personas, staff):
    pregnancy = new_pregnancy(personas, purple=True)
    purple = rs.referral_request(pregnancy=pregnancy, by=personas.users.obstetrician_a,
                                 from_institution=personas.inst.hospital_a, to_centre=personas.centres.city,
                                 urgency=Urgency.EMERGENCY, reason="发热待查", diagnosis="HIV 感染合并产后出血")
    plain = refer(personas)
    rows = {row["id"]: row for row in api(staff.city1).get(LIST).json()["results"]}
    assert rows[str(purple.pk)]["diagnosis"] is None
    assert (rows[str(purple.pk)]["colour"], rows[str(purple.pk)]["purple"]) == ("purple", True)
    assert rows[str(plain.pk)]["diagnosis"] == "产后出血 1500 mL"
    listing = api(staff.city1).get(LIST).content.decode()
    assert "HIV" not in listing and "发热待查" not in listing
    detail = api(staff.city1).get(url(purple))
    assert detail.status_code == 200 and detail.json()["diagnosis"] == "HIV 感染合并产后出血"


def test_detail_is_404_out_of_scope_exactly_like_a_missing_or_malformed_id(personas, staff):
    referral = refer(personas)
    hidden = api(personas.users.duty_b).get(url(referral))
    missing = api(personas.users.duty_b).get(url(str(uuid.uuid4())))
    malformed = api(personas.users.duty_b).get(url("not-a-uuid"))
    assert hidden.status_code == missing.status_code == malformed.status_code == 404
    assert hidden.json() == missing.json() == malformed.json()
    assert api(staff.province1).get(url(referral)).status_code == 404  # another centre
    assert api(staff.city1).get(url(str(uuid.uuid4()))).status_code == 404
    assert not AccessLog.objects.filter(object_id=str(referral.pk)).exists()


def test_detail_shows_the_whole_referral_and_logs_the_read(personas, staff):
    referral = refer(personas)
    response = api(staff.city1).get(url(referral))
    assert response.status_code == 200
    body = response.json()
    assert (body["reason"], body["diagnosis"], body["systolic_bp"], body["state_display"]) == (
        "产后出血，宫缩乏力", "产后出血 1500 mL", 82, str(S.REQUESTED.label))
    assert body["requested_by_name"] == str(personas.users.obstetrician_a)
    assert "id_number" not in body and "phone" not in body
    log = AccessLog.objects.get(object_id=str(referral.pk))
    assert (log.user, log.action) == (staff.city1, AccessLog.Action.VIEW)


# --- The steps ------------------------------------------------------------------------------------------

def test_every_step_through_to_closed(personas, staff):
    referral = refer(personas)
    eta = (timezone.now() + dt.timedelta(minutes=40)).isoformat()
    accepted = post(staff.city1, url(referral, "accept"), {"team": "产科ICU 王主任组", "expected_arrival_at": eta})
    assert accepted.status_code == 200, accepted.content
    assert (accepted.json()["state"], accepted.json()["receiving_team"]) == ("accepted", "产科ICU 王主任组")
    assert accepted.json()["answered_by_name"] == str(staff.city1)
    departed = post(personas.users.obstetrician_a, url(referral, "depart"), {"transport": "ambulance",
                                                                               "escort": "助产士"})
    assert departed.status_code == 200 and departed.json()["state"] == "departed"
    assert (departed.json()["transport"], departed.json()["escort"]) == ("ambulance", "助产士")
    arrived = post(staff.city2, url(referral, "arrive"))
    assert arrived.status_code == 200 and arrived.json()["state"] == "arrived"
    treated = api(staff.city2).post(url(referral, "start-treatment"))  # no body at all
    assert treated.status_code == 200 and treated.json()["state"] == "in_treatment"
    outcome = post(staff.city2, url(referral, "outcome"), {"outcome": "discharged", "note": "止血成功，痊愈出院"})
    assert outcome.status_code == 200 and outcome.json()["state"] == "outcome"
    assert outcome.json()["feedback_due_at"]
    closed = post(staff.city2, url(referral, "feedback"), {"summary": "宫缩乏力性产后出血，B-Lynch 缝合",
                                                           "advice": "产后出血 500 mL 即启动预案"})
    assert closed.status_code == 200 and closed.json()["state"] == "closed"
    referral = Referral.objects.get(pk=referral.pk)
    assert referral.state == S.CLOSED and referral.process.status == PROCESS.DONE
    assert referral.feedback_advice == "产后出血 500 mL 即启动预案"
    reasons = list(referral.history.order_by("history_date").values_list("history_change_reason", flat=True))
    assert reasons == ["referral requested", "accepted", "departed", "arrived", "treatment started",
                       "outcome: discharged", "feedback given"]
    assert Alert.objects.filter(kind="referral.feedback", recipient=personas.users.obstetrician_a).exists()
    # Closed: nothing more, not even a cancellation.
    assert post(personas.users.obstetrician_a, url(referral, "cancel"), {"reason": "x"}).status_code == 409


def test_decline_then_the_sender_redirects_and_gets_the_new_referral(personas, staff):
    referral = refer(personas)
    declined = post(staff.city1, url(referral, "decline"), {"reason": "ICU 满床"})
    assert declined.status_code == 200
    assert (declined.json()["state"], declined.json()["decline_reason"]) == ("declined", "ICU 满床")
    moved = post(personas.users.obstetrician_a, url(referral, "redirect"),
                 {"to_centre": str(personas.centres.province.pk), "reason": "市中心满床，转省中心"})
    assert moved.status_code == 201, moved.content
    new = Referral.objects.get(redirected_from=referral)
    assert moved.json()["id"] == str(new.pk) != str(referral.pk)
    assert (moved.json()["state"], moved.json()["to_centre"], moved.json()["redirected_from"]) == (
        "requested", str(personas.centres.province.pk), str(referral.pk))
    assert Referral.objects.get(pk=referral.pk).state == S.REDIRECTED
    # The sender follows her; the centre that declined does not learn where she went.
    assert api(personas.users.obstetrician_a).get(url(referral)).json()["redirected_to"] == str(new.pk)
    assert api(staff.city1).get(url(referral)).json()["redirected_to"] is None
    assert api(staff.city1).get(url(new)).status_code == 404


def test_redirect_to_the_same_or_an_unknown_centre_is_a_field_error(personas, staff):
    referral = refer(personas)
    same = post(staff.city1, url(referral, "redirect"), {"to_centre": str(personas.centres.city.pk), "reason": "x"})
    assert same.status_code == 400 and set(same.json()) == {"to_centre"}  # from the service
    unknown = post(staff.city1, url(referral, "redirect"), {"to_centre": "nope", "reason": "x"})
    assert unknown.status_code == 400 and set(unknown.json()) == {"to_centre"}
    assert Referral.objects.get(pk=referral.pk).state == S.REQUESTED


def test_cancel_after_arrival_is_a_409_with_the_reason(personas, staff):
    referral = refer(personas)
    rs.referral_accept(referral=referral, by=staff.city1, team="产科ICU")
    rs.referral_arrive(referral=referral, by=staff.city2)
    with translation.override("zh-hans"):
        refused = post(personas.users.obstetrician_a, url(referral, "cancel"), {"reason": "家属要求"},
                       HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert refused.status_code == 409, refused.content
    assert refused["Content-Type"].startswith("application/json")
    assert "到达" in refused.json()["detail"]
    refused = post(staff.city2, url(referral, "cancel"), {"reason": "家属要求"}, HTTP_ACCEPT_LANGUAGE="en")
    assert refused.status_code == 409 and "before she arrives" in refused.json()["detail"]
    assert Referral.objects.get(pk=referral.pk).state == S.ARRIVED


def test_transfer_on_to_a_bureau_is_a_field_error(personas, staff):
    referral = refer(personas)
    rs.referral_accept(referral=referral, by=staff.city1, team="产科ICU")
    rs.referral_arrive(referral=referral, by=staff.city2)
    rs.referral_start_treatment(referral=referral, by=staff.city2)
    refused = post(staff.city2, url(referral, "outcome"), {"outcome": "transferred", "note": "转上级",
                                                           "transferred_to": str(personas.inst.bureau_city.pk)})
    assert refused.status_code == 400 and set(refused.json()) == {"transferred_to"}
    moved = post(staff.city2, url(referral, "outcome"), {"outcome": "transferred", "note": "转省中心",
                                                         "transferred_to": str(personas.inst.mch_province.pk)})
    assert moved.status_code == 200 and moved.json()["transferred_to"] == str(personas.inst.mch_province.pk)


def test_cancel_by_the_sender(personas, staff):
    referral = refer(personas)
    assert post(personas.users.duty_b, url(referral, "cancel"), {"reason": "x"}).status_code == 404
    cancelled = post(personas.users.obstetrician_a, url(referral, "cancel"), {"reason": "病情稳定，本院继续处理"})
    assert cancelled.status_code == 200
    assert (cancelled.json()["state"], cancelled.json()["cancel_reason"]) == ("cancelled", "病情稳定，本院继续处理")
    assert Referral.objects.get(pk=referral.pk).process.status == PROCESS.CANCELED
    assert Alert.objects.filter(kind="referral.cancelled", recipient=staff.city1).exists()


def test_accept_after_someone_else_accepted_is_409_naming_who(personas, staff):
    referral = refer(personas)
    assert post(staff.city1, url(referral, "accept"), {"team": "产科ICU"}).status_code == 200
    second = post(staff.city2, url(referral, "accept"), {"team": "另一组"})
    assert second.status_code == 409
    assert str(staff.city1) in second.json()["detail"]
    assert set(second.json()) == {"detail"}
    referral = Referral.objects.get(pk=referral.pk)
    assert (referral.answered_by, referral.receiving_team) == (staff.city1, "产科ICU")


def test_a_step_the_state_does_not_allow_is_409(personas, staff):
    referral = refer(personas)
    for step, body in [("arrive", {}), ("start-treatment", {}), ("feedback", {"summary": "s", "advice": "a"}),
                       ("outcome", {"outcome": "discharged", "note": "好"})]:
        response = post(staff.city1, url(referral, step), body)
        assert (step, response.status_code) == (step, 409)
    assert post(personas.users.obstetrician_a, url(referral, "depart"), {"transport": "ambulance"}).status_code == 409
    assert Referral.objects.get(pk=referral.pk).state == S.REQUESTED


def test_the_next_level_centre_accepts_an_escalated_referral(personas, staff):
    referral = refer(personas)
    assert post(staff.province1, url(referral, "accept"), {"team": "省妇幼 ICU"}).status_code == 404
    for _level in (1, 2):
        move_deadlines_into_past(Deadline.objects.filter(kind=rs.RESPONSE_DUE, subject_id=str(referral.pk),
                                                         state="pending"))
        deadlines_sweep()
    assert str(referral.pk) in listed(staff.province1, side="centre")
    response = post(staff.province1, url(referral, "accept"), {"team": "省妇幼 ICU"})
    assert response.status_code == 200, response.content
    assert (response.json()["state"], response.json()["to_centre"]) == ("accepted", str(personas.centres.province.pk))


def test_a_sender_accepting_is_403_with_the_reason(personas, staff):
    referral = refer(personas)
    response = post(personas.users.obstetrician_a, url(referral, "accept"), {"team": "产科"})
    assert response.status_code == 403
    assert "福州市妇幼保健院" in response.json()["detail"]
    assert post(personas.users.obstetrician_a, url(referral, "decline"), {"reason": "不"}).status_code == 403
    assert Referral.objects.get(pk=referral.pk).state == S.REQUESTED


@pytest.mark.parametrize(("step", "body", "fields"), [
    ("accept", {}, {"team"}),
    ("accept", {"team": "   "}, {"team"}),
    ("accept", {"team": "产科", "expected_arrival_at": "tomorrow-ish"}, {"expected_arrival_at"}),
    ("decline", {}, {"reason"}),
    ("cancel", {"reason": ""}, {"reason"}),
    ("redirect", {}, {"to_centre", "reason"}),
])
def test_missing_or_bad_step_input_is_a_field_error(personas, staff, step, body, fields):
    referral = refer(personas)
    response = post(staff.city1, url(referral, step), body)
    assert response.status_code == 400
    assert set(response.json()) == fields
    assert Referral.objects.get(pk=referral.pk).state == S.REQUESTED


def test_field_errors_raised_by_the_services_are_400(personas, staff):
    referral = refer(personas)
    past = (timezone.now() - dt.timedelta(hours=2)).isoformat()
    late = post(staff.city1, url(referral, "accept"), {"team": "产科", "expected_arrival_at": past})
    assert late.status_code == 400 and set(late.json()) == {"expected_arrival_at"}
    rs.referral_accept(referral=referral, by=staff.city1, team="产科")
    future = (timezone.now() + dt.timedelta(hours=2)).isoformat()
    ahead = post(personas.users.obstetrician_a, url(referral, "depart"), {"transport": "ambulance", "at": future})
    assert ahead.status_code == 400 and set(ahead.json()) == {"at"}
    helicopter = post(personas.users.obstetrician_a, url(referral, "depart"), {"transport": "helicopter"})
    assert helicopter.status_code == 400 and set(helicopter.json()) == {"transport"}
    rs.referral_arrive(referral=referral, by=staff.city1)
    rs.referral_start_treatment(referral=referral, by=staff.city1)
    no_where = post(staff.city1, url(referral, "outcome"), {"outcome": "transferred", "note": "转 ICU"})
    assert no_where.status_code == 400 and set(no_where.json()) == {"transferred_to"}
    elsewhere = post(staff.city1, url(referral, "outcome"), {"outcome": "transferred", "note": "转 ICU",
                                                             "transferred_to": str(personas.inst.hospital_gd.pk)})
    assert elsewhere.status_code == 400 and set(elsewhere.json()) == {"transferred_to"}
    transferred = post(staff.city1, url(referral, "outcome"), {
        "outcome": "transferred", "note": "转省妇幼 ICU", "transferred_to": str(personas.inst.mch_province.pk)})
    assert transferred.status_code == 200
    assert transferred.json()["transferred_to_name"] == "福建省妇幼保健院"


def test_steps_on_a_malformed_or_hidden_id_are_404(personas, staff):
    referral = refer(personas)
    for path in (url("not-a-uuid", "accept"), url(str(uuid.uuid4()), "accept")):
        assert post(staff.city1, path, {"team": "产科"}).status_code == 404
    # Another centre: out of scope, so 404 and not 403 — even with an empty body.
    assert post(staff.province1, url(referral, "accept"), {}).status_code == 404
    client = api(staff.city1)
    assert client.post(url(referral, "accept"), "{oops", content_type="application/json").status_code == 400
    assert client.post(url(referral, "accept"), [1, 2], format="json").status_code == 400
    assert Referral.objects.get(pk=referral.pk).state == S.REQUESTED


def test_answers_come_in_the_requests_language_zh_hans_by_default(personas, staff):
    referral = refer(personas)
    default = post(staff.city1, url(referral, "accept"), {})
    english = post(staff.city1, url(referral, "accept"), {}, HTTP_ACCEPT_LANGUAGE="en")
    assert default["Content-Language"] == "zh-hans" and english["Content-Language"] == "en"
    assert default.json() == {"team": ["该字段是必填项。"]}
    assert english.json() == {"team": ["This field is required."]}
    conflict = post(staff.city2, url(referral, "arrive"))
    with translation.override("zh-hans"):
        expected = gettext("Not possible now: the referral is %(state)s.") % {"state": S.REQUESTED.label}
    assert conflict.status_code == 409 and conflict.json() == {"detail": expected}
    conflict_en = post(staff.city2, url(referral, "arrive"), HTTP_ACCEPT_LANGUAGE="en")
    assert conflict_en.json() == {"detail": "Not possible now: the referral is Awaiting the centre's answer."}


# --- Roles and the schema ---------------------------------------------------------------------------------

def test_a_role_without_referrals_is_refused_with_a_reason(personas, staff):
    referral = refer(personas)
    reviewer = api(personas.users.reviewer_province)
    for response in (reviewer.get(LIST), reviewer.get(url(referral)),
                     reviewer.post(url(referral, "accept"), {"team": "x"}, format="json")):
        assert response.status_code == 403 and response.json()["detail"]
    assert Referral.objects.get(pk=referral.pk).state == S.REQUESTED


def test_the_schema_documents_every_referral_endpoint(personas):
    response = api(personas.users.obstetrician_a).get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    paths = response.json()["paths"]
    assert set(paths[LIST]) == {"get", "post"}
    assert set(paths["/api/referrals/{id}/"]) == {"get"}
    for step in ("accept", "redirect", "decline", "depart", "arrive", "start-treatment", "outcome", "feedback",
                 "cancel"):
        operation = paths[f"/api/referrals/{{id}}/{step}/"]["post"]
        assert {"200", "201"} & set(operation["responses"]), step
        assert {"400", "403", "404", "409"} <= set(operation["responses"]), step
        assert "·" in operation["summary"], step  # Chinese · English
    assert "201" in paths["/api/referrals/{id}/redirect/"]["post"]["responses"]
    accept = paths["/api/referrals/{id}/accept/"]["post"]
    assert accept["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith("/Accept")
    assert paths["/api/referrals/{id}/accept/"]["post"]["parameters"][0]["schema"]["format"] == "uuid"


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_duty_doctors_accept_at_once_one_gets_200_the_other_409(national_data, personas):
    if connection.vendor != "postgresql":
        pytest.skip("Concurrent transitions need PostgreSQL (the CI PostgreSQL leg runs this).")
    staff = rescue_staff(personas)
    first, second = api(staff.city1), api(staff.city2)
    for _round in range(10):
        referral = refer(personas)
        results = race(
            lambda r=referral: first.post(url(r, "accept"), {"team": "一组"}, format="json"),
            lambda r=referral: second.post(url(r, "accept"), {"team": "二组"}, format="json"),
        )
        assert [kind for kind, _response in results] == ["ok", "ok"], results
        codes = [response.status_code for _kind, response in results]
        assert sorted(codes) == [200, 409], codes
        winner = staff.city1 if codes[0] == 200 else staff.city2
        refusal = results[codes.index(409)][1].json()["detail"]
        assert str(winner) in refusal, refusal
        referral = Referral.objects.get(pk=referral.pk)
        assert (referral.state, referral.answered_by) == (S.ACCEPTED, winner)
        assert referral.history.filter(history_change_reason="accepted").count() == 1


# --- Sync (issue 17 item 3) ------------------------------------------------------------------------

def walk(user, **params):  # type: ignore[no-untyped-def]
    return sync.walk(api(user), LIST, **params)


def test_order_updated_lists_the_referrals_as_a_sync_list_and_a_step_lists_one_again(personas, staff, settings):
    settings.API_SYNC_LAG_SECONDS = 0
    referrals = [refer(personas) for _ in range(3)]
    doctor = personas.users.obstetrician_a
    assert api(doctor).get(LIST).json()["count"] == 3  # the numbered pages, newest first, by default
    rows = walk(doctor, order="updated", page_size=2)
    expected = sorted(Referral.objects.filter(pk__in=[r.pk for r in referrals]), key=lambda r: (r.updated_at, r.pk))
    assert [row["id"] for row in rows] == [str(r.pk) for r in expected]
    last = rows[-1]["updated_at"]
    assert walk(doctor, updated_since=last) == []
    first = referrals[0]
    assert post(staff.city1, url(first, "accept"), {"team": "产科ICU"}).status_code == 200
    changed = walk(doctor, updated_since=last)
    assert [(row["id"], row["state"]) for row in changed] == [(str(first.pk), S.ACCEPTED)]
    # The centre follows the same referrals from its side; another county's doctor sees none.
    assert {row["id"] for row in walk(staff.city1, order="updated", side="centre")} == {str(r.pk) for r in referrals}
    assert walk(personas.users.obstetrician_b, order="updated") == []
    assert api(doctor).get(LIST, {"order": "sideways"}).status_code == 400
    assert api(doctor).get(LIST, {"cursor": "garbage"}).status_code == 404


def test_an_attachment_lists_its_referral_again(personas, settings):
    from django.core.files.uploadedfile import SimpleUploadedFile

    settings.API_SYNC_LAG_SECONDS = 0
    referral = refer(personas)
    back = timezone.now() - dt.timedelta(hours=1)
    Referral.objects.filter(pk=referral.pk).update(updated_at=back)
    rows = referral.history.count()
    rs.referral_attach(referral=referral, by=personas.users.obstetrician_a,
                       upload=SimpleUploadedFile("ct.png", b"\x89PNG\r\n\x1a\n" + b"0" * 100, content_type="image/png"))
    assert Referral.objects.get(pk=referral.pk).updated_at > back
    assert referral.history.count() == rows  # the referral itself did not change
    assert [row["id"] for row in walk(personas.users.obstetrician_a, updated_since=back.isoformat())] == [
        str(referral.pk)]


def test_the_migration_gives_existing_referrals_the_time_of_their_last_change(personas):
    import importlib

    from django.apps import apps

    backfill = importlib.import_module("cases.migrations.0033_referral_updated_at").backfill
    referral = refer(personas)
    last_change = referral.history.latest().history_date
    Referral.objects.filter(pk=referral.pk).update(updated_at=timezone.now() + dt.timedelta(days=1))
    backfill(apps, None)
    assert Referral.objects.get(pk=referral.pk).updated_at == last_change
