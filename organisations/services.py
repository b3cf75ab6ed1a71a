"""Writes for organisations. Keyword-only, typed, named <entity>_<action>."""

from __future__ import annotations

from typing import Any

from django.db import models, transaction

from organisations.models import AccessLog, Institution, Membership, Region, Role, User
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
    from django.core.exceptions import ValidationError
    from django.utils import timezone
    from django.utils.translation import gettext as _

    from organisations.http import ActionDenied
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
