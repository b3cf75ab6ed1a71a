"""Shared set-up for interview tests: the heads of the summoned institutions and an interview walked to a stage."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace
from typing import Any

from django.utils import timezone

from cases.models import Interview
from notifications.models import Alert
from organisations.models import Role
from tests.workflows.referral.helpers import member
from workflows.interview import services as svc


def heads(personas: Any) -> SimpleNamespace:
    inst = personas.inst
    return SimpleNamespace(hospital_a=member("head_hospital_a", inst.hospital_a, Role.HEAD),
                           primary_a=member("head_primary_a", inst.primary_a, Role.HEAD),
                           hospital_b=member("head_hospital_b", inst.hospital_b, Role.HEAD))


def proposed(personas: Any) -> Interview:
    inst = personas.inst
    return svc.interview_propose(
        by=personas.users.bureau_a, bureau=inst.bureau_a, subject="转诊响应超时", reasons="本季度3次转诊应答超时",
        parties=[(inst.hospital_a, ["head", "mch_head"], "转诊应答超时2次"), (inst.primary_a, ["head"], "")])


def notified(personas: Any) -> Interview:
    return svc.interview_notify(interview=proposed(personas), by=personas.users.bureau_a, number="闽侯卫约〔2026〕1号",
                                scheduled_at=timezone.now() + dt.timedelta(days=5), place="县卫健局三楼会议室")


def held(personas: Any) -> Interview:
    interview = notified(personas)
    return svc.interview_hold(interview=interview, by=personas.users.bureau_a, attendance="县医院院长、社区中心主任",
                              requirements="一个月内完成整改", expert_advice="加强值班")


def alerts(kind: str, **filters: Any) -> set[str]:
    return set(Alert.objects.filter(kind=kind, **filters).values_list("recipient__username", flat=True))
