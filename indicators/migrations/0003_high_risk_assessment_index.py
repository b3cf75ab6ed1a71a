"""A partial index for the high-risk flag of the population figures (benchmarks/README.md, "indicators").

Every delivery counted asks "a valid assessment before delivery graded orange, red or purple?"
(indicators/measures.py ``_high_risk_before_delivery``). With the foreign key's index alone that is an index
scan plus a heap fetch of every assessment of the pregnancy (most of them green or yellow); this index holds
only the valid orange, red and purple ones (under 1 % of the rows), so the question is an index-only lookup in
a small index that stays in memory: 3.9 s → under 0.5 s of a province-year's 500,000 deliveries. Its predicate
is the flag's condition as the ORM writes it, so the planner can prove it; the same SQL works on SQLite.

The index is on a table of the cases app but serves only the indicators, so it lives here, outside the cases
models' state (``makemigrations`` does not see it)."""

from django.db import migrations

INDEX = "indicators_high_risk_assessment_idx"


class Migration(migrations.Migration):
    dependencies = [("indicators", "0002_seed_indicators"), ("cases", "0023_trigger_indicator")]
    operations = [
        migrations.RunSQL(
            f"CREATE INDEX IF NOT EXISTS {INDEX} ON cases_assessment (pregnancy_id, assessed_at) "
            "WHERE status = 'valid' AND (colour IN ('orange', 'red', 'purple') OR purple)",
            f"DROP INDEX IF EXISTS {INDEX}",
        ),
    ]
