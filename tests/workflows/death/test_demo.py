"""The demo deaths: one at each stage, through the services, and idempotent."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from cases.models import DeathReport
from organisations.demo import seed_organisations
from workflows.death.demo import STAGES, seed_deaths
from workflows.demo import seed_women

pytestmark = pytest.mark.django_db


def test_one_demo_death_at_each_stage_and_idempotent():
    seed_organisations()
    seed_women(40)
    made = seed_deaths()
    assert made == len(STAGES)
    assert set(DeathReport.objects.values_list("state", flat=True)) == {stage for stage, _hours in STAGES}
    assert seed_deaths() == 0
    call_command("seed_demo_deaths")
    assert DeathReport.objects.count() == len(STAGES)
