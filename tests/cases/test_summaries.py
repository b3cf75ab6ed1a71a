"""The deliveries' summary columns (cases/summaries.py): each follows every change of what it is computed from,
in the same transaction, and a writer that bypasses the refresh is caught by the check and repaired."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.core.management import call_command

from cases import summaries
from cases.models import Assessment, Delivery, Visit
from tests.indicators import factories as f

pytestmark = pytest.mark.django_db

D = dt.date
ANTENATAL, POSTPARTUM, DAY42 = Visit.Kind.ANTENATAL, Visit.Kind.POSTPARTUM, Visit.Kind.POSTPARTUM_42D


def columns(delivery: Delivery) -> dict[str, object]:
    delivery.refresh_from_db()
    return {name: getattr(delivery, f"{name}_id" if name == "residence_region" else name)
            for name in summaries.COLUMNS}


@pytest.fixture
def delivered(personas):  # type: ignore[no-untyped-def]
    """A county-A resident booked on day 95 (late), delivered at hospital A on 2025-10-01, no visits yet."""
    p = f.pregnancy(region=personas.regions.county_a, booked_at=personas.inst.hospital_a, lmp=D(2025, 1, 1),
                    booking_day=95)
    return f.deliver(p, on=D(2025, 10, 1), institution=personas.inst.hospital_a, hour=10)


def test_a_new_delivery_gets_its_columns(personas, delivered):  # type: ignore[no-untyped-def]
    assert columns(delivered) == {
        "antenatal_visits_before": 0, "postpartum_visit_within_28d": False, "booked_early": False,
        "high_risk_before": False, "case_opened_before": False,
        "residence_region": personas.regions.county_a.code}


def test_visits_added_moved_and_removed(personas, delivered):  # type: ignore[no-untyped-def]
    hosp = personas.inst.hospital_a
    f.visits(delivered.pregnancy, kind=ANTENATAL, days=[D(2025, 4, 1), D(2025, 10, 1)], institution=hosp)
    f.visits(delivered.pregnancy, kind=POSTPARTUM, days=[D(2025, 10, 30)], institution=hosp)  # day 29
    f.visits(delivered.pregnancy, kind=DAY42, days=[D(2025, 10, 20)], institution=hosp)  # not a 28-day visit
    assert columns(delivered)["antenatal_visits_before"] == 2
    assert columns(delivered)["postpartum_visit_within_28d"] is False
    late = Visit.objects.get(pregnancy=delivered.pregnancy, kind=POSTPARTUM)
    late.date = D(2025, 10, 29)  # day 28
    late.save()
    assert columns(delivered)["postpartum_visit_within_28d"] is True
    Visit.objects.filter(pregnancy=delivered.pregnancy, kind=ANTENATAL, date=D(2025, 4, 1)).get().delete()
    assert columns(delivered)["antenatal_visits_before"] == 1


def test_the_booking_corrected_and_the_ultrasound_due_date(personas, delivered):  # type: ignore[no-untyped-def]
    p = delivered.pregnancy
    p.booking_date = p.lmp + dt.timedelta(days=90)
    p.save()
    assert columns(delivered)["booked_early"] is True
    p.booking_date = p.lmp + dt.timedelta(days=91)
    p.save()
    assert columns(delivered)["booked_early"] is False
    p.edd_ultrasound = p.lmp + dt.timedelta(days=290)  # by the ultrasound the booking was on day 81
    p.save()
    assert columns(delivered)["booked_early"] is True


def test_assessments_and_the_case_before_the_delivery(personas, delivered):  # type: ignore[no-untyped-def]
    p, doc, hosp = delivered.pregnancy, personas.users.obstetrician_a, personas.inst.hospital_a
    after = f.assess(p, colour="red", when=f.at(D(2025, 10, 1), 11), by=doc, institution=hosp)
    assert columns(delivered)["high_risk_before"] is False
    orange = f.assess(p, colour="orange", when=f.at(D(2025, 9, 1)), by=doc, institution=hosp)
    assert columns(delivered)["high_risk_before"] is True
    orange.status = Assessment.Status.VOIDED
    orange.save()
    assert columns(delivered)["high_risk_before"] is False
    after.delete()
    f.open_case(p, when=f.at(D(2025, 10, 1), 9, 59), by=doc, institution=hosp)
    assert columns(delivered)["case_opened_before"] is True


def test_a_woman_who_moves_takes_her_deliveries_with_her(personas, delivered):  # type: ignore[no-untyped-def]
    woman = delivered.pregnancy.woman
    woman.residence_region = personas.regions.county_b
    woman.save()
    assert columns(delivered)["residence_region"] == personas.regions.county_b.code


def test_the_delivery_moved_recounts(personas, delivered):  # type: ignore[no-untyped-def]
    f.visits(delivered.pregnancy, kind=ANTENATAL, days=[D(2025, 9, 1), D(2025, 9, 20)], institution=personas.inst.hospital_a)
    delivered.delivered_at, delivered.delivered_on = f.at(D(2025, 9, 10)), D(2025, 9, 10)
    delivered.save()
    assert columns(delivered)["antenatal_visits_before"] == 1


def test_a_bypassing_writer_is_caught_and_repaired(personas, delivered):  # type: ignore[no-untyped-def]
    f.visits(delivered.pregnancy, kind=ANTENATAL, days=[D(2025, 5, 1)], institution=personas.inst.hospital_a)
    Visit.objects.filter(pregnancy=delivered.pregnancy).update(date=D(2025, 11, 1))  # no signal: stale now
    assert list(summaries.stale(Delivery.objects.all())) == [delivered]
    out = io.StringIO()
    with pytest.raises(SystemExit) as failed:
        call_command("delivery_summaries", "--from", "2025-01-01", "--to", "2025-12-31", stdout=out)
    assert failed.value.code == 1 and "1 of 1 deliveries have stale summary columns" in out.getvalue()
    call_command("delivery_summaries", "--refresh", stdout=io.StringIO())
    assert columns(delivered)["antenatal_visits_before"] == 0
    out = io.StringIO()
    call_command("delivery_summaries", stdout=out)
    assert "0 of 1 deliveries" in out.getvalue()


def test_the_check_refuses_a_bad_date(db):  # type: ignore[no-untyped-def]
    with pytest.raises(SystemExit) as failed:
        call_command("delivery_summaries", "--from", "2025-13-01", stderr=io.StringIO())
    assert failed.value.code == 2


def test_the_migration_backfills_recorded_deliveries_with_its_historical_models(personas, delivered):  # type: ignore[no-untyped-def]
    import importlib
    from types import SimpleNamespace

    from django.db import connection
    from django.db.migrations.loader import MigrationLoader

    f.visits(delivered.pregnancy, kind=ANTENATAL, days=[D(2025, 5, 1), D(2025, 6, 1)], institution=personas.inst.hospital_a)
    Delivery.objects.update(antenatal_visits_before=0, residence_region=None)  # as AddField leaves them
    migration = importlib.import_module("cases.migrations.0026_delivery_summaries")
    apps = MigrationLoader(connection).project_state(("cases", "0026_delivery_summaries")).apps
    migration.backfill(apps, SimpleNamespace(connection=connection))
    assert columns(delivered)["antenatal_visits_before"] == 2
    assert columns(delivered)["residence_region"] == personas.regions.county_a.code
