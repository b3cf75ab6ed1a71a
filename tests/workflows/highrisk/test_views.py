"""The high-risk pages over HTTP: case page and actions, worklists in danger order, the register and
its xlsx export (scoped, logged, formula-safe), deactivated doctors."""

from __future__ import annotations

import io

import pytest
from django.urls import reverse
from django.utils import timezone

from cases.models import Assessment, HighRiskCase, Pregnancy
from notifications.models import Alert
from organisations.models import AccessLog
from tests.personas import book_woman
from workflows.export import spreadsheet_safe
from workflows.screening.services import assessment_record


def open_case(personas, inputs, at="hospital_a", user="obstetrician_a", name=None):  # type: ignore[no-untyped-def]
    institution = getattr(personas.inst, at)
    woman = book_woman(at=institution, **({"name": name} if name else {}))
    pregnancy = Pregnancy.objects.get(woman=woman)
    assessment_record(pregnancy=pregnancy, institution=institution, by=getattr(personas.users, user),
                      stage=Assessment.Stage.FIRST, inputs=inputs)
    return HighRiskCase.objects.get(pregnancy=pregnancy)


@pytest.mark.parametrize(("persona", "status"), [
    ("obstetrician_a", 200), ("duty_a", 200), ("mch_a", 200), ("bureau_city", 200), ("reviewer_province", 200),
    ("obstetrician_b", 404), ("mch_b", 404), ("bureau_gd", 404), ("primary_a", 403), ("outsider", 403),
])
def test_case_page_scoping(client, personas, persona, status):
    case = open_case(personas, {"age_years": 41})
    client.force_login(getattr(personas.users, persona))
    response = client.get(reverse("highrisk:case_detail", args=[case.pk]))
    assert response.status_code == status
    if status == 200:
        body = response.content.decode()
        assert 'data-testid="case-timeline"' in body and case.pregnancy.woman.name in body


def test_actions_offered_follow_the_user_and_the_state(client, personas):
    case = open_case(personas, {"age_years": 41})
    client.force_login(personas.users.obstetrician_a)
    body = client.get(reverse("highrisk:case_detail", args=[case.pk])).content.decode()
    assert 'data-action="report"' in body and 'data-action="plan"' in body and 'data-action="reopen"' not in body
    client.force_login(personas.users.mch_a)
    body = client.get(reverse("highrisk:case_detail", args=[case.pk])).content.decode()
    assert 'data-action="reassign"' in body and 'data-action="plan"' not in body
    denied = client.post(reverse("highrisk:case_action", args=[case.pk, "plan"]), {"kind": "management", "text": "x"})
    assert denied.status_code == 403
    assert client.get(reverse("highrisk:case_action", args=[case.pk, "nonsense"])).status_code == 404


def test_plan_and_close_through_the_pages(client, personas):
    case = open_case(personas, {"pa_pressure_mmhg": 60})
    client.force_login(personas.users.obstetrician_a)
    refused = client.post(reverse("highrisk:case_action", args=[case.pk, "plan"]),
                          {"kind": "emergency", "text": "大出血预案"})
    assert refused.status_code == 200 and "id_rescue_centre_error" in refused.content.decode()
    assert not case.plans.exists()
    done = client.post(reverse("highrisk:case_action", args=[case.pk, "plan"]),
                       {"kind": "emergency", "text": "大出血预案", "rescue_centre": personas.centres.city.pk})
    assert done.status_code == 302
    bad_close = client.post(reverse("highrisk:case_action", args=[case.pk, "close"]), {"kind": "ended", "reason": ""})
    assert bad_close.status_code == 200 and HighRiskCase.objects.get(pk=case.pk).state == "opened"
    client.post(reverse("highrisk:case_action", args=[case.pk, "close"]), {"kind": "ended", "reason": "外院引产"})
    assert HighRiskCase.objects.get(pk=case.pk).state == "closed"
    timeline = client.get(reverse("highrisk:case_detail", args=[case.pk])).content.decode()
    assert "外院引产" in timeline and "大出血预案" in timeline


def test_worklist_is_danger_first(client, personas):
    purple = open_case(personas, {"findings": ["P2"]}, name="紫色甲")
    orange = open_case(personas, {"age_years": 41}, name="橙色乙")
    red = open_case(personas, {"pa_pressure_mmhg": 60}, name="红色丙")
    HighRiskCase.objects.filter(pk=orange.pk).update(next_visit_at=timezone.localdate().replace(year=2020))
    late_orange = open_case(personas, {"age_years": 42}, name="橙色丁")
    client.force_login(personas.users.obstetrician_a)
    body = client.get(reverse("highrisk:index")).content.decode()
    order = [body.index(name) for name in ("红色丙", "橙色乙", "橙色丁", "紫色甲")]
    assert order == sorted(order)
    overdue = client.get(reverse("highrisk:index") + "?tab=overdue").content.decode()
    assert "橙色乙" in overdue and "红色丙" not in overdue
    assert red and purple and late_orange


def test_register_filters_and_export_only_in_scope(client, personas):
    open_case(personas, {"pa_pressure_mmhg": 60}, name="=HYPERLINK(\"http://x\")")
    open_case(personas, {"age_years": 41}, name="闽侯橙色")
    open_case(personas, {"pa_pressure_mmhg": 60}, at="hospital_b", user="obstetrician_b", name="同安红色")
    client.force_login(personas.users.mch_a)
    body = client.get(reverse("highrisk:register") + "?colour=red").content.decode()
    assert "HYPERLINK" in body and "闽侯橙色" not in body and "同安红色" not in body
    response = client.get(reverse("highrisk:register") + "?export=xlsx")
    assert response.status_code == 200
    from openpyxl import load_workbook

    sheet = load_workbook(io.BytesIO(response.content)).active
    names = [row[0] for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert sorted(names) == sorted(["'=HYPERLINK(\"http://x\")", "闽侯橙色"])
    assert all(cell.data_type != "f" for row in sheet.iter_rows() for cell in row)
    assert AccessLog.objects.filter(user=personas.users.mch_a, action="export").exists()
    client.force_login(personas.users.bureau_city)
    assert "同安红色" not in client.get(reverse("highrisk:register")).content.decode()
    client.force_login(personas.users.primary_a)
    assert client.get(reverse("highrisk:register")).status_code == 403


@pytest.mark.parametrize(("value", "safe"), [("=1+1", "'=1+1"), ("+86", "'+86"), ("-2", "'-2"), ("@x", "'@x"),
                                              ("林", "林"), (3, 3)])
def test_spreadsheet_safe(value, safe):
    assert spreadsheet_safe(value) == safe


def test_deactivated_doctor_cases_are_listed_and_the_mch_officer_alerted(client, personas):
    case = open_case(personas, {"age_years": 41})
    doctor = personas.users.obstetrician_a
    doctor.is_active = False
    doctor.save()
    alert = Alert.objects.get(kind="highrisk.orphaned")
    assert alert.recipient == personas.users.mch_a
    doctor.save()  # saving again does not alert twice while the first is open
    assert Alert.objects.filter(kind="highrisk.orphaned").count() == 1
    client.force_login(personas.users.mch_a)
    body = client.get(reverse("highrisk:index")).content.decode()
    assert 'data-testid="orphaned"' in body and case.pregnancy.woman.name in body


def test_a_dead_never_reported_case_shows_no_report_deadline(client, personas):
    from workflows.highrisk.services import case_record_death

    case = open_case(personas, {"pa_pressure_mmhg": 60})
    client.force_login(personas.users.obstetrician_a)
    pages = [reverse("highrisk:case_detail", args=[case.pk]), reverse("cases:pregnancy_detail", args=[case.pregnancy_id])]
    for url in pages:  # while it is owed, the deadline shows
        assert 'data-testid="report-due"' in client.get(url).content.decode()
    case_record_death(case=case, by=personas.users.obstetrician_a, at=timezone.now(), note="产后出血，抢救无效")
    case = HighRiskCase.objects.get(pk=case.pk)
    assert case.state == HighRiskCase.State.DIED and case.reported_at is None and not case.awaits_report
    for url in pages:
        body = client.get(url).content.decode()
        assert 'data-testid="report-due"' not in body and "报告期限" not in body
