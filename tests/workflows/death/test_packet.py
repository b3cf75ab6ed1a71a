"""The de-identified review packet: the anonymous case number, the case summary that writes itself (the
timeline with its computed intervals and the alerts' acknowledgements), who gets the packet instead of the
identified record, and break-the-glass."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from cases.models import DeathRecordAccess, DeathReport, Woman
from notifications.kinds import kind_label
from notifications.models import Alert
from notifications.services import alert_acknowledge
from organisations.models import AccessLog
from tests.personas import make_id_number
from tests.workflows.death.helpers import CARD, alerts, died_on_case, reviewers
from tests.workflows.referral.helpers import refer, rescue_staff
from tests.workflows.referral.test_services import to_treatment
from workflows.death import services as ds
from workflows.death.timeline import death_report_timeline
from workflows.referral import services as rs
from workflows.registers.services import near_miss_record

pytestmark = pytest.mark.django_db

NAME, PHONE, ADDRESS, CARD_NO = "欧阳娴雅", "13987654321", "闽侯县上街镇溪源宫路88号", "MD20260417"


def client(user):  # type: ignore[no-untyped-def]
    c = Client()
    c.force_login(user)
    return c


def distinctive(woman: Woman) -> Woman:
    Woman.objects.filter(pk=woman.pk).update(
        name=NAME, phone=PHONE, id_number=make_id_number(woman.residence_region_id, woman.date_of_birth, 778))
    return Woman.objects.get(pk=woman.pk)


def died_after_referral(personas):  # type: ignore[no-untyped-def]
    """A woman with distinctive identity referred, answered, transported and treated, who died: her report
    investigated (the findings name her and her phone) and awaiting the county review."""
    staff = rescue_staff(personas)
    referral = refer(personas)
    woman = distinctive(referral.pregnancy.woman)
    requested = Alert.objects.get(kind="referral.requested", subject_id=str(referral.pk), recipient=staff.city1)
    alert_acknowledge(alert_id=requested.pk, by=staff.city1)
    to_treatment(referral, staff, personas)
    near_miss_record(pregnancy=referral.pregnancy, by=staff.city2, institution=personas.inst.mch_city,
                     criteria=["cv_shock"], referral=referral)
    rs.referral_outcome(referral=referral, by=staff.city2, outcome="died", note=f"{NAME}抢救无效死亡")
    report = DeathReport.objects.get(referral=referral)
    ds.death_report_update_card(report=report, by=staff.city2, data={
        **CARD, "card_number": CARD_NO, "residence_address": ADDRESS, "birth_attendant": "林助产士"})
    ds.death_report_report(report=report, by=staff.city2)
    ds.death_report_verify(report=report, by=personas.users.mch_a)
    ds.death_report_investigate(report=report, by=personas.users.mch_a,
                                findings=f"入户调查：{NAME}（电话 {PHONE}，住{ADDRESS}）产后出血，转诊途中 40 分钟。",
                                interviews=f"{NAME}的丈夫、接诊医生")
    return DeathReport.objects.select_related("woman").get(pk=report.pk), woman, staff


def assert_anonymous(text: str, woman: Woman) -> None:
    for secret in (NAME, woman.id_number, woman.id_number[-6:], PHONE, ADDRESS, CARD_NO, "林助产士"):
        assert secret not in text, secret


# --- The anonymous case number ------------------------------------------------------------------------

def test_each_report_gets_the_next_anonymous_number_of_its_county_and_year(personas):
    first = died_on_case(personas)
    second = died_on_case(personas)
    year = timezone.localdate(first.died_at).year
    assert first.review_number == f"{personas.regions.county_a.code}-{year}-001"
    assert second.review_number == f"{personas.regions.county_a.code}-{year}-002"
    # A correction of the card keeps the number.
    ds.death_report_update_card(report=first, by=personas.users.obstetrician_a, data=CARD)
    assert DeathReport.objects.get(pk=first.pk).review_number == first.review_number


# --- The packet holds no personal numbers -------------------------------------------------------------

def test_the_packet_page_and_json_hold_no_name_document_number_phone_or_address(personas):
    report, woman, _staff = died_after_referral(personas)
    expert = reviewers(personas).county
    page = client(expert).get(f"/death/{report.pk}/packet/")
    assert page.status_code == 200
    html = page.content.decode()
    assert report.review_number in html and "本例" in html
    assert_anonymous(html, woman)
    assert 'data-step="conclude"' in html  # she reviews from the packet
    printed = client(expert).get(f"/death/{report.pk}/packet/?print=1").content.decode()
    assert report.review_number in printed
    assert_anonymous(printed, woman)
    api = client(expert).get(f"/api/death-reports/{report.pk}/packet/")
    assert api.status_code == 200
    body = api.content.decode()
    assert_anonymous(body, woman)
    assert_anonymous(json.dumps(api.json(), ensure_ascii=False), woman)
    assert api.json()["review_number"] == report.review_number
    # The API's detail and list hide the personal fields from her; the MCH officer keeps them.
    detail = client(expert).get(f"/api/death-reports/{report.pk}/").json()
    assert detail["woman_name"] is None and detail["residence_address"] is None and detail["card_number"] is None
    assert_anonymous(json.dumps(detail, ensure_ascii=False), woman)
    listed = client(expert).get("/api/death-reports/").json()
    assert_anonymous(json.dumps(listed, ensure_ascii=False), woman)
    assert client(personas.users.mch_a).get(f"/api/death-reports/{report.pk}/").json()["woman_name"] == NAME
    # Reading the packet is logged, by its number, not her name.
    log = AccessLog.objects.filter(user=expert, object_id=str(report.pk), summary__startswith="孕产妇死亡评审资料包").latest("at")
    assert report.review_number in log.summary and NAME not in log.summary


# --- The case summary that writes itself ----------------------------------------------------------------

def test_the_timeline_holds_the_referral_with_its_intervals_and_the_alerts_with_who_acknowledged(personas):
    report, _woman, staff = died_after_referral(personas)
    entries = death_report_timeline(report=report)
    assert [e.at for e in entries] == sorted(e.at for e in entries)
    kinds = [e.kind for e in entries]
    for kind in ("referral_request", "referral_answer", "referral_departure", "referral_arrival",
                 "referral_treatment", "referral_outcome", "near_miss", "death", "alert"):
        assert kind in kinds, kind
    referral = report.referral
    answer = next(e for e in entries if e.kind == "referral_answer")
    assert answer.intervals["answer_minutes"] == round((referral.answered_at - referral.requested_at).total_seconds() / 60)
    assert answer.by == str(staff.city1)
    arrival = next(e for e in entries if e.kind == "referral_arrival")
    assert arrival.intervals["transport_minutes"] == round(
        (referral.arrived_at - referral.departed_at).total_seconds() / 60)
    assert "arrival_to_treatment_minutes" in next(e for e in entries if e.kind == "referral_treatment").intervals
    requested = next(e for e in entries if e.kind == "alert" and e.title == kind_label("referral.requested"))
    assert str(staff.city1) in requested.acknowledged_by and requested.acknowledged_at is not None
    assert requested.priority == Alert.Priority.CRITICAL and "ack_minutes" in requested.intervals
    assert all(NAME not in f"{e.title}{e.text}" for e in entries)
    death = next(e for e in entries if e.kind == "death")
    assert death.at == report.died_at


def test_the_timeline_reads_a_fixed_number_of_queries_whatever_the_number_of_events(personas):
    report, _woman, staff = died_after_referral(personas)
    death_report_timeline(report=report)  # content types cached
    with CaptureQueriesContext(connection) as few:
        death_report_timeline(report=report)
    for _ in range(4):
        near_miss_record(pregnancy=report.pregnancy, by=staff.city2, institution=personas.inst.mch_city,
                         criteria=["coag_transfusion"], referral=report.referral)
    with CaptureQueriesContext(connection) as many:
        entries = death_report_timeline(report=report)
    assert sum(e.kind == "near_miss" for e in entries) == 5
    assert len(many.captured_queries) == len(few.captured_queries)
    # And for a death on a high-risk case (visits, plans, tracing, transfers read too).
    on_case = died_on_case(personas)
    death_report_timeline(report=on_case)
    with CaptureQueriesContext(connection) as case_queries:
        case_entries = death_report_timeline(report=on_case)
    assert {"assessment", "case", "death"} <= {e.kind for e in case_entries}
    assert len(case_queries.captured_queries) <= 20


# --- Who sees what --------------------------------------------------------------------------------------

def test_an_expert_reviewer_gets_the_packet_not_the_identified_record(personas):
    report, woman, _staff = died_after_referral(personas)
    expert = reviewers(personas).county
    c = client(expert)
    page = c.get(f"/death/{report.pk}/")
    assert page.status_code == 302 and page["Location"] == f"/death/{report.pk}/packet/"
    assert c.get(f"/death/{report.pk}/print/")["Location"] == f"/death/{report.pk}/packet/?print=1"
    assert c.get(f"/history/cases.deathreport/{report.pk}/").status_code == 404
    worklist = c.get("/death/reviews/").content.decode()
    assert report.review_number in worklist
    assert_anonymous(worklist, woman)
    action = c.get(f"/death/{report.pk}/conclude/").content.decode()
    assert report.review_number in action
    assert_anonymous(action, woman)
    # The MCH officer, who investigates, sees everything as before.
    officer = client(personas.users.mch_a)
    assert NAME in officer.get(f"/death/{report.pk}/").content.decode()
    assert NAME in officer.get("/death/reports/?clock=on_time").content.decode()


# --- Break-the-glass ------------------------------------------------------------------------------------

def test_break_the_glass_with_a_reason_is_logged_told_to_the_mch_officer_shown_and_expires(personas):
    report, _woman, _staff = died_after_referral(personas)
    expert = reviewers(personas).county
    c = client(expert)
    form = c.get(f"/death/{report.pk}/packet/").content.decode()
    assert 'data-testid="break-glass-form"' in form
    refused = c.post(f"/death/{report.pk}/packet/break-glass/", {"reason": "  "})
    assert refused.status_code == 422 and "reason" in refused.context["glass_form"].errors
    assert not DeathRecordAccess.objects.exists()
    done = c.post(f"/death/{report.pk}/packet/break-glass/", {"reason": "需核对转出医院病历中的姓名"})
    assert done.status_code == 302 and done["Location"] == f"/death/{report.pk}/"
    access = DeathRecordAccess.objects.get(report=report, user=expert)
    assert access.reason == "需核对转出医院病历中的姓名"
    assert access.expires_at - access.opened_at == dt.timedelta(hours=12)
    assert access.history.get().history_user == expert
    assert alerts("death.break_glass") == {"mch_a"}
    assert set(Alert.objects.filter(kind="death.break_glass").values_list("priority", flat=True)) == {"urgent"}
    # The window is open: the identified page is hers.
    assert NAME in c.get(f"/death/{report.pk}/").content.decode()
    # The MCH officer sees who broke the glass, when and why.
    officer = client(personas.users.mch_a).get(f"/death/{report.pk}/").content.decode()
    assert 'data-testid="death-access"' in officer and "需核对转出医院病历中的姓名" in officer
    assert 'data-testid="death-access"' not in c.get(f"/death/{report.pk}/").content.decode()
    # Past the window she is back on the packet.
    DeathRecordAccess.objects.filter(pk=access.pk).update(expires_at=timezone.now() - dt.timedelta(minutes=1))
    assert c.get(f"/death/{report.pk}/").status_code == 302


def test_break_the_glass_is_refused_to_those_who_see_it_already_and_hidden_out_of_scope(personas):
    report, _woman, _staff = died_after_referral(personas)
    assert client(personas.users.mch_a).post(f"/death/{report.pk}/packet/break-glass/",
                                             {"reason": "看看"}).status_code == 403
    panel = reviewers(personas)
    outsider = panel.county_b
    assert client(outsider).get(f"/death/{report.pk}/packet/").status_code == 404
    assert client(outsider).post(f"/death/{report.pk}/packet/break-glass/", {"reason": "看看"}).status_code == 404
    assert client(outsider).get(f"/api/death-reports/{report.pk}/packet/").status_code == 404
    expert = client(panel.county)
    bad = expert.post(f"/api/death-reports/{report.pk}/break-glass/", {}, content_type="application/json")
    assert bad.status_code == 400 and "reason" in bad.json()
    ok = expert.post(f"/api/death-reports/{report.pk}/break-glass/", {"reason": "核对身份"},
                     content_type="application/json")
    assert ok.status_code == 201 and ok.json()["reason"] == "核对身份"
    assert client(personas.users.mch_a).post(f"/api/death-reports/{report.pk}/break-glass/", {"reason": "x"},
                                             content_type="application/json").status_code == 403
    assert not DeathRecordAccess.objects.filter(user=personas.users.mch_a).exists()


def test_an_expert_reviewers_alerts_name_the_case_number_not_the_woman(personas):
    panel = reviewers(personas)
    report, _woman, _staff = died_after_referral(personas)
    expert_alert = Alert.objects.get(kind="death.review_requested", recipient=panel.county)
    assert report.review_number in expert_alert.title_text and NAME not in expert_alert.title_text
    officer_alert = Alert.objects.get(kind="death.review_requested", recipient=personas.users.mch_a)
    assert NAME in officer_alert.title_text
