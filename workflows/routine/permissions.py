"""Who may record a pregnancy's routine records (visits, the delivery), and for which institutions.

A routine record is written by a clinician for a pregnancy she may see (cases/selectors.py
``visible_pregnancies``: what her institution booked, manages, was asked to assess or was referred) and
names an institution in her own scope (``visible_institutions``: her institutions and the rescue centres
that serve them; by default her own). One rule per step, read by the service's check (403 with the
reason), by the pregnancy page (which buttons to show) and by the forms (which institutions to offer).

- visits (产前检查, 产后访视, 产后42天检查): obstetricians and primary-care doctors;
- the delivery (分娩): the same and the duty doctors, who take the high-risk case's delivery step too.

Correcting or voiding a visit is for those who may record visits at the visit's institution; correcting
the delivery for those who may record it and, when it was at an institution, work there.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext_lazy

from cases.models import Delivery, Pregnancy, Visit
from cases.selectors import visible_pregnancies
from organisations.http import ActionDenied
from organisations.models import BOOKING_ROLES, CLINICAL_ROLES, Institution
from organisations.selectors import acting_institutions, member_of, visible_institutions


@dataclass(frozen=True)
class Rule:
    perm: str
    roles: frozenset[str]
    refusal: Any


RULES: dict[str, Rule] = {
    "visit": Rule("cases.add_visit", BOOKING_ROLES,
                  gettext_lazy("Your role does not include recording antenatal or postpartum visits.")),
    "delivery": Rule("cases.add_delivery", CLINICAL_ROLES,
                     gettext_lazy("Your role does not include recording deliveries.")),
}

# Institutions a routine record may name: every kind that sees women, never a bureau.
RECORDING_KINDS = (Institution.Kind.PRIMARY_CARE, Institution.Kind.MIDWIFERY_HOSPITAL, Institution.Kind.MCH_INSTITUTE)

_NOT_YOURS = gettext_lazy("This pregnancy is not one your institution may see.")
_INSTITUTION = gettext_lazy("Choose an institution of your own, or one that serves it.")


def acting(step: str, user: Any) -> list[Institution]:
    """The user's own institutions where she takes ``step`` (empty: never)."""
    rule = RULES[step]
    if not getattr(user, "is_authenticated", False) or not user.has_perm(rule.perm):
        return []
    return acting_institutions(user, rule.roles)


def institutions_for(step: str, user: Any) -> QuerySet[Institution]:
    """The institutions a record of ``step`` by ``user`` may name: her scope's, active, no bureau."""
    if not acting(step, user):
        return Institution.objects.none()
    return visible_institutions(user).filter(is_active=True, kind__in=RECORDING_KINDS).order_by("-level", "name")


def _sees(user: Any, pregnancy: Pregnancy) -> bool:
    return visible_pregnancies(user).filter(pk=pregnancy.pk).exists()


def can(step: str, user: Any, pregnancy: Pregnancy) -> bool:
    return bool(acting(step, user)) and _sees(user, pregnancy)


def check(step: str, user: Any, pregnancy: Pregnancy, *, institution: Institution | None) -> None:
    """The service's check (ActionDenied with the reason): the role's permission and a membership in one of
    its roles, sight of the pregnancy, and an institution (when the record names one) in her scope."""
    rule = RULES[step]
    if not acting(step, user):
        raise ActionDenied(str(rule.refusal))
    if not _sees(user, pregnancy):
        raise ActionDenied(str(_NOT_YOURS))
    if institution is not None and not institutions_for(step, user).filter(pk=institution.pk).exists():
        raise ActionDenied(str(_INSTITUTION))


def visit_correctors(user: Any, pregnancy: Pregnancy) -> set[Any]:
    """The institutions whose visits on this pregnancy ``user`` may correct or void: those of her own where
    she records visits (none when she may not record visits on it)."""
    if not can("visit", user, pregnancy):
        return set()
    return {institution.pk for institution in acting("visit", user)}


def check_correct_visit(user: Any, visit: Visit) -> None:
    check("visit", user, visit.pregnancy, institution=None)
    if visit.institution_id not in visit_correctors(user, visit.pregnancy):
        raise ActionDenied(str(gettext_lazy("Only the doctors of %(institution)s correct this visit."))
                           % {"institution": visit.institution.name})


def check_correct_delivery(user: Any, delivery: Delivery) -> None:
    check("delivery", user, delivery.pregnancy, institution=None)
    if delivery.institution_id and not member_of(user=user, institution=delivery.institution_id,
                                                 roles=RULES["delivery"].roles):
        raise ActionDenied(str(gettext_lazy("Only the doctors of %(institution)s correct this delivery."))
                           % {"institution": delivery.institution.name})  # type: ignore[union-attr]


def _allowed(checker: Any, *args: Any) -> bool:
    try:
        checker(*args)
    except ActionDenied:
        return False
    return True


def can_record_visit(user: Any, pregnancy: Pregnancy) -> bool:
    """The pregnancy page's "record a visit" (antenatal ones dated up to the delivery, postpartum ones after it:
    the dates are the service's rules)."""
    return can("visit", user, pregnancy)


def can_correct_visit(user: Any, visit: Visit) -> bool:
    return visit.institution_id in visit_correctors(user, visit.pregnancy)


def can_record_delivery(user: Any, pregnancy: Pregnancy) -> bool:
    """Only an ongoing pregnancy is delivered, once."""
    return (pregnancy.status == Pregnancy.Status.ONGOING and not Delivery.objects.filter(pregnancy=pregnancy).exists()
            and can("delivery", user, pregnancy))


def can_correct_delivery(user: Any, delivery: Delivery) -> bool:
    return _allowed(check_correct_delivery, user, delivery)
