"""Grading (评估分级) by the colour table, re-assessed at every visit and after delivery; voiding; the
evaluation of whether a red pregnancy continues; the grade hooks other processes subscribe to."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from cases.models import (
    COLOUR_NAMES,
    SEVERITY,
    Assessment,
    AssessmentReferral,
    Colour,
    ContinuationEvaluation,
    HighRiskCase,
    Pregnancy,
)
from cases.risk import KEYS, RiskInputError, risk_evaluate, risk_input_parse, ruleset_for_province
from cases.rules import settings_for
from cases.selectors import visible_pregnancies
from notifications import kinds
from notifications.models import Alert
from notifications.recipients import to_duty, to_role, to_step, to_user
from notifications.services import alert_raise, alerts_resolve
from organisations.http import ActionDenied, TransitionConflict
from organisations.models import (
    Institution,
    RescueCentre,
    Role,
)
from organisations.selectors import covering_rescue_centres
from workflows.common import save_with_history
from workflows.deadlines import deadline_create, deadline_handler, deadlines_cancel_for
from workflows.screening import permissions
from workflows.screening.services.base import (
    ASSESSMENT_DUE,
    CONTINUATION_DUE,
    YELLOW_ADVICE,
    _set_pregnancy_colour,
    pregnancy_link,
)
from workflows.screening.services.screening import _can_assess


def assessment_record(
    *, pregnancy: Pregnancy, institution: Institution, by: Any, stage: str, inputs: dict[str, Any],
    colour: str | None = None, purple: bool | None = None, override_reason: str = "", now: dt.datetime | None = None,
) -> Assessment:
    """Grade a pregnancy with the province's rule set and act on the colour.

    The doctor may grade higher than the table; lower needs a reason (the difference is kept). Orange,
    red and purple open (or regrade) the high-risk case; red also asks a tertiary hospital to evaluate
    whether the pregnancy can continue; a rising colour alerts the doctor in charge; a falling one
    proposes closing the case.
    """
    permissions.check("assess", by, institution)
    now = now or timezone.now()
    if stage not in Assessment.Stage.values:
        raise ValidationError({"stage": _("Choose the stage of this assessment.")})
    if stage == Assessment.Stage.FIRST and not _can_assess(institution):
        raise ActionDenied(_("The first assessment is made at a level 2 or 3 hospital that delivers babies."))
    # The rule set and date are the province's in force now, never the caller's.
    bad_keys = sorted(set(inputs) & {"ruleset", "as_of"}) + sorted(set(inputs) - KEYS)
    errors: dict[str, list[str]] = {key: [_("Unknown field.")] for key in bad_keys}
    ruleset = ruleset_for_province(province_code=pregnancy.booking_institution.region.province_id,
                                   as_of=timezone.localdate(now))
    if ruleset is None:
        raise ActionDenied(_("No risk rule set is in force."))
    clean_inputs = {key: value for key, value in inputs.items() if key not in bad_keys}
    try:
        parsed = risk_input_parse({**clean_inputs, "ruleset": ruleset.code,
                                   "as_of": timezone.localdate(now).isoformat()})
    except RiskInputError as exc:
        errors.update(exc.errors)
    if errors:
        raise ValidationError(errors)
    result = risk_evaluate(parsed)
    final_colour = colour or result.colour
    final_purple = result.purple if purple is None else purple
    if final_colour not in (Colour.GREEN, Colour.YELLOW, Colour.ORANGE, Colour.RED):
        raise ValidationError({"colour": _("Choose green, yellow, orange or red.")})
    lower = SEVERITY[Colour(final_colour)] < SEVERITY[Colour(result.colour)] or (result.purple and not final_purple)
    if lower and not override_reason.strip():
        raise ValidationError({"override_reason": _("Grading below the table needs a reason.")})

    with transaction.atomic():
        pregnancy = visible_pregnancies(by).select_for_update(of=("self",)).select_related(
            "woman", "booking_institution__region").get(pk=pregnancy.pk)
        if pregnancy.status in (Pregnancy.Status.CLOSED, Pregnancy.Status.DIED):
            raise TransitionConflict(_("This pregnancy's care is closed."))
        previous = (pregnancy.colour or None, pregnancy.purple)
        assessment = Assessment(
            pregnancy=pregnancy, stage=stage, assessed_at=now, assessor=by, institution=institution,
            ruleset=ruleset, inputs=inputs, matched=[row.as_dict() for row in result.matched],
            computed_colour=result.colour, computed_purple=result.purple, colour=final_colour,
            purple=final_purple, override_reason=override_reason.strip(),
            advice=YELLOW_ADVICE if final_colour == Colour.YELLOW and not final_purple else "",
        )
        save_with_history(assessment, by=by, reason=f"assessed: {assessment.label}")
        _set_pregnancy_colour(pregnancy, final_colour, final_purple, by=by, at=now,
                              reason=f"assessment {assessment.label}")
        for referral in AssessmentReferral.objects.select_for_update(of=("self",)).filter(
                pregnancy=pregnancy, status=AssessmentReferral.Status.OPEN):
            referral.mark_assessed(assessment=assessment)
            save_with_history(referral, by=by, reason="assessed")
            deadlines_cancel_for(referral, kind=ASSESSMENT_DUE, by=by, reason="assessed")
            alerts_resolve(subject=referral, step=kinds.SCREEN_ASSESSED, by=by)
        _consequences(pregnancy=pregnancy, assessment=assessment, previous=previous, by=by, institution=institution,
                      now=now)
    return assessment


# The processes that act on a woman's grade register here (``workflows/apps.py``; the high-risk process opens
# or regrades her case). Each hook runs inside the transaction that changes the grade, with (pregnancy=,
# colour=, purple=, assessment=, by=, institution=, now=): ``assessment`` is the new assessment, or None when
# voiding one gave the grade back to an older one.
GRADE_HOOKS: list[Any] = []


def _grade_hooks_run(**grade: Any) -> None:
    for hook in GRADE_HOOKS:
        hook(**grade)


def _rank(grade: tuple[str | None, bool]) -> tuple[int, bool]:
    colour, purple = grade
    return (SEVERITY.get(Colour(colour), 0) if colour else -1, purple)


def _consequences(*, pregnancy: Pregnancy, assessment: Assessment, previous: tuple[str | None, bool], by: Any,
                  institution: Institution, now: dt.datetime) -> None:
    colour, purple = assessment.colour, assessment.purple
    _grade_hooks_run(pregnancy=pregnancy, colour=colour, purple=purple, assessment=assessment, by=by,
                     institution=institution, now=now)
    case = HighRiskCase.objects.filter(pregnancy=pregnancy).first()

    before_colour = SEVERITY.get(Colour(previous[0]), 0) if previous[0] else None
    after_colour = SEVERITY[Colour(colour)]
    rose = before_colour is not None and (after_colour > before_colour or (purple and not previous[1]))
    if rose:
        doctor = case.responsible_doctor if case is not None else None
        targets = [to_user(doctor)] if doctor is not None and doctor.pk != by.pk else []
        if case is None:
            targets.append(to_role(pregnancy.booking_institution, Role.OBSTETRICIAN))
        targets = [t for t in targets if not (t.user is not None and t.user.pk == by.pk)]
        if targets:
            alert_raise(
                kind="screening.colour_rose", priority=Alert.Priority.URGENT if after_colour >= 2 or purple
                else Alert.Priority.ROUTINE, subject=assessment, link=pregnancy_link(pregnancy),
                title=gettext_noop("Risk rose to %(colour)s: %(woman)s"),
                body=gettext_noop("Re-assessed by %(assessor)s at %(institution)s."),
                params={"woman": pregnancy.woman.name, "colour": COLOUR_NAMES[Colour(colour)] if not purple
                        or colour != Colour.GREEN else COLOUR_NAMES[Colour.PURPLE],
                        "assessor": str(by), "institution": institution.name},
                to=targets, institution=pregnancy.booking_institution, now=now,
            )
    if colour == Colour.RED and not ContinuationEvaluation.objects.filter(
            pregnancy=pregnancy, status=ContinuationEvaluation.Status.OPEN).exists():
        _request_continuation_evaluation(pregnancy=pregnancy, assessment=assessment, by=by, now=now)


def _tertiary_for(pregnancy: Pregnancy) -> Institution | None:
    """The lowest-level tertiary rescue centre that covers where she booked."""
    centres = covering_rescue_centres(region_codes={pregnancy.booking_institution.region_id}).select_related(
        "institution").filter(institution__level=Institution.Level.TERTIARY)
    ordered = sorted(centres, key=lambda c: (RescueCentre.LEVEL_RANK[RescueCentre.Level(c.level)], c.institution.name))
    return ordered[0].institution if ordered else None


def _request_continuation_evaluation(*, pregnancy: Pregnancy, assessment: Assessment, by: Any,
                                     now: dt.datetime) -> None:
    hospital = _tertiary_for(pregnancy)
    if hospital is None:
        return
    settings = settings_for(pregnancy.booking_institution, on=timezone.localdate(now))
    evaluation = ContinuationEvaluation(pregnancy=pregnancy, assessment=assessment, institution=hospital,
                                        requested_at=now,
                                        due_at=now + dt.timedelta(days=settings.continuation_evaluation_days))
    save_with_history(evaluation, by=by, reason="red: can the pregnancy continue?")
    deadline_create(kind=CONTINUATION_DUE, due_at=evaluation.due_at, subject=evaluation,
                    reason="tertiary evaluation of a red pregnancy")
    alert_raise(
        kind="screening.continuation_requested", priority=Alert.Priority.URGENT, subject=evaluation,
        link=pregnancy_link(pregnancy),
        title=gettext_noop("Red woman to evaluate: can the pregnancy of %(woman)s continue?"),
        body=gettext_noop("Graded red at %(institution)s. A deputy chief physician or above decides."),
        params={"woman": pregnancy.woman.name, "institution": assessment.institution.name},
        to=[to_duty(hospital)], institution=hospital, now=now,
    )


def continuation_evaluation_record(*, evaluation: ContinuationEvaluation, by: Any, decision: str,
                                   note: str) -> ContinuationEvaluation:
    if decision not in ContinuationEvaluation.Decision.values:
        raise ValidationError({"decision": _("Choose a decision.")})
    if not note.strip():
        raise ValidationError({"note": _("Write down the reasons for the decision.")})
    with transaction.atomic():
        evaluation = ContinuationEvaluation.objects.select_for_update(of=("self",)).select_related("institution").get(
            pk=evaluation.pk)
        permissions.check("evaluate", by, evaluation.institution, perm=False)
        if evaluation.status != ContinuationEvaluation.Status.OPEN:
            raise TransitionConflict(_("This evaluation was already recorded."))
        evaluation.record(decision=decision, by=by, note=note.strip(), at=timezone.now())
        save_with_history(evaluation, by=by, reason=f"evaluated: {decision}")
        deadlines_cancel_for(evaluation, kind=CONTINUATION_DUE, by=by, reason="evaluated")
        alerts_resolve(subject=evaluation, step=kinds.CONTINUATION_EVALUATED, by=by)
    return evaluation


@deadline_handler(CONTINUATION_DUE)
def continuation_overdue(deadline: Any) -> None:
    evaluation = ContinuationEvaluation.objects.select_related("pregnancy__booking_institution__region",
                                                               "pregnancy__woman", "institution").filter(
        pk=deadline.subject_id).first()
    if evaluation is None or evaluation.status != ContinuationEvaluation.Status.OPEN:
        return
    alert_raise(
        kind="screening.continuation_overdue", priority=Alert.Priority.CRITICAL, subject=evaluation,
        link=pregnancy_link(evaluation.pregnancy),
        title=gettext_noop("Overdue: no decision whether the pregnancy of %(woman)s can continue"),
        body=gettext_noop("%(institution)s has not recorded its evaluation."),
        params={"woman": evaluation.pregnancy.woman.name, "institution": evaluation.institution.name},
        to=[to_step("mch_officer", evaluation.pregnancy.booking_institution)],
        institution=evaluation.pregnancy.booking_institution,
    )


def assessment_void(*, assessment: Assessment, by: Any, reason: str) -> Assessment:
    """Void a wrong assessment (kept, with the reason); the pregnancy's colour returns to the latest valid one."""
    if not reason.strip():
        raise ValidationError({"reason": _("Say why this assessment is wrong.")})
    with transaction.atomic():
        assessment = Assessment.objects.select_for_update(of=("self",)).select_related("pregnancy", "institution").get(
            pk=assessment.pk)
        permissions.check("void", by, assessment.institution, perm=False)
        if assessment.status != Assessment.Status.VALID:
            raise TransitionConflict(_("This assessment was already voided."))
        now = timezone.now()
        assessment.void(by=by, reason=reason.strip(), at=now)
        save_with_history(assessment, by=by, reason=f"voided: {reason.strip()}")
        pregnancy = Pregnancy.objects.select_for_update(of=("self",)).get(pk=assessment.pregnancy_id)
        latest = pregnancy.assessments.filter(status=Assessment.Status.VALID).order_by("-assessed_at").first()
        if latest is not None:
            _set_pregnancy_colour(pregnancy, latest.colour, latest.purple, by=by, at=now, reason="assessment voided")
            _grade_hooks_run(pregnancy=pregnancy, colour=latest.colour, purple=latest.purple, assessment=None,
                             by=by, institution=assessment.institution, now=now)
        else:
            _set_pregnancy_colour(pregnancy, "", False, by=by, at=now, reason="assessment voided")
    return assessment
