"""Who may act in interviews and circulars, written once (CONVENTIONS habit 12): one ``may_<step>`` (the role
and area; refused: 403 with a reason) and one ``can_<step>`` (the state allows it now) per step."""

from __future__ import annotations

from typing import Any

from organisations.models import Membership, Role

# Bureaus convene interviews and issue circulars; MCH officers see their area's (they prepare the evidence).
BUREAU_ROLES = frozenset({Role.BUREAU_OFFICER})
DESK_ROLES = frozenset({Role.BUREAU_OFFICER, Role.MCH_OFFICER})


def _memberships(user: Any) -> Any:
    return Membership.objects.filter(user=user, is_active=True, institution__is_active=True)


def may_open(user: Any) -> bool:
    """Every active member: a bureau's desk, or an institution's inbox of notices and circulars."""
    if not user.is_authenticated:
        return False
    return user.is_superuser or _memberships(user).exists()


def has_desk(user: Any) -> bool:
    return bool(user.is_superuser or _memberships(user).filter(role__in=DESK_ROLES).exists())
