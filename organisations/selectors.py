"""Scoped reads of organisations. Every view, API, export and subscription goes through these."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db.models import Q, QuerySet

from organisations.models import AccessLog, Institution, Membership, Region, RescueCentre, User
from organisations.scoping import region_codes_in_area, scope_q, user_scope


def _ancestor_codes(codes: set[str]) -> set[str]:
    found = set(codes)
    for region in Region.objects.filter(code__in=codes).only("code", "province_id", "city_id"):
        found.update(c for c in (region.province_id, region.city_id) if c)
    return found


def visible_regions(user: Any) -> QuerySet[Region]:
    scope = user_scope(user)
    if scope.everything:
        return Region.objects.all()
    return Region.objects.filter(
        region_codes_in_area(scope) | Q(code__in=_ancestor_codes(set(scope.home_region_codes)))
    )


def covering_rescue_centres(*, region_codes: set[str] | frozenset[str]) -> QuerySet[RescueCentre]:
    """Active rescue centres whose responsibility area contains one of these regions (or an ancestor
    of one: a centre responsible for a whole city covers each of its counties)."""
    codes = _ancestor_codes(set(region_codes))
    return RescueCentre.objects.filter(
        is_active=True, institution__is_active=True, regions__code__in=codes
    ).distinct()


def visible_institutions(user: Any) -> QuerySet[Institution]:
    scope = user_scope(user)
    if scope.is_empty:
        return Institution.objects.none()
    q = scope_q(user, region_field="region", institution_fields=["pk"])
    if not scope.everything and scope.home_region_codes:
        # Everyone may look up the rescue centres that serve their institutions: that is where
        # they refer a woman in danger.
        q |= Q(pk__in=covering_rescue_centres(region_codes=scope.home_region_codes).values("institution_id"))
    return Institution.objects.filter(q).select_related("region")


def visible_rescue_centres(user: Any) -> QuerySet[RescueCentre]:
    return RescueCentre.objects.filter(institution__in=visible_institutions(user)).select_related(
        "institution__region"
    )


def visible_memberships(user: Any) -> QuerySet[Membership]:
    if user_scope(user).is_empty:
        return Membership.objects.none()
    q = scope_q(user, region_field="institution__region", institution_fields=["institution"])
    return Membership.objects.filter(q).select_related("user", "institution__region")


def visible_users(user: Any) -> QuerySet[User]:
    if not getattr(user, "is_authenticated", False):
        return User.objects.none()
    if user_scope(user).everything:
        return User.objects.all()
    return User.objects.filter(Q(pk=user.pk) | Q(memberships__in=visible_memberships(user))).distinct()


def visible_access_logs(user: Any) -> QuerySet[AccessLog]:
    """Officers review who read the personal records of their area."""
    if not user.has_perm("organisations.view_accesslog"):
        return AccessLog.objects.none()
    return AccessLog.objects.filter(scope_q(user, region_field="region")).select_related(
        "user", "institution", "region"
    )


@dataclass
class CentreChoice:
    """A rescue centre as a sender sees it when choosing where to refer a woman."""

    centre: RescueCentre
    on_duty: list[User]
    on_call: list[User]

    @property
    def duty_phone(self) -> str:
        return self.centre.duty_phone


def referral_centre_choices(*, institution: Institution, at: Any = None) -> list[CentreChoice]:
    """The rescue centres whose responsibility area covers ``institution``, lowest sufficient level first
    (county, city, province), each with who is on duty and on call now and its free beds."""
    from django.utils import timezone

    from organisations.models import DutyShift

    at = at or timezone.now()
    centres = covering_rescue_centres(region_codes={institution.region_id}).select_related("institution__region")
    ordered = sorted(centres, key=lambda c: (c.rank, c.institution.name))
    shifts = DutyShift.objects.filter(institution__in=[c.institution_id for c in ordered], starts_at__lte=at,
                                      ends_at__gt=at).select_related("user")
    choices = []
    for centre in ordered:
        mine = [s for s in shifts if s.institution_id == centre.institution_id and s.user.is_active]
        choices.append(CentreChoice(
            centre=centre,
            on_duty=[s.user for s in mine if s.kind == DutyShift.Kind.DUTY],
            on_call=[s.user for s in mine if s.kind == DutyShift.Kind.ON_CALL],
        ))
    return choices


# Kinds of institution that admit a woman in danger (a health bureau, a primary-care facility and an
# MCH institute without a rescue centre — the MCH offices — cannot).
RECEIVING_KINDS = (Institution.Kind.MIDWIFERY_HOSPITAL,)


def transfer_on_choices(*, institution: Institution) -> QuerySet[Institution]:
    """Where a rescue centre (hosted by ``institution``) may transfer a woman on: the active rescue centres
    and hospitals of its province that admit her, never itself. Order: the centres covering the
    institution, lowest sufficient level first (as ``referral_centre_choices``); then the province's
    other centres, the level nearest to its own first; then the hospitals, highest level first."""
    from django.db.models import Case, IntegerField, Value, When

    own = getattr(institution, "rescue_centre", None)
    own_rank = own.rank if own is not None else 0
    covering = [c.centre.institution_id for c in referral_centre_choices(institution=institution)
                if c.centre.institution_id != institution.pk]
    centres = RescueCentre.objects.filter(
        is_active=True, institution__is_active=True, institution__region__province_id=institution.region.province_id
    ).exclude(institution=institution).exclude(institution_id__in=covering).select_related("institution")
    others = [c.institution_id for c in sorted(centres, key=lambda c: (abs(c.rank - own_rank), c.rank,
                                                                          c.institution.name))]
    hospitals = list(Institution.objects.filter(
        is_active=True, kind__in=RECEIVING_KINDS, region__province_id=institution.region.province_id
    ).exclude(rescue_centre__is_active=True).exclude(pk=institution.pk).order_by("-level", "name").values_list("pk", flat=True))
    ordered = [*covering, *others, *hospitals]
    return Institution.objects.filter(pk__in=ordered).select_related("rescue_centre").annotate(
        choice_rank=Case(*[When(pk=pk, then=Value(i)) for i, pk in enumerate(ordered)],
                         default=Value(len(ordered)), output_field=IntegerField())).order_by("choice_rank")


def acting_institutions(user: Any, roles: Iterable[str]) -> list[Institution]:
    """The institutions where the user may act in one of ``roles`` (active memberships of active institutions)."""
    return [m.institution for m in Membership.objects.filter(
        user=user, role__in=roles, is_active=True, institution__is_active=True).select_related("institution__region")
        .order_by("institution__name")]
