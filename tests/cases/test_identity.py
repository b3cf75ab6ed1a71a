import datetime as dt

import pytest
from django.core.exceptions import ValidationError

from cases.identity import id_check_char, validate_resident_id
from cases.models import Pregnancy


def test_check_digit_known_example():
    # The worked example of GB 11643-1999.
    assert id_check_char("11010519491231002") == "X"


@pytest.mark.parametrize("first17", ["35012119930517001", "11010519901231002", "44010420080229123"])
def test_valid_numbers(first17):
    validate_resident_id(first17 + id_check_char(first17), today=dt.date(2026, 11, 24))
    validate_resident_id((first17 + id_check_char(first17)).lower(), today=dt.date(2026, 11, 24))


@pytest.mark.parametrize(
    ("number", "code"),
    [
        ("11010519491231002", "id_format"),
        ("35012119930517001" + ("1" if id_check_char("35012119930517001") != "1" else "2"), "id_check"),
        ("990105199001010011", "id_region"),
        ("350121199302300011", "id_birth"),
        ("350121203001010011", "id_birth_plausible"),
    ],
)
def test_invalid_numbers(number, code):
    with pytest.raises(ValidationError) as exc:
        validate_resident_id(number, today=dt.date(2026, 11, 24))
    assert exc.value.code == code


def test_naegele_and_gestational_age():
    p = Pregnancy(lmp=dt.date(2026, 3, 1), booking_date=dt.date(2026, 4, 20), gravidity=1, parity=0)
    assert p.edd == dt.date(2026, 12, 6)
    assert p.gestational_age(dt.date(2026, 4, 20)) == (7, 1)
    p.edd_ultrasound = dt.date(2026, 12, 13)
    assert p.gestational_age(dt.date(2026, 4, 20)) == (6, 1)
