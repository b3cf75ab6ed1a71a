"""What is late (issue 11 item 12): the MCH officer's overview of her county's late work, its counts on
her home page, the register's "overdue" filter, and the clinician's worklist counts on the home page."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from cases.models import Assessment, FollowUpVisit, HighRiskCase, Pregnancy, Tracing
from tests.personas import book_woman
from tests.workflows.referral.helpers import rescue_staff
from workflows.deadlines import deadlines_sweep
from workflows.highrisk import services as hr
from workflows.models import Deadline
from workflows.referral import services as rs
from workflows.screening.services import assessment_record

LATE = reverse("highrisk:late")


def open_case(personas, *, at="hospital_a", by="obstetrician_a", name, inputs=None):  # type: ignore[no-untyped-def]
    institution = getattr(personas.inst, at)
    pregnancy = Pregnancy.objects.get(woman=book_woman(at=institution, name=name))
    assessment_record(pregnancy=pregnancy, institution=institution, by=getattr(personas.users, by),
                      stage=Assessment.Stage.FIRST, inputs=inputs or {"age_years": 41})
    return HighRiskCase.objects.get(pregnancy=pregnancy)


def report_late(case: HighRiskCase) -> None:
    """The report deadline (set at opening from the province's hours) moved into the past."""
    HighRiskCase.objects.filter(pk=case.pk).update(report_due_at=timezone.now() - dt.timedelta(hours=3))


def visit_late(case: HighRiskCase, days: int = 3) -> FollowUpVisit:
    visit = case.visits.get(status=FollowUpVisit.Status.SCHEDULED)
    past = timezone.localdate() - dt.timedelta(days=days)
    FollowUpVisit.objects.filter(pk=visit.pk).update(due_on=past)
    HighRiskCase.objects.filter(pk=case.pk).update(next_visit_at=past)
    return visit


def sweep(subject, kind: str) -> None:  # type: ignore[no-untyped-def]
    Deadline.objects.filter(kind=kind, subject_id=str(subject.pk), state="pending").update(
        due_at=timezone.now() - dt.timedelta(seconds=1))
    deadlines_sweep()


def counts_on(body: str, testid: str) -> dict[str, int]:
    section = re.search(rf'data-testid="{testid}".*?</section>', body, re.S)
    assert section is not None, testid
    return {name: int(n) for name, n in re.findall(r'data-count="(\w+)"[^>]*>(\d+)<', section.group(0))}


@pytest.fixture
def late_world(personas):  # type: ignore[no-untyped-def]
    """County A has one of each kind of late work; county B a late report of its own."""
    users = personas.users
    w = {}
    w["report"] = open_case(personas, name="甲报告逾期", inputs={"pa_pressure_mmhg": 60})  # red
    report_late(w["report"])
    w["on_time"] = open_case(personas, name="乙按时")  # opened now: report not yet due, visit in the future
    w["visit"] = open_case(personas, name="丙随访逾期")
    hr.highrisk_case_report(case=w["visit"], by=users.obstetrician_a)
    visit_late(w["visit"])
    w["traced"] = open_case(personas, name="丁追踪中")
    hr.highrisk_case_report(case=w["traced"], by=users.obstetrician_a)
    sweep(visit_late(w["traced"], days=10), hr.VISIT_MISSED)
    w["lost"] = open_case(personas, name="戊失访")
    hr.highrisk_case_report(case=w["lost"], by=users.obstetrician_a)
    sweep(visit_late(w["lost"], days=20), hr.VISIT_MISSED)
    sweep(Tracing.objects.get(case=w["lost"]), hr.TRACING_DUE)
    staff = rescue_staff(personas)
    pregnancy = Pregnancy.objects.get(woman=book_woman(at=personas.inst.hospital_a, name="己待反馈"))
    referral = rs.referral_request(pregnancy=pregnancy, by=users.obstetrician_a,
                                   from_institution=personas.inst.hospital_a, to_centre=personas.centres.city,
                                   urgency="urgent", reason="重度子痫前期", diagnosis="重度子痫前期，孕 35 周",
                                   vitals={"systolic_bp": 170, "pulse": 100})
    rs.referral_accept(referral=referral, by=staff.city1, team="产科")
    rs.referral_arrive(referral=referral, by=staff.city1)
    rs.referral_start_treatment(referral=referral, by=staff.city1)
    rs.referral_outcome(referral=referral, by=staff.city1, outcome="discharged", note="好转出院")
    type(referral).objects.filter(pk=referral.pk).update(feedback_due_at=timezone.now() - dt.timedelta(days=1))
    w["referral"] = referral
    pregnancy = Pregnancy.objects.get(woman=book_woman(at=personas.inst.hospital_a, name="庚待会诊"))
    consultation = rs.consultation_request(pregnancy=pregnancy, by=users.obstetrician_a,
                                           from_institution=personas.inst.hospital_a, mode="remote",
                                           urgency="urgent", question="可否继续妊娠？", to_centre=personas.centres.city)
    type(consultation).objects.filter(pk=consultation.pk).update(
        response_due_at=timezone.now() - dt.timedelta(minutes=5))
    w["consultation"] = consultation
    w["other_county"] = open_case(personas, at="hospital_b", by="obstetrician_b", name="辛同安逾期")
    report_late(w["other_county"])
    return w


def test_the_overview_shows_the_officers_late_work_and_nothing_of_another_county(client, personas, late_world):
    w = late_world
    assert HighRiskCase.objects.get(pk=w["lost"].pk).state == HighRiskCase.State.LOST
    client.force_login(personas.users.mch_a)
    response = client.get(LATE)
    assert response.status_code == 200
    body = response.content.decode()

    def section(testid: str) -> str:
        found = re.search(rf'data-testid="{testid}".*?</section>', body, re.S)
        assert found is not None
        return found.group(0)

    reports = section("late-reports")
    assert "甲报告逾期" in reports and reverse("highrisk:case_detail", args=[w["report"].pk]) in reports
    assert "乙按时" not in reports and "丙随访逾期" not in reports
    assert "辛同安逾期" not in body  # county B's late report is not hers
    assert "24" in reports and "72" in reports  # the province's report hours, not constants
    visits = section("late-visits")
    assert "丙随访逾期" in visits and "乙按时" not in visits and "甲报告逾期" not in visits
    tracing = section("late-tracing")
    assert "丁追踪中" in tracing and "戊失访" not in tracing
    lost = section("late-lost")
    assert "戊失访" in lost and "丁追踪中" not in lost
    feedback = section("late-feedback")
    assert "己待反馈" in feedback and reverse("referral:detail", args=[w["referral"].pk]) in feedback
    consultations = section("late-consultations")
    assert "庚待会诊" in consultations and reverse("referral:consultation", args=[w["consultation"].pk]) in consultations
    assert counts_on(body, "late-summary") == {"reports": 1, "visits": 1, "tracing": 1, "lost": 1, "feedback": 1,
                                              "consultations": 1}

    client.force_login(personas.users.mch_b)
    body_b = client.get(LATE).content.decode()
    assert "辛同安逾期" in body_b and "甲报告逾期" not in body_b and "己待反馈" not in body_b
    assert counts_on(body_b, "late-summary")["reports"] == 1


@pytest.mark.parametrize("persona", ["obstetrician_a", "primary_a", "duty_a", "bureau_a", "outsider"])
def test_the_overview_is_refused_to_everyone_but_mch_officers(client, personas, late_world, persona):
    client.force_login(getattr(personas.users, persona))
    response = client.get(LATE)
    assert response.status_code == 403
    assert "甲报告逾期" not in response.content.decode()


def test_the_overview_is_refused_to_anonymous_users(client, personas):
    response = client.get(LATE)
    assert response.status_code == 302 and "login" in response["Location"]


def test_home_page_counts_match_the_overview_and_link_to_its_sections(client, personas, late_world):
    client.force_login(personas.users.mch_a)
    home = client.get(reverse("index")).content.decode()
    overview = client.get(LATE).content.decode()
    assert counts_on(home, "home-late") == counts_on(overview, "late-summary")
    for name in ("reports", "visits", "tracing", "lost", "feedback", "consultations"):
        assert f'href="{LATE}#{name}"' in home and f'id="{name}"' in overview
    assert 'data-testid="home-worklist"' not in home  # she manages no cases
    client.force_login(personas.users.obstetrician_a)
    assert 'data-testid="home-late"' not in client.get(reverse("index")).content.decode()


def test_the_overview_runs_a_constant_number_of_queries(client, personas, late_world, django_assert_max_num_queries):
    client.force_login(personas.users.mch_a)
    with CaptureQueriesContext(connection) as few:
        assert client.get(LATE).status_code == 200
    # Many more late rows of every case kind: the page reads them in the same queries.
    for n in range(6):
        case = open_case(personas, name=f"壬{n}", inputs={"pa_pressure_mmhg": 60} if n % 2 else None)
        report_late(case)
        other = open_case(personas, name=f"癸{n}")
        hr.highrisk_case_report(case=other, by=personas.users.obstetrician_a)
        visit_late(other)
    with django_assert_max_num_queries(len(few.captured_queries)):
        body = client.get(LATE).content.decode()
    assert counts_on(body, "late-summary")["reports"] == 7 and counts_on(body, "late-summary")["visits"] == 7


def test_the_register_filters_overdue_cases_and_exports_them(client, personas, late_world):
    w = late_world
    client.force_login(personas.users.mch_a)
    register = reverse("highrisk:register")
    reports = client.get(register, {"overdue": "report"}).content.decode()
    assert "甲报告逾期" in reports and "乙按时" not in reports and "丙随访逾期" not in reports
    assert "辛同安逾期" not in reports
    visits = client.get(register, {"overdue": "visit"}).content.decode()
    assert "丙随访逾期" in visits and "丁追踪中" in visits and "甲报告逾期" not in visits and "乙按时" not in visits
    either = client.get(register, {"overdue": "any"}).content.decode()
    assert "甲报告逾期" in either and "丙随访逾期" in either and "乙按时" not in either
    assert "乙按时" in client.get(register).content.decode()  # no filter: every open case
    export = client.get(register, {"overdue": "report", "export": "xlsx"})
    import io

    from openpyxl import load_workbook

    names = [row[0] for row in load_workbook(io.BytesIO(export.content)).active.iter_rows(min_row=2, values_only=True)]
    assert names == [w["report"].pregnancy.woman.name]


def test_clinicians_home_page_shows_their_own_worklist_counts(client, personas, late_world):
    client.force_login(personas.users.obstetrician_a)
    home = client.get(reverse("index")).content.decode()
    counts = counts_on(home, "home-worklist")
    mine = HighRiskCase.objects.filter(responsible_doctor=personas.users.obstetrician_a,
                                       state__in=HighRiskCase.OPEN_STATES).count()
    assert counts["mine"] == mine == 5
    assert counts["overdue"] == 3  # 丙, 丁 and 戊 are past their next visit
    assert counts["unreported"] == 2 and counts["tracing"] == 1
    assert f'href="{reverse("highrisk:index")}?tab=overdue"' in home
    worklist = client.get(reverse("highrisk:index"), {"tab": "overdue"}).content.decode()
    assert "丙随访逾期" in worklist and "乙按时" not in worklist
    client.force_login(personas.users.obstetrician_b)
    assert counts_on(client.get(reverse("index")).content.decode(), "home-worklist")["mine"] == 1
