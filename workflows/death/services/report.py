"""A death report from the death to its verification: started by the death hook, on a pregnancy or by hand,
pre-filled; the card; reported, returned, verified or excluded."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from cases.models import (
    DeathReport,
    Delivery,
    HighRiskCase,
    Pregnancy,
    Referral,
    Woman,
)
from notifications import kinds
from notifications.models import Alert
from notifications.services import alerts_resolve
from organisations.http import ActionDenied, TransitionConflict
from organisations.models import Institution, Region
from workflows.common import save_with_history
from workflows.death import permissions as p
from workflows.death.services.base import (
    CARD_DUE,
    CLOCK_KINDS,
    DELIVERY_MODES,
    DELIVERY_PLACES,
    INVESTIGATION_DUE,
    OVERSIGHT_ROLES,
    REPORT_DUE,
    S,
    _county_mch,
    _county_reason,
    _institution_users,
    _locked,
    _raise,
    _reporter_reason,
    _require,
    _users_at,
)
from workflows.death.services.clocks import _clock_met, _clock_stop, _clocks_start
from workflows.death.services.packet import review_number_assign
from workflows.flows import flow_cancel, flow_complete, flow_start
from workflows.outcomes import pregnancy_end_by_death


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
    # The pregnancy's one delivery record (recorded on the pregnancy page or the high-risk case).
    pregnancy_id = pregnancy.pk if pregnancy is not None else case.pregnancy_id if case is not None else None
    delivery = Delivery.objects.filter(pregnancy_id=pregnancy_id).select_related(
        "institution__region").first() if pregnancy_id else None
    if delivery is not None and (report.died_at is None or delivery.delivered_at <= report.died_at):
        report.delivered_at = delivery.delivered_at
        report.delivery_mode = DELIVERY_MODES.get(delivery.mode, "")
        report.delivery_institution = delivery.institution
        report.delivery_place = (_place_of(delivery.institution) if delivery.institution is not None
                                 else DELIVERY_PLACES.get(delivery.place, ""))
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
    with transaction.atomic():
        review_number_assign(report)
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
