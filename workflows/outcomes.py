"""A maternal death, recorded wherever it happens: on a high-risk case, as a referral's outcome, or (with
the death-report process) on any pregnancy. Every process may call :func:`pregnancy_end_by_death`, so it
lives below them all; what each process does about it is a hook registered in ``workflows/apps.py``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from cases.models import (
    Assessment,
    AssessmentReferral,
    CaseTransfer,
    Consultation,
    ContinuationEvaluation,
    HighRiskCase,
    Pregnancy,
    Referral,
    Tracing,
)
from notifications.models import Alert
from notifications.services import alerts_close_stale
from workflows.common import save_with_history

# The processes that hold open work on a pregnancy end it, in order, inside the transaction that records the
# death, with (pregnancy=, by=, at=, note=). The high-risk process ends her open case and returns it; a hook
# with nothing to end returns None.
DEATH_REACTIONS: list[Any] = []

# The death-report process registers here the function that starts its report. Every recorded maternal
# death runs each hook inside the transaction that records it, with (pregnancy=, case=, by=, source=):
# ``case`` is the high-risk case or None, ``source`` the record where the death was recorded (the case,
# or a referral that ended in death at a rescue centre).
MATERNAL_DEATH_HOOKS: list[Any] = []


def case_alert_subjects(case: HighRiskCase) -> list[Any]:
    """The records whose alerts are about this case: the case, its tracings and its transfers."""
    return [case, *Tracing.objects.filter(case=case).only("pk"), *CaseTransfer.objects.filter(case=case).only("pk")]


def pregnancy_alert_subjects(pregnancy: Pregnancy) -> list[Any]:
    """Every record of this pregnancy that alerts can be about."""
    subjects: list[Any] = [pregnancy]
    case = HighRiskCase.objects.filter(pregnancy=pregnancy).first()
    if case is not None:
        subjects += case_alert_subjects(case)
    for model in (Referral, Consultation, AssessmentReferral, ContinuationEvaluation, Assessment):
        subjects += list(model.objects.filter(pregnancy=pregnancy).only("pk"))  # type: ignore[attr-defined]
    return subjects


def pregnancy_end_by_death(*, pregnancy: Pregnancy, by: Any, at: dt.datetime, note: str,
                           source: Any) -> HighRiskCase | None:
    """The shared part of recording a maternal death wherever it is recorded (no permission check: the
    caller has made it): the pregnancy is marked, each process ends its open work on her (her high-risk
    case ends with its visits, deadlines and pending transfer), and the death-report hooks run. Returns the
    high-risk case, if any."""
    pregnancy = Pregnancy.objects.select_for_update(of=("self",)).get(pk=pregnancy.pk)
    if pregnancy.status in (Pregnancy.Status.ONGOING, Pregnancy.Status.DELIVERED):
        pregnancy.record_death()
        save_with_history(pregnancy, by=by, reason="maternal death")
    # Nothing asked about her stays open (the death alerts raised next are about the death itself; the
    # news of a withdrawn transfer is raised by the reactions, after this).
    alerts_close_stale(subjects=pregnancy_alert_subjects(pregnancy), reason=Alert.CloseReason.WOMAN_DIED, by=by)
    case = None
    for react in DEATH_REACTIONS:
        case = react(pregnancy=pregnancy, by=by, at=at, note=note) or case
    if case is None:
        case = HighRiskCase.objects.filter(pregnancy=pregnancy).first()
    for hook in MATERNAL_DEATH_HOOKS:
        hook(pregnancy=pregnancy, case=case, by=by, source=source)
    return case
