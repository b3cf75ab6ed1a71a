"""Review panels (评审会): a meeting at one level is called by an MCH officer of that level's region, with
members from its expert reviewers and MCH officers; deaths awaiting that level's review (and near-miss
cases of its area) go on the agenda; each death's conclusion carries the 12-cell table, the three delays
and every member's agreement or dissent; the minutes are finalised, after which the meeting is read-only.

The table and the delays are validated here once (``table_values``) for ``death_report_conclude``, which
records a conclusion with or without a meeting.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from cases.models import (
    DeathReport,
    DeathReviewConclusion,
    NearMiss,
    ReviewLevel,
    ReviewMeeting,
    ReviewOpinion,
)
from cases.models.death import CELL_COLUMNS, DELAY_COLUMNS
from cases.selectors import visible_death_reports, visible_near_misses
from notifications.models import Alert
from notifications.services import alert_raise
from organisations.http import ActionDenied, TransitionConflict
from organisations.models import Region, User
from workflows.common import save_with_history
from workflows.death import permissions as p
from workflows.death.services.base import _targets

MEETING_MEMBER = "death.meeting_member"


def meeting_link(meeting: ReviewMeeting) -> str:
    return reverse("death:meeting", args=[meeting.pk])


def _locked_meeting(meeting: ReviewMeeting) -> ReviewMeeting:
    return ReviewMeeting.objects.select_for_update(of=("self",)).select_related("region", "chair").get(pk=meeting.pk)


def _require_open(meeting: ReviewMeeting) -> None:
    if not meeting.is_open:
        raise TransitionConflict(_("The minutes of this meeting are finalised: it can no longer change."))


def _manage_reason() -> str:
    return _("Only the chair or an MCH officer of the meeting's region changes the meeting.")


def _in_region(region_id: str | None, region: Region) -> bool:
    """``region_id`` (a county, or an institution's region) lies inside ``region``."""
    if region_id is None:
        return False
    if region_id == region.code:
        return True
    inner = Region.objects.filter(pk=region_id).values_list("city_id", "province_id").first()
    return inner is not None and region.code in inner


def _check_members(region: Region, chair: User, members: Iterable[User]) -> list[User]:
    people = {user.pk: user for user in [chair, *members]}
    outside = [user for user in people.values() if not p.may_join_meeting(user, region.code)]
    if outside:
        field = "chair" if chair in outside else "members"
        raise ValidationError({field: _("Only the expert reviewers and MCH officers of %(region)s sit on its "
                                        "panel: %(names)s.") % {"region": region.name,
                                                              "names": "、".join(str(u) for u in outside)}})
    return list(people.values())


def _tell_members(meeting: ReviewMeeting, users: Iterable[User], *, by: Any) -> list[Alert]:
    """Routine, not urgent: a meeting is a date in the diary; the legal review clock has its own alerts."""
    told = [user for user in users if user.pk != getattr(by, "pk", None)]
    if not told:
        return []
    return alert_raise(kind=MEETING_MEMBER, priority=Alert.Priority.ROUTINE, subject=meeting, link=meeting_link(meeting),
                       title=gettext_noop("You sit on the death review meeting of %(region)s on %(held_on)s"),
                       body=gettext_noop("%(place)s · chair: %(chair)s"),
                       params={"region": meeting.region.name, "held_on": f"{meeting.held_on:%Y-%m-%d}",
                               "place": meeting.place or "—", "chair": str(meeting.chair)},
                       to=_targets(told))


def death_meeting_create(*, region: Region, held_on: dt.date, chair: User, members: Iterable[User], by: Any,
                         place: str = "", notes: str = "") -> ReviewMeeting:
    """An MCH officer of ``region`` calls its panel (the level follows the region: county, city, province).
    The chair and members are its expert reviewers and MCH officers; each member is told."""
    level = p.MEETING_LEVEL_OF.get(Region.Level(region.level)) if region.level in Region.Level.values else None
    if not p.may_create_meeting(by, region):
        raise ActionDenied(_("Only the MCH officers of %(region)s call its death review meetings.")
                           % {"region": region.name})
    if level is None:
        raise ValidationError({"region": _("A review meeting is held by a county, a city or a province.")})
    people = _check_members(region, chair, members)
    with transaction.atomic():
        meeting = ReviewMeeting(level=level, region=region, held_on=held_on, place=(place or "").strip(),
                                chair=chair, notes=(notes or "").strip(), created_by=by)
        meeting.full_clean(exclude=["members", "reports", "near_misses"])
        save_with_history(meeting, by=by, reason="meeting called")
        meeting.members.set(people)
        _tell_members(meeting, people, by=by)
    return meeting


def death_meeting_add_members(*, meeting: ReviewMeeting, members: Iterable[User], by: Any) -> ReviewMeeting:
    with transaction.atomic():
        meeting = _locked_meeting(meeting)
        if not p.may_manage_meeting(by, meeting):
            raise ActionDenied(_manage_reason())
        _require_open(meeting)
        people = _check_members(meeting.region, meeting.chair, members)
        new = [user for user in people if not meeting.members.filter(pk=user.pk).exists()]
        meeting.members.add(*new)
        save_with_history(meeting, by=by, reason="members added")
        _tell_members(meeting, new, by=by)
    return meeting


def _check_report(meeting: ReviewMeeting, report: DeathReport, by: Any) -> None:
    report = DeathReport.objects.select_related("region").get(pk=report.pk)  # its state now, not the caller's copy
    if not visible_death_reports(by).filter(pk=report.pk).exists():
        raise ValidationError({"report": _("No such death report in your area.")})
    if report.review_level != meeting.level or p.level_region_code(report, meeting.level) != meeting.region_id:
        raise ValidationError({"report": _("Only deaths awaiting the %(level)s of %(region)s go on this agenda.")
                               % {"level": ReviewLevel(meeting.level).label, "region": meeting.region.name}})


def _check_near_miss(meeting: ReviewMeeting, near_miss: NearMiss, by: Any) -> None:
    if not visible_near_misses(by).filter(pk=near_miss.pk).exists() or not _in_region(
            near_miss.institution.region_id, meeting.region):
        raise ValidationError({"near_miss": _("Only near-miss cases of %(region)s go on this agenda.")
                               % {"region": meeting.region.name}})


def death_meeting_add_case(*, meeting: ReviewMeeting, by: Any, report: DeathReport | None = None,
                           near_miss: NearMiss | None = None) -> ReviewMeeting:
    """A death awaiting this level's review (and visible to ``by``), or a near-miss case of the area, goes on
    the agenda."""
    if (report is None) == (near_miss is None):
        raise ValidationError({"report": _("Give either a death report or a near-miss case.")})
    with transaction.atomic():
        meeting = _locked_meeting(meeting)
        if not p.may_manage_meeting(by, meeting):
            raise ActionDenied(_manage_reason())
        _require_open(meeting)
        if report is not None:
            _check_report(meeting, report, by)
            meeting.reports.add(report)
            reason = "death put on the agenda"
        else:
            assert near_miss is not None  # noqa: S101  (one of the two: checked above)
            _check_near_miss(meeting, near_miss, by)
            meeting.near_misses.add(near_miss)
            reason = "near miss put on the agenda"
        save_with_history(meeting, by=by, reason=reason)
    return meeting


def death_meeting_remove_case(*, meeting: ReviewMeeting, by: Any, report: DeathReport | None = None,
                              near_miss: NearMiss | None = None) -> ReviewMeeting:
    """Off the agenda, unless the meeting already recorded the death's conclusion."""
    if (report is None) == (near_miss is None):
        raise ValidationError({"report": _("Give either a death report or a near-miss case.")})
    with transaction.atomic():
        meeting = _locked_meeting(meeting)
        if not p.may_manage_meeting(by, meeting):
            raise ActionDenied(_manage_reason())
        _require_open(meeting)
        if report is not None:
            if meeting.conclusions.filter(report=report).exists():
                raise TransitionConflict(_("The meeting concluded this death: it stays on the agenda."))
            meeting.reports.remove(report)
            reason = "death taken off the agenda"
        else:
            assert near_miss is not None  # noqa: S101  (one of the two: checked above)
            meeting.near_misses.remove(near_miss)
            reason = "near miss taken off the agenda"
        save_with_history(meeting, by=by, reason=reason)
    return meeting


def _opinion_save(conclusion: DeathReviewConclusion, *, member: User, agrees: bool, dissent: str,
                  by: Any) -> ReviewOpinion:
    opinion = ReviewOpinion.objects.filter(conclusion=conclusion, member=member).first() or ReviewOpinion(
        conclusion=conclusion, member=member)
    opinion.agrees, opinion.dissent = bool(agrees), (dissent or "").strip()
    opinion.recorded_at, opinion.recorded_by = timezone.now(), by
    opinion.full_clean(exclude=["conclusion"], validate_unique=False)
    save_with_history(opinion, by=by, reason="agrees" if opinion.agrees else "dissents")
    return opinion


def check_opinions(meeting: ReviewMeeting | None, opinions: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Each opinion is a member of the meeting's panel; a dissent says why (field errors otherwise)."""
    rows = [dict(row) for row in opinions]
    if rows and meeting is None:
        raise ValidationError({"opinions": _("Members' opinions are recorded in a review meeting.")})
    errors: list[str] = []
    for row in rows:
        member = row["member"]
        if meeting is not None and not meeting.members.filter(pk=member.pk).exists():
            errors.append(_("%(name)s does not sit on this panel.") % {"name": member})
        elif not row.get("agrees") and not (row.get("dissent") or "").strip():
            errors.append(_("Write the dissenting opinion of %(name)s.") % {"name": member})
    if errors:
        raise ValidationError({"opinions": errors})
    return rows


def death_meeting_record_opinion(*, conclusion: DeathReviewConclusion, member: User, agrees: bool, by: Any,
                                 dissent: str = "") -> ReviewOpinion:
    """A member agrees with the meeting's conclusion on a death, or dissents and says why; she records it
    herself, or the chair or the region's MCH officer records it for her."""
    meeting = conclusion.meeting
    if meeting is None:
        raise ValidationError({"conclusion": _("This conclusion was not recorded in a review meeting.")})
    with transaction.atomic():
        meeting = _locked_meeting(meeting)
        own = member.pk == by.pk and meeting.members.filter(pk=by.pk).exists()
        if not (own or p.may_manage_meeting(by, meeting)):
            raise ActionDenied(_("A member gives her own opinion; the chair or an MCH officer of the region records "
                                 "the others'."))
        _require_open(meeting)
        check_opinions(meeting, [{"member": member, "agrees": agrees, "dissent": dissent}])
        return _opinion_save(conclusion, member=member, agrees=agrees, dissent=dissent, by=by)


def death_meeting_finalise(*, meeting: ReviewMeeting, by: Any, notes: str | None = None) -> ReviewMeeting:
    """The minutes are final: the meeting becomes read-only (its conclusions and opinions with it)."""
    with transaction.atomic():
        meeting = _locked_meeting(meeting)
        if not p.may_manage_meeting(by, meeting):
            raise ActionDenied(_manage_reason())
        _require_open(meeting)
        if notes is not None:
            meeting.notes = notes.strip()
        meeting.finalise(by=by, at=timezone.now())
        meeting.full_clean(exclude=["members", "reports", "near_misses"])
        save_with_history(meeting, by=by, reason="minutes finalised")
    return meeting


# --- The 12-cell table and the three delays, for ``death_report_conclude`` -------------------------

def table_values(cells: Mapping[str, Any] | None, delays: Mapping[str, Any] | None) -> dict[str, Any]:
    """The columns of the table and the delays from ``cells`` (``individual_knowledge``,
    ``individual_knowledge_note``, ...) and ``delays`` (``delay_seeking``, ``delay_seeking_note``, ...):
    unknown keys are refused, a "yes" without a text is a field error on its ``_note``."""
    values: dict[str, Any] = {}
    errors: dict[str, list[str]] = {}
    for given, columns in ((cells or {}, CELL_COLUMNS), (delays or {}, DELAY_COLUMNS)):
        allowed = {*columns, *(f"{c}_note" for c in columns)}
        for key in set(given) - allowed:
            errors[key] = [_("Not a cell of the 12-cell table or one of the three delays.")]
        for column in columns:
            value = given.get(column)
            note = (given.get(f"{column}_note") or "").strip()
            if value is True and not note:
                errors[f"{column}_note"] = [_("Say what the problem was.")]
            values[column] = value if value in (True, False) else None
            values[f"{column}_note"] = note
    if errors:
        raise ValidationError(errors)
    return values


def check_meeting(meeting: ReviewMeeting, report: DeathReport, level: str, by: Any) -> None:
    """A conclusion recorded in ``meeting``: the meeting of this level, open, with the death on its agenda,
    and ``by`` on its panel (or managing it)."""
    if meeting.level != level or meeting.region_id != p.level_region_code(report, level):
        raise ValidationError({"meeting": _("This is a meeting of another level or region: the death awaits the "
                                            "%(level)s.") % {"level": ReviewLevel(level).label}})
    _require_open(meeting)
    if not meeting.reports.filter(pk=report.pk).exists():
        raise ValidationError({"meeting": _("Put the death on the meeting's agenda first.")})
    if not p.may_conclude_in_meeting(by, meeting, report):
        raise ActionDenied(_("Only the members of the panel record its conclusion."))


def save_opinions(conclusion: DeathReviewConclusion, rows: Iterable[Mapping[str, Any]], *, by: Any) -> None:
    for row in rows:
        _opinion_save(conclusion, member=row["member"], agrees=bool(row.get("agrees")),
                      dissent=row.get("dissent") or "", by=by)
