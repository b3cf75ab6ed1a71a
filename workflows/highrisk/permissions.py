"""Who may take each step of a high-risk case, and when.

One rule per step, read three ways: the service checks it (the wrong person is refused with a reason, 403;
the right person at the wrong moment gets a conflict, 409, as in the referral process), the case page lists
the steps it allows as the ones open to this user, and the worklists read the same role sets. The sides:

- ``clinician``: the obstetric doctors of the institution that manages the case;
- ``county``: the MCH officer whose area holds the case (reassigns and reopens).

A transfer's answer is the receiving institution's: its inbox is the flow's task query (flows.py).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext_lazy

from cases.models import CaseTransfer, FollowUpVisit, HighRiskCase, Tracing
from organisations.http import ActionDenied, TransitionConflict
from organisations.models import OBSTETRIC_ROLES, Role
from organisations.scoping import area_q, user_scope
from organisations.selectors import member_of

S = HighRiskCase.State
CLINICIAN, COUNTY = "clinician", "county"

_CLINICIANS = gettext_lazy("Only the doctors of %(institution)s act on this case.")
_IS = gettext_lazy("This case is %(state)s.")
NO_PENDING_TRANSFER = gettext_lazy("No transfer of this case awaits an answer.")


@dataclass(frozen=True)
class Rule:
    sides: dict[str, tuple[str, ...]]  # the state a step starts from -> the sides that take it then
    refusal: Any = _CLINICIANS
    conflict: Any = _IS  # said when the case is in no state this step starts from (%(state)s)
    # A further condition on the case's records (a visit due, a tracing open): unmet, the step is not offered.
    needs: Callable[[HighRiskCase], bool] | None = field(default=None)
    unmet: Any = None  # said when ``needs`` is unmet (a conflict, 409 in an API)

    @property
    def all_sides(self) -> set[str]:
        return {side for sides in self.sides.values() for side in sides}


def _in(states: tuple[str, ...], *sides: str) -> dict[str, tuple[str, ...]]:
    return {state: sides for state in states}


OPEN = tuple(HighRiskCase.OPEN_STATES)
EVERY = tuple(S.values)


def due_visit(case: HighRiskCase) -> FollowUpVisit | None:
    return case.visits.filter(status__in=[FollowUpVisit.Status.SCHEDULED, FollowUpVisit.Status.MISSED]).order_by(
        "due_on").first()


def open_tracing(case: HighRiskCase) -> Tracing | None:
    return case.tracings.filter(status=Tracing.Status.OPEN).first()


def pending_transfer(case: HighRiskCase) -> CaseTransfer | None:
    return case.transfers.filter(status=CaseTransfer.Status.REQUESTED).first()


RULES: dict[str, Rule] = {
    "report": Rule(_in((S.OPENED,), CLINICIAN), conflict=gettext_lazy("This case was already reported.")),
    "plan": Rule(_in(OPEN, CLINICIAN)),
    "visit": Rule(_in(OPEN, CLINICIAN), needs=lambda case: due_visit(case) is not None,
                  unmet=gettext_lazy("No visit of this case is due.")),
    "reassign": Rule(_in(OPEN, CLINICIAN, COUNTY), refusal=gettext_lazy(
        "Only the doctors of the managing institution or the county MCH officer reassign a case.")),
    "delivery_place": Rule(_in(OPEN, CLINICIAN)),
    "tracing": Rule(_in(EVERY, CLINICIAN), needs=lambda case: open_tracing(case) is not None,
                    unmet=gettext_lazy("No tracing of this woman is open.")),
    "transfer": Rule(_in(OPEN, CLINICIAN), needs=lambda case: pending_transfer(case) is None,
                     unmet=gettext_lazy("A transfer of this case is already awaiting an answer.")),
    "transfer_withdraw": Rule(_in(EVERY, CLINICIAN), needs=lambda case: pending_transfer(case) is not None,
                              unmet=NO_PENDING_TRANSFER),
    "delivery": Rule(_in((S.OPENED, S.REPORTED, S.MANAGING, S.LOST), CLINICIAN)),
    "postpartum": Rule(_in((S.DELIVERED,), CLINICIAN),
                       conflict=gettext_lazy("Postpartum follow-up starts after the delivery is recorded.")),
    "close": Rule(_in(OPEN, CLINICIAN)),
    "reopen": Rule(_in((S.CLOSED,), CLINICIAN, COUNTY), refusal=gettext_lazy(
        "Only the doctors of the managing institution or the county MCH officer reopen a case."),
                   conflict=gettext_lazy("Only a closed case is reopened.")),
    "near_miss": Rule(_in(EVERY, CLINICIAN)),
    "death": Rule(_in(OPEN, CLINICIAN)),
}


def is_case_clinician(user: Any, case: HighRiskCase) -> bool:
    return member_of(user=user, institution=case.institution_id, roles=OBSTETRIC_ROLES)


def is_area_mch_officer(user: Any, case: HighRiskCase) -> bool:
    scope = user_scope(user)
    return Role.MCH_OFFICER in scope.roles and HighRiskCase.objects.filter(
        area_q(scope, "region"), pk=case.pk).exists()


def sides_of(user: Any, case: HighRiskCase) -> set[str]:
    """The sides of this case ``user`` is on (remembered on the instance: a page asks for every step)."""
    memo: dict[Any, set[str]] = case.__dict__.setdefault("_anmu_sides", {})
    if user.pk not in memo:
        memo[user.pk] = ({CLINICIAN} if is_case_clinician(user, case) else set()) | (
            {COUNTY} if is_area_mch_officer(user, case) else set())
    return memo[user.pk]


def can(step: str, user: Any, case: HighRiskCase) -> bool:
    """May ``user`` take ``step`` now (the page offers it)?"""
    rule = RULES[step]
    if not set(rule.sides.get(case.state, ())) & sides_of(user, case):
        return False
    return rule.needs is None or rule.needs(case)


def check(step: str, user: Any, case: HighRiskCase) -> None:
    """The service's check: refused (ActionDenied) on none of the step's sides; a conflict
    (TransitionConflict, 409 in an API) when the case is in no state this user may take the step from."""
    rule = RULES[step]
    mine = sides_of(user, case)
    if not rule.all_sides & mine:
        raise ActionDenied(str(rule.refusal) % {"institution": case.institution.name})
    if not set(rule.sides.get(case.state, ())) & mine:
        raise TransitionConflict(str(rule.conflict) % {"state": case.get_state_display()})


def require(step: str, user: Any, case: HighRiskCase) -> None:
    """``can`` with its reason, for a caller that must say why a step is not open (the API): refused
    (ActionDenied, 403) off the step's sides, a conflict (TransitionConflict, 409) in a state the step does not
    start from or when the records it needs are missing (no visit due, no tracing open)."""
    check(step, user, case)
    rule = RULES[step]
    if rule.needs is not None and not rule.needs(case):
        raise TransitionConflict(str(rule.unmet or _IS) % {"state": case.get_state_display()})


def require_case_clinician(user: Any, case: HighRiskCase) -> None:
    """For the steps on a case's parts (a visit, a tracing, a transfer) whose own state the service checks."""
    if not is_case_clinician(user, case):
        raise ActionDenied(str(_CLINICIANS) % {"institution": case.institution.name})


def can_report(user: Any, case: HighRiskCase) -> bool:
    return can("report", user, case)


def can_plan(user: Any, case: HighRiskCase) -> bool:
    return can("plan", user, case)


def can_record_visit(user: Any, case: HighRiskCase) -> bool:
    return can("visit", user, case)


def can_reassign(user: Any, case: HighRiskCase) -> bool:
    return can("reassign", user, case)


def can_plan_delivery_place(user: Any, case: HighRiskCase) -> bool:
    return can("delivery_place", user, case)


def can_trace(user: Any, case: HighRiskCase) -> bool:
    return can("tracing", user, case)


def can_request_transfer(user: Any, case: HighRiskCase) -> bool:
    return can("transfer", user, case)


def can_withdraw_transfer(user: Any, case: HighRiskCase) -> bool:
    return can("transfer_withdraw", user, case)


def can_record_delivery(user: Any, case: HighRiskCase) -> bool:
    return can("delivery", user, case)


def can_start_postpartum(user: Any, case: HighRiskCase) -> bool:
    return can("postpartum", user, case)


def can_close(user: Any, case: HighRiskCase) -> bool:
    return can("close", user, case)


def can_reopen(user: Any, case: HighRiskCase) -> bool:
    return can("reopen", user, case)


def can_record_near_miss(user: Any, case: HighRiskCase) -> bool:
    return can("near_miss", user, case)


def can_record_death(user: Any, case: HighRiskCase) -> bool:
    return can("death", user, case)
