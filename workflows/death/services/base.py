"""What the death-report process shares: its clocks' kinds, a report's link and rules, the row lock, the checks, who is told."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from cases.models import (
    DeathReport,
    Delivery,
    ProvinceSettings,
)
from cases.rules import province_settings
from notifications.models import Alert
from notifications.recipients import Target, to_user
from notifications.services import alert_raise
from organisations.http import ActionDenied, TransitionConflict
from organisations.models import Institution, Membership, Role, User
from workflows.death import permissions as p

S = DeathReport.State


REPORT_DUE = "death.report_due"


CARD_DUE = "death.card_due"


INVESTIGATION_DUE = "death.investigation_due"


REVIEW_DUE = "death.review_due"


CLOCK_KINDS = (REPORT_DUE, CARD_DUE, INVESTIGATION_DUE, REVIEW_DUE)


# A clock's stages: the reminder, the missed deadline, then the city and the province told.
WARN, PASSED, CITY, PROVINCE = "warn", "passed", "city", "province"


NEXT_STAGE = {PASSED: CITY, CITY: PROVINCE}


OVERSIGHT_ROLES = frozenset({Role.MCH_OFFICER, Role.BUREAU_OFFICER})


# The pregnancy's Delivery record (workflows/routine) on the death card.
DELIVERY_MODES: dict[str, str] = {Delivery.Mode.SPONTANEOUS: DeathReport.DeliveryMode.SPONTANEOUS,
                                  Delivery.Mode.ASSISTED_VAGINAL: DeathReport.DeliveryMode.ASSISTED,
                                  Delivery.Mode.CAESAREAN: DeathReport.DeliveryMode.CAESAREAN}
DELIVERY_PLACES: dict[str, str] = {Delivery.Place.HOME: DeathReport.Place.HOME,
                                   Delivery.Place.EN_ROUTE: DeathReport.Place.TRANSIT,
                                   Delivery.Place.OTHER: DeathReport.Place.OTHER}


def death_link(report: DeathReport) -> str:
    return reverse("death:detail", args=[report.pk])


def rules_for(report: DeathReport) -> ProvinceSettings:
    return province_settings(province_code=report.region.province_id, on=timezone.localdate(report.died_at))


def _locked(report: DeathReport) -> DeathReport:
    return DeathReport.objects.select_for_update(of=("self",)).select_related(
        "region", "reporting_institution__region", "woman").get(pk=report.pk)


def _require(allowed: bool, report: DeathReport, states: Iterable[str], reason: str) -> None:
    """403 with ``reason`` when the role does not allow the step; 409 when the state has moved on."""
    if not allowed:
        raise ActionDenied(reason)
    if report.state not in tuple(states):
        raise TransitionConflict(_("This step is no longer open: the report is now “%(state)s”.")
                                 % {"state": report.get_state_display()})


def _reporter_reason(report: DeathReport) -> str:
    return _("Only the doctors of %(institution)s or its county MCH officer act on this report.") % {
        "institution": report.reporting_institution.name}


def _county_reason(report: DeathReport) -> str:
    return _("Only the MCH officers of %(county)s take this step.") % {"county": report.region.name}


def _users_at(code: str | None, roles: Iterable[str]) -> list[User]:
    if not code:
        return []
    ids = Membership.objects.filter(role__in=list(roles), is_active=True, institution__is_active=True,
                                    institution__region_id=code).values("user_id")
    return list(User.objects.filter(pk__in=ids, is_active=True).order_by("pk"))


def _institution_users(institution: Institution) -> list[User]:
    ids = Membership.objects.filter(institution=institution, role__in=list(p.REPORTER_ROLES), is_active=True
                                    ).values("user_id")
    return list(User.objects.filter(pk__in=ids, is_active=True).order_by("pk"))


def _targets(users: Iterable[User]) -> list[Target]:
    seen: dict[int, Target] = {}
    for user in users:
        seen.setdefault(user.pk, to_user(user))
    return list(seen.values())


def _county_mch(report: DeathReport) -> list[User]:
    return _users_at(report.region_id, {Role.MCH_OFFICER})


def _reviewers(report: DeathReport, level: str) -> list[User]:
    return _users_at(p.level_region_code(report, level), p.REVIEWER_ROLES)


def _params(report: DeathReport) -> dict[str, Any]:
    return {"woman": report.woman.name, "institution": report.reporting_institution.name,
            "county": report.region.name, "died_at": timezone.localtime(report.died_at).strftime("%Y-%m-%d %H:%M")}


def _raise(report: DeathReport, *, kind: str, priority: str, users: Iterable[User], title: str, body: str = "",
           extra: dict[str, Any] | None = None, now: dt.datetime | None = None) -> list[Alert]:
    """Alerts about the report; an expert reviewer who works on the review packet reads its anonymous case
    number where the others read the woman's name (her alerts are a raise of their own)."""
    users = list(users)
    anonymous = {u.pk for u in users if p.reads_packet(u, report)}
    params = {**_params(report), **(extra or {})}
    raised: list[Alert] = []
    for to, values in (([u for u in users if u.pk not in anonymous], params),
                       ([u for u in users if u.pk in anonymous], {**params, "woman": report.review_number})):
        if to:
            raised += alert_raise(kind=kind, priority=priority, subject=report, link=death_link(report), title=title,
                                  body=body, params=values, to=_targets(to), institution=report.reporting_institution,
                                  now=now)
    return raised
