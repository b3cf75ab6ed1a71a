"""The on-site re-check sample: at least the share (rounded up) and the minimum every year, every area within
the coverage years, the same draw for the same seed."""

from __future__ import annotations

import math

import pytest

from workflows.evaluation import sampling


def run_years(areas, *, years, share, coverage, minimum=1, seed="s"):  # type: ignore[no-untyped-def]
    last: dict[str, int | None] = {}
    history = []
    for year in range(2025, 2025 + years):
        drawn = sampling.draw(areas=areas, last_checked=last, year=year, first_year=2025, share=share,
                              coverage_years=coverage, minimum=minimum, seed=f"{seed}{year}")
        for item in drawn:
            last[item.region] = year
        history.append((year, [d.region for d in drawn], drawn))
    return history


@pytest.mark.parametrize("count", [1, 3, 7, 10, 13, 20, 31])
def test_each_year_at_least_thirty_percent(count):  # type: ignore[no-untyped-def]
    areas = [f"35{n:04d}" for n in range(count)]
    for _year, codes, _drawn in run_years(areas, years=8, share=30, coverage=4):
        assert len(codes) >= math.ceil(count * 0.3)
        assert len(set(codes)) == len(codes)


@pytest.mark.parametrize("count", [3, 7, 10, 13, 20, 31])
def test_every_area_within_four_years(count):  # type: ignore[no-untyped-def]
    areas = [f"35{n:04d}" for n in range(count)]
    history = run_years(areas, years=12, share=30, coverage=4)
    for start in range(0, 12 - 3):
        window = {code for _year, codes, _d in history[start:start + 4] for code in codes}
        assert window == set(areas), f"years {history[start][0]}–{history[start + 3][0]} miss {set(areas) - window}"


def test_an_overdue_area_is_forced_in_and_says_so():  # type: ignore[no-untyped-def]
    areas = ["A", "B", "C", "D", "E", "F", "G", "H", "I", "J"]
    last = {code: 2028 for code in areas} | {"C": 2024}
    drawn = sampling.draw(areas=areas, last_checked=last, year=2028, first_year=2020, share=10, coverage_years=4,
                          minimum=1, seed="x")
    assert [(d.region, d.reason) for d in drawn] == [("C", sampling.FORCED)]


def test_the_minimum_applies_to_a_small_province():  # type: ignore[no-untyped-def]
    drawn = sampling.draw(areas=["350100", "350200", "350300"], last_checked={}, year=2025, first_year=2025,
                          share=30, coverage_years=4, minimum=2, seed="x")
    assert len(drawn) == 2


def test_the_same_seed_draws_the_same_sample_and_another_may_not():  # type: ignore[no-untyped-def]
    areas = [f"35{n:04d}" for n in range(20)]
    draw = lambda seed: [d.region for d in sampling.draw(  # noqa: E731
        areas=list(reversed(areas)), last_checked={}, year=2025, first_year=2025, share=30, coverage_years=4,
        minimum=1, seed=seed)]
    assert draw("seed-1") == draw("seed-1")
    assert len({tuple(draw(f"seed-{n}")) for n in range(10)}) > 1
    seed = sampling.seed_for(round_id="r", evaluator="350100", year=2025)
    assert seed == sampling.seed_for(round_id="r", evaluator="350100", year=2025) != sampling.seed_for(
        round_id="r", evaluator="350200", year=2025)
