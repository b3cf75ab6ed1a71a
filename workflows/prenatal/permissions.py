"""Who may do what with prenatal QC figures, written once (CONVENTIONS habit 12): one ``may_<step>`` (the role and
where it is held; refused: 403 with a reason) and one ``can_<step>`` (the report's state allows it now) per step.

* **Enter and submit**: an obstetrician or MCH officer *of the licensed institution itself* (its prenatal or QC
  staff; the MCH officer of an MCH institute that holds the licence).
* **Return for correction**: an MCH officer whose area contains the institution (the county MCH institute for
  the county's institutions, the city's or the province's for those on their own level).
* **Read**: whoever enters, and the MCH officers, bureau officers and system admins of the area
  (``cases.selectors.visible_prenatal_reports``); nobody else, an out-of-scope report is a 404.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy

from cases.models import PrenatalReport, licences_of
from organisations.models import Institution, Membership, Role
from organisations.selectors import member_of

ENTRY_ROLES = frozenset({Role.OBSTETRICIAN, Role.MCH_OFFICER})
RETURN_ROLES = frozenset({Role.MCH_OFFICER})

DENIED = gettext_lazy("Prenatal QC opens to the staff of licensed institutions and to the MCH officers, bureau "
                      "officers and system administrators of their area.")


def may_open(user: Any) -> bool:
    return bool(user.is_authenticated and user.is_active and user.has_perm("cases.view_prenatalreport"))


def may_enter(user: Any, institution: Institution) -> bool:
    """Enter (and submit) the figures of ``institution``: one of its own staff in an entry role, and it is
    licensed for prenatal screening or diagnosis."""
    if not licences_of(institution) or not institution.is_active:
        return False
    if not user.has_perm("cases.add_prenatalreport"):
        return False
    return member_of(user=user, institution=institution, roles=ENTRY_ROLES)


def may_return(user: Any, institution: Institution) -> bool:
    """Return ``institution``'s figures: an MCH officer of an institution whose region is the institution's or
    one above it."""
    if not user.has_perm("cases.return_prenatalreport"):
        return False
    if user.is_superuser:
        return True
    region = institution.region
    codes = {code for code in (region.code, region.city_id, region.province_id) if code}
    return Membership.objects.filter(user=user, role__in=RETURN_ROLES, is_active=True, institution__is_active=True,
                                     institution__region_id__in=codes).exists()


def can_edit(user: Any, report: PrenatalReport) -> bool:
    return report.is_editable and may_enter(user, report.institution)


def can_submit(user: Any, report: PrenatalReport) -> bool:
    return report.is_editable and may_enter(user, report.institution)


def can_return(user: Any, report: PrenatalReport) -> bool:
    return report.state == PrenatalReport.State.SUBMITTED and may_return(user, report.institution)


def entry_institutions(user: Any) -> list[Institution]:
    """The licensed institutions whose figures the user enters."""
    from organisations.selectors import acting_institutions

    if not user.has_perm("cases.add_prenatalreport"):
        return []
    return [i for i in acting_institutions(user, ENTRY_ROLES) if licences_of(i)]
