"""Evaluation rounds (评估): the named steps of a round and of each submission in it.

    round_open → (each submission) score_enter … submission_submit → submission_return | score_evaluate …,
    visit_record, sample_draw → submission_decide (passed / failed) → submission_rectify (the interview's
    rectification steps) → submission_reevaluate (passed, or a centre de-listed, 摘牌) → submission_restore

Every step locks its row (``select_for_update`` on PostgreSQL), checks who may act (permissions.py: a role or
area that does not allow it is ``ActionDenied``, 403; a record that has moved on is ``TransitionConflict``,
409), runs the django-fsm transition, writes history with the user and a reason, sets or stops the deadline
rows of the one engine, raises alerts and moves the submission's viewflow flow, all in one transaction. Bad
input is a ``ValidationError`` with field errors (400).
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Iterable
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop, ngettext

from cases.models import (
    EvaluationIndicator,
    EvaluationRound,
    EvaluationSample,
    EvaluationScheme,
    EvaluationScore,
    EvaluationSubmission,
    EvaluationVisit,
    InterviewParty,
    ProvinceSettings,
    SelfInspectionReport,
)
from cases.rules import province_settings
from indicators.services import figures
from notifications import kinds
from notifications.models import Alert
from notifications.recipients import to_user
from notifications.services import alert_raise, alerts_resolve
from organisations.http import ActionDenied, TransitionConflict
from organisations.models import Institution, Region, RescueCentre, User
from workflows.common import require_step, required_text, save_with_history
from workflows.deadlines import deadline_create, deadline_handler, deadlines_cancel_for
from workflows.evaluation import permissions as p
from workflows.evaluation import sampling, scoring
from workflows.flows import flow_complete, flow_start
from workflows.interview.services import interview_for_rectification

CHINA = ZoneInfo("Asia/Shanghai")
S = EvaluationSubmission.State
SUBJECT = EvaluationIndicator.Subject
SELF_DUE, EVALUATION_DUE = "evaluation.self_due", "evaluation.due"
LEVELS = (Region.Level.COUNTY, Region.Level.CITY, Region.Level.PROVINCE)
CENTRE_LEVEL: dict[str, str] = {Region.Level.COUNTY: RescueCentre.Level.COUNTY, Region.Level.CITY: RescueCentre.Level.CITY,
                Region.Level.PROVINCE: RescueCentre.Level.PROVINCE}


# --- Shared ---------------------------------------------------------------------------------------------------

def rules_for(round_: EvaluationRound) -> ProvinceSettings:
    return province_settings(province_code=round_.province_id)


def _link(submission: EvaluationSubmission) -> str:
    return reverse("evaluation:submission", args=[submission.pk])


def _users(memberships: Any) -> list[User]:
    return list(User.objects.filter(pk__in=memberships.values("user_id"), is_active=True).order_by("pk"))


def _raise(submission: EvaluationSubmission, *, kind: str, priority: str, users: Iterable[User], title: str,
           extra: dict[str, Any] | None = None) -> None:
    targets: dict[int, Any] = {}
    for user in users:
        targets.setdefault(user.pk, to_user(user))
    if not targets:
        return
    params = {"subject": submission.subject_name, "year": submission.round.year, **(extra or {})}
    alert_raise(kind=kind, priority=priority, subject=submission, link=_link(submission), title=title,
                params=params, to=list(targets.values()))


def _locked(submission: EvaluationSubmission) -> EvaluationSubmission:
    return EvaluationSubmission.objects.select_for_update(of=("self",)).select_related(
        "round__scheme", "region", "evaluator", "centre__institution__region").get(pk=submission.pk)


def _self_reason(submission: EvaluationSubmission) -> str:
    if submission.subject == SUBJECT.CENTRE:
        return _("Only the head and the MCH officers of the centre's host institution self-evaluate it.")
    return _("Only the bureau and MCH officers of %(region)s self-evaluate its system.") % {
        "region": submission.region.name}


def _evaluator_reason(submission: EvaluationSubmission) -> str:
    if submission.evaluator_id is None:
        return _("A province's own system is evaluated by the national level, outside Anmu.")
    return _("Only the bureau and MCH officers and the expert reviewers of %(region)s evaluate this submission.") % {
        "region": submission.evaluator.name if submission.evaluator else ""}


def _decimal(value: Any, field: str) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        number = value if isinstance(value, Decimal) else Decimal(str(value).strip())
    except (InvalidOperation, ValueError) as exc:
        raise ValidationError({field: [_("Enter a number.")]}) from exc
    if not number.is_finite() or abs(number) >= Decimal("1e10"):
        raise ValidationError({field: [_("Enter a number.")]})
    return number


def month_end(year: int, month: int) -> dt.date:
    return dt.date(year, month, calendar.monthrange(year, month)[1])


def _end_of(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(23, 59), tzinfo=CHINA)


def centre_region(centre: RescueCentre) -> Region:
    """The area at the centre's own level: the bureau there evaluates the centre."""
    region = centre.institution.region
    if centre.level == RescueCentre.Level.PROVINCE:
        return Region.objects.get(pk=region.province_id or region.code)
    if centre.level == RescueCentre.Level.CITY:
        return Region.objects.get(pk=region.city_id or region.code)
    return region


def parent_region(region: Region) -> Region | None:
    code = region.city_id if region.level == Region.Level.COUNTY else \
        region.province_id if region.level == Region.Level.CITY else None
    return Region.objects.filter(pk=code).first() if code else None


def bureau_of(region: Region) -> Institution | None:
    return Institution.objects.filter(region=region, kind=Institution.Kind.HEALTH_BUREAU, is_active=True).order_by(
        "name").first()


def scheme_for(province: Region) -> EvaluationScheme:
    """The province's own 细则 in use, else the national edition in use (the newest edition first)."""
    scheme = EvaluationScheme.objects.filter(province=province, is_active=True).order_by("-edition").first() or \
        EvaluationScheme.objects.filter(province__isnull=True, is_active=True).order_by("-edition").first()
    if scheme is None:
        raise ValidationError({"scheme": [_("No evaluation scheme is in use.")]})
    return scheme


def applicable_indicators(scheme: EvaluationScheme, *, level: str, subject: str) -> list[EvaluationIndicator]:
    return [i for i in scheme.indicators.select_related("section").order_by("order", "number")
            if i.subject == subject and i.applies_to(level)]


# --- Opening a round ------------------------------------------------------------------------------------------

def round_open(*, by: Any, province: Region, year: int, level: str, now: dt.datetime | None = None) -> EvaluationRound:
    """Open the province's round of ``level`` for the data year ``year``: one submission for the system of every
    region of that level and for every active rescue centre of that level, each with its flow, its due dates
    from the province's timetable, and an alert to those who self-evaluate."""
    errors: dict[str, list[str]] = {}
    if province.level != Region.Level.PROVINCE:
        errors["province"] = [_("Choose a province.")]
    if level not in LEVELS:
        errors["level"] = [_("Choose the level evaluated: county, city or province.")]
    now = now or timezone.now()
    try:
        year = int(year)
    except (TypeError, ValueError):
        errors["year"] = [_("Enter the data year.")]
    else:
        if not 2000 <= year < timezone.localtime(now, CHINA).year:
            errors["year"] = [_("The data year is a year that is over.")]
    if errors:
        raise ValidationError(errors)
    if not p.may_open_round(by, province):
        raise ActionDenied(_("Only the bureau officers and the system administrator of %(province)s open its "
                             "evaluation rounds.") % {"province": province.name})
    scheme = scheme_for(province)
    with transaction.atomic():
        if EvaluationRound.objects.filter(province=province, year=year, level=level).exists():
            raise ValidationError({"year": [_("This round is open already.")]})
        round_ = EvaluationRound(province=province, year=year, level=level, scheme=scheme, opened_at=now,
                                 opened_by=by)
        try:
            with transaction.atomic():
                save_with_history(round_, by=by, reason="round opened")
        except IntegrityError as exc:  # two officers opened it at once
            raise ValidationError({"year": [_("This round is open already.")]}) from exc
        rules = rules_for(round_)
        months: dict[str, int] = {Region.Level.COUNTY: rules.evaluation_county_month, Region.Level.CITY: rules.evaluation_city_month,
                  Region.Level.PROVINCE: rules.evaluation_province_month}
        level_due = month_end(year + 1, months[level])
        uppers: dict[str, str] = {Region.Level.COUNTY: Region.Level.CITY, Region.Level.CITY: Region.Level.PROVINCE}
        above = uppers.get(level)
        above_due = month_end(year + 1, months[above]) if above else None
        regions = Region.objects.filter(level=level).filter(Q(province_id=province.pk) | Q(pk=province.pk))
        for region in regions.order_by("code"):
            evaluator = parent_region(region)
            _new_submission(round_, by=by, subject=SUBJECT.SYSTEM, region=region, evaluator=evaluator,
                            self_due=level_due, evaluation_due=above_due if evaluator else None)
        centres = RescueCentre.objects.filter(level=CENTRE_LEVEL[level], is_active=True, institution__is_active=True,
                                              institution__region__province_id=province.pk)
        lead = dt.timedelta(days=rules.evaluation_centre_lead_days)
        for centre in centres.select_related("institution__region").order_by("institution__name"):
            area = centre_region(centre)
            _new_submission(round_, by=by, subject=SUBJECT.CENTRE, region=area, evaluator=area, centre=centre,
                            self_due=max(level_due - lead, dt.date(year + 1, 1, 1)), evaluation_due=level_due,
                            on_site=True)
    return round_


def waiting_for_result(submissions: Any) -> Any:
    """The submissions still without a result: drafts, and submitted ones the level above evaluates in Anmu. A
    province's own system, evaluated by the national level outside Anmu, is done once it has submitted."""
    return submissions.filter(Q(state=S.DRAFT) | Q(state=S.SUBMITTED, evaluator__isnull=False))


def round_close(*, round_: EvaluationRound, by: Any) -> EvaluationRound:
    """Close the round once every subject has its result: the ranking is final and no sample is drawn any more.
    Rectifications and re-evaluations under way go on (they are steps of each submission, not of the round)."""
    with transaction.atomic():
        round_ = EvaluationRound.objects.select_for_update(of=("self",)).select_related("province").get(pk=round_.pk)
        require_step(p.may_open_round(by, round_.province), round_, [EvaluationRound.State.OPEN],
                     _("Only the bureau officers and the system administrator of %(province)s close its evaluation "
                       "rounds.") % {"province": round_.province.name})
        waiting = waiting_for_result(round_.submissions.all()).count()
        if waiting:
            raise ValidationError({"round": [ngettext(
                "%(count)d subject has no result yet: close the round when every result is returned.",
                "%(count)d subjects have no result yet: close the round when every result is returned.",
                waiting) % {"count": waiting}]})
        round_.close(at=timezone.now())
        save_with_history(round_, by=by, reason="round closed")
    return round_


def _new_submission(round_: EvaluationRound, *, by: Any, subject: str, region: Region, evaluator: Region | None,
                    self_due: dt.date, evaluation_due: dt.date | None, centre: RescueCentre | None = None,
                    on_site: bool = False) -> EvaluationSubmission:
    submission = EvaluationSubmission(round=round_, subject=subject, region=region, evaluator=evaluator,
                                      centre=centre, self_due_on=self_due, evaluation_due_on=evaluation_due,
                                      on_site=on_site)
    save_with_history(submission, by=by, reason="round opened")
    for indicator in applicable_indicators(round_.scheme, level=round_.level, subject=subject):
        score = EvaluationScore(submission=submission, indicator=indicator)
        save_with_history(score, by=by, reason="round opened")
    flow_start(submission)
    deadline_create(kind=SELF_DUE, due_at=_end_of(self_due), subject=submission, reason=SELF_DUE)
    _raise(submission, kind="evaluation.opened", priority=Alert.Priority.URGENT,
           users=_users(p.self_evaluator_memberships(submission)),
           title=gettext_noop("Evaluation %(year)s: self-evaluate %(subject)s and submit by %(due)s"),
           extra={"due": self_due.isoformat()})
    return submission


# --- Computed values ------------------------------------------------------------------------------------------

def _engine(submission: EvaluationSubmission, year: int) -> dict[str, Any]:
    institution = submission.centre.institution if submission.centre_id else None  # type: ignore[union-attr]
    region = institution.region if institution is not None else submission.region
    return figures(region=region, date_from=dt.date(year, 1, 1), date_to=dt.date(year, 12, 31),
                   institution=institution)["indicators"]


def computed_values(submission: EvaluationSubmission) -> dict[str, tuple[Decimal | None, Decimal | None]]:
    """For each computed indicator of the submission: (the data year's value, the previous year's)."""
    codes = {s.indicator.computed_from for s in submission.scores.select_related("indicator")
             if s.indicator.value_source == EvaluationIndicator.ValueSource.COMPUTED}
    if not codes:
        return {}
    now, before = _engine(submission, submission.round.year), _engine(submission, submission.round.year - 1)

    def value(block: dict[str, Any], code: str) -> Decimal | None:
        figure = block.get(code) or {}
        return None if figure.get("value") is None else Decimal(str(figure["value"]))

    return {code: (value(now, code), value(before, code)) for code in codes}


def _fill_computed(submission: EvaluationSubmission, *, by: Any, reason: str) -> None:
    values = computed_values(submission)
    for score in submission.scores.select_related("indicator"):
        if score.indicator.value_source != EvaluationIndicator.ValueSource.COMPUTED:
            continue
        current, previous = values.get(score.indicator.computed_from, (None, None))
        if (score.computed_value, score.previous_value) != (current, previous):
            score.computed_value, score.previous_value = current, previous
            _judge(score)
            save_with_history(score, by=by, reason=reason)


def _judge(score: EvaluationScore) -> None:
    result = scoring.score(score.indicator, score.value, score.previous_value)
    score.met, score.points, score.note = result.met, result.points, result.note[:300]


# --- The self-evaluation --------------------------------------------------------------------------------------

def score_enter(*, score: EvaluationScore, by: Any, value: Any, evidence: str) -> EvaluationScore:
    """The self-evaluation's value of an entered indicator, with what proves it."""
    number = _decimal(value, "self_value")
    evidence = (evidence or "").strip()
    if number is not None and not evidence:
        raise ValidationError({"evidence": [_("Say what proves the value.")]})
    with transaction.atomic():
        submission = _locked(score.submission)
        require_step(p.may_self_evaluate(by, submission), submission, [S.DRAFT], _self_reason(submission))
        score = EvaluationScore.objects.select_for_update(of=("self",)).select_related("indicator").get(pk=score.pk)
        if score.indicator.value_source != EvaluationIndicator.ValueSource.ENTERED:
            raise ValidationError({"self_value": [_("This value is computed from Anmu's records.")]})
        score.self_value, score.evidence = number, evidence
        _judge(score)
        save_with_history(score, by=by, reason="self-evaluation value entered")
    return score


def _self_report(submission: EvaluationSubmission) -> SelfInspectionReport | None:
    return SelfInspectionReport.objects.filter(region=submission.region, year=submission.round.year,
                                               kind=SelfInspectionReport.Kind.SELF_EVALUATION,
                                               state=SelfInspectionReport.State.FINALISED).first()


def submission_submit(*, submission: EvaluationSubmission, by: Any, summary: str) -> EvaluationSubmission:
    """Submit the self-evaluation: every entered value given with its evidence, the summary written and, for a
    system, the region's finalised self-evaluation report (自评报告) attached. The computed values are filled in
    for the data year at this moment."""
    summary = required_text(summary, "self_summary", _("Write the self-evaluation summary."))
    with transaction.atomic():
        submission = _locked(submission)
        require_step(p.may_self_evaluate(by, submission), submission, [S.DRAFT], _self_reason(submission))
        missing = [str(s.indicator) for s in submission.scores.select_related("indicator")
                   if s.indicator.value_source == EvaluationIndicator.ValueSource.ENTERED
                   and s.indicator.target_type != EvaluationIndicator.TargetType.NOT_CAPTURED and s.self_value is None]
        errors: dict[str, list[str]] = {}
        if missing:
            errors["scores"] = [_("Enter these values with their evidence first: %(list)s") % {
                "list": "；".join(missing)}]
        report = None
        if submission.subject == SUBJECT.SYSTEM:
            report = _self_report(submission)
            if report is None:
                errors["report"] = [_("Finalise the self-evaluation report (自评报告) of %(region)s for %(year)s "
                                      "first.") % {"region": submission.region.name, "year": submission.round.year}]
        if errors:
            raise ValidationError(errors)
        submission.self_summary = summary
        submission.submit(by=by, at=timezone.now(), report=report)
        save_with_history(submission, by=by, reason="self-evaluation submitted")
        _fill_computed(submission, by=by, reason="computed for the data year at submission")
        deadlines_cancel_for(submission, kind=SELF_DUE, by=by, reason="submitted")
        alerts_resolve(subject=submission, step=kinds.EVALUATION_SUBMITTED, by=by)
        flow_complete(submission, "submit")
        if submission.evaluator_id is not None:
            if submission.evaluation_due_on is not None:
                deadline_create(kind=EVALUATION_DUE, due_at=_end_of(submission.evaluation_due_on),
                                subject=submission, reason=EVALUATION_DUE)
            _raise(submission, kind="evaluation.submitted", priority=Alert.Priority.URGENT,
                   users=_users(p.evaluator_memberships(submission)),
                   title=gettext_noop("%(subject)s submitted its self-evaluation for %(year)s: evaluate it"))
    return submission


# --- The evaluation by the level above ------------------------------------------------------------------------

def submission_return(*, submission: EvaluationSubmission, by: Any, reason: str) -> EvaluationSubmission:
    reason = required_text(reason, "reason", _("Say what the self-evaluation lacks."))
    with transaction.atomic():
        submission = _locked(submission)
        require_step(p.may_evaluate(by, submission), submission, [S.SUBMITTED], _evaluator_reason(submission))
        submission.send_back(reason=reason[:300])
        save_with_history(submission, by=by, reason=f"returned: {reason}")
        deadlines_cancel_for(submission, kind=EVALUATION_DUE, by=by, reason="returned")
        alerts_resolve(subject=submission, step=kinds.EVALUATION_EVALUATED, by=by)
        flow_complete(submission, "evaluate")
        _raise(submission, kind="evaluation.returned", priority=Alert.Priority.URGENT,
               users=_users(p.self_evaluator_memberships(submission)), extra={"reason": reason},
               title=gettext_noop("The self-evaluation of %(subject)s was returned: %(reason)s"))
    return submission


def score_evaluate(*, score: EvaluationScore, by: Any, value: Any, reason: str = "",
                   evidence_checked: bool | None = None) -> EvaluationScore:
    """The evaluator's value. It counts instead of the computed (or entered) one, which stays beside it; a value
    that differs from the computed or entered one needs the reason. Empty: the computed or entered value counts."""
    number = _decimal(value, "evaluator_value")
    reason = (reason or "").strip()
    with transaction.atomic():
        submission = _locked(score.submission)
        require_step(p.may_evaluate(by, submission), submission, [S.SUBMITTED], _evaluator_reason(submission))
        score = EvaluationScore.objects.select_for_update(of=("self",)).select_related("indicator").get(pk=score.pk)
        reference = score.computed_value if score.computed_value is not None else score.self_value
        if number is not None and number != reference and not reason:
            raise ValidationError({"override_reason": [_("Say why the value differs from the computed or entered "
                                                         "one.")]})
        score.evaluator_value, score.override_reason = number, reason[:300] if number is not None else ""
        if evidence_checked is not None:
            score.evidence_checked = evidence_checked
        _judge(score)
        save_with_history(score, by=by, reason=f"evaluator's value: {reason}" if reason else "evaluator's value")
    return score


def submission_recompute(*, submission: EvaluationSubmission, by: Any) -> EvaluationSubmission:
    """Fill the computed values in again (records corrected since the submission)."""
    with transaction.atomic():
        submission = _locked(submission)
        require_step(p.may_evaluate(by, submission), submission, [S.SUBMITTED], _evaluator_reason(submission))
        _fill_computed(submission, by=by, reason="computed again by the evaluator")
    return submission


def visit_record(*, submission: EvaluationSubmission, by: Any, visited_on: Any, unannounced: bool, evaluators: str,
                 findings: str) -> EvaluationVisit:
    """An on-site visit (现场评估): "四不两直" when unannounced, recorded as such."""
    errors: dict[str, list[str]] = {}
    if not isinstance(visited_on, dt.date):
        errors["visited_on"] = [_("Enter the day of the visit.")]
    elif visited_on > timezone.localdate():
        errors["visited_on"] = [_("The visit cannot lie in the future.")]
    if not (evaluators or "").strip():
        errors["evaluators"] = [_("Name the evaluators.")]
    if not (findings or "").strip():
        errors["findings"] = [_("Record what the visit found.")]
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        submission = _locked(submission)
        require_step(p.may_evaluate(by, submission), submission, [S.SUBMITTED, S.RECTIFYING],
                 _evaluator_reason(submission))
        visit = EvaluationVisit(submission=submission, visited_on=visited_on, unannounced=bool(unannounced),
                                evaluators=evaluators.strip()[:300], findings=findings.strip(),
                                recorded_at=timezone.now(), recorded_by=by)
        save_with_history(visit, by=by, reason="on-site visit recorded")
    return visit


def totals(submission: EvaluationSubmission) -> dict[str, Any]:
    """The score, the points available, the targets met and judged, and the pass by the province's mark."""
    scores = list(submission.scores.select_related("indicator"))
    judged = [s for s in scores if s.met is not None]
    total = scoring.total([scoring.Score(met=s.met, points=s.points) for s in scores])
    available_points = [s.indicator.points for s in judged if s.indicator.points is not None]
    available = sum(available_points, Decimal(0)) if available_points else None
    mark = rules_for(submission.round).evaluation_pass_percent
    suggested = None
    if total is not None and available:
        suggested = total * 100 >= available * mark
    elif judged:
        suggested = all(s.met for s in judged)
    return {"total": total, "available": available, "met": sum(1 for s in judged if s.met), "judged": len(judged),
            "suggested_pass": suggested, "mark": mark}


def submission_decide(*, submission: EvaluationSubmission, by: Any, passed: bool, reason: str = "") -> EvaluationSubmission:
    """The result (合格 / 不合格), returned to the evaluated party. A submission drawn for the on-site re-check
    (and every centre) needs its visit first; a result against the province's pass mark needs the reason."""
    reason = (reason or "").strip()
    with transaction.atomic():
        submission = _locked(submission)
        require_step(p.may_evaluate(by, submission), submission, [S.SUBMITTED], _evaluator_reason(submission))
        if submission.on_site and not submission.visits.exists():
            raise ValidationError({"visits": [_("Record the on-site visit first: this submission is re-checked on "
                                                "site.")]})
        figures_ = totals(submission)
        if figures_["suggested_pass"] is not None and bool(passed) != figures_["suggested_pass"] and not reason:
            raise ValidationError({"reason": [_("The result differs from the pass mark: say why.")]})
        if not passed and not reason:
            raise ValidationError({"reason": [_("Say why it failed.")]})
        submission.total, submission.available = figures_["total"], figures_["available"]
        submission.met_count, submission.judged_count = figures_["met"], figures_["judged"]
        submission.suggested_pass = figures_["suggested_pass"]
        now = timezone.now()
        if passed:
            submission.pass_evaluation(by=by, at=now, reason=reason)
        else:
            submission.fail_evaluation(by=by, at=now, reason=reason)
        save_with_history(submission, by=by, reason="result: passed" if passed else "result: failed")
        deadlines_cancel_for(submission, kind=EVALUATION_DUE, by=by, reason="evaluated")
        alerts_resolve(subject=submission, step=kinds.EVALUATION_EVALUATED, by=by)
        flow_complete(submission, "evaluate")
        _raise(submission, kind="evaluation.result",
               priority=Alert.Priority.ROUTINE if passed else Alert.Priority.URGENT,
               users=_users(p.self_evaluator_memberships(submission)),
               title=gettext_noop("Evaluation %(year)s of %(subject)s: passed") if passed
               else gettext_noop("Evaluation %(year)s of %(subject)s: failed, rectification follows"))
    return submission


# --- Rectification, re-evaluation, de-listing -----------------------------------------------------------------

def _rectifying_party(submission: EvaluationSubmission) -> Institution | None:
    if submission.centre_id:
        return submission.centre.institution  # type: ignore[union-attr]
    return bureau_of(submission.region)


def submission_rectify(*, submission: EvaluationSubmission, by: Any, requirements: str) -> EvaluationSubmission:
    """A failed subject rectifies through the interview's steps (plan → accepted or returned → report →
    verified), convened by the evaluating bureau, with the province's deadlines."""
    requirements = required_text(requirements, "requirements", _("Say what must be rectified."))
    with transaction.atomic():
        submission = _locked(submission)
        require_step(p.may_evaluate(by, submission), submission, [S.FAILED], _evaluator_reason(submission))
        bureau = bureau_of(submission.evaluator) if submission.evaluator else None
        party = _rectifying_party(submission)
        if bureau is None or party is None:
            raise ValidationError({"requirements": [_("Anmu has no bureau to convene the rectification or no "
                                                      "institution to rectify.")]})
        interview = interview_for_rectification(
            bureau=bureau, institution=party, by=by, requirements=requirements,
            subject=_("Rectification after the %(year)s evaluation: %(subject)s") % {
                "year": submission.round.year, "subject": submission.subject_name},
            reasons=f"{submission.result_reason}\n\n{requirements}".strip(),
            evidence=[{"kind": "evaluation", "id": str(submission.pk), "label": str(submission.round.year),
                       "url": _link(submission)}])
        submission.start_rectification(interview=interview)
        save_with_history(submission, by=by, reason="rectification started")
    return submission


def submission_reevaluate(*, submission: EvaluationSubmission, by: Any, passed: bool,
                          findings: str) -> EvaluationSubmission:
    """After the rectification is verified (passed or failed): passed → the subject passes; failed → a centre
    is de-listed (摘牌: no longer offered for referrals), a system's second failure recorded."""
    findings = required_text(findings, "findings", _("Record what the re-evaluation found."))
    with transaction.atomic():
        submission = _locked(submission)
        require_step(p.may_evaluate(by, submission), submission, [S.RECTIFYING], _evaluator_reason(submission))
        interview = submission.rectification
        if interview is not None and interview.parties.exclude(state__in=InterviewParty.DONE_STATES).exists():
            raise ValidationError({"findings": [_("Re-evaluate once the rectification has been verified.")]})
        now = timezone.now()
        if passed:
            submission.pass_reevaluation(at=now, findings=findings)
        elif submission.subject == SUBJECT.CENTRE:
            submission.delist(at=now, findings=findings)
            _set_listed(submission, listed=False, by=by,
                        reason=f"de-listed after the {submission.round.year} evaluation")
        else:
            submission.fail_reevaluation(at=now, findings=findings)
        save_with_history(submission, by=by, reason="re-evaluated: passed" if passed else "re-evaluated: failed")
        alerts_resolve(subject=submission, step=kinds.EVALUATION_REEVALUATED, by=by)
        flow_complete(submission, "rectify")
        if not passed and submission.subject == SUBJECT.CENTRE:
            _raise(submission, kind="evaluation.delisted", priority=Alert.Priority.URGENT,
                   users=_users(p.self_evaluator_memberships(submission)) + _users(p.evaluator_memberships(submission)),
                   title=gettext_noop("%(subject)s is de-listed as a rescue centre after the %(year)s evaluation"))
        else:
            _raise(submission, kind="evaluation.result",
                   priority=Alert.Priority.ROUTINE if passed else Alert.Priority.URGENT,
                   users=_users(p.self_evaluator_memberships(submission)),
                   title=gettext_noop("Re-evaluation %(year)s of %(subject)s: passed") if passed
                   else gettext_noop("Re-evaluation %(year)s of %(subject)s: failed again"))
    return submission


def submission_restore(*, submission: EvaluationSubmission, by: Any, reason: str) -> EvaluationSubmission:
    """A de-listed centre restored (e.g. after a later evaluation it passed): offered for referrals again."""
    reason = required_text(reason, "reason", _("Say why the centre is restored."))
    with transaction.atomic():
        submission = _locked(submission)
        require_step(p.may_evaluate(by, submission), submission, [S.DELISTED], _evaluator_reason(submission))
        submission.restore(at=timezone.now(), reason=reason)
        save_with_history(submission, by=by, reason="centre restored")
        _set_listed(submission, listed=True, by=by, reason=f"restored: {reason}")
        _raise(submission, kind="evaluation.restored", priority=Alert.Priority.ROUTINE,
               users=_users(p.self_evaluator_memberships(submission)),
               title=gettext_noop("%(subject)s is restored as a rescue centre"))
    return submission


def _set_listed(submission: EvaluationSubmission, *, listed: bool, by: Any, reason: str) -> None:
    centre = RescueCentre.objects.select_for_update().get(pk=str(submission.centre_id))
    centre.is_active = listed
    save_with_history(centre, by=by, reason=reason)


# --- The on-site re-check sample ------------------------------------------------------------------------------

def sample_candidates(round_: EvaluationRound, evaluator: Region) -> list[EvaluationSubmission]:
    return list(round_.submissions.filter(subject=SUBJECT.SYSTEM, evaluator=evaluator).select_related("region"))


def last_checked(evaluator: Region, before_year: int) -> tuple[dict[str, int | None], int]:
    """The year each region below ``evaluator`` was last re-checked on site, and the evaluator's first round."""
    rows = EvaluationSubmission.objects.filter(subject=SUBJECT.SYSTEM, evaluator=evaluator,
                                               round__year__lt=before_year)
    checked: dict[str, int | None] = {}
    for code, year, on_site in rows.values_list("region_id", "round__year", "on_site"):
        if on_site:
            checked[code] = max(year, checked.get(code) or 0)
    first = rows.order_by("round__year").values_list("round__year", flat=True).first()
    return checked, first if first is not None else before_year


def sample_draw(*, round_: EvaluationRound, evaluator: Region, by: Any) -> EvaluationSample:
    """Draw the areas ``evaluator`` re-checks on site in the round, reproducibly; they need a visit before their
    result."""
    if not p.may_evaluate_for(by, evaluator):
        raise ActionDenied(_("Only the bureau and MCH officers and the expert reviewers of %(region)s draw its "
                             "sample.") % {"region": evaluator.name})
    with transaction.atomic():
        round_ = EvaluationRound.objects.select_for_update().get(pk=round_.pk)
        if round_.state != EvaluationRound.State.OPEN:
            raise TransitionConflict(_("The round is closed: no sample is drawn any more."))
        if EvaluationSample.objects.filter(round=round_, evaluator=evaluator).exists():
            raise ValidationError({"sample": [_("The sample has been drawn already.")]})
        candidates = {s.region_id: s for s in sample_candidates(round_, evaluator)}
        if not candidates:
            raise ValidationError({"sample": [_("No area below is evaluated in this round.")]})
        rules = rules_for(round_)
        checked, first = last_checked(evaluator, round_.year)
        minimum = rules.evaluation_province_recheck_min if evaluator.level == Region.Level.PROVINCE else 1
        seed = sampling.seed_for(round_id=str(round_.pk), evaluator=evaluator.code, year=round_.year)
        drawn = sampling.draw(areas=list(candidates), last_checked=checked, year=round_.year, first_year=first,
                              share=rules.evaluation_recheck_percent, coverage_years=rules.evaluation_recheck_years,
                              minimum=minimum, seed=seed)
        sample = EvaluationSample(round=round_, evaluator=evaluator, seed=seed, share=rules.evaluation_recheck_percent,
                                  coverage_years=rules.evaluation_recheck_years, minimum=minimum,
                                  drawn=[{"region": d.region, "name": candidates[d.region].region.name,
                                          "reason": d.reason, "last_checked": d.last_checked} for d in drawn],
                                  drawn_at=timezone.now(), drawn_by=by)
        save_with_history(sample, by=by, reason="sample drawn")
        for item in drawn:
            submission = EvaluationSubmission.objects.select_for_update().get(pk=candidates[item.region].pk)
            submission.on_site = True
            save_with_history(submission, by=by, reason="drawn for the on-site re-check")
    return sample


# --- Results --------------------------------------------------------------------------------------------------

def ranking(submissions: Iterable[EvaluationSubmission]) -> list[dict[str, Any]]:
    """The evaluated submissions ranked by their share of the points (then targets met), ties sharing a rank."""
    rows = [s for s in submissions if s.state in EvaluationSubmission.EVALUATED_STATES]
    rows.sort(key=lambda s: (-(s.share if s.share is not None else Decimal(-1)), -s.met_count, s.subject_name))
    ranked: list[dict[str, Any]] = []
    for position, submission in enumerate(rows, start=1):
        key = (submission.share, submission.met_count)
        rank = ranked[-1]["rank"] if ranked and ranked[-1]["key"] == key else position
        ranked.append({"rank": rank, "key": key, "submission": submission})
    return ranked


# --- The deadlines --------------------------------------------------------------------------------------------

@deadline_handler(SELF_DUE)
@deadline_handler(EVALUATION_DUE)
def evaluation_deadline_fired(deadline: Any) -> None:
    """A self-evaluation not submitted, or an evaluation not done, by its day: a critical alert to those who
    owe it, and to the evaluators when the self-evaluation is late."""
    submission = EvaluationSubmission.objects.select_for_update(of=("self",)).filter(
        pk=deadline.subject_id).select_related("round", "region", "centre__institution").first()
    if submission is None:
        return
    if deadline.kind == SELF_DUE and submission.state == S.DRAFT:
        _raise(submission, kind=SELF_DUE, priority=Alert.Priority.CRITICAL,
               users=_users(p.self_evaluator_memberships(submission)) + _users(p.evaluator_memberships(submission)),
               title=gettext_noop("The self-evaluation %(year)s of %(subject)s was due on %(due)s"),
               extra={"due": submission.self_due_on.isoformat()})
    elif deadline.kind == EVALUATION_DUE and submission.state == S.SUBMITTED and submission.evaluation_due_on:
        _raise(submission, kind=EVALUATION_DUE, priority=Alert.Priority.CRITICAL,
               users=_users(p.evaluator_memberships(submission)),
               title=gettext_noop("The evaluation %(year)s of %(subject)s was due on %(due)s"),
               extra={"due": submission.evaluation_due_on.isoformat()})
