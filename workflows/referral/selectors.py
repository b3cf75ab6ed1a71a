"""The referral process's list queries: the centre's command board, the sender's list, the area's list and
the late referrals on them (all through ``visible_referrals``), and the task inboxes (built from the step
rules in permissions.py)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db.models import Case, IntegerField, Q, QuerySet, Value, When
from django.utils import timezone
from viewflow.workflow.models import Task
from viewflow.workflow.status import STATUS

from cases.models import Referral, Urgency
from cases.selectors import visible_referrals
from organisations.models import Institution
from organisations.scoping import area_q, user_scope
from workflows.models import Deadline
from workflows.referral.flows import ConsultationFlow
from workflows.referral.permissions import consultation_inbox_q, inbox_q
from workflows.referral.services import FEEDBACK_DUE, RESPONSE_DUE


def referral_tasks_for(user: Any) -> QuerySet[Task]:
    """The user's referral inbox: the open tasks of referrals that are the user's move (answering is the
    duty doctors' of the centre, or of the centre it was escalated to; the later steps are the centre's
    obstetric staff's too; the sender's when a declined referral waits to be redirected, or for departure)."""
    return Task.objects.filter(inbox_q(user), status=STATUS.NEW).distinct()


def consultation_tasks_for(user: Any) -> QuerySet[Task]:
    """Open consultation requests addressed to the user, or to a centre the user serves."""
    return Task.objects.filter(consultation_inbox_q(user), flow_task=ConsultationFlow.answer, status=STATUS.NEW)


S = Referral.State
# The deadline kinds that make an open referral late, and the state it waits in meanwhile.
LATE_KINDS = {RESPONSE_DUE: S.REQUESTED, FEEDBACK_DUE: S.OUTCOME}


def urgency_rank() -> Case:
    return Case(When(urgency=Urgency.EMERGENCY, then=Value(0)), When(urgency=Urgency.URGENT, then=Value(1)),
                default=Value(2), output_field=IntegerField())


def state_rank() -> Case:
    order = [S.REQUESTED, S.DECLINED, S.ACCEPTED, S.DEPARTED, S.ARRIVED, S.IN_TREATMENT, S.OUTCOME]
    return Case(*[When(state=s, then=Value(i)) for i, s in enumerate(order)], default=Value(9),
                output_field=IntegerField())


def board_rows(user: Any, institutions: list[Institution]) -> QuerySet[Referral]:
    """Open referrals to these centres (and those escalated to them, while unanswered): unanswered
    first, emergencies first, then the soonest deadline or arrival."""
    ids = [i.pk for i in institutions]
    return visible_referrals(user).filter(
        Q(to_centre__institution__in=ids, state__in=Referral.BOARD_STATES)
        | Q(escalated_to__institution__in=ids, state=S.REQUESTED)
    ).select_related("escalated_to__institution").annotate(
        srank=state_rank(), urank=urgency_rank()).order_by("srank", "urank", "response_due_at", "expected_arrival_at")


def sent_rows(user: Any, institutions: list[Institution]) -> QuerySet[Referral]:
    since = timezone.now() - dt.timedelta(days=7)
    return visible_referrals(user).filter(
        Q(state__in=Referral.OPEN_STATES) | Q(closed_at__gte=since), from_institution__in=[i.pk for i in institutions]
    ).annotate(srank=state_rank(), urank=urgency_rank()).order_by("srank", "urank", "-requested_at")


def late_referral_ids(referrals: QuerySet[Referral], *, now: dt.datetime) -> set[uuid.UUID]:
    """Among these referrals, those still waiting on a deadline row that has passed: unanswered after the
    response deadline, or without feedback after the feedback deadline (a cancelled deadline is not late)."""
    waiting = {str(pk): state for pk, state in referrals.filter(state__in=list(LATE_KINDS.values()))
               .values_list("pk", "state")}
    if not waiting:
        return set()
    passed = Deadline.objects.filter(
        subject_type=ContentType.objects.get_for_model(Referral), subject_id__in=list(waiting),
        kind__in=list(LATE_KINDS), due_at__lte=now, state__in=[Deadline.State.PENDING, Deadline.State.FIRED],
    ).values_list("subject_id", "kind")
    return {uuid.UUID(pk) for pk, kind in passed if waiting.get(pk) == LATE_KINDS[kind]}


def area_rows(user: Any) -> QuerySet[Referral]:
    """The referrals of the user's area (sent from it or received in it), from the scoped selector."""
    scope = user_scope(user)
    rows = visible_referrals(user)
    if not scope.everything:
        rows = rows.filter(area_q(scope, "from_institution__region") | area_q(scope, "to_centre__institution__region"))
    return rows
