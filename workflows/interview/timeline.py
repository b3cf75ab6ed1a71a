"""One chronological timeline of an interview (约谈时间线): every step of the interview and of each summoned
party, the evidence uploaded and the deadlines that passed, oldest first, read from the history rows.

The history of the interview and of its parties is the audit trail (who, when, which state); this module
only reads it, in a fixed number of queries whatever the number of parties and steps.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from cases.models import Interview, InterviewAttachment, InterviewParty
from workflows.interview.services.interview import ACKNOWLEDGE_DUE, PASSED, PLAN_DUE, REPORT_DUE
from workflows.models import Deadline


@dataclass(frozen=True)
class Entry:
    at: dt.datetime
    kind: str  # "interview", "party", "evidence" or "deadline": the page styles them apart
    title: str
    party: str = ""
    who: str = ""
    detail: str = ""


def _person(user: Any) -> str:
    return (getattr(user, "name", "") or getattr(user, "username", "")) if user is not None else ""


def _state_changes(rows: list[Any]) -> list[tuple[Any, Any]]:
    """(row, previous row) for each history row whose state differs from the one before (creation included)."""
    changes, previous = [], None
    for row in rows:
        if previous is None or row.state != previous.state:
            changes.append((row, previous))
        previous = row
    return changes


def _interview_detail(row: Any) -> str:
    if row.state == Interview.State.NOTIFIED:
        when = timezone.localtime(row.scheduled_at).strftime("%Y-%m-%d %H:%M") if row.scheduled_at else ""
        return " · ".join(part for part in (row.number, when, row.place) if part)
    if row.state == Interview.State.DISMISSED:
        return row.dismiss_reason
    if row.state == Interview.State.HELD:
        return row.requirements
    return ""


def _party_detail(row: Any, previous: Any) -> str:
    state = InterviewParty.State
    if row.state == state.PLAN_DUE and previous is not None and previous.state == state.PLAN_SUBMITTED:
        return _("Returned: %(reason)s") % {"reason": row.plan_return_reason}
    if row.state in InterviewParty.DONE_STATES:
        return " · ".join(part for part in (row.findings, row.escalation) if part)
    return ""


_DEADLINE_TITLES = {
    ACKNOWLEDGE_DUE: gettext_lazy("The acknowledgement is overdue"),
    PLAN_DUE: gettext_lazy("The rectification plan is overdue"),
    REPORT_DUE: gettext_lazy("The rectification report is overdue"),
}


def interview_timeline(interview: Interview) -> list[Entry]:
    """Every dated event of ``interview`` oldest first (ties keep: interview, party, evidence, deadline)."""
    parties = {party.pk: party for party in interview.parties.select_related("institution")}
    interview_rows = list(interview.history.order_by("history_date", "history_id").select_related("history_user"))
    party_rows = list(InterviewParty.history.filter(interview_id=interview.pk)
                      .order_by("history_date", "history_id").select_related("history_user"))
    entries: list[Entry] = []
    for row, _previous in _state_changes(interview_rows):
        title = (_("Proposed by Anmu") if row.state == Interview.State.PROPOSED and row.history_user_id is None
                 else row.get_state_display())
        entries.append(Entry(row.history_date, "interview", title, who=_person(row.history_user),
                             detail=_interview_detail(row)))
    by_party: dict[Any, list[Any]] = {}
    for row in party_rows:
        by_party.setdefault(row.id, []).append(row)
    for party_id, rows in by_party.items():
        name = parties[party_id].institution.name if party_id in parties else ""
        for row, previous in _state_changes(rows):
            entries.append(Entry(row.history_date, "party", row.get_state_display(), party=name,
                                 who=_person(row.history_user), detail=_party_detail(row, previous)))
    for attachment in (InterviewAttachment.objects.filter(party__interview=interview)
                       .select_related("uploaded_by", "party__institution")):
        entries.append(Entry(attachment.uploaded_at, "evidence", _("Evidence added"),
                             party=attachment.party.institution.name, who=_person(attachment.uploaded_by),
                             detail=attachment.name))
    party_type = ContentType.objects.get_for_model(InterviewParty)
    fired = Deadline.objects.filter(subject_type=party_type, subject_id__in=[str(pk) for pk in parties],
                                    kind__in=list(_DEADLINE_TITLES), fired_at__isnull=False,
                                    payload__stage=PASSED)
    for deadline in fired:
        party = parties.get(_uuid(deadline.subject_id))
        if deadline.fired_at is None:  # excluded by the filter; for the type checker
            continue
        entries.append(Entry(deadline.fired_at, "deadline", str(_DEADLINE_TITLES[deadline.kind]),
                             party=party.institution.name if party else ""))
    order = {"interview": 0, "party": 1, "evidence": 2, "deadline": 3}
    return sorted(entries, key=lambda entry: (entry.at, order[entry.kind]))


def _uuid(value: str) -> Any:
    try:
        return uuid.UUID(value)
    except ValueError:
        return value
