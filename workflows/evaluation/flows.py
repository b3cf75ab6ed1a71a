"""One submission of an evaluation round as a viewflow flow over its state machine. Each waiting step is a
``Handle`` task completed by the matching service in ``workflows/evaluation/services.py``:

    start → submit (the self-evaluation) → evaluate (the level above: returned → submit again; passed → end;
    failed → rectify) → rectify (the interview's rectification steps, then the re-evaluation) → end

De-listing happens at the re-evaluation; restoring a de-listed centre later is a transition of the submission
after its flow has ended.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from viewflow import this
from viewflow.workflow import flow
from viewflow.workflow.lock import select_for_update_lock

from cases.models import EvaluationSubmission
from workflows.flows import register_flow

S = EvaluationSubmission.State


class EvaluationFlow(flow.Flow):
    """Evaluation

    A subject self-evaluates, the level above evaluates it; a failing subject rectifies and is re-evaluated.
    """

    process_title = _("Evaluation")
    lock_impl = select_for_update_lock

    start = flow.StartHandle(this.begin).Next(this.submit)
    submit = flow.Handle().Annotation(title=_("Self-evaluate and submit")).Next(this.evaluate)
    evaluate = flow.Handle().Annotation(title=_("Evaluate the submission")).Next(this.after_evaluate)
    after_evaluate = flow.Switch().Case(this.submit, this.is_returned).Case(this.rectify, this.is_failed).Default(
        this.end)
    rectify = flow.Handle().Annotation(title=_("Rectify, then re-evaluate")).Next(this.end)
    end = flow.End()

    def begin(self, activation: Any, record: EvaluationSubmission) -> Any:
        return activation.process

    def is_returned(self, activation: Any) -> bool:
        return EvaluationSubmission.objects.filter(process=activation.process, state=S.DRAFT).exists()

    def is_failed(self, activation: Any) -> bool:
        return EvaluationSubmission.objects.filter(process=activation.process, state=S.FAILED).exists()


register_flow(EvaluationSubmission, EvaluationFlow)
