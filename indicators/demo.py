"""Demo targets for the demo province (福建省, 350000): the dashboard's tiles and the interview rule on an
indicator need a target to judge against. Targets are a province's data; these two are marked as demo values
with where the number comes from."""

from __future__ import annotations

from decimal import Decimal

from django.db import transaction

from indicators.models import Indicator, IndicatorTarget
from organisations.models import Region

DEMO_TARGETS = [
    ("system_management_rate", IndicatorTarget.Comparison.AT_LEAST, Decimal("95"),
     "演示目标，参照浙江省母婴安全行动提升计划：孕产妇系统管理率≥95%"),
    ("mmr", IndicatorTarget.Comparison.AT_MOST, Decimal("12"),
     "演示目标，参照国家 2030 年目标：孕产妇死亡率≤12/10万"),
]


@transaction.atomic
def seed_targets() -> int:
    """Add the demo province's targets that are missing; never changes one an administrator set."""
    province = Region.objects.filter(code="350000").first()
    if province is None:
        return 0
    made = 0
    for code, comparison, value, source in DEMO_TARGETS:
        indicator = Indicator.objects.filter(code=code, province__isnull=True).first()
        if indicator is None or IndicatorTarget.objects.filter(province=province, indicator=indicator).exists():
            continue
        target = IndicatorTarget(province=province, indicator=indicator, comparison=comparison, value=value,
                                 source_note=source)
        target.full_clean()
        target._change_reason = "demo target"  # type: ignore[attr-defined]
        target.save()
        made += 1
    return made
