"""An interview (约谈) as a viewflow flow over its state machine. Each waiting step is a ``Handle`` task
completed by the matching service in ``workflows/interview/services/interview.py``:

    start → decide (accept with the notice, or dismiss; a circular's answer skips to rectify) → hold (the minutes) → rectify (until every summoned
    party's rectification is verified or escalated) → end

The parties' own steps (acknowledge, plan, report, verification) are transitions of ``InterviewParty``; the
flow's ``rectify`` task is completed when the last party is done.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from viewflow import this
from viewflow.workflow import flow
from viewflow.workflow.lock import select_for_update_lock

from cases.models import Interview
from workflows.flows import register_flow

S = Interview.State


class InterviewFlow(flow.Flow):
    """Interview

    A bureau summons institutions or lower bureaus, they rectify, the bureau verifies.
    """

    process_title = _("Interview")
    lock_impl = select_for_update_lock

    start = flow.StartHandle(this.begin).Next(this.decide)
    decide = flow.Handle().Annotation(title=_("Issue the interview notice or dismiss the proposal")).Next(
        this.after_decide)
    after_decide = flow.Switch().Case(this.hold, this.is_notified).Case(this.rectify, this.is_answering).Default(
        this.end)
    hold = flow.Handle().Annotation(title=_("Hold the interview and record the minutes")).Next(this.rectify)
    rectify = flow.Handle().Annotation(title=_("Verify every party's rectification")).Next(this.end)
    end = flow.End()

    def begin(self, activation: Any, record: Interview) -> Any:
        return activation.process

    def is_notified(self, activation: Any) -> bool:
        return Interview.objects.filter(process=activation.process, state=S.NOTIFIED).exists()

    def is_answering(self, activation: Any) -> bool:
        """A circular's required answer goes straight to the rectification."""
        return Interview.objects.filter(process=activation.process, state=S.HELD).exists()


register_flow(Interview, InterviewFlow)
