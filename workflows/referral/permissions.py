"""Who may take each step of a referral or a consultation, and when.

One rule per step, written once and read three ways: the service checks it (the wrong person is refused
with a reason, 403; the right person at the wrong moment gets a conflict, 409), the referral page lists the
steps it allows as the ones open to this user, and the inbox query turns it into SQL. A rule names, for each
state the step may start from, the sides of the referral that act in it:

- ``duty``: the receiving centre's duty doctors (answering is their call);
- ``escalated``: the duty doctors of the next-level centre an unanswered referral was escalated to;
- ``centre``: the receiving centre's obstetric staff (duty doctors and obstetricians), once she is coming;
- ``sender``: the clinicians of the institution that sent her.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_fsm import can_proceed

from cases.models import Consultation, Referral
from organisations.http import ActionDenied, TransitionConflict
from organisations.models import ANSWERING_ROLES, CLINICAL_ROLES, OBSTETRIC_ROLES
from organisations.selectors import acting_institution_ids, member_of
from workflows.referral.flows import ReferralFlow

S = Referral.State
DUTY, ESCALATED, CENTRE, SENDER = "duty", "escalated", "centre", "sender"

_ANSWERS = gettext_lazy("Only the duty doctors of %(centre)s answer this referral.")
_CENTRE_ACTS = gettext_lazy("Only the obstetric staff of %(centre)s act on this referral.")


@dataclass(frozen=True)
class Rule:
    sides: dict[str, tuple[str, ...]]  # the state a step starts from -> the sides that take it then
    refusal: Any  # said to someone on none of these sides (%(centre)s, %(institution)s)

    @property
    def all_sides(self) -> set[str]:
        return {side for sides in self.sides.values() for side in sides}


RULES: dict[str, Rule] = {
    "accept": Rule({S.REQUESTED: (DUTY, ESCALATED)}, _ANSWERS),
    "decline": Rule({S.REQUESTED: (DUTY,)}, _ANSWERS),
    # The centre redirects instead of answering; the sender redirects while waiting or after a decline.
    "redirect": Rule({S.REQUESTED: (DUTY, SENDER), S.DECLINED: (SENDER,)},
                     gettext_lazy("Only the receiving centre or the sending institution redirects a referral.")),
    "depart": Rule({S.ACCEPTED: (SENDER, CENTRE)},
                   gettext_lazy("Only the sending institution or the receiving centre records the departure.")),
    "arrive": Rule({S.ACCEPTED: (CENTRE,), S.DEPARTED: (CENTRE,)}, _CENTRE_ACTS),
    "start_treatment": Rule({S.ARRIVED: (CENTRE,)}, _CENTRE_ACTS),
    "outcome": Rule({S.IN_TREATMENT: (CENTRE,)}, _CENTRE_ACTS),
    "feedback": Rule({S.OUTCOME: (CENTRE,)}, _CENTRE_ACTS),
    "attach": Rule({state: (SENDER, CENTRE) for state in Referral.OPEN_STATES},
                   gettext_lazy("Only the sending institution and the receiving centre add files.")),
    # Before she arrives only: the model's ``cancel`` transition (its ``has_not_arrived`` condition) also decides.
    "cancel": Rule({state: (SENDER, CENTRE) for state in Referral.CANCELLABLE_STATES},
                   gettext_lazy("Only the sending institution or the receiving centre cancels a referral.")),
}

# The referral flow's human tasks: the step each one waits for, and the state the referral is in meanwhile.
TASK_STEPS: dict[str, tuple[str, str]] = {
    "respond": ("accept", S.REQUESTED),
    "reroute": ("redirect", S.DECLINED),
    "depart": ("depart", S.ACCEPTED),
    "arrive": ("arrive", S.DEPARTED),
    "treat": ("start_treatment", S.ARRIVED),
    "outcome": ("outcome", S.IN_TREATMENT),
    "feedback": ("feedback", S.OUTCOME),
}


def _on_side(side: str, user: Any, referral: Referral) -> bool:
    if side == DUTY:
        return member_of(user=user, institution=referral.to_centre.institution_id, roles=ANSWERING_ROLES)
    if side == ESCALATED:
        return referral.escalated_to_id is not None and member_of(
            user=user, institution=referral.escalated_to.institution_id, roles=ANSWERING_ROLES)  # type: ignore[union-attr]
    if side == CENTRE:
        return member_of(user=user, institution=referral.to_centre.institution_id, roles=OBSTETRIC_ROLES)
    return member_of(user=user, institution=referral.from_institution_id, roles=CLINICAL_ROLES)


def sides_of(user: Any, referral: Referral) -> set[str]:
    """The sides of this referral ``user`` is on (remembered on the instance: a page asks for every step)."""
    memo: dict[Any, set[str]] = referral.__dict__.setdefault("_anmu_sides", {})
    if user.pk not in memo:
        memo[user.pk] = {side for side in (DUTY, ESCALATED, CENTRE, SENDER) if _on_side(side, user, referral)}
    return memo[user.pk]


def is_sender(user: Any, referral: Referral) -> bool:
    return SENDER in sides_of(user, referral)


def is_centre_staff(user: Any, referral: Referral) -> bool:
    return CENTRE in sides_of(user, referral)


def is_centre_duty(user: Any, referral: Referral) -> bool:
    return DUTY in sides_of(user, referral)


def is_escalated_duty(user: Any, referral: Referral) -> bool:
    return ESCALATED in sides_of(user, referral)


def can(step: str, user: Any, referral: Referral) -> bool:
    """May ``user`` take ``step`` now?"""
    sides = RULES[step].sides.get(referral.state, ())
    if not set(sides) & sides_of(user, referral):
        return False
    return step != "cancel" or can_proceed(referral.cancel)


def state_conflict(referral: Referral) -> TransitionConflict:
    """The referral has moved on: say to what, and who answered when."""
    if referral.answered_by_id is not None and referral.answered_at is not None:
        return TransitionConflict(
            _("Not possible now: the referral is %(state)s (answered by %(who)s at %(at)s).") % {
                "state": referral.get_state_display(), "who": referral.answered_by,
                "at": timezone.localtime(referral.answered_at).strftime("%H:%M")})
    return TransitionConflict(_("Not possible now: the referral is %(state)s.")
                              % {"state": referral.get_state_display()})


def check(step: str, user: Any, referral: Referral) -> None:
    """The service's check: refused (ActionDenied) on none of the step's sides; a conflict
    (TransitionConflict) when the referral is not in a state this user may take the step from."""
    rule = RULES[step]
    mine = sides_of(user, referral)
    if not rule.all_sides & mine:
        raise ActionDenied(str(rule.refusal) % {"centre": referral.to_centre.institution.name,
                                                "institution": referral.from_institution.name})
    if step == "cancel" and referral.arrived_at is not None:
        raise TransitionConflict(
            _("A referral is cancelled only before she arrives: she arrived at %(at)s (the referral is %(state)s). "
              "Record the outcome instead.") % {
                "at": timezone.localtime(referral.arrived_at).strftime("%m-%d %H:%M"),  # type: ignore[arg-type]
                "state": referral.get_state_display()})
    if not set(rule.sides.get(referral.state, ())) & mine or (step == "cancel" and not can_proceed(referral.cancel)):
        raise state_conflict(referral)


def can_accept(user: Any, referral: Referral) -> bool:
    return can("accept", user, referral)


def can_decline(user: Any, referral: Referral) -> bool:
    return can("decline", user, referral)


def can_redirect(user: Any, referral: Referral) -> bool:
    return can("redirect", user, referral)


def can_depart(user: Any, referral: Referral) -> bool:
    return can("depart", user, referral)


def can_arrive(user: Any, referral: Referral) -> bool:
    return can("arrive", user, referral)


def can_start_treatment(user: Any, referral: Referral) -> bool:
    return can("start_treatment", user, referral)


def can_record_outcome(user: Any, referral: Referral) -> bool:
    return can("outcome", user, referral)


def can_give_feedback(user: Any, referral: Referral) -> bool:
    return can("feedback", user, referral)


def can_attach(user: Any, referral: Referral) -> bool:
    return can("attach", user, referral)


def can_cancel(user: Any, referral: Referral) -> bool:
    return can("cancel", user, referral)


def can_consult(user: Any, referral: Referral) -> bool:
    """Ask for a consultation about her, from the referral's page: either side."""
    return bool({SENDER, CENTRE} & sides_of(user, referral))


def can_record_near_miss(user: Any, referral: Referral) -> bool:
    """File the WHO near-miss checklist from the referral: either side, unless it was cancelled."""
    return referral.state != S.CANCELLED and can_consult(user, referral)


def can_record_caesarean(user: Any, referral: Referral) -> bool:
    """Record an emergency caesarean at the centre, once she is there."""
    return referral.state in (S.ARRIVED, S.IN_TREATMENT, S.OUTCOME) and is_centre_staff(user, referral)


def inbox_q(user: Any) -> Q:
    """The open referral tasks that are ``user``'s move, as a filter on viewflow's Task: the rules above,
    in SQL (a task is the user's when they are on a side that takes its step in the task's state)."""
    duty = acting_institution_ids(user, ANSWERING_ROLES)
    centre = acting_institution_ids(user, OBSTETRIC_ROLES)
    sender = acting_institution_ids(user, CLINICAL_ROLES)
    side_q = {
        DUTY: Q(process__referral__to_centre__institution__in=duty),
        ESCALATED: Q(process__referral__escalated_to__institution__in=duty),
        CENTRE: Q(process__referral__to_centre__institution__in=centre),
        SENDER: Q(process__referral__from_institution__in=sender),
    }
    nodes = ReferralFlow.instance
    found = Q(pk__in=[])
    for node, (step, state) in TASK_STEPS.items():
        sides = RULES[step].sides[state]
        who = Q(pk__in=[])
        for side in sides:
            who |= side_q[side]
        found |= Q(flow_task=nodes.node(node)) & who
    return found


# --- Consultations ------------------------------------------------------------------------------------


def may_answer_consultation(user: Any, consultation: Consultation) -> bool:
    """The expert it names, or the obstetric staff of the centre it is addressed to."""
    if consultation.to_expert_id is not None:
        return bool(consultation.to_expert_id == user.pk)
    return member_of(user=user, institution=consultation.to_centre.institution_id,  # type: ignore[union-attr]
                     roles=OBSTETRIC_ROLES)


def may_cancel_consultation(user: Any, consultation: Consultation) -> bool:
    """The clinicians of the institution that asked."""
    return member_of(user=user, institution=consultation.from_institution_id, roles=CLINICAL_ROLES)


def can_answer_consultation(user: Any, consultation: Consultation) -> bool:
    return consultation.state == Consultation.State.REQUESTED and may_answer_consultation(user, consultation)


def can_cancel_consultation(user: Any, consultation: Consultation) -> bool:
    return consultation.state == Consultation.State.REQUESTED and may_cancel_consultation(user, consultation)


def consultation_inbox_q(user: Any) -> Q:
    """Open consultation requests addressed to the user, or to a centre the user serves (as SQL)."""
    centre = acting_institution_ids(user, OBSTETRIC_ROLES)
    return Q(process__consultation__to_expert=user) | Q(process__consultation__to_centre__institution__in=centre)
