"""manage.py evaluate_risk: one JSON object on stdin → one JSON object on stdout.

Exit status 0 with the result, or 2 with {"errors": {field: [messages]}} for bad input. Never a
traceback. The same contract as POST /api/risk/evaluate/ (see README, "Risk engine interface").
"""

import json
import sys

from django.core.management.base import BaseCommand
from django.utils import translation

from cases.risk import RiskInputError, risk_evaluate_json


class Command(BaseCommand):
    help = "Grade pregnancy risk: read one JSON object on stdin, write the result as JSON on stdout."

    def handle(self, *args, **options) -> None:  # type: ignore[no-untyped-def]
        translation.activate("zh-hans")
        raw = sys.stdin.read()
        try:
            data = json.loads(raw)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            self._fail({"non_field_errors": [f"输入不是有效的 JSON：{exc.msg}（第 {exc.lineno} 行）"
                                             if isinstance(exc, json.JSONDecodeError) else "输入不是有效的 JSON。"]})
        try:
            result = risk_evaluate_json(data)
        except RiskInputError as exc:
            self._fail(exc.errors)
        self.stdout.write(json.dumps(result, ensure_ascii=False))

    def _fail(self, errors: dict) -> None:  # type: ignore[type-arg]
        self.stdout.write(json.dumps({"errors": errors}, ensure_ascii=False))
        sys.exit(2)
