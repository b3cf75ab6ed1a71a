"""Who receives an alert: people, roles at an institution, or named steps such as "the duty doctor".

Steps are resolved when the alert is raised (or escalated), against the roster and memberships of
that moment. Later processes may register their own steps (e.g. "the next-level rescue centre").
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from organisations.models import DutyShift, Institution, Membership, Region, Role, User


@dataclass(frozen=True)
class Target:
    user: Any = None
    institution: Institution | None = None
    role: str = ""
    step: str = ""


def to_user(user: Any) -> Target:
    return Target(user=user)


def to_role(institution: Institution, role: str) -> Target:
    if role == Role.DUTY_DOCTOR:
        return Target(institution=institution, step="duty")
    return Target(institution=institution, role=role)


def to_duty(institution: Institution) -> Target:
    """Whoever is on duty at ``institution`` at the moment the alert is raised."""
    return Target(institution=institution, step="duty")


def to_step(step: str, institution: Institution) -> Target:
    return Target(institution=institution, step=step)


def _active_users(qs: Any) -> list[User]:
    return list(User.objects.filter(pk__in=qs, is_active=True).order_by("pk"))


def role_members(institution: Institution, role: str) -> list[User]:
    return _active_users(
        Membership.objects.filter(institution=institution, role=role, is_active=True,
                                  institution__is_active=True).values("user_id")
    )


def on_roster(institution: Institution, kind: str, at: dt.datetime) -> list[User]:
    return _active_users(
        DutyShift.objects.filter(institution=institution, kind=kind, starts_at__lte=at, ends_at__gt=at).values("user_id")
    )


def _region_chain(region: Region) -> list[str]:
    """The region and its ancestors, nearest first."""
    codes = [region.code]
    if region.level == Region.Level.COUNTY:
        codes += [c for c in (region.city_id, region.province_id) if c]
    elif region.level == Region.Level.CITY:
        codes += [c for c in (region.province_id,) if c]
    return codes


def officers_for(region: Region, role: str) -> list[User]:
    """Officers of ``role`` responsible for ``region``: the county's, else the city's, else the province's."""
    for code in _region_chain(region):
        users = _active_users(
            Membership.objects.filter(role=role, is_active=True, institution__is_active=True,
                                      institution__region_id=code).values("user_id")
        )
        if users:
            return users
    return []


def _duty(institution: Institution, at: dt.datetime) -> list[User]:
    return on_roster(institution, DutyShift.Kind.DUTY, at)


def _on_call(institution: Institution, at: dt.datetime) -> list[User]:
    return on_roster(institution, DutyShift.Kind.ON_CALL, at)


def _mch_officer(institution: Institution, at: dt.datetime) -> list[User]:
    return officers_for(institution.region, Role.MCH_OFFICER)


def _bureau_officer(institution: Institution, at: dt.datetime) -> list[User]:
    return officers_for(institution.region, Role.BUREAU_OFFICER)


StepResolver = Callable[[Institution, dt.datetime], list[User]]
STEP_RESOLVERS: dict[str, StepResolver] = {
    "duty": _duty,
    "on_call": _on_call,
    "mch_officer": _mch_officer,
    "bureau_officer": _bureau_officer,
}


def register_step(name: str, resolver: StepResolver) -> None:
    STEP_RESOLVERS[name] = resolver


@dataclass
class Resolution:
    users: list[User]
    # Institutions whose duty roster had nobody on duty when the alert was raised.
    roster_gaps: list[Institution]


def resolve(targets: list[Target], at: dt.datetime) -> Resolution:
    users: dict[int, User] = {}
    gaps: list[Institution] = []
    for target in targets:
        found: list[User] = []
        if target.user is not None:
            found = [target.user] if target.user.is_active else []
        elif target.step == "duty" and target.institution is not None:
            found = _duty(target.institution, at)
            if not found:
                # Nobody on duty: the deputy, else every duty doctor of the centre; and the gap itself
                # is reported to the MCH officer by the caller.
                gaps.append(target.institution)
                found = _on_call(target.institution, at) or role_members(target.institution, Role.DUTY_DOCTOR)
        elif target.step and target.institution is not None:
            found = STEP_RESOLVERS[target.step](target.institution, at)
        elif target.role and target.institution is not None:
            found = role_members(target.institution, target.role)
        for user in found:
            users.setdefault(user.pk, user)
    return Resolution(users=list(users.values()), roster_gaps=gaps)
