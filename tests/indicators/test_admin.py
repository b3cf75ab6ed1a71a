"""The admin pages of indicators and targets: a province's system admin adds her province's ratio and target;
the national rows are a superuser's; another province's admin never sees them."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from django.urls import reverse

from indicators.models import Indicator, IndicatorTarget
from organisations.models import Role
from organisations.roles import roles_sync
from tests.personas import MembershipFactory, UserFactory

REASON = {"change_reason": "省级方案"}


@pytest.fixture
def admins(personas):  # type: ignore[no-untyped-def]
    roles_sync()
    province = UserFactory(username="admin_fj", is_staff=True)
    MembershipFactory(user=province, institution=personas.inst.bureau_province, role=Role.SYSTEM_ADMIN)
    county = UserFactory(username="admin_a", is_staff=True)
    MembershipFactory(user=county, institution=personas.inst.bureau_a, role=Role.SYSTEM_ADMIN)
    other = UserFactory(username="admin_gd", is_staff=True)
    MembershipFactory(user=other, institution=personas.inst.bureau_gd, role=Role.SYSTEM_ADMIN)
    return SimpleNamespace(province=province, county=county, other=other)


def _indicator_data(**changes: object) -> dict[str, object]:
    return {"code": "fj_stillbirth_rate", "province": "350000", "name_zh": "死胎死产率", "name_en": "Stillbirths",
            "definition": "stillbirths / live births × 1000", "unit": "per_1000", "numerator": "stillbirths",
            "denominator": "live_births", "multiplier": 1000, "attribution": "population", "order": 500,
            "active": "on", **REASON, **changes}


def test_a_provincial_admin_adds_her_provinces_ratio_and_target(client, personas, admins):  # type: ignore[no-untyped-def]
    client.force_login(admins.province)
    response = client.post(reverse("admin:indicators_indicator_add"), _indicator_data())
    assert response.status_code == 302, response.content.decode()[:2000]
    added = Indicator.objects.get(code="fj_stillbirth_rate")
    assert added.province_id == "350000"
    assert added.history.latest().history_change_reason == "省级方案"
    response = client.post(reverse("admin:indicators_indicatortarget_add"), {
        "province": "350000", "indicator": added.pk, "comparison": "lte", "value": "5", "source_note": "省方案",
        **REASON})
    assert response.status_code == 302
    assert IndicatorTarget.objects.get(indicator=added).value == 5


def test_a_ratio_of_measures_that_do_not_exist_or_do_not_match_is_refused(client, admins):  # type: ignore[no-untyped-def]
    client.force_login(admins.province)
    response = client.post(reverse("admin:indicators_indicator_add"),
                           _indicator_data(denominator="referrals_answer_owed"))
    assert response.status_code == 200 and not Indicator.objects.filter(code="fj_stillbirth_rate").exists()


def test_national_rows_and_other_provinces_are_not_hers(client, personas, admins):  # type: ignore[no-untyped-def]
    mmr = Indicator.objects.get(code="mmr")
    client.force_login(admins.province)
    # She sees the national row but cannot change it, nor add a national or another province's row.
    assert client.get(reverse("admin:indicators_indicator_change", args=[mmr.pk])).status_code == 200
    client.post(reverse("admin:indicators_indicator_change", args=[mmr.pk]),
                _indicator_data(code="mmr", province="", numerator="maternal_deaths", unit="per_100000",
                                multiplier=100000, name_zh="改"))
    assert Indicator.objects.get(pk=mmr.pk).name_zh == "孕产妇死亡率"
    for province in ("", "440000"):
        client.post(reverse("admin:indicators_indicator_add"), _indicator_data(province=province))
    assert not Indicator.objects.filter(code="fj_stillbirth_rate").exists()
    # A county admin of the province does not change the province's figures.
    client.force_login(admins.county)
    client.post(reverse("admin:indicators_indicator_add"), _indicator_data())
    assert not Indicator.objects.filter(code="fj_stillbirth_rate").exists()
    # Guangdong's admin never sees Fujian's own indicator.
    own = Indicator.objects.create(code="fj_own", province=personas.regions.fujian, name_zh="x", name_en="x",
                                   definition="x", unit="count", numerator="deliveries", attribution="population")
    client.force_login(admins.other)
    assert client.get(reverse("admin:indicators_indicator_change", args=[own.pk])).status_code == 302
    assert "fj_own" not in client.get(reverse("admin:indicators_indicator_changelist")).content.decode()
