"""The first-look demo interview: held, the hospital's plan awaiting the bureau, the province's trigger rules."""

from __future__ import annotations

import pytest

from cases.models import Interview, InterviewParty, InterviewTrigger

pytestmark = pytest.mark.django_db


def test_the_demo_interview_is_in_progress_and_idempotent():
    from organisations.demo import seed_organisations
    from workflows.interview.demo import seed_interviews

    seed_organisations()
    assert seed_interviews() == 1
    interview = Interview.objects.get()
    assert interview.state == Interview.State.HELD and interview.bureau.name == "闽侯县卫生健康局"
    states = dict(InterviewParty.objects.values_list("institution__name", "state"))
    assert states["闽侯县医院"] == InterviewParty.State.PLAN_SUBMITTED
    assert set(states.values()) == {InterviewParty.State.PLAN_SUBMITTED, InterviewParty.State.PLAN_DUE}
    assert InterviewTrigger.objects.filter(is_active=True).count() == 5
    rule = InterviewTrigger.objects.get(kind=InterviewTrigger.Kind.INDICATOR_OFF_TARGET)
    rule.full_clean()  # names a seeded indicator
    assert rule.indicator == "system_management_rate" and rule.party == InterviewTrigger.Party.COUNTY_BUREAU
    assert seed_interviews() == 0 and Interview.objects.count() == 1


def test_the_demo_targets_are_set_once_and_judge_the_demo_year():
    import datetime as dt

    from django.utils import timezone

    from indicators.demo import seed_targets
    from indicators.services import figures
    from organisations.demo import seed_organisations
    from organisations.models import Region
    from workflows.routine.demo import seed_routine

    seed_organisations()
    seed_routine()
    assert seed_targets() == 2 and seed_targets() == 0
    today = timezone.localdate()
    data = figures(region=Region.objects.get(code="350000"), date_from=today - dt.timedelta(days=364), date_to=today)
    managed = data["indicators"]["system_management_rate"]
    assert managed["denominator"] > 0 and managed["target"]["value"] == 95.0 and managed["target"]["met"] in (
        True, False)


def test_the_first_look_has_the_interview_beside_the_circulars_required_answer():
    from django.core.management import call_command

    call_command("seed_demo", "--first-look", verbosity=0)
    origins = sorted(Interview.objects.values_list("origin", flat=True))
    assert origins == [Interview.Origin.CIRCULAR, Interview.Origin.OFFICER]
