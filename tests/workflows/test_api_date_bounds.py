"""Dates and times a person or a system types into the API are bounded (1900-01-01 to 2100-12-31,
workflows/api.py): year 9999 is a typo, and the date arithmetic behind a due date or a deadline overflows on
it. Each input field answers a field error outside the bounds and accepts a date inside them."""

from __future__ import annotations

import importlib

import pytest
from django.utils import translation

FIELDS = [
    ("workflows.death.api", "CreateSerializer", "died_at", "datetime"),
    ("workflows.death.api_measures", "MeasureCreateSerializer", "due_on", "date"),
    ("workflows.death.api_panels", "MeetingCreateSerializer", "held_on", "date"),
    ("workflows.evaluation.api", "EvaluationVisitInSerializer", "visited_on", "date"),
    ("workflows.interview.api_circular", "CircularInSerializer", "period_from", "date"),
    ("workflows.interview.api_circular", "CircularInSerializer", "period_to", "date"),
    ("workflows.interview.api_circular", "CircularSubjectInSerializer", "answer_due_on", "date"),
    ("workflows.interview.api_circular", "CircularRankingInSerializer", "period_from", "date"),
    ("workflows.interview.api_circular", "CircularRankingInSerializer", "period_to", "date"),
    ("workflows.interview.api_interview", "InterviewNotifySerializer", "scheduled_at", "datetime"),
    ("workflows.referral.api", "AcceptSerializer", "expected_arrival_at", "datetime"),
    ("workflows.referral.api", "DepartSerializer", "at", "datetime"),
    ("workflows.referral.api", "ArriveSerializer", "at", "datetime"),
    ("workflows.referral.api", "OutcomeSerializer", "at", "datetime"),
    ("workflows.highrisk.api", "DeathSerializer", "at", "datetime"),
    ("workflows.routine.api", "DeliverySerializer", "delivered_at", "datetime"),
    ("workflows.routine.api", "RoutineVisitRecordSerializer", "date", "date"),
    ("workflows.screening.api_records", "PregnancyBookSerializer", "lmp", "date"),
]
VALUES = {"date": ("9999-12-31", "1899-12-31", "2026-11-20"),
          "datetime": ("9999-12-31T10:00:00+08:00", "1066-10-14T09:00:00+08:00", "2026-11-20T03:40:00+08:00")}


@pytest.mark.parametrize(("module", "name", "field", "kind"), FIELDS)
def test_a_date_out_of_bounds_is_a_field_error(module, name, field, kind, rf):  # type: ignore[no-untyped-def]
    serializer_class = getattr(importlib.import_module(module), name)
    late, early, fine = VALUES[kind]
    with translation.override("zh-hans"):
        for wrong in (late, early):
            serializer = serializer_class(data={field: wrong}, context={"request": rf.get("/")})
            assert not serializer.is_valid()
            assert field in serializer.errors, (wrong, serializer.errors)
            assert any("2100" in str(m) or "1900" in str(m) for m in serializer.errors[field]), serializer.errors
        serializer = serializer_class(data={field: fine}, context={"request": rf.get("/")})
        serializer.is_valid()
        assert field not in serializer.errors, serializer.errors
