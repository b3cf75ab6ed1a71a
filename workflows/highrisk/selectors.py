"""The high-risk process's list queries: the clinician's worklist (its tabs and counts) and its home-page
counts. The county's late-work overview reads across processes: workflows/registers/selectors.py."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Count, Exists, OuterRef, Q, QuerySet

from cases.models import HighRiskCase, Tracing
from cases.selectors import visible_highrisk_cases
from organisations.models import OBSTETRIC_ROLES
from organisations.selectors import acting_institutions


def worklist_filters(today: dt.date) -> dict[str, Q]:
    """The worklist's tabs over the cases of the doctor's institutions (besides "mine")."""
    open_tracing = Tracing.objects.filter(case=OuterRef("pk"), status=Tracing.Status.OPEN)
    return {
        "today": Q(next_visit_at=today),
        "week": Q(next_visit_at__gte=today, next_visit_at__lte=today + dt.timedelta(days=7)),
        "overdue": Q(next_visit_at__lt=today),
        "tracing": Q(Exists(open_tracing)),
        "unreported": Q(state=HighRiskCase.State.OPENED),
    }


def worklist_querysets(*, user: Any) -> tuple[QuerySet[HighRiskCase], QuerySet[HighRiskCase]]:
    """(the doctor's own open cases, the open cases of the institutions where she manages cases)."""

    mine = visible_highrisk_cases(user).filter(responsible_doctor=user, state__in=HighRiskCase.OPEN_STATES)
    institution_cases = visible_highrisk_cases(user).filter(institution__in=acting_institutions(user, OBSTETRIC_ROLES),
                                                            state__in=HighRiskCase.OPEN_STATES)
    return mine, institution_cases


def worklist_counts(*, user: Any, today: dt.date) -> dict[str, int]:
    """The worklist's tab counts: "mine", then the institution's tabs in one pass over its open cases (a
    COUNT per tab read a date index over the whole table for "overdue" and joined every tracing for
    "tracing": 70 and 45 ms at 1,000,000 cases, benchmarks/worklists.py)."""
    mine, institution_cases = worklist_querysets(user=user)
    return {"mine": mine.count(), **institution_cases.aggregate(
        **{name: Count("pk", filter=test) for name, test in worklist_filters(today).items()})}


def home_panels(*, user: Any) -> dict[str, Any]:
    """The home page's counts of a case doctor's own worklist (a HOME_PANELS hook)."""
    from django.utils import timezone

    if not acting_institutions(user, OBSTETRIC_ROLES):
        return {}
    return {"worklist_counts": worklist_counts(user=user, today=timezone.localdate())}
