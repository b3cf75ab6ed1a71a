"""Institutions carry a unique code (统一社会信用代码); an 18-character code must carry its check character."""

import pytest
from django.core.exceptions import ValidationError

from organisations.models import Institution
from organisations.uscc import check_character, demo_uscc, validate_code

pytestmark = pytest.mark.django_db


def test_a_published_code_passes_and_a_mistyped_one_is_caught():
    # The check character of a well-known code (GB 32100-2015 worked example).
    assert check_character("91350100M000100Y4") == "3"
    validate_code("91350100M000100Y43")
    with pytest.raises(ValidationError):
        validate_code("91350100M000100Y44")
    validate_code("ANMU-350121-0001")  # not a USCC: accepted as the province's own numbering


def test_demo_codes_are_well_formed_and_distinct():
    a, b = demo_uscc("350121", "闽侯县医院"), demo_uscc("350121", "闽侯县妇幼保健院")
    assert len(a) == 18 and a != b and a.startswith("12350121")
    validate_code(a)


def test_the_code_is_unique_and_cleaned(personas):
    hospital = personas.inst.hospital_a
    other = Institution(code=hospital.code.lower(), name="另一家", kind=hospital.kind, level=2,
                        region=hospital.region)
    with pytest.raises(ValidationError) as caught:
        other.full_clean()
    assert "code" in caught.value.message_dict


def test_the_institutions_api_returns_the_code(client, personas):
    client.force_login(personas.users.obstetrician_a)
    rows = client.get("/api/institutions/").json()
    rows = rows["results"] if isinstance(rows, dict) else rows
    assert {row["code"] for row in rows} >= {personas.inst.hospital_a.code}
