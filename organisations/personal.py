"""Validation and masking of personal data (phone numbers, ID numbers).

Lists and logs only ever show the masked form; the full value is shown on a record's own page to a
user allowed to see it, and that read is recorded in the access log.
"""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

MOBILE_RE = re.compile(r"^1[3-9]\d{9}$")
LANDLINE_RE = re.compile(r"^0\d{2,3}-?\d{7,8}(-\d{1,6})?$")
SERVICE_RE = re.compile(r"^(120|110|119|122|12320|12356)$")
# Anything that looks like a phone number or an 18/15-digit resident ID inside free text.
PHONE_IN_TEXT_RE = re.compile(r"(?<!\d)(1[3-9]\d)(\d{4})(\d{4})(?!\d)")
# A percent-escape before it (a URL-encoded "?q=..." in a ?next= parameter) does not hide it either.
ID_IN_TEXT_RE = re.compile(r"(?:(?<![0-9A-Za-z])|(?<=%[0-9A-Fa-f]{2}))(\d{6})(\d{8})(\d{3}[\dXx])(?![0-9A-Za-z])")


def normalise_phone(value: str) -> str:
    return re.sub(r"[\s()]", "", value or "").replace("+86", "", 1) if value else ""


def validate_phone(value: str) -> None:
    """Accept a mainland mobile number, a landline with area code, or a service number such as 120."""
    number = normalise_phone(value)
    if not (MOBILE_RE.match(number) or LANDLINE_RE.match(number) or SERVICE_RE.match(number)):
        raise ValidationError(
            _("Enter a mobile number (11 digits starting with 1) or a landline with its area code."),
            code="invalid_phone",
        )


def mask_phone(value: str | None) -> str:
    """13812345678 → 138****5678; 0591-87654321 → 0591-****4321."""
    if not value:
        return ""
    number = normalise_phone(value)
    if len(number) <= 4:
        return number
    if MOBILE_RE.match(number):
        return f"{number[:3]}****{number[-4:]}"
    if "-" in number:
        area, rest = number.split("-", 1)
        return f"{area}-****{rest[-4:]}"
    return f"{number[:2]}****{number[-4:]}"


def mask_id_number(value: str | None) -> str:
    """350102199001011234 → 350102********1234: the region stays readable, the birth date does not."""
    if not value:
        return ""
    if len(value) <= 8:
        return "*" * len(value)
    return f"{value[:6]}{'*' * (len(value) - 10)}{value[-4:]}"


def mask_personal_data_in_text(text: str) -> str:
    """Mask every phone number and resident ID number found in free text (for log lines)."""
    text = ID_IN_TEXT_RE.sub(lambda m: f"{m.group(1)}********{m.group(3)[-4:]}", text)
    return PHONE_IN_TEXT_RE.sub(lambda m: f"{m.group(1)}****{m.group(3)}", text)
