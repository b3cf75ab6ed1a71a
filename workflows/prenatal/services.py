"""Prenatal screening and diagnosis QC figures (产前筛查和产前诊断质量控制): a licensed institution enters the values of
its data elements for a period and submits them; an MCH officer of its area may return them with a reason; the
institution corrects and submits again.

Every function is a named step: it locks the report (``select_for_update``), checks who may act
(``workflows/prenatal/permissions.py``: a role that does not allow the step is ``ActionDenied``, 403; a report
that has moved on is ``TransitionConflict``, 409), validates (``ValidationError`` with field errors keyed by the
element's code, 400), runs the django-fsm transition and writes history with the user and a reason and the alerts,
all in one transaction.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from cases.models import (
    PrenatalDataElement,
    PrenatalIndicator,
    PrenatalReport,
    PrenatalValue,
    elements_for,
    indicators_for,
    licences_of,
    parse_period_key,
    validate_prenatal_values,
)
from cases.rules import province_settings
from notifications import kinds
from notifications.models import Alert
from notifications.recipients import Target, to_step, to_user
from notifications.services import alert_raise, alerts_resolve
from organisations.http import ActionDenied, TransitionConflict
from organisations.models import Institution, Membership, User
from workflows.common import save_with_history
from workflows.prenatal import permissions as p

__all__ = ["Period", "period_kind_for", "prenatal_report_return", "prenatal_report_submit", "prenatal_values_save",
           "resolve_period"]

S = PrenatalReport.State
Period = tuple[str, dt.date, dt.date]  # (kind, first day, last day)


def period_kind_for(institution: Institution, *, on: dt.date) -> str:
    """Month or quarter: the setting of the institution's province in force on ``on``."""
    return province_settings(province_code=institution.region.province_id, on=on).prenatal_qc_period


def resolve_period(institution: Institution, key: str, *, today: dt.date | None = None) -> Period:
    """The period a key names (``2026-03``, ``2026-Q1``), checked: of the kind the province collects (or of an
    existing report's kind), and already begun. A bad key is a field error ``period``."""
    today = today or timezone.localdate()
    parsed = parse_period_key(key)
    if parsed is None:
        raise ValidationError({"period": _("Name a month (2026-03) or a quarter (2026-Q1).")})
    kind, start, end = parsed
    if start > today:
        raise ValidationError({"period": _("This period has not begun yet.")})
    existing = PrenatalReport.objects.filter(institution=institution, period_kind=kind, period_start=start).exists()
    expected = period_kind_for(institution, on=start)
    if not existing and kind != expected:
        raise ValidationError({"period": _("The province collects these figures per %(kind)s.") % {
            "kind": _("month") if expected == "month" else _("quarter")}})
    return kind, start, end


def _link(report: PrenatalReport) -> str:
    return reverse("prenatal:entry", args=[report.institution_id, report.period_label])


def _locked(report: PrenatalReport) -> PrenatalReport:
    return PrenatalReport.objects.select_for_update(of=("self",)).select_related("institution__region").get(
        pk=report.pk)


def _require(allowed: bool, report: PrenatalReport, states: Iterable[str], reason: str) -> None:
    if not allowed:
        raise ActionDenied(reason)
    if report.state not in tuple(states):
        raise TransitionConflict(_("This step is no longer open: the figures are now “%(state)s”.")
                                 % {"state": report.get_state_display()})


def _entry_reason(institution: Institution) -> str:
    if not licences_of(institution):
        return _("%(institution)s is not licensed for prenatal screening or diagnosis.") % {
            "institution": institution.name}
    return _("Only the staff of %(institution)s enter and submit its prenatal QC figures.") % {
        "institution": institution.name}


def _report(institution: Institution, period: Period, by: Any) -> PrenatalReport:
    """The report of the institution and period, created (open) when it is the first entry, and locked."""
    kind, start, end = period
    report = PrenatalReport.objects.filter(institution=institution, period_kind=kind, period_start=start).first()
    if report is None:
        try:
            with transaction.atomic():
                report = PrenatalReport(institution=institution, period_kind=kind, period_start=start,
                                        period_end=end, created_by=by)
                save_with_history(report, by=by, reason="QC figures opened")
        except IntegrityError:  # created meanwhile by a colleague: take theirs
            report = PrenatalReport.objects.get(institution=institution, period_kind=kind, period_start=start)
    return _locked(report)


def _clean_values(elements: list[PrenatalDataElement], values: Mapping[str, Any]) -> dict[str, int | None]:
    known = {element.code for element in elements}
    unknown = sorted(set(values) - known)
    if unknown:
        raise ValidationError({code: _("This institution does not enter this figure.") for code in unknown})
    cleaned: dict[str, Any] = {}
    for element in elements:
        value = values.get(element.code)
        if isinstance(value, str):
            value = value.strip()
            if value == "":
                value = None
            elif value.isdigit():
                value = int(value)
        cleaned[element.code] = value
    return cleaned


def _indicators(institution: Institution) -> list[PrenatalIndicator]:
    return indicators_for(province_code=institution.region.province_id, licences=licences_of(institution))


def prenatal_values_save(*, institution: Institution, period: Period, values: Mapping[str, Any],
                         by: Any) -> PrenatalReport:
    """Save the values of every data element the institution enters for ``period`` (``values``: element code →
    a whole number ≥ 0, or None/blank for not yet known; a code left out is blank too). Opens the report with the
    first entry. Only while it is open or returned, by the institution's own staff."""
    if not p.may_enter(by, institution):
        raise ActionDenied(_entry_reason(institution))
    elements = elements_for(institution)
    cleaned = _clean_values(elements, values)
    validate_prenatal_values(cleaned, _indicators(institution))
    with transaction.atomic():
        report = _report(institution, period, by)
        _require(True, report, report.EDITABLE_STATES, "")
        existing = {v.element_id: v for v in PrenatalValue.objects.select_for_update().filter(report=report)}
        changed = 0
        for element in elements:
            value, row = cleaned[element.code], existing.get(element.pk)
            if value is None:
                if row is not None:
                    row._history_user = by  # type: ignore[attr-defined]
                    row._change_reason = "value cleared"  # type: ignore[attr-defined]
                    row.delete()
                    changed += 1
                continue
            if row is None:
                row = PrenatalValue(report=report, element=element, value=value, entered_by=by)
            elif row.value == value:
                continue
            else:
                row.value, row.entered_by = value, by
            save_with_history(row, by=by, reason="value entered")
            changed += 1
        if changed:
            save_with_history(report, by=by, reason=f"values entered: {changed}")
    return report


def _missing(report: PrenatalReport) -> list[PrenatalDataElement]:
    entered = set(PrenatalValue.objects.filter(report=report).values_list("element_id", flat=True))
    return [element for element in elements_for(report.institution) if element.pk not in entered]


def _targets(users: Iterable[User]) -> list[Target]:
    seen: dict[int, Target] = {}
    for user in users:
        seen.setdefault(user.pk, to_user(user))
    return list(seen.values())


def _entry_staff(institution: Institution) -> list[User]:
    ids = Membership.objects.filter(institution=institution, role__in=p.ENTRY_ROLES, is_active=True).values("user_id")
    return list(User.objects.filter(pk__in=ids, is_active=True).order_by("pk"))


def prenatal_report_submit(*, report: PrenatalReport, by: Any) -> PrenatalReport:
    """Submit the period's figures: every data element entered and the entry valid. The area's MCH officers are
    told; an open "returned" alert closes."""
    with transaction.atomic():
        report = _locked(report)
        _require(p.may_enter(by, report.institution), report, report.EDITABLE_STATES,
                 _entry_reason(report.institution))
        missing = _missing(report)
        if missing:
            raise ValidationError({element.code: _("Enter this figure before submitting (0 if there were none).")
                                   for element in missing})
        values = dict(PrenatalValue.objects.filter(report=report).values_list("element__code", "value"))
        validate_prenatal_values(values, _indicators(report.institution))
        resubmitted = report.state == S.RETURNED
        report.submit(by=by, at=timezone.now())
        save_with_history(report, by=by, reason="QC figures resubmitted" if resubmitted else "QC figures submitted")
        alerts_resolve(subject=report, step=kinds.PRENATAL_SUBMITTED, by=by)
        alert_raise(kind="prenatal.report_submitted", priority=Alert.Priority.ROUTINE, subject=report,
                    link=_link(report), institution=report.institution,
                    title=gettext_noop("Prenatal QC figures of %(institution)s for %(period)s submitted"),
                    params={"institution": report.institution.name, "period": report.period_label},
                    to=[to_step("mch_officer", report.institution)])
    return report


def prenatal_report_return(*, report: PrenatalReport, by: Any, reason: str) -> PrenatalReport:
    """Return submitted figures for correction, saying why; the institution's entry staff are alerted."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("Say what must be corrected.")})
    with transaction.atomic():
        report = _locked(report)
        _require(p.may_return(by, report.institution), report, [S.SUBMITTED],
                 _("Only the MCH officers of the area of %(institution)s return its figures.") % {
                     "institution": report.institution.name})
        report.return_for_correction(by=by, at=timezone.now(), reason=reason)
        save_with_history(report, by=by, reason=f"returned: {reason}")
        recipients = [*_entry_staff(report.institution), *([report.submitted_by] if report.submitted_by else [])]
        alert_raise(kind="prenatal.returned", priority=Alert.Priority.URGENT, subject=report, link=_link(report),
                    institution=report.institution,
                    title=gettext_noop("Prenatal QC figures for %(period)s returned: %(reason)s"),
                    params={"period": report.period_label, "reason": reason[:200]},
                    to=_targets(u for u in recipients if u.is_active))
    return report
