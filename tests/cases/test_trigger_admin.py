"""A province's interview trigger rules are data its system administrator edits, with a reason, in the admin;
administrators of a county or city below it, and of another province, cannot."""

import pytest
from django.urls import reverse

from cases.models import InterviewTrigger
from organisations.models import Role
from tests.personas import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db
K = InterviewTrigger.Kind


@pytest.fixture
def rule(personas):
    return InterviewTrigger.objects.create(province=personas.regions.fujian, kind=K.LATE_REFERRAL_ANSWERS,
                                           threshold=3, period_days=90, summoned=["head"])


def _admin(username, institution):
    user = UserFactory(username=username, is_staff=True)
    MembershipFactory(user=user, institution=institution, role=Role.SYSTEM_ADMIN)
    return user


def _data(rule, **changes):
    return {"province": rule.province_id, "kind": rule.kind, "threshold": rule.threshold,
            "period_days": rule.period_days, "party": rule.party, "convener": rule.convener,
            "summoned": rule.summoned, "is_active": "on", "change_reason": "省级规则调整", **changes}


def test_the_province_admin_changes_a_rule_with_a_reason_kept_in_its_history(client, personas, rule):
    client.force_login(_admin("admin_fj", personas.inst.bureau_province))
    url = reverse("admin:cases_interviewtrigger_change", args=[rule.pk])
    page = client.get(url)
    assert page.status_code == 200
    assert page.content.decode().count('type="checkbox" name="summoned"') == 4  # one box per attendee kind
    response = client.post(url, _data(rule, threshold=5, summoned=["head", "mch_head"]))
    assert response.status_code == 302, response.content.decode()[:2000]
    rule.refresh_from_db()
    assert rule.threshold == 5 and rule.summoned == ["head", "mch_head"]
    latest = rule.history.latest()
    assert latest.history_change_reason == "省级规则调整" and latest.history_user.username == "admin_fj"


def test_a_threshold_of_zero_is_a_form_error_and_nothing_changes(client, personas, rule):
    client.force_login(_admin("admin_fj", personas.inst.bureau_province))
    response = client.post(reverse("admin:cases_interviewtrigger_change", args=[rule.pk]), _data(rule, threshold=0))
    assert response.status_code == 200 and response.context["adminform"].form.errors["threshold"]
    rule.refresh_from_db()
    assert rule.threshold == 3


def test_a_city_admin_below_the_province_neither_sees_nor_adds_its_rules(client, personas, rule):
    client.force_login(_admin("admin_city", personas.inst.bureau_city))
    assert client.get(reverse("admin:cases_interviewtrigger_change", args=[rule.pk])).status_code in (302, 404)
    listing = client.get(reverse("admin:cases_interviewtrigger_changelist"))
    assert listing.status_code == 200 and f"{rule.pk}/change/" not in listing.content.decode()
    response = client.post(reverse("admin:cases_interviewtrigger_add"), _data(rule))
    assert response.status_code == 200 and InterviewTrigger.objects.count() == 1  # no province to choose


def test_another_provinces_admin_cannot_change_fujians_rule(client, personas, rule):
    client.force_login(_admin("admin_gd", personas.inst.bureau_gd))
    response = client.post(reverse("admin:cases_interviewtrigger_change", args=[rule.pk]), _data(rule, threshold=9))
    assert response.status_code in (302, 404)
    rule.refresh_from_db()
    assert rule.threshold == 3
