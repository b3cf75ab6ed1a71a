"""Maternal death reporting and review (孕产妇死亡个案报告与评审).

Every function is a named step: it locks the report row (``select_for_update`` on PostgreSQL), checks who
may act (``workflows/death/permissions.py``: a role that does not allow the step is ``ActionDenied``, 403)
and from which state (a report that has moved on is ``TransitionConflict``, 409), runs the report's
django-fsm transition, writes history with the user and a reason, completes the viewflow task, sets or
cancels the legal clocks (deadline rows) and raises alerts, all in one transaction. Bad input is a
``ValidationError`` with field errors (400). The pages and the API call these functions and nothing else.

The legal clocks (province settings, national defaults 24 h / 2 days / 30 days, then each review level's
days) are deadline rows of the one engine: an urgent reminder ``death_clock_warning_hours`` before a
clock passes, a critical alert when it passes (to whoever must act and the county MCH officer), and, while
it stays missed, the city's and then the province's MCH and bureau officers every
``death_escalation_hours``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from cases.models import (
    Avoidability,
    DeathReport,
    DeathReviewConclusion,
    HighRiskCase,
    Pregnancy,
    ProvinceSettings,
    Referral,
    ReviewLevel,
    Woman,
)
from cases.models.death import LEVEL_RANK
from cases.rules import province_settings
from notifications import kinds
from notifications.models import Alert
from notifications.recipients import Target, to_user
from notifications.services import alert_raise, alerts_resolve
from organisations.http import ActionDenied, TransitionConflict
from organisations.models import Institution, Membership, Region, Role, User
from workflows.common import save_with_history
from workflows.deadlines import deadline_create, deadline_handler, deadlines_cancel_for
from workflows.death import permissions as p
from workflows.flows import flow_cancel, flow_complete, flow_start
from workflows.outcomes import pregnancy_end_by_death

S = DeathReport.State
REPORT_DUE = "death.report_due"
CARD_DUE = "death.card_due"
INVESTIGATION_DUE = "death.investigation_due"
REVIEW_DUE = "death.review_due"
CLOCK_KINDS = (REPORT_DUE, CARD_DUE, INVESTIGATION_DUE, REVIEW_DUE)
# A clock's stages: the reminder, the missed deadline, then the city and the province told.
WARN, PASSED, CITY, PROVINCE = "warn", "passed", "city", "province"
NEXT_STAGE = {PASSED: CITY, CITY: PROVINCE}
OVERSIGHT_ROLES = frozenset({Role.MCH_OFFICER, Role.BUREAU_OFFICER})
CASE_DELIVERY_MODES: dict[str, str] = {HighRiskCase.DeliveryMode.VAGINAL: DeathReport.DeliveryMode.SPONTANEOUS,
                       HighRiskCase.DeliveryMode.ASSISTED: DeathReport.DeliveryMode.ASSISTED,
                       HighRiskCase.DeliveryMode.CAESAREAN: DeathReport.DeliveryMode.CAESAREAN}


def death_link(report: DeathReport) -> str:
    return reverse("death:detail", args=[report.pk])


def rules_for(report: DeathReport) -> ProvinceSettings:
    return province_settings(province_code=report.region.province_id, on=timezone.localdate(report.died_at))


# --- Checks --------------------------------------------------------------------------------------

def _locked(report: DeathReport) -> DeathReport:
    return DeathReport.objects.select_for_update(of=("self",)).select_related(
        "region", "reporting_institution__region", "woman").get(pk=report.pk)


def _require(allowed: bool, report: DeathReport, states: Iterable[str], reason: str) -> None:
    """403 with ``reason`` when the role does not allow the step; 409 when the state has moved on."""
    if not allowed:
        raise ActionDenied(reason)
    if report.state not in tuple(states):
        raise TransitionConflict(_("This step is no longer open: the report is now “%(state)s”.")
                                 % {"state": report.get_state_display()})


def _reporter_reason(report: DeathReport) -> str:
    return _("Only the doctors of %(institution)s or its county MCH officer act on this report.") % {
        "institution": report.reporting_institution.name}


def _county_reason(report: DeathReport) -> str:
    return _("Only the MCH officers of %(county)s take this step.") % {"county": report.region.name}


# --- Who is told ---------------------------------------------------------------------------------

def _users_at(code: str | None, roles: Iterable[str]) -> list[User]:
    if not code:
        return []
    ids = Membership.objects.filter(role__in=list(roles), is_active=True, institution__is_active=True,
                                    institution__region_id=code).values("user_id")
    return list(User.objects.filter(pk__in=ids, is_active=True).order_by("pk"))


def _institution_users(institution: Institution) -> list[User]:
    ids = Membership.objects.filter(institution=institution, role__in=list(p.REPORTER_ROLES), is_active=True
                                    ).values("user_id")
    return list(User.objects.filter(pk__in=ids, is_active=True).order_by("pk"))


def _targets(users: Iterable[User]) -> list[Target]:
    seen: dict[int, Target] = {}
    for user in users:
        seen.setdefault(user.pk, to_user(user))
    return list(seen.values())


def _county_mch(report: DeathReport) -> list[User]:
    return _users_at(report.region_id, {Role.MCH_OFFICER})


def _reviewers(report: DeathReport, level: str) -> list[User]:
    return _users_at(p.level_region_code(report, level), p.REVIEWER_ROLES)


def _params(report: DeathReport) -> dict[str, Any]:
    return {"woman": report.woman.name, "institution": report.reporting_institution.name,
            "county": report.region.name, "died_at": timezone.localtime(report.died_at).strftime("%Y-%m-%d %H:%M")}


def _raise(report: DeathReport, *, kind: str, priority: str, users: Iterable[User], title: str, body: str = "",
           extra: dict[str, Any] | None = None, now: dt.datetime | None = None) -> list[Alert]:
    return alert_raise(kind=kind, priority=priority, subject=report, link=death_link(report), title=title, body=body,
                       params={**_params(report), **(extra or {})}, to=_targets(users),
                       institution=report.reporting_institution, now=now)


# --- Clocks --------------------------------------------------------------------------------------

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


# --- Creating a report ---------------------------------------------------------------------------

def _place_of(institution: Institution | None) -> str:
    if institution is None:
        return ""
    if institution.kind == Institution.Kind.PRIMARY_CARE:
        return DeathReport.Place.TOWNSHIP
    if institution.region.level == Region.Level.COUNTY and (institution.level or 0) < 3:
        return DeathReport.Place.COUNTY_HOSPITAL
    return DeathReport.Place.PROVINCE_CITY_HOSPITAL


def _county_of(*, case: HighRiskCase | None, woman: Woman, institution: Institution) -> Region:
    """The county whose MCH institute verifies and investigates: her high-risk case's register county, else
    the county she lives in, else the reporting institution's region."""
    if case is not None:
        return case.region
    if woman.residence_region.level == Region.Level.COUNTY:
        return woman.residence_region
    return institution.region


def _age_at(born: dt.date, on: dt.date) -> int:
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


def _prefill(report: DeathReport, *, pregnancy: Pregnancy | None, case: HighRiskCase | None,
             referral: Referral | None) -> None:
    """What Anmu already knows goes on the card; the reporter checks and completes it."""
    woman = report.woman
    report.residence_region = woman.residence_region
    report.age_years = _age_at(woman.date_of_birth, timezone.localdate(report.died_at))
    if pregnancy is not None:
        report.lmp, report.gravidity, report.parity = pregnancy.lmp, pregnancy.gravidity, pregnancy.parity
        report.antenatal_care = True
        report.first_visit_weeks = max(0, pregnancy.gestational_age(pregnancy.booking_date)[0])
        report.last_antenatal_institution = pregnancy.booking_institution.name
        status = pregnancy.status
        if status == Pregnancy.Status.DIED:  # the death was marked just before this hook ran: what was she?
            status = pregnancy.history.exclude(status=Pregnancy.Status.DIED).order_by("-history_date").values_list(
                "status", flat=True).first() or status
        if status == Pregnancy.Status.ONGOING:
            report.delivery_mode = DeathReport.DeliveryMode.UNDELIVERED
    if case is not None and case.delivered_at:
        report.delivery_mode = CASE_DELIVERY_MODES.get(case.delivery_mode, "")
        report.delivery_institution = case.delivery_institution
        report.delivery_place = _place_of(case.delivery_institution)
    if referral is not None:
        report.death_institution = referral.to_centre.institution
        report.death_place = _place_of(referral.to_centre.institution)
        report.death_transferred_in = True
        report.death_first_visit = False
        report.cause_a = referral.diagnosis[:200]


def _start(report: DeathReport, *, by: Any) -> DeathReport:
    # A pre-filled value the card refuses (an implausible age on an old record) is left for the reporter to
    # fill in: the death itself must be recorded whatever the record held.
    try:
        report.full_clean(exclude=["icd10"])
    except ValidationError as exc:
        refused = [name for name in getattr(exc, "error_dict", {}) if name in DeathReport.CARD_FIELDS
                   and name != "died_at"]
        if not refused or len(refused) < len(exc.error_dict):
            raise
        for name in refused:
            setattr(report, name, DeathReport._meta.get_field(name).get_default())
        report.full_clean(exclude=["icd10"])
    save_with_history(report, by=by, reason=f"death report created ({report.origin})")
    flow_start(report)
    _clocks_start(report, by=by)
    _raise(report, kind="death.drafted", priority=Alert.Priority.URGENT, users=[by] if by.is_active else [],
           title=gettext_noop("Maternal death of %(woman)s: complete and report the card"),
           body=gettext_noop("The report is due within the legal deadline from the death (%(died_at)s)."))
    if report.origin in (DeathReport.Origin.PREGNANCY, DeathReport.Origin.MANUAL):
        # A death on a case or a referral has alerted the county's officers already (highrisk/referral.death).
        _raise(report, kind="death.recorded", priority=Alert.Priority.URGENT,
               users=_users_at(report.region_id, OVERSIGHT_ROLES),
               title=gettext_noop("Maternal death: %(woman)s"),
               body=gettext_noop("Recorded by %(institution)s (died %(died_at)s). The report card follows."))
    return report


def _open_report_for(pregnancy: Pregnancy) -> DeathReport | None:
    return DeathReport.objects.filter(pregnancy=pregnancy).exclude(state=S.EXCLUDED).first()


def death_report_on_death(*, pregnancy: Pregnancy, case: HighRiskCase | None, by: Any, source: Any) -> DeathReport:
    """The ``MATERNAL_DEATH_HOOKS`` hook: a death recorded on a case or as a referral's outcome starts its
    report, pre-filled from the record (once per pregnancy; a report already started is kept)."""
    existing = _open_report_for(pregnancy)
    if existing is not None:
        return existing
    referral = source if isinstance(source, Referral) else None
    if referral is not None:
        institution, died_at, origin = referral.to_centre.institution, referral.outcome_at, DeathReport.Origin.REFERRAL
    elif case is not None:
        institution, died_at, origin = case.institution, case.died_at, DeathReport.Origin.CASE
    else:
        institution, died_at, origin = pregnancy.booking_institution, timezone.now(), DeathReport.Origin.PREGNANCY
    died_at = died_at or timezone.now()
    report = DeathReport(woman=pregnancy.woman, pregnancy=pregnancy, case=case, referral=referral, origin=origin,
                         reporting_institution=institution, created_by=by, died_at=died_at,
                         region=_county_of(case=case, woman=pregnancy.woman, institution=institution))
    _prefill(report, pregnancy=pregnancy, case=case, referral=referral)
    return _start(report, by=by)


def _check_death_time(at: dt.datetime) -> None:
    if at > timezone.now() + dt.timedelta(minutes=1):
        raise ValidationError({"died_at": _("The time of death cannot be in the future.")})


def pregnancy_record_death(*, pregnancy: Pregnancy, by: Any, institution: Institution, died_at: dt.datetime,
                           note: str) -> DeathReport:
    """The "record a death" action on any pregnancy (high-risk or not, or up to 42 days after its end): her
    pregnancy is marked, each process ends its open work on her, and the report starts at ``institution``."""
    _check_death_time(died_at)
    if not (note or "").strip():
        raise ValidationError({"note": _("Write where and how she died.")})
    if not p.is_reporter(by, institution.pk):
        raise ActionDenied(_("You do not hold a role at %(institution)s that reports deaths.")
                           % {"institution": institution.name})
    with transaction.atomic():
        pregnancy = Pregnancy.objects.select_for_update(of=("self",)).select_related(
            "woman__residence_region", "booking_institution").get(pk=pregnancy.pk)
        if _open_report_for(pregnancy) is not None:
            raise TransitionConflict(_("A death report for this pregnancy exists already."))
        case = HighRiskCase.objects.filter(pregnancy=pregnancy).first()
        report = DeathReport(woman=pregnancy.woman, pregnancy=pregnancy, case=case, origin=DeathReport.Origin.PREGNANCY,
                             reporting_institution=institution, created_by=by, died_at=died_at,
                             region=_county_of(case=case, woman=pregnancy.woman, institution=institution))
        _prefill(report, pregnancy=pregnancy, case=case, referral=None)
        _start(report, by=by)
        # The hook finds this report and keeps it.
        pregnancy_end_by_death(pregnancy=pregnancy, by=by, at=died_at, note=note.strip(), source=pregnancy)
    return report


def death_report_create_manual(*, by: Any, institution: Institution, woman: Woman, died_at: dt.datetime
                               ) -> DeathReport:
    """A death Anmu learnt of by hand (at home, on the way, at an institution that never booked her). The
    woman was found by document number or registered first (``woman_register``, the same de-dup as
    registration). Her open pregnancy in Anmu, if any, is marked and its processes end their work."""
    _check_death_time(died_at)
    if not p.is_reporter(by, institution.pk):
        raise ActionDenied(_("You do not hold a role at %(institution)s that reports deaths.")
                           % {"institution": institution.name})
    with transaction.atomic():
        pregnancy = Pregnancy.objects.filter(
            woman=woman, status__in=[Pregnancy.Status.ONGOING, Pregnancy.Status.DELIVERED]).order_by(
            "-booking_date").first()
        if pregnancy is not None and _open_report_for(pregnancy) is not None:
            raise TransitionConflict(_("A death report for her pregnancy exists already."))
        case = HighRiskCase.objects.filter(pregnancy=pregnancy).first() if pregnancy is not None else None
        report = DeathReport(woman=woman, pregnancy=pregnancy, case=case, origin=DeathReport.Origin.MANUAL,
                             reporting_institution=institution, created_by=by, died_at=died_at,
                             region=_county_of(case=case, woman=woman, institution=institution))
        _prefill(report, pregnancy=pregnancy, case=case, referral=None)
        _start(report, by=by)
        if pregnancy is not None:
            pregnancy_end_by_death(pregnancy=pregnancy, by=by, at=died_at, note=_("Reported by hand."),
                                   source=pregnancy)
    return report


# --- The card ------------------------------------------------------------------------------------

def death_report_update_card(*, report: DeathReport, by: Any, data: dict[str, Any]) -> DeathReport:
    """Edit the card's fields (only those: never the state or a step's record) while it is drafted or
    returned. A corrected time of death moves the clocks not met yet."""
    unknown = set(data) - set(DeathReport.CARD_FIELDS)
    if unknown:
        raise ValidationError({name: [_("This field cannot be changed here.")] for name in sorted(unknown)})
    with transaction.atomic():
        report = _locked(report)
        _require(p.may_edit_card(by, report), report, p.EDITABLE_STATES, _reporter_reason(report))
        old_death = report.died_at
        for name, value in data.items():
            setattr(report, name, value)
        report.full_clean(exclude=["woman", "pregnancy", "case", "referral", "reporting_institution", "region",
                                   "created_by"])
        if report.died_at is not None:
            _check_death_time(report.died_at)
        save_with_history(report, by=by, reason="card edited")
        if report.died_at != old_death:
            for kind in (REPORT_DUE, CARD_DUE, INVESTIGATION_DUE):
                _clock_stop(report, kind, by=by, reason="time of death corrected")
            _clocks_start(report, by=by)
            for kind in (REPORT_DUE, CARD_DUE, INVESTIGATION_DUE):
                if _clock_met(report, kind, {}):
                    _clock_stop(report, kind, by=by, reason="already met")
    return report


# --- The steps -----------------------------------------------------------------------------------

def death_report_report(*, report: DeathReport, by: Any) -> DeathReport:
    """The institution reports the card (上报): the 24-hour clock is met, the county MCH officer is asked
    to verify it, and the alerts that asked for the report close."""
    with transaction.atomic():
        report = _locked(report)
        _require(p.may_report(by, report), report, p.EDITABLE_STATES, _reporter_reason(report))
        missing = report.missing_to_report()
        if missing:
            raise ValidationError(missing)
        first = report.reported_at is None
        report.report(by=by, at=timezone.now() if first else report.reported_at)
        save_with_history(report, by=by, reason="reported" if first else "corrected and reported again")
        flow_complete(report, "report")
        _clock_stop(report, REPORT_DUE, by=by, reason="reported")
        for subject in (report, report.case, report.referral):
            if subject is not None:
                alerts_resolve(subject=subject, step=kinds.DEATH_REPORTED, by=by)
        _raise(report, kind="death.reported", priority=Alert.Priority.URGENT, users=_county_mch(report),
               title=gettext_noop("Maternal death of %(woman)s reported by %(institution)s: verify the card"))
    return report


def death_report_return(*, report: DeathReport, by: Any, reason: str) -> DeathReport:
    """The county MCH officer returns the card for correction, saying what to correct (the card's clock
    keeps running)."""
    if not (reason or "").strip():
        raise ValidationError({"reason": _("Say what to correct.")})
    with transaction.atomic():
        report = _locked(report)
        _require(p.may_verify(by, report), report, [S.REPORTED], _county_reason(report))
        report.return_for_correction(at=timezone.now(), reason=reason.strip())
        save_with_history(report, by=by, reason=f"returned: {reason.strip()}")
        flow_complete(report, "verify")
        alerts_resolve(subject=report, step=kinds.DEATH_VERIFIED, by=by)
        users = [u for u in [report.reported_by] if u is not None] + _institution_users(report.reporting_institution)
        _raise(report, kind="death.returned", priority=Alert.Priority.URGENT, users=users,
               title=gettext_noop("The death card of %(woman)s was returned for correction"),
               body=gettext_noop("%(reason)s"), extra={"reason": reason.strip()})
    return report


def death_report_verify(*, report: DeathReport, by: Any) -> DeathReport:
    """The county MCH officer confirms the card: it has reached the county MCH institute (the 2-day clock
    is met) and the investigation is now hers."""
    with transaction.atomic():
        report = _locked(report)
        _require(p.may_verify(by, report), report, [S.REPORTED], _county_reason(report))
        report.verify(by=by, at=timezone.now())
        save_with_history(report, by=by, reason="verified")
        flow_complete(report, "verify")
        _clock_stop(report, CARD_DUE, by=by, reason="card verified")
        alerts_resolve(subject=report, step=kinds.DEATH_VERIFIED, by=by)
    return report


def death_report_exclude(*, report: DeathReport, by: Any, reason: str) -> DeathReport:
    """Not a maternal death (after day 42, an accidental or incidental cause): kept, counted apart."""
    if not (reason or "").strip():
        raise ValidationError({"reason": _("Say why this is not a maternal death.")})
    with transaction.atomic():
        report = _locked(report)
        _require(p.may_exclude(by, report), report, p.EXCLUDABLE_STATES, _county_reason(report))
        report.exclude(at=timezone.now(), reason=reason.strip())
        save_with_history(report, by=by, reason=f"excluded: {reason.strip()}")
        flow_cancel(report)
        for kind in CLOCK_KINDS:
            _clock_stop(report, kind, by=by, reason="excluded")
        alerts_resolve(subject=report, step=kinds.DEATH_EXCLUDED, by=by)
        for subject in (report.case, report.referral):
            if subject is not None:
                alerts_resolve(subject=subject, step=kinds.DEATH_REPORTED, by=by)
        _raise(report, kind="death.excluded", priority=Alert.Priority.ROUTINE,
               users=_institution_users(report.reporting_institution),
               title=gettext_noop("The death of %(woman)s is not counted as a maternal death"),
               body=gettext_noop("%(reason)s"), extra={"reason": reason.strip()})
    return report


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
                          disagrees_with_lower: bool = False) -> DeathReport:
    """The level awaited concludes (评审结论). The upper level sees the lower conclusions and may disagree;
    the highest level's conclusion is the report's final one. The province's settings say whether the
    city and the province review next (all deaths, avoidable or disputed ones, or none)."""
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
        conclusion = DeathReviewConclusion.objects.filter(report=report, level=level).first() or \
            DeathReviewConclusion(report=report, level=level)
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
