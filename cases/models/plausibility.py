"""Plausibility of what is typed about a woman and her pregnancy.

Two kinds of rule. An *impossible* value (born in the future, a 3-year-old mother, an LMP decades
before booking, a due date before the LMP) is an error: the model's ``clean()`` refuses it, so every
service, the API and imports refuse it too. An *unusual* value (a resident ID that GB 11643 gives to a
man, a mother younger or older than the province's usual range) is saved only when the caller
confirms it: the services raise :class:`NeedsConfirmation` unless called with ``confirmed=True``, and
the pages show the warning with a "confirm" box. The clinical bounds are province settings.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from cases.identity import AGE_CEILING_YEARS, AGE_FLOOR_YEARS, age_on, id_says_male

# The records call these rules from their clean(), so this module does not import them (no cycle):
# a woman and a pregnancy are typed loosely here.
RESIDENT_ID = "resident_id"  # Woman.IdType.RESIDENT_ID

if TYPE_CHECKING:
    from cases.models.rules import ProvinceSettings



class NeedsConfirmation(ValidationError):  # noqa: N818  (a request, not a failure)
    """Unusual but possible details: saved only when the caller confirms them (``confirmed=True``)."""

    needs_confirmation = True  # what a form reads (organisations.forms.apply_errors) to offer the confirm box


def birth_date_errors(born: dt.date | None, *, on: dt.date) -> list[str]:
    if born is None:
        return []
    if born > on:
        return [_("The date of birth is in the future.")]
    age = age_on(born, on)
    if age < AGE_FLOOR_YEARS or age > AGE_CEILING_YEARS:
        return [_("A woman born on this date would be %(age)s years old: check the date of birth.") % {"age": age}]
    return []


def woman_warnings(woman: Any, *, settings: ProvinceSettings, on: dt.date) -> dict[str, list[str]]:
    """What needs a second look before she is registered (empty: nothing unusual)."""

    warnings: dict[str, list[str]] = {}
    if woman.id_type == RESIDENT_ID and id_says_male(woman.id_number):
        warnings["id_number"] = [_("The 17th digit of this ID number is odd, which GB 11643 gives to men: "
                                   "check the number against her card.")]
    age_warning = _age_warning(woman.date_of_birth, settings=settings, on=on)
    if age_warning:
        warnings["date_of_birth"] = [age_warning]
    return warnings


def _age_warning(born: dt.date | None, *, settings: ProvinceSettings, on: dt.date) -> str:
    if born is None or born > on:
        return ""
    age = age_on(born, on)
    if age < settings.mother_age_min_years or age > settings.mother_age_max_years:
        return _("She is %(age)s years old, outside the usual %(min)s to %(max)s: check her date of birth.") % {
            "age": age, "min": settings.mother_age_min_years, "max": settings.mother_age_max_years}
    return ""


def pregnancy_errors(pregnancy: Any, *, settings: ProvinceSettings, today: dt.date) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    lmp, booked, edd = pregnancy.lmp, pregnancy.booking_date, pregnancy.edd_ultrasound
    if booked and booked > today:
        errors["booking_date"] = [_("The booking date is in the future.")]
    if lmp and booked:
        if lmp > booked:
            errors["lmp"] = [_("The last menstrual period cannot be after the booking date.")]
        elif (booked - lmp).days > settings.booking_max_gestation_weeks * 7:
            errors["lmp"] = [_("The last menstrual period is more than %(weeks)s weeks before the booking date.")
                             % {"weeks": settings.booking_max_gestation_weeks}]
    if lmp and edd:
        shift = abs((edd - pregnancy.edd_naegele).days)
        if edd <= lmp:
            errors["edd_ultrasound"] = [_("The due date must come after the last menstrual period.")]
        elif shift > settings.edd_correction_max_days:
            errors["edd_ultrasound"] = [
                _("This due date is %(days)s days from the one by the last menstrual period; an ultrasound "
                  "corrects it by at most %(max)s days.") % {"days": shift, "max": settings.edd_correction_max_days}]
    born = pregnancy.woman.date_of_birth if pregnancy.woman_id else None
    if born and booked and "booking_date" not in errors:
        age_errors = birth_date_errors(born, on=booked)
        if age_errors:
            errors["booking_date"] = [_("She would be %(age)s years old on this booking date.")
                                      % {"age": age_on(born, booked)}]
    return errors


def pregnancy_warnings(pregnancy: Any, *, settings: ProvinceSettings) -> dict[str, list[str]]:
    born = pregnancy.woman.date_of_birth
    warning = _age_warning(born, settings=settings, on=pregnancy.booking_date) if pregnancy.booking_date else ""
    return {"booking_date": [warning]} if warning else {}
