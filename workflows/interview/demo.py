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
