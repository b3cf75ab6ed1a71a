"""Who may *change* organisation records: the write side of the admin, written once.

Seeing and changing are separate. ``visible_*`` (selectors.py) says what a user may see: an officer's
area, the regions above it and the rescue centres that cover it. What a system admin may change is
narrower: only what lies inside the area of her system-admin membership(s):

* institutions and rescue centres hosted in her area (a covering city or provincial centre is not);
* regions strictly below her area's own region: that region and those above it define her area and
  are read-only to her;
* memberships at institutions of her area, of roles ranked below her own (``ROLE_RANK``), for users
  other than herself and superusers;
* the accounts (name, phone, active, password) of users who work only inside her area, hold no
  system-admin role and are not superusers. Her own account: personal details only.

Only a superuser sets ``is_staff``/``is_superuser``, grants the system-admin role, or changes which
permissions a role's group carries (the groups are nationwide).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from organisations.models import (
    API_CLIENT_ROLES,
    ROLE_RANK,
    ApiClient,
    Institution,
    Membership,
    Region,
    RescueCentre,
    Role,
)
from organisations.scoping import area_q, region_codes_in_area, user_scope


def is_superuser(user: Any) -> bool:
    return bool(getattr(user, "is_authenticated", False) and user.is_active and user.is_superuser)


def administered_regions(user: Any) -> QuerySet[Region]:
    """Regions inside the user's administered area, her area's own region included."""
    scope = user_scope(user)
    if scope.everything:
        return Region.objects.all()
    if not scope.admin_areas:
        return Region.objects.none()
    return Region.objects.filter(region_codes_in_area(scope, areas=scope.admin_areas))


def changeable_regions(user: Any) -> QuerySet[Region]:
    """Regions the user may edit: strictly below her area's own region."""
    scope = user_scope(user)
    if scope.everything:
        return Region.objects.all()
    return administered_regions(user).exclude(code__in=[code for _level, code in scope.admin_areas])


def administered_institutions(user: Any) -> QuerySet[Institution]:
    """Institutions whose region lies inside the user's administered area."""
    scope = user_scope(user)
    if scope.everything:
        return Institution.objects.all()
    if not scope.admin_areas:
        return Institution.objects.none()
    return Institution.objects.filter(area_q(scope, "region", areas=scope.admin_areas)).select_related("region")


def grantable_roles(user: Any) -> list[str]:
    """The roles ``user`` may grant: all for a superuser; for a system admin those ranked below hers."""
    if is_superuser(user):
        return list(Role.values)
    if not user_scope(user).admin_areas:
        return []
    own = ROLE_RANK[Role.SYSTEM_ADMIN]
    return [role for role in Role.values if ROLE_RANK[role] < own]


def membership_denial(*, by: Any, user: Any, institution: Institution | None, role: str) -> str | None:
    """Why ``by`` may not hold, grant or change ``user``'s ``role`` at ``institution``; None if she may."""
    if is_superuser(by):
        return None
    if user is not None and user.pk == by.pk:
        return _("Nobody changes their own memberships: ask another administrator.")
    if user is not None and (user.is_superuser or user.is_staff):
        return _("Only a superuser changes the memberships of an administrator.")
    if role not in grantable_roles(by):
        return _("Only a superuser grants this role.")
    if institution is not None and not administered_institutions(by).filter(pk=institution.pk).exists():
        return _("You grant memberships only at institutions of your own area.")
    return None


def can_change_membership(*, by: Any, membership: Membership) -> bool:
    return membership_denial(by=by, user=membership.user, institution=membership.institution,
                             role=membership.role) is None


def user_denial(*, by: Any, user: Any) -> str | None:
    """Why ``by`` may not change ``user``'s account (name, phone, active, password); None if she may.
    Her own account is not covered here: she edits her personal details only (see the user admin)."""
    if is_superuser(by):
        return None
    if user.pk == by.pk:
        return _("Your own flags and memberships are changed by another administrator.")
    if user.is_superuser or user.is_staff:
        return _("Only a superuser changes the account of an administrator.")
    memberships: Iterable[Membership] = list(user.memberships.select_related("institution"))
    if any(m.role == Role.SYSTEM_ADMIN for m in memberships):
        return _("Only a superuser changes the account of an administrator.")
    mine = administered_institutions(by)
    if not any(mine.filter(pk=m.institution_id).exists() for m in memberships):
        return _("This user does not work in your area.")
    if any(membership_denial(by=by, user=user, institution=m.institution, role=m.role)
           for m in memberships if m.is_active):
        return _("This user also works outside your area: a superuser changes the account.")
    return None


def can_change_region(*, by: Any, region: Region) -> bool:
    return changeable_regions(by).filter(pk=region.pk).exists()


def region_denial(*, by: Any, region: Region) -> str | None:
    """Why ``by`` may not save ``region`` as it now stands (a new one, or an edited one)."""
    if is_superuser(by):
        return None
    if not region.parent_id or not administered_regions(by).filter(pk=region.parent_id).exists():
        return _("A region you add or change lies inside your own area.")
    return None


def can_change_institution(*, by: Any, institution: Institution) -> bool:
    """Inside her area, and, if it hosts a rescue centre, one she may change (a city centre hosted in a
    district is the city's: deactivating its host would take it off every sender's list)."""
    if not administered_institutions(by).filter(pk=institution.pk).exists():
        return False
    centre = RescueCentre.objects.filter(institution=institution).first()
    return centre is None or can_change_centre(by=by, centre=centre)


def institution_denial(*, by: Any, institution: Institution) -> str | None:
    if is_superuser(by):
        return None
    if not institution.region_id or not administered_regions(by).filter(pk=institution.region_id).exists():
        return _("An institution you add or change lies inside your own area.")
    return None


def _top_centre_rank(user: Any) -> int:
    """The highest rescue-centre level she designates: that of her area (a county admin, county centres)."""
    return max((RescueCentre.LEVEL_RANK[RescueCentre.Level(level)] for level, _code in user_scope(user).admin_areas),
               default=0)


def can_change_centre(*, by: Any, centre: RescueCentre) -> bool:
    return is_superuser(by) or centre_denial(by=by, centre=centre, regions=centre.regions.all()) is None


def centre_denial(*, by: Any, centre: RescueCentre, regions: Iterable[Region] = ()) -> str | None:
    """Why ``by`` may not save ``centre`` with responsibility area ``regions``: its host, its level and its
    area must all be hers."""
    if is_superuser(by):
        return None
    if not centre.institution_id or not administered_institutions(by).filter(pk=centre.institution_id).exists():
        return _("A rescue centre you add or change is hosted inside your own area.")
    if centre.level and RescueCentre.LEVEL_RANK[RescueCentre.Level(centre.level)] > _top_centre_rank(by):
        return _("You designate rescue centres up to the level of your own area.")
    codes = {region.pk for region in regions}
    if codes and administered_regions(by).filter(pk__in=codes).count() != len(codes):
        return _("A rescue centre's responsibility area lies inside your own area.")
    return None


# --- Machine clients (ApiClient): a system admin sets up, and switches off, the clients of her area ---------


def manages_api_clients(user: Any) -> bool:
    """A superuser, or a system admin (her role's group carries the client permissions) with an area."""
    if is_superuser(user):
        return True
    return bool(getattr(user, "is_authenticated", False) and user.is_active
                and user.has_perm("organisations.add_apiclient") and user_scope(user).admin_areas)


def api_client_roles(user: Any) -> list[str]:
    """The roles ``user`` may give a machine client: the safe list (never a system admin), those she grants."""
    grantable = set(grantable_roles(user))
    return [role for role in API_CLIENT_ROLES if role in grantable]


def api_client_denial(*, by: Any, institution: Institution | None, roles: Iterable[str] = ()) -> str | None:
    """Why ``by`` may not set up (or manage) a machine client at ``institution`` with ``roles``; None if she may."""
    if not manages_api_clients(by):
        return _("Only a system administrator manages machine clients.")
    allowed = set(api_client_roles(by))
    if any(role not in allowed for role in roles):
        return _("A machine client holds clinical or officer roles only, never an administrator's.")
    if institution is not None and not administered_institutions(by).filter(pk=institution.pk).exists():
        return _("You manage machine clients of institutions in your own area only.")
    return None


def manageable_api_clients(user: Any) -> QuerySet[ApiClient]:
    """The machine clients ``user`` manages: those of institutions in her administered area."""
    if not manages_api_clients(user):
        return ApiClient.objects.none()
    return ApiClient.objects.filter(institution__in=administered_institutions(user)).select_related(
        "user", "institution__region", "created_by")
