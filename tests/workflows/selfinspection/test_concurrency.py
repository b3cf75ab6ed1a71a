"""Two officers act on the same report at the same moment: one finalisation wins and the other is told the report
is finalised; two drafts of the same region and year make one report. Needs PostgreSQL (CI's leg)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from functools import partial
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, connections

from cases.models import SelfInspectionReport
from organisations.http import TransitionConflict
from workflows.selfinspection import services as svc

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

NARRATIVE = {"measures": "演练", "problems": "超时", "next_steps": "值班"}


def _at_once(calls: list[Callable[[], Any]]) -> list[str]:
    barrier = threading.Barrier(len(calls))
    outcomes = [""] * len(calls)

    def run(index: int, call: Callable[[], Any]) -> None:
        barrier.wait()
        try:
            call()
            outcomes[index] = "ok"
        except TransitionConflict:
            outcomes[index] = "conflict"
        except ValidationError:
            outcomes[index] = "invalid"
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return outcomes


def test_two_officers_finalising_at_once_one_wins(personas):  # type: ignore[no-untyped-def]
    if connection.vendor != "postgresql":
        pytest.skip("Concurrent steps need PostgreSQL (the CI PostgreSQL leg runs this).")
    u, r = personas.users, personas.regions
    for year in (2023, 2024, 2025):
        report = svc.selfinspection_create(by=u.mch_a, region=r.county_a, year=year)
        report = svc.selfinspection_update(report=report, by=u.mch_a, **NARRATIVE)
        outcomes = _at_once([partial(svc.selfinspection_finalise, report=report, by=u.mch_a),
                             partial(svc.selfinspection_finalise, report=report, by=u.bureau_a)])
        assert sorted(outcomes) == ["conflict", "ok"]
        final = SelfInspectionReport.objects.get(pk=report.pk)
        assert final.state == "finalised"
        assert final.history.filter(history_change_reason="report finalised").count() == 1


def test_two_drafts_at_once_make_one_report(personas):  # type: ignore[no-untyped-def]
    if connection.vendor != "postgresql":
        pytest.skip("Concurrent steps need PostgreSQL (the CI PostgreSQL leg runs this).")
    u, r = personas.users, personas.regions
    outcomes = _at_once([partial(svc.selfinspection_create, by=u.mch_a, region=r.county_a, year=2025),
                         partial(svc.selfinspection_create, by=u.bureau_a, region=r.county_a, year=2025)])
    assert sorted(outcomes) == ["invalid", "ok"]
    assert SelfInspectionReport.objects.filter(region=r.county_a, year=2025).count() == 1
