"""Scoped reads of women and pregnancies."""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet

from cases.models import Pregnancy, Woman
from organisations.scoping import scope_q, user_scope


def visible_pregnancies(user: Any) -> QuerySet[Pregnancy]:
    """Pregnancies booked in the user's area, or at one of the user's institutions."""
    if user_scope(user).is_empty:
        return Pregnancy.objects.none()
    return Pregnancy.objects.filter(
        scope_q(user, region_field="booking_institution__region", institution_fields=["booking_institution"])
    ).select_related("woman", "booking_institution")


def visible_women(user: Any) -> QuerySet[Woman]:
    """Women living in the user's area, registered by the user's institution, or with a pregnancy the
    user may see."""
    scope = user_scope(user)
    if scope.is_empty:
        return Woman.objects.none()
    if scope.everything:
        return Woman.objects.all()
    direct = scope_q(user, region_field="residence_region", institution_fields=["registered_by"])
    return Woman.objects.filter(direct | Q(pk__in=visible_pregnancies(user).values("woman_id")))
