"""The screening at booking (筛查): every item answered; a positive screen at an institution that cannot assess
is referred for assessment under a deadline."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from cases.models import (
    AssessmentReferral,
    Colour,
    Pregnancy,
    Screening,
)
from cases.rules import screening_item_codes, screening_items, settings_for
from cases.selectors import visible_pregnancies
from notifications.models import Alert
from notifications.recipients import to_role, to_step
from notifications.services import alert_raise
from organisations.http import TransitionConflict
from organisations.models import (
    Institution,
    Role,
)
from workflows.common import save_with_history
from workflows.deadlines import deadline_create, deadline_handler
from workflows.screening import permissions
from workflows.screening.services.base import ASSESSMENT_DUE, _set_pregnancy_colour, pregnancy_link


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
