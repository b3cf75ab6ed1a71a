"""The demo deaths: one at each stage, through the services, and idempotent."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from cases.models import DeathReport, DeathReviewConclusion, ReviewMeeting
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
    # One county meeting: the death under county review on its agenda, one conclusion with its 12-cell table.
    meeting = ReviewMeeting.objects.get()
    assert meeting.level == "county" and meeting.region.name == "闽侯县"
    assert meeting.reports.filter(state=DeathReport.State.REVIEW_COUNTY).count() == 1
    concluded = DeathReviewConclusion.objects.get(meeting=meeting)
    assert concluded.has_table and concluded.health_system_resources is True and concluded.delay_receiving is True
    assert concluded.opinions.count() == 2
    assert seed_deaths() == 0
    call_command("seed_demo_deaths")
    assert DeathReport.objects.count() == len(STAGES)
    assert ReviewMeeting.objects.count() == 1
