"""The investigation and the reviews at each level, closure (locked) and the provincial unlock; the table of
steps the pages and the API dispatch through."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from cases.models import (
    Avoidability,
    DeathReport,
    DeathReviewConclusion,
    ProvinceSettings,
    ReviewLevel,
    ReviewMeeting,
)
from cases.models.death import LEVEL_RANK
from notifications import kinds
from notifications.models import Alert
from notifications.services import alerts_resolve
from organisations.http import ActionDenied, TransitionConflict
from organisations.models import Role
from workflows.common import save_with_history
from workflows.death import permissions as p
from workflows.death.services.base import (
    INVESTIGATION_DUE,
    REVIEW_DUE,
    S,
    _county_mch,
    _county_reason,
    _locked,
    _raise,
    _require,
    _reviewers,
    _users_at,
    rules_for,
)
from workflows.death.services.clocks import _clock_create, _clock_stop
from workflows.death.services.panels import check_meeting, check_opinions, save_opinions, table_values
from workflows.death.services.report import (
    death_report_exclude,
    death_report_report,
    death_report_return,
    death_report_verify,
)
from workflows.flows import flow_complete


def _level_required(rules: ProvinceSettings, level: str, conclusions: list[DeathReviewConclusion]) -> bool:
    scope = rules.death_review_city if level == ReviewLevel.CITY else rules.death_review_province
    if scope == "all":
        return True
    if scope == "none":
        return False
    avoidable = {Avoidability.AVOIDABLE, Avoidability.CONDITIONALLY}
    return any(c.avoidability in avoidable or c.disagrees_with_lower for c in conclusions) or len(
        {c.icd10[:3] for c in conclusions}) > 1


def _enter_review(report: DeathReport, level: str, *, by: Any) -> None:
    rules = rules_for(report)
    days = {ReviewLevel.COUNTY: rules.death_review_county_days, ReviewLevel.CITY: rules.death_review_city_days,
            ReviewLevel.PROVINCE: rules.death_review_province_days}[ReviewLevel(level)]
    report.review_due_at = timezone.now() + dt.timedelta(days=days)
    if level not in report.review_levels:
        report.review_levels = [*report.review_levels, level]
    save_with_history(report, by=by, reason=f"awaiting {level} review")
    _clock_create(report, kind=REVIEW_DUE, due=report.review_due_at, rules=rules, payload={"level": level})
    _raise(report, kind="death.review_requested", priority=Alert.Priority.URGENT, users=_reviewers(report, level),
           title=gettext_noop("Review the maternal death of %(woman)s (%(county)s)"))


def death_report_investigate(*, report: DeathReport, by: Any, findings: str, interviews: str = "") -> DeathReport:
    """The county investigation (核查) is recorded: the 30-day clock is met and the county review starts."""
    if not (findings or "").strip():
        raise ValidationError({"findings": _("Write what the investigation found.")})
    with transaction.atomic():
        report = _locked(report)
        _require(p.may_investigate(by, report), report, [S.VERIFIED], _county_reason(report))
        report.record_investigation(by=by, at=timezone.now(), findings=findings.strip(),
                                    interviews=(interviews or "").strip(), levels=[ReviewLevel.COUNTY.value])
        save_with_history(report, by=by, reason="investigated")
        flow_complete(report, "investigate")
        _clock_stop(report, INVESTIGATION_DUE, by=by, reason="investigated")
        alerts_resolve(subject=report, step=kinds.DEATH_INVESTIGATED, by=by)
        _enter_review(report, ReviewLevel.COUNTY, by=by)
    return report


def death_report_conclude(*, report: DeathReport, by: Any, avoidability: str, underlying_cause: str, icd10: str,
                          cause_class: str, icd_mm_group: int, note: str = "",
                          disagrees_with_lower: bool = False, cells: Mapping[str, Any] | None = None,
                          delays: Mapping[str, Any] | None = None, meeting: ReviewMeeting | None = None,
                          opinions: Iterable[Mapping[str, Any]] = ()) -> DeathReport:
    """The level awaited concludes (评审结论). The upper level sees the lower conclusions and may disagree;
    the highest level's conclusion is the report's final one. The province's settings say whether the
    city and the province review next (all deaths, avoidable or disputed ones, or none).

    The conclusion carries the 12-cell table (``cells``: ``individual_knowledge`` True/False/None and
    ``individual_knowledge_note``, ...) and the three delays (``delays``: ``delay_seeking`` and
    ``delay_seeking_note``, ...); ``note`` holds the main problems. Recorded in a review ``meeting`` (of
    this level, the death on its agenda), it carries the members' ``opinions`` ({member, agrees, dissent})."""
    values = table_values(cells, delays)
    with transaction.atomic():
        report = _locked(report)
        level = report.review_level
        mine = [lvl for lvl in ReviewLevel if p.may_review(by, report, lvl)]
        if not mine:
            raise ActionDenied(_("Only the MCH officers and expert reviewers of the level awaited review this "
                                 "death."))
        if level not in mine:
            # Another reviewer concluded first (or the report is at another level): a conflict, not a refusal.
            raise TransitionConflict(_("This step is no longer open: the report is now “%(state)s”.")
                                     % {"state": report.get_state_display()})
        assert level is not None  # noqa: S101  (a level is awaited: the check above guarantees it)
        if meeting is not None:
            meeting = ReviewMeeting.objects.select_for_update(of=("self",)).get(pk=meeting.pk)
            check_meeting(meeting, report, level, by)
        rows = check_opinions(meeting, opinions)
        conclusion = DeathReviewConclusion.objects.filter(report=report, level=level).first() or \
            DeathReviewConclusion(report=report, level=level)
        for column, value in values.items():
            setattr(conclusion, column, value)
        conclusion.meeting = meeting
        conclusion.avoidability, conclusion.underlying_cause = avoidability, (underlying_cause or "").strip()
        conclusion.icd10, conclusion.cause_class, conclusion.icd_mm_group = icd10, cause_class, icd_mm_group
        conclusion.note, conclusion.disagrees_with_lower = (note or "").strip(), bool(disagrees_with_lower)
        conclusion.concluded_at, conclusion.concluded_by = timezone.now(), by
        conclusion.full_clean(exclude=["report"])
        try:
            with transaction.atomic():
                save_with_history(conclusion, by=by, reason=f"{level} conclusion")
        except IntegrityError:
            raise TransitionConflict(_("Another reviewer concluded this level at the same moment.")) from None
        save_opinions(conclusion, rows, by=by)
        conclusions = list(report.conclusions.all())
        rules = rules_for(report)
        following = None
        for upper in (ReviewLevel.CITY, ReviewLevel.PROVINCE):
            if LEVEL_RANK[upper] > LEVEL_RANK[ReviewLevel(level)] and _level_required(rules, upper, conclusions):
                following = upper
                break
        report.conclude_review(conclusion=conclusion, next_level=following)
        save_with_history(report, by=by, reason=f"{level} review concluded: {avoidability}")
        flow_complete(report, "review")
        _clock_stop(report, REVIEW_DUE, by=by, reason=f"{level} review concluded")
        alerts_resolve(subject=report, step=kinds.DEATH_REVIEWED, by=by)
        if following is not None:
            _enter_review(report, following, by=by)
        else:
            report.review_due_at = None
            save_with_history(report, by=by, reason="reviews done")
            _raise(report, kind="death.reviews_done", priority=Alert.Priority.ROUTINE,
                   users=_users_at(p.level_region_code(report, level), {Role.MCH_OFFICER}),
                   title=gettext_noop("The reviews of the death of %(woman)s are done: close the report"))
    return report


def death_report_close(*, report: DeathReport, by: Any) -> DeathReport:
    """Closed and locked: nothing changes any more unless a provincial officer unlocks it."""
    with transaction.atomic():
        report = _locked(report)
        _require(p.may_close(by, report), report, [S.REVIEWED],
                 _("Only the MCH officers of the level that gave the final conclusion close the report."))
        report.close(by=by, at=timezone.now())
        save_with_history(report, by=by, reason="closed and locked")
        flow_complete(report, "close")
        alerts_resolve(subject=report, step=kinds.DEATH_CLOSED, by=by)
    return report


def death_report_unlock(*, report: DeathReport, by: Any, reason: str) -> DeathReport:
    """A provincial officer unlocks a closed report with a reason (logged in its history): it returns to
    the final level's review, whose reviewers are told."""
    if not (reason or "").strip():
        raise ValidationError({"reason": _("Say why the closed report is unlocked.")})
    with transaction.atomic():
        report = _locked(report)
        _require(p.may_unlock(by, report), report, [S.CLOSED],
                 _("Only a provincial MCH or bureau officer unlocks a closed death report."))
        report.unlock(by=by, at=timezone.now(), reason=reason.strip())
        save_with_history(report, by=by, reason=f"unlocked: {reason.strip()}")
        level = report.review_level or ReviewLevel.COUNTY
        _raise(report, kind="death.unlocked", priority=Alert.Priority.URGENT,
               users=_reviewers(report, level) + _county_mch(report),
               title=gettext_noop("The closed death report of %(woman)s was unlocked"),
               body=gettext_noop("%(reason)s"), extra={"reason": reason.strip()})
    return report


# The steps a page or the API offers, by name: (permission, service).
STEPS: dict[str, tuple[Callable[[Any, DeathReport], bool], Callable[..., DeathReport]]] = {
    "report": (p.can_report, death_report_report),
    "return": (p.can_verify, death_report_return),
    "verify": (p.can_verify, death_report_verify),
    "exclude": (p.can_exclude, death_report_exclude),
    "investigate": (p.can_investigate, death_report_investigate),
    "conclude": (p.can_review, death_report_conclude),
    "close": (p.can_close, death_report_close),
    "unlock": (p.can_unlock, death_report_unlock),
}
