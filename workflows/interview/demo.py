"""A demo circular for a first look: one published criticism from the Fuzhou city bureau with a frozen ranking of
the city's counties, partly read. Made through the services (history, alerts, the read reminder). Idempotent;
called from ``seed_demo --first-look`` after the demo deaths (which the ranking counts)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib.auth.hashers import make_password
from django.utils import timezone

from cases.models import Circular
from organisations.demo import DEMO_PASSWORD
from organisations.models import Institution, Membership, Role, User
from workflows.interview import services as cs

NUMBER = "榕卫妇幼通〔2026〕3号"
BODY = ("各县（市、区）卫生健康局，市属各助产机构：\n"
        "为落实母婴安全五项制度，市卫生健康委对近期孕产妇死亡报告与危重孕产妇转诊情况进行了梳理。"
        "部分机构存在死亡报告不及时、转诊响应超时、可避免死亡评审整改不到位等问题，现予通报批评。\n"
        "请被通报单位于15日内提交整改报告，各单位举一反三，切实保障母婴安全。")


def _deputy(bureau: Institution) -> Any:
    """A second officer of the bureau, who approves (four eyes): 福州市卫健委 has one demo officer only."""
    user, created = User.objects.get_or_create(username="fuzhou_bureau2", defaults={
        "name": "陈婉蓉", "password": make_password(DEMO_PASSWORD)})
    if created:
        Membership.objects.create(user=user, institution=bureau, role=Role.BUREAU_OFFICER)
    return user


def seed_circulars() -> int:
    """Does nothing when a circular exists or the demo organisations are missing; returns how many were made."""
    if Circular.objects.exists():
        return 0
    drafter = User.objects.filter(username="fuzhou_bureau").first()
    bureau = Institution.objects.filter(name="福州市卫生健康委员会").first()
    if drafter is None or bureau is None:
        return 0
    deputy = _deputy(bureau)
    today = timezone.localdate()
    start = today - dt.timedelta(days=90)
    circular = cs.circular_create(issuer=bureau, by=drafter, kind=Circular.Kind.CRITICISE, number=NUMBER,
                                  title="关于近期孕产妇死亡报告及危重孕产妇转诊情况的通报", body=BODY,
                                  period_from=start, period_to=today)
    hospital = Institution.objects.filter(name="闽侯县医院").first()
    if hospital is not None:
        cs.circular_subject_add(circular=circular, by=drafter, institution=hospital,
                                reason="发生可避免孕产妇死亡，产后出血识别与输血启动延迟。",
                                evidence="/death/reports/", requires_answer=True,
                                answer_due_on=today + dt.timedelta(days=15))
    cs.circular_ranking_attach(circular=circular, by=drafter, figure="deaths_avoidable", period_from=start,
                               period_to=today)
    cs.circular_ranking_attach(circular=circular, by=drafter, figure="referral_answers_late", period_from=start,
                               period_to=today)
    cs.circular_submit(circular=circular, by=drafter)
    cs.circular_approve(circular=circular, by=deputy)
    for username in ("minhou_head", "minhou_mch", "gulou_bureau"):
        reader = User.objects.filter(username=username).first()
        if reader is not None:
            cs.circular_mark_read(circular=circular, by=reader)
    return 1


def seed_interviews() -> int:
    """The province's trigger rules (active, editable in the admin) and one interview in progress: the 闽侯县 bureau
    summoned 闽侯县医院 and 甘蔗社区卫生服务中心 over the county's avoidable death; it was held, the hospital's plan awaits
    the bureau and the centre's plan is due. Idempotent."""
    from cases.models import Interview, InterviewParty, InterviewTrigger
    from organisations.models import Region

    province = Region.objects.filter(code="350000").first()
    bureau = Institution.objects.filter(name="闽侯县卫生健康局").first()
    hospital = Institution.objects.filter(name="闽侯县医院").first()
    centre = Institution.objects.filter(region_id="350121", kind=Institution.Kind.PRIMARY_CARE).order_by("name").first()
    officer, head = User.objects.filter(username="minhou_bureau").first(), User.objects.filter(
        username="minhou_head").first()
    if not all((province, bureau, hospital, officer, head)) or Interview.objects.filter(
            origin=Interview.Origin.OFFICER).exists():
        return 0
    assert province is not None and bureau is not None and hospital is not None  # noqa: S101  (checked above)
    if not InterviewTrigger.objects.filter(province=province).exists():
        K = InterviewTrigger.Kind
        for kind, threshold, period, convener in ((K.AVOIDABLE_DEATH, 1, 365, "county"),
                                                  (K.LATE_DEATH_REPORT, 1, 90, "county"),
                                                  (K.LATE_REFERRAL_ANSWERS, 3, 90, "city"),
                                                  (K.OVERDUE_MEASURES, 2, 90, "county")):
            InterviewTrigger.objects.create(province=province, kind=kind, threshold=threshold, period_days=period,
                                            convener=convener, summoned=["head", "mch_head"])
        # A county whose system management rate misses the province's target over a year, judged on at least
        # 50 live births, is summoned by its city: the bureau and its MCH head.
        InterviewTrigger.objects.create(province=province, kind=K.INDICATOR_OFF_TARGET,
                                        indicator="system_management_rate", threshold=50, period_days=365,
                                        party=InterviewTrigger.Party.COUNTY_BUREAU, convener="city",
                                        summoned=["head", "mch_head"])
    parties = [(hospital, ["head", "mch_head", "obstetrics_head"], "产后出血死亡评审为可避免，输血与转诊延误")]
    if centre is not None:
        parties.append((centre, ["head"], "孕期高危随访不到位"))
    interview = cs.interview_propose(
        by=officer, bureau=bureau, subject="孕产妇可避免死亡整改约谈",
        reasons="县级评审认定本县一例产后出血死亡为可避免死亡：识别延误、输血不及时、转诊响应慢。", parties=parties)
    cs.interview_notify(interview=interview, by=officer, number="闽侯卫妇幼约〔2026〕1号", place="县卫健局三楼会议室",
                        scheduled_at=timezone.now() + dt.timedelta(hours=1))
    interview = cs.interview_hold(interview=interview, by=officer, attendance="闽侯县医院院长、分管副院长、产科主任；"
                                  "甘蔗社区卫生服务中心主任；县卫健局妇幼股", expert_advice="建立产后出血快速反应团队，"
                                  "每季度演练", requirements="15日内提交整改方案，两个月内完成整改并报告")
    plan = InterviewParty.objects.get(interview=interview, institution=hospital)
    cs.interview_plan_submit(party=plan, by=head, plan="1. 成立产后出血快速反应小组（产科主任负责，本月内）\n"
                             "2. 与中心血站签订紧急供血协议（医务科，30日内）\n3. 每季度开展一次产后出血演练（护理部）")
    return 1
