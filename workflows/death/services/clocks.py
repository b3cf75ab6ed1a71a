"""The legal clocks of a death report (deadline rows): started, met, fired with their escalation, stopped."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext_noop

from cases.models import (
    DeathReport,
    ProvinceSettings,
    ReviewLevel,
)
from notifications.models import Alert
from organisations.models import User
from workflows.common import save_with_history
from workflows.deadlines import deadline_create, deadline_handler, deadlines_cancel_for
from workflows.death.services.base import (
    CARD_DUE,
    CITY,
    INVESTIGATION_DUE,
    NEXT_STAGE,
    OVERSIGHT_ROLES,
    PASSED,
    PROVINCE,
    REPORT_DUE,
    REVIEW_DUE,
    WARN,
    S,
    _county_mch,
    _institution_users,
    _raise,
    _reviewers,
    _users_at,
    rules_for,
)


def _clock_create(report: DeathReport, *, kind: str, due: dt.datetime, rules: ProvinceSettings,
                  payload: dict[str, Any] | None = None) -> None:
    warn_at = due - dt.timedelta(hours=rules.death_clock_warning_hours)
    now = timezone.now()
    if warn_at > now:
        deadline_create(kind=kind, due_at=warn_at, subject=report, payload={**(payload or {}), "stage": WARN},
                        reason=f"{kind}: reminder")
    deadline_create(kind=kind, due_at=due, subject=report, payload={**(payload or {}), "stage": PASSED},
                    reason=kind)


def _clocks_start(report: DeathReport, *, by: Any) -> None:
    """The three legal clocks from the time of death (a hand-made report made late fires them at once)."""
    rules = rules_for(report)
    report.report_due_at = report.died_at + dt.timedelta(hours=rules.death_report_hours)
    report.card_due_at = report.died_at + dt.timedelta(days=rules.death_card_days)
    report.investigation_due_at = report.died_at + dt.timedelta(days=rules.death_investigation_days)
    save_with_history(report, by=by, reason="legal clocks set")
    _clock_create(report, kind=REPORT_DUE, due=report.report_due_at, rules=rules)
    _clock_create(report, kind=CARD_DUE, due=report.card_due_at, rules=rules)
    _clock_create(report, kind=INVESTIGATION_DUE, due=report.investigation_due_at, rules=rules)


def _clock_met(report: DeathReport, kind: str, payload: dict[str, Any]) -> bool:
    if report.state in (S.EXCLUDED, S.CLOSED):
        return True
    if kind == REPORT_DUE:
        return report.reported_at is not None
    if kind == CARD_DUE:
        return report.verified_at is not None
    if kind == INVESTIGATION_DUE:
        return report.investigated_at is not None
    return report.review_level != payload.get("level")


def _clock_who(report: DeathReport, kind: str, payload: dict[str, Any]) -> list[User]:
    """Who must act on the clock."""
    if kind in (REPORT_DUE, CARD_DUE):
        return _institution_users(report.reporting_institution) + _county_mch(report)
    if kind == INVESTIGATION_DUE:
        return _county_mch(report)
    return _reviewers(report, payload["level"])


CLOCK_TITLES = {
    REPORT_DUE: (gettext_noop("Report the death of %(woman)s by %(due)s"),
                 gettext_noop("The death of %(woman)s is not reported: it was due at %(due)s")),
    CARD_DUE: (gettext_noop("The death card of %(woman)s must reach %(county)s by %(due)s"),
               gettext_noop("The death card of %(woman)s has not reached %(county)s: it was due at %(due)s")),
    INVESTIGATION_DUE: (gettext_noop("Investigate the death of %(woman)s by %(due)s"),
                        gettext_noop("The investigation of the death of %(woman)s is overdue since %(due)s")),
    REVIEW_DUE: (gettext_noop("Review the death of %(woman)s by %(due)s"),
                 gettext_noop("The review of the death of %(woman)s is overdue since %(due)s")),
}


ESCALATED_BODY = gettext_noop("Escalated for oversight: %(institution)s (%(county)s) has not met this legal "
                              "deadline. Make sure it is dealt with now.")


@deadline_handler(REPORT_DUE)
@deadline_handler(CARD_DUE)
@deadline_handler(INVESTIGATION_DUE)
@deadline_handler(REVIEW_DUE)
def death_clock_fired(deadline: Any) -> None:
    """A legal clock reached a stage: remind, alert the missed deadline, or tell the next level up."""
    report = DeathReport.objects.select_for_update(of=("self",)).filter(pk=deadline.subject_id).select_related(
        "region", "reporting_institution__region", "woman").first()
    if report is None or _clock_met(report, deadline.kind, deadline.payload):
        return
    stage = deadline.payload.get("stage", PASSED)
    due = {REPORT_DUE: report.report_due_at, CARD_DUE: report.card_due_at,
           INVESTIGATION_DUE: report.investigation_due_at, REVIEW_DUE: report.review_due_at}[deadline.kind]
    extra = {"due": timezone.localtime(due).strftime("%Y-%m-%d %H:%M") if due else ""}
    reminder, missed = CLOCK_TITLES[deadline.kind]
    if stage == WARN:
        _raise(report, kind=deadline.kind, priority=Alert.Priority.URGENT, users=_clock_who(
            report, deadline.kind, deadline.payload), title=reminder, extra=extra)
        return
    if stage == PASSED:
        users = _clock_who(report, deadline.kind, deadline.payload) + _county_mch(report)
        body = ""
    else:
        code = report.region.city_id if stage == CITY else report.region.province_id
        users = _users_at(code, OVERSIGHT_ROLES)
        body = ESCALATED_BODY
    _raise(report, kind=deadline.kind, priority=Alert.Priority.CRITICAL, users=users, title=missed, body=body,
           extra=extra)
    following = NEXT_STAGE.get(stage)
    if deadline.kind == REVIEW_DUE and stage == PASSED and deadline.payload.get("level") == ReviewLevel.CITY:
        following = PROVINCE  # a late city review is the province's to chase
    if deadline.kind == REVIEW_DUE and deadline.payload.get("level") == ReviewLevel.PROVINCE:
        following = None  # nobody above the province
    if following is not None:
        rules = rules_for(report)
        deadline_create(kind=deadline.kind, subject=report, payload={**deadline.payload, "stage": following},
                        due_at=timezone.now() + dt.timedelta(hours=rules.death_escalation_hours),
                        reason=f"{deadline.kind}: escalate to {following}")


def _clock_stop(report: DeathReport, kind: str, *, by: Any, reason: str) -> None:
    deadlines_cancel_for(report, kind=kind, by=by, reason=reason)
