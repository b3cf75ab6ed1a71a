"""Who may import records from an existing MCH system, and into which area (written once: the importer's
check, the upload page, its menu entry and the command all read it).

- Women, pregnancies, visits, deliveries and deaths: MCH officers (妇幼保健人员) and system administrators, each
  for the area of the institution where she holds that role (a county MCH institute its county, a city's its
  city). A row naming an institution outside that area (``registered_by``, ``booking_institution``,
  ``institution``), or a pregnancy or woman she may not see, is a row error.
- Institutions: system administrators only, inside the area they administer (the same rule as the
  organisation pages, ``organisations/administration.py``): the register of institutions is theirs.

A superuser imports anything. Clinicians, bureau officers and reviewers never import.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy

from organisations.administration import administered_regions, is_superuser
from organisations.models import Membership, Region, Role
from organisations.scoping import Scope, region_codes_in_area

IMPORT_ROLES = frozenset({Role.MCH_OFFICER, Role.SYSTEM_ADMIN})
INSTITUTION_ROLES = frozenset({Role.SYSTEM_ADMIN})

DENIED = gettext_lazy("Importing records is for MCH officers and system administrators.")
DENIED_INSTITUTIONS = gettext_lazy("Only system administrators import institutions.")
OUTSIDE = gettext_lazy("This institution is outside your area.")
REGION_OUTSIDE = gettext_lazy("This region is outside your area.")


def _areas(user: Any, roles: frozenset[str]) -> set[tuple[str, str]]:
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return set()
    rows = Membership.objects.filter(user=user, role__in=list(roles), is_active=True, institution__is_active=True
                                     ).values_list("institution__region__level", "institution__region_id")
    return set(rows)


def may_import(user: Any, kind: str | None = None) -> bool:
    """May ``user`` import ``kind`` (any kind when None)?"""
    if is_superuser(user):
        return True
    if kind == "institutions":
        return bool(_areas(user, INSTITUTION_ROLES))
    return bool(_areas(user, IMPORT_ROLES))


def refusal(kind: str | None = None) -> str:
    return str(DENIED_INSTITUTIONS if kind == "institutions" else DENIED)


def area_region_codes(user: Any, kind: str) -> set[str] | None:
    """The codes of the regions whose records ``user`` imports as ``kind`` (None: every region)."""
    if is_superuser(user):
        return None
    if kind == "institutions":
        return set(administered_regions(user).values_list("code", flat=True))
    areas = _areas(user, IMPORT_ROLES)
    if not areas:
        return set()
    return set(Region.objects.filter(region_codes_in_area(Scope(), areas=areas)).values_list("code", flat=True))


def in_area(codes: set[str] | None, region_code: str | None) -> bool:
    return codes is None or (region_code is not None and region_code in codes)
