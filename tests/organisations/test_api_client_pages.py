"""The machine-client pages (机构 → 接口账号): a system admin creates a client of her area, issues a token shown
once, revokes it and deactivates the client; an admin of another area finds nothing (404), anyone else is
refused with the reason (403)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from django.urls import reverse

from organisations.models import ApiClient, ApiToken, Membership, Role
from organisations.services import api_client_create, api_token_issue
from tests.personas import MembershipFactory, UserFactory


@pytest.fixture
def admins(personas):  # type: ignore[no-untyped-def]
    county_a = UserFactory(username="admin_a", is_staff=True)
    MembershipFactory(user=county_a, institution=personas.inst.bureau_a, role=Role.SYSTEM_ADMIN)
    county_b = UserFactory(username="admin_b", is_staff=True)
    MembershipFactory(user=county_b, institution=personas.inst.mch_b, role=Role.SYSTEM_ADMIN)
    return SimpleNamespace(a=county_a, b=county_b)


@pytest.fixture
def his(personas, admins):  # type: ignore[no-untyped-def]
    return api_client_create(by=admins.a, name="闽侯县医院 HIS", system="东华 HIS", institution=personas.inst.hospital_a,
                             roles=[Role.OBSTETRICIAN, Role.DUTY_DOCTOR], reason="machine client created")


def test_an_admin_creates_a_client_of_her_area(client, personas, admins):
    client.force_login(admins.a)
    page = client.get(reverse("organisations:api_client_new"))
    assert page.status_code == 200
    roles = [value for value, _label in page.context["form"].fields["roles"].choices]
    assert Role.SYSTEM_ADMIN not in roles and Role.OBSTETRICIAN in roles
    institutions = set(page.context["form"].fields["institution"].queryset)
    assert personas.inst.hospital_a in institutions and personas.inst.hospital_b not in institutions
    response = client.post(reverse("organisations:api_client_new"), {
        "name": "闽侯县医院 HIS", "system": "东华 HIS", "institution": personas.inst.hospital_a.pk,
        "roles": [Role.OBSTETRICIAN], "reason": ""})
    made = ApiClient.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("organisations:api_client", args=[made.pk])
    assert list(Membership.objects.filter(user=made.user).values_list("role", flat=True)) == [Role.OBSTETRICIAN]
    assert made.history.get().history_user == admins.a
    assert "闽侯县医院 HIS" in client.get(reverse("organisations:api_clients")).content.decode()


def test_the_form_refuses_an_institution_outside_her_area_and_the_admin_role(client, personas, admins):
    client.force_login(admins.a)
    response = client.post(reverse("organisations:api_client_new"), {
        "name": "x", "system": "y", "institution": personas.inst.hospital_b.pk, "roles": [Role.SYSTEM_ADMIN]})
    assert response.status_code == 400
    assert set(response.context["form"].errors) == {"institution", "roles"}
    assert not ApiClient.objects.exists()


def test_a_token_is_shown_once_then_only_its_start(client, his, admins):
    client.force_login(admins.a)
    response = client.post(reverse("organisations:api_token_new", args=[his.pk]), {"days": 30, "reason": ""})
    assert response.status_code == 200
    token = response.context["new_token"]
    assert token.startswith("anmu_") and token in response.content.decode()
    assert "no-store" in response["Cache-Control"]
    later = client.get(reverse("organisations:api_client", args=[his.pk])).content.decode()
    assert token not in later and token[:15] in later


def test_revoke_and_deactivate_through_the_page(client, his, admins):
    first, _ = api_token_issue(client=his, by=admins.a, reason="token issued")
    second, _ = api_token_issue(client=his, by=admins.a, reason="token issued")
    client.force_login(admins.a)
    response = client.post(reverse("organisations:api_token_revoke", args=[his.pk, first.pk]), {"reason": "泄露"})
    assert response.status_code == 302
    assert list(ApiToken.objects.filter(user=his.user)) == [second]
    assert ApiToken.history.filter(id=first.pk, history_type="-").get().history_change_reason == "泄露"  # type: ignore[attr-defined]
    page = client.get(reverse("organisations:api_client", args=[his.pk])).content.decode()
    assert "泄露" in page  # the token history shows it
    client.post(reverse("organisations:api_client_deactivate", args=[his.pk]), {"reason": ""})
    his.refresh_from_db()
    assert not his.is_active and not his.user.is_active and not ApiToken.objects.filter(user=his.user).exists()


def test_an_admin_of_another_area_finds_nothing(client, his, admins):
    token, _ = api_token_issue(client=his, by=admins.a, reason="token issued")
    client.force_login(admins.b)
    assert client.get(reverse("organisations:api_clients")).context["clients"] == []
    assert client.get(reverse("organisations:api_client", args=[his.pk])).status_code == 404
    assert client.post(reverse("organisations:api_token_new", args=[his.pk]), {"days": 30}).status_code == 404
    assert client.post(reverse("organisations:api_token_revoke", args=[his.pk, token.pk])).status_code == 404
    assert client.post(reverse("organisations:api_client_deactivate", args=[his.pk])).status_code == 404
    assert ApiToken.objects.filter(pk=token.pk).exists()
    his.refresh_from_db()
    assert his.is_active


def test_someone_who_is_no_system_admin_is_refused_with_the_reason(client, his, personas):
    client.force_login(personas.users.mch_a)
    for url in (reverse("organisations:api_clients"), reverse("organisations:api_client", args=[his.pk])):
        response = client.get(url)
        assert response.status_code == 403
        assert "系统管理员" in response.content.decode() or "system administrator" in response.content.decode()


def test_the_menu_shows_machine_clients_to_a_system_admin_only(client, personas, admins):
    client.force_login(admins.a)
    assert 'data-testid="menu-api-clients"' in client.get(reverse("organisations:api_clients")).content.decode()
    client.force_login(personas.users.mch_a)
    page = client.get(reverse("organisations:access_log")).content.decode()
    assert 'data-testid="menu-api-clients"' not in page
