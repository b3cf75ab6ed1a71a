"""Who opens the evaluation (评估): the bureaus and MCH institutes that evaluate, the heads of the institutions
and centres evaluated, the expert reviewers who evaluate on site, and the system administrators who keep the
schemes. Clinicians on duty have nothing to do here."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy

from organisations.models import Membership, Role

EVALUATION_ROLES = frozenset({Role.BUREAU_OFFICER, Role.MCH_OFFICER, Role.EXPERT_REVIEWER, Role.HEAD,
                              Role.SYSTEM_ADMIN})
DENIED = gettext_lazy("The evaluation opens to bureau and MCH officers, heads of institutions, expert reviewers "
                      "and system administrators.")


def may_open(user: Any) -> bool:
    if not getattr(user, "is_authenticated", False):
        return False
    return bool(user.is_superuser or Membership.objects.filter(
        user=user, is_active=True, institution__is_active=True, role__in=EVALUATION_ROLES).exists())


# --- Rounds: who acts on a submission ----------------------------------------------------------------------
# A system self-evaluates through the bureau and MCH officers of its own area; a rescue centre through the head
# and MCH officers of its host institution. The level above evaluates through its bureau and MCH officers and
# the expert reviewers of its institutions. A round is opened by the province's bureau officers or its system
# administrator.
SYSTEM_SELF_ROLES = frozenset({Role.BUREAU_OFFICER, Role.MCH_OFFICER})
CENTRE_SELF_ROLES = frozenset({Role.HEAD, Role.MCH_OFFICER})
EVALUATOR_ROLES = frozenset({Role.BUREAU_OFFICER, Role.MCH_OFFICER, Role.EXPERT_REVIEWER})
OPENER_ROLES = frozenset({Role.BUREAU_OFFICER, Role.SYSTEM_ADMIN})


def _members(user: Any) -> Any:
    return Membership.objects.filter(user=user, is_active=True, institution__is_active=True)


def may_open_round(user: Any, province: Any) -> bool:
    if not getattr(user, "is_authenticated", False):
        return False
    return bool(user.is_superuser or _members(user).filter(role__in=OPENER_ROLES,
                                                          institution__region=province).exists())


def self_evaluator_memberships(submission: Any) -> Any:
    if submission.subject == "centre":
        return Membership.objects.filter(institution_id=submission.centre.institution_id, is_active=True,
                                         role__in=CENTRE_SELF_ROLES)
    return Membership.objects.filter(institution__region=submission.region, institution__is_active=True,
                                     is_active=True, role__in=SYSTEM_SELF_ROLES)


def evaluator_memberships_at(region_id: Any) -> Any:
    """Those who evaluate for the area ``region_id`` (its submissions below, its re-check sample)."""
    return Membership.objects.filter(institution__region_id=region_id, institution__is_active=True,
                                     is_active=True, role__in=EVALUATOR_ROLES)


def evaluator_memberships(submission: Any) -> Any:
    if submission.evaluator_id is None:
        return Membership.objects.none()
    return evaluator_memberships_at(submission.evaluator_id)


def may_evaluate_for(user: Any, region: Any) -> bool:
    """``user`` evaluates for ``region``: draws its sample of the areas below."""
    if not getattr(user, "is_authenticated", False):
        return False
    return bool(user.is_superuser or evaluator_memberships_at(region.pk).filter(user=user).exists())


def may_self_evaluate(user: Any, submission: Any) -> bool:
    if not getattr(user, "is_authenticated", False):
        return False
    return bool(user.is_superuser or self_evaluator_memberships(submission).filter(user=user).exists())


def may_evaluate(user: Any, submission: Any) -> bool:
    if not getattr(user, "is_authenticated", False) or submission.evaluator_id is None:
        return False
    return bool(user.is_superuser or evaluator_memberships(submission).filter(user=user).exists())
