"""Two officers of the convening bureau act on the same party at the same moment: one verification wins, the
other gets 409 and changes nothing (the party row is locked inside the step). Needs PostgreSQL (CI's leg)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.utils import timezone

from cases.models import Interview, InterviewParty
from organisations.models import Role
from tests.concurrency import post_at_once
from tests.workflows.interview.helpers import heads, proposed
from tests.workflows.referral.helpers import member
from workflows.interview import services as svc

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_two_officers_verifying_one_party_at_once_one_wins_the_other_gets_409(personas):
    if connection.vendor != "postgresql":
        pytest.skip("Concurrent steps need PostgreSQL (the CI PostgreSQL leg runs this).")
    u, h, inst = personas.users, heads(personas), personas.inst
    second = member("bureau_a2", inst.bureau_a, Role.BUREAU_OFFICER)
    for round_ in range(3):
        interview = svc.interview_notify(interview=proposed(personas), by=u.bureau_a, number=f"闽侯卫约〔2026〕{round_}号",
                                         scheduled_at=timezone.now() + dt.timedelta(days=5), place="会议室")
        interview = svc.interview_hold(interview=interview, by=u.bureau_a, attendance="院长", requirements="整改")
        party = InterviewParty.objects.get(interview=interview, institution=inst.hospital_a)
        svc.interview_plan_submit(party=party, by=h.hospital_a, plan="方案")
        svc.interview_plan_accept(party=party, by=u.bureau_a)
        svc.interview_report_submit(party=party, by=h.hospital_a, report="已整改")
        path = f"/api/interviews/{interview.pk}/verify/"
        codes = post_at_once([
            (u.bureau_a, path, {"party": str(party.pk), "passed": True, "method": "documents", "findings": "材料齐全"}),
            (second, path, {"party": str(party.pk), "passed": False, "method": "onsite", "findings": "未落实",
                            "escalation": "提请市卫健委约谈"}),
        ])
        assert sorted(codes) == [200, 409], codes
        fresh = InterviewParty.objects.get(pk=party.pk)
        winner = u.bureau_a if codes[0] == 200 else second
        assert fresh.verified_by == winner
        assert fresh.state == (InterviewParty.State.PASSED if winner == u.bureau_a else InterviewParty.State.FAILED)
        # Exactly one verification in the history, and at most one escalation made by it.
        assert fresh.history.filter(state__in=InterviewParty.DONE_STATES).count() == 1
        assert Interview.objects.filter(escalated_from=interview).count() == (0 if winner == u.bureau_a else 1)
