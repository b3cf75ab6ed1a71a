"""What a user may see: the one mechanism behind every ``visible_*(user)`` selector.

A user's scope is built from their active memberships:

* officers (MCH officer, bureau officer, expert reviewer, system admin) oversee an **area**: the
  region of their institution and everything below it (a county bureau its county, a city bureau
  its counties, a provincial bureau the province);
* clinicians (obstetrician, primary-care doctor, duty doctor) see the work of their **institutions**:
  what it booked, manages or was referred.

Selectors turn a scope into a ``Q`` with :func:`scope_q`, naming the record's region field and the
institution fields that make a record "theirs". A superuser sees everything.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Q

from organisations.models import AREA_ROLES, CLINICAL_ROLES, Membership, Region, Role


@dataclass(frozen=True)
class Scope:
    everything: bool = False
    # (level, code) for each region the user oversees.
    areas: frozenset[tuple[str, str]] = field(default_factory=frozenset)
    institution_ids: frozenset[uuid.UUID] = field(default_factory=frozenset)
    # Regions of the user's own institutions (for looking up rescue centres that cover them).
    home_region_codes: frozenset[str] = field(default_factory=frozenset)
    roles: frozenset[str] = field(default_factory=frozenset)
    # (level, code) for each region the user administers (system-admin memberships only): what she may
    # *change*. Seeing is ``areas``; see organisations/administration.py.
    admin_areas: frozenset[tuple[str, str]] = field(default_factory=frozenset)

    @property
    def is_empty(self) -> bool:
        return not (self.everything or self.areas or self.institution_ids)


_CACHE_ATTR = "_anmu_scope"


def user_scope(user: Any) -> Scope:
    """The user's scope, computed once per user object (i.e. once per request)."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return Scope()
    cached = getattr(user, _CACHE_ATTR, None)
    if cached is not None:
        return cached
    if user.is_superuser:
        scope = Scope(everything=True)
    else:
        areas: set[tuple[str, str]] = set()
        institutions: set[uuid.UUID] = set()
        home_regions: set[str] = set()
        roles: set[str] = set()
        admin_areas: set[tuple[str, str]] = set()
        memberships = Membership.objects.filter(
            user=user, is_active=True, institution__is_active=True
        ).select_related("institution__region")
        for membership in memberships:
            roles.add(membership.role)
            region = membership.institution.region
            home_regions.add(region.code)
            if membership.role in AREA_ROLES:
                areas.add((region.level, region.code))
                if membership.role == Role.SYSTEM_ADMIN:
                    admin_areas.add((region.level, region.code))
            elif membership.role in CLINICAL_ROLES:
                institutions.add(membership.institution_id)
        scope = Scope(
            areas=frozenset(areas),
            institution_ids=frozenset(institutions),
            home_region_codes=frozenset(home_regions),
            roles=frozenset(roles),
            admin_areas=frozenset(admin_areas),
        )
    setattr(user, _CACHE_ATTR, scope)
    return scope


def forget_scope(user: Any) -> None:
    """Drop the cached scope (after a membership change within the same request or test)."""
    if hasattr(user, _CACHE_ATTR):
        delattr(user, _CACHE_ATTR)


def area_q(scope: Scope, region_field: str, *, areas: Iterable[tuple[str, str]] | None = None) -> Q:
    """Records whose ``region_field`` lies inside one of the scope's areas (or of ``areas``)."""
    q = Q(pk__in=[])
    for level, code in scope.areas if areas is None else areas:
        if level == Region.Level.PROVINCE:
            q |= Q(**{f"{region_field}__province_id": code})
        elif level == Region.Level.CITY:
            q |= Q(**{f"{region_field}__city_id": code})
        else:
            q |= Q(**{f"{region_field}__pk": code})
    return q


def scope_q(user: Any, *, region_field: str | None, institution_fields: Iterable[str] = ()) -> Q:
    """The filter for a model: in the user's area by ``region_field``, or tied to one of the user's
    institutions by any of ``institution_fields``. Nothing at all when the user has no scope."""
    scope = user_scope(user)
    if scope.everything:
        return Q()
    q = Q(pk__in=[])
    if region_field is not None and scope.areas:
        q |= area_q(scope, region_field)
    if scope.institution_ids:
        for name in institution_fields:
            q |= Q(**{f"{name}__in": scope.institution_ids})
    return q


def region_codes_in_area(scope: Scope, *, areas: Iterable[tuple[str, str]] | None = None) -> Q:
    """A filter on ``Region`` itself for the scope's areas (or for ``areas``)."""
    q = Q(pk__in=[])
    for level, code in scope.areas if areas is None else areas:
        if level == Region.Level.PROVINCE:
            q |= Q(province_id=code)
        elif level == Region.Level.CITY:
            q |= Q(city_id=code)
        else:
            q |= Q(code=code)
    return q
