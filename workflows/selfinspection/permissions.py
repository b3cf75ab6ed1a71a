"""Who may do what with self-inspection reports, written once (CONVENTIONS habit 12).

A region's report is drafted, edited and finalised by the MCH officers and bureau officers of an institution
of exactly that region (a county's for the county, a city's for the city, a province's for the province).
Reading is the selector's (cases.selectors.visible_selfinspection_reports): the officers of the region and of
the regions above it."""

from __future__ import annotations

from typing import Any

from organisations.models import Membership, Region, Role

OFFICER_ROLES = frozenset({Role.MCH_OFFICER, Role.BUREAU_OFFICER})


def _officer_memberships(user: Any) -> Any:
    return Membership.objects.filter(user=user, is_active=True, institution__is_active=True, role__in=OFFICER_ROLES)


def may_open(user: Any) -> bool:
    """The MCH and bureau officers (and a superuser) open the application."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    return user.is_superuser or _officer_memberships(user).exists()


def drafting_regions(user: Any) -> list[Region]:
    """The regions the user drafts reports for: those of her officer memberships (every region: a superuser)."""
    if not may_open(user):
        return []
    if user.is_superuser:
        return list(Region.objects.order_by("code"))
    codes = set(_officer_memberships(user).values_list("institution__region_id", flat=True))
    return list(Region.objects.filter(code__in=codes).order_by("code"))


def may_draft(user: Any, region: Region) -> bool:
    if not may_open(user):
        return False
    return user.is_superuser or _officer_memberships(user).filter(institution__region_id=region.code).exists()


def may_edit(user: Any, report: Any) -> bool:
    return may_draft(user, report.region)


def can_edit(user: Any, report: Any) -> bool:
    return report.state == report.State.DRAFT and may_edit(user, report)


can_finalise = can_edit
