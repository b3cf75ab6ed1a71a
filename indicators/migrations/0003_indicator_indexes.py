"""Two partial indexes for the population figures (benchmarks/README.md, "indicators").

``indicators_high_risk_assessment_idx``: every delivery counted asks "a valid assessment before delivery graded orange, red or purple?"
(indicators/measures.py ``_high_risk_before_delivery``). With the foreign key's index alone that is an index
scan plus a heap fetch of every assessment of the pregnancy (most of them green or yellow); this index holds
only the valid orange, red and purple ones (under 1 % of the rows), so the question is an index-only lookup in
a small index that stays in memory: 3.9 s → under 0.5 s of a province-year's 500,000 deliveries. Its predicate
is the flag's condition as the ORM writes it, so the planner can prove it.

``indicators_near_miss_idx``: the near misses of a period are the pregnancies whose ``near_miss_at`` falls in it;
without an index every figures call read all pregnancies (a parallel seq scan, ~120 ms with 500,000 of them,
for a county as for the province); with it, the ~0.3 % marked (~40 ms, most of it joining their women).

The same SQL works on SQLite (partial indexes, a boolean column as its truth value).

The index is on a table of the cases app but serves only the indicators, so it lives here, outside the cases
models' state (``makemigrations`` does not see it)."""

from django.db import migrations

HIGH_RISK = "indicators_high_risk_assessment_idx"
NEAR_MISS = "indicators_near_miss_idx"


class Migration(migrations.Migration):
    dependencies = [("indicators", "0002_seed_indicators"), ("cases", "0023_trigger_indicator")]
    operations = [
        migrations.RunSQL(
            f"CREATE INDEX IF NOT EXISTS {HIGH_RISK} ON cases_assessment (pregnancy_id, assessed_at) "
            "WHERE status = 'valid' AND (colour IN ('orange', 'red', 'purple') OR purple)",
            f"DROP INDEX IF EXISTS {HIGH_RISK}",
        ),
        migrations.RunSQL(
            f"CREATE INDEX IF NOT EXISTS {NEAR_MISS} ON cases_pregnancy (near_miss_at) WHERE near_miss_at IS NOT NULL",
            f"DROP INDEX IF EXISTS {NEAR_MISS}",
        ),
    ]
