"""Who may read the figures of which area, written once: the API, the command's callers and the dashboard
all ask here.

MCH officers, bureau officers and system admins read the figures of their institution's region and of
everything below it (a county body its county, a city body its counties, a provincial body the province); a
superuser reads every area. Nobody else reads figures: clinicians see their institution's records, not an
area's figures. A region outside the reader's areas is answered as if it did not exist (404), so a county
officer cannot even learn which codes another county uses.
"""

from __future__ import annotations

from typing import Any

from organisations.models import Institution, Membership, Region, Role

FIGURE_ROLES = frozenset({Role.MCH_OFFICER, Role.BUREAU_OFFICER, Role.SYSTEM_ADMIN})
_CACHE_ATTR = "_anmu_figure_areas"


def figure_areas(user: Any) -> frozenset[tuple[str, str]] | None:
    """The (level, code) of each region whose figures the user reads; None for every region (a superuser)."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return frozenset()
    if user.is_superuser:
        return None
    cached = getattr(user, _CACHE_ATTR, None)
    if cached is None:
        cached = frozenset(Membership.objects.filter(
            user=user, is_active=True, institution__is_active=True, role__in=FIGURE_ROLES,
        ).values_list("institution__region__level", "institution__region_id"))
        setattr(user, _CACHE_ATTR, cached)
    return cached


def may_read_figures(user: Any) -> bool:
    """The user reads the figures of some area (the menu and the API's 403 for everyone else)."""
    areas = figure_areas(user)
    return areas is None or bool(areas)


def can_read_region(user: Any, region: Region) -> bool:
    areas = figure_areas(user)
    if areas is None:
        return True
    return any(code in (region.code, region.city_id, region.province_id) for _level, code in areas)


def readable_region(user: Any, code: str) -> Region | None:
    """The region of ``code`` if the user may read its figures; None if it does not exist or is out of her
    areas (the same answer)."""
    region = Region.objects.filter(pk=code).first()
    if region is None or not can_read_region(user, region):
        return None
    return region


def readable_institution(user: Any, code: str, *, region: Region) -> Institution | None:
    """The institution of ``code`` if it lies in ``region`` (which the user may read); else None."""
    institution = Institution.objects.filter(code=code).select_related("region").first()
    if institution is None or not can_read_region(user, institution.region):
        return None
    if region.code not in (institution.region.code, institution.region.city_id, institution.region.province_id):
        return None
    return institution


def default_region(user: Any) -> Region | None:
    """The widest region the user reads (for a page that opens on her own area)."""
    areas = figure_areas(user)
    if areas is None:
        return Region.objects.filter(level=Region.Level.PROVINCE).order_by("code").first()
    rank: dict[str, int] = {Region.Level.PROVINCE: 0, Region.Level.CITY: 1, Region.Level.COUNTY: 2}
    for _level, code in sorted(areas, key=lambda area: (rank.get(area[0], 3), area[1])):
        return Region.objects.filter(pk=code).first()
    return None
