"""The areas the level above re-checks on site in a round (抽查复核), drawn reproducibly.

The rule (the province's settings; Fujian: a city re-checks at least 30 % of its counties each year and every
county within 4 years; the province at least 2 cities):

1. an area whose last on-site re-check lies ``coverage_years`` or more years back (counting from the year
   before the evaluator's first round, so a new system is not forced to re-check everyone at once) must be
   drawn, or the coverage would be broken;
2. the rest are ordered by the year of their last re-check (never re-checked first), ties broken by a shuffle
   seeded with the round, the evaluator and the year, and taken until at least ``share`` % (rounded up) and
   ``minimum`` areas are in.

Pure code over plain values: the same inputs always give the same sample, and the tests check the rules over
many years.
"""

from __future__ import annotations

import hashlib
import math
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

FORCED = "coverage"
ORDERED = "longest_unchecked"


@dataclass(frozen=True)
class Drawn:
    region: str
    reason: str  # FORCED or ORDERED
    last_checked: int | None


def seed_for(*, round_id: str, evaluator: str, year: int) -> str:
    return hashlib.sha256(f"{round_id}:{evaluator}:{year}".encode()).hexdigest()[:32]


def required_count(total: int, *, share: int, minimum: int) -> int:
    if total <= 0:
        return 0
    return min(total, max(math.ceil(total * share / 100), minimum))


def draw(*, areas: Sequence[str], last_checked: Mapping[str, int | None], year: int, first_year: int, share: int,
         coverage_years: int, minimum: int, seed: str) -> list[Drawn]:
    """The sample for ``year``: ``areas`` are the region codes below the evaluator; ``last_checked`` the year
    each was last re-checked on site (None or absent: never); ``first_year`` the evaluator's first round."""
    codes = sorted(set(areas))
    baseline = first_year - 1
    forced = [code for code in codes if year - (last_checked.get(code) or baseline) >= coverage_years]
    rest = [code for code in codes if code not in forced]
    random.Random(seed).shuffle(rest)  # noqa: S311  (reproducible on purpose: anyone can draw it again)
    rest.sort(key=lambda code: last_checked.get(code) or baseline)  # stable: the shuffle breaks the ties
    wanted = max(required_count(len(codes), share=share, minimum=minimum), len(forced))
    chosen = [Drawn(code, FORCED, last_checked.get(code)) for code in forced]
    chosen += [Drawn(code, ORDERED, last_checked.get(code)) for code in rest[:wanted - len(forced)]]
    return chosen
