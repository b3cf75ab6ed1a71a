"""Evaluation schemes as data: the national 2023 edition as read from the source, a province's 细则 copied from it,
and the rule that nothing a province adds or redefines is shown as national."""

from decimal import Decimal

import pytest
from django.urls import reverse

from cases.models import EvaluationIndicator, EvaluationScheme
from organisations.models import Role
from tests.personas import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def national():
    return EvaluationScheme.objects.get(code="national-2023")


def _admin(username, institution):
    user = UserFactory(username=username, is_staff=True)
    MembershipFactory(user=user, institution=institution, role=Role.SYSTEM_ADMIN)
    return user


def test_the_national_edition_holds_the_seven_indicators_read_with_their_source(national):
    rows = {i.number: i for i in national.indicators.all()}
    assert national.indicator_count == 28 and len(rows) == 7
    assert set(rows) == {"?", "4", "5", "15", "16", "17", "18"}
    assert all(i.origin == "national" and i.source_url for i in rows.values())
    assert all(i.points is None for i in rows.values())  # no points were found: none invented
    coverage = rows["4"]
    assert (coverage.target_type, coverage.band_lower, coverage.band_upper) == ("band", Decimal(95), Decimal(100))
    assert rows["17"].threshold == Decimal("0.3333") and rows["17"].comparison == "ge"
    assert not rows["15"].for_county and rows["15"].subject == "centre"
    assert rows["5"].target_type == rows["16"].target_type == "not_captured"
    assert rows["18"].value_source == "computed" and rows["18"].computed_from == "deliveries"
    for indicator in rows.values():
        indicator.full_clean()  # every shipped row is valid against the model's own rules


def test_a_copy_keeps_national_rows_national_until_the_province_changes_them(personas, national):
    copy = national.copy_for(province=personas.regions.fujian, code="fj-2024", name="福建省细则")
    assert copy.based_on == national and copy.indicators.count() == 7
    assert set(copy.indicators.values_list("origin", flat=True)) == {"national"}
    assert copy.sections.filter(parent__isnull=False).count() == 2
    band = copy.indicators.get(number="4")
    band.points = Decimal(10)  # points are the province's to set: the row still says what the nation says
    band.save()
    band.refresh_from_db()
    assert band.origin == "national"
    band.band_lower = Decimal(90)  # a changed target is not the national one any more
    band.save()
    band.refresh_from_db()
    assert band.origin == "province"
    assert national.indicators.get(number="4").band_lower == Decimal(95)  # the national row is untouched


def test_validation_names_the_missing_parameters(national):
    row = EvaluationIndicator(scheme=national, section=national.sections.first(), number="99", name="x",
                              target_type="band", value_source="computed")
    with pytest.raises(Exception) as error:
        row.full_clean()
    fields = error.value.message_dict
    assert {"band_upper", "band_scoring", "computed_from"} <= set(fields)
    row = EvaluationIndicator(scheme=national, section=national.sections.first(), number="99", name="x",
                              target_type="threshold", value_source="computed", computed_from="no_such_code",
                              for_province=False, for_city=False, for_county=False)
    with pytest.raises(Exception) as error:
        row.full_clean()
    assert {"threshold", "comparison", "computed_from", "for_county"} <= set(error.value.message_dict)


def test_the_province_admin_copies_the_national_edition_and_cannot_change_it(client, personas, national):
    client.force_login(_admin("admin_fj", personas.inst.bureau_province))
    changelist = reverse("admin:cases_evaluationscheme_changelist")
    response = client.post(changelist, {"action": "copy_for_my_province", "_selected_action": [national.pk]})
    assert response.status_code == 302
    copy = EvaluationScheme.objects.get(province=personas.regions.fujian)
    assert copy.indicators.count() == 7 and copy.history.latest().history_user.username == "admin_fj"
    national_row = national.indicators.get(number="17")
    url = reverse("admin:cases_evaluationindicator_change", args=[national_row.pk])
    assert client.post(url, {"name": "改掉", "change_reason": "x"}).status_code == 403
    national_row.refresh_from_db()
    assert national_row.name == "产科医师床位比"


def test_a_row_the_province_adds_in_the_admin_is_the_provinces(client, personas, national):
    admin_user = _admin("admin_fj", personas.inst.bureau_province)
    copy = national.copy_for(province=personas.regions.fujian, code="fj-2024", name="福建省细则")
    client.force_login(admin_user)
    section = copy.sections.get(number="一")
    data = {"scheme": copy.pk, "section": section.pk, "number": "1", "name": "孕产妇死亡率",
            "definition": "孕产妇死亡数/活产数×10万", "value_source": "computed", "computed_from": "mmr",
            "target_type": "trend", "trend": "down", "points": "5", "for_province": "on", "for_city": "on",
            "for_county": "on", "subject": "system", "order": "1", "change_reason": "补充细则"}
    response = client.post(reverse("admin:cases_evaluationindicator_add"), data)
    assert response.status_code == 302, response.content.decode()[:3000]
    added = copy.indicators.get(number="1")
    assert added.origin == "province" and added.points == Decimal(5)
    assert added.history.latest().history_change_reason == "补充细则"


def test_another_provinces_admin_sees_nothing_of_fujians_rules(client, personas, national):
    copy = national.copy_for(province=personas.regions.fujian, code="fj-2024", name="福建省细则")
    client.force_login(_admin("admin_gd", personas.inst.bureau_gd))
    assert client.get(reverse("admin:cases_evaluationscheme_change", args=[copy.pk])).status_code in (302, 404)
    row = copy.indicators.first()
    response = client.post(reverse("admin:cases_evaluationindicator_change", args=[row.pk]),
                           {"name": "x", "change_reason": "x"})
    assert response.status_code in (302, 404)
    row.refresh_from_db()
    assert row.name != "x"
