"""Referral and consultation as viewflow flows over their records' state machines.

Each waiting step is a ``Handle`` task completed by the matching service in
``workflows/referral/services.py`` (which runs the record's named transition first):

    start → respond (the centre: accept / decline / redirect) → ┬ accepted → depart → arrive → treat
                                                                │            → outcome → feedback → end
                                                                ├ declined → reroute (the sender redirects) → end
                                                                └ redirected → end (the new referral has its own process)

A cancelled referral cancels its process. Inboxes are the open tasks joined to the records, filtered by
the user's institutions (see ``referral_tasks_for``).
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _
from viewflow import this
from viewflow.workflow import flow
from viewflow.workflow.lock import select_for_update_lock
from viewflow.workflow.models import Task
from viewflow.workflow.status import STATUS

from cases.models import Consultation, Referral
from organisations.models import Membership, Role
from workflows.flows import register_flow

CENTRE_ROLES = frozenset({Role.DUTY_DOCTOR, Role.OBSTETRICIAN})


class ReferralFlow(flow.Flow):
    """Critical-case referral

    A woman in danger is sent to a rescue centre, which answers under a deadline, receives and treats
    her, and gives feedback to the sender.
    """

    process_title = _("Critical-case referral")
    lock_impl = select_for_update_lock

    start = flow.StartHandle(this.begin).Next(this.respond)
    respond = flow.Handle().Annotation(title=_("Answer the referral")).Next(this.route)
    route = (
        flow.Switch()
        .Case(this.depart, this.is_accepted)
        .Case(this.reroute, this.is_declined)
        .Default(this.end)
    )
    reroute = flow.Handle().Annotation(title=_("Redirect the declined referral")).Next(this.end)
    depart = flow.Handle().Annotation(title=_("Record the departure")).Next(this.arrive)
    arrive = flow.Handle().Annotation(title=_("Record the arrival")).Next(this.treat)
    treat = flow.Handle().Annotation(title=_("Start treatment")).Next(this.outcome)
    outcome = flow.Handle().Annotation(title=_("Record the outcome")).Next(this.feedback)
    feedback = flow.Handle().Annotation(title=_("Give feedback to the sender")).Next(this.end)
    end = flow.End()

    def begin(self, activation: Any, record: Referral) -> Any:
        return activation.process

    def is_accepted(self, activation: Any) -> bool:
        return Referral.objects.filter(process=activation.process, state=Referral.State.ACCEPTED).exists()

    def is_declined(self, activation: Any) -> bool:
        return Referral.objects.filter(process=activation.process, state=Referral.State.DECLINED).exists()


class ConsultationFlow(flow.Flow):
    """Consultation request

    A centre or a named expert answers a consultation request under a deadline.
    """

    process_title = _("Consultation")
    lock_impl = select_for_update_lock

    start = flow.StartHandle(this.begin).Next(this.answer)
    answer = flow.Handle().Annotation(title=_("Answer the consultation")).Next(this.end)
    end = flow.End()

    def begin(self, activation: Any, record: Consultation) -> Any:
        return activation.process


register_flow(Referral, ReferralFlow)
register_flow(Consultation, ConsultationFlow)

# Whose move each open referral task is: the receiving centre's, or the sender's.
CENTRE_NODES = ("respond", "arrive", "treat", "outcome", "feedback")
SENDER_NODES = ("reroute",)
EITHER_NODES = ("depart",)


def _acting_institution_ids(user: Any, roles: frozenset[str]) -> Any:
    return Membership.objects.filter(user=user, role__in=roles, is_active=True,
                                     institution__is_active=True).values("institution_id")


def referral_tasks_for(user: Any) -> QuerySet[Task]:
    """The user's referral inbox: open tasks of referrals addressed to (or escalated to) a centre the user
    serves as duty doctor or obstetrician, and sender tasks of referrals their institution sent."""
    from django.db.models import Q

    centre_ids = _acting_institution_ids(user, CENTRE_ROLES)
    duty_ids = _acting_institution_ids(user, frozenset({Role.DUTY_DOCTOR}))
    sender_ids = _acting_institution_ids(user, frozenset({Role.OBSTETRICIAN, Role.DUTY_DOCTOR, Role.PRIMARY_CARE}))
    nodes = ReferralFlow.instance
    respond = nodes.node("respond")
    # Answering is the duty doctors' (of the centre, or of the centre it was escalated to); the later
    # steps are the centre's obstetric staff's too.
    centre_q = (
        Q(flow_task=respond) & (Q(process__referral__to_centre__institution__in=duty_ids)
                                | Q(process__referral__escalated_to__institution__in=duty_ids))
    ) | Q(flow_task__in=[nodes.node(n) for n in CENTRE_NODES + EITHER_NODES if n != "respond"],
          process__referral__to_centre__institution__in=centre_ids)
    sender_q = Q(flow_task__in=[nodes.node(n) for n in SENDER_NODES + EITHER_NODES],
                 process__referral__from_institution__in=sender_ids)
    return Task.objects.filter(centre_q | sender_q, status=STATUS.NEW).distinct()


def consultation_tasks_for(user: Any) -> QuerySet[Task]:
    """Open consultation requests addressed to the user, or to a centre the user serves."""
    from django.db.models import Q

    centre_ids = _acting_institution_ids(user, CENTRE_ROLES)
    return Task.objects.filter(
        Q(process__consultation__to_expert=user) | Q(process__consultation__to_centre__institution__in=centre_ids),
        flow_task=ConsultationFlow.answer, status=STATUS.NEW)
