"""A record's ``updated_at`` moves when anything its API detail shows changes, so a sync list lists it again.

A high-risk case's detail shows its plans, follow-up visits, tracings (with their attempts) and transfers, which
have no list of their own: saving any of them touches the case (``post_save`` receivers connected in
``cases/apps.py``; an ``UPDATE`` of the one column, in the saving transaction, with no history row: the case
itself did not change). The pregnancy's screenings and assessments are listed by their own sync lists.
"""

from __future__ import annotations

from typing import Any

from django.utils import timezone

# The models whose rows a case's detail shows.
CASE_PARTS = ("CasePlan", "FollowUpVisit", "Tracing", "TracingAttempt", "CaseTransfer")


def touch_case(sender: Any, instance: Any, raw: bool = False, **kwargs: Any) -> None:
    """``post_save`` of a case's part: the case's ``updated_at`` is now."""
    if raw:  # loaddata: the fixture's times stand
        return
    from cases.models import HighRiskCase, Tracing

    if sender.__name__ == "TracingAttempt":
        case_id = Tracing.objects.filter(pk=instance.tracing_id).values_list("case_id", flat=True).first()
    else:
        case_id = instance.case_id
    if case_id is not None:
        HighRiskCase.objects.filter(pk=case_id).update(updated_at=timezone.now())
