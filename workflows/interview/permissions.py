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


# --- Interviews (约谈) -------------------------------------------------------------------------------
# Who answers for a summoned party: its head, and at an MCH institute or a lower bureau its officers.
PARTY_ROLES = frozenset({Role.HEAD, Role.MCH_OFFICER, Role.BUREAU_OFFICER})


def bureau_officer_at(user: Any, bureau: Any) -> bool:
    """A bureau officer of exactly this bureau: who convenes its interviews."""
    if user.is_superuser:
        return True
    return _memberships(user).filter(institution=bureau, role__in=BUREAU_ROLES).exists()


def convening_bureaus(user: Any) -> list[Any]:
    """The bureaus the user convenes interviews for."""
    from organisations.models import Institution

    if user.is_superuser:
        return list(Institution.objects.filter(kind=Institution.Kind.HEALTH_BUREAU, is_active=True))
    return [m.institution for m in _memberships(user).filter(role__in=BUREAU_ROLES).select_related(
        "institution__region")]


def in_area_of(bureau: Any, institution: Any) -> bool:
    """The institution lies in the bureau's area (its region or below), and is not the bureau itself."""
    region, area = institution.region, bureau.region
    if institution.pk == bureau.pk:
        return False
    return area.code in {region.code, region.city_id, region.province_id}


def answers_for(user: Any, party: Any) -> bool:
    if user.is_superuser:
        return True
    return _memberships(user).filter(institution_id=party.institution_id, role__in=PARTY_ROLES).exists()


def may_convene(user: Any, interview: Any) -> bool:
    return bureau_officer_at(user, interview.bureau)


def can_dismiss(user: Any, interview: Any) -> bool:
    return interview.state == "proposed" and may_convene(user, interview)


def can_notify(user: Any, interview: Any) -> bool:
    return interview.state == "proposed" and may_convene(user, interview)


def can_hold(user: Any, interview: Any) -> bool:
    return interview.state == "notified" and may_convene(user, interview)


def can_acknowledge(user: Any, party: Any) -> bool:
    return party.state == "summoned" and party.interview.state == "notified" and answers_for(user, party)


def can_submit_plan(user: Any, party: Any) -> bool:
    return party.state == "plan_due" and answers_for(user, party)


def can_decide_plan(user: Any, party: Any) -> bool:
    return party.state == "plan_submitted" and may_convene(user, party.interview)


def can_submit_report(user: Any, party: Any) -> bool:
    return party.state == "plan_accepted" and answers_for(user, party)


def can_verify(user: Any, party: Any) -> bool:
    return party.state == "report_submitted" and may_convene(user, party.interview)


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


# Evidence of the rectification: the party while its plan or report is due; the convening bureau's officers
# (an on-site check's photos) until the party's rectification is verified.
EVIDENCE_PARTY_STATES = ("plan_due", "plan_submitted", "plan_accepted")
EVIDENCE_BUREAU_STATES = ("plan_due", "plan_submitted", "plan_accepted", "report_submitted")


def may_attach_evidence(user: Any, party: Any) -> bool:
    return answers_for(user, party) or may_convene(user, party.interview)


def can_attach_evidence(user: Any, party: Any) -> bool:
    if may_convene(user, party.interview) and party.state in EVIDENCE_BUREAU_STATES:
        return True
    return answers_for(user, party) and party.state in EVIDENCE_PARTY_STATES
