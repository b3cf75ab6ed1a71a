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

from django.utils.translation import gettext_lazy as _
from viewflow import this
from viewflow.workflow import flow
from viewflow.workflow.lock import select_for_update_lock

from cases.models import Consultation, Referral
from workflows.flows import register_flow


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
