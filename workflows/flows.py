"""How Anmu's services drive viewflow flows.

Each process's record (a case transfer, a referral, ...) carries its own django-fsm state and a
one-to-one link to a viewflow ``Process``. The flow's waiting steps are ``flow.Handle`` nodes: an open
(NEW) task says whose move it is. A service runs its named transition on the record, inside the same
transaction completes the matching task (viewflow takes ``select_for_update_lock`` on the process
row), and the flow creates the next task. Views and the API never touch tasks directly.

Inboxes are built from the open task rows joined to the records they belong to and filtered by the
same scoping selectors as everything else, so a centre's duty doctors see only the tasks addressed to
their centre (viewflow's plain ``.Permission()`` would show every holder of a permission every task).
"""

from __future__ import annotations

from typing import Any

from django.db import models
from viewflow.workflow.base import Flow
from viewflow.workflow.models import Process, Task
from viewflow.workflow.status import PROCESS, STATUS

_FLOWS: dict[type[models.Model], type[Flow]] = {}


def register_flow(model: type[models.Model], flow_class: type[Flow]) -> None:
    """``model`` (which has a nullable one-to-one ``process`` to ``viewflow.Process``) runs ``flow_class``."""
    _FLOWS[model] = flow_class


def flow_of(record: Any) -> type[Flow]:
    return _FLOWS[type(record)]


def flow_start(record: Any) -> Process:
    """Start ``record``'s flow and link the new process to it (inside the caller's transaction)."""
    flow_class = flow_of(record)
    process = flow_class.start.run(record=record)  # type: ignore[attr-defined]
    record.process = process
    type(record).objects.filter(pk=record.pk).update(process=process)
    return process


def flow_complete(record: Any, node_name: str) -> Task | None:
    """Complete the open task of ``node_name`` for ``record``; the flow moves to its next node.

    Records created before their flow existed have no process; the state machine alone then carries
    them (returns None).
    """
    if record.process_id is None:
        return None
    flow_class = flow_of(record)
    node = flow_class.instance.node(node_name)
    task = Task.objects.filter(process_id=record.process_id, flow_task=node, status=STATUS.NEW).first()
    if task is None:
        return None
    node.run(task)  # type: ignore[union-attr]
    return task


def flow_cancel(record: Any) -> None:
    """Cancel the record's process and its open tasks (the record's own transition says why)."""
    if record.process_id is None:
        return
    flow_class = flow_of(record)
    process = Process.objects.get(pk=record.process_id)
    if process.status in (PROCESS.DONE, PROCESS.CANCELED):
        return
    flow_class.instance.cancel(process)

