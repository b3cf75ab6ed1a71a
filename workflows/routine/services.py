"""Routine records of every pregnancy (产前检查, 分娩, 产后访视): the writes, and the validation they share.

Each write is one step: it checks who may take it (permissions.py), locks the pregnancy, validates, saves
with history (user and reason) and, for the delivery, moves the pregnancy on (ongoing → delivered: the
delivery closes the antenatal part) and runs the delivery hooks other processes subscribe to in
``workflows/apps.py`` (her high-risk case moves on exactly as its own delivery step does).

The validation is pure: :func:`visit_errors` and :func:`delivery_errors` read only what they are given
(the pregnancy's dates, the province's settings, the other records' bounding dates) and return field
errors, so an importer can check thousands of rows against prefetched data through the very same rules,
then write them in bulk; the row-by-row services below call them too.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max, Min
from django.utils import timezone
from django.utils.translation import gettext as _

from cases.models import Baby, Delivery, Pregnancy, ProvinceSettings, Visit
from cases.rules import settings_for
from organisations.http import TransitionConflict
from organisations.models import Institution
from workflows.common import save_with_history
from workflows.routine import permissions

# Every population figure counts a delivery by its day in China time (cases/models/routine.py).
CHINA = ZoneInfo("Asia/Shanghai")
POSTPARTUM_KINDS = (Visit.Kind.POSTPARTUM, Visit.Kind.POSTPARTUM_42D)
# Bounds of what can be true of a birth at all (not province policy): typing errors are refused.
GESTATION_WEEKS = (20, 45)
BIRTH_WEIGHT_G = (100, 8000)
MAX_BABIES = 8

# The processes that react to a delivery, each called inside the transaction that records it with
# (pregnancy=, delivery=, by=). The high-risk process moves her open case to "delivered".
DELIVERY_HOOKS: list[Any] = []


class _Keep:
    """A correction's "leave this as it is" (so an importer's row changes only the columns it has)."""

    def __repr__(self) -> str:
        return "KEEP"


KEEP: Any = _Keep()


@dataclass(frozen=True)
class BabyData:
    """One baby of a delivery as typed or imported; ``order`` is its place in the list (1, 2, …)."""

    outcome: str
    sex: str
    weight_g: int | None = None


def china_date(moment: dt.datetime) -> dt.date:
    """The China-time day of a moment (a naive moment is read as China time)."""
    if timezone.is_naive(moment):
        moment = moment.replace(tzinfo=CHINA)
    return moment.astimezone(CHINA).date()


def _add(errors: dict[str, list[str]], field: str, message: str) -> None:
    errors.setdefault(field, []).append(message)


# --- Validation (pure) ---------------------------------------------------------------------------------------

def visit_errors(*, pregnancy: Pregnancy, kind: str, date: dt.date | None, delivered_on: dt.date | None,
                 today: dt.date, rules: ProvinceSettings) -> dict[str, list[str]]:
    """What is wrong with a visit of ``kind`` on ``date`` (field errors; empty when none). ``delivered_on`` is
    the pregnancy's delivery day, if any; ``rules`` the province's settings (the 42-day window)."""
    errors: dict[str, list[str]] = {}
    if kind not in Visit.Kind.values:
        _add(errors, "kind", _("Choose the kind of visit."))
    if date is None:
        _add(errors, "date", _("Enter the visit date."))
    if errors:
        return errors
    assert date is not None  # noqa: S101  (for the type checker: refused above)
    if date > today:
        _add(errors, "date", _("A visit date cannot be in the future."))
    if date < pregnancy.lmp:
        _add(errors, "date", _("The visit date is before the last menstrual period (%(lmp)s).")
             % {"lmp": pregnancy.lmp.isoformat()})
    if kind == Visit.Kind.ANTENATAL:
        if delivered_on is not None and date > delivered_on:
            _add(errors, "date", _("An antenatal visit is on or before the delivery date (%(date)s).")
                 % {"date": delivered_on.isoformat()})
        return errors
    if delivered_on is None:
        _add(errors, "kind", _("Record the delivery before a postpartum visit."))
        return errors
    days = (date - delivered_on).days
    if days < 0:
        _add(errors, "date", _("A postpartum visit is on or after the delivery date (%(date)s).")
             % {"date": delivered_on.isoformat()})
    elif days > rules.postpartum_42d_to_days:
        _add(errors, "date", _("A postpartum visit is at most %(days)s days after the delivery (%(date)s).")
             % {"days": rules.postpartum_42d_to_days, "date": delivered_on.isoformat()})
    elif kind == Visit.Kind.POSTPARTUM_42D and days < rules.postpartum_42d_from_days:
        _add(errors, "date", _("The 42-day check is made from day %(start)s to day %(end)s after the delivery "
                               "(this date is day %(day)s).")
             % {"start": rules.postpartum_42d_from_days, "end": rules.postpartum_42d_to_days, "day": days})
    return errors


def baby_counts(babies: Sequence[BabyData]) -> tuple[int, int]:
    """(live births, stillbirths) of a list of babies."""
    live = sum(1 for baby in babies if baby.outcome == Baby.Outcome.LIVE)
    return live, sum(1 for baby in babies if baby.outcome == Baby.Outcome.STILLBORN)


def delivery_errors(
    *, pregnancy: Pregnancy, delivered_at: dt.datetime | None, place: str, institution: Institution | None,
    mode: str, caesarean_indication: str, gestational_weeks: int | None, gestational_days: int | None,
    babies: Sequence[BabyData] | None, live_births: int | None, stillbirths: int | None, now: dt.datetime,
    last_antenatal: dt.date | None = None, first_postpartum: dt.date | None = None,
) -> dict[str, list[str]]:
    """What is wrong with a delivery (field errors; empty when none). ``last_antenatal`` and
    ``first_postpartum`` are the dates of the pregnancy's latest antenatal and earliest postpartum visit,
    which the delivery date must lie between."""
    errors: dict[str, list[str]] = {}
    if delivered_at is None:
        _add(errors, "delivered_at", _("Enter the time of the delivery."))
    else:
        day = china_date(delivered_at)
        if delivered_at > now:
            _add(errors, "delivered_at", _("The delivery cannot be in the future."))
        if day < pregnancy.lmp:
            _add(errors, "delivered_at", _("The delivery is before the last menstrual period (%(lmp)s).")
                 % {"lmp": pregnancy.lmp.isoformat()})
        if last_antenatal is not None and day < last_antenatal:
            _add(errors, "delivered_at", _("An antenatal visit is recorded after this date (%(date)s).")
                 % {"date": last_antenatal.isoformat()})
        if first_postpartum is not None and day > first_postpartum:
            _add(errors, "delivered_at", _("A postpartum visit is recorded before this date (%(date)s).")
                 % {"date": first_postpartum.isoformat()})
    if place not in Delivery.Place.values:
        _add(errors, "place", _("Choose where she delivered."))
    elif place == Delivery.Place.INSTITUTION and institution is None:
        _add(errors, "institution", _("Choose the institution where she delivered."))
    elif place != Delivery.Place.INSTITUTION and institution is not None:
        _add(errors, "institution", _("Name an institution only for a delivery at an institution."))
    if mode not in Delivery.Mode.values:
        _add(errors, "mode", _("Choose the delivery mode."))
    elif mode == Delivery.Mode.CAESAREAN and not (caesarean_indication or "").strip():
        _add(errors, "caesarean_indication", _("A caesarean section needs its indication."))
    if gestational_weeks is None and gestational_days is not None:
        _add(errors, "gestational_weeks", _("Enter the weeks as well as the days."))
    if gestational_weeks is not None and not GESTATION_WEEKS[0] <= gestational_weeks <= GESTATION_WEEKS[1]:
        _add(errors, "gestational_weeks", _("The gestational age at delivery is between %(low)s and %(high)s "
                                            "weeks.") % {"low": GESTATION_WEEKS[0], "high": GESTATION_WEEKS[1]})
    if gestational_days is not None and not 0 <= gestational_days <= 6:
        _add(errors, "gestational_days", _("The days are 0 to 6."))
    if babies:
        if len(babies) > MAX_BABIES:
            _add(errors, "babies", _("At most %(n)s babies.") % {"n": MAX_BABIES})
        for number, baby in enumerate(babies, start=1):
            if baby.outcome not in Baby.Outcome.values:
                _add(errors, "babies", _("Baby %(n)s: choose live birth or stillbirth.") % {"n": number})
            if baby.sex not in Baby.Sex.values:
                _add(errors, "babies", _("Baby %(n)s: choose the sex.") % {"n": number})
            if baby.weight_g is not None and not BIRTH_WEIGHT_G[0] <= baby.weight_g <= BIRTH_WEIGHT_G[1]:
                _add(errors, "babies", _("Baby %(n)s: a birth weight is between %(low)s and %(high)s g.")
                     % {"n": number, "low": BIRTH_WEIGHT_G[0], "high": BIRTH_WEIGHT_G[1]})
        live, still = baby_counts(babies)
        if (live_births is not None and live_births != live) or (stillbirths is not None and stillbirths != still):
            _add(errors, "babies", _("The counts (%(live)s live, %(still)s stillborn) differ from the babies "
                                     "recorded.") % {"live": live_births if live_births is not None else live,
                                                     "still": stillbirths if stillbirths is not None else still})
    else:
        if live_births is None:
            _add(errors, "live_births", _("Enter the number of live births, or the babies."))
        elif live_births < 0:
            _add(errors, "live_births", _("The number cannot be negative."))
        if stillbirths is not None and stillbirths < 0:
            _add(errors, "stillbirths", _("The number cannot be negative."))
        if live_births is not None and live_births >= 0 and (stillbirths or 0) >= 0:
            total = live_births + (stillbirths or 0)
            if total == 0:
                _add(errors, "live_births", _("A delivery has at least one baby, live or stillborn."))
            elif total > MAX_BABIES:
                _add(errors, "live_births", _("At most %(n)s babies.") % {"n": MAX_BABIES})
    return errors


def _raise_if(errors: dict[str, list[str]]) -> None:
    if errors:
        raise ValidationError(errors)


def _locked_pregnancy(pregnancy: Pregnancy) -> Pregnancy:
    return Pregnancy.objects.select_for_update(of=("self",)).select_related("booking_institution__region").get(
        pk=pregnancy.pk)


def _delivered_on(pregnancy: Pregnancy) -> dt.date | None:
    return Delivery.objects.filter(pregnancy=pregnancy).values_list("delivered_on", flat=True).first()


def _rules(pregnancy: Pregnancy, on: dt.date) -> ProvinceSettings:
    return settings_for(pregnancy.booking_institution, on=on)


def _external_id_taken(model: type[Visit] | type[Delivery], external_id: str, *, exclude: Any = None) -> bool:
    if not external_id:
        return False
    return model.objects.filter(external_id=external_id).exclude(pk=exclude).exists()


# --- Visits ---------------------------------------------------------------------------------------------------

def visit_record(*, pregnancy: Pregnancy, by: Any, kind: str, date: dt.date, institution: Institution,
                 note: str = "", external_id: str = "", reason: str = "visit recorded",
                 today: dt.date | None = None) -> Visit:
    """Record an antenatal visit (产前检查), a postpartum visit (产后访视) or the 42-day check (产后42天检查)."""
    permissions.check("visit", by, pregnancy, institution=institution)
    today = today or timezone.localdate()
    with transaction.atomic():
        pregnancy = _locked_pregnancy(pregnancy)
        errors = visit_errors(pregnancy=pregnancy, kind=kind, date=date, delivered_on=_delivered_on(pregnancy),
                              today=today, rules=_rules(pregnancy, today))
        if _external_id_taken(Visit, external_id.strip()):
            _add(errors, "external_id", _("Another visit has this external id."))
        _raise_if(errors)
        visit = Visit(pregnancy=pregnancy, kind=kind, date=date, institution=institution, note=note.strip(),
                      external_id=external_id.strip(), recorded_by=by)
        save_with_history(visit, by=by, reason=reason)
    return visit


def _reason_required(reason: str, message: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": message})
    return reason


def visit_correct(*, visit: Visit, by: Any, reason: str, kind: Any = KEEP, date: Any = KEEP,
                  institution: Any = KEEP, note: Any = KEEP, today: dt.date | None = None) -> Visit:
    """Correct a visit's kind, date, institution or note; the history keeps what it said and why it changed."""
    reason = _reason_required(reason, _("Say why the visit is corrected."))
    today = today or timezone.localdate()
    with transaction.atomic():
        _locked_pregnancy(visit.pregnancy)
        visit = Visit.objects.select_related("pregnancy__booking_institution__region", "institution").get(pk=visit.pk)
        permissions.check_correct_visit(by, visit)
        if institution is not KEEP:
            permissions.check("visit", by, visit.pregnancy, institution=institution)
            visit.institution = institution
        visit.kind = visit.kind if kind is KEEP else kind
        visit.date = visit.date if date is KEEP else date
        visit.note = visit.note if note is KEEP else (note or "").strip()
        _raise_if(visit_errors(pregnancy=visit.pregnancy, kind=visit.kind, date=visit.date,
                               delivered_on=_delivered_on(visit.pregnancy), today=today,
                               rules=_rules(visit.pregnancy, today)))
        save_with_history(visit, by=by, reason=f"visit corrected: {reason}")
    return visit


def visit_void(*, visit: Visit, by: Any, reason: str) -> None:
    """Remove a visit recorded by mistake (wrong woman, twice); its history rows keep it, with the reason."""
    reason = _reason_required(reason, _("Say why the visit is removed."))
    with transaction.atomic():
        _locked_pregnancy(visit.pregnancy)
        visit = Visit.objects.select_related("pregnancy", "institution").get(pk=visit.pk)
        permissions.check_correct_visit(by, visit)
        visit._history_user = by  # type: ignore[attr-defined]
        visit._change_reason = f"visit voided: {reason}"[:100]  # type: ignore[attr-defined]
        visit.delete()


# --- The delivery ---------------------------------------------------------------------------------------------

def _visit_bounds(pregnancy: Pregnancy) -> tuple[dt.date | None, dt.date | None]:
    visits = Visit.objects.filter(pregnancy=pregnancy)
    antenatal = visits.filter(kind=Visit.Kind.ANTENATAL).aggregate(last=Max("date"))["last"]
    postpartum = visits.filter(kind__in=POSTPARTUM_KINDS).aggregate(first=Min("date"))["first"]
    return antenatal, postpartum


def _babies_write(delivery: Delivery, babies: Sequence[BabyData], *, by: Any, reason: str) -> None:
    for order, data in enumerate(babies, start=1):
        save_with_history(Baby(delivery=delivery, order=order, outcome=data.outcome, sex=data.sex,
                               weight_g=data.weight_g), by=by, reason=reason)


def delivery_record(
    *, pregnancy: Pregnancy, by: Any, delivered_at: dt.datetime, place: str, institution: Institution | None,
    mode: str, caesarean_indication: str = "", gestational_weeks: int | None = None,
    gestational_days: int | None = None, babies: Sequence[BabyData] | None = None, live_births: int | None = None,
    stillbirths: int | None = None, outcome: str = "", external_id: str = "", reason: str = "delivery recorded",
    now: dt.datetime | None = None,
) -> Delivery:
    """Record the delivery (分娩) of an ongoing pregnancy: the babies (or their counts, from an import), and the
    pregnancy moves on to delivered. Her high-risk case, if open, moves on too (``DELIVERY_HOOKS``)."""
    permissions.check("delivery", by, pregnancy, institution=institution)
    now = now or timezone.now()
    if delivered_at is not None and timezone.is_naive(delivered_at):
        delivered_at = delivered_at.replace(tzinfo=CHINA)
    with transaction.atomic():
        pregnancy = _locked_pregnancy(pregnancy)
        if pregnancy.status != Pregnancy.Status.ONGOING or Delivery.objects.filter(pregnancy=pregnancy).exists():
            raise TransitionConflict(_("This pregnancy is no longer ongoing: its delivery or end is recorded."))
        last_antenatal, first_postpartum = _visit_bounds(pregnancy)
        errors = delivery_errors(
            pregnancy=pregnancy, delivered_at=delivered_at, place=place, institution=institution, mode=mode,
            caesarean_indication=caesarean_indication, gestational_weeks=gestational_weeks,
            gestational_days=gestational_days, babies=babies, live_births=live_births, stillbirths=stillbirths,
            now=now, last_antenatal=last_antenatal, first_postpartum=first_postpartum)
        if _external_id_taken(Delivery, external_id.strip()):
            _add(errors, "external_id", _("Another delivery has this external id."))
        _raise_if(errors)
        if babies:
            live_births, stillbirths = baby_counts(babies)
        delivery = Delivery(
            pregnancy=pregnancy, delivered_at=delivered_at, delivered_on=china_date(delivered_at), place=place,
            institution=institution if place == Delivery.Place.INSTITUTION else None, mode=mode,
            caesarean_indication=caesarean_indication.strip() if mode == Delivery.Mode.CAESAREAN else "",
            gestational_weeks=gestational_weeks, gestational_days=gestational_days,
            live_births=live_births or 0, stillbirths=stillbirths or 0, outcome=outcome.strip(),
            external_id=external_id.strip(), recorded_by=by)
        save_with_history(delivery, by=by, reason=reason)
        _babies_write(delivery, babies or [], by=by, reason=reason)
        pregnancy.deliver()
        save_with_history(pregnancy, by=by, reason="delivered")
        for hook in DELIVERY_HOOKS:
            hook(pregnancy=pregnancy, delivery=delivery, by=by)
    return delivery


def delivery_correct(
    *, delivery: Delivery, by: Any, reason: str, delivered_at: Any = KEEP, place: Any = KEEP,
    institution: Any = KEEP, mode: Any = KEEP, caesarean_indication: Any = KEEP, gestational_weeks: Any = KEEP,
    gestational_days: Any = KEEP, babies: Any = KEEP, live_births: Any = KEEP, stillbirths: Any = KEEP,
    outcome: Any = KEEP, now: dt.datetime | None = None,
) -> Delivery:
    """Correct a recorded delivery (any field left as ``KEEP`` stays); new babies replace the old rows, whose
    history keeps them. The pregnancy's state does not change."""
    reason = _reason_required(reason, _("Say why the delivery is corrected."))
    now = now or timezone.now()
    with transaction.atomic():
        pregnancy = _locked_pregnancy(delivery.pregnancy)
        delivery = Delivery.objects.select_related("pregnancy", "institution").get(pk=delivery.pk)
        permissions.check_correct_delivery(by, delivery)

        def value(given: Any, current: Any) -> Any:
            return current if given is KEEP else given

        place = value(place, delivery.place)
        # A delivery moved away from an institution drops the kept one.
        institution = (None if institution is KEEP and place != Delivery.Place.INSTITUTION
                       else value(institution, delivery.institution))
        if institution is not None and institution.pk != delivery.institution_id:
            permissions.check("delivery", by, pregnancy, institution=institution)
        delivered_at = value(delivered_at, delivery.delivered_at)
        if delivered_at is not None and timezone.is_naive(delivered_at):
            delivered_at = delivered_at.replace(tzinfo=CHINA)
        current_babies = [BabyData(b.outcome, b.sex, b.weight_g) for b in delivery.babies.all()]
        new_babies = None if babies is KEEP else list(babies or [])
        live = value(live_births, delivery.live_births if new_babies is None else None)
        still = value(stillbirths, delivery.stillbirths if new_babies is None else None)
        checked_babies = new_babies if new_babies is not None else current_babies
        if new_babies is None and current_babies and (live, still) != baby_counts(current_babies):
            # Counts changed without the babies: the babies no longer say what happened; they go.
            checked_babies, new_babies = [], []
        last_antenatal, first_postpartum = _visit_bounds(pregnancy)
        mode = value(mode, delivery.mode)
        indication = value(caesarean_indication, delivery.caesarean_indication)
        weeks = value(gestational_weeks, delivery.gestational_weeks)
        days = value(gestational_days, delivery.gestational_days)
        _raise_if(delivery_errors(
            pregnancy=pregnancy, delivered_at=delivered_at, place=place, institution=institution, mode=mode,
            caesarean_indication=indication,
            gestational_weeks=weeks, gestational_days=days, babies=checked_babies, live_births=live,
            stillbirths=still, now=now, last_antenatal=last_antenatal, first_postpartum=first_postpartum))
        if checked_babies:
            live, still = baby_counts(checked_babies)
        delivery.delivered_at, delivery.delivered_on = delivered_at, china_date(delivered_at)
        delivery.place, delivery.institution = place, institution
        delivery.mode = mode
        delivery.caesarean_indication = (indication or "").strip() if mode == Delivery.Mode.CAESAREAN else ""
        delivery.gestational_weeks, delivery.gestational_days = weeks, days
        delivery.live_births, delivery.stillbirths = live, still or 0
        delivery.outcome = value(outcome, delivery.outcome).strip()
        history_reason = f"delivery corrected: {reason}"
        save_with_history(delivery, by=by, reason=history_reason)
        if new_babies is not None:
            for baby in delivery.babies.all():
                baby._history_user = by  # type: ignore[attr-defined]
                baby._change_reason = history_reason[:100]  # type: ignore[attr-defined]
                baby.delete()
            _babies_write(delivery, new_babies, by=by, reason=history_reason)
    return delivery
