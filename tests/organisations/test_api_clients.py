"""Machine clients (issue 17 item 2): another system calls the API with a knox token, scoped by the
memberships of its account like a person with those roles; only machine clients authenticate by token;
expired, revoked and deactivated tokens are 401; rotation overlaps; each call is logged by the client's
name without the token; machines have a throttle of their own; a system admin manages her area's only."""

from __future__ import annotations

import datetime as dt
import logging
from types import SimpleNamespace

import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.utils import timezone
from rest_framework.test import APIClient
from rest_framework.throttling import UserRateThrottle

from cases.models import Referral
from organisations.http import ActionDenied
from organisations.models import AccessLog, ApiClient, ApiToken, Membership, Role, is_service_account
from organisations.selectors import visible_institutions
from organisations.services import api_client_create, api_client_deactivate, api_token_issue, api_token_revoke
from tests.personas import MembershipFactory, UserFactory
from tests.workflows.referral.helpers import refer, rescue_staff


@pytest.fixture
def admins(personas):  # type: ignore[no-untyped-def]
    """A county system admin of 闽侯县 (county A) and one of 同安区 (county B, another city)."""
    county_a = UserFactory(username="admin_a", is_staff=True)
    MembershipFactory(user=county_a, institution=personas.inst.bureau_a, role=Role.SYSTEM_ADMIN)
    county_b = UserFactory(username="admin_b", is_staff=True)
    MembershipFactory(user=county_b, institution=personas.inst.mch_b, role=Role.SYSTEM_ADMIN)
    return SimpleNamespace(a=county_a, b=county_b)


def his(personas, admins, *, institution=None, roles=(Role.OBSTETRICIAN,), by=None):  # type: ignore[no-untyped-def]
    return api_client_create(by=by or admins.a, name="闽侯县医院 HIS", system="闽侯县医院 HIS（东华）",
                             institution=institution or personas.inst.hospital_a, roles=list(roles),
                             reason="machine client created")


@pytest.fixture
def client_a(personas, admins):  # type: ignore[no-untyped-def]
    return his(personas, admins)


def api(token: str | None = None) -> APIClient:
    client = APIClient()
    if token is not None:
        client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client


def issue(client: ApiClient, by) -> str:  # type: ignore[no-untyped-def]
    return api_token_issue(client=client, by=by, reason="token issued")[1]


def test_a_client_is_an_account_with_memberships_and_no_password(client_a, personas, admins):
    user = client_a.user
    assert is_service_account(user) and not is_service_account(personas.users.obstetrician_a)
    assert not user.has_usable_password() and not user.is_staff and not user.is_superuser
    assert list(Membership.objects.filter(user=user).values_list("institution", "role")) == [
        (personas.inst.hospital_a.pk, Role.OBSTETRICIAN)]
    first = client_a.history.get()
    assert first.history_user == admins.a and first.history_change_reason == "machine client created"


def test_the_token_works_on_me_and_institutions_scoped_like_its_roles(client_a, personas, admins):
    token = issue(client_a, admins.a)
    assert token.startswith("anmu_")
    me = api(token).get("/api/me/")
    assert me.status_code == 200, me.content
    assert me.json()["roles"] == [Role.OBSTETRICIAN]
    assert [m["institution"] for m in me.json()["memberships"]] == [str(personas.inst.hospital_a.pk)]
    listed = api(token).get("/api/institutions/", {"page_size": 100})
    assert listed.status_code == 200
    ids = {row["id"] for row in listed.json()["results"]}
    assert ids == {str(pk) for pk in visible_institutions(client_a.user).values_list("pk", flat=True)}
    assert str(personas.inst.hospital_a.pk) in ids and str(personas.inst.hospital_b.pk) not in ids


def test_the_token_is_stored_hashed(client_a, admins):
    token = issue(client_a, admins.a)
    row = ApiToken.objects.get(user=client_a.user)
    assert row.digest != token and token not in row.digest and row.token_key == token[:15]
    assert "digest" not in {f.name for f in ApiToken.history.model._meta.fields}  # type: ignore[attr-defined]


def test_a_persons_knox_token_is_refused(personas):
    _row, token = ApiToken.objects.create(user=personas.users.obstetrician_a)
    response = api(token).get("/api/me/")
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"


def test_a_wrong_token_is_401_and_no_credentials_stay_403(client_a):
    assert api("anmu_0000000000000000").get("/api/me/").status_code == 401
    assert api().get("/api/me/").status_code == 403  # a browser whose session ended: as before


def test_an_expired_token_is_refused(client_a, admins):
    token = issue(client_a, admins.a)
    ApiToken.objects.filter(user=client_a.user).update(expiry=timezone.now() - dt.timedelta(seconds=1))
    assert api(token).get("/api/me/").status_code == 401
    assert not ApiToken.objects.filter(user=client_a.user).exists()  # knox cleans it up


def test_the_ttl_comes_from_the_settings(client_a, admins):
    row, _token = api_token_issue(client=client_a, by=admins.a, reason="token issued")
    assert row.expiry is not None
    assert abs((row.expiry - timezone.now()) - dt.timedelta(days=90)) < dt.timedelta(minutes=1)
    short, _token = api_token_issue(client=client_a, by=admins.a, days=7, reason="token issued")
    assert short.expiry is not None and short.expiry < timezone.now() + dt.timedelta(days=8)


def test_a_revoked_token_is_refused_and_the_history_says_who(client_a, admins):
    row, token = api_token_issue(client=client_a, by=admins.a, reason="token issued")
    assert api(token).get("/api/me/").status_code == 200
    api_token_revoke(token=row, by=admins.a, reason="token revoked")
    assert api(token).get("/api/me/").status_code == 401
    gone = ApiToken.history.filter(id=row.pk, history_type="-").get()  # type: ignore[attr-defined]
    assert gone.history_user == admins.a and gone.history_change_reason == "token revoked"


def test_rotation_both_tokens_work_until_the_old_one_is_revoked(client_a, admins):
    old_row, old = api_token_issue(client=client_a, by=admins.a, reason="token issued")
    _new_row, new = api_token_issue(client=client_a, by=admins.a, reason="token issued")
    assert api(old).get("/api/me/").status_code == 200
    assert api(new).get("/api/me/").status_code == 200
    api_token_revoke(token=old_row, by=admins.a, reason="token revoked")
    assert api(old).get("/api/me/").status_code == 401
    assert api(new).get("/api/me/").status_code == 200


def test_a_deactivated_client_is_refused(client_a, admins):
    token = issue(client_a, admins.a)
    api_client_deactivate(client=client_a, by=admins.a, reason="machine client deactivated")
    assert api(token).get("/api/me/").status_code == 401
    assert not ApiToken.objects.filter(user=client_a.user).exists()
    with pytest.raises(ActionDenied):
        issue(client_a, admins.a)


def test_the_client_of_a_deactivated_institution_is_refused(client_a, admins, personas):
    token = issue(client_a, admins.a)
    type(personas.inst.hospital_a).objects.filter(pk=personas.inst.hospital_a.pk).update(is_active=False)
    assert api(token).get("/api/me/").status_code == 401


def test_a_client_of_institution_b_does_not_see_the_referrals_of_county_a(personas, admins):
    rescue_staff(personas)
    referral = refer(personas)  # 闽侯县医院 (county A) → the city centre
    client_b = his(personas, admins, institution=personas.inst.hospital_b, by=admins.b)
    token_b = issue(client_b, admins.b)
    assert api(token_b).get("/api/referrals/").json()["count"] == 0
    assert api(token_b).get(f"/api/referrals/{referral.pk}/").status_code == 404
    client_a = his(personas, admins)
    token_a = issue(client_a, admins.a)
    listed = api(token_a).get("/api/referrals/").json()
    assert [row["id"] for row in listed["results"]] == [str(referral.pk)]
    assert api(token_a).get(f"/api/referrals/{referral.pk}/").status_code == 200
    # The read of her referral is recorded under the client's account, as for a person.
    assert AccessLog.objects.filter(user=client_a.user, object_id=str(referral.pk)).exists()
    assert Referral.objects.filter(pk=referral.pk).exists()


def test_a_machine_is_throttled_on_its_own_scope(client_a, admins, personas, monkeypatch):
    monkeypatch.setattr(UserRateThrottle, "THROTTLE_RATES", {"user": "100/minute", "machine": "3/minute",
                                                              "anon": "100/minute"})
    for scope, user in (("machine", client_a.user), ("user", personas.users.obstetrician_a)):
        cache.delete(f"throttle_{scope}_{user.pk}")
    token = issue(client_a, admins.a)
    assert [api(token).get("/api/me/").status_code for _ in range(4)] == [200, 200, 200, 429]
    person = APIClient()
    person.force_login(personas.users.obstetrician_a)
    assert person.get("/api/me/").status_code == 200  # people keep the "user" rate
    assert cache.get(f"throttle_machine_{client_a.user.pk}") and cache.get(
        f"throttle_user_{personas.users.obstetrician_a.pk}")
    assert cache.get(f"throttle_user_{client_a.user.pk}") is None


def test_each_call_is_logged_by_the_clients_name_without_token_or_query(client_a, admins, caplog):
    token = issue(client_a, admins.a)
    with caplog.at_level(logging.INFO, logger="anmu.api.clients"):
        api(token).get("/api/me/?id_number=350121199305170026")
        api("anmu_0000000000000000").get("/api/me/")
    lines = [r.getMessage() for r in caplog.records if r.name == "anmu.api.clients"]
    assert len(lines) == 2, lines
    assert "client=闽侯县医院 HIS" in lines[0] and "method=GET path=/api/me/ status=200" in lines[0]
    assert "status=401" in lines[1]
    for line in lines:
        assert token not in line and token[:15] not in line and "anmu_0000" not in line
        assert "350121199305170026" not in line and "?" not in line


def test_an_admin_of_another_area_cannot_manage_the_client(client_a, admins, personas):
    token_row, _token = api_token_issue(client=client_a, by=admins.a, reason="token issued")
    for action in (lambda: api_token_issue(client=client_a, by=admins.b, reason="token issued"),
                   lambda: api_token_revoke(token=token_row, by=admins.b, reason="token revoked"),
                   lambda: api_client_deactivate(client=client_a, by=admins.b, reason="machine client deactivated"),
                   lambda: his(personas, admins, by=admins.b)):
        with pytest.raises(ActionDenied):
            action()
    assert ApiToken.objects.filter(pk=token_row.pk).exists()
    client_a.refresh_from_db()
    assert client_a.is_active


def test_no_client_gets_the_system_admin_role_or_is_made_by_a_non_admin(personas, admins):
    with pytest.raises(ActionDenied):
        his(personas, admins, institution=personas.inst.bureau_a, roles=[Role.SYSTEM_ADMIN])
    with pytest.raises(ActionDenied):
        his(personas, admins, by=personas.users.mch_a)
    assert not ApiClient.objects.exists()


def test_a_role_the_institution_cannot_hold_is_a_field_error_and_nothing_is_created(personas, admins):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        his(personas, admins, institution=personas.inst.bureau_a, roles=[Role.OBSTETRICIAN])
    assert not ApiClient.objects.exists()


def test_a_service_account_cannot_sign_in_through_the_login_form(client, client_a):
    user = client_a.user
    user.set_password("machine-password-1")  # even if someone set one in the admin
    user.save()
    response = client.post("/accounts/login/", {"username": user.username, "password": "machine-password-1"})
    assert response.status_code == 200  # the form again, with its error
    assert "_auth_user_id" not in client.session
    client.force_login(user)  # and a session it somehow got is not honoured
    assert client.get("/api/me/").status_code == 403


def test_the_command_issues_a_token_printed_once(client_a, capsys):
    call_command("api_client_token", client_a.user.username, "--days", "30")
    token = capsys.readouterr().out.strip().splitlines()[-1]
    assert token.startswith("anmu_") and api(token).get("/api/me/").status_code == 200


def test_the_schema_documents_the_token(client, personas):
    client.force_login(personas.users.obstetrician_a)
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    scheme = schema["components"]["securitySchemes"]["machineClientToken"]
    assert scheme["type"] == "apiKey" and scheme["in"] == "header" and scheme["name"] == "Authorization"
    assert {"machineClientToken": []} in schema["paths"]["/api/me/"]["get"]["security"]
    assert "401" in schema["paths"]["/api/me/"]["get"]["responses"]


def test_knox_login_and_logout_views_are_not_exposed(client, personas):
    from django.urls import get_resolver
    from knox import views as knox_views

    def callbacks(resolver):  # type: ignore[no-untyped-def]
        for pattern in resolver.url_patterns:
            if hasattr(pattern, "url_patterns"):
                yield from callbacks(pattern)
            else:
                yield getattr(pattern.callback, "cls", pattern.callback)

    exposed = set(callbacks(get_resolver()))
    assert not exposed & {knox_views.LoginView, knox_views.LogoutView, knox_views.LogoutAllView}
