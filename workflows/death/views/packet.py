"""The de-identified review packet (评审资料包) of a maternal death, and break-the-glass.

Expert reviewers who are not also MCH officers work on the packet: the anonymous case number, the card's
clinical fields without her name, document number, phone, address, card number or birth attendant, the
investigation narrative with her identity taken out, the case summary that writes itself (the timeline,
``workflows/death/timeline.py``) and the lower levels' conclusions. Seeing the identified record is
break-the-glass: a reason, a row in ``DeathRecordAccess``, an alert to the county MCH officer, and the
identified report page open to her for the province's hours.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from cases.limits import REASON_MAX_CHARS
from cases.models import DeathReport
from cases.selectors import visible_death_reports
from organisations.http import ActionDenied, get_visible_or_404
from organisations.models import AccessLog
from organisations.services import access_record
from workflows.death import permissions as p
from workflows.death import services as ds
from workflows.death.timeline import Redactor, death_report_timeline, referral_intervals
from workflows.death.views.report import _steps, card_rows
from workflows.forms import apply_errors

__all__ = ["PACKET_EXCLUDED_FIELDS", "packet_card_rows", "packet_context", "report_break_glass", "report_packet"]

# The card's fields the packet leaves out: they name or locate her (the card number is looked up in the
# national system by name; the birth attendant is a person's name typed freely).
PACKET_EXCLUDED_FIELDS = ("card_number", "residence_address", "birth_attendant")
# Free text on the card that goes through the redactor (a clinician may have typed a name into it).
PACKET_SCRUBBED_FIELDS = frozenset({"cause_a", "cause_b", "cause_c", "cause_d", "underlying_cause",
                                    "last_antenatal_institution", "ethnicity"})


class BreakGlassForm(forms.Form):
    reason = forms.CharField(label=gettext_lazy("Why you need the identified record"), max_length=REASON_MAX_CHARS,
                             widget=forms.Textarea(attrs={"rows": 3}),
                             help_text=gettext_lazy("Kept with your name and shown to the MCH officers."))


def packet_report(request: HttpRequest, pk: Any) -> DeathReport:
    return get_visible_or_404(visible_death_reports(request.user).select_related(
        "woman", "region", "reporting_institution", "pregnancy", "case__institution",
        "referral", "residence_region", "delivery_institution", "death_institution"), pk=pk)


def packet_card_rows(report: DeathReport, scrub: Redactor) -> list[tuple[Any, str]]:
    rows = []
    for name, (label, text) in zip(DeathReport.CARD_FIELDS, card_rows(report), strict=True):
        if name in PACKET_EXCLUDED_FIELDS:
            continue
        rows.append((label, scrub(text, 400) if name in PACKET_SCRUBBED_FIELDS else text))
    return rows


def packet_context(report: DeathReport) -> dict[str, Any]:
    """What the page and the API show: nothing here names her or carries a personal number."""
    scrub = Redactor(report)
    timeline = death_report_timeline(report=report)
    return {
        "report": report, "review_number": report.review_number, "card": packet_card_rows(report, scrub),
        "investigation": scrub(report.investigation, 10_000), "interviews": scrub(report.interviews, 2_000),
        "timeline": timeline, "intervals": referral_intervals(timeline),
        "conclusions": list(report.conclusions.select_related("concluded_by").order_by("concluded_at")),
    }


def _log(user: Any, report: DeathReport, what: str) -> None:
    access_record(user=user, action=AccessLog.Action.VIEW, obj=report, summary=f"{what} {report.review_number}",
                  region=report.region, institution=report.reporting_institution)


@login_required
def report_packet(request: HttpRequest, pk: Any) -> HttpResponse:
    """The packet, for everyone who may see the report (MCH officers print it for the review meeting);
    ``?print=1`` is the page without the application around it."""
    report = packet_report(request, pk)
    user: Any = request.user
    _log(user, report, "孕产妇死亡评审资料包")
    context = packet_context(report)
    if request.GET.get("print"):
        return render(request, "death/packet_print.html", {**context, "printed_at": timezone.now()})
    context.update({
        "steps": [s for s in _steps().values() if s.allowed(user, report)],
        "sees_identified": p.sees_identified(user, report),
        "glass_form": BreakGlassForm() if p.can_break_glass(user, report) else None,
        "open_glass": report.record_accesses.filter(user=user, expires_at__gt=timezone.now()).first(),
        "now": timezone.now(),
    })
    return render(request, "death/packet.html", context)


@login_required
def report_break_glass(request: HttpRequest, pk: Any) -> HttpResponse:
    """See the identified record: a reason, then the report page for the window."""
    report = packet_report(request, pk)
    user: Any = request.user
    if not p.may_break_glass(user, report):
        raise ActionDenied(_("You see this report's identified record already: only an expert reviewer working "
                             "on the review packet breaks the glass."))
    form = BreakGlassForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            access = ds.death_report_break_glass(report=report, by=user, reason=form.cleaned_data["reason"])
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.warning(request, _("The identified record is open to you until %(until)s; the county MCH "
                                        "officer has been told.") % {
                "until": timezone.localtime(access.expires_at).strftime("%Y-%m-%d %H:%M")})
            return redirect("death:detail", pk=report.pk)
    context = packet_context(report)
    context.update({"steps": [s for s in _steps().values() if s.allowed(user, report)], "sees_identified": False,
                    "glass_form": form, "open_glass": None, "now": timezone.now()})
    return render(request, "death/packet.html", context, status=422 if form.errors else 200)
