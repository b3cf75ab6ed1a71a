"""The case transfer as a viewflow flow: requested → the receiving institution answers → end.

The answer (accept naming the new responsible doctor, or reject with a reason) is the open ``answer``
task, completed by ``case_transfer_accept`` / ``case_transfer_reject``; a withdrawn transfer cancels the
process. The receiving institution's inbox lists the open ``answer`` tasks of transfers addressed to it.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _
from viewflow import this
from viewflow.workflow import flow
from viewflow.workflow.lock import select_for_update_lock
from viewflow.workflow.status import STATUS

from cases.models import CaseTransfer
from organisations.models import OBSTETRIC_ROLES
from organisations.selectors import acting_institution_ids
from workflows.flows import register_flow


class TransferFlow(flow.Flow):
    """Case transfer

    A high-risk case moves to another institution, which names the new responsible doctor.
    """

    process_title = _("Case transfer")
    lock_impl = select_for_update_lock

    start = flow.StartHandle(this.begin).Next(this.answer)
    answer = flow.Handle().Annotation(title=_("Answer the transfer")).Next(this.end)
    end = flow.End()

    def begin(self, activation: Any, record: CaseTransfer) -> Any:
        return activation.process


register_flow(CaseTransfer, TransferFlow)


def transfers_awaiting(user: Any) -> QuerySet[CaseTransfer]:
    """The receiving institution's inbox: transfers whose open ``answer`` task is addressed to an
    institution where ``user`` is an active obstetrician or duty doctor."""

    institutions = acting_institution_ids(user, OBSTETRIC_ROLES)
    return CaseTransfer.objects.filter(
        status=CaseTransfer.Status.REQUESTED, to_institution__in=institutions,
        process__task__flow_task=TransferFlow.answer, process__task__status=STATUS.NEW)
