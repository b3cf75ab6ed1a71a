"""Two deaths recorded at once in one county get consecutive anonymous case numbers, never the same one
(the county row is locked while the number is taken). Needs PostgreSQL (CI's PostgreSQL leg)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.utils import timezone

from cases.models import DeathReport, Pregnancy
from tests.personas import book_woman
from tests.workflows.highrisk.test_concurrency import race
from workflows.death import services as ds

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_deaths_recorded_at_once_in_one_county_get_distinct_consecutive_numbers(national_data, personas):
    if connection.vendor != "postgresql":
        pytest.skip("Concurrent creation needs PostgreSQL (the CI PostgreSQL leg runs this).")
    doctor, hospital = personas.users.obstetrician_a, personas.inst.hospital_a
    for _round in range(10):
        pregnancies = [Pregnancy.objects.get(woman=book_woman(at=hospital)) for _ in range(2)]
        results = race(*[
            lambda p=p: ds.pregnancy_record_death(pregnancy=p, by=doctor, institution=hospital,
                                                  died_at=timezone.now() - dt.timedelta(hours=1), note="产后出血")
            for p in pregnancies])
        assert [kind for kind, _value in results] == ["ok", "ok"], results
    numbers = sorted(DeathReport.objects.values_list("review_number", flat=True))
    year = timezone.localdate().year
    assert numbers == [f"{personas.regions.county_a.code}-{year}-{n:03d}" for n in range(1, 21)]
