"""Roles are Django groups named after ``Role`` values; a user holds a role through an active membership.

Each role's default permissions are granted once (recorded in ``RoleDefaultGrant``), so an
administrator who removes one in the admin is not overruled by the next migration, while a
permission added to the defaults by a later release still reaches the group.
"""

from __future__ import annotations

from django.contrib.auth.models import Group, Permission
from django.db import transaction

from organisations.models import Role

# "app_label.codename" for each role. Later processes add their permissions here.
ROLE_DEFAULT_PERMISSIONS: dict[str, list[str]] = {
    Role.OBSTETRICIAN: [
        "cases.view_referral",
        "cases.add_referral",
        "cases.view_consultation",
        "cases.add_consultation",
        "cases.add_nearmiss",
        "cases.view_nearmiss",
        "cases.view_emergencycaesarean",
        "cases.add_emergencycaesarean",
        "cases.view_woman",
        "cases.view_pregnancy",
        "cases.add_woman",
        "cases.add_pregnancy",
        "cases.add_screening",
        "cases.view_screening",
        "cases.add_assessment",
        "cases.view_assessment",
        "cases.view_highriskcase",
        "organisations.view_institution",
        "organisations.view_rescuecentre",
        "organisations.view_region",
        # Routine records of every pregnancy (workflows/routine): visits and the delivery.
        "cases.view_visit",
        "cases.add_visit",
        "cases.view_delivery",
        "cases.add_delivery",
        # Prenatal screening and diagnosis QC figures of a licensed institution (workflows/prenatal).
        "cases.view_prenatalreport",
        "cases.add_prenatalreport",
    ],
    Role.PRIMARY_CARE: [
        "cases.view_referral",
        "cases.add_referral",
        "cases.view_consultation",
        "cases.add_consultation",
        "cases.view_woman",
        "cases.view_pregnancy",
        "cases.add_woman",
        "cases.add_pregnancy",
        "cases.add_screening",
        "cases.view_screening",
        "cases.view_assessment",
        "organisations.view_institution",
        "organisations.view_rescuecentre",
        "organisations.view_region",
        # Routine records of every pregnancy (workflows/routine): visits and the delivery.
        "cases.view_visit",
        "cases.add_visit",
        "cases.view_delivery",
        "cases.add_delivery",
    ],
    Role.DUTY_DOCTOR: [
        "cases.view_referral",
        "cases.add_referral",
        "cases.view_consultation",
        "cases.add_consultation",
        "cases.add_nearmiss",
        "cases.view_nearmiss",
        "cases.view_emergencycaesarean",
        "cases.add_emergencycaesarean",
        "cases.view_woman",
        "cases.view_pregnancy",
        "cases.add_assessment",
        "cases.view_assessment",
        "cases.view_screening",
        "cases.view_highriskcase",
        "organisations.view_institution",
        "organisations.view_rescuecentre",
        "organisations.change_rescuecentre",
        "organisations.view_region",
        # The duty roster of their own centre (notifications/roster.py checks which centre).
        "organisations.view_dutyshift",
        "organisations.add_dutyshift",
        # The delivery (workflows/routine), as the high-risk case's delivery step.
        "cases.view_visit",
        "cases.view_delivery",
        "cases.add_delivery",
    ],
    Role.MCH_OFFICER: [
        "cases.view_referral",
        "cases.view_consultation",
        "cases.view_nearmiss",
        "cases.view_emergencycaesarean",
        "cases.view_woman",
        "cases.view_pregnancy",
        "cases.view_screening",
        "cases.view_assessment",
        "cases.view_highriskcase",
        "cases.merge_woman",
        "organisations.view_institution",
        "organisations.view_rescuecentre",
        "organisations.view_region",
        "organisations.view_membership",
        "organisations.view_user",
        "organisations.view_accesslog",
        # The duty rosters of the rescue centres in their area.
        "organisations.view_dutyshift",
        "organisations.add_dutyshift",
        "cases.view_visit",
        "cases.view_delivery",
        # Prenatal QC: an MCH institute's own figures, and returning the area's for correction.
        "cases.view_prenatalreport",
        "cases.add_prenatalreport",
        "cases.return_prenatalreport",
    ],
    Role.BUREAU_OFFICER: [
        "cases.view_referral",
        "cases.view_consultation",
        "cases.view_nearmiss",
        "cases.view_emergencycaesarean",
        "cases.view_woman",
        "cases.view_pregnancy",
        "cases.view_highriskcase",
        "organisations.view_institution",
        "organisations.view_rescuecentre",
        "organisations.view_region",
        "organisations.view_membership",
        "organisations.view_user",
        "organisations.view_accesslog",
        "cases.view_visit",
        "cases.view_delivery",
        "cases.view_prenatalreport",
    ],
    Role.EXPERT_REVIEWER: [
        "cases.view_consultation",
        "cases.view_woman",
        "cases.view_pregnancy",
        "cases.view_assessment",
        "cases.view_highriskcase",
        "organisations.view_institution",
        "organisations.view_region",
    ],
    Role.HEAD: [
        "organisations.view_institution",
        "organisations.view_region",
    ],
    Role.SYSTEM_ADMIN: [
        "organisations.view_region",
        "organisations.add_region",
        "organisations.change_region",
        "organisations.view_institution",
        "organisations.add_institution",
        "organisations.change_institution",
        "organisations.view_rescuecentre",
        "organisations.add_rescuecentre",
        "organisations.change_rescuecentre",
        "organisations.view_membership",
        "organisations.add_membership",
        "organisations.change_membership",
        "organisations.view_user",
        "organisations.add_user",
        "organisations.change_user",
        "organisations.view_accesslog",
        # The machine clients of her area and their tokens (organisations/client_views.py checks the area).
        "organisations.view_apiclient",
        "organisations.add_apiclient",
        "organisations.change_apiclient",
        # A province's interview trigger rules (scoped in cases.admin to the province she administers).
        "cases.view_interviewtrigger",
        "cases.add_interviewtrigger",
        "cases.change_interviewtrigger",
        # A province's evaluation 细则 (cases.admin: the national edition is read-only to her).
        "cases.view_evaluationscheme",
        "cases.add_evaluationscheme",
        "cases.change_evaluationscheme",
        "cases.view_evaluationsection",
        "cases.add_evaluationsection",
        "cases.change_evaluationsection",
        "cases.delete_evaluationsection",
        "cases.view_evaluationindicator",
        "cases.add_evaluationindicator",
        "cases.change_evaluationindicator",
        "cases.delete_evaluationindicator",
        # The role groups are nationwide: system admins look, only a superuser changes them.
        "auth.view_group",
        # A provincial admin adds her province's indicators (ratios of existing measures) and targets
        # (indicators/admin.py); the national rows are read-only to her.
        "indicators.view_indicator",
        "indicators.add_indicator",
        "indicators.change_indicator",
        "indicators.view_indicatortarget",
        "indicators.add_indicatortarget",
        "indicators.change_indicatortarget",
        # The province's own prenatal QC data elements and indicators (indicators/admin.py); national rows read-only.
        "cases.view_prenatalreport",
        "cases.view_prenataldataelement",
        "cases.add_prenataldataelement",
        "cases.change_prenataldataelement",
        "cases.view_prenatalindicator",
        "cases.add_prenatalindicator",
        "cases.change_prenatalindicator",
    ],
}

# Defaults taken back from a role by a later release: removed on every sync (nobody may give them back:
# only a superuser edits the groups, and organisations.admin.RoleGroupAdmin ignores these for others anyway).
ROLE_WITHDRAWN_PERMISSIONS: dict[str, list[str]] = {
    Role.SYSTEM_ADMIN: ["auth.change_group", "auth.add_group", "auth.delete_group"],
}

# Roles whose members may use the Django admin (it is scoped: see organisations.admin).
STAFF_ROLES = frozenset({Role.SYSTEM_ADMIN})


def roles_sync(*, using: str = "default") -> None:
    """Create missing role groups, grant each default permission that was never granted before and
    take back the withdrawn ones."""
    from organisations.models import RoleDefaultGrant

    with transaction.atomic(using=using):
        for role in Role:
            group, _ = Group.objects.using(using).get_or_create(name=role.value)
            done = set(
                RoleDefaultGrant.objects.using(using).filter(role=role.value).values_list("permission", flat=True)
            )
            for dotted in ROLE_DEFAULT_PERMISSIONS.get(role, []):
                if dotted in done:
                    continue
                app_label, codename = dotted.split(".", 1)
                perm = Permission.objects.using(using).filter(
                    content_type__app_label=app_label, codename=codename
                ).first()
                if perm is None:  # the model arrives in a later migration; try again next time
                    continue
                group.permissions.add(perm)
                RoleDefaultGrant.objects.using(using).create(role=role.value, permission=dotted)
            for dotted in ROLE_WITHDRAWN_PERMISSIONS.get(role, []):
                app_label, codename = dotted.split(".", 1)
                group.permissions.remove(*Permission.objects.using(using).filter(
                    content_type__app_label=app_label, codename=codename))
