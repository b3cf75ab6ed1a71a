from __future__ import annotations

import datetime as dt

from django.utils import timezone

from organisations.models import DutyShift, Institution


def put_on_roster(user, institution: Institution, *, kind: str = DutyShift.Kind.DUTY, hours: int = 8,
                  start: dt.datetime | None = None) -> DutyShift:
    start = start or timezone.now() - dt.timedelta(hours=1)
    return DutyShift.objects.create(institution=institution, user=user, kind=kind, starts_at=start,
                                    ends_at=start + dt.timedelta(hours=hours))


def move_deadlines_into_past(queryset) -> None:  # type: ignore[no-untyped-def]
    queryset.update(due_at=timezone.now() - dt.timedelta(seconds=1))
