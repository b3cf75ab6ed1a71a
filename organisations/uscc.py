"""The unified social credit code (统一社会信用代码, GB 32100-2015): 18 characters, the last a check character."""

from __future__ import annotations

import hashlib

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"  # no I, O, S, V, Z
WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def check_character(body: str) -> str:
    """The 18th character for the first 17."""
    total = sum(ALPHABET.index(char) * weight for char, weight in zip(body, WEIGHTS, strict=True))
    return ALPHABET[(31 - total % 31) % 31]


def looks_like_uscc(code: str) -> bool:
    return len(code) == 18 and all(char in ALPHABET for char in code)


def validate_code(code: str) -> None:
    """An 18-character code written in the code's alphabet is taken for a USCC and must carry its check
    character; other codes (an older 组织机构代码, a province's own numbering) are accepted as they are."""
    if looks_like_uscc(code) and check_character(code[:17]) != code[17]:
        raise ValidationError(_("The last character of this unified social credit code does not match "
                                "(check character %(expected)s); look for a mistyped character."),
                              params={"expected": check_character(code[:17])}, code="uscc_check")


def demo_uscc(region_code: str, name: str) -> str:
    """A well-formed code for a demo institution: 12 (a public institution) + region + 9 characters from
    its name + the check character. Not a real institution's code."""
    digest = int(hashlib.sha256(name.encode()).hexdigest(), 16)
    organisation = "".join(ALPHABET[(digest >> (5 * i)) % 10] for i in range(9))
    body = f"12{region_code}{organisation}"
    return body + check_character(body)
