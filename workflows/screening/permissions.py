"""Who may take each step of screening and assessment, and at which institutions.

A screening step is taken *for an institution*: the person needs the step's permission (their role's) and an
active membership there in one of the step's roles. One rule per step, read by the service's check (403 with
the reason), by the pages (which institutions to offer, whether to show the button), and by nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext_lazy

from organisations.models import BOOKING_ROLES, OBSTETRIC_ROLES, Institution
from organisations.selectors import acting_institutions
from workflows.common import require_member, require_perm


@dataclass(frozen=True)
class Rule:
    perm: str
    roles: frozenset[str]
    refusal: Any  # said to a role without the permission


RULES: dict[str, Rule] = {
    "register": Rule("cases.add_woman", BOOKING_ROLES, gettext_lazy("Your role does not include registering women.")),
    "book": Rule("cases.add_pregnancy", BOOKING_ROLES, gettext_lazy("Your role does not include booking pregnancies.")),
    "screen": Rule("cases.add_screening", BOOKING_ROLES, gettext_lazy("Your role does not include screening.")),
    "assess": Rule("cases.add_assessment", OBSTETRIC_ROLES,
                   gettext_lazy("Your role does not include risk assessment.")),
    # Voiding an assessment and recording a continuation evaluation: the assessing institution's doctors.
    "void": Rule("cases.add_assessment", OBSTETRIC_ROLES, gettext_lazy("Your role does not include risk assessment.")),
    "evaluate": Rule("cases.add_assessment", OBSTETRIC_ROLES,
                     gettext_lazy("Your role does not include risk assessment.")),
}


def institutions_for(step: str, user: Any) -> list[Institution]:
    """Where ``user`` may take ``step`` (empty: the page does not offer it)."""
    rule = RULES[step]
    if not user.has_perm(rule.perm):
        return []
    return acting_institutions(user, rule.roles)


def can(step: str, user: Any) -> bool:
    return bool(institutions_for(step, user))


def check(step: str, user: Any, institution: Institution, *, perm: bool = True) -> None:
    """The service's check (ActionDenied with the reason). ``perm=False`` for steps on an existing record
    (void, evaluate), which need only the membership at the record's institution, as before."""
    rule = RULES[step]
    if perm:
        require_perm(user=user, perm=rule.perm, reason=str(rule.refusal))
    require_member(user=user, institution=institution, roles=rule.roles)


def can_register(user: Any) -> bool:
    return can("register", user)


def can_book(user: Any) -> bool:
    return can("book", user)


def can_screen(user: Any) -> bool:
    return can("screen", user)


def can_assess(user: Any) -> bool:
    return can("assess", user)
