"""Two duty doctors press "accept" on the same referral at once, 50 times: exactly one acceptance each
time, and the other is told who accepted. Needs PostgreSQL row locks (CI's PostgreSQL leg)."""

from __future__ import annotations

import pytest
from django.db import connection
from viewflow.workflow.models import Task
from viewflow.workflow.status import STATUS

from cases.models import Referral
from tests.workflows.highrisk.test_concurrency import race
from tests.workflows.referral.helpers import refer, rescue_staff
from workflows.referral import services as rs
from workflows.referral.flows import ReferralFlow

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def staff(national_data, personas):  # type: ignore[no-untyped-def]
    if connection.vendor != "postgresql":
        pytest.skip("Concurrent transitions need PostgreSQL (the CI PostgreSQL leg runs this).")
    return rescue_staff(personas)


def test_accept_race_fifty_times_exactly_one_wins(personas, staff):
    for _round in range(50):
        referral = refer(personas)
        results = race(
            lambda r=referral: rs.referral_accept(referral=r, by=staff.city1, team="一组"),
            lambda r=referral: rs.referral_accept(referral=r, by=staff.city2, team="二组"),
        )
        outcomes = sorted(kind for kind, _value in results)
        assert outcomes == ["denied", "ok"], results
        winner = staff.city1 if results[0][0] == "ok" else staff.city2
        refusal = next(value for kind, value in results if kind == "denied")
        assert str(winner) in refusal, refusal
        referral.refresh_from_db()
        assert (referral.state, referral.answered_by) == (Referral.State.ACCEPTED, winner)
        assert referral.history.filter(history_change_reason="accepted").count() == 1
        tasks = Task.objects.filter(process_id=referral.process_id)
        assert tasks.filter(flow_task=ReferralFlow.respond, status=STATUS.DONE).count() == 1
        assert tasks.filter(status=STATUS.NEW).count() == 1  # the single "depart" task
        rs.referral_cancel(referral=referral, by=personas.users.obstetrician_a, reason="测试轮次结束")


def test_accept_and_decline_at_once(personas, staff):
    for _round in range(10):
        referral = refer(personas)
        results = race(
            lambda r=referral: rs.referral_accept(referral=r, by=staff.city1, team="一组"),
            lambda r=referral: rs.referral_decline(referral=r, by=staff.city2, reason="满床"),
        )
        assert sorted(kind for kind, _value in results) == ["denied", "ok"], results
        referral.refresh_from_db()
        assert referral.state in (Referral.State.ACCEPTED, Referral.State.DECLINED)
        rs.referral_cancel(referral=referral, by=personas.users.obstetrician_a, reason="测试轮次结束")
