"""A criticised institution that must answer a circular goes through the interview's rectification steps at once
(no notice, no meeting): plan, then the report by the day the circular set, then the bureau's verification."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from cases.models import Interview, InterviewParty
from tests.workflows.interview.helpers import alerts
from tests.workflows.interview.test_circulars import draft, world  # noqa: F401  (the fixture)
from workflows.interview import services as cs

pytestmark = pytest.mark.django_db
P = InterviewParty.State


def test_a_required_answer_starts_the_rectification_and_the_report_is_due_on_the_circulars_day(world):  # noqa: F811
    w = world
    due = timezone.localdate() + dt.timedelta(days=20)
    circular = draft(w)
    cs.circular_subject_add(circular=circular, by=w.users.bureau_city, institution=w.inst.hospital_a,
                            reason="转诊响应超时3次", requires_answer=True, answer_due_on=due)
    cs.circular_subject_add(circular=circular, by=w.users.bureau_city, institution=w.inst.hospital_a2,
                            reason="表现良好")  # named, no answer asked
    assert not Interview.objects.exists()
    cs.circular_submit(circular=circular, by=w.users.bureau_city)
    cs.circular_approve(circular=circular, by=w.deputy)
    answer = Interview.objects.get()
    assert answer.origin == Interview.Origin.CIRCULAR and answer.circular == circular
    assert answer.state == Interview.State.HELD and answer.bureau == w.inst.bureau_city
    party = answer.parties.get()
    assert party.institution == w.inst.hospital_a and party.state == P.PLAN_DUE
    assert timezone.localdate(party.plan_due_at) <= due
    assert "head_a" in alerts("interview.plan_requested")
    cs.interview_plan_submit(party=party, by=w.head_a, plan="建立转诊应答值班制度")
    party = cs.interview_plan_accept(party=party, by=w.users.bureau_city)
    assert timezone.localdate(party.report_due_at) == due
    cs.interview_report_submit(party=party, by=w.head_a, report="已整改")
    cs.interview_verify(party=party, by=w.deputy, passed=True, method="documents", findings="材料齐全")
    answer.refresh_from_db()
    assert answer.state == Interview.State.CLOSED
