"""A death another system recorded, entering the process by an import (workflows/imports).

The source says whether the death is maternal. A maternal death becomes a **verified** report (reported and
verified at the import, the investigation next, with its legal clock), an excluded one an **excluded**
report with the source's reason, so both count exactly as a report made in Anmu would (the indicators count
the reports not excluded). The death is recorded on her pregnancy as any death is (``pregnancy_end_by_death``:
her pregnancy is marked, each process ends its open work). The card's other fields are not in an import: the
county MCH officer completes them in the investigation.

:func:`death_import_errors` is pure (it reads only what it is given), so an importer checks every row before
anything is written; :func:`death_report_import` and :func:`death_report_import_update` write one row each,
inside the importer's transaction. Who may import is the importer's rule (workflows/imports/permissions.py),
checked by the importer before it calls these.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from cases.models import DeathReport, HighRiskCase, Pregnancy
from cases.models.death import normalise_icd10, validate_icd10
from workflows.common import save_with_history
from workflows.death.services.base import CLOCK_KINDS, INVESTIGATION_DUE, S, rules_for
from workflows.death.services.clocks import _clock_create, _clock_stop
from workflows.death.services.packet import review_number_assign
from workflows.death.services.report import _county_of, _prefill
from workflows.flows import flow_cancel, flow_complete, flow_start
from workflows.outcomes import pregnancy_end_by_death

__all__ = ["IMPORT_UPDATABLE_STATES", "death_import_changes", "death_import_errors", "death_report_import", "death_report_import_update"]

# An imported report is corrected by a later import only while nobody has worked on it in Anmu.
IMPORT_UPDATABLE_STATES = (S.VERIFIED, S.EXCLUDED)


def _add(errors: dict[str, list[str]], field: str, message: str) -> None:
    errors.setdefault(field, []).append(message)


def death_import_errors(*, pregnancy: Pregnancy, died_at: dt.datetime | None, maternal: bool | None,
                        exclusion_reason: str, icd10: str, now: dt.datetime,
                        report: DeathReport | None = None, open_report: bool = False) -> dict[str, list[str]]:
    """What is wrong with an imported death (field errors; empty when none). ``report`` is the report an
    earlier import made of this death, if any; ``open_report`` says whether her pregnancy has another report
    that is not excluded (a death is reported once)."""
    errors: dict[str, list[str]] = {}
    if died_at is None:
        _add(errors, "died_at", _("Enter the time of death."))
    else:
        if died_at > now + dt.timedelta(minutes=1):
            _add(errors, "died_at", _("The time of death cannot be in the future."))
        if timezone.localtime(died_at).date() < pregnancy.lmp:
            _add(errors, "died_at", _("The death is before the last menstrual period (%(lmp)s).")
                 % {"lmp": pregnancy.lmp.isoformat()})
    reason = (exclusion_reason or "").strip()
    if maternal is None:
        _add(errors, "maternal", _("Say whether this is a maternal death (yes or no)."))
    elif maternal and reason:
        _add(errors, "exclusion_reason", _("Leave the exclusion reason empty for a maternal death."))
    elif not maternal and not reason:
        _add(errors, "exclusion_reason", _("Say why this is not a maternal death."))
    if icd10:
        try:
            validate_icd10(icd10)
        except ValidationError as exc:
            errors.setdefault("icd10", []).extend(exc.messages)
    elif maternal:
        _add(errors, "icd10", _("Enter the ICD-10 code of the underlying cause."))
    if report is None:
        if open_report:
            _add(errors, "pregnancy", _("A death report for this pregnancy exists already."))
        return errors
    if report.pregnancy_id != pregnancy.pk:
        _add(errors, "pregnancy", _("This death was imported on another pregnancy."))
    if report.state not in IMPORT_UPDATABLE_STATES:
        changed = death_import_changes(report, died_at=died_at, maternal=maternal, exclusion_reason=reason, icd10=icd10)
        if changed:
            _add(errors, "external_id", _("The report has moved on (%(state)s): correct it on its page.")
                 % {"state": report.get_state_display()})
    elif report.state == S.EXCLUDED and maternal:
        _add(errors, "maternal", _("This death was excluded as not maternal; an import does not count it again."))
    return errors


def death_import_changes(report: DeathReport, *, died_at: dt.datetime | None, maternal: bool | None,
                         exclusion_reason: str, icd10: str) -> list[str]:
    """The columns of an imported death that differ from the report an earlier import made."""
    changed = []
    if died_at is not None and report.died_at != died_at:
        changed.append("died_at")
    if normalise_icd10(icd10) != report.icd10:
        changed.append("icd10")
    if maternal is not None and maternal != (report.state != S.EXCLUDED):
        changed.append("maternal")
    if not maternal and exclusion_reason.strip() != report.exclusion_reason:
        changed.append("exclusion_reason")
    return changed


def _set_due(report: DeathReport) -> dt.datetime:
    """The legal clocks' due times from the time of death; returns the investigation's."""
    rules = rules_for(report)
    report.report_due_at = report.died_at + dt.timedelta(hours=rules.death_report_hours)
    report.card_due_at = report.died_at + dt.timedelta(days=rules.death_card_days)
    report.investigation_due_at = report.died_at + dt.timedelta(days=rules.death_investigation_days)
    return report.investigation_due_at


def _verify(report: DeathReport, *, by: Any, now: dt.datetime, reason: str) -> None:
    report.report(by=by, at=now)
    flow_complete(report, "report")
    report.verify(by=by, at=now)
    save_with_history(report, by=by, reason=reason)
    flow_complete(report, "verify")
    _clock_create(report, kind=INVESTIGATION_DUE, due=_set_due(report), rules=rules_for(report))


def _exclude(report: DeathReport, *, by: Any, now: dt.datetime, exclusion_reason: str, reason: str) -> None:
    report.exclude(at=now, reason=exclusion_reason.strip())
    save_with_history(report, by=by, reason=reason)
    flow_cancel(report)
    for kind in CLOCK_KINDS:
        _clock_stop(report, kind, by=by, reason=reason)


def death_report_import(*, pregnancy: Pregnancy, by: Any, external_id: str, died_at: dt.datetime, maternal: bool,
                        exclusion_reason: str, icd10: str, reason: str, now: dt.datetime | None = None
                        ) -> DeathReport:
    """Record an imported death on her pregnancy: a verified report (maternal) or an excluded one, reported by
    the institution that booked her and verified by the county of her residence. Call
    :func:`death_import_errors` first."""
    now = now or timezone.now()
    with transaction.atomic():
        pregnancy = Pregnancy.objects.select_for_update(of=("self",)).select_related(
            "woman__residence_region", "booking_institution__region").get(pk=pregnancy.pk)
        case = HighRiskCase.objects.filter(pregnancy=pregnancy).first()
        institution = pregnancy.booking_institution
        report = DeathReport(woman=pregnancy.woman, pregnancy=pregnancy, case=case, origin=DeathReport.Origin.IMPORT,
                             reporting_institution=institution, created_by=by, died_at=died_at,
                             external_id=external_id, region=_county_of(case=case, woman=pregnancy.woman,
                                                                        institution=institution))
        _prefill(report, pregnancy=pregnancy, case=case, referral=None)
        report.icd10 = normalise_icd10(icd10)
        for name, value in list(_refused_prefill(report).items()):
            setattr(report, name, value)
        _set_due(report)
        review_number_assign(report)
        save_with_history(report, by=by, reason=reason)
        flow_start(report)
        # Her pregnancy is marked and each process ends its open work; the death hook finds this report.
        pregnancy_end_by_death(pregnancy=pregnancy, by=by, at=died_at, note=reason, source=pregnancy)
        if maternal:
            _verify(report, by=by, now=now, reason=reason)
        else:
            _exclude(report, by=by, now=now, exclusion_reason=exclusion_reason, reason=reason)
    return report


def _refused_prefill(report: DeathReport) -> dict[str, Any]:
    """Pre-filled card values the card refuses (an implausible age on an old record) go back to empty: the
    death itself is recorded whatever the record held (as for a report started in Anmu)."""
    try:
        report.full_clean(exclude=["woman", "pregnancy", "case", "referral", "reporting_institution", "region",
                                   "created_by", "review_number", "external_id"])
    except ValidationError as exc:
        refused = [name for name in getattr(exc, "error_dict", {}) if name in DeathReport.CARD_FIELDS
                   and name not in ("died_at", "icd10")]
        if len(refused) < len(getattr(exc, "error_dict", {})):
            raise
        return {name: DeathReport._meta.get_field(name).get_default() for name in refused}
    return {}


def death_report_import_update(*, report: DeathReport, by: Any, died_at: dt.datetime, maternal: bool,
                               exclusion_reason: str, icd10: str, reason: str, now: dt.datetime | None = None
                               ) -> bool:
    """Apply a changed row to the report an earlier import made (True when something changed): a corrected time
    of death or cause, or a death the source now says is not maternal (excluded). Call
    :func:`death_import_errors` first."""
    now = now or timezone.now()
    with transaction.atomic():
        report = DeathReport.objects.select_for_update(of=("self",)).select_related(
            "region", "reporting_institution__region", "woman").get(pk=report.pk)
        changed = death_import_changes(report, died_at=died_at, maternal=maternal, exclusion_reason=exclusion_reason,
                           icd10=icd10)
        if not changed:
            return False
        if report.state not in IMPORT_UPDATABLE_STATES:
            raise ValidationError({"external_id": _("The report has moved on: correct it on its page.")})
        report.died_at = died_at
        report.icd10 = normalise_icd10(icd10)
        if "died_at" in changed:
            _set_due(report)
        if "maternal" in changed and not maternal:
            _exclude(report, by=by, now=now, exclusion_reason=exclusion_reason, reason=reason)
            return True
        if report.state == S.EXCLUDED:
            report.exclusion_reason = exclusion_reason.strip()
        save_with_history(report, by=by, reason=reason)
        if "died_at" in changed and report.state == S.VERIFIED:
            _clock_stop(report, INVESTIGATION_DUE, by=by, reason=reason)
            _clock_create(report, kind=INVESTIGATION_DUE, due=_set_due(report), rules=rules_for(report))
    return True
