"""The de-identified review packet's writes: the anonymous case number a report gets when it is created,
and break-the-glass (an expert reviewer opens the identified record with a reason, the county MCH officer
is told, the view stays open for the province's hours)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from cases.models import DeathRecordAccess, DeathReport
from notifications.models import Alert
from organisations.http import ActionDenied
from organisations.models import Region
from workflows.common import save_with_history
from workflows.death import permissions as p
from workflows.death.services.base import _county_mch, _locked, _raise, rules_for

__all__ = ["death_report_break_glass", "review_number_assign"]


def _sequence(number: str) -> int:
    try:
        return int(number.rsplit("-", 1)[1])
    except (IndexError, ValueError):
        return 0


def review_number_assign(report: DeathReport) -> str:
    """Give a new report its anonymous case number, ``<county code>-<year of death>-<sequence>``
    (``350102-2026-003``): the next in its county and year. Called inside the transaction that creates
    the report; the county row is locked (``select_for_update``) until that transaction ends, so two
    deaths reported at once in one county get consecutive numbers (the unique column is the backstop).
    The number stays as given: a later correction of the time of death does not renumber the case."""
    Region.objects.select_for_update().filter(pk=report.region_id).exists()
    year = timezone.localdate(report.died_at).year
    prefix = f"{report.region_id}-{year}-"
    taken = DeathReport.objects.filter(review_number__startswith=prefix).values_list("review_number", flat=True)
    report.review_number = f"{prefix}{max((_sequence(n) for n in taken), default=0) + 1:03d}"
    return report.review_number


def death_report_break_glass(*, report: DeathReport, by: Any, reason: str) -> DeathRecordAccess:
    """An expert reviewer on the packet opens the identified record of this death: the reason is kept
    (``DeathRecordAccess``, listed on the report page to the MCH officers), the county MCH officer is
    told at once (urgent: someone outside the investigation is reading a dead woman's identity, which
    the officer should be able to question while the window is still open; nobody's life depends on it,
    so never critical), and the identified view stays open to her for ``death_break_glass_hours``."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("Say why you need the identified record.")})
    with transaction.atomic():
        report = _locked(report)
        if not p.may_break_glass(by, report):
            raise ActionDenied(_("You see this report's identified record already: only an expert reviewer "
                                 "working on the review packet breaks the glass."))
        now = timezone.now()
        hours = rules_for(report).death_break_glass_hours
        access = DeathRecordAccess(report=report, user=by, reason=reason, opened_at=now,
                                   expires_at=now + dt.timedelta(hours=hours))
        access.full_clean()
        save_with_history(access, by=by, reason="identified record opened (break the glass)")
        _raise(report, kind="death.break_glass", priority=Alert.Priority.URGENT, users=_county_mch(report),
               title=gettext_noop("%(reviewer)s opened the identified record of the death of %(woman)s"),
               body=gettext_noop("Reason given: %(reason)s. The identified view stays open until %(until)s."),
               extra={"reviewer": str(by), "reason": reason,
                      "until": timezone.localtime(access.expires_at).strftime("%Y-%m-%d %H:%M")})
    return access
