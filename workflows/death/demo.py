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
# The county panel's 12-cell table and three delays for the death it concluded (the others stay "not assessed").
TABLE: dict[str, Any] = {
    "individual_knowledge": True, "individual_knowledge_note": "家属不识产后出血危险征象，产后 1 小时才呼叫医生",
    "individual_attitude": False, "individual_resources": False, "individual_management": False,
    "health_system_knowledge": True, "health_system_knowledge_note": "出血量目测估计，低估约 800 mL",
    "health_system_attitude": False,
    "health_system_resources": True, "health_system_resources_note": "县医院血库 O 型红细胞备量不足，调血 50 分钟",
    "health_system_management": True, "health_system_management_note": "产后出血预案未启动，未及时上报县急救中心",
    "other_sectors_knowledge": False, "other_sectors_attitude": False,
    "other_sectors_resources": True, "other_sectors_resources_note": "夜间血站配送车辆不足",
    "other_sectors_management": False,
}
DELAYS: dict[str, Any] = {"delay_seeking": True, "delay_seeking_note": "家属延迟呼叫约 1 小时",
                          "delay_reaching": False,
                          "delay_receiving": True, "delay_receiving_note": "输血启动于出血后 70 分钟"}
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
    meeting = None
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
        if meeting is None:
            # One county panel: the death under county review on its agenda, and the one it concluded.
            meeting = ds.death_meeting_create(region=hospital.region, held_on=timezone.localdate(), by=mch,
                                              place="闽侯县妇幼保健院三楼会议室", chair=expert, members=[expert, mch],
                                              notes="县级孕产妇死亡评审会")
        if stage in ("review_county", "review_city"):
            ds.death_meeting_add_case(meeting=meeting, report=report, by=mch)
        if stage == "review_county":
            continue
        if stage == "review_city":
            ds.death_report_conclude(report=report, by=expert, meeting=meeting, cells=TABLE, delays=DELAYS,
                                     opinions=[{"member": expert, "agrees": True},
                                               {"member": mch, "agrees": True}], **CONCLUSION)
        else:
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
    return made + _seed_referral_death(hospital=hospital, mch=mch)


def _seed_referral_death(*, hospital: Institution, mch: Any) -> int:
    """One death of a high-risk case after a referral to the city centre, investigated and awaiting the
    county review, so the review packet's timeline shows the case, its visits, the referral and its alerts."""
    from cases.models import HighRiskCase
    from organisations.models import RescueCentre
    from workflows.referral import services as rs

    receiver = _user("gulou_duty")
    centre = RescueCentre.objects.filter(institution__name="福州市妇幼保健院").first()
    today = timezone.localdate()
    # A woman of 28 to 41 weeks not referred yet: before delivery, so the referral reads as the other demo ones.
    case = next((c for c in HighRiskCase.objects.filter(
        institution=hospital, state__in=HighRiskCase.OPEN_STATES, pregnancy__referrals__isnull=True).select_related(
        "pregnancy").order_by("opened_at") if 28 <= c.pregnancy.gestational_age(today)[0] < 42), None)
    if receiver is None or centre is None or case is None:
        return 0
    weeks = case.pregnancy.gestational_age(today)[0]
    referral = rs.referral_request(
        pregnancy=case.pregnancy, by=case.responsible_doctor, from_institution=hospital, to_centre=centre,
        urgency="emergency", reason="胎盘早剥，阴道大量流血，胎心消失",
        diagnosis=f"胎盘早剥，孕 {weeks} 周，失血约 1500 mL，失血性休克",
        vitals={"systolic_bp": 78, "pulse": 132, "spo2": 93}, now=timezone.now() - dt.timedelta(minutes=14))
    rs.referral_accept(referral=referral, by=receiver, team="产科 ICU 值班组")
    rs.referral_depart(referral=referral, by=case.responsible_doctor, transport="ambulance", escort="助产士")
    rs.referral_arrive(referral=referral, by=receiver)
    rs.referral_start_treatment(referral=referral, by=receiver)
    rs.referral_outcome(referral=referral, by=receiver, outcome="died", note="DIC，抢救无效死亡")
    report = DeathReport.objects.get(referral=referral)
    ds.death_report_update_card(report=report, by=receiver, data=CARD)
    ds.death_report_report(report=report, by=receiver)
    ds.death_report_verify(report=report, by=mch)
    ds.death_report_investigate(report=report, by=mch, findings="病历核查：产后 2 小时出血约 1500 mL，县医院宫缩剂与"
                                "按摩无效后申请转诊；转运途中血压进行性下降，到达后立即输血、介入栓塞，仍发生 DIC。",
                                interviews="丈夫、县医院接产医生、救治中心值班医生")
    return 1


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
