"""Maternal death reporting and review as a viewflow flow over the report's state machine.

Each waiting step is a ``Handle`` task completed by the matching service in
``workflows/death/services.py`` (which runs the report's named transition first):

    start → report (the institution) → verify (the county MCH officer) → ┬ confirmed → investigate
                    ↑                                                     └ returned → back to report
    investigate → review (one task per level: county, city, province as required) → close → end

An excluded report cancels its process. A closed report that a provincial officer unlocks has no process
task any more: its state machine alone carries the renewed review (``flow_complete`` returns None).
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from viewflow import this
from viewflow.workflow import flow
from viewflow.workflow.lock import select_for_update_lock

from cases.models import DeathReport
from workflows.flows import register_flow

S = DeathReport.State


class DeathFlow(flow.Flow):
    """Maternal death report

    A maternal death is reported by the institution, verified and investigated by the county MCH
    institute, reviewed level by level, and closed.
    """

    process_title = _("Maternal death report")
    lock_impl = select_for_update_lock

    start = flow.StartHandle(this.begin).Next(this.report)
    report = flow.Handle().Annotation(title=_("Report the maternal death")).Next(this.verify)
    verify = flow.Handle().Annotation(title=_("Verify the death report card")).Next(this.after_verify)
    after_verify = (
        flow.Switch()
        .Case(this.investigate, this.is_verified)
        .Case(this.report, this.is_returned)
        .Default(this.end)
    )
    investigate = flow.Handle().Annotation(title=_("Investigate the death")).Next(this.review)
    review = flow.Handle().Annotation(title=_("Review the death")).Next(this.after_review)
    after_review = flow.Switch().Case(this.review, this.is_in_review).Default(this.close)
    close = flow.Handle().Annotation(title=_("Close the death report")).Next(this.end)
    end = flow.End()

    def begin(self, activation: Any, record: DeathReport) -> Any:
        return activation.process

    def _in(self, activation: Any, *states: str) -> bool:
        return DeathReport.objects.filter(process=activation.process, state__in=states).exists()

    def is_verified(self, activation: Any) -> bool:
        return self._in(activation, S.VERIFIED)

    def is_returned(self, activation: Any) -> bool:
        return self._in(activation, S.RETURNED)

    def is_in_review(self, activation: Any) -> bool:
        return self._in(activation, *DeathReport.REVIEW_STATES.values())


register_flow(DeathReport, DeathFlow)
