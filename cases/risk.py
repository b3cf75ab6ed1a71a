"""The colour engine: pregnancy-risk grading from a rule set (risk-table.md).

``risk_input_parse(data)`` validates the stable JSON interface (used by ``manage.py evaluate_risk``,
``POST /api/risk/evaluate/`` and the assessment form) and raises :class:`RiskInputError` with every
bad field at once; ``risk_evaluate(risk_input)`` derives rows from measurements, adds the findings,
combines them (highest of yellow/orange/red wins; purple is a flag beside it) and returns every
matched row.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.utils.translation import gettext as _

from cases.models import SEVERITY, Colour, RiskRule, RuleSet

DEFAULT_RULESET = "national"
MEASUREMENTS = ("age_years", "bmi", "hb_g_l", "platelets_1e9_l", "pa_pressure_mmhg", "uterine_surgeries", "fetuses")
KEYS = {"ruleset", "as_of", "findings", "height_cm", "weight_kg", *MEASUREMENTS}
# Which measurement each derived row comes from (risk-table.md, "Rows derived from measurements").
DERIVED_FROM = {
    "Y1.1": "age_years", "O1.1": "age_years",
    "Y1.2": "bmi", "O1.2": "bmi",
    "Y2.6.2": "hb_g_l", "O2.6.2": "hb_g_l", "R1.6.3": "hb_g_l",
    "Y2.6.1": "platelets_1e9_l", "O2.6.1": "platelets_1e9_l", "R1.6.2": "platelets_1e9_l",
    "O2.1.6": "pa_pressure_mmhg", "R1.1.1": "pa_pressure_mmhg",
    "Y1.6": "uterine_surgeries", "O3.5": "uterine_surgeries",
    "Y3.1": "fetuses", "O3.1": "fetuses",
}
# Open choices of a rule set: a matched row that also marks purple.
PURPLE_BY_SETTING = {"Y2.3": ("hbsag_carrier_purple", "P1"), "Y2.9": ("std_purple", "P7")}
CODE_RE = re.compile(r"^[YORP]\d+(\.\d+)*$")


class RiskInputError(Exception):
    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__(errors)
        self.errors = errors


@dataclass
class RiskInput:
    ruleset: RuleSet
    findings: list[str] = field(default_factory=list)
    age_years: int | None = None
    bmi: Decimal | None = None
    hb_g_l: Decimal | None = None
    platelets_1e9_l: Decimal | None = None
    pa_pressure_mmhg: Decimal | None = None
    uterine_surgeries: int | None = None
    fetuses: int | None = None


@dataclass
class MatchedRow:
    code: str
    colour: str
    text: str
    derived: bool = False

    def as_dict(self) -> dict[str, str]:
        return {"code": self.code, "colour": self.colour, "text": self.text}


@dataclass
class RiskResult:
    colour: str
    purple: bool
    matched: list[MatchedRow]
    not_assessed: list[str]
    ruleset: RuleSet

    @property
    def label(self) -> str:
        if self.purple:
            return "purple" if self.colour == Colour.GREEN else f"purple+{self.colour}"
        return self.colour

    def as_dict(self) -> dict[str, Any]:
        return {
            "colour": self.colour,
            "purple": self.purple,
            "label": self.label,
            "matched": [row.as_dict() for row in self.matched],
            "not_assessed": self.not_assessed,
            "ruleset": self.ruleset.code,
        }


# --- Rule sets ------------------------------------------------------------------------------------

def ruleset_in_force(*, code: str = DEFAULT_RULESET, as_of: dt.date | None = None) -> RuleSet | None:
    """The version of ``code`` in force on ``as_of`` (today by default)."""
    as_of = as_of or dt.date.today()  # noqa: DTZ011  (a calendar date)
    return RuleSet.objects.filter(code=code, effective_from__lte=as_of).order_by("-effective_from", "-version").first()


def ruleset_for_province(*, province_code: str | None, as_of: dt.date | None = None) -> RuleSet | None:
    """The rule set a province uses: its own in force, else the national one."""
    as_of = as_of or dt.date.today()  # noqa: DTZ011
    own = (RuleSet.objects.filter(province_id=province_code, effective_from__lte=as_of)
           .order_by("-effective_from", "-version").first()) if province_code else None
    return own or ruleset_in_force(code=DEFAULT_RULESET, as_of=as_of)


def _rules(ruleset: RuleSet) -> dict[str, RiskRule]:
    cache = getattr(ruleset, "_rules_cache", None)
    if cache is None:
        cache = {rule.code: rule for rule in ruleset.rules.all()}
        ruleset._rules_cache = cache  # type: ignore[attr-defined]
    return cache


# --- Parsing --------------------------------------------------------------------------------------

def _number(data: dict[str, Any], key: str, errors: dict[str, list[str]]) -> Decimal | None:
    value = data.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        errors.setdefault(key, []).append(_("Must be a number."))
        return None
    number = Decimal(str(value))
    if not number.is_finite():
        errors.setdefault(key, []).append(_("Must be a number."))
        return None
    return number


def _integer(data: dict[str, Any], key: str, errors: dict[str, list[str]]) -> int | None:
    value = data.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        errors.setdefault(key, []).append(_("Must be a whole number."))
        return None
    return value


def _check_range(key: str, value: Decimal | int | None, low: float | None, high: float | None,
                 errors: dict[str, list[str]]) -> None:
    if value is None:
        return
    if (low is not None and value < Decimal(str(low))) or (high is not None and value > Decimal(str(high))):
        if high is None:
            errors.setdefault(key, []).append(_("Must be at least %(low)s.") % {"low": low})
        elif low is None:
            errors.setdefault(key, []).append(_("Must be at most %(high)s.") % {"high": high})
        else:
            errors.setdefault(key, []).append(_("Must be between %(low)s and %(high)s.") % {"low": low, "high": high})


def round_bmi(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def risk_input_parse(data: Any) -> RiskInput:
    """Validate the JSON interface's input; raise RiskInputError naming every bad field."""
    if not isinstance(data, dict):
        raise RiskInputError({"non_field_errors": [_("The input must be a JSON object.")]})
    errors: dict[str, list[str]] = {}
    for key in sorted(set(data) - KEYS):
        errors.setdefault(key, []).append(_("Unknown field."))

    # Rule set and date.
    as_of: dt.date | None = None
    raw_as_of = data.get("as_of")
    if raw_as_of is not None:
        if not isinstance(raw_as_of, str):
            errors.setdefault("as_of", []).append(_("Must be a date written as YYYY-MM-DD."))
        else:
            try:
                as_of = dt.date.fromisoformat(raw_as_of)
            except ValueError:
                errors.setdefault("as_of", []).append(_("Must be a date written as YYYY-MM-DD."))
    code = data.get("ruleset", DEFAULT_RULESET)
    ruleset: RuleSet | None = None
    if not isinstance(code, str) or not code:
        errors.setdefault("ruleset", []).append(_("Must be the code of a rule set."))
    elif not RuleSet.objects.filter(code=code).exists():
        errors.setdefault("ruleset", []).append(_("Unknown rule set %(code)s.") % {"code": code})
    elif "as_of" not in errors:
        ruleset = ruleset_in_force(code=code, as_of=as_of)
        if ruleset is None:
            errors.setdefault("as_of", []).append(
                _("No version of rule set %(code)s was in force on that date.") % {"code": code})

    # Measurements.
    age = _integer(data, "age_years", errors)
    _check_range("age_years", age, 10, 60, errors)
    bmi = _number(data, "bmi", errors)
    height = _number(data, "height_cm", errors)
    weight = _number(data, "weight_kg", errors)
    if bmi is not None and (height is not None or weight is not None):
        errors.setdefault("bmi", []).append(_("Give either the BMI or the height and weight (bmi, or height_cm with weight_kg), not both."))
    elif (height is None) != (weight is None) and "height_cm" not in errors and "weight_kg" not in errors:
        missing = "weight_kg" if weight is None else "height_cm"
        errors.setdefault(missing, []).append(_("Give the height and the weight together (height_cm, weight_kg)."))
    _check_range("height_cm", height, 100, 220, errors)
    _check_range("weight_kg", weight, 25, 250, errors)
    if bmi is None and height is not None and weight is not None and not ({"height_cm", "weight_kg"} & set(errors)):
        bmi = weight / ((height / 100) ** 2)
        if not Decimal(10) <= round_bmi(bmi) <= Decimal(60):
            errors.setdefault("weight_kg", []).append(_("Height and weight give a BMI outside 10–60."))
    elif bmi is not None:
        _check_range("bmi", bmi, 10, 60, errors)
    hb = _number(data, "hb_g_l", errors)
    _check_range("hb_g_l", hb, 20, 200, errors)
    plt = _number(data, "platelets_1e9_l", errors)
    _check_range("platelets_1e9_l", plt, 0, 1500, errors)
    pa = _number(data, "pa_pressure_mmhg", errors)
    if pa is not None and pa < 30:
        errors.setdefault("pa_pressure_mmhg", []).append(
            _("Below 30 mmHg is not pulmonary hypertension: leave it out unless it is diagnosed."))
    _check_range("pa_pressure_mmhg", pa, None, 200, errors)
    surgeries = _integer(data, "uterine_surgeries", errors)
    _check_range("uterine_surgeries", surgeries, 0, 20, errors)
    fetuses = _integer(data, "fetuses", errors)
    _check_range("fetuses", fetuses, 1, 8, errors)

    # Findings.
    findings: list[str] = []
    raw_findings = data.get("findings", [])
    if not isinstance(raw_findings, list) or not all(isinstance(item, str) for item in raw_findings):
        errors.setdefault("findings", []).append(_("Must be a list of row codes such as \"O2.6.3\"."))
    else:
        known = _rules(ruleset) if ruleset is not None else {}
        for item in raw_findings:
            item = item.strip()
            if ruleset is None:
                break
            if item in known:
                if item not in findings:
                    findings.append(item)
            elif CODE_RE.match(item) and RiskRule.objects.filter(code=item).exists():
                errors.setdefault("findings", []).append(
                    _("%(code)s belongs to another rule set, not %(ruleset)s.") % {"code": item, "ruleset": ruleset.code})
            else:
                errors.setdefault("findings", []).append(_("Unknown row code %(code)s.") % {"code": item})

    parsed = RiskInput(
        ruleset=ruleset,  # type: ignore[arg-type]
        findings=findings,
        age_years=age,
        bmi=round_bmi(bmi) if bmi is not None and "bmi" not in errors else None,
        hb_g_l=hb, platelets_1e9_l=plt, pa_pressure_mmhg=pa, uterine_surgeries=surgeries, fetuses=fetuses,
    )
    if not errors:
        # A derived row given by hand must agree with its measurement when both are given.
        derived = set(derive_codes(parsed))
        for code in findings:
            source = DERIVED_FROM.get(code)
            if source is not None and getattr(parsed, source) is not None and code not in derived:
                errors.setdefault("findings", []).append(
                    _("%(code)s contradicts %(field)s: leave the code out, the measurement decides.")
                    % {"code": code, "field": source})
    if errors:
        raise RiskInputError(errors)
    return parsed


# --- Evaluation -----------------------------------------------------------------------------------

def derive_codes(inp: RiskInput) -> list[str]:
    """Row codes that the measurements imply, by the national table's thresholds."""
    codes: list[str] = []
    if inp.age_years is not None:
        if inp.age_years >= 35 or inp.age_years <= 18:
            codes.append("Y1.1")
        if inp.age_years >= 40:
            codes.append("O1.1")
    if inp.bmi is not None:
        if inp.bmi > 25 or inp.bmi < Decimal("18.5"):
            codes.append("Y1.2")
        if inp.bmi >= 28:
            codes.append("O1.2")
    if inp.hb_g_l is not None:
        hb = inp.hb_g_l
        if 60 <= hb < 110:
            codes.append("Y2.6.2")
        if 40 <= hb <= 60:
            codes.append("O2.6.2")
        if hb <= 40:
            codes.append("R1.6.3")
    if inp.platelets_1e9_l is not None:
        plt = inp.platelets_1e9_l
        if 50 <= plt <= 100:
            codes.append("Y2.6.1")
        if 30 <= plt <= 50:
            codes.append("O2.6.1")
        if plt < 30:
            codes.append("R1.6.2")
    if inp.pa_pressure_mmhg is not None:
        codes.append("R1.1.1" if inp.pa_pressure_mmhg >= 50 else "O2.1.6")
    if inp.uterine_surgeries is not None:
        if inp.uterine_surgeries >= 1:
            codes.append("Y1.6")
        if inp.uterine_surgeries >= 2:
            codes.append("O3.5")
    if inp.fetuses is not None:
        if inp.fetuses == 2:
            codes.append("Y3.1")
        if inp.fetuses >= 3:
            codes.append("O3.1")
    return codes


def _code_key(code: str) -> tuple[int, tuple[int, ...]]:
    return ("YORP".index(code[0]), tuple(int(part) for part in code[1:].split(".")))


def risk_evaluate(inp: RiskInput) -> RiskResult:
    rules = _rules(inp.ruleset)
    derived = derive_codes(inp)
    matched: dict[str, MatchedRow] = {}
    for code in [*derived, *inp.findings]:
        rule = rules.get(code)
        if rule is None:  # the province removed this row
            continue
        matched.setdefault(code, MatchedRow(code=code, colour=rule.colour, text=rule.text, derived=code in derived))
    for code, (setting, purple_code) in PURPLE_BY_SETTING.items():
        if code in matched and getattr(inp.ruleset, setting) and purple_code in rules and purple_code not in matched:
            rule = rules[purple_code]
            matched[purple_code] = MatchedRow(code=purple_code, colour=rule.colour, text=rule.text)
    rows = sorted(matched.values(), key=lambda r: (-SEVERITY.get(Colour(r.colour), -1) if r.colour != Colour.PURPLE
                                                     else 1, _code_key(r.code)))
    severities = [SEVERITY[Colour(row.colour)] for row in rows if row.colour != Colour.PURPLE]
    colour = max(severities, default=0)
    colour_name = next(c for c, rank in SEVERITY.items() if rank == colour)
    not_assessed = [name for name in MEASUREMENTS if getattr(inp, name) is None]
    return RiskResult(colour=str(colour_name.value), purple=any(r.colour == Colour.PURPLE for r in rows),
                      matched=rows, not_assessed=not_assessed, ruleset=inp.ruleset)


def risk_evaluate_json(data: Any) -> dict[str, Any]:
    """Parse and evaluate in one step (raises RiskInputError)."""
    return risk_evaluate(risk_input_parse(data)).as_dict()
