"""The demo year of deliveries: every demo county gets one, with its gaps, and a second run adds nothing."""

from __future__ import annotations

import pytest

from cases.models import Delivery, Pregnancy, Visit
from organisations.demo import COUNTIES, seed_organisations
from workflows.routine.demo import seed_routine

pytestmark = pytest.mark.django_db


def test_a_year_of_deliveries_per_county_and_idempotent():
    seed_organisations()
    made = seed_routine(per_county=(30, 40))
    assert made == Delivery.objects.count() and 4 * 30 <= made <= 4 * 40
    counties = set(Delivery.objects.values_list("pregnancy__woman__residence_region_id", flat=True))
    assert counties == {code for code, _name, _city, _slug in COUNTIES}
    assert not Pregnancy.objects.filter(external_id__startswith="DEMO-").exclude(status="delivered").exists()
    assert Visit.objects.filter(kind="antenatal").exists() and Visit.objects.filter(kind="postpartum").exists()
    assert Delivery.objects.filter(mode="caesarean").exclude(caesarean_indication="").exists()
    assert not Delivery.objects.filter(mode="caesarean", caesarean_indication="").exists()
    assert Delivery.history.count() == made and Visit.history.count() == Visit.objects.count()
    visits = Visit.objects.count()
    assert seed_routine(per_county=(30, 40)) == 0
    assert Delivery.objects.count() == made and Visit.objects.count() == visits
