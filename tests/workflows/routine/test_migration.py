"""The data migration that moved the high-risk case's delivery into the pregnancy's Delivery record: a case
delivered before the change keeps its delivery (date at 12:00 China time, one live birth, mode mapped)."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from cases.models import Delivery, HighRiskCase

pytestmark = pytest.mark.django_db(transaction=True)

# Every app as it stood before the change: organisations' later migrations add NOT NULL columns that the
# historical models of this state know nothing about, so they go back too.
BEFORE = [("cases", "0020_routine_records"), ("organisations", "0006_institution_code_unique")]


@pytest.fixture
def before_the_change():
    """The schema as it stood before the change; put back to the latest afterwards, even when the test fails,
    so that the tests after this one find the tables they expect."""
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    yield executor
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())


def test_a_case_delivered_before_the_change_keeps_its_delivery(before_the_change):
    executor = before_the_change
    old = executor.loader.project_state(BEFORE).apps
    Region, Institution = old.get_model("organisations", "Region"), old.get_model("organisations", "Institution")
    User = old.get_model("organisations", "User")
    Woman, Pregnancy = old.get_model("cases", "Woman"), old.get_model("cases", "Pregnancy")
    Case, HistoricalCase = old.get_model("cases", "HighRiskCase"), old.get_model("cases", "HistoricalHighRiskCase")
    county = Region.objects.create(code="350121", name="闽侯县", level="county")
    hospital = Institution.objects.create(id=uuid.uuid4(), code="T00000001", name="闽侯县医院",
                                          kind="midwifery_hospital", level=2, region=county)
    doctor = User.objects.create(username="doc", name="医生")
    cases = []
    for n, mode in enumerate(["caesarean", "vaginal"]):
        woman = Woman.objects.create(id=uuid.uuid4(), name=f"孕妇{n}", id_type="none", no_id_reason="未带证件",
                                     date_of_birth=dt.date(1990, 1, 1), residence_region=county,
                                     registered_by=hospital)
        pregnancy = Pregnancy.objects.create(id=uuid.uuid4(), woman=woman, lmp=dt.date(2026, 1, 1),
                                             booking_date=dt.date(2026, 3, 1), booking_institution=hospital,
                                             status="delivered")
        case = Case.objects.create(
            id=uuid.uuid4(), pregnancy=pregnancy, institution=hospital, responsible_doctor=doctor, region=county,
            colour="orange", state="delivered", opened_at=timezone.now(), opened_by=doctor,
            delivered_at=dt.date(2026, 10, 8), delivery_institution=hospital if n == 0 else None,
            delivery_mode=mode, delivery_outcome="母婴平安")
        HistoricalCase.objects.create(id=case.pk, pregnancy_id=pregnancy.pk, institution_id=hospital.pk,
                                      responsible_doctor_id=doctor.pk, region_id=county.pk, colour="orange",
                                      state="delivered", opened_at=case.opened_at, opened_by_id=doctor.pk,
                                      history_date=timezone.now(), history_type="~", history_user_id=doctor.pk,
                                      history_change_reason="delivered")
        cases.append(case)
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())

    first, second = (Delivery.objects.get(pregnancy_id=c.pregnancy_id) for c in cases)
    assert first.delivered_on == dt.date(2026, 10, 8)
    assert timezone.localtime(first.delivered_at).time() == dt.time(12, 0)
    assert (first.place, first.institution_id, first.mode) == ("institution", cases[0].delivery_institution_id,
                                                               "caesarean")
    assert (first.live_births, first.stillbirths, first.outcome) == (1, 0, "母婴平安")
    assert first.recorded_by_id == doctor.pk
    assert first.history.get().history_change_reason == "moved from the high-risk case"
    assert (second.place, second.institution_id, second.mode) == ("other", None, "spontaneous")
    assert HighRiskCase.objects.get(pk=cases[0].pk).state == "delivered"
    assert not hasattr(HighRiskCase(), "delivery_mode")
