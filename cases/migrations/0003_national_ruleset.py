"""Ship the national 2017 colour table (risk-table.md) as data: every code, colour and text."""

import datetime as dt
import json
from pathlib import Path

from django.db import migrations

DATA = Path(__file__).resolve().parent.parent / "data" / "risk_national_2017.json"


def load(apps, schema_editor):
    RuleSet = apps.get_model("cases", "RuleSet")
    RiskRule = apps.get_model("cases", "RiskRule")
    data = json.loads(DATA.read_text(encoding="utf-8"))
    ruleset, created = RuleSet.objects.get_or_create(
        code=data["code"], version=data["version"],
        defaults={"name": data["name"], "effective_from": dt.date.fromisoformat(data["effective_from"])},
    )
    if not created:
        return
    RiskRule.objects.bulk_create([
        RiskRule(ruleset=ruleset, order=index, **{k: row[k] for k in (
            "code", "colour", "text", "section", "section_text", "group", "group_text", "source")})
        for index, row in enumerate(data["rows"])
    ])


class Migration(migrations.Migration):
    dependencies = [("cases", "0002_ruleset_riskrule")]
    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
