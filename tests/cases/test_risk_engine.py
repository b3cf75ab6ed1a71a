"""The colour engine against risk-table.md: every derived row and boundary, combinations, overrides,
and the stable interface (command and API) on good and bad input."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command

from cases.models import RiskRule, RuleSet
from cases.risk import RiskInputError, risk_evaluate_json

ROOT = Path(__file__).resolve().parents[2]
SPEC_CODES = json.loads((ROOT / "cases" / "data" / "risk_national_2017.json").read_text(encoding="utf-8"))["rows"]


def codes(data: dict) -> set[str]:
    return {row["code"] for row in risk_evaluate_json(data)["matched"]}


def colour(data: dict) -> str:
    return risk_evaluate_json(data)["label"]


@pytest.mark.django_db
def test_national_rule_set_ships_every_code_of_the_table():
    national = RuleSet.objects.get(code="national")
    assert national.rules.count() == 116
    counts = {c: national.rules.filter(colour=c).count() for c in ("yellow", "orange", "red", "purple")}
    assert counts == {"yellow": 36, "orange": 37, "red": 36, "purple": 7}
    for code in ("Y1.2", "Y2.1.4", "Y3.12", "O2.1.6", "O2.6.4", "O3.9", "R1.1.1", "R1.10.3", "R2.3", "P6"):
        assert national.rules.filter(code=code).exists(), code
    # Rows with sub-rows are not codes.
    for group in ("Y1", "Y2.1", "O2.1", "R1.6", "R2"):
        assert not national.rules.filter(code=group).exists(), group
    assert national.rules.get(code="R1.6.3").text == "重度贫血(Hb≤40)"


# (measurement, value, expected derived codes of that measurement)
BOUNDARIES = [
    ("age_years", 17, {"Y1.1"}), ("age_years", 18, {"Y1.1"}), ("age_years", 19, set()),
    ("age_years", 34, set()), ("age_years", 35, {"Y1.1"}), ("age_years", 39, {"Y1.1"}),
    ("age_years", 40, {"Y1.1", "O1.1"}),
    ("bmi", 18.4, {"Y1.2"}), ("bmi", 18.5, set()), ("bmi", 18.46, set()), ("bmi", 18.44, {"Y1.2"}),
    ("bmi", 25, set()), ("bmi", 25.04, set()), ("bmi", 25.05, {"Y1.2"}), ("bmi", 25.1, {"Y1.2"}),
    ("bmi", 27.9, {"Y1.2"}), ("bmi", 27.96, {"Y1.2", "O1.2"}), ("bmi", 28, {"Y1.2", "O1.2"}),
    ("hb_g_l", 110, set()), ("hb_g_l", 109.9, {"Y2.6.2"}), ("hb_g_l", 61, {"Y2.6.2"}),
    ("hb_g_l", 60, {"Y2.6.2", "O2.6.2"}), ("hb_g_l", 59, {"O2.6.2"}), ("hb_g_l", 41, {"O2.6.2"}),
    ("hb_g_l", 40, {"O2.6.2", "R1.6.3"}), ("hb_g_l", 39, {"R1.6.3"}),
    ("platelets_1e9_l", 101, set()), ("platelets_1e9_l", 100, {"Y2.6.1"}), ("platelets_1e9_l", 51, {"Y2.6.1"}),
    ("platelets_1e9_l", 50, {"Y2.6.1", "O2.6.1"}), ("platelets_1e9_l", 31, {"O2.6.1"}),
    ("platelets_1e9_l", 30, {"O2.6.1"}), ("platelets_1e9_l", 29, {"R1.6.2"}), ("platelets_1e9_l", 0, {"R1.6.2"}),
    ("pa_pressure_mmhg", 30, {"O2.1.6"}), ("pa_pressure_mmhg", 49.9, {"O2.1.6"}),
    ("pa_pressure_mmhg", 50, {"R1.1.1"}), ("pa_pressure_mmhg", 80, {"R1.1.1"}),
    ("uterine_surgeries", 0, set()), ("uterine_surgeries", 1, {"Y1.6"}), ("uterine_surgeries", 2, {"Y1.6", "O3.5"}),
    ("fetuses", 1, set()), ("fetuses", 2, {"Y3.1"}), ("fetuses", 3, {"O3.1"}), ("fetuses", 4, {"O3.1"}),
]


@pytest.mark.django_db
@pytest.mark.parametrize(("field", "value", "expected"), BOUNDARIES)
def test_derived_rows_and_boundaries(field, value, expected):
    assert codes({field: value}) == expected


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("field", "value", "label"),
    [("hb_g_l", 60, "orange"), ("hb_g_l", 40, "red"), ("platelets_1e9_l", 50, "orange"),
     ("pa_pressure_mmhg", 50, "red"), ("age_years", 40, "orange"), ("bmi", 28, "orange"), ("age_years", 25, "green")],
)
def test_shared_boundaries_take_the_higher_colour(field, value, label):
    assert colour({field: value}) == label


@pytest.mark.django_db
def test_bmi_from_height_and_weight_is_rounded_to_one_decimal():
    # 160 cm, 64.0 kg → 25.0 exactly: no row. 64.02 kg → 25.007 → 25.0: no row. 64.15 kg → 25.06 → 25.1: yellow.
    assert codes({"height_cm": 160, "weight_kg": 64}) == set()
    assert codes({"height_cm": 160, "weight_kg": 64.02}) == set()
    assert codes({"height_cm": 160, "weight_kg": 64.15}) == {"Y1.2"}
    assert codes({"height_cm": 160, "weight_kg": 71.7}) == {"Y1.2", "O1.2"}  # 28.0


@pytest.mark.django_db
def test_combinations():
    three_yellow = risk_evaluate_json({"findings": ["Y1.3", "Y1.4", "Y2.2"]})
    assert three_yellow["colour"] == "yellow" and len(three_yellow["matched"]) == 3
    result = risk_evaluate_json({"age_years": 36, "findings": ["P2", "O2.2.1"]})
    assert (result["colour"], result["purple"], result["label"]) == ("orange", True, "purple+orange")
    assert [row["code"] for row in result["matched"]] == ["O2.2.1", "Y1.1", "P2"]
    only_purple = risk_evaluate_json({"age_years": 25, "findings": ["P3"]})
    assert (only_purple["colour"], only_purple["label"]) == ("green", "purple")
    red = risk_evaluate_json({"findings": ["Y1.3", "O2.2.1", "R2.2"]})
    assert red["label"] == "red"
    green = risk_evaluate_json({"age_years": 28, "bmi": 22, "hb_g_l": 120, "platelets_1e9_l": 200,
                                "uterine_surgeries": 0, "fetuses": 1})
    assert green == {"colour": "green", "purple": False, "label": "green", "matched": [],
                     "not_assessed": ["pa_pressure_mmhg"], "ruleset": "national"}


@pytest.mark.django_db
def test_not_assessed_lists_missing_measurements():
    assert risk_evaluate_json({})["not_assessed"] == [
        "age_years", "bmi", "hb_g_l", "platelets_1e9_l", "pa_pressure_mmhg", "uterine_surgeries", "fetuses"]
    assert "bmi" not in risk_evaluate_json({"height_cm": 160, "weight_kg": 55})["not_assessed"]


@pytest.fixture
def fujian_rules(db):
    from organisations.models import Region

    province = Region.objects.create(code="350000", name="福建省", level=Region.Level.PROVINCE)
    national = RuleSet.objects.get(code="national")
    fujian = RuleSet.objects.create(code="fujian", version=1, name="福建省妊娠风险评估表", province=province,
                                    based_on=national, effective_from="2024-01-01", hbsag_carrier_purple=True)
    for rule in national.rules.exclude(code="Y1.4"):
        rule.pk = None
        rule.ruleset = fujian
        if rule.code == "O1.1":
            rule.colour = "red"
        rule.save()
    RiskRule.objects.create(ruleset=fujian, code="R2.4", colour="red", text="子宫破裂史", order=999)
    return fujian


def test_provincial_override_adds_removes_and_recolours(fujian_rules):
    assert colour({"ruleset": "fujian", "age_years": 41}) == "red"
    assert colour({"age_years": 41}) == "orange"
    assert colour({"ruleset": "fujian", "findings": ["R2.4"]}) == "red"
    with pytest.raises(RiskInputError) as exc:
        risk_evaluate_json({"findings": ["R2.4"]})
    assert "R2.4" in exc.value.errors["findings"][0]
    with pytest.raises(RiskInputError):
        risk_evaluate_json({"ruleset": "fujian", "findings": ["Y1.4"]})
    # HBsAg carriers are purple in this province, not nationally.
    assert colour({"ruleset": "fujian", "findings": ["Y2.3"]}) == "purple+yellow"
    assert colour({"findings": ["Y2.3"]}) == "yellow"


def test_as_of_chooses_the_version(fujian_rules):
    v2 = RuleSet.objects.create(code="fujian", version=2, name="福建省妊娠风险评估表（修订）",
                                province=fujian_rules.province, effective_from="2026-01-01")
    RiskRule.objects.create(ruleset=v2, code="O1.1", colour="orange", text="年龄≥40")
    assert colour({"ruleset": "fujian", "age_years": 41, "as_of": "2025-06-01"}) == "red"
    assert colour({"ruleset": "fujian", "age_years": 41, "as_of": "2026-06-01"}) == "orange"
    with pytest.raises(RiskInputError) as exc:
        risk_evaluate_json({"ruleset": "fujian", "as_of": "2020-01-01"})
    assert "as_of" in exc.value.errors


BAD_INPUT = [
    ([1, 2], "non_field_errors"),
    ({"agee_years": 30}, "agee_years"),
    ({"findings": ["X9"]}, "findings"),
    ({"findings": ["Y1.99"]}, "findings"),
    ({"findings": "P2"}, "findings"),
    ({"findings": [2]}, "findings"),
    ({"ruleset": "atlantis"}, "ruleset"),
    ({"as_of": "2026-13-01"}, "as_of"),
    ({"age_years": 9}, "age_years"), ({"age_years": 61}, "age_years"), ({"age_years": 30.5}, "age_years"),
    ({"age_years": "30"}, "age_years"), ({"age_years": True}, "age_years"),
    ({"bmi": 9.9}, "bmi"), ({"bmi": 60.1}, "bmi"), ({"bmi": "22"}, "bmi"),
    ({"bmi": 22, "height_cm": 160, "weight_kg": 56}, "bmi"),
    ({"height_cm": 160}, "weight_kg"),
    ({"hb_g_l": 19}, "hb_g_l"), ({"hb_g_l": 201}, "hb_g_l"),
    ({"platelets_1e9_l": -1}, "platelets_1e9_l"), ({"platelets_1e9_l": 1501}, "platelets_1e9_l"),
    ({"pa_pressure_mmhg": 29}, "pa_pressure_mmhg"),
    ({"uterine_surgeries": -1}, "uterine_surgeries"), ({"fetuses": -2}, "fetuses"), ({"fetuses": 0}, "fetuses"),
    ({"age_years": 30, "findings": ["Y1.1"]}, "findings"),
    ({"hb_g_l": 120, "findings": ["R1.6.3"]}, "findings"),
    ({"fetuses": 1, "findings": ["Y3.1"]}, "findings"),
]


@pytest.mark.django_db
@pytest.mark.parametrize(("data", "field"), BAD_INPUT)
def test_bad_input_names_the_field(data, field):
    with pytest.raises(RiskInputError) as exc:
        risk_evaluate_json(data)
    assert field in exc.value.errors


@pytest.mark.django_db
def test_derived_code_by_hand_without_measurement_and_agreeing_with_it():
    assert colour({"findings": ["R1.6.3"]}) == "red"
    assert codes({"age_years": 40, "findings": ["O1.1"]}) == {"Y1.1", "O1.1"}


@pytest.mark.django_db
def test_several_bad_fields_are_reported_together():
    with pytest.raises(RiskInputError) as exc:
        risk_evaluate_json({"age_years": 5, "hb_g_l": "low", "zzz": 1})
    assert set(exc.value.errors) == {"age_years", "hb_g_l", "zzz"}


@pytest.fixture(scope="module")
def cli_database():
    import os

    env = {**os.environ, "DEBUG": "1", "SQLITE_PATH": "/tmp/anmu-risk-cli.sqlite3"}  # noqa: S108
    env.pop("DATABASE_URL", None)
    from tests.servers import migrated_sqlite

    migrated_sqlite(env["SQLITE_PATH"], env)


@pytest.mark.django_db
def test_command_good_and_bad_input(capsys):
    import io

    stdin = sys.stdin
    try:
        sys.stdin = io.StringIO(json.dumps({"age_years": 36, "pa_pressure_mmhg": 55, "findings": ["P2"]}))
        call_command("evaluate_risk")
        out = json.loads(capsys.readouterr().out)
        assert out["label"] == "purple+red" and out["ruleset"] == "national"
        assert {"code": "R1.1.1", "colour": "red", "text": "各种原因引起的肺动脉高压(≥50mmHg)"} in out["matched"]
        for bad in ("{not json", json.dumps({"age_years": 70}), json.dumps(["list"])):
            sys.stdin = io.StringIO(bad)
            with pytest.raises(SystemExit) as exit_info:
                call_command("evaluate_risk")
            assert exit_info.value.code == 2
            errors = json.loads(capsys.readouterr().out)["errors"]
            assert errors and "Traceback" not in json.dumps(errors)
    finally:
        sys.stdin = stdin


def test_command_as_a_process_exits_2_without_traceback(cli_database):
    import os

    env = {**os.environ, "DEBUG": "1", "SQLITE_PATH": "/tmp/anmu-risk-cli.sqlite3"}  # noqa: S108
    env.pop("DATABASE_URL", None)
    bad = subprocess.run([sys.executable, "manage.py", "evaluate_risk"], input='{"hb_g_l": "x"', cwd=ROOT,
                         text=True, capture_output=True, env=env, timeout=60, check=False)
    assert bad.returncode == 2 and "Traceback" not in bad.stderr + bad.stdout
    assert "errors" in json.loads(bad.stdout)
    good = subprocess.run([sys.executable, "manage.py", "evaluate_risk"], input='{"age_years": 41}', cwd=ROOT,
                          text=True, capture_output=True, env=env, timeout=60, check=False)
    assert good.returncode == 0 and json.loads(good.stdout)["colour"] == "orange"


@pytest.mark.django_db
def test_api_takes_and_returns_the_same_json(client, personas):
    url = "/api/risk/evaluate/"
    assert client.post(url, {"age_years": 41}, content_type="application/json").status_code == 403
    client.force_login(personas.users.obstetrician_a)
    ok = client.post(url, {"age_years": 36, "pa_pressure_mmhg": 55, "findings": ["P2"]},
                     content_type="application/json")
    assert ok.status_code == 200
    body = ok.json()
    assert body["label"] == "purple+red" and body["ruleset"] == "national"
    assert set(body) == {"colour", "purple", "label", "matched", "not_assessed", "ruleset"}
    bad = client.post(url, {"age_years": 5, "findings": ["Q1"], "extra": 1}, content_type="application/json")
    assert bad.status_code == 400
    assert set(bad.json()) == {"age_years", "findings", "extra"}
    malformed = client.post(url, "{not json", content_type="application/json")
    assert malformed.status_code == 400
    listed = client.post(url, [1, 2], content_type="application/json")
    assert listed.status_code == 400 and "non_field_errors" in listed.json()


@pytest.mark.django_db
def test_admin_copies_the_national_table_for_a_province_and_keeps_history(client):
    from django.contrib.auth import get_user_model

    root = get_user_model().objects.create_superuser("root", password="root-password-1")
    client.force_login(root)
    national = RuleSet.objects.get(code="national")
    response = client.post("/admin/cases/ruleset/", {"action": "copy_as_new_version",
                                                     "_selected_action": [str(national.pk)]})
    assert response.status_code == 302
    draft = RuleSet.objects.get(code="province-draft-1")
    assert draft.based_on == national and draft.rules.count() == 116
    assert RuleSet.objects.get(code="national").rules.count() == 116
    rule = draft.rules.get(code="O1.1")
    rule.colour = "red"
    rule._change_reason = "本省高龄定为红色"
    rule.save()
    assert rule.history.latest().history_change_reason == "本省高龄定为红色"
    assert risk_evaluate_json({"ruleset": "province-draft-1", "age_years": 41})["colour"] == "red"
