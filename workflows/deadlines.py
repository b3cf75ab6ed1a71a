"""The deadline engine: create, cancel and sweep deadline rows; working-day arithmetic.

Handlers are registered per kind with :func:`deadline_handler`. The sweep is idempotent and safe to
run several times at once: on PostgreSQL each due row is taken with ``SELECT … FOR UPDATE SKIP
LOCKED``; on SQLite with a conditional UPDATE claim (SQLite's IMMEDIATE transactions serialise
writers anyway). The handler runs in the same transaction that marks the row fired, so a handler that
fails leaves the row pending, and it is retried later with the error kept on the row.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Callable
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import connection, models, transaction
from django.utils import timezone

from workflows.models import CalendarDay, Deadline

logger = logging.getLogger(__name__)

Handler = Callable[[Deadline], None]
_HANDLERS: dict[str, Handler] = {}
RETRY_DELAYS = (30, 120, 600, 1800)  # seconds after the 1st, 2nd, 3rd, later failures


def deadline_handler(kind: str) -> Callable[[Handler], Handler]:
    """Register the function that runs when a deadline of ``kind`` falls due."""

    def register(function: Handler) -> Handler:
        if kind in _HANDLERS and _HANDLERS[kind] is not function:
            raise ValueError(f"A handler for deadline kind {kind!r} is already registered.")
        _HANDLERS[kind] = function
        return function

    return register


def deadline_handler_for(kind: str) -> Handler | None:
    return _HANDLERS.get(kind)


def deadline_create(
    *, kind: str, due_at: dt.datetime, subject: models.Model | None = None, payload: dict[str, Any] | None = None,
    reason: str = "",
) -> Deadline:
    if kind not in _HANDLERS:
        raise ValueError(f"No handler registered for deadline kind {kind!r}.")
    deadline = Deadline(
        kind=kind,
        due_at=due_at,
        subject_type=ContentType.objects.get_for_model(subject) if subject is not None else None,
        subject_id=str(subject.pk) if subject is not None else "",
        payload=payload or {},
    )
    deadline._change_reason = reason or kind  # type: ignore[attr-defined]
    deadline.save()
    return deadline


def deadlines_for(subject: models.Model, *, kind: str | None = None, pending_only: bool = True) -> models.QuerySet[Deadline]:
    qs = Deadline.objects.filter(subject_type=ContentType.objects.get_for_model(subject), subject_id=str(subject.pk))
    if kind is not None:
        qs = qs.filter(kind=kind)
    if pending_only:
        qs = qs.filter(state=Deadline.State.PENDING)
    return qs


def deadline_cancel(*, deadline: Deadline, by: Any = None, reason: str) -> bool:
    """Cancel a pending deadline. Returns False when it already fired or was cancelled."""
    with transaction.atomic():
        locked = Deadline.objects.select_for_update().filter(pk=deadline.pk, state=Deadline.State.PENDING).first()
        if locked is None:
            return False
        locked.cancel(at=timezone.now(), reason=reason)
        locked._history_user = by  # type: ignore[attr-defined]
        locked._change_reason = reason[:100]  # type: ignore[attr-defined]
        locked.save()
    return True


def deadlines_cancel_for(subject: models.Model, *, kind: str | None = None, by: Any = None, reason: str) -> int:
    return sum(deadline_cancel(deadline=d, by=by, reason=reason) for d in deadlines_for(subject, kind=kind))


def _due(now: dt.datetime) -> models.QuerySet[Deadline]:
    return Deadline.objects.filter(state=Deadline.State.PENDING, due_at__lte=now).filter(
        models.Q(retry_at__isnull=True) | models.Q(retry_at__lte=now)
    ).order_by("due_at", "id")


def _take_one(now: dt.datetime, skip: set[uuid.UUID]) -> Deadline | None:
    """Inside a transaction: lock or claim one due deadline that no other sweep holds."""
    if connection.features.has_select_for_update_skip_locked:
        return _due(now).exclude(pk__in=skip).select_for_update(skip_locked=True).first()
    for candidate in _due(now).exclude(pk__in=skip).values_list("pk", flat=True)[:20]:
        token = uuid.uuid4()
        claimed = Deadline.objects.filter(pk=candidate, state=Deadline.State.PENDING, claim__isnull=True).update(
            claim=token
        )
        if claimed:
            return Deadline.objects.get(pk=candidate)
    return None


def deadlines_sweep(*, now: dt.datetime | None = None, limit: int = 500) -> int:
    """Fire every due deadline (at most ``limit``); return how many fired. Safe to run concurrently."""
    fired = 0
    failed: set[uuid.UUID] = set()
    while fired + len(failed) < limit:
        moment = now or timezone.now()
        error: Exception | None = None
        deadline_id: uuid.UUID | None = None
        try:
            with transaction.atomic():
                deadline = _take_one(moment, failed)
                if deadline is None:
                    break
                deadline_id = deadline.pk
                handler = _HANDLERS.get(deadline.kind)
                if handler is None:
                    raise LookupError(f"no handler for deadline kind {deadline.kind!r}")
                handler(deadline)
                deadline.claim = None
                deadline.fire(at=moment)
                deadline._change_reason = "deadline fired"  # type: ignore[attr-defined]
                deadline.save()
                fired += 1
        except Exception as exc:  # a failing handler must not stop the other deadlines
            error = exc
        if error is not None and deadline_id is not None:
            failed.add(deadline_id)
            _record_failure(deadline_id, error, moment)
        elif error is not None:
            raise error
    return fired


def _record_failure(deadline_id: uuid.UUID, error: Exception, now: dt.datetime) -> None:
    logger.exception("deadline %s failed: %s", deadline_id, type(error).__name__, exc_info=error)
    deadline = Deadline.objects.get(pk=deadline_id)
    delay = RETRY_DELAYS[min(deadline.attempts, len(RETRY_DELAYS) - 1)]
    # Bookkeeping only: the state does not change, so no history row is needed.
    Deadline.objects.filter(pk=deadline_id).update(
        attempts=models.F("attempts") + 1,
        retry_at=now + dt.timedelta(seconds=delay),
        last_error=f"{type(error).__name__}: {error}"[:500],
        claim=None,
    )


# --- Working days ---------------------------------------------------------------------------------

def is_working_day(day: dt.date, *, exceptions: dict[dt.date, str] | None = None) -> bool:
    if exceptions is None:
        exceptions = dict(CalendarDay.objects.filter(date=day).values_list("date", "kind"))
    kind = exceptions.get(day)
    if kind == CalendarDay.Kind.HOLIDAY:
        return False
    if kind == CalendarDay.Kind.WORKDAY:
        return True
    return day.weekday() < 5


def add_working_days(start: dt.datetime, days: int) -> dt.datetime:
    """The same local time of day on the ``days``-th working day after ``start`` (holidays and 调休
    make-up days from the editable calendar)."""
    if days < 0:
        raise ValueError("days must not be negative")
    local = timezone.localtime(start)
    horizon = local.date() + dt.timedelta(days=days * 3 + 60)
    exceptions = dict(CalendarDay.objects.filter(date__gt=local.date(), date__lte=horizon).values_list("date", "kind"))
    day = local.date()
    remaining = days
    while remaining:
        day += dt.timedelta(days=1)
        if is_working_day(day, exceptions=exceptions):
            remaining -= 1
    return local.replace(year=day.year, month=day.month, day=day.day)


def due_after(start: dt.datetime, *, hours: float | None = None, minutes: float | None = None,
              working_days: int | None = None) -> dt.datetime:
    """A due time counted in hours/minutes of the clock, or in working days."""
    if working_days is not None:
        return add_working_days(start, working_days)
    return start + dt.timedelta(hours=hours or 0, minutes=minutes or 0)
