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
