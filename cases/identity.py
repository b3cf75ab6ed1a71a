"""Resident identity numbers (GB 11643-1999): 6-digit region, 8-digit birth date, 3-digit sequence,
and an ISO 7064 MOD 11-2 check character."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK_CHARS = "10X98765432"
# GB/T 2260 province-level codes (first two digits) in use.
PROVINCE_PREFIXES = frozenset({
    "11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33", "34", "35", "36", "37",
    "41", "42", "43", "44", "45", "46", "50", "51", "52", "53", "54", "61", "62", "63", "64", "65",
    "71", "81", "82",
})
# Beyond these ages no one is pregnant: a date of birth outside them is a typing error, refused outright.
# (The usual range, inside these, is a province setting and only asks for confirmation.)
AGE_FLOOR_YEARS = 8
AGE_CEILING_YEARS = 70


def age_on(born: dt.date, on: dt.date) -> int:
    """Completed years on a date."""
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


def id_says_male(number: str) -> bool:
    """GB 11643: the 17th character (the last of the sequence) is odd for men, even for women."""
    number = normalise_id_number(number)
    return len(number) == 18 and number[16].isdigit() and int(number[16]) % 2 == 1


def id_check_char(first17: str) -> str:
    total = sum(int(digit) * weight for digit, weight in zip(first17, WEIGHTS, strict=True))
    return CHECK_CHARS[total % 11]


def id_birth_date(number: str) -> dt.date:
    return dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))


def normalise_id_number(value: str) -> str:
    return (value or "").strip().replace(" ", "").upper()


def validate_resident_id(value: str, *, today: dt.date | None = None) -> None:
    number = normalise_id_number(value)
    if len(number) != 18 or not number[:17].isdigit() or not (number[17].isdigit() or number[17] == "X"):
        raise ValidationError(_("A resident ID number has 17 digits and a final digit or X."), code="id_format")
    if number[:2] not in PROVINCE_PREFIXES:
        raise ValidationError(_("The ID number does not start with a valid region code."), code="id_region")
    try:
        born = id_birth_date(number)
    except ValueError:
        raise ValidationError(_("The ID number does not contain a valid birth date."), code="id_birth") from None
    today = today or dt.date.today()  # noqa: DTZ011  (a calendar date, not an instant)
    age = age_on(born, today)
    if born > today or age > AGE_CEILING_YEARS or age < AGE_FLOOR_YEARS:
        raise ValidationError(_("The birth date in the ID number is not plausible for a pregnant woman."),
                              code="id_birth_plausible")
    if id_check_char(number[:17]) != number[17]:
        raise ValidationError(_("The check digit of the ID number is wrong: please check each digit."),
                              code="id_check")
