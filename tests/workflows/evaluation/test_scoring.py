"""Scoring of each target type at its edges (pure: no database)."""

from __future__ import annotations

from decimal import Decimal
from types import SimpleNamespace

import pytest

from cases.models.evaluation import EvaluationIndicator
from workflows.evaluation.scoring import score, total

T = EvaluationIndicator.TargetType


def indicator(**fields):  # type: ignore[no-untyped-def]
    base = dict(target_type=T.YES_NO, points=Decimal("4"), threshold=None, comparison="", band_lower=None,
                band_upper=None, band_scoring="", trend="", keep_level=None)
    return SimpleNamespace(**{**base, **fields})


def test_yes_no():
    assert score(indicator(), True).points == Decimal(4)
    assert score(indicator(), False).points == Decimal(0)
    assert score(indicator(), False).met is False
    assert score(indicator(), None).met is None


def test_threshold_at_least_and_at_most():
    ratio = indicator(target_type=T.THRESHOLD, threshold=Decimal("0.3333"), comparison="ge")
    assert score(ratio, Decimal("0.3333")).points == Decimal(4)
    assert score(ratio, Decimal("0.3332")).points == Decimal(0)
    ceiling = indicator(target_type=T.THRESHOLD, threshold=Decimal("30"), comparison="le")
    assert score(ceiling, 30).met is True
    assert score(ceiling, Decimal("30.01")).met is False


@pytest.mark.parametrize(("value", "points", "met"), [
    (Decimal("94.99"), Decimal("0"), False),
    (Decimal("95"), Decimal("9.50"), False),
    (Decimal("97.5"), Decimal("9.75"), False),
    (Decimal("100"), Decimal("10"), True),
    (Decimal("100.5"), Decimal("10"), True),
])
def test_band_proportional_edges(value, points, met):
    band = indicator(target_type=T.BAND, points=Decimal("10"), band_lower=Decimal("95"), band_upper=Decimal("100"),
                     band_scoring="proportional")
    result = score(band, value)
    assert (result.points, result.met) == (points, met)


@pytest.mark.parametrize(("value", "points"), [
    (Decimal("94.99"), Decimal("0")), (Decimal("95"), Decimal("0.00")), (Decimal("97.5"), Decimal("5.00")),
    (Decimal("100"), Decimal("10")),
])
def test_band_linear_edges(value, points):
    band = indicator(target_type=T.BAND, points=Decimal("10"), band_lower=Decimal("95"), band_upper=Decimal("100"),
                     band_scoring="linear")
    assert score(band, value).points == points


def test_band_without_points_is_judged_only():
    band = indicator(target_type=T.BAND, points=None, band_lower=Decimal("95"), band_upper=Decimal("100"),
                     band_scoring="proportional")
    assert (score(band, 100).met, score(band, 100).points) == (True, None)
    assert (score(band, 96).met, score(band, 96).points) == (False, None)


@pytest.mark.parametrize(("wanted", "value", "previous", "met"), [
    ("up", 12, 10, True), ("up", 10, 10, False), ("up", 9, 10, False),
    ("down", 9, 10, True), ("down", 10, 10, False), ("down", 11, 10, False),
    ("up_or_keep", 10, 10, True), ("up_or_keep", 9, 10, False),
])
def test_trend_up_down_flat(wanted, value, previous, met):
    trend = indicator(target_type=T.TREND, trend=wanted)
    result = score(trend, value, previous)
    assert result.met is met
    assert result.points == (Decimal(4) if met else Decimal(0))


def test_trend_without_previous_year_is_not_judged():
    result = score(indicator(target_type=T.TREND, trend="up"), 10, None)
    assert (result.met, result.points) == (None, None)
    assert result.note


def test_trend_kept_high_needs_no_previous_year():
    kept = indicator(target_type=T.TREND, trend="up_or_keep", keep_level=Decimal("3000"))
    assert score(kept, 3200, None).met is True
    assert score(kept, 2900, None).met is None
    assert score(kept, 2900, 3000).met is False


def test_not_captured_is_never_scored():
    result = score(indicator(target_type=T.NOT_CAPTURED), 100)
    assert (result.met, result.points) == (None, None)


def test_total_skips_unscored():
    assert total([score(indicator(), True), score(indicator(target_type=T.NOT_CAPTURED), 1)]) == Decimal(4)
    assert total([score(indicator(target_type=T.NOT_CAPTURED), 1)]) is None
