"""Scoring of one evaluation indicator: pure code over the indicator's target fields, a value and, for a trend,
the previous year's value. No database access, so every rule is tested at its edges.

* yes/no: full points for yes, 0 for no;
* threshold: full points when the value reaches it (≥ or ≤), 0 otherwise;
* band: full points at or beyond the upper bound, 0 below the lower; inside it, ``proportional``
  (按比例得分, read as points × value ÷ upper bound) or ``linear`` (0 at the lower bound → full at the upper);
* trend: met when the value moved the way wanted against the previous year (a ``keep_level`` also meets
  "rising or kept high"); no previous value → not scored, said so;
* not captured: never scored.

Without points (the national edition gives none) a target is still judged met or not; the score is then None.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.utils.translation import gettext as _

from cases.models.evaluation import EvaluationIndicator

TargetType = EvaluationIndicator.TargetType
TWO_PLACES = Decimal("0.01")


@dataclass(frozen=True)
class Score:
    met: bool | None  # None: not judged (no value, no previous year, rule not captured)
    points: Decimal | None  # None: not judged, or the indicator has no points
    note: str = ""


def _decimal(value: Any) -> Decimal | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return Decimal(int(value))
    return value if isinstance(value, Decimal) else Decimal(str(value))


def _award(indicator: Any, met: bool, note: str = "") -> Score:
    full = _decimal(indicator.points)
    return Score(met=met, points=None if full is None else (full if met else Decimal(0)), note=note)


def score(indicator: Any, value: Any, previous: Any = None) -> Score:
    """The score of ``indicator`` (an EvaluationIndicator or anything with its fields) for ``value``."""
    kind = indicator.target_type
    if kind == TargetType.NOT_CAPTURED:
        return Score(met=None, points=None, note=_("The source's rule was not captured: not scored."))
    if value is None or value == "":
        return Score(met=None, points=None, note=_("No value."))
    if kind == TargetType.YES_NO:
        return _award(indicator, bool(value))
    number = _decimal(value)
    assert number is not None
    if kind == TargetType.THRESHOLD:
        threshold = _decimal(indicator.threshold)
        if threshold is None:
            return Score(met=None, points=None, note=_("The threshold is not set."))
        met = number <= threshold if indicator.comparison == EvaluationIndicator.Comparison.AT_MOST else \
            number >= threshold
        return _award(indicator, met)
    if kind == TargetType.BAND:
        return _band(indicator, number)
    if kind == TargetType.TREND:
        return _trend(indicator, number, _decimal(previous))
    raise ValueError(f"unknown target type {kind!r}")


def _band(indicator: Any, number: Decimal) -> Score:
    lower, upper = _decimal(indicator.band_lower), _decimal(indicator.band_upper)
    if lower is None or upper is None or upper <= 0 or lower >= upper:
        return Score(met=None, points=None, note=_("The band is not set."))
    full = _decimal(indicator.points)
    if number >= upper:
        return Score(met=True, points=full)
    if number < lower:
        return Score(met=False, points=None if full is None else Decimal(0),
                     note=_("Below the band's lower bound: no points."))
    if full is None:
        return Score(met=False, points=None, note=_("Inside the band, below its upper bound."))
    if indicator.band_scoring == EvaluationIndicator.BandScoring.LINEAR:
        share = (number - lower) / (upper - lower)
    else:
        share = number / upper
    return Score(met=False, points=(full * share).quantize(TWO_PLACES, rounding=ROUND_HALF_UP),
                 note=_("Inside the band: points in proportion."))


def _trend(indicator: Any, number: Decimal, previous: Decimal | None) -> Score:
    wanted = indicator.trend
    keep = _decimal(indicator.keep_level)
    if wanted == EvaluationIndicator.Trend.UP_OR_KEEP and keep is not None and number >= keep:
        return _award(indicator, True, _("Kept at the high level."))
    if previous is None:
        return Score(met=None, points=None, note=_("No value for the previous year: the trend is not judged."))
    if wanted == EvaluationIndicator.Trend.DOWN:
        met = number < previous
    elif wanted == EvaluationIndicator.Trend.UP_OR_KEEP:
        met = number >= previous
    else:
        met = number > previous
    return _award(indicator, met)


def total(scores: list[Score]) -> Decimal | None:
    """The sum of the scored points, None when none carries points."""
    points = [s.points for s in scores if s.points is not None]
    return sum(points, Decimal(0)) if points else None
