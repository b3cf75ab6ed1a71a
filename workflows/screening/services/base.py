"""What the screening process shares: its deadline kinds, a pregnancy's link, a grade's label, setting her colour."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.urls import reverse
from django.utils.translation import gettext_noop

from cases.models import (
    Colour,
    Pregnancy,
)
from workflows.common import save_with_history

ASSESSMENT_DUE = "screening.assessment_due"


CONTINUATION_DUE = "screening.continuation_due"


YELLOW_ADVICE = gettext_noop("Receive antenatal care and deliver at a secondary-or-higher hospital; "
                             "if anything is abnormal, go to a tertiary hospital promptly.")


def pregnancy_link(pregnancy: Pregnancy) -> str:
    return reverse("cases:pregnancy_detail", args=[pregnancy.pk])


def _label(colour: str, purple: bool) -> str:
    if purple:
        return "purple" if colour == Colour.GREEN else f"purple+{colour}"
    return colour


def _set_pregnancy_colour(pregnancy: Pregnancy, colour: str, purple: bool, *, by: Any, at: dt.datetime,
                          reason: str) -> None:
    pregnancy.colour, pregnancy.purple, pregnancy.colour_at = colour, purple, at
    save_with_history(pregnancy, by=by, reason=reason)
