"""Demo maternal deaths for a first look: one report at each stage, made through the services (so each
carries its history, clocks and alerts). ``manage.py seed_demo_deaths``; idempotent."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone

from cases.models import DeathReport, ImprovementMeasure, Pregnancy
from organisations.models import Institution, User
from workflows.common import save_with_history
from workflows.deadlines import deadline_create, deadlines_cancel_for
from workflows.death import services as ds

CARD: dict[str, Any] = {"death_place": DeathReport.Place.COUNTY_HOSPITAL, "delivery_mode": DeathReport.DeliveryMode.CAESAREAN,
        "cause_a": "失血性休克", "cause_b": "产后出血", "cause_c": "子宫收缩乏力", "diagnosis_basis": "clinical",
        "underlying_cause": "产后出血", "icd10": "O72.1", "cause_class": "direct", "icd_mm_group": 3,
        "ethnicity": "汉族", "education": "junior", "registration": "local", "antenatal_visits": 6}
CONCLUSION: dict[str, Any] = {"avoidability": "conditionally", "underlying_cause": "产后出血", "icd10": "O72.1",
              "cause_class": "direct", "icd_mm_group": 3, "note": "出血量估计不足，输血启动延迟"}
# (stage, hours since the death): every report stays within its 24-hour clock.
STAGES = [("drafted", 3), ("returned", 5), ("reported", 8), ("verified", 12), ("review_county", 16),
          ("review_city", 18), ("closed", 20), ("excluded", 22)]


def _user(username: str) -> Any:
    return User.objects.filter(username=username).first()


def seed_deaths() -> int:
    """One death at each stage at 闽侯县医院 (county MCH 闽侯, city 福州, province 福建). Does nothing when a
    death report exists or the demo organisations are missing."""
    if DeathReport.objects.exists():
        return 0
    doctor, mch, expert = _user("minhou_obstetrician"), _user("minhou_mch"), _user("minhou_expert")
    city, province = _user("fuzhou_mch"), _user("fujian_mch")
    hospital = Institution.objects.filter(name="闽侯县医院").first()
    if hospital is None or not all((doctor, mch, expert, city, province)):
        return 0
    # Women booked in the county (at the hospital or its primary care), none of them a high-risk case.
    pregnancies = list(Pregnancy.objects.filter(booking_institution__region_id=hospital.region_id,
                                                status=Pregnancy.Status.ONGOING, highrisk_case__isnull=True)
                       .order_by("booking_date")[:len(STAGES)])
    made = 0
    for pregnancy, (stage, hours) in zip(pregnancies, STAGES, strict=False):
        report = ds.pregnancy_record_death(pregnancy=pregnancy, by=doctor, institution=hospital,
                                           died_at=timezone.now() - dt.timedelta(hours=hours),
                                           note="产后大出血，抢救无效死亡")
        made += 1
        if stage == "drafted":
            continue
        ds.death_report_update_card(report=report, by=doctor, data=CARD)
        ds.death_report_report(report=report, by=doctor)
        if stage == "reported":
            continue
        if stage == "returned":
            ds.death_report_return(report=report, by=mch, reason="请补充最后一次产前检查机构和产检次数")
            continue
        if stage == "excluded":
            ds.death_report_exclude(report=report, by=mch, reason="核实为交通事故意外死亡，非孕产妇死亡")
            continue
        ds.death_report_verify(report=report, by=mch)
        if stage == "verified":
            continue
        ds.death_report_investigate(report=report, by=mch, findings="入户调查及病历核查：剖宫产术后 2 小时出血约 1800 mL，"
                                    "输血启动于出血后 70 分钟。", interviews="丈夫、接产医生、麻醉医师")
        if stage == "review_county":
            continue
        ds.death_report_conclude(report=report, by=expert, **CONCLUSION)
        if stage == "review_city":
            continue
        ds.death_report_conclude(report=report, by=city, **CONCLUSION)
        if DeathReport.objects.get(pk=report.pk).state == DeathReport.State.REVIEW_PROVINCE:
            ds.death_report_conclude(report=report, by=province, **CONCLUSION)
        report = DeathReport.objects.get(pk=report.pk)
        seed_measures(report, setter=mch, doer=doctor)
        closer = {"county": mch, "city": city, "province": province}[report.final_level]
        ds.death_report_close(report=report, by=closer)
    return made


def seed_measures(report: DeathReport, *, setter: Any, doer: Any) -> list[ImprovementMeasure]:
    """Two improvement measures on a reviewed death, owned by the hospital where she died: one open and overdue
    (its due date moved into the past, its clock due now so the sweep raises the overdue alert), one done with
    evidence and awaiting the county bureau's verification."""
    hospital = report.reporting_institution
    today = timezone.localdate()
    late = ds.death_measure_set(report=report, by=setter, owner_institution=hospital, due_on=today,
                                text="建立产后出血快速输血绿色通道，与血站签订紧急供血协议，每季度开展一次产后出血演练")
    late.due_on, late.set_at = today - dt.timedelta(days=12), timezone.now() - dt.timedelta(days=72)
    save_with_history(late, by=setter, reason="demo: set weeks ago")
    deadlines_cancel_for(late, kind=ds.MEASURE_DUE, by=setter, reason="demo: set weeks ago")
    deadline_create(kind=ds.MEASURE_DUE, due_at=timezone.now(), subject=late, payload={"stage": "passed"},
                    reason="demo: overdue")
    done = ds.death_measure_set(report=report, by=setter, owner_institution=hospital,
                                due_on=today + dt.timedelta(days=30),
                                text="产科医师全员完成产后出血量评估（称重法、容积法）培训并考核")
    ds.death_measure_mark_done(measure=done, by=doer, evidence="已于本月完成全员培训，考核通过率100%，培训签到表及"
                               "考核记录存医务科")
    return [late, done]
