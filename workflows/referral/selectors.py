"""The referral process's list queries: the task inboxes (built from the step rules in permissions.py).

The boards, the sent list and the area list are in views.py for now: they read ``visible_referrals``.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from viewflow.workflow.models import Task
from viewflow.workflow.status import STATUS

from workflows.referral.flows import ConsultationFlow
from workflows.referral.permissions import consultation_inbox_q, inbox_q


def referral_tasks_for(user: Any) -> QuerySet[Task]:
    """The user's referral inbox: the open tasks of referrals that are the user's move (answering is the
    duty doctors' of the centre, or of the centre it was escalated to; the later steps are the centre's
    obstetric staff's too; the sender's when a declined referral waits to be redirected, or for departure)."""
    return Task.objects.filter(inbox_q(user), status=STATUS.NEW).distinct()


def consultation_tasks_for(user: Any) -> QuerySet[Task]:
    """Open consultation requests addressed to the user, or to a centre the user serves."""
    return Task.objects.filter(consultation_inbox_q(user), flow_task=ConsultationFlow.answer, status=STATUS.NEW)
