"""Scoped reads of organisations. Every view, API, export and subscription goes through these."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone

from organisations.models import (
    OBSTETRIC_ROLES,
    AccessLog,
    DutyShift,
    Institution,
    Membership,
    Region,
    RescueCentre,
    Role,
    User,
)
from organisations.scoping import Scope, area_q, region_codes_in_area, scope_q, user_scope


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


def _memberships(user: Any, roles: Iterable[str]) -> QuerySet[Membership]:
    return Membership.objects.filter(user=user, role__in=list(roles), is_active=True, institution__is_active=True)


def member_of(*, user: Any, institution: Any, roles: Iterable[str]) -> bool:
    """``user`` acts for ``institution`` (an Institution or its id) in one of ``roles``: an active membership of
    an active institution. A superuser always does. The one membership check every process uses."""
    if user.is_superuser:
        return True
    return _memberships(user, roles).filter(institution_id=getattr(institution, "pk", institution)).exists()


def acting_institutions(user: Any, roles: Iterable[str]) -> list[Institution]:
    """The institutions where the user may act in one of ``roles`` (active memberships of active institutions)."""
    return [m.institution for m in _memberships(user, roles).select_related("institution__region")
            .order_by("institution__name")]


def acting_institution_ids(user: Any, roles: Iterable[str]) -> QuerySet[Membership, Any]:
    """The same institutions as a subquery of ids (``institution__in=acting_institution_ids(...)``)."""
    return _memberships(user, roles).values("institution_id")


# --- The duty roster of a rescue centre (its read side; shifts are written in notifications/roster.py) -------
# Who keeps a centre's roster: its duty doctors and the MCH officers whose area contains it. They, and every
# doctor who is on the roster, may read it.

# How long after a shift ends its doctor may still write (or correct) the handover note.
HANDOVER_GRACE = dt.timedelta(hours=12)
# A doctor keeps seeing a roster they were on for this long after their last shift.
ROSTER_MEMORY = dt.timedelta(days=1)
DEFAULT_DAYS = 7
MAX_DAYS = 31
# Roles whose members can be put on a rescue centre's roster.


def _active(user: Any) -> bool:
    return bool(getattr(user, "is_authenticated", False) and user.is_active)


def _keeper_q(user: Any) -> Q:
    """Institutions whose roster ``user`` keeps by role: as their duty doctor, or as MCH officer of the area."""
    q = Q(pk__in=Membership.objects.filter(user=user, role=Role.DUTY_DOCTOR, is_active=True,
                                           institution__is_active=True).values("institution_id"))
    areas = frozenset(
        (m.institution.region.level, m.institution.region_id)
        for m in Membership.objects.filter(user=user, role=Role.MCH_OFFICER, is_active=True,
                                           institution__is_active=True).select_related("institution__region")
    )
    if areas:
        q |= area_q(Scope(areas=areas), "region")
    return q


def _centres() -> QuerySet[Institution]:
    return Institution.objects.filter(is_active=True, rescue_centre__isnull=False, rescue_centre__is_active=True)


def roster_editable_institutions(user: Any) -> QuerySet[Institution]:
    """Rescue centres whose roster ``user`` may change."""
    if not _active(user) or not user.has_perm("organisations.add_dutyshift"):
        return Institution.objects.none()
    if user.is_superuser:
        return _centres()
    return _centres().filter(_keeper_q(user))


def roster_institutions(user: Any, *, now: dt.datetime | None = None) -> QuerySet[Institution]:
    """Rescue centres whose roster ``user`` may read: those they keep, and those they are on."""
    if not _active(user):
        return Institution.objects.none()
    if user.is_superuser:
        return _centres()
    now = now or timezone.now()
    q = Q(pk__in=DutyShift.objects.filter(user=user, ends_at__gt=now - ROSTER_MEMORY).values("institution_id"))
    if user.has_perm("organisations.view_dutyshift"):
        q |= _keeper_q(user)
    return _centres().filter(q)


def visible_duty_shifts(user: Any) -> QuerySet[DutyShift]:
    """Shifts on the rosters ``user`` may read, and the user's own."""
    if not _active(user):
        return DutyShift.objects.none()
    return DutyShift.objects.filter(Q(institution__in=roster_institutions(user)) | Q(user=user)).select_related(
        "user", "institution")


def roster_staff(institution: Institution) -> QuerySet[User]:
    """People who can be put on this institution's roster: its active duty doctors and obstetricians."""
    return User.objects.filter(
        is_active=True,
        memberships__institution=institution, memberships__is_active=True, memberships__role__in=OBSTETRIC_ROLES,
    ).distinct().order_by("name", "username")


def incoming_shift(shift: DutyShift) -> DutyShift | None:
    """The shift that takes over from ``shift``: of the same kind, by someone else, starting during it
    or within an hour of its end (the earliest such)."""
    return (
        DutyShift.objects.filter(institution_id=shift.institution_id, kind=shift.kind, starts_at__gt=shift.starts_at,
                                 starts_at__lte=shift.ends_at + dt.timedelta(hours=1))
        .exclude(pk=shift.pk).exclude(user_id=shift.user_id).select_related("user").order_by("starts_at").first()
    )


@dataclass
class RosterRow:
    starts_at: dt.datetime
    ends_at: dt.datetime
    shift: DutyShift | None = None  # None: a gap in the duty roster

    @property
    def is_gap(self) -> bool:
        return self.shift is None


@dataclass
class RosterView:
    institution: Institution
    now: dt.datetime
    until: dt.datetime
    on_duty: list[DutyShift]
    on_call: list[DutyShift]
    rows: list[RosterRow]
    gaps: list[RosterRow]
    handovers: list[DutyShift] = field(default_factory=list)


def duty_gaps(shifts: list[DutyShift], start: dt.datetime, end: dt.datetime) -> list[RosterRow]:
    """Stretches of [start, end) that no duty shift covers."""
    gaps: list[RosterRow] = []
    cursor = start
    for shift in sorted((s for s in shifts if s.kind == DutyShift.Kind.DUTY), key=lambda s: s.starts_at):
        if shift.ends_at <= cursor:
            continue
        if shift.starts_at >= end:
            break
        if shift.starts_at > cursor:
            gaps.append(RosterRow(starts_at=cursor, ends_at=shift.starts_at))
        cursor = max(cursor, shift.ends_at)
        if cursor >= end:
            break
    if cursor < end:
        gaps.append(RosterRow(starts_at=cursor, ends_at=end))
    return gaps


def roster_view(*, institution: Institution, now: dt.datetime | None = None, days: int = DEFAULT_DAYS) -> RosterView:
    now = now or timezone.now()
    until = now + dt.timedelta(days=days)
    shifts = list(DutyShift.objects.filter(institution=institution, ends_at__gt=now, starts_at__lt=until)
                  .select_related("user").order_by("starts_at", "kind"))
    current = [s for s in shifts if s.starts_at <= now]
    gaps = duty_gaps(shifts, now, until)
    rows = sorted([RosterRow(starts_at=s.starts_at, ends_at=s.ends_at, shift=s) for s in shifts] + gaps,
                  key=lambda r: (r.starts_at, r.shift is not None))
    handovers = list(DutyShift.objects.filter(institution=institution, handover_at__isnull=False,
                                              handover_at__gte=now - dt.timedelta(days=2))
                     .select_related("user").order_by("-handover_at")[:5])
    return RosterView(
        institution=institution, now=now, until=until,
        on_duty=[s for s in current if s.kind == DutyShift.Kind.DUTY],
        on_call=[s for s in current if s.kind == DutyShift.Kind.ON_CALL],
        rows=rows, gaps=gaps, handovers=handovers,
    )
