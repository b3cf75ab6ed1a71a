"""The legal clocks fired by the sweep: the reminder before, the critical alert when missed, then the city and
the province told; a step taken in time stops its clock."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from notifications.models import Alert
from tests.notifications.helpers import move_deadlines_into_past
from tests.workflows.death.helpers import alerts, died_on_case, reported, reviewers
from workflows.deadlines import deadlines_for, deadlines_sweep
from workflows.death import services as ds
from workflows.models import Deadline

pytestmark = pytest.mark.django_db


def fire(report, kind, stage):  # type: ignore[no-untyped-def]
    move_deadlines_into_past(deadlines_for(report, kind=kind).filter(payload__stage=stage))
    deadlines_sweep()


def test_the_24_hour_report_clock_reminds_alerts_and_escalates_to_city_and_province(personas):
    r = reviewers(personas)
    report = died_on_case(personas)
    stages = set(deadlines_for(report, kind=ds.REPORT_DUE).values_list("payload__stage", flat=True))
    assert stages == {"warn", "passed"}
    fire(report, ds.REPORT_DUE, "warn")
    urgent = alerts("death.report_due", priority=Alert.Priority.URGENT)
    assert {"obstetrician_a", "duty_a", "mch_a"} <= urgent and "mch_b" not in urgent
    fire(report, ds.REPORT_DUE, "passed")
    critical = alerts("death.report_due", priority=Alert.Priority.CRITICAL)
    assert {"obstetrician_a", "mch_a"} <= critical and "bureau_city" not in critical
    fire(report, ds.REPORT_DUE, "city")
    assert {"bureau_city", r.mch_city.username} <= alerts("death.report_due", priority=Alert.Priority.CRITICAL)
    assert "bureau_province" not in alerts("death.report_due")
    fire(report, ds.REPORT_DUE, "province")
    assert {"bureau_province", r.mch_province.username} <= alerts("death.report_due")
    assert "bureau_gd" not in alerts("death.report_due")
    # Reporting late closes every one of them, naming who reported.
    from tests.workflows.death.helpers import CARD

    ds.death_report_update_card(report=report, by=personas.users.obstetrician_a, data=CARD)
    ds.death_report_report(report=report, by=personas.users.obstetrician_a)
    assert not Alert.objects.filter(kind="death.report_due", acknowledged_at__isnull=True).exists()
    assert not deadlines_for(report, kind=ds.REPORT_DUE).exists()


def test_the_2_day_card_clock_runs_until_the_county_confirms(personas):
    report = reported(personas)
    assert not deadlines_for(report, kind=ds.REPORT_DUE).exists()  # reported in time: no report alert ever
    fire(report, ds.CARD_DUE, "passed")
    assert {"obstetrician_a", "mch_a"} <= alerts("death.card_due", priority=Alert.Priority.CRITICAL)
    assert not Alert.objects.filter(kind="death.report_due").exists()
    ds.death_report_verify(report=report, by=personas.users.mch_a)
    assert not Alert.objects.filter(kind="death.card_due", acknowledged_at__isnull=True).exists()
    assert deadlines_for(report, kind=ds.CARD_DUE).count() == 0


def test_a_clock_whose_step_was_taken_does_not_fire_and_the_sweep_is_idempotent(personas):
    report = reported(personas)
    ds.death_report_verify(report=report, by=personas.users.mch_a)
    # A row left pending (e.g. made before the step) finds its step taken and raises nothing.
    Deadline.objects.create(kind=ds.CARD_DUE, subject_type=deadlines_for(report).first().subject_type,
                            subject_id=str(report.pk), due_at=timezone.now() - dt.timedelta(minutes=1),
                            payload={"stage": "passed"})
    deadlines_sweep()
    deadlines_sweep()
    assert not Alert.objects.filter(kind="death.card_due").exists()


def test_a_report_made_late_by_hand_fires_its_missed_clocks_at_once(personas):
    from tests.personas import WomanFactory

    woman = WomanFactory(residence_region=personas.regions.county_a, registered_by=personas.inst.hospital_a)
    report = ds.death_report_create_manual(by=personas.users.obstetrician_a, institution=personas.inst.hospital_a,
                                           woman=woman, died_at=timezone.now() - dt.timedelta(hours=30))
    assert report.region == personas.regions.county_a
    deadlines_sweep()
    assert "obstetrician_a" in alerts("death.report_due", priority=Alert.Priority.CRITICAL)
    assert not Alert.objects.filter(kind="death.card_due", priority=Alert.Priority.CRITICAL).exists()


def test_the_30_day_investigation_and_the_review_clocks(personas):
    r = reviewers(personas)
    report = reported(personas)
    ds.death_report_verify(report=report, by=personas.users.mch_a)
    fire(report, ds.INVESTIGATION_DUE, "passed")
    assert alerts("death.investigation_due", priority=Alert.Priority.CRITICAL) == {"mch_a"}
    ds.death_report_investigate(report=report, by=personas.users.mch_a, findings="调查")
    assert not Alert.objects.filter(kind="death.investigation_due", acknowledged_at__isnull=True).exists()
    report.refresh_from_db()
    assert report.review_due_at is not None
    assert (report.review_due_at - timezone.now()).days in (89, 90)
    fire(report, ds.REVIEW_DUE, "passed")
    assert {"mch_a", r.county.username} <= alerts("death.review_due", priority=Alert.Priority.CRITICAL)


def test_a_late_city_review_is_chased_by_the_province(personas):
    from tests.workflows.death.helpers import CONCLUSION, investigated

    r = reviewers(personas)
    report = investigated(personas)
    ds.death_report_conclude(report=report, by=r.county, **CONCLUSION)
    fire(report, ds.REVIEW_DUE, "passed")
    assert {r.city.username, r.mch_city.username, "mch_a"} <= alerts("death.review_due",
                                                                     priority=Alert.Priority.CRITICAL)
    stages = set(deadlines_for(report, kind=ds.REVIEW_DUE).values_list("payload__stage", flat=True))
    assert "province" in stages and "city" not in stages
    fire(report, ds.REVIEW_DUE, "province")
    assert {"bureau_province", r.mch_province.username} <= alerts("death.review_due")
