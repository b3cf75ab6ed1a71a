"""The deadline engine: handlers, failures and retries, cancellation, working days, concurrent sweeps."""

from __future__ import annotations

import datetime as dt
import threading
import zoneinfo

import pytest
from django.db import connection, connections
from django.utils import timezone

from workflows.deadlines import (
    add_working_days,
    deadline_cancel,
    deadline_create,
    deadline_handler,
    deadlines_sweep,
)
from workflows.models import CalendarDay, Deadline

CALLS: list[str] = []
SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")


@deadline_handler("test.record")
def _record(deadline: Deadline) -> None:
    CALLS.append(str(deadline.pk))


@deadline_handler("test.flaky")
def _flaky(deadline: Deadline) -> None:
    if deadline.attempts < 1:
        raise RuntimeError("gateway down")
    CALLS.append(str(deadline.pk))


@pytest.fixture(autouse=True)
def _reset_calls():
    CALLS.clear()


def past(seconds: int = 1) -> dt.datetime:
    return timezone.now() - dt.timedelta(seconds=seconds)


@pytest.mark.django_db
def test_sweep_fires_only_due_deadlines_once_with_history():
    due = deadline_create(kind="test.record", due_at=past())
    later = deadline_create(kind="test.record", due_at=timezone.now() + dt.timedelta(hours=1))
    assert deadlines_sweep() == 1
    assert deadlines_sweep() == 0
    assert [str(due.pk)] == CALLS
    due.refresh_from_db()
    later.refresh_from_db()
    assert (due.state, later.state) == ("fired", "pending")
    assert [h.state for h in due.history.order_by("history_date")] == ["pending", "fired"]


@pytest.mark.django_db
def test_failing_handler_is_retried_and_keeps_the_error():
    deadline = deadline_create(kind="test.flaky", due_at=past())
    assert deadlines_sweep() == 0
    deadline.refresh_from_db()
    assert deadline.state == "pending" and deadline.attempts == 1 and "gateway down" in deadline.last_error
    assert deadlines_sweep() == 0  # waits for its retry time
    Deadline.objects.filter(pk=deadline.pk).update(retry_at=past())
    assert deadlines_sweep() == 1
    deadline.refresh_from_db()
    assert deadline.state == "fired" and [str(deadline.pk)] == CALLS


@pytest.mark.django_db
def test_cancel_is_a_recorded_transition_and_cancelled_never_fires(personas):
    deadline = deadline_create(kind="test.record", due_at=past())
    assert deadline_cancel(deadline=deadline, by=personas.users.mch_a, reason="case closed")
    assert not deadline_cancel(deadline=deadline, by=personas.users.mch_a, reason="again")
    assert deadlines_sweep() == 0 and CALLS == []
    row = Deadline.objects.get(pk=deadline.pk).history.latest()
    assert (row.state, row.history_user, row.history_change_reason) == ("cancelled", personas.users.mch_a,
                                                                         "case closed")


@pytest.mark.django_db
def test_unknown_kind_is_refused():
    with pytest.raises(ValueError):
        deadline_create(kind="no.such.kind", due_at=past())


@pytest.mark.django_db
def test_working_days_skip_weekends_and_holidays_and_count_make_up_days():
    # 2026-09-30 (Wednesday) 10:00 + 3 working days, around the National Day holiday.
    CalendarDay.objects.create(date=dt.date(2026, 10, 1), kind=CalendarDay.Kind.HOLIDAY, name="国庆节")
    CalendarDay.objects.create(date=dt.date(2026, 10, 2), kind=CalendarDay.Kind.HOLIDAY, name="国庆节")
    CalendarDay.objects.create(date=dt.date(2026, 10, 10), kind=CalendarDay.Kind.WORKDAY, name="国庆调休")
    start = dt.datetime(2026, 9, 30, 10, 0, tzinfo=SHANGHAI)
    assert add_working_days(start, 1) == dt.datetime(2026, 10, 5, 10, 0, tzinfo=SHANGHAI)
    for day in (3, 4, 5, 6, 7):
        CalendarDay.objects.create(date=dt.date(2026, 10, day), kind=CalendarDay.Kind.HOLIDAY, name="国庆节")
    assert add_working_days(start, 1) == dt.datetime(2026, 10, 8, 10, 0, tzinfo=SHANGHAI)
    assert add_working_days(start, 3) == dt.datetime(2026, 10, 10, 10, 0, tzinfo=SHANGHAI)  # Saturday 调休
    assert add_working_days(start, 0) == start


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_concurrent_sweeps_fire_each_deadline_exactly_once():
    if connection.vendor != "postgresql":
        pytest.skip("Concurrent sweeps need PostgreSQL (the CI PostgreSQL leg runs this).")
    deadlines = [deadline_create(kind="test.record", due_at=past()) for _ in range(60)]
    barrier = threading.Barrier(3)
    counts: list[int] = []

    def sweeper() -> None:
        barrier.wait()
        try:
            counts.append(deadlines_sweep())
        finally:
            connections.close_all()

    threads = [threading.Thread(target=sweeper) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(counts) == 60
    assert sorted(CALLS) == sorted(str(d.pk) for d in deadlines)
    assert Deadline.objects.filter(state="fired").count() == 60
