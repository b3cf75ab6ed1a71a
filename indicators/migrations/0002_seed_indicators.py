"""The national indicators of issue 15 (definitions: research/domain.md §8), as data. Targets are left to each
province (IndicatorTarget rows): the plans differ (e.g. Zhejiang: 系统管理率 ≥ 95 %, MMR ≤ 7 per 100,000)."""

from django.db import migrations

P, S = "population", "service"
MULTIPLIER = {"percent": 100, "per_1000": 1000, "per_100000": 100000, "minutes": 1, "count": 1}

# code, name_zh, name_en, unit, numerator, denominator, attribution, definition
INDICATORS = [
    ("live_births", "活产数", "Live births", "count", "live_births", "", P,
     "Live-born babies of the deliveries in the period, by the mother's county of residence and the date of "
     "delivery (twins count two; stillbirths do not count)."),
    ("deliveries", "产妇数", "Deliveries", "count", "deliveries", "", P,
     "Women delivered in the period (one per delivery, whatever the number of babies)."),
    ("maternal_deaths", "孕产妇死亡数", "Maternal deaths", "count", "maternal_deaths", "", P,
     "Maternal deaths by the date of death: death reports recorded and not excluded as not maternal."),
    ("mmr", "孕产妇死亡率", "Maternal mortality ratio", "per_100000", "maternal_deaths", "live_births", P,
     "Maternal deaths / live births × 100,000."),
    ("early_booking_rate", "早孕建册率", "Early booking rate", "percent", "early_booked_deliveries", "live_births", P,
     "Deliveries whose booking was before 13 weeks (booking date − (EDD − 280 days) < 91 days; EDD by "
     "ultrasound when given, else LMP + 280) / live births × 100."),
    ("antenatal_check_rate", "产前检查率", "Antenatal check rate", "percent", "antenatal_checked_deliveries",
     "live_births", P,
     "Deliveries with at least one antenatal visit dated on or before the delivery date / live births × 100."),
    ("antenatal_5_rate", "产前检查5次及以上比例", "Five or more antenatal checks", "percent", "antenatal_5_deliveries",
     "live_births", P,
     "Deliveries with at least five antenatal visits dated on or before the delivery date / live births × 100."),
    ("postpartum_visit_rate", "产后访视率", "Postpartum visit rate", "percent", "postpartum_visited_deliveries",
     "live_births", P,
     "Deliveries with a postpartum visit 0–28 days after the delivery date / live births × 100."),
    ("hospital_delivery_rate", "住院分娩率", "Hospital delivery rate", "percent", "institution_live_births",
     "live_births", P, "Live births of deliveries at an institution / live births × 100."),
    ("caesarean_rate", "剖宫产率", "Caesarean rate", "percent", "caesarean_live_births", "live_births", P,
     "Live births of caesarean deliveries / live births × 100."),
    ("system_management_rate", "孕产妇系统管理率", "Systematic management rate", "percent",
     "systematically_managed_deliveries", "live_births", P,
     "Deliveries with all of: booked before 13 weeks, at least five antenatal visits, delivered at an "
     "institution, a postpartum visit within 28 days / live births × 100."),
    ("high_risk_proportion", "高危产妇比例", "High-risk proportion", "percent", "high_risk_deliveries", "deliveries", P,
     "Deliveries whose highest valid colour before delivery was orange, red or purple / deliveries × 100."),
    ("case_management_rate", "高危孕产妇专案管理率", "High-risk case management rate", "percent",
     "case_managed_deliveries", "high_risk_deliveries", P,
     "Of the high-risk deliveries, those with a high-risk case opened before delivery × 100."),
    ("near_miss_ratio", "危重孕产妇发生率", "Maternal near-miss ratio", "per_1000", "near_misses", "live_births", P,
     "Near misses (by the date first marked) / live births × 1,000."),
    ("referral_answer_in_time_rate", "转诊及时应答率", "Referrals answered in time", "percent",
     "referrals_answered_in_time", "referrals_answer_owed", S,
     "Referrals answered by their deadline / referrals whose answer was owed × 100, by the rescue centre's "
     "region and the date of the request."),
    ("referral_answer_median_minutes", "转诊应答时间中位数", "Median minutes to answer a referral", "minutes",
     "referral_answer_minutes", "", S,
     "Median minutes from request to answer of the referrals answered, by the rescue centre's region and the "
     "date of the request."),
    ("referral_feedback_in_time_rate", "转诊及时反馈率", "Referral feedback in time", "percent",
     "referrals_feedback_in_time", "referrals_feedback_owed", S,
     "Referrals whose feedback was given by its deadline / referrals whose feedback was owed × 100, by the "
     "rescue centre's region and the date of the outcome."),
    ("ddi_in_target_rate", "紧急剖宫产DDI达标率", "Emergency caesareans with DDI within target", "percent",
     "emergency_caesareans_in_target", "emergency_caesareans", S,
     "Emergency caesareans with the decision-to-delivery interval within the province's target / emergency "
     "caesareans × 100, by the operating institution's region and the date of the decision."),
    ("death_report_24h_rate", "孕产妇死亡及时报告率", "Maternal deaths reported in time", "percent",
     "death_reports_in_time", "death_reports_owed", S,
     "Maternal deaths reported within the province's hours (24 by default) / maternal deaths whose report "
     "was owed × 100, by the reporting institution's region and the date of death."),
    ("death_reviewed_all_levels_rate", "孕产妇死亡评审完成率", "Maternal deaths reviewed at every level",
     "percent", "deaths_reviewed_all_levels", "reviewable_deaths", S,
     "Maternal deaths reviewed at every level the province requires / maternal deaths × 100, by the "
     "investigating county and the date of death."),
    ("death_avoidable_share", "可避免死亡比例", "Avoidable share of maternal deaths", "percent",
     "deaths_avoidable", "deaths_concluded", S,
     "Maternal deaths concluded avoidable or avoidable had conditions been created / maternal deaths with a "
     "review conclusion × 100."),
]


def seed(apps, schema_editor):
    Indicator = apps.get_model("indicators", "Indicator")
    for order, (code, name_zh, name_en, unit, numerator, denominator, attribution, definition) in enumerate(
            INDICATORS, start=1):
        Indicator.objects.update_or_create(code=code, defaults={
            "name_zh": name_zh, "name_en": name_en, "unit": unit, "numerator": numerator,
            "denominator": denominator, "multiplier": MULTIPLIER[unit], "attribution": attribution,
            "definition": definition, "order": order * 10, "active": True, "province": None})


class Migration(migrations.Migration):
    dependencies = [("indicators", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
