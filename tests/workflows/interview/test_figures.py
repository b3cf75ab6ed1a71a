"""The figures a circular's ranking may freeze: improvement measures overdue, by owner institution."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from cases.models import ImprovementMeasure
from tests.workflows.death.helpers import investigated
from workflows.death import services as ds
from workflows.interview.figures import FIGURES

pytestmark = pytest.mark.django_db


def test_overdue_measures_are_counted_by_their_owner_and_a_measure_done_in_time_is_not(personas):
    report = investigated(personas)
    today = timezone.localdate()
    late, kept = (ds.death_measure_set(report=report, by=personas.users.mch_a, text=text, due_on=today,
                                       owner_institution=personas.inst.hospital_a) for text in ("输血通道", "培训"))
    ds.death_measure_mark_done(measure=kept, by=personas.users.obstetrician_a, evidence="已完成培训")
    ImprovementMeasure.objects.filter(pk__in=[late.pk, kept.pk]).update(due_on=today - dt.timedelta(days=10))
    ImprovementMeasure.objects.filter(pk=kept.pk).update(done_at=timezone.now() - dt.timedelta(days=12))
    figure = FIGURES["measures_overdue"]
    rows = figure.compute(personas.regions.fuzhou, today - dt.timedelta(days=30), today + dt.timedelta(days=1))
    assert [(institution.name, int(value)) for institution, value in rows] == [(personas.inst.hospital_a.name, 1)]
    assert figure.compute(personas.regions.xiamen, today - dt.timedelta(days=30), today) == []
