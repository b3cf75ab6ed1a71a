"""A delivery recorded twice at once (the pregnancy page and the high-risk case's step): exactly one wins, the
other gets a clear refusal, and the case moves on once. Real row locks: PostgreSQL only."""

from __future__ import annotations

import pytest
from django.utils import timezone

from cases.models import Delivery, HighRiskCase, Pregnancy
from tests.workflows.highrisk.test_concurrency import case, race  # noqa: F401  (the fixture)
from workflows.highrisk import services as hr
from workflows.routine import services as rs

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_the_page_and_the_case_record_the_delivery_at_once(personas, case):  # noqa: F811
    results = race(
        lambda: rs.delivery_record(pregnancy=case.pregnancy, by=personas.users.obstetrician_a,
                                   delivered_at=timezone.now(), place="institution",
                                   institution=personas.inst.hospital_a, mode="spontaneous", live_births=1),
        lambda: hr.case_record_delivery(case=case, by=personas.users.duty_a, delivered_at=timezone.now(),
                                        place="institution", institution=personas.inst.hospital_a,
                                        mode="spontaneous", live_births=1),
    )
    assert sorted(kind for kind, _value in results) == ["denied", "ok"], results
    assert Delivery.objects.filter(pregnancy=case.pregnancy).count() == 1
    assert Pregnancy.objects.get(pk=case.pregnancy_id).status == "delivered"
    assert HighRiskCase.objects.get(pk=case.pk).history.filter(state="delivered").count() == 1
