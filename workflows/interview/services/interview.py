"""Interviews (约谈): proposed by a bureau officer or by Anmu, dismissed or notified, acknowledged by each
summoned party, held, then each party's rectification: plan → accepted or returned → report → verified
(passed, or failed and escalated to a follow-up interview by the next level up)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from cases.models import Interview, InterviewParty, ProvinceSettings, Summoned
from cases.rules import province_settings
from notifications import kinds
from notifications.models import Alert
from notifications.recipients import Target, to_user
from notifications.services import alert_raise, alerts_resolve
from organisations.http import ActionDenied, TransitionConflict
from organisations.models import Institution, Membership, User
from workflows.common import require_step, required_text, save_with_history
from workflows.deadlines import deadline_create, deadline_handler, deadlines_cancel_for
from workflows.flows import flow_cancel, flow_complete, flow_start
from workflows.interview import permissions as p

__all__ = [
    "ACKNOWLEDGE_DUE", "PLAN_DUE", "REPORT_DUE", "PartySpec", "interview_acknowledge", "interview_dismiss",
    "interview_hold", "interview_notify", "interview_plan_accept", "interview_plan_return", "interview_plan_submit",
    "interview_for_rectification", "interview_from_circular", "interview_propose", "interview_report_submit", "interview_verify", "upper_bureau",
]

S, P = Interview.State, InterviewParty.State
ACKNOWLEDGE_DUE, PLAN_DUE, REPORT_DUE = "interview.acknowledge_due", "interview.plan_due", "interview.report_due"
WARN, PASSED = "warn", "passed"
PartySpec = tuple[Institution, list[str], str]  # (institution, who must attend, reasons for this party)


# --- Shared -----------------------------------------------------------------------------------------

def rules_for(interview: Interview) -> ProvinceSettings:
    return province_settings(province_code=interview.region.province_id or interview.region_id)


def _link(interview: Interview) -> str:
    return reverse("interview:detail", args=[interview.pk])


def _users(institution: Institution, roles: Iterable[str]) -> list[User]:
    ids = Membership.objects.filter(institution=institution, role__in=list(roles), is_active=True).values("user_id")
    return list(User.objects.filter(pk__in=ids, is_active=True).order_by("pk"))


def _party_users(party: InterviewParty) -> list[User]:
    return _users(party.institution, p.PARTY_ROLES)


def _officers(interview: Interview) -> list[User]:
    return _users(interview.bureau, p.BUREAU_ROLES)


def _targets(users: Iterable[User]) -> list[Target]:
    seen: dict[int, Target] = {}
    for user in users:
        seen.setdefault(user.pk, to_user(user))
    return list(seen.values())


def _raise(interview: Interview, *, subject: Any, kind: str, priority: str, users: Iterable[User], title: str,
           institution: Institution | None = None, extra: dict[str, Any] | None = None) -> list[Alert]:
    params = {"subject": interview.subject, "bureau": interview.bureau.name, **(extra or {})}
    return alert_raise(kind=kind, priority=priority, subject=subject, link=_link(interview), title=title,
                       params=params, to=_targets(users), institution=institution or interview.bureau)


def _locked(interview: Interview) -> Interview:
    return Interview.objects.select_for_update(of=("self",)).select_related("bureau__region", "region").get(
        pk=interview.pk)


def _locked_party(party: InterviewParty) -> InterviewParty:
    return InterviewParty.objects.select_for_update(of=("self",)).select_related(
        "interview__bureau__region", "interview__region", "institution__region").get(pk=party.pk)


def _convener_reason(interview: Interview) -> str:
    return _("Only the bureau officers of %(bureau)s take this step.") % {"bureau": interview.bureau.name}


def _party_reason(party: InterviewParty) -> str:
    return _("Only the head or the officers of %(institution)s answer for it.") % {
        "institution": party.institution.name}


def _clock(party: InterviewParty, *, kind: str, due: dt.datetime, rules: ProvinceSettings) -> None:
    warn_at = due - dt.timedelta(days=rules.interview_warning_days)
    if warn_at > timezone.now():
        deadline_create(kind=kind, due_at=warn_at, subject=party, payload={"stage": WARN}, reason=f"{kind}: reminder")
    deadline_create(kind=kind, due_at=due, subject=party, payload={"stage": PASSED}, reason=kind)


def upper_bureau(bureau: Institution) -> Institution | None:
    """The bureau of the next level up (a county bureau's city bureau, a city's province), if Anmu has it."""
    region = bureau.region
    code = region.city_id if region.level == "county" else region.province_id if region.level == "city" else None
    if not code:
        return None
    return Institution.objects.filter(region_id=code, kind=Institution.Kind.HEALTH_BUREAU, is_active=True).order_by(
        "name").first()


# --- Proposal, notice, minutes ----------------------------------------------------------------------

def _validate_parties(bureau: Institution, parties: list[PartySpec]) -> None:
    if not parties:
        raise ValidationError({"parties": _("Summon at least one institution or bureau.")})
    seen: set[Any] = set()
    for institution, summoned, _reasons in parties:
        if not p.in_area_of(bureau, institution):
            raise ValidationError({"parties": _("%(institution)s is not in the area of %(bureau)s.") % {
                "institution": institution.name, "bureau": bureau.name}})
        if institution.pk in seen:
            raise ValidationError({"parties": _("%(institution)s is summoned twice.") % {
                "institution": institution.name}})
        seen.add(institution.pk)
        unknown = set(summoned) - set(Summoned.values)
        if unknown or not summoned:
            raise ValidationError({"parties": _("Say who of %(institution)s must attend.") % {
                "institution": institution.name}})


def interview_propose(*, by: Any, bureau: Institution, subject: str, reasons: str, parties: list[PartySpec],
                      evidence: list[dict[str, Any]] | None = None, origin: str = Interview.Origin.OFFICER,
                      trigger_key: str = "", escalated_from: Interview | None = None) -> Interview:
    """A proposed interview of ``bureau`` (by one of its officers, or by Anmu when ``by`` is None) with its
    summoned parties, their reasons and the evidence. Proposals by Anmu alert the bureau's officers."""
    if by is not None and not p.bureau_officer_at(by, bureau):
        raise ActionDenied(_("Only the bureau officers of %(bureau)s convene its interviews.") % {
            "bureau": bureau.name})
    subject = required_text(subject, "subject", _("Say what the interview is about."))
    reasons = required_text(reasons, "reasons", _("Give the reasons for the interview."))
    _validate_parties(bureau, parties)
    with transaction.atomic():
        interview = Interview(bureau=bureau, region=bureau.region, origin=origin, subject=subject, reasons=reasons,
                              evidence=list(evidence or []), trigger_key=trigger_key, proposed_by=by,
                              escalated_from=escalated_from)
        interview.full_clean(exclude=["process"])
        save_with_history(interview, by=by, reason=f"proposed ({origin})")
        for institution, summoned, party_reasons in parties:
            party = InterviewParty(interview=interview, institution=institution, summoned=sorted(set(summoned)),
                                   reasons=(party_reasons or "").strip())
            save_with_history(party, by=by, reason="summoned")
        flow_start(interview)
        if by is None or origin == Interview.Origin.ESCALATION:
            kind = "interview.escalated" if origin == Interview.Origin.ESCALATION else "interview.proposed"
            _raise(interview, subject=interview, kind=kind, priority=Alert.Priority.URGENT, users=_officers(interview),
                   title=gettext_noop("Interview proposed by Anmu: %(subject)s") if kind == "interview.proposed"
                   else gettext_noop("A rectification failed: follow-up interview proposed: %(subject)s"))
    return interview


def interview_dismiss(*, interview: Interview, by: Any, reason: str) -> Interview:
    reason = required_text(reason, "reason", _("Say why the proposal is dismissed."))
    with transaction.atomic():
        interview = _locked(interview)
        require_step(p.may_convene(by, interview), interview, [S.PROPOSED], _convener_reason(interview))
        interview.dismiss(by=by, at=timezone.now(), reason=reason)
        save_with_history(interview, by=by, reason=f"dismissed: {reason}")
        flow_complete(interview, "decide")
        flow_cancel(interview)
        alerts_resolve(subject=interview, step=kinds.INTERVIEW_DECIDED, by=by)
    return interview


def interview_notify(*, interview: Interview, by: Any, number: str, scheduled_at: dt.datetime, place: str) -> Interview:
    """The notice (约谈通知书) goes to every summoned party, each with an acknowledgement deadline."""
    number = required_text(number, "number", _("Give the notice its number (文号)."))
    place = required_text(place, "place", _("Say where the interview is held."))
    if scheduled_at is None:
        raise ValidationError({"scheduled_at": _("Say when the interview is held.")})
    if scheduled_at < timezone.now():
        raise ValidationError({"scheduled_at": _("The interview cannot be held in the past.")})
    with transaction.atomic():
        interview = _locked(interview)
        require_step(p.may_convene(by, interview), interview, [S.PROPOSED], _convener_reason(interview))
        if Interview.objects.filter(bureau=interview.bureau, number=number).exclude(pk=interview.pk).exists():
            raise ValidationError({"number": _("%(bureau)s already used this number.") % {
                "bureau": interview.bureau.name}})
        now = timezone.now()
        interview.notify(by=by, at=now, number=number, scheduled_at=scheduled_at, place=place)
        save_with_history(interview, by=by, reason="notice issued")
        flow_complete(interview, "decide")
        alerts_resolve(subject=interview, step=kinds.INTERVIEW_DECIDED, by=by)
        rules = rules_for(interview)
        due = now + dt.timedelta(days=rules.interview_acknowledge_days)
        when = timezone.localtime(scheduled_at).strftime("%Y-%m-%d %H:%M")
        for party in interview.parties.select_related("institution"):
            party.acknowledge_due_at = due
            save_with_history(party, by=by, reason="notice sent")
            _clock(party, kind=ACKNOWLEDGE_DUE, due=due, rules=rules)
            _raise(interview, subject=party, kind="interview.notice", priority=Alert.Priority.URGENT,
                   users=_party_users(party), institution=party.institution,
                   title=gettext_noop("Interview notice from %(bureau)s (%(number)s): %(when)s at %(place)s"),
                   extra={"number": number, "when": when, "place": place})
    return interview


def interview_acknowledge(*, party: InterviewParty, by: Any) -> InterviewParty:
    with transaction.atomic():
        party = _locked_party(party)
        require_step(p.answers_for(by, party), party, [P.SUMMONED], _party_reason(party))
        if party.interview.state != S.NOTIFIED:
            raise TransitionConflict(_("This step is no longer open: it is now “%(state)s”.")
                                     % {"state": party.interview.get_state_display()})
        party.acknowledge(by=by, at=timezone.now())
        save_with_history(party, by=by, reason="acknowledged")
        deadlines_cancel_for(party, kind=ACKNOWLEDGE_DUE, by=by, reason="acknowledged")
        alerts_resolve(subject=party, step=kinds.INTERVIEW_ACKNOWLEDGED, by=by)
    return party


def interview_hold(*, interview: Interview, by: Any, attendance: str, requirements: str, expert_advice: str = "",
                   statements: dict[Any, str] | None = None) -> Interview:
    """The minutes (约谈记录): who attended, each party's statement, the experts' advice, the bureau's
    requirements. Every party now owes a rectification plan by the province's deadline."""
    attendance = required_text(attendance, "attendance", _("Record who attended."))
    requirements = required_text(requirements, "requirements", _("Record what the bureau requires."))
    statements = {str(k): (v or "").strip() for k, v in (statements or {}).items()}
    with transaction.atomic():
        interview = _locked(interview)
        require_step(p.may_convene(by, interview), interview, [S.NOTIFIED], _convener_reason(interview))
        now = timezone.now()
        interview.hold(by=by, at=now, attendance=attendance, expert_advice=(expert_advice or "").strip(),
                       requirements=requirements)
        save_with_history(interview, by=by, reason="held: minutes recorded")
        flow_complete(interview, "hold")
        rules = rules_for(interview)
        due = now + dt.timedelta(days=rules.interview_plan_days)
        for party in interview.parties.select_for_update(of=("self",)).select_related("institution"):
            party.require_plan(statement=statements.get(str(party.pk), ""), due=due)
            save_with_history(party, by=by, reason="interview held: plan due")
            deadlines_cancel_for(party, kind=ACKNOWLEDGE_DUE, by=by, reason="interview held")
            alerts_resolve(subject=party, step=kinds.INTERVIEW_ACKNOWLEDGED, by=by)
            _clock(party, kind=PLAN_DUE, due=due, rules=rules)
            _raise(interview, subject=party, kind="interview.plan_requested", priority=Alert.Priority.URGENT,
                   users=_party_users(party), institution=party.institution,
                   title=gettext_noop("Submit the rectification plan for %(subject)s by %(due)s"),
                   extra={"due": timezone.localtime(due).strftime("%Y-%m-%d")})
    return interview


def interview_from_circular(*, circular: Any, by: Any) -> list[Interview]:
    """A published circular whose criticised institutions must answer: for each, the rectification steps of an
    interview start at once (no notice, no meeting): the plan is due by the province's days (or the report's
    due date if sooner), then the report by the day the circular set."""
    made: list[Interview] = []
    rules = None
    for subject in circular.subjects.filter(requires_answer=True, institution__isnull=False).select_related(
            "institution__region"):
        if not p.in_area_of(circular.issuer, subject.institution):
            continue
        interview = Interview(bureau=circular.issuer, region=circular.region, origin=Interview.Origin.CIRCULAR,
                              circular=circular, report_due_on=subject.answer_due_on,
                              subject=_("Answer to %(number)s: %(title)s") % {"number": circular.number,
                                                                              "title": circular.title},
                              reasons=subject.reason or circular.title,
                              evidence=[{"kind": "circular", "id": str(circular.pk), "label": circular.number,
                                         "url": reverse("interview:circular", args=[circular.pk])}],
                              proposed_by=by)
        save_with_history(interview, by=by, reason="answer to a circular")
        rules = rules or rules_for(interview)
        _rectification_now(interview, institution=subject.institution, reasons=subject.reason, by=by,
                           requirements=circular.title, rules=rules, report_due_on=subject.answer_due_on)
        made.append(interview)
    return made


def _rectification_now(interview: Interview, *, institution: Institution, reasons: str, by: Any, requirements: str,
                       rules: ProvinceSettings, report_due_on: dt.date | None) -> InterviewParty:
    """The saved ``interview``'s one party starts its rectification at once (no notice, no meeting): the plan is
    due by the province's days (or the report's due date if sooner)."""
    party = InterviewParty(interview=interview, institution=institution, summoned=[Summoned.HEAD], reasons=reasons)
    save_with_history(party, by=by, reason="summoned")
    flow_start(interview)
    now = timezone.now()
    interview.answer_circular(by=by, at=now, requirements=requirements)
    save_with_history(interview, by=by, reason="answer to a circular: rectification due"
                      if interview.origin == Interview.Origin.CIRCULAR else "evaluation: rectification due")
    flow_complete(interview, "decide")
    due = now + dt.timedelta(days=rules.interview_plan_days)
    if report_due_on is not None:
        due = min(due, max(timezone.make_aware(dt.datetime.combine(report_due_on, dt.time(23, 59))), now))
    party.require_plan(statement="", due=due)
    save_with_history(party, by=by, reason="interview held: plan due")
    _clock(party, kind=PLAN_DUE, due=due, rules=rules)
    _raise(interview, subject=party, kind="interview.plan_requested", priority=Alert.Priority.URGENT,
           users=_party_users(party), institution=party.institution,
           title=gettext_noop("Submit the rectification plan for %(subject)s by %(due)s"),
           extra={"due": timezone.localtime(due).strftime("%Y-%m-%d")})
    return party


def interview_for_rectification(*, bureau: Institution, institution: Institution, subject: str, reasons: str,
                                requirements: str, evidence: list[dict[str, str]], by: Any) -> Interview:
    """A rectification without a meeting, e.g. after a failed evaluation: the bureau convenes, the institution
    (a centre's host, or a lower bureau) rectifies with the interview's plan → report → verification steps."""
    if not p.in_area_of(bureau, institution) and institution.pk != bureau.pk:
        raise ValidationError({"institution": _("The institution is not in the bureau's area.")})
    interview = Interview(bureau=bureau, region=bureau.region, origin=Interview.Origin.EVALUATION, subject=subject,
                          reasons=reasons, evidence=evidence, proposed_by=by)
    save_with_history(interview, by=by, reason="rectification after an evaluation")
    _rectification_now(interview, institution=institution, reasons=reasons, by=by, requirements=requirements,
                       rules=rules_for(interview), report_due_on=None)
    return interview


# --- Each party's rectification ---------------------------------------------------------------------

def interview_plan_submit(*, party: InterviewParty, by: Any, plan: str) -> InterviewParty:
    plan = required_text(plan, "plan", _("Write the rectification plan."))
    with transaction.atomic():
        party = _locked_party(party)
        require_step(p.answers_for(by, party), party, [P.PLAN_DUE], _party_reason(party))
        party.submit_plan(by=by, at=timezone.now(), plan=plan)
        save_with_history(party, by=by, reason="plan submitted")
        deadlines_cancel_for(party, kind=PLAN_DUE, by=by, reason="plan submitted")
        alerts_resolve(subject=party, step=kinds.INTERVIEW_PLAN_SUBMITTED, by=by)
        _raise(party.interview, subject=party, kind="interview.plan_submitted", priority=Alert.Priority.URGENT,
               users=_officers(party.interview), extra={"institution": party.institution.name},
               title=gettext_noop("%(institution)s submitted its rectification plan: accept or return it"))
    return party


def interview_plan_return(*, party: InterviewParty, by: Any, reason: str) -> InterviewParty:
    reason = required_text(reason, "reason", _("Say what the plan lacks."))
    with transaction.atomic():
        party = _locked_party(party)
        require_step(p.may_convene(by, party.interview), party, [P.PLAN_SUBMITTED], _convener_reason(party.interview))
        rules = rules_for(party.interview)
        due = timezone.now() + dt.timedelta(days=rules.interview_plan_days)
        party.return_plan(reason=reason, due=due)
        save_with_history(party, by=by, reason=f"plan returned: {reason}")
        alerts_resolve(subject=party, step=kinds.INTERVIEW_PLAN_DECIDED, by=by)
        _clock(party, kind=PLAN_DUE, due=due, rules=rules)
        _raise(party.interview, subject=party, kind="interview.plan_returned", priority=Alert.Priority.URGENT,
               users=_party_users(party), institution=party.institution, extra={"reason": reason},
               title=gettext_noop("Your rectification plan for %(subject)s was returned: %(reason)s"))
    return party


def interview_plan_accept(*, party: InterviewParty, by: Any) -> InterviewParty:
    with transaction.atomic():
        party = _locked_party(party)
        require_step(p.may_convene(by, party.interview), party, [P.PLAN_SUBMITTED], _convener_reason(party.interview))
        rules = rules_for(party.interview)
        due = timezone.now() + dt.timedelta(days=rules.interview_report_days)
        if party.interview.report_due_on is not None:  # a circular fixed the day the report is due
            end = dt.datetime.combine(party.interview.report_due_on, dt.time(23, 59))
            due = max(timezone.make_aware(end), timezone.now())
        party.accept_plan(by=by, at=timezone.now(), report_due=due)
        save_with_history(party, by=by, reason="plan accepted")
        alerts_resolve(subject=party, step=kinds.INTERVIEW_PLAN_DECIDED, by=by)
        _clock(party, kind=REPORT_DUE, due=due, rules=rules)
        _raise(party.interview, subject=party, kind="interview.plan_accepted", priority=Alert.Priority.ROUTINE,
               users=_party_users(party), institution=party.institution,
               extra={"due": timezone.localtime(due).strftime("%Y-%m-%d")},
               title=gettext_noop("Rectification plan accepted: report on %(subject)s by %(due)s"))
    return party


def interview_report_submit(*, party: InterviewParty, by: Any, report: str) -> InterviewParty:
    report = required_text(report, "report", _("Write the rectification report."))
    with transaction.atomic():
        party = _locked_party(party)
        require_step(p.answers_for(by, party), party, [P.PLAN_ACCEPTED], _party_reason(party))
        party.submit_report(by=by, at=timezone.now(), report=report)
        save_with_history(party, by=by, reason="report submitted")
        deadlines_cancel_for(party, kind=REPORT_DUE, by=by, reason="report submitted")
        alerts_resolve(subject=party, step=kinds.INTERVIEW_REPORT_SUBMITTED, by=by)
        _raise(party.interview, subject=party, kind="interview.report_submitted", priority=Alert.Priority.URGENT,
               users=_officers(party.interview), extra={"institution": party.institution.name},
               title=gettext_noop("%(institution)s reported its rectification: verify it"))
    return party


def interview_verify(*, party: InterviewParty, by: Any, passed: bool, method: str, findings: str,
                     escalation: str = "") -> InterviewParty:
    """The bureau verifies by documents or on site. Passed: done. Failed: the escalation is recorded and, where
    Anmu has the bureau of the next level up, a follow-up interview is proposed to it. The interview closes when
    its last party is done."""
    findings = required_text(findings, "findings", _("Record what the verification found."))
    if method not in InterviewParty.Method.values:
        raise ValidationError({"method": _("Say how it was verified: documents or on site.")})
    if not passed:
        escalation = required_text(escalation, "escalation", _("Say what follows the failed rectification."))
    with transaction.atomic():
        party = _locked_party(party)
        interview = _locked(party.interview)
        require_step(p.may_convene(by, interview), party, [P.REPORT_SUBMITTED], _convener_reason(interview))
        now = timezone.now()
        if passed:
            party.pass_verification(by=by, at=now, how=method, findings=findings)
        else:
            party.fail_verification(by=by, at=now, how=method, findings=findings, escalation=escalation.strip())
        save_with_history(party, by=by, reason="verified: passed" if passed else "verified: failed, escalated")
        alerts_resolve(subject=party, step=kinds.INTERVIEW_VERIFIED, by=by)
        _raise(interview, subject=party, kind="interview.verified",
               priority=Alert.Priority.ROUTINE if passed else Alert.Priority.URGENT, users=_party_users(party),
               institution=party.institution,
               title=gettext_noop("Your rectification for %(subject)s passed verification") if passed
               else gettext_noop("Your rectification for %(subject)s failed verification: escalated"))
        if not passed:
            upper = upper_bureau(interview.bureau)
            if upper is not None and p.in_area_of(upper, party.institution):
                interview_propose(
                    by=None, bureau=upper, origin=Interview.Origin.ESCALATION, escalated_from=interview,
                    subject=_("Follow-up: %(subject)s") % {"subject": interview.subject},
                    reasons=f"{interview.reasons}\n\n{findings}\n\n{escalation.strip()}",
                    parties=[(party.institution, party.summoned, findings)],
                    evidence=[*interview.evidence, {"kind": "interview", "id": str(interview.pk),
                                                    "label": interview.number or interview.subject,
                                                    "url": _link(interview)}])
        if not interview.parties.exclude(state__in=InterviewParty.DONE_STATES).exists():
            interview.close(at=now)
            save_with_history(interview, by=by, reason="closed: every party verified")
            flow_complete(interview, "rectify")
    return party


# --- The deadlines ----------------------------------------------------------------------------------

DUE_TITLES = {
    ACKNOWLEDGE_DUE: (gettext_noop("Acknowledge the interview notice of %(bureau)s by %(due)s"),
                      gettext_noop("%(institution)s has not acknowledged the interview notice (due %(due)s)")),
    PLAN_DUE: (gettext_noop("The rectification plan for %(subject)s is due by %(due)s"),
               gettext_noop("%(institution)s has not submitted its rectification plan (due %(due)s)")),
    REPORT_DUE: (gettext_noop("The rectification report for %(subject)s is due by %(due)s"),
                 gettext_noop("%(institution)s has not submitted its rectification report (due %(due)s)")),
}
WAITING = {ACKNOWLEDGE_DUE: P.SUMMONED, PLAN_DUE: P.PLAN_DUE, REPORT_DUE: P.PLAN_ACCEPTED}


@deadline_handler(ACKNOWLEDGE_DUE)
@deadline_handler(PLAN_DUE)
@deadline_handler(REPORT_DUE)
def interview_deadline_fired(deadline: Any) -> None:
    """Remind the party before; when missed, alert its head and officers and the convening bureau."""
    party = InterviewParty.objects.select_for_update(of=("self",)).filter(pk=deadline.subject_id).select_related(
        "interview__bureau__region", "interview__region", "institution").first()
    if party is None or party.state != WAITING[deadline.kind]:
        return
    due = {ACKNOWLEDGE_DUE: party.acknowledge_due_at, PLAN_DUE: party.plan_due_at,
           REPORT_DUE: party.report_due_at}[deadline.kind]
    extra = {"due": timezone.localtime(due).strftime("%Y-%m-%d %H:%M") if due else "",
             "institution": party.institution.name}
    reminder, missed = DUE_TITLES[deadline.kind]
    if deadline.payload.get("stage") == WARN:
        _raise(party.interview, subject=party, kind=deadline.kind, priority=Alert.Priority.URGENT,
               users=_party_users(party), institution=party.institution, title=reminder, extra=extra)
        return
    _raise(party.interview, subject=party, kind=deadline.kind, priority=Alert.Priority.CRITICAL,
           users=_party_users(party) + _officers(party.interview), institution=party.institution, title=missed,
           extra=extra)
