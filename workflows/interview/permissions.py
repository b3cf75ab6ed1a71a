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


# --- Circulars (通报) ------------------------------------------------------------------------------------

def circular_bureaus(user: Any) -> Any:
    """The bureaus the user issues circulars for (an active bureau officer there)."""
    from organisations.models import Institution

    return Institution.objects.filter(
        pk__in=_memberships(user).filter(role__in=BUREAU_ROLES, institution__kind=Institution.Kind.HEALTH_BUREAU
                                         ).values("institution_id")).select_related("region").order_by("name")


def member_institution_ids(user: Any) -> set[Any]:
    """Every institution the user is an active member of, in any role (the first open marks it read)."""
    return set(_memberships(user).values_list("institution_id", flat=True))


def is_issuer_officer(user: Any, circular: Any) -> bool:
    return _memberships(user).filter(role__in=BUREAU_ROLES, institution_id=circular.issuer_id).exists()


def may_draft(user: Any) -> bool:
    return user.is_authenticated and circular_bureaus(user).exists()


def may_edit_circular(user: Any, circular: Any) -> bool:
    """Any officer of the issuing bureau prepares its drafts (contents, subjects, rankings) and submits them."""
    return is_issuer_officer(user, circular)


def can_edit_circular(user: Any, circular: Any) -> bool:
    return may_edit_circular(user, circular) and circular.state == circular.State.DRAFTED


may_submit_circular = may_edit_circular
can_submit_circular = can_edit_circular


def may_approve_circular(user: Any, circular: Any) -> bool:
    """Four eyes: another officer of the same bureau, never the one who drafted or submitted it."""
    return is_issuer_officer(user, circular) and user.pk not in (circular.drafted_by_id, circular.submitted_by_id)


def can_approve_circular(user: Any, circular: Any) -> bool:
    return may_approve_circular(user, circular) and circular.state == circular.State.AWAITING


may_return_circular = may_approve_circular
can_return_circular = can_approve_circular


def may_withdraw_circular(user: Any, circular: Any) -> bool:
    return is_issuer_officer(user, circular)


def can_withdraw_circular(user: Any, circular: Any) -> bool:
    return may_withdraw_circular(user, circular) and circular.state == circular.State.PUBLISHED


def may_mark_circular_read(user: Any, circular: Any) -> bool:
    """A member of an institution the circular went to."""
    return circular.recipients.filter(institution_id__in=member_institution_ids(user)).exists()


def can_mark_circular_read(user: Any, circular: Any) -> bool:
    return may_mark_circular_read(user, circular) and circular.state == circular.State.PUBLISHED
