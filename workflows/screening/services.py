"""Pregnancy risk screening and assessment (妊娠风险筛查与评估): registration, booking, screening,
grading, and the consequences of each colour.

Every function here is a named step: it checks permission and condition, runs in one transaction,
writes history with the user and a reason, and raises its alerts and deadlines in the same transaction.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, gettext_noop

from cases.identity import id_birth_date, normalise_id_number
from cases.models import (
    COLOUR_NAMES,
    SEVERITY,
    Assessment,
    AssessmentReferral,
    Colour,
    ContinuationEvaluation,
    HighRiskCase,
    Pregnancy,
    Screening,
    Woman,
    WomanLink,
)
from cases.models.plausibility import NeedsConfirmation, pregnancy_warnings, woman_warnings
from cases.risk import KEYS, RiskInputError, risk_evaluate, risk_input_parse, ruleset_for_province
from cases.rules import screening_item_codes, screening_items, settings_for
from cases.selectors import visible_pregnancies, visible_women
from notifications import kinds
from notifications.models import Alert
from notifications.recipients import to_duty, to_role, to_step, to_user
from notifications.services import alert_raise, alerts_resolve
from organisations.http import ActionDenied, TransitionConflict
from organisations.models import (
    BOOKING_ROLES,
    AccessLog,
    Institution,
    Region,
    RescueCentre,
    Role,
)
from organisations.selectors import covering_rescue_centres
from organisations.services import access_record
from workflows.common import require_perm, save_with_history
from workflows.deadlines import deadline_create, deadline_handler, deadlines_cancel_for
from workflows.screening import permissions

ASSESSMENT_DUE = "screening.assessment_due"
CONTINUATION_DUE = "screening.continuation_due"
YELLOW_ADVICE = gettext_noop("Receive antenatal care and deliver at a secondary-or-higher hospital; "
                             "if anything is abnormal, go to a tertiary hospital promptly.")


def pregnancy_link(pregnancy: Pregnancy) -> str:
    return reverse("cases:pregnancy_detail", args=[pregnancy.pk])


def _label(colour: str, purple: bool) -> str:
    if purple:
        return "purple" if colour == Colour.GREEN else f"purple+{colour}"
    return colour


# --- Women and pregnancies -------------------------------------------------------------------------

def woman_register(
    *, by: Any, institution: Institution, name: str, id_type: str, id_number: str = "", no_id_reason: str = "",
    date_of_birth: dt.date | None = None, phone: str = "", residence_region: Region, confirmed: bool = False,
) -> tuple[Woman, bool]:
    """Register a woman, or find her: one woman per document number. Returns (woman, created).

    Finding an existing record needs a second factor: her name and date of birth must match the record
    (a mismatch is refused without saying which differs, and the attempt is logged). A second
    institution that finds her may see her from then on: the look-up is logged and the institutions
    that already hold her record are told. Unusual details (a resident ID that GB 11643 gives to a man,
    an age outside the province's usual range) are saved only with ``confirmed=True``."""
    permissions.check("register", by, institution)
    number = normalise_id_number(id_number)
    rules = settings_for(institution)
    born = date_of_birth
    if born is None and id_type == Woman.IdType.RESIDENT_ID:
        with contextlib.suppress(ValueError):  # full_clean() names a bad ID number
            born = id_birth_date(number)
    for _attempt in range(2):
        mismatch: Woman | None = None
        try:
            with transaction.atomic():
                if number:
                    existing = Woman.objects.select_for_update(of=("self",)).filter(
                        id_type=id_type, id_number=number).select_related("merged_into").first()
                    if existing is not None:
                        woman = existing.merged_into or existing
                        if not _same_woman(woman, name=name, born=born):
                            mismatch = woman
                        else:
                            if _link(woman=woman, institution=institution, by=by):
                                _tell_record_holders(woman=woman, institution=institution)
                            access_record(user=by, action=AccessLog.Action.LOOKUP, obj=woman,
                                          summary=f"{woman._meta.verbose_name} {woman.name}"
                                                  f"（{_('found by document number')}）",
                                          region=woman.residence_region, institution=institution)
                            return woman, False
                if mismatch is None:
                    woman = Woman(name=name.strip(), id_type=id_type, id_number=number, no_id_reason=no_id_reason,
                                  phone=phone, residence_region=residence_region, registered_by=institution)
                    woman.date_of_birth = born  # type: ignore[assignment]
                    woman.full_clean()
                    warnings = woman_warnings(woman, settings=rules, on=timezone.localdate())
                    if warnings and not confirmed:
                        raise NeedsConfirmation(warnings)
                    save_with_history(woman, by=by, reason="registered")
                    _link(woman=woman, institution=institution, by=by)
                    return woman, True
        except IntegrityError:
            continue  # another desk registered the same number at the same moment: find hers
        # Out of the transaction, so the refused attempt stays in the access log.
        assert mismatch is not None  # noqa: S101  (the only way out of the block without returning)
        refused = _("look-up by document number refused: details do not match")
        access_record(user=by, action=AccessLog.Action.LOOKUP, obj=mismatch, summary=refused,
                      region=mismatch.residence_region, institution=institution)
        raise ValidationError(LOOKUP_MISMATCH)
    raise ActionDenied(_("This woman could not be registered; try again."))


LOOKUP_MISMATCH = gettext_lazy("No record was found with these details, or its details do not match: check the "
                               "document number, the name and the date of birth.")


def _same_woman(woman: Woman, *, name: str, born: dt.date | None) -> bool:
    """The second factor of a look-up by document number: the same name (spaces and case aside) and
    the same date of birth."""
    def key(text: str) -> str:
        return "".join((text or "").split()).casefold()

    return bool(key(name)) and key(name) == key(woman.name) and born is not None and born == woman.date_of_birth


def _tell_record_holders(*, woman: Woman, institution: Institution) -> None:
    """An informational alert (routine: no escalation, no SMS) to the booking doctors of every
    institution that already holds her record: another institution can now read it."""
    holders = Institution.objects.filter(
        Q(pk=woman.registered_by_id) | Q(pk__in=WomanLink.objects.filter(woman=woman).values("institution_id"))
    ).exclude(pk=institution.pk).filter(is_active=True).order_by("name")
    for holder in holders:
        alert_raise(
            kind="screening.woman_found", subject=woman, link=reverse("cases:woman_detail", args=[woman.pk]),
            title=gettext_noop("Another institution found the record of %(woman)s"),
            body=gettext_noop("%(institution)s entered her document number, name and date of birth and may "
                              "read her record from now on. If she is not in their care, tell your MCH officer."),
            params={"woman": woman.name, "institution": institution.name},
            to=[to_role(holder, role) for role in sorted(BOOKING_ROLES)], institution=holder,
        )


def _link(*, woman: Woman, institution: Institution, by: Any) -> bool:
    """Give ``institution`` sight of her record; True if it did not have it yet."""
    _link_row, created = WomanLink.objects.get_or_create(woman=woman, institution=institution,
                                                         defaults={"created_by": by})
    return created


def woman_merge(*, keep: Woman, duplicate: Woman, by: Any, reason: str) -> Woman:
    """An MCH officer merges two records of one woman: pregnancies and links move to ``keep``."""
    require_perm(user=by, perm="cases.merge_woman", reason=_("Only MCH officers merge women's records."))
    if not reason.strip():
        raise ValidationError({"reason": _("Say why these two records are the same woman.")})
    if keep.pk == duplicate.pk:
        raise ValidationError({"duplicate": _("Choose two different records.")})
    with transaction.atomic():
        women = {w.pk: w for w in visible_women(by).select_for_update(of=("self",)).filter(pk__in=[keep.pk, duplicate.pk])}
        if len(women) != 2:
            raise ActionDenied(_("Both records must be in your area."))
        keep, duplicate = women[keep.pk], women[duplicate.pk]
        if duplicate.merged_into_id or keep.merged_into_id:
            raise TransitionConflict(_("One of these records was already merged."))
        for pregnancy in Pregnancy.objects.filter(woman=duplicate):
            pregnancy.woman = keep
            save_with_history(pregnancy, by=by, reason=f"merged: {reason}")
        for link in WomanLink.objects.filter(woman=duplicate):
            WomanLink.objects.get_or_create(woman=keep, institution=link.institution,
                                            defaults={"created_by": link.created_by})
        duplicate.merged_into = keep
        duplicate.merged_at = timezone.now()
        save_with_history(duplicate, by=by, reason=f"merged into another record: {reason}")
        save_with_history(keep, by=by, reason=f"absorbed a duplicate record: {reason}")
    return keep


def pregnancy_book(
    *, woman: Woman, institution: Institution, by: Any, lmp: dt.date, booking_date: dt.date,
    gravidity: int, parity: int, edd_ultrasound: dt.date | None = None, confirmed: bool = False,
) -> Pregnancy:
    """Book a pregnancy (建册). A woman has at most one ongoing pregnancy. Impossible dates are refused
    (cases/models/plausibility.py); a mother's age outside the province's usual range needs ``confirmed=True``."""
    permissions.check("book", by, institution)
    with transaction.atomic():
        woman = visible_women(by).select_for_update(of=("self",)).get(pk=woman.pk)
        if woman.merged_into_id:
            raise TransitionConflict(_("This record was merged into another; book on that one."))
        if Pregnancy.objects.filter(woman=woman, status=Pregnancy.Status.ONGOING).exists():
            raise ValidationError({"lmp": _("She already has an ongoing pregnancy; close it before booking another.")})
        pregnancy = Pregnancy(woman=woman, booking_institution=institution, lmp=lmp, booking_date=booking_date,
                              gravidity=gravidity, parity=parity, edd_ultrasound=edd_ultrasound)
        pregnancy.full_clean(exclude=["status"])
        warnings = pregnancy_warnings(pregnancy, settings=settings_for(institution, on=booking_date))
        if warnings and not confirmed:
            raise NeedsConfirmation(warnings)
        save_with_history(pregnancy, by=by, reason="booked")
        _link(woman=woman, institution=institution, by=by)
    return pregnancy


# --- Screening --------------------------------------------------------------------------------------

def screening_record(
    *, pregnancy: Pregnancy, institution: Institution, by: Any, answers: dict[str, bool | None], note: str = "",
    refer_to: Institution | None = None, now: dt.datetime | None = None,
) -> Screening:
    """Record the screening form. Positive if any item is ticked. A positive screen at primary care is
    referred for assessment at a secondary-or-higher facility, due within the province's days."""
    permissions.check("screen", by, institution)
    now = now or timezone.now()
    settings = settings_for(institution, on=timezone.localdate(now))
    known = screening_item_codes()
    errors: dict[str, list[str]] = {}
    unknown = sorted(set(answers) - known)
    if unknown:
        errors["answers"] = [_("Unknown screening items: %(codes)s") % {"codes": ", ".join(unknown)}]
    missing = [item.code for item in screening_items(settings) if item.required and answers.get(item.code) is None]
    if missing:
        errors.setdefault("answers", []).append(
            _("These required items were not answered: %(codes)s") % {"codes": ", ".join(missing)})
    positive_items = sorted((code for code, value in answers.items() if value is True), key=_item_key)
    positive = bool(positive_items)
    is_primary = institution.kind == Institution.Kind.PRIMARY_CARE
    if positive and is_primary:
        if refer_to is None:
            errors["refer_to"] = [_("Choose the secondary-or-higher hospital that will assess her.")]
        elif not _can_assess(refer_to):
            errors["refer_to"] = [_("Assessment is done at a level 2 or 3 hospital that delivers babies.")]
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        pregnancy = visible_pregnancies(by).select_for_update(of=("self",)).get(pk=pregnancy.pk)
        if pregnancy.status != Pregnancy.Status.ONGOING:
            raise TransitionConflict(_("This pregnancy is no longer ongoing."))
        screening = Screening(pregnancy=pregnancy, institution=institution, screened_by=by, screened_at=now,
                              answers={code: value for code, value in answers.items() if value is not None},
                              positive=positive, positive_items=positive_items, note=note)
        save_with_history(screening, by=by, reason="screened")
        if not positive and not pregnancy.colour:
            _set_pregnancy_colour(pregnancy, Colour.GREEN, False, by=by, at=now, reason="screen negative: green")
        if positive and is_primary and refer_to is not None:
            referral = AssessmentReferral(
                pregnancy=pregnancy, screening=screening, from_institution=institution, to_institution=refer_to,
                created_at=now, due_at=now + dt.timedelta(days=settings.screen_positive_assess_days))
            save_with_history(referral, by=by, reason="screen positive at primary care")
            deadline_create(kind=ASSESSMENT_DUE, due_at=referral.due_at, subject=referral,
                            reason="screen-positive woman must be assessed")
            alert_raise(
                kind="screening.referred", subject=referral, link=pregnancy_link(pregnancy),
                title=gettext_noop("Screen-positive woman referred for assessment: %(woman)s"),
                body=gettext_noop("Referred by %(from)s; assess her by %(due)s."),
                params={"woman": pregnancy.woman.name, "from": institution.name,
                        "due": timezone.localtime(referral.due_at).strftime("%Y-%m-%d")},
                to=[to_role(refer_to, Role.OBSTETRICIAN)], institution=refer_to, now=now,
            )
    return screening


def _item_key(code: str) -> tuple[int, ...]:
    return tuple(int(part) for part in code.split("."))


def _can_assess(institution: Institution) -> bool:
    return (institution.is_active and (institution.level or 0) >= Institution.Level.SECONDARY
            and institution.kind in (Institution.Kind.MIDWIFERY_HOSPITAL, Institution.Kind.MCH_INSTITUTE))


@deadline_handler(ASSESSMENT_DUE)
def assessment_overdue(deadline: Any) -> None:
    referral = AssessmentReferral.objects.select_related("pregnancy__woman", "from_institution__region",
                                                         "to_institution").filter(pk=deadline.subject_id).first()
    if referral is None or referral.status != AssessmentReferral.Status.OPEN:
        return
    referral.overdue_alerted_at = timezone.now()
    save_with_history(referral, by=None, reason="assessment deadline passed")
    alert_raise(
        kind="screening.assessment_overdue", priority=Alert.Priority.URGENT, subject=referral,
        link=pregnancy_link(referral.pregnancy),
        title=gettext_noop("Overdue: %(woman)s not assessed after a positive screen"),
        body=gettext_noop("Referred from %(from)s to %(to)s; the assessment deadline has passed."),
        params={"woman": referral.pregnancy.woman.name, "from": referral.from_institution.name,
                "to": referral.to_institution.name},
        to=[to_step("mch_officer", referral.from_institution)], institution=referral.from_institution,
    )


# --- Assessment -------------------------------------------------------------------------------------

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


def _set_pregnancy_colour(pregnancy: Pregnancy, colour: str, purple: bool, *, by: Any, at: dt.datetime,
                          reason: str) -> None:
    pregnancy.colour, pregnancy.purple, pregnancy.colour_at = colour, purple, at
    save_with_history(pregnancy, by=by, reason=reason)


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

