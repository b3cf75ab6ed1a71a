"""Writes for organisations. Keyword-only, typed, named <entity>_<action>."""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Iterable
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from knox.models import get_digest_token
from knox.settings import CONSTANTS, knox_settings

from organisations.administration import api_client_denial
from organisations.http import ActionDenied
from organisations.models import AccessLog, ApiClient, ApiToken, Institution, Membership, Region, Role, User
from organisations.scoping import forget_scope


def access_record(
    *,
    user: User,
    action: str,
    obj: models.Model | None = None,
    object_type: str = "",
    object_id: str = "",
    summary: str,
    region: Region | None = None,
    institution: Institution | None = None,
) -> AccessLog:
    """Record that ``user`` read, looked up or exported a personal record (never the personal data itself)."""
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = object_id or str(obj.pk)
    return AccessLog.objects.create(
        user=user,
        action=action,
        object_type=object_type[:60],
        object_id=object_id[:64],
        summary=summary[:200],
        region=region,
        institution=institution,
    )


def membership_grant(
    *, user: User, institution: Institution, role: Role | str, by: User | None, reason: str
) -> Membership:
    """Give ``user`` a role at ``institution`` (re-activating an old membership if there is one)."""
    with transaction.atomic():
        membership = Membership.objects.select_for_update().filter(
            user=user, institution=institution, role=role
        ).first()
        if membership is None:
            membership = Membership(user=user, institution=institution, role=role)
        membership.is_active = True
        membership.full_clean()
        membership._history_user = by  # type: ignore[attr-defined]
        membership._change_reason = reason  # type: ignore[attr-defined]
        membership.save()
    forget_scope(user)
    return membership


def membership_revoke(*, membership: Membership, by: User | None, reason: str) -> Membership:
    with transaction.atomic():
        membership = Membership.objects.select_for_update().get(pk=membership.pk)
        membership.is_active = False
        membership._history_user = by  # type: ignore[attr-defined]
        membership._change_reason = reason  # type: ignore[attr-defined]
        membership.save()
    forget_scope(membership.user)
    return membership


def record_save(*, obj: models.Model, by: Any, reason: str) -> models.Model:
    """Validate and save an organisation record with its history user and reason."""
    obj.full_clean()
    obj._history_user = by  # type: ignore[attr-defined]
    obj._change_reason = reason  # type: ignore[attr-defined]
    obj.save()
    return obj


def centre_beds_update(*, centre: Any, by: User, icu: int, delivery: int) -> Any:
    """A duty doctor of the centre records how many obstetric ICU and delivery beds are free now."""
    from organisations.models import RescueCentre

    errors = {name: [_("Enter a number from 0 to 500.")] for name, value in (("icu", icu), ("delivery", delivery))
              if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= 500}
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        centre = RescueCentre.objects.select_for_update(of=("self",)).select_related("institution").get(pk=centre.pk)
        if not by.is_superuser and not Membership.objects.filter(
                user=by, institution_id=centre.institution_id, role=Role.DUTY_DOCTOR, is_active=True).exists():
            raise ActionDenied(_("Only the duty doctors of %(centre)s update its beds.")
                               % {"centre": centre.institution.name})
        centre.icu_beds_available, centre.delivery_beds_available = icu, delivery
        centre.beds_updated_at, centre.beds_updated_by = timezone.now(), by
        record_save(obj=centre, by=by, reason="beds updated")
    return centre


# --- Machine clients: set up, tokens issued and revoked, switched off — by a system admin of the area --------

# The longest a token may be issued for, in days (the default is the TTL of settings.REST_KNOX).
API_TOKEN_MAX_DAYS = 366


def _deny_unless_manages(*, by: Any, institution: Institution, roles: Iterable[str] = ()) -> None:
    if by is None:  # the server's operator (manage.py api_client_token)
        return
    denial = api_client_denial(by=by, institution=institution, roles=roles)
    if denial:
        raise ActionDenied(denial)


def _service_username() -> str:
    while True:
        username = f"api_{secrets.token_hex(5)}"
        if not User.objects.filter(username=username).exists():
            return username


def api_client_create(
    *, by: User, name: str, system: str, institution: Institution, roles: Iterable[str], reason: str
) -> ApiClient:
    """Set up a machine client at ``institution`` holding ``roles`` there: its own account (no usable password,
    never staff) and one membership per role, so it is scoped like a person with those roles."""
    roles = list(dict.fromkeys(roles))
    _deny_unless_manages(by=by, institution=institution, roles=roles)
    if not roles:
        raise ValidationError({"roles": [_("Choose at least one role.")]})
    with transaction.atomic():
        user = User(username=_service_username(), name=name.strip()[:60], is_staff=False, is_superuser=False)
        user.set_unusable_password()
        record_save(obj=user, by=by, reason=reason)
        client = ApiClient(user=user, name=name.strip(), system=system.strip(), institution=institution,
                           created_by=by)
        record_save(obj=client, by=by, reason=reason)
        for role in roles:
            membership_grant(user=user, institution=institution, role=role, by=by, reason=reason)
    return client


def api_token_issue(*, client: ApiClient, by: User | None, reason: str, days: int | None = None,
                    now: dt.datetime | None = None) -> tuple[ApiToken, str]:
    """A new token for ``client``, valid for ``days`` (default: the configured TTL). Returns the token row and
    the token itself, which is stored only as a hash: show it once. The client's other tokens stay valid
    (rotation: issue, switch the client over, then revoke the old one)."""
    now = now or timezone.now()
    if days is not None and not 1 <= days <= API_TOKEN_MAX_DAYS:
        raise ValidationError({"days": [_("A token is valid for 1 to %(max)s days.") % {"max": API_TOKEN_MAX_DAYS}]})
    with transaction.atomic():
        client = ApiClient.objects.select_for_update().select_related("user", "institution").get(pk=client.pk)
        _deny_unless_manages(by=by, institution=client.institution)
        if not client.is_active:
            raise ActionDenied(_("This machine client is deactivated: it gets no new token."))
        digest, token = get_digest_token()
        ttl = dt.timedelta(days=days) if days is not None else knox_settings.TOKEN_TTL
        row = ApiToken(user=client.user, digest=digest, token_key=token[:CONSTANTS.TOKEN_KEY_LENGTH],
                       expiry=now + ttl, created_by=by)
        record_save(obj=row, by=by, reason=reason)
    return row, token


def _token_delete(*, token: ApiToken, by: Any, reason: str) -> None:
    token._history_user = by  # type: ignore[attr-defined]
    token._change_reason = reason  # type: ignore[attr-defined]
    token.delete()


def api_token_revoke(*, token: ApiToken, by: User | None, reason: str) -> None:
    """Revoke one token at once (its row goes; the history keeps who revoked it and why)."""
    with transaction.atomic():
        row = ApiToken.objects.select_for_update().filter(pk=token.pk).first()
        if row is None:
            return  # revoked (or expired and cleaned up) already
        client = ApiClient.objects.select_related("institution").get(user_id=row.user_id)
        _deny_unless_manages(by=by, institution=client.institution)
        _token_delete(token=row, by=by, reason=reason)


def api_client_deactivate(*, client: ApiClient, by: User | None, reason: str) -> ApiClient:
    """Switch a machine client off: its account is deactivated and every token of it revoked."""
    with transaction.atomic():
        client = ApiClient.objects.select_for_update().select_related("user", "institution").get(pk=client.pk)
        _deny_unless_manages(by=by, institution=client.institution)
        client.is_active = False
        record_save(obj=client, by=by, reason=reason)
        user = client.user
        user.is_active = False
        record_save(obj=user, by=by, reason=reason)
        for token in ApiToken.objects.filter(user=user):
            _token_delete(token=token, by=by, reason=reason)
    forget_scope(client.user)
    return client
