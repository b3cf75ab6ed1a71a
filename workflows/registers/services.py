"""The registers several processes write to: the WHO near-miss checklist (危重孕产妇) and emergency
caesareans with their decision-to-delivery interval (DDI). A high-risk case and a referral both file them,
so they live below both processes."""

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

from cases.models import EmergencyCaesarean, HighRiskCase, NearMiss, Pregnancy, Referral
from cases.nearmiss import BY_CODE
from cases.rules import settings_for
from notifications.models import Alert
from notifications.recipients import to_step
from notifications.services import alert_raise
from organisations.http import ActionDenied
from organisations.models import CLINICAL_ROLES, OBSTETRIC_ROLES, Institution
from organisations.selectors import member_of
from workflows.common import save_with_history


def near_miss_record(*, pregnancy: Pregnancy, by: Any, institution: Institution, criteria: Iterable[str],
                     note: str = "", referral: Referral | None = None) -> NearMiss:
    """File the WHO near-miss checklist. Any criterion met marks the pregnancy a near miss (危重孕产妇)
    and alerts the county MCH officer; it then counts in the indicators."""
    codes = sorted(set(criteria))
    unknown = [c for c in codes if c not in BY_CODE]
    if unknown:
        raise ValidationError({"criteria": _("Unknown criteria: %(codes)s") % {"codes": ", ".join(unknown)}})
    with transaction.atomic():
        if not member_of(user=by, institution=institution.pk, roles=CLINICAL_ROLES):
            raise ActionDenied(_("You do not hold a clinical role at %(institution)s.")
                               % {"institution": institution.name})
        pregnancy = Pregnancy.objects.select_for_update(of=("self",)).select_related("woman").get(pk=pregnancy.pk)
        now = timezone.now()
        record = NearMiss(pregnancy=pregnancy, referral=referral, institution=institution, criteria=codes,
                          note=(note or "").strip(), recorded_by=by, recorded_at=now,
                          case=HighRiskCase.objects.filter(pregnancy=pregnancy).first())
        save_with_history(record, by=by, reason="near-miss checklist")
        if codes and pregnancy.near_miss_at is None:
            pregnancy.near_miss_at = now
            save_with_history(pregnancy, by=by, reason="near miss", update_fields=["near_miss_at"])
            county = pregnancy.highrisk_case.institution if hasattr(pregnancy, "highrisk_case") else \
                pregnancy.booking_institution
            alert_raise(kind="nearmiss.marked", priority=Alert.Priority.URGENT, subject=pregnancy,
                        link=reverse("cases:pregnancy_detail", args=[pregnancy.pk]),
                        title=gettext_noop("Near miss: %(woman)s"),
                        body=gettext_noop("%(institution)s recorded %(count)s WHO near-miss criteria."),
                        params={"woman": pregnancy.woman.name, "institution": institution.name, "count": len(codes)},
                        to=[to_step("mch_officer", county)], institution=county)
    return record


def caesarean_record(*, pregnancy: Pregnancy, by: Any, institution: Institution, decision_at: dt.datetime,
                     delivery_at: dt.datetime, note: str = "", referral: Referral | None = None) -> EmergencyCaesarean:
    """Record an emergency caesarean: the decision-to-delivery interval is computed and flagged above the
    province's target (30 minutes by default)."""
    errors = {}
    now = timezone.now()
    if delivery_at < decision_at:
        errors["delivery_at"] = [_("The baby cannot be delivered before the decision to operate.")]
    if delivery_at > now + dt.timedelta(minutes=1):
        errors["delivery_at"] = [_("The delivery time cannot be in the future.")]
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        if not member_of(user=by, institution=institution.pk, roles=OBSTETRIC_ROLES):
            raise ActionDenied(_("You do not hold an obstetric role at %(institution)s.")
                               % {"institution": institution.name})
        target = settings_for(institution).ddi_target_minutes
        minutes = int((delivery_at - decision_at).total_seconds() // 60)
        record = EmergencyCaesarean(pregnancy=pregnancy, referral=referral, institution=institution,
                                    decision_at=decision_at, delivery_at=delivery_at, ddi_minutes=minutes,
                                    target_minutes=target, over_target=minutes > target, note=(note or "").strip(),
                                    recorded_by=by, recorded_at=now)
        save_with_history(record, by=by, reason="emergency caesarean")
    return record
