"""Review panels (评审会): meetings of a level's region, their agenda, conclusions with the 12-cell table and
the three delays, members' opinions, finalised minutes; allowed and denied personas, history and alerts."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.utils import timezone

from cases.models import DeathReport, DeathReviewConclusion, Pregnancy, ReviewMeeting, ReviewOpinion
from cases.models.death import CELL_COLUMNS, DELAY_COLUMNS, TABLE_CELLS, ReviewAspect, ReviewStage
from cases.selectors import visible_review_meetings
from notifications.models import Alert
from organisations.http import ActionDenied, TransitionConflict
from tests.personas import book_woman
from tests.workflows.death.helpers import CONCLUSION, alerts, investigated, reviewers
from tests.workflows.highrisk.test_concurrency import race
from workflows.death import permissions as p
from workflows.death import services as ds
from workflows.registers.services import near_miss_record

pytestmark = pytest.mark.django_db
S = DeathReport.State
CELLS = {"health_system_knowledge": True, "health_system_knowledge_note": "产后出血量估计不足",
         "health_system_resources": True, "health_system_resources_note": "血库备血不足",
         "individual_attitude": False, "other_sectors_management": False}
DELAYS = {"delay_seeking": False, "delay_reaching": False, "delay_receiving": True,
          "delay_receiving_note": "输血启动于出血后 70 分钟"}


def county_meeting(personas, r, **kwargs):  # type: ignore[no-untyped-def]
    return ds.death_meeting_create(region=personas.regions.county_a, held_on=timezone.localdate(), place="闽侯县妇幼保健院会议室",
                                   chair=r.county, members=[r.county, r.county2, personas.users.mch_a],
                                   by=personas.users.mch_a, **kwargs)


def test_the_table_is_one_definition_of_twelve_real_columns():
    assert len(TABLE_CELLS) == 12 and len(CELL_COLUMNS) == 12 and len(DELAY_COLUMNS) == 3
    fields = {f.name for f in DeathReviewConclusion._meta.get_fields()}
    for column in (*CELL_COLUMNS, *DELAY_COLUMNS):
        assert column in fields and f"{column}_note" in fields
        assert f"{column}_note" in {f.name for f in DeathReviewConclusion.history.model._meta.get_fields()}
    assert [s.value for s in ReviewStage] == ["individual", "health_system", "other_sectors"]
    assert [a.value for a in ReviewAspect] == ["knowledge", "attitude", "resources", "management"]


def test_a_county_mch_officer_calls_a_meeting_and_its_members_are_told(personas):
    r = reviewers(personas)
    meeting = county_meeting(personas, r)
    assert meeting.state == ReviewMeeting.State.PLANNED and meeting.level == "county"
    assert meeting.region == personas.regions.county_a
    assert set(meeting.members.values_list("username", flat=True)) == {"expert_county_a", "expert_county_a2", "mch_a"}
    row = meeting.history.earliest()
    assert row.history_user == personas.users.mch_a and row.history_change_reason == "meeting called"
    # Routine: a date in the diary; the creator is not told of her own meeting.
    assert alerts("death.meeting_member") == {"expert_county_a", "expert_county_a2"}
    assert set(Alert.objects.filter(kind="death.meeting_member").values_list("priority", flat=True)) == {"routine"}
    assert Alert.objects.filter(kind="death.meeting_member").first().link == f"/death/meetings/{meeting.pk}/"


def test_who_may_call_and_sit_on_a_meeting(personas):
    r = reviewers(personas)
    with pytest.raises(ActionDenied):  # another county's MCH officer
        ds.death_meeting_create(region=personas.regions.county_a, held_on=timezone.localdate(), chair=r.county,
                                members=[r.county], by=personas.users.mch_b)
    with pytest.raises(ActionDenied):  # an expert reviewer sits on panels, she does not call them
        ds.death_meeting_create(region=personas.regions.county_a, held_on=timezone.localdate(), chair=r.county,
                                members=[r.county], by=r.county)
    with pytest.raises(ValidationError) as error:  # a county-B expert cannot join a county-A meeting
        ds.death_meeting_create(region=personas.regions.county_a, held_on=timezone.localdate(), chair=r.county,
                                members=[r.county, r.county_b], by=personas.users.mch_a)
    assert list(error.value.message_dict) == ["members"]
    with pytest.raises(ValidationError) as error:
        ds.death_meeting_create(region=personas.regions.county_a, held_on=timezone.localdate(), chair=r.city,
                                members=[r.county], by=personas.users.mch_a)
    assert "chair" in error.value.message_dict
    assert not ReviewMeeting.objects.exists()
    meeting = county_meeting(personas, r)
    with pytest.raises(ValidationError):
        ds.death_meeting_add_members(meeting=meeting, members=[r.county_b], by=personas.users.mch_a)
    with pytest.raises(ActionDenied):  # a member who does not chair does not change the panel
        ds.death_meeting_add_members(meeting=meeting, members=[r.county2], by=r.county2)


def test_a_county_b_expert_does_not_see_a_county_a_meeting(personas, client):
    r = reviewers(personas)
    meeting = county_meeting(personas, r)
    assert list(visible_review_meetings(r.county)) == [meeting]
    assert list(visible_review_meetings(r.county_b)) == []
    assert list(visible_review_meetings(personas.users.mch_b)) == []
    assert list(visible_review_meetings(personas.users.obstetrician_a)) == []
    assert list(visible_review_meetings(r.mch_province)) == [meeting]  # the province oversees its counties
    client.force_login(r.county_b)
    assert client.get(f"/death/meetings/{meeting.pk}/").status_code == 404
    assert client.get(f"/death/meetings/{meeting.pk}/minutes/").status_code == 404
    client.force_login(r.county)
    assert client.get(f"/death/meetings/{meeting.pk}/").status_code == 200


def test_the_agenda_takes_deaths_awaiting_its_level_and_near_misses_of_its_area(personas):
    r = reviewers(personas)
    report = investigated(personas)
    meeting = county_meeting(personas, r)
    city = ds.death_meeting_create(region=personas.regions.fuzhou, held_on=timezone.localdate(), chair=r.city,
                                   members=[r.city, r.mch_city], by=r.mch_city)
    assert city.level == "city"
    with pytest.raises(ValidationError) as error:  # a city panel only takes reports that reached city level
        ds.death_meeting_add_case(meeting=city, report=report, by=r.mch_city)
    assert "report" in error.value.message_dict
    with pytest.raises(ActionDenied):
        ds.death_meeting_add_case(meeting=meeting, report=report, by=r.county2)  # a member, not the chair
    with pytest.raises(ActionDenied):
        ds.death_meeting_add_case(meeting=meeting, report=report, by=personas.users.mch_b)
    ds.death_meeting_add_case(meeting=meeting, report=report, by=personas.users.mch_a)
    assert list(meeting.reports.all()) == [report]
    assert meeting.history.filter(history_change_reason="death put on the agenda").exists()
    # Near-miss cases of the county, recorded by a clinician there; one of another county is refused.
    woman = book_woman(at=personas.inst.hospital_a)
    pregnancy = Pregnancy.objects.get(woman=woman)
    near = near_miss_record(pregnancy=pregnancy, by=personas.users.obstetrician_a, institution=personas.inst.hospital_a,
                            criteria=["cv_shock"])
    other = Pregnancy.objects.get(woman=book_woman(at=personas.inst.hospital_b))
    far = near_miss_record(pregnancy=other, by=personas.users.obstetrician_b, institution=personas.inst.hospital_b,
                           criteria=["cv_shock"])
    ds.death_meeting_add_case(meeting=meeting, near_miss=near, by=r.county)  # the chair
    with pytest.raises(ValidationError):
        ds.death_meeting_add_case(meeting=meeting, near_miss=far, by=personas.users.mch_a)
    with pytest.raises(ValidationError):
        ds.death_meeting_add_case(meeting=meeting, by=personas.users.mch_a)
    assert list(meeting.near_misses.all()) == [near]
    ds.death_meeting_remove_case(meeting=meeting, near_miss=near, by=personas.users.mch_a)
    assert not meeting.near_misses.exists()
    # Once the county concluded, the city panel takes it.
    ds.death_report_conclude(report=report, by=r.county, **CONCLUSION)
    ds.death_meeting_add_case(meeting=city, report=report, by=r.mch_city)
    assert list(city.reports.all()) == [report]


def test_a_panel_concludes_with_the_twelve_cells_the_delays_and_the_members_opinions(personas):
    r = reviewers(personas)
    report = investigated(personas)
    meeting = county_meeting(personas, r)
    ds.death_meeting_add_case(meeting=meeting, report=report, by=personas.users.mch_a)
    opinions = [{"member": r.county, "agrees": True}, {"member": r.county2, "agrees": False, "dissent": "应为不可避免"}]
    ds.death_report_conclude(report=report, by=r.county, meeting=meeting, cells=CELLS, delays=DELAYS,
                             opinions=opinions, **CONCLUSION)
    report.refresh_from_db()
    assert report.state == S.REVIEW_CITY
    conclusion = DeathReviewConclusion.objects.get(report=report, level="county")
    assert conclusion.meeting == meeting
    assert conclusion.health_system_knowledge is True and conclusion.health_system_knowledge_note == "产后出血量估计不足"
    assert conclusion.individual_attitude is False and conclusion.individual_knowledge is None
    assert conclusion.delay_receiving is True and conclusion.delay_seeking is False
    assert conclusion.note == CONCLUSION["note"]  # the main problems
    # Indicators count by column: the 12-cell distribution is a plain filter.
    assert DeathReviewConclusion.objects.filter(health_system_resources=True).count() == 1
    assert {(o.member.username, o.agrees, o.dissent) for o in conclusion.opinions.all()} == {
        ("expert_county_a", True, ""), ("expert_county_a2", False, "应为不可避免")}
    opinion = ReviewOpinion.objects.get(member=r.county2)
    assert opinion.history.get().history_user == r.county and opinion.recorded_by == r.county
    assert conclusion.history.filter(history_user=r.county, history_change_reason="county conclusion").exists()
    # A member changes her own opinion; one who does not sit on the panel may not.
    ds.death_meeting_record_opinion(conclusion=conclusion, member=r.county2, agrees=True, by=r.county2)
    assert ReviewOpinion.objects.get(member=r.county2).agrees is True
    assert ReviewOpinion.objects.get(member=r.county2).history.count() == 2
    with pytest.raises(ActionDenied):
        ds.death_meeting_record_opinion(conclusion=conclusion, member=r.county2, agrees=False, dissent="x",
                                        by=r.city)
    with pytest.raises(ValidationError):  # the chair records for a member; a dissent says why
        ds.death_meeting_record_opinion(conclusion=conclusion, member=personas.users.mch_a, agrees=False, by=r.county)
    with pytest.raises(TransitionConflict):  # concluded here: it stays on the agenda
        ds.death_meeting_remove_case(meeting=meeting, report=report, by=personas.users.mch_a)


def test_conclusion_validation_a_yes_cell_needs_text_a_meeting_of_another_level_is_refused(personas):
    r = reviewers(personas)
    report = investigated(personas)
    meeting = county_meeting(personas, r)
    with pytest.raises(ValidationError) as error:
        ds.death_report_conclude(report=report, by=r.county, cells={"health_system_knowledge": True}, **CONCLUSION)
    assert set(error.value.message_dict) == {"health_system_knowledge_note"}
    with pytest.raises(ValidationError) as error:
        ds.death_report_conclude(report=report, by=r.county, delays={"delay_reaching": True}, **CONCLUSION)
    assert set(error.value.message_dict) == {"delay_reaching_note"}
    with pytest.raises(ValidationError) as error:
        ds.death_report_conclude(report=report, by=r.county, cells={"bogus": True}, **CONCLUSION)
    assert "bogus" in error.value.message_dict
    with pytest.raises(ValidationError) as error:  # not on the agenda yet
        ds.death_report_conclude(report=report, by=r.county, meeting=meeting, **CONCLUSION)
    assert "meeting" in error.value.message_dict
    city = ds.death_meeting_create(region=personas.regions.fuzhou, held_on=timezone.localdate(), chair=r.city,
                                   members=[r.city], by=r.mch_city)
    with pytest.raises(ValidationError) as error:
        ds.death_report_conclude(report=report, by=r.county, meeting=city, **CONCLUSION)
    assert "meeting" in error.value.message_dict
    with pytest.raises(ValidationError) as error:  # opinions belong to a meeting
        ds.death_report_conclude(report=report, by=r.county, opinions=[{"member": r.county, "agrees": True}],
                                 **CONCLUSION)
    assert "opinions" in error.value.message_dict
    ds.death_meeting_add_case(meeting=meeting, report=report, by=personas.users.mch_a)
    with pytest.raises(ValidationError) as error:
        ds.death_report_conclude(report=report, by=r.county, meeting=meeting,
                                 opinions=[{"member": r.county2, "agrees": False}], **CONCLUSION)
    assert "opinions" in error.value.message_dict
    with pytest.raises(ValidationError) as error:
        ds.death_report_conclude(report=report, by=r.county, meeting=meeting,
                                 opinions=[{"member": r.city, "agrees": True}], **CONCLUSION)
    assert "opinions" in error.value.message_dict
    assert DeathReport.objects.get(pk=report.pk).state == S.REVIEW_COUNTY
    assert not DeathReviewConclusion.objects.exists()
    # Without a meeting, a conclusion still records the table.
    ds.death_report_conclude(report=report, by=r.county, cells=CELLS, **CONCLUSION)
    assert DeathReviewConclusion.objects.get().health_system_resources is True


def test_finalised_minutes_make_the_meeting_read_only(personas):
    r = reviewers(personas)
    report = investigated(personas)
    meeting = county_meeting(personas, r)
    ds.death_meeting_add_case(meeting=meeting, report=report, by=personas.users.mch_a)
    with pytest.raises(ActionDenied):
        ds.death_meeting_finalise(meeting=meeting, by=r.county2)  # a member, not the chair
    ds.death_meeting_finalise(meeting=meeting, by=r.county, notes="会议讨论 1 例孕产妇死亡")
    meeting.refresh_from_db()
    assert meeting.state == ReviewMeeting.State.HELD and meeting.finalised_by == r.county
    assert meeting.notes == "会议讨论 1 例孕产妇死亡"
    assert meeting.history.filter(history_change_reason="minutes finalised", history_user=r.county).exists()
    assert not p.can_manage_meeting(personas.users.mch_a, meeting)
    with pytest.raises(TransitionConflict):
        ds.death_meeting_finalise(meeting=meeting, by=r.county)
    with pytest.raises(TransitionConflict):
        ds.death_meeting_add_case(meeting=meeting, report=investigated(personas), by=personas.users.mch_a)
    with pytest.raises(TransitionConflict):
        ds.death_report_conclude(report=report, by=r.county, meeting=meeting, **CONCLUSION)
    assert DeathReport.objects.get(pk=report.pk).state == S.REVIEW_COUNTY


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_panel_members_concluding_at_once_one_wins_the_other_gets_409(national_data, personas):
    if connection.vendor != "postgresql":
        pytest.skip("Concurrent transitions need PostgreSQL (the CI PostgreSQL leg runs this).")
    r = reviewers(personas)
    meeting = county_meeting(personas, r)
    for _round in range(3):
        report = investigated(personas)
        ds.death_meeting_add_case(meeting=meeting, report=report, by=personas.users.mch_a)
        results = race(
            lambda rep=report: ds.death_report_conclude(report=rep, by=r.county, meeting=meeting, cells=CELLS,
                                                        **CONCLUSION),
            lambda rep=report: ds.death_report_conclude(report=rep, by=r.county2, meeting=meeting, delays=DELAYS,
                                                        **{**CONCLUSION, "avoidability": "unavoidable"}),
        )
        assert sorted(kind for kind, _value in results) == ["denied", "ok"], results
        report.refresh_from_db()
        assert report.state == S.REVIEW_CITY and report.conclusions.count() == 1



def _form(cells=None, **extra):  # type: ignore[no-untyped-def]
    data = {"avoidability": "conditionally", "underlying_cause": "产后出血", "icd10": "O72.1", "cause_class": "direct",
            "icd_mm_group": "3", "note": "输血延迟"}
    for key, value in (cells or {}).items():
        data[key] = {True: "true", False: "false"}.get(value, value)
    data.update(extra)
    return data


def test_pages_list_new_meeting_conclude_with_the_table_and_minutes(personas, client):
    r = reviewers(personas)
    report = investigated(personas)
    client.force_login(personas.users.mch_a)
    assert client.get("/death/meetings/").status_code == 200
    page = client.get("/death/meetings/new/")
    assert page.status_code == 200 and "expert_county_b" not in page.content.decode()
    response = client.post("/death/meetings/new/", {
        "region": personas.regions.county_a.code, "held_on": str(timezone.localdate()), "place": "会议室",
        "chair": r.county.pk, "members": [r.county.pk, r.county2.pk]})
    meeting = ReviewMeeting.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/death/meetings/{meeting.pk}/"
    assert client.post(f"/death/meetings/{meeting.pk}/add/", {"report": report.pk}).status_code == 302
    assert list(meeting.reports.all()) == [report]
    client.force_login(r.county_b)
    assert client.get("/death/meetings/new/").status_code == 403  # an expert does not call meetings
    client.force_login(r.county)
    detail = client.get(f"/death/meetings/{meeting.pk}/").content.decode()
    assert f"/death/meetings/{meeting.pk}/conclude/{report.pk}/" in detail
    path = f"/death/meetings/{meeting.pk}/conclude/{report.pk}/"
    form = client.get(path)
    assert form.status_code == 200 and 'data-testid="twelve-cell-form"' in form.content.decode()
    missing = client.post(path, _form({"health_system_knowledge": True}))
    assert missing.status_code == 422 and DeathReport.objects.get(pk=report.pk).state == S.REVIEW_COUNTY
    done = client.post(path, _form({**CELLS, **DELAYS}, **{f"agrees_{r.county2.pk}": "false",
                                                          f"dissent_{r.county2.pk}": "应为不可避免"}))
    assert done.status_code == 302
    conclusion = DeathReviewConclusion.objects.get()
    assert conclusion.meeting == meeting and conclusion.health_system_resources is True
    assert conclusion.opinions.get().member == r.county2
    shown = client.get(f"/death/{report.pk}/", follow=True).content.decode()  # an expert reads the packet
    assert 'data-cell="health_system_resources" data-value="yes"' in shown and "血库备血不足" in shown
    assert client.post(f"/death/meetings/{meeting.pk}/opinion/", {"conclusion": conclusion.pk, "agrees": "true"}
                       ).status_code == 302
    assert conclusion.opinions.count() == 2
    minutes = client.get(f"/death/meetings/{meeting.pk}/minutes/")
    assert minutes.status_code == 200 and "血库备血不足" in minutes.content.decode()
    client.force_login(r.county2)
    assert client.post(f"/death/meetings/{meeting.pk}/finalise/", {}).status_code == 403
    client.force_login(r.county)
    assert client.post(f"/death/meetings/{meeting.pk}/finalise/", {"notes": "定稿"}).status_code == 302
    assert ReviewMeeting.objects.get().state == ReviewMeeting.State.HELD


def test_the_report_pages_conclude_step_carries_the_twelve_cells(personas, client):
    r = reviewers(personas)
    report = investigated(personas)
    client.force_login(r.county)
    page = client.get(f"/death/{report.pk}/conclude/").content.decode()
    assert 'name="other_sectors_management"' in page and 'name="delay_seeking_note"' in page
    assert client.post(f"/death/{report.pk}/conclude/", _form({"individual_knowledge": True})).status_code == 422
    assert client.post(f"/death/{report.pk}/conclude/", _form(CELLS)).status_code == 302
    conclusion = DeathReviewConclusion.objects.get()
    assert conclusion.meeting is None and conclusion.health_system_knowledge_note == "产后出血量估计不足"
