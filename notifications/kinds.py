"""Every kind of alert, declared once: its name, its nature, the priorities it may have and what resolves it.

An **actionable** alert is tied to a pending step (answer this referral, report this case, write the death
report). It resolves by itself when that step is taken, by anyone, for everyone, naming who did it: the
service that performs the step calls ``alerts_resolve(subject=..., step=..., by=...)`` with one of the
steps named in ``resolved_by``. It may be critical, and then escalates by its policy.

An **informational** alert tells what happened (accepted, departed, feedback given, a colleague's action).
It is routine or urgent, never critical: it never escalates and never sends SMS. Some close when a later
step makes them moot (``resolved_by`` again, e.g. "accepted, record the departure" once she has left).

Either kind closes with a reason once the record it is about reaches a state where it no longer applies
(the referral ended, the case closed, the woman died): ``alerts_close_stale``. Death alerts are about the
death itself and its report, so they outlive their record (``outlives_subject``).

``alert_raise`` refuses a kind that is not declared here, a priority the kind does not allow, and any
escalation of an informational kind: a mistake fails loudly in tests.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import models
from django.utils.translation import gettext_lazy as _

ROUTINE, URGENT, CRITICAL = "routine", "urgent", "critical"


class Nature(models.TextChoices):
    ACTIONABLE = "actionable", _("Something to do")
    INFORMATIONAL = "informational", _("For information")


# Steps that resolve alerts. Each is passed to ``alerts_resolve`` by the service that performs it.
REFERRAL_ANSWERED = "referral.answered"              # accepted, declined or redirected by a centre
REFERRAL_REROUTED = "referral.rerouted"              # the sender redirected a declined referral
REFERRAL_DEPARTED = "referral.departed"
REFERRAL_ARRIVED = "referral.arrived"
REFERRAL_FEEDBACK_GIVEN = "referral.feedback_given"
CONSULTATION_ANSWERED = "consultation.answered"
CASE_REPORTED = "highrisk.reported"
CASE_REASSIGNED = "highrisk.reassigned"              # a new responsible doctor (reassigned or transferred)
WOMAN_FOUND = "highrisk.found"                       # found by tracing, or seen again at a visit
TRANSFER_ANSWERED = "highrisk.transfer_answered"
SCREEN_ASSESSED = "screening.assessed"
CONTINUATION_EVALUATED = "screening.evaluated"
ROSTER_COVERED = "roster.covered"                    # someone is now on duty
# Maternal death reporting and review (孕产妇死亡报告与评审, workflows/death/services.py).
DEATH_REPORTED = "death.reported"                    # the institution reported the card
DEATH_VERIFIED = "death.verified"                    # the county MCH officer confirmed the card
DEATH_EXCLUDED = "death.excluded"                    # found not to be a maternal death
DEATH_INVESTIGATED = "death.investigated"            # the county investigation is recorded
DEATH_REVIEWED = "death.reviewed"                    # a review level concluded
DEATH_CLOSED = "death.closed"
MEASURE_DONE = "death.measure_done"                  # the owner institution recorded a measure done
MEASURE_CHECKED = "death.measure_checked"            # the bureau verified the evidence or rejected it
MEASURE_CANCELLED = "death.measure_cancelled"
# Circulars (通报, workflows/interview/services/circular.py).
CIRCULAR_DECIDED = "circular.decided"              # approved (published) or returned by another officer
CIRCULAR_READ = "circular.read"                    # a member of the recipient institution opened it
CIRCULAR_WITHDRAWN = "circular.withdrawn"
# Prenatal screening and diagnosis QC (产前筛查和产前诊断质量控制, workflows/prenatal/services.py).
PRENATAL_SUBMITTED = "prenatal.submitted"            # the institution submitted (or resubmitted) its figures
# The annual evaluation (评估, workflows/evaluation/services.py).
EVALUATION_SUBMITTED = "evaluation.submitted"        # the subject submitted its self-evaluation
EVALUATION_EVALUATED = "evaluation.evaluated"        # the level above returned, passed or failed it
EVALUATION_REEVALUATED = "evaluation.reevaluated"    # re-evaluated after the rectification
# Steps of processes not built yet (none today).
FUTURE_STEPS: frozenset[str] = frozenset()

# Interviews (约谈, workflows/interview/services/interview.py).
INTERVIEW_DECIDED = "interview.decided"               # a proposal accepted (notice issued) or dismissed
INTERVIEW_ACKNOWLEDGED = "interview.acknowledged"     # a summoned party acknowledged the notice
INTERVIEW_PLAN_SUBMITTED = "interview.plan_submitted"
INTERVIEW_PLAN_DECIDED = "interview.plan_decided"     # the bureau accepted or returned the plan
INTERVIEW_REPORT_SUBMITTED = "interview.report_submitted"
INTERVIEW_VERIFIED = "interview.verified"             # the bureau verified the rectification (passed or failed)


@dataclass(frozen=True)
class AlertKind:
    code: str
    label: Any  # lazy zh-hans name shown in the inbox
    nature: str
    priorities: frozenset[str]
    resolved_by: tuple[str, ...] = ()
    outlives_subject: bool = False

    @property
    def actionable(self) -> bool:
        return self.nature == Nature.ACTIONABLE

    def __post_init__(self) -> None:
        if self.nature == Nature.INFORMATIONAL and CRITICAL in self.priorities:
            raise ValueError(f"{self.code}: an informational alert is never critical")
        if self.nature == Nature.ACTIONABLE and not self.resolved_by:
            raise ValueError(f"{self.code}: an actionable alert names the step that resolves it")


def _act(code: str, label: Any, *priorities: str, by: tuple[str, ...], outlives: bool = False) -> AlertKind:
    return AlertKind(code, label, Nature.ACTIONABLE, frozenset(priorities), by, outlives)


def _info(code: str, label: Any, *priorities: str, by: tuple[str, ...] = ()) -> AlertKind:
    return AlertKind(code, label, Nature.INFORMATIONAL, frozenset(priorities), by)


_ALL = [
    # Referral and rescue (危急重症转诊救治)
    _act("referral.requested", _("Referral: answer it"), CRITICAL, URGENT, by=(REFERRAL_ANSWERED,)),
    _act("referral.escalated", _("Referral unanswered: escalated"), CRITICAL, by=(REFERRAL_ANSWERED,)),
    _info("referral.escalated.oversight", _("Referral unanswered: for oversight"), URGENT, by=(REFERRAL_ANSWERED,)),
    _info("referral.unanswered", _("Referral still unanswered"), URGENT, by=(REFERRAL_ANSWERED,)),
    _info("referral.accepted", _("Referral accepted"), URGENT, ROUTINE, by=(REFERRAL_DEPARTED, REFERRAL_ARRIVED)),
    _act("referral.declined", _("Referral declined: redirect"), CRITICAL, URGENT, by=(REFERRAL_REROUTED,)),
    _info("referral.redirected", _("Referral redirected"), URGENT),
    _info("referral.departed", _("Referral: on the way"), URGENT, ROUTINE, by=(REFERRAL_ARRIVED,)),
    _info("referral.arrived", _("Referral: arrived"), ROUTINE),
    _info("referral.outcome", _("Referral: outcome"), URGENT, ROUTINE),
    _act("referral.death", _("Maternal death after referral"), CRITICAL, by=(DEATH_REPORTED,), outlives=True),
    _info("referral.feedback", _("Referral: feedback"), ROUTINE),
    _act("referral.feedback_overdue", _("Referral feedback overdue"), URGENT, by=(REFERRAL_FEEDBACK_GIVEN,)),
    _info("referral.cancelled", _("Referral cancelled"), URGENT),
    _act("consultation.requested", _("Consultation: answer it"), CRITICAL, URGENT, by=(CONSULTATION_ANSWERED,)),
    _info("consultation.answered", _("Consultation answered"), ROUTINE),
    _act("consultation.escalated", _("Consultation unanswered: escalated"), CRITICAL, by=(CONSULTATION_ANSWERED,)),
    _info("consultation.escalated.oversight", _("Consultation unanswered: for oversight"), URGENT,
          by=(CONSULTATION_ANSWERED,)),
    _info("nearmiss.marked", _("Near miss recorded"), URGENT),
    # High-risk case management (高危孕产妇专案管理)
    _act("highrisk.opened", _("High-risk case: report it"), URGENT, by=(CASE_REPORTED,)),
    _info("highrisk.opened.mch", _("New high-risk case"), URGENT, by=(CASE_REPORTED,)),
    _info("highrisk.reported", _("High-risk case reported"), ROUTINE),
    _act("highrisk.report_overdue", _("High-risk case report overdue"), CRITICAL, by=(CASE_REPORTED,)),
    _info("highrisk.reassigned", _("Responsible doctor changed"), URGENT, ROUTINE),
    _info("highrisk.delivery_place", _("Delivery planned below the required level"), URGENT),
    _act("highrisk.tracing", _("Missed visit: trace her"), URGENT, by=(WOMAN_FOUND,)),
    _act("highrisk.lost", _("Lost to follow-up"), CRITICAL, by=(WOMAN_FOUND,)),
    _act("highrisk.transfer_requested", _("Case transfer: answer it"), URGENT, by=(TRANSFER_ANSWERED,)),
    _info("highrisk.transfer_accepted", _("Case transfer accepted"), ROUTINE),
    _info("highrisk.transfer_rejected", _("Case transfer rejected"), URGENT),
    _info("highrisk.transfer_withdrawn", _("Case transfer withdrawn"), ROUTINE),
    _act("highrisk.death", _("Maternal death"), CRITICAL, by=(DEATH_REPORTED,), outlives=True),
    _act("highrisk.orphaned", _("Case without a responsible doctor"), URGENT, by=(CASE_REASSIGNED,)),
    # Maternal death reporting and review (孕产妇死亡报告与评审)
    _act("death.drafted", _("Maternal death: complete and report the card"), URGENT,
         by=(DEATH_REPORTED, DEATH_EXCLUDED)),
    _act("death.report_due", _("Maternal death report due"), URGENT, CRITICAL, by=(DEATH_REPORTED, DEATH_EXCLUDED)),
    _act("death.card_due", _("Maternal death card due at the county MCH institute"), URGENT, CRITICAL,
         by=(DEATH_VERIFIED, DEATH_EXCLUDED)),
    _act("death.reported", _("Maternal death reported: verify the card"), URGENT, by=(DEATH_VERIFIED, DEATH_EXCLUDED)),
    _act("death.returned", _("Maternal death card returned for correction"), URGENT,
         by=(DEATH_REPORTED, DEATH_EXCLUDED)),
    _info("death.recorded", _("Maternal death recorded"), URGENT),
    _info("death.excluded", _("Death excluded: not a maternal death"), ROUTINE),
    _act("death.investigation_due", _("Maternal death investigation due"), URGENT, CRITICAL,
         by=(DEATH_INVESTIGATED, DEATH_EXCLUDED)),
    _act("death.review_requested", _("Maternal death: review it"), URGENT, by=(DEATH_REVIEWED,)),
    _act("death.review_due", _("Maternal death review due"), URGENT, CRITICAL, by=(DEATH_REVIEWED,)),
    _act("death.reviews_done", _("Maternal death reviewed: close the report"), ROUTINE, by=(DEATH_CLOSED,)),
    _info("death.unlocked", _("Closed maternal death report unlocked"), URGENT),
    _info("death.meeting_member", _("Death review meeting: you sit on the panel"), ROUTINE),
    _info("death.break_glass", _("Identified death record opened by a reviewer"), URGENT),
    _act("death.measure_set", _("Improvement measure for your institution"), ROUTINE,
         by=(MEASURE_DONE, MEASURE_CANCELLED)),
    _act("death.measure_due", _("Improvement measure due"), URGENT, CRITICAL, by=(MEASURE_DONE, MEASURE_CANCELLED)),
    _act("death.measure_done", _("Improvement measure done: verify the evidence"), ROUTINE, by=(MEASURE_CHECKED,)),
    _act("death.measure_rejected", _("Improvement measure: evidence rejected"), URGENT,
         by=(MEASURE_DONE, MEASURE_CANCELLED)),
    _info("death.measure_verified", _("Improvement measure verified"), ROUTINE),
    # Risk screening and assessment (妊娠风险筛查与评估)
    _info("screening.woman_found", _("Her record was found by another institution"), ROUTINE),
    _act("screening.referred", _("Screen positive: assess her"), URGENT, ROUTINE, by=(SCREEN_ASSESSED,)),
    _act("screening.assessment_overdue", _("Assessment overdue after a positive screen"), URGENT,
         by=(SCREEN_ASSESSED,)),
    _info("screening.colour_rose", _("Risk colour rose"), URGENT, ROUTINE),
    _act("screening.continuation_requested", _("Red woman: evaluate whether the pregnancy can continue"), URGENT,
         by=(CONTINUATION_EVALUATED,)),
    _act("screening.continuation_overdue", _("Continuation evaluation overdue"), CRITICAL,
         by=(CONTINUATION_EVALUATED,)),
    # Interviews (约谈)
    _act("interview.proposed", _("Interview proposed: decide"), URGENT, ROUTINE, by=(INTERVIEW_DECIDED,)),
    _act("interview.notice", _("Interview notice: acknowledge it"), URGENT, by=(INTERVIEW_ACKNOWLEDGED,)),
    _act("interview.acknowledge_due", _("Interview notice not acknowledged"), URGENT, CRITICAL,
         by=(INTERVIEW_ACKNOWLEDGED,)),
    _act("interview.plan_requested", _("Interview held: submit the rectification plan"), URGENT,
         by=(INTERVIEW_PLAN_SUBMITTED,)),
    _act("interview.plan_due", _("Rectification plan due"), URGENT, CRITICAL, by=(INTERVIEW_PLAN_SUBMITTED,)),
    _act("interview.plan_submitted", _("Rectification plan submitted: accept or return it"), URGENT,
         by=(INTERVIEW_PLAN_DECIDED,)),
    _act("interview.plan_returned", _("Rectification plan returned: revise it"), URGENT,
         by=(INTERVIEW_PLAN_SUBMITTED,)),
    _act("interview.plan_accepted", _("Rectification plan accepted: report when done"), ROUTINE,
         by=(INTERVIEW_REPORT_SUBMITTED,)),
    _act("interview.report_due", _("Rectification report due"), URGENT, CRITICAL, by=(INTERVIEW_REPORT_SUBMITTED,)),
    _act("interview.report_submitted", _("Rectification report submitted: verify it"), URGENT,
         by=(INTERVIEW_VERIFIED,)),
    _info("interview.verified", _("Rectification verified"), URGENT, ROUTINE),
    _act("interview.escalated", _("Rectification failed: follow-up interview proposed"), URGENT,
         by=(INTERVIEW_DECIDED,)),
    # Duty roster (值班)
    _act("roster.gap", _("Nobody on duty"), CRITICAL, by=(ROSTER_COVERED,)),
    _info("roster.shift", _("Duty roster: shift assigned"), ROUTINE),
    _info("roster.handover", _("Duty roster: handover note"), URGENT),
    # Prenatal screening and diagnosis QC (产前筛查和产前诊断质量控制)
    _info("prenatal.report_submitted", _("Prenatal QC figures submitted"), ROUTINE),
    _act("prenatal.returned", _("Prenatal QC figures returned: correct and resubmit"), URGENT, ROUTINE,
         by=(PRENATAL_SUBMITTED,)),
    # The annual evaluation (评估)
    _act("evaluation.opened", _("Evaluation round opened: self-evaluate and submit"), URGENT, ROUTINE,
         by=(EVALUATION_SUBMITTED,)),
    _act("evaluation.self_due", _("Self-evaluation not submitted"), URGENT, CRITICAL, by=(EVALUATION_SUBMITTED,)),
    _act("evaluation.submitted", _("Self-evaluation submitted: evaluate it"), URGENT, ROUTINE,
         by=(EVALUATION_EVALUATED,)),
    _act("evaluation.due", _("Evaluation not done"), URGENT, CRITICAL, by=(EVALUATION_EVALUATED,)),
    _act("evaluation.returned", _("Self-evaluation returned: correct and resubmit"), URGENT,
         by=(EVALUATION_SUBMITTED,)),
    _info("evaluation.result", _("Evaluation result"), ROUTINE, URGENT),
    _info("evaluation.delisted", _("Rescue centre de-listed"), URGENT),
    _info("evaluation.restored", _("Rescue centre restored"), ROUTINE),
    # Circulars (通报)
    _act("circular.submitted", _("Circular: approve or return it"), URGENT, by=(CIRCULAR_DECIDED,)),
    _info("circular.returned", _("Circular returned to its draft"), ROUTINE),
    _info("circular.published", _("Circular published to you"), ROUTINE, URGENT, by=(CIRCULAR_READ, CIRCULAR_WITHDRAWN)),
    _info("circular.unread", _("Circular not yet opened"), ROUTINE, URGENT, by=(CIRCULAR_READ, CIRCULAR_WITHDRAWN)),
]

KINDS: dict[str, AlertKind] = {kind.code: kind for kind in _ALL}


def kind_for(code: str) -> AlertKind:
    """The declared kind, or ValueError: an alert of an undeclared kind is a programming error."""
    try:
        return KINDS[code]
    except KeyError:
        raise ValueError(f"unknown alert kind {code!r}: declare it in notifications/kinds.py") from None


def kind_label(code: str) -> str:
    kind = KINDS.get(code)
    return str(kind.label) if kind is not None else code


def kinds_resolved_by(step: str) -> list[str]:
    return [kind.code for kind in KINDS.values() if step in kind.resolved_by]


def stale_kinds_excluded() -> list[str]:
    return [kind.code for kind in KINDS.values() if kind.outlives_subject]
