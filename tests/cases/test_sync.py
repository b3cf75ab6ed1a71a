"""A case's ``updated_at`` moves when a part its API detail shows is saved (cases/sync.py), so the sync list
lists the case again: a follow-up visit, a tracing and a tracing attempt (which finds its case through the
tracing) here; a plan through the API in tests/workflows/highrisk/test_api.py."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from cases.models import FollowUpVisit, HighRiskCase, Tracing, TracingAttempt
from tests.notifications.helpers import move_deadlines_into_past
from tests.workflows.highrisk.test_services import open_case
from workflows.deadlines import deadlines_sweep
from workflows.models import Deadline


def updated(case: HighRiskCase) -> dt.datetime:
    return HighRiskCase.objects.values_list("updated_at", flat=True).get(pk=case.pk)


def rewind(case: HighRiskCase) -> dt.datetime:
    """Set the case's time an hour back (so a touch is seen whatever the clock's resolution)."""
    back = updated(case) - dt.timedelta(hours=1)
    HighRiskCase.objects.filter(pk=case.pk).update(updated_at=back)
    return back


def test_saving_a_part_of_the_case_moves_the_case_on_and_writes_no_case_history(personas):
    case = open_case(personas)
    other = open_case(personas)
    rows = case.history.count()
    back, other_back = rewind(case), rewind(other)
    FollowUpVisit.objects.get(case=case).save()
    assert updated(case) > back
    assert updated(other) == other_back
    assert case.history.count() == rows

    move_deadlines_into_past(Deadline.objects.filter(kind="highrisk.visit_missed"))
    deadlines_sweep()
    tracing = Tracing.objects.get(case=case)
    back = rewind(case)
    TracingAttempt.objects.create(tracing=tracing, method=TracingAttempt.Method.PHONE, note="无人接听", at=timezone.now(),
                                  by=personas.users.obstetrician_a)
    assert updated(case) > back
