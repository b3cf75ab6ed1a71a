"""The interview page's single timeline: every step of the interview and of each party, oldest first, with who
took it, the returned plan's reason and the deadline that passed; its query count does not grow with steps."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils.translation import gettext as _

from cases.models import Interview, InterviewParty
from tests.notifications.helpers import move_deadlines_into_past
from tests.workflows.interview.helpers import heads, held, proposed
from workflows.deadlines import deadlines_for, deadlines_sweep
from workflows.interview import services as svc
from workflows.interview.timeline import interview_timeline

pytestmark = pytest.mark.django_db


def _walk(personas):  # type: ignore[no-untyped-def]
    h, u, inst = heads(personas), personas.users, personas.inst
    interview = held(personas)
    hospital = InterviewParty.objects.get(interview=interview, institution=inst.hospital_a)
    primary = InterviewParty.objects.get(interview=interview, institution=inst.primary_a)
    svc.interview_plan_submit(party=hospital, by=h.hospital_a, plan="值班制度")
    svc.interview_plan_return(party=hospital, by=u.bureau_a, reason="缺少责任人")
    move_deadlines_into_past(deadlines_for(primary, kind=svc.PLAN_DUE))
    deadlines_sweep()
    return interview


def test_the_timeline_tells_the_interview_in_order(personas):
    interview = _walk(personas)
    entries = interview_timeline(interview)
    assert [e.at for e in entries] == sorted(e.at for e in entries)
    assert [e.kind for e in entries][:1] == ["interview"]
    titles = [(e.party, e.title) for e in entries]
    S = Interview.State
    assert titles.index(("", S.PROPOSED.label)) < titles.index(("", S.NOTIFIED.label)) < titles.index(
        ("", S.HELD.label))
    hospital = [e for e in entries if e.party == personas.inst.hospital_a.name]
    P = InterviewParty.State
    assert [e.title for e in hospital][-2:] == [P.PLAN_SUBMITTED.label, P.PLAN_DUE.label]
    assert hospital[-1].detail == _("Returned: %(reason)s") % {"reason": "缺少责任人"}
    assert hospital[-1].who == personas.users.bureau_a.name
    [overdue] = [e for e in entries if e.kind == "deadline"]
    assert overdue.party == personas.inst.primary_a.name and overdue.title == _("The rectification plan is overdue")


def test_the_page_shows_the_timeline_in_zh_hans(client, personas):
    interview = _walk(personas)
    client.force_login(personas.users.bureau_a)
    page = client.get(f"/interview/{interview.pk}/").content.decode()
    section = page[page.index('data-testid="interview-timeline"'):]
    assert section.count('data-testid="timeline-entry"') == len(interview_timeline(interview))
    assert "退回：缺少责任人" in section and 'data-kind="deadline"' in section


def test_the_timeline_reads_in_a_fixed_number_of_queries(personas):
    small = proposed(personas)
    with CaptureQueriesContext(connection) as few:
        interview_timeline(small)
    big = _walk(personas)
    with CaptureQueriesContext(connection) as many:
        interview_timeline(big)
    assert len(many) == len(few)
