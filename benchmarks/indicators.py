"""Live indicators with a province-year of records (issue 15, "Benchmark").

Measures, on PostgreSQL with DEBUG off and a warm cache, the indicators engine (indicators/services.py over
indicators/measures.py) with a province-year of 500,000 deliveries, ~5,000,000 antenatal and postpartum visits
and the matching women and pregnancies:

* ``province_dashboard``  what the dashboard asks for a province and a year: ``figures`` for the province,
                          ``figures_by_area`` for its cities and ``figures_by_month`` (target ≤ 1 s together);
* ``county``              ``figures`` for one county and ``figures_by_institution`` (target ≤ 200 ms together);

each call timed N times (p50/p95/max ms) BESIDE one hand-written SQL statement that computes the same figures
over the same schema (the deliveries' summary columns; target ratio engine / hand-written ≤ 2), whose numbers
are checked against the engine's; and once a *reference* statement that computes the deliveries' flags from
the visits, assessments, cases and women by the issue's definitions, which checks the summary columns at full
scale (a mismatch of either is printed loudly, on stderr and in the JSON). Then the 指标 page's own
``dashboard_data`` (for a year it also asks for the year before, for the tiles' change), timed the same way.
Then the EXPLAIN (ANALYZE, FORMAT JSON) of every statement the engine runs, reduced to the indexes its plans
chose and the tables they scan sequentially.

    .venv/bin/python benchmarks/indicators.py            # 500,000 deliveries (first run seeds for ~10 min)
    .venv/bin/python benchmarks/indicators.py --quick    # 20,000 deliveries, 3 repetitions: a smoke run
    .venv/bin/python benchmarks/indicators.py --reseed   # drop the bench database and seed it again

Data. One database per size, ``<DATABASE_URL's db>_indicators_<deliveries>`` (``--database-url``, default
``postgres://postgres@127.0.0.1:5432/anmu_bench``), migrated, ``seed_demo``ed, grown to 81 counties in 9 cities
by benchmarks/worklists.py's ``seed_organisations`` (imported), then seeded once with ``INSERT … SELECT`` from
``generate_series`` in chunks (no history rows) and ``VACUUM ANALYZE``d; later runs reuse it. Deliveries are
spread over the year 2025 and the counties; per delivery: a woman resident in the county, a pregnancy (booking
before 13 weeks for ~78 %, exactly at 91 days for 0.5 %, later for the rest; an ultrasound EDD for 60 %),
0–12 antenatal visits (2 % none, 6 % one to four, the rest five to twelve), a postpartum visit within 28 days
for 85 % (a second for 40 % of those, a late one only, day 29+, for 4 %), a 42-day check for 78 %; 35 %
caesareans, 1 % not at an institution (home, en route, elsewhere), 8 % delivered in another county, 1.5 %
twins, 0.5 % stillbirths; a first risk assessment for every pregnancy (0.6 % orange, red or purple, with a
high-risk case opened before delivery for ~80 % of those, i.e. ~0.5 % of pregnancies; a voided orange one for
0.1 %), near misses for 0.3 %, referrals to the province's rescue centres for 0.6 %, emergency caesareans with
their DDI for 3 % of caesareans, and ~50 maternal death reports in assorted states (a few drafted or excluded).

A national year. China has ~9 M deliveries a year (~90 M visits): 18× this province. The engine's cost per
delivery counted is what grows (see ``national_year`` in the JSON and benchmarks/README.md "indicators"):
a county stays the same size, a province of 1 M deliveries (广东, 河南) doubles the figures measured here,
and a national figure would read 9 M deliveries and their visits per request: at the per-delivery cost
measured here that is seconds per dashboard call. A national (or large-province) dashboard needs, beside the
per-delivery summary columns it has (cases/summaries.py), partitioning of visits and deliveries by year,
and a pre-aggregated table per county × month (refreshed on write or every few minutes) from which the
province and national figures are sums; a county or an institution can stay live on the records.

Prints one JSON document on stdout; progress (and any mismatch) goes to stderr. See benchmarks/README.md.
"""

# ruff: noqa: S608  (the SQL here is built from constants of this file and region codes read from the database)

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import sys
import time
import urllib.parse
from collections import defaultdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks import worklists  # noqa: E402  (its database helpers and the 81-county organisation)

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/anmu_bench"
FULL_DELIVERIES = 500_000
QUICK_DELIVERIES = 20_000
CHUNK = 100_000
YEAR = 2025
PROVINCE = worklists.PROVINCE
COUNTY = "350121"  # 闽侯县, a demo county (1/81 of the deliveries)
TARGET_PROVINCE_MS = 1000.0
TARGET_COUNTY_MS = 200.0
TARGET_RATIO = 2.0
NATIONAL_DELIVERIES = 9_000_000


def log(message: str) -> None:
    print(f"[indicators {time.strftime('%H:%M:%S', time.gmtime())}Z] {message}", file=sys.stderr, flush=True)


# --- seeding ------------------------------------------------------------------------------------------------


def county_layout() -> list[tuple[Any, ...]]:
    """(c, county code, city code, big, mch, tcm, second, primary, big hospital of the next county)."""
    from organisations.models import Region

    rows = list(Region.objects.filter(level=Region.Level.COUNTY, province_id=PROVINCE).order_by("code")
                .values_list("code", "city_id"))
    slots = [worklists.county_slots(code) for code, _city in rows]
    return [(c, code, city, s["big"], s["mch"], s["tcm"], s["second"], s["primary"], slots[(c + 1) % len(rows)]["big"])
            for c, ((code, city), s) in enumerate(zip(rows, slots, strict=True))]


# Random draws per delivery (one column each), then the derived values: all in SQL, so a chunk is one pass.
ROWS_SQL = """
CREATE TEMP TABLE bench_rows AS
SELECT y.*,
       CASE WHEN r_us < 0.60 THEN lmp + 280 + floor(r_us2 * 15)::int - 7 END AS edd_us,
       (CASE WHEN r_us < 0.60 THEN lmp + floor(r_us2 * 15)::int - 7 ELSE lmp END) AS start_on
FROM (
  SELECT x.*, delivered_on - ga_days AS lmp,
         (delivered_on + make_interval(secs => r_time * 86399)) AT TIME ZONE 'Asia/Shanghai' AS delivered_at,
         CASE WHEN r_place < 0.007 THEN 'home' WHEN r_place < 0.009 THEN 'en_route' WHEN r_place < 0.01 THEN 'other'
              ELSE 'institution' END AS place,
         CASE WHEN r_place < 0.01 THEN NULL
              WHEN r_inst < 0.08 THEN next_big_id WHEN r_inst < 0.54 THEN big_id WHEN r_inst < 0.77 THEN mch_id
              WHEN r_inst < 0.885 THEN tcm_id ELSE second_id END AS institution_id,
         CASE WHEN r_place < 0.01 THEN 'spontaneous' WHEN r_mode < 0.35 THEN 'caesarean'
              WHEN r_mode < 0.38 THEN 'assisted_vaginal' ELSE 'spontaneous' END AS mode,
         CASE WHEN r_twin < 0.0005 THEN 1 WHEN r_twin < 0.015 THEN 2 WHEN r_still < 0.005 THEN 0 ELSE 1 END
           AS live_births,
         CASE WHEN r_twin < 0.0005 THEN 1 WHEN r_twin < 0.015 THEN 0 WHEN r_still < 0.005 THEN 1 ELSE 0 END
           AS stillbirths,
         CASE WHEN r_book < 0.78 THEN 42 + floor(r_book2 * 49)::int WHEN r_book < 0.785 THEN 91
              ELSE 92 + floor(r_book2 * 90)::int END AS booking_days,
         CASE WHEN r_anc < 0.02 THEN 0 WHEN r_anc < 0.08 THEN 1 + floor(r_anc2 * 4)::int
              ELSE 5 + floor(r_anc2 * 8)::int END AS antenatal_visits,
         CASE WHEN r_col < 0.003 THEN 'orange' WHEN r_col < 0.005 THEN 'red' WHEN r_col < 0.30 THEN 'yellow'
              ELSE 'green' END AS colour,
         (r_col >= 0.005 AND r_col < 0.006) AS purple
  FROM (
    SELECT s.n, bc.c, bc.region_id, bc.big_id, bc.mch_id, bc.tcm_id, bc.second_id, bc.primary_id, bc.next_big_id,
           gen_random_uuid() AS woman_id, gen_random_uuid() AS pregnancy_id, gen_random_uuid() AS delivery_id,
           %(year_start)s::date + floor(random() * %(days)s)::int AS delivered_on,
           CASE WHEN random() < 0.07 THEN 224 + floor(random() * 35)::int ELSE 259 + floor(random() * 35)::int END
             AS ga_days,
           random() AS r_time, random() AS r_place, random() AS r_inst, random() AS r_mode, random() AS r_twin,
           random() AS r_still, random() AS r_us, random() AS r_us2, random() AS r_book, random() AS r_book2,
           random() AS r_anc, random() AS r_anc2, random() AS r_pp, random() AS r_pp2, random() AS r_pp3,
           random() AS r_42, random() AS r_col, random() AS r_case, random() AS r_nm, random() AS r_ref,
           random() AS r_ref2, random() AS r_misc, random() AS r_age
    FROM generate_series(%(start)s, %(stop)s - 1) AS s(n)
    JOIN bench_county bc ON bc.c = s.n %% %(ncounties)s
  ) x
) y"""


def seed_records(target: int) -> dict[str, Any]:
    """Insert deliveries n = existing … target-1 with everything around them, in chunks (one transaction each:
    an interrupted seed resumes where it stopped)."""
    from django.db import connection, transaction

    from cases.models import (
        Assessment,
        DeathReport,
        Delivery,
        EmergencyCaesarean,
        HighRiskCase,
        NearMiss,
        Pregnancy,
        Referral,
        RuleSet,
        Visit,
        Woman,
    )
    from organisations.models import RescueCentre, User

    existing = Delivery.objects.count()
    if existing >= target:
        return {"added": 0}
    started = time.monotonic()
    counties = county_layout()
    user_id = User.objects.get(username="minhou_obstetrician").pk
    ruleset_id = RuleSet.objects.order_by("code", "-version").values_list("pk", flat=True).first()
    centres = list(RescueCentre.objects.order_by("pk").values_list("pk", flat=True))
    year_start = dt.date(YEAR, 1, 1)
    days = (dt.date(YEAR + 1, 1, 1) - year_start).days
    with connection.cursor() as cursor:
        cursor.execute("SET work_mem = '64MB'")
        cursor.execute("SET maintenance_work_mem = '256MB'")
        cursor.execute("DROP TABLE IF EXISTS bench_county, bench_centre")
        cursor.execute("CREATE TEMP TABLE bench_county (c int PRIMARY KEY, region_id varchar(6), city_id varchar(6), "
                       "big_id uuid, mch_id uuid, tcm_id uuid, second_id uuid, primary_id uuid, next_big_id uuid)")
        with cursor.copy("COPY bench_county FROM STDIN") as copy:
            for row in counties:
                copy.write_row(row)
        cursor.execute("CREATE TEMP TABLE bench_centre (i int PRIMARY KEY, centre_id uuid)")
        with cursor.copy("COPY bench_centre FROM STDIN") as copy:
            for i, pk in enumerate(centres):
                copy.write_row((i, pk))
        cursor.execute("ANALYZE bench_county")
        cursor.execute("SELECT setseed(%s)", [0.25 + existing / 1e9])
    params = {"year_start": year_start, "days": days, "ncounties": len(counties), "user": user_id}
    for start in range(existing, target, CHUNK):
        stop = min(target, start + CHUNK)
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("DROP TABLE IF EXISTS bench_rows")
            cursor.execute(ROWS_SQL, {**params, "start": start, "stop": stop})
            seed_chunk(cursor, params, ncentres=len(centres), ruleset_id=ruleset_id, models={
                "Woman": Woman, "Pregnancy": Pregnancy, "Delivery": Delivery, "Visit": Visit,
                "Assessment": Assessment, "HighRiskCase": HighRiskCase, "NearMiss": NearMiss, "Referral": Referral,
                "EmergencyCaesarean": EmergencyCaesarean, "DeathReport": DeathReport})
            cursor.execute("DROP TABLE bench_rows")
        log(f"records: {stop:,} / {target:,} deliveries ({time.monotonic() - started:.0f} s)")
    # The INSERTs send no signals: the deliveries' summary columns (cases/summaries.py) are computed here,
    # a month per transaction, as the migration that added them did for recorded deliveries.
    import io

    from django.core.management import call_command

    refresh_began = time.monotonic()
    call_command("delivery_summaries", "--refresh", stdout=io.StringIO())
    log(f"summary columns computed in {time.monotonic() - refresh_began:.0f} s")
    inserted = time.monotonic() - started
    with connection.cursor() as cursor:
        for model in (Woman, Pregnancy, Delivery, Visit, Assessment, HighRiskCase, NearMiss, Referral,
                      EmergencyCaesarean, DeathReport):
            cursor.execute(f'VACUUM (ANALYZE) "{model._meta.db_table}"')
        for table in ("organisations_institution", "organisations_region"):
            cursor.execute(f'VACUUM (ANALYZE) "{table}"')
    log(f"seeded {target - existing:,} deliveries in {inserted:.0f} s, VACUUM ANALYZE "
        f"{time.monotonic() - started - inserted:.0f} s")
    return {"added": target - existing, "seconds": round(time.monotonic() - started, 1),
            "insert_seconds": round(inserted, 1)}


def seed_chunk(cursor: Any, params: dict[str, Any], *, ncentres: int, ruleset_id: Any,
               models: dict[str, Any]) -> None:
    insert = worklists.insert_select
    m = models
    booked_at = "CASE WHEN r_misc < 0.30 THEN primary_id ELSE coalesce(institution_id, big_id) END"
    noon = "(({day}) + time '{time}') AT TIME ZONE 'Asia/Shanghai'"
    cursor.execute(insert(m["Woman"], {
        "id": "woman_id",
        "name": f"substr('{worklists.SURNAMES}', 1 + floor(r_misc * {len(worklists.SURNAMES)})::int, 1)"
                f" || substr('{worklists.GIVEN}', 1 + floor(r_age * {len(worklists.GIVEN)})::int, 1)",
        "id_type": "'resident_id'",
        # 18 characters, unique by n, never a real number (no province code starts with 8).
        "id_number": "'8' || lpad(n::text, 16, '0') || 'X'",
        "date_of_birth": "delivered_on - (18 * 365 + (r_age * 24 * 365)::int)",
        "phone": "'13' || lpad(floor(r_age * 1e9)::bigint::text, 9, '0')",
        "created_at": noon.format(day="start_on + booking_days", time="09:00"),
        "registered_by_id": booked_at, "residence_region_id": "region_id",
    }, "bench_rows"))
    cursor.execute(insert(m["Pregnancy"], {
        "id": "pregnancy_id", "woman_id": "woman_id", "lmp": "lmp", "edd_ultrasound": "edd_us",
        "gravidity": "1 + (r_age * 3)::int", "parity": "(r_age * 3)::int / 2",
        "booking_date": "start_on + booking_days", "booking_institution_id": booked_at,
        "status": "CASE WHEN delivered_on < %(year_start)s::date + 300 THEN 'closed' ELSE 'delivered' END",
        "colour": "CASE WHEN purple THEN 'green' ELSE colour END", "purple": "purple",
        "colour_at": noon.format(day="start_on + booking_days", time="10:00"),
        "near_miss_at": "CASE WHEN r_nm < 0.003 THEN delivered_at - interval '2 hours' END",
    }, "bench_rows"), params)
    cursor.execute(insert(m["Delivery"], {
        "id": "delivery_id", "pregnancy_id": "pregnancy_id", "delivered_at": "delivered_at",
        "delivered_on": "delivered_on", "place": "place", "institution_id": "institution_id", "mode": "mode",
        "caesarean_indication": "CASE WHEN mode = 'caesarean' THEN '瘢痕子宫' ELSE '' END",
        "gestational_weeks": "(delivered_on - start_on) / 7", "gestational_days": "(delivered_on - start_on) % 7",
        "live_births": "live_births", "stillbirths": "stillbirths",
        "recorded_at": "delivered_at + interval '1 hour'", "updated_at": "delivered_at + interval '1 hour'",
    }, "bench_rows"))
    visit = {"id": "gen_random_uuid()", "pregnancy_id": "pregnancy_id", "recorded_at": "now()", "updated_at": "now()"}
    # Antenatal visits spread from the booking to the delivery date (the last one before it).
    cursor.execute(insert(m["Visit"], {
        **visit, "kind": "'antenatal'", "institution_id": booked_at,
        "date": "start_on + booking_days + ((delivered_on - start_on - booking_days) * (i - 1) / antenatal_visits)",
    }, "bench_rows CROSS JOIN LATERAL generate_series(1, antenatal_visits) AS i"))
    cursor.execute(insert(m["Visit"], {
        **visit, "kind": "'postpartum'", "institution_id": "primary_id",
        "date": "delivered_on + CASE WHEN r_pp < 0.85 THEN floor(r_pp2 * 29)::int ELSE 29 + floor(r_pp2 * 10)::int END",
    }, "bench_rows WHERE r_pp < 0.89"))
    cursor.execute(insert(m["Visit"], {
        **visit, "kind": "'postpartum'", "institution_id": "primary_id",
        "date": "delivered_on + 7 + floor(r_pp3 * 22)::int",
    }, "bench_rows WHERE r_pp < 0.34"))
    cursor.execute(insert(m["Visit"], {
        **visit, "kind": "'postpartum_42d'", "institution_id": "coalesce(institution_id, primary_id)",
        "date": "delivered_on + 42 + floor(r_42 * 7)::int",
    }, "bench_rows WHERE r_42 < 0.78"))
    # The first assessment at booking (every pregnancy), a voided orange one for 0.1 %.
    assessment = {"id": "gen_random_uuid()", "pregnancy_id": "pregnancy_id", "stage": "'first'",
                  "assessor_id": "%(user)s", "institution_id": booked_at, "ruleset_id": sql(str(ruleset_id)) + "::uuid",
                  "assessed_at": noon.format(day="start_on + booking_days", time="10:00")}
    cursor.execute(insert(m["Assessment"], {
        **assessment, "computed_colour": "CASE WHEN purple THEN 'green' ELSE colour END",
        "colour": "CASE WHEN purple THEN 'green' ELSE colour END", "computed_purple": "purple", "purple": "purple",
    }, "bench_rows"), params)
    cursor.execute(insert(m["Assessment"], {
        **assessment, "stage": "'dynamic'", "computed_colour": "'orange'", "colour": "'orange'",
        "status": "'voided'", "voided_at": "delivered_at - interval '30 days'", "voided_by_id": "%(user)s",
        "void_reason": "'录入错误'",
    }, "bench_rows WHERE r_col >= 0.995"), params)
    high_risk = "r_col < 0.006"
    opened = noon.format(day="start_on + booking_days + 1", time="11:00")
    cursor.execute(insert(m["HighRiskCase"], {
        "id": "gen_random_uuid()", "pregnancy_id": "pregnancy_id", "institution_id": "coalesce(institution_id, big_id)",
        "responsible_doctor_id": "%(user)s", "opened_by_id": "%(user)s", "region_id": "region_id",
        "colour": "CASE WHEN purple THEN 'green' ELSE colour END", "purple": "purple", "state": "'closed'",
        # ~80 % opened before delivery (they count), the others only after it.
        "opened_at": f"CASE WHEN r_case < 0.80 THEN {opened} ELSE delivered_at + interval '1 day' END",
        "report_due_at": f"{opened} + interval '24 hours'", "reported_at": f"{opened} + interval '2 hours'",
        "reported_to_id": "mch_id",
        "closed_at": "delivered_at + interval '45 days'", "close_kind": "'recovered'",
        "close_reason": "'产后42天检查已恢复'",
    }, f"bench_rows WHERE {high_risk} AND r_case < 0.85"), params)
    cursor.execute(insert(m["NearMiss"], {
        "id": "gen_random_uuid()", "pregnancy_id": "pregnancy_id", "institution_id": "coalesce(institution_id, big_id)",
        "criteria": sql(["severe_pph"]), "recorded_by_id": "%(user)s",
        "recorded_at": "delivered_at - interval '2 hours'",
    }, "bench_rows WHERE r_nm < 0.003"), params)
    requested = "delivered_at - interval '6 hours'"
    answered = f"{requested} + make_interval(secs => r_ref2 * 25 * 60)"
    outcome = "delivered_at + interval '3 days'"
    cursor.execute(insert(m["Referral"], {
        "id": "gen_random_uuid()", "pregnancy_id": "pregnancy_id", "from_institution_id": booked_at,
        "requested_by_id": "%(user)s", "requested_at": requested,
        "to_centre_id": f"(SELECT centre_id FROM bench_centre WHERE i = c %% {ncentres})",
        "urgency": "'emergency'", "reason": "'重度子痫前期'", "diagnosis": "'重度子痫前期'",
        "state": "'closed'", "response_due_at": f"{requested} + interval '15 minutes'",
        "answered_by_id": "%(user)s", "answered_at": answered, "receiving_team": "'产科急救组'",
        "transport": "'ambulance'", "departed_at": f"{answered} + interval '10 minutes'",
        "arrived_at": f"{answered} + interval '60 minutes'", "treatment_started_at": f"{answered} + interval '70 minutes'",
        "outcome": "'discharged'", "outcome_at": outcome, "feedback_due_at": f"{outcome} + interval '72 hours'",
        "feedback_at": f"{outcome} + make_interval(secs => r_misc * 96 * 3600)", "feedback_summary": "'已出院'",
        "closed_at": f"{outcome} + interval '4 days'",
    }, "bench_rows WHERE r_ref < 0.006"), params)
    cursor.execute(insert(m["EmergencyCaesarean"], {
        "id": "gen_random_uuid()", "pregnancy_id": "pregnancy_id", "institution_id": "institution_id",
        "decision_at": "delivered_at - make_interval(mins => 10 + floor(r_misc * 40)::int)",
        "delivery_at": "delivered_at", "ddi_minutes": "10 + floor(r_misc * 40)::int", "target_minutes": "30",
        "over_target": "10 + floor(r_misc * 40)::int > 30", "recorded_by_id": "%(user)s",
        "recorded_at": "delivered_at + interval '1 hour'",
    }, "bench_rows WHERE mode = 'caesarean' AND r_ref >= 0.97"), params)
    # ~50 maternal death reports for 500,000 deliveries (one in 10,000), in assorted states.
    died = "delivered_at + make_interval(days => 1 + floor(r_misc * 40)::int)"
    state = ("CASE WHEN r_age < 0.06 THEN 'drafted' WHEN r_age < 0.16 THEN 'excluded' WHEN r_age < 0.40 THEN 'reported' "
             "WHEN r_age < 0.60 THEN 'verified' WHEN r_age < 0.80 THEN 'reviewed' ELSE 'closed' END")
    cursor.execute(insert(m["DeathReport"], {
        "id": "gen_random_uuid()", "woman_id": "woman_id", "pregnancy_id": "pregnancy_id", "origin": "'pregnancy'",
        "reporting_institution_id": "coalesce(institution_id, big_id)", "region_id": "region_id",
        "created_by_id": "%(user)s", "created_at": died, "state": state,
        "review_number": f"'B' || region_id || '-{YEAR}-' || lpad(n::text, 7, '0')",
        "died_at": died, "delivered_at": "delivered_at", "age_years": "18 + floor(r_age * 24)::int",
        "report_due_at": f"{died} + interval '24 hours'",
        "reported_at": f"CASE WHEN r_age >= 0.06 THEN {died} + make_interval(secs => r_misc * 40 * 3600) END",
        "final_avoidability": "CASE WHEN r_age >= 0.60 THEN "
                              "(ARRAY['avoidable', 'conditionally', 'unavoidable'])[1 + floor(r_misc * 3)::int] "
                              "ELSE '' END",
    }, "bench_rows WHERE n %% 10000 = 7"), params)


def sql(value: Any) -> str:
    return worklists.sql_literal(value)


def data_summary() -> dict[str, Any]:
    from django.db import connection

    tables = ["cases_woman", "cases_pregnancy", "cases_delivery", "cases_visit", "cases_assessment",
              "cases_highriskcase", "cases_nearmiss", "cases_referral", "cases_emergencycaesarean",
              "cases_deathreport"]
    out: dict[str, Any] = {}
    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f'SELECT count(*), pg_total_relation_size(%s) FROM "{table}"', [table])  # noqa: S608
            count, size = cursor.fetchone()
            out[table.removeprefix("cases_")] = {"rows": count, "mb": round(size / 2**20, 1)}
        cursor.execute("SELECT count(*) FROM organisations_region WHERE level = 'county'")
        out["counties"] = cursor.fetchone()[0]
        cursor.execute("SELECT count(*) FROM organisations_institution")
        out["institutions"] = cursor.fetchone()[0]
    return out



# --- the hand-written SQL -----------------------------------------------------------------------------------
#
# One statement per scenario, written from the definitions (not from the engine's code): every source's
# rows for the period are read once into a CTE with generic columns (the attributed region and its city and
# province, the attributed institution, the China-time day), the visits are aggregated per delivery in one
# LATERAL lookup (antenatal count and postpartum flag together; a grouped hash join of all visits measured
# slower, and much slower for a county), and each requested set of figures (the total, by sub-area, by month, by institution) is a branch
# of a UNION ALL over those rows, aggregated by (set, key). The sources are then joined on (set, key).

def region_filter(level: str, code: str, prefix: str) -> str:
    column = {"province": "reg_province", "city": "reg_city", "county": "reg_code"}[level]
    return f"{prefix}{column} = {sql(code)}"


def located_institutions(level: str, code: str) -> str:
    column = {"province": "ir.province_id", "city": "ir.city_id", "county": "ir.code"}[level]
    return ("(SELECT i.id FROM organisations_institution i JOIN organisations_region ir ON ir.code = i.region_id "
            f"WHERE {column} = {sql(code)})")


def set_branches(sets: list[str], level: str, code: str) -> list[tuple[str, str, str]]:
    """(set name, key expression, row filter) over the generic columns."""
    out = []
    for name in sets:
        if name == "total":
            out.append((name, "''", region_filter(level, code, "")))
        elif name == "area":
            key = "coalesce(reg_city, reg_province)" if level == "province" else "reg_code"
            out.append((name, key, region_filter(level, code, "")))
        elif name == "month":
            out.append((name, "to_char(day, 'YYYY-MM')", region_filter(level, code, "")))
        elif name == "institution":
            out.append((name, "inst_id::text", f"inst_id IN {located_institutions(level, code)}"))
    return out


REGION_COLUMNS = "rg.code AS reg_code, rg.city_id AS reg_city, rg.province_id AS reg_province"
CHINA_DAY = "({} AT TIME ZONE 'Asia/Shanghai')::date"

# source → (FROM/WHERE producing the generic columns and the flags; the datetime or date column of the period;
# aggregates (measure name, SQL))
HAND_SOURCES: dict[str, tuple[str, str, list[tuple[str, str]]]] = {
    "near_misses": (
        f"""SELECT {REGION_COLUMNS}, {CHINA_DAY.format("p.near_miss_at")} AS day,
                   (SELECT n.institution_id FROM cases_nearmiss n WHERE n.pregnancy_id = p.id AND n.criteria <> '[]'
                    ORDER BY n.recorded_at, n.id LIMIT 1) AS inst_id
            FROM cases_pregnancy p JOIN cases_woman w ON w.id = p.woman_id
                 JOIN organisations_region rg ON rg.code = w.residence_region_id""",
        "p.near_miss_at", [("near_misses", "count(*)")]),
    "maternal_deaths": (
        f"""SELECT {REGION_COLUMNS}, {CHINA_DAY.format("r.died_at")} AS day, r.reporting_institution_id AS inst_id
            FROM cases_deathreport r JOIN cases_woman w ON w.id = r.woman_id
                 JOIN organisations_region rg ON rg.code = w.residence_region_id
            WHERE r.state NOT IN ('excluded', 'drafted')""",
        "r.died_at", [("maternal_deaths", "count(*)")]),
    "referral_answers": (
        f"""SELECT {REGION_COLUMNS}, {CHINA_DAY.format("f.requested_at")} AS day, c.institution_id AS inst_id,
                   (f.answered_at IS NOT NULL OR (f.response_due_at < %(now)s AND NOT (f.state = 'cancelled'
                     AND f.closed_at IS NOT NULL AND f.closed_at <= f.response_due_at))) AS answer_owed,
                   coalesce(f.answered_at <= f.response_due_at, false) AS answered_in_time,
                   extract(epoch FROM f.answered_at - f.requested_at) / 60 AS answer_minutes
            FROM cases_referral f JOIN organisations_rescuecentre c ON c.id = f.to_centre_id
                 JOIN organisations_institution ci ON ci.id = c.institution_id
                 JOIN organisations_region rg ON rg.code = ci.region_id""",
        "f.requested_at", [("referrals_answer_owed", "count(*) FILTER (WHERE answer_owed)"),
                           ("referrals_answered_in_time", "count(*) FILTER (WHERE answered_in_time)"),
                           ("referral_answer_minutes.count", "count(answer_minutes)"),
                           ("referral_answer_minutes.value",
                            "percentile_cont(0.5) WITHIN GROUP (ORDER BY answer_minutes)")]),
    "referral_feedback": (
        f"""SELECT {REGION_COLUMNS}, {CHINA_DAY.format("f.outcome_at")} AS day, c.institution_id AS inst_id,
                   (f.feedback_due_at IS NOT NULL AND (f.feedback_at IS NOT NULL OR f.feedback_due_at < %(now)s))
                     AS feedback_owed,
                   coalesce(f.feedback_at <= f.feedback_due_at, false) AS feedback_in_time
            FROM cases_referral f JOIN organisations_rescuecentre c ON c.id = f.to_centre_id
                 JOIN organisations_institution ci ON ci.id = c.institution_id
                 JOIN organisations_region rg ON rg.code = ci.region_id""",
        "f.outcome_at", [("referrals_feedback_owed", "count(*) FILTER (WHERE feedback_owed)"),
                         ("referrals_feedback_in_time", "count(*) FILTER (WHERE feedback_in_time)")]),
    "emergency_caesareans": (
        f"""SELECT {REGION_COLUMNS}, {CHINA_DAY.format("e.decision_at")} AS day, e.institution_id AS inst_id,
                   e.ddi_minutes <= e.target_minutes AS in_target
            FROM cases_emergencycaesarean e JOIN organisations_institution ei ON ei.id = e.institution_id
                 JOIN organisations_region rg ON rg.code = ei.region_id""",
        "e.decision_at", [("emergency_caesareans", "count(*)"),
                          ("emergency_caesareans_in_target", "count(*) FILTER (WHERE in_target)")]),
    "death_reporting": (
        f"""SELECT {REGION_COLUMNS}, {CHINA_DAY.format("r.died_at")} AS day, r.reporting_institution_id AS inst_id,
                   (r.report_due_at IS NOT NULL AND (r.reported_at IS NOT NULL OR r.report_due_at < %(now)s))
                     AS report_owed,
                   coalesce(r.reported_at <= r.report_due_at, false) AS reported_in_time
            FROM cases_deathreport r JOIN organisations_institution ri ON ri.id = r.reporting_institution_id
                 JOIN organisations_region rg ON rg.code = ri.region_id
            WHERE r.state <> 'excluded'""",
        "r.died_at", [("death_reports_owed", "count(*) FILTER (WHERE report_owed)"),
                      ("death_reports_in_time", "count(*) FILTER (WHERE reported_in_time)")]),
    "death_review": (
        f"""SELECT {REGION_COLUMNS}, {CHINA_DAY.format("r.died_at")} AS day, r.reporting_institution_id AS inst_id,
                   r.state IN ('reviewed', 'closed') AS reviewed, r.final_avoidability <> '' AS concluded,
                   r.final_avoidability IN ('avoidable', 'conditionally') AS avoidable
            FROM cases_deathreport r JOIN organisations_region rg ON rg.code = r.region_id
            WHERE r.state NOT IN ('excluded', 'drafted')""",
        "r.died_at", [("reviewable_deaths", "count(*)"), ("deaths_reviewed_all_levels", "count(*) FILTER (WHERE reviewed)"),
                      ("deaths_concluded", "count(*) FILTER (WHERE concluded)"),
                      ("deaths_avoidable", "count(*) FILTER (WHERE avoidable)")]),
}

DELIVERY_AGGREGATES = [
    ("deliveries", "count(*)"), ("live_births", "sum(live)"),
    ("early_booked_deliveries", "count(*) FILTER (WHERE early)"),
    ("antenatal_checked_deliveries", "count(*) FILTER (WHERE antenatal >= 1)"),
    ("antenatal_5_deliveries", "count(*) FILTER (WHERE antenatal >= 5)"),
    ("postpartum_visited_deliveries", "count(*) FILTER (WHERE postpartum)"),
    ("institution_live_births", "coalesce(sum(live) FILTER (WHERE at_institution), 0)"),
    ("caesarean_live_births", "coalesce(sum(live) FILTER (WHERE caesarean), 0)"),
    ("systematically_managed_deliveries",
     "count(*) FILTER (WHERE early AND antenatal >= 5 AND at_institution AND postpartum)"),
    ("high_risk_deliveries", "count(*) FILTER (WHERE high_risk)"),
    ("case_managed_deliveries", "count(*) FILTER (WHERE high_risk AND case_opened)"),
]


def hand_statement(*, level: str, code: str, sets: list[str], reference: bool = False) -> str:
    """The scenario's figures in one statement. The deliveries' flags are read from their summary columns
    (the schema as it is: what a DBA would write), or, with ``reference``, computed from the visits,
    assessments, cases and women by the issue's definitions, which checks the columns at full scale."""
    branches = set_branches(sets, level, code)
    scope = " OR ".join(f"({where})" for _name, _key, where in branches)

    def grouped(source: str, rows: str, aggregates: list[tuple[str, str]]) -> str:
        union = " UNION ALL ".join(f"SELECT '{name}' AS set, {key} AS key, * FROM {rows} WHERE {where}"
                                   for name, key, where in branches)
        columns = ", ".join(f'{expression} AS "{measure}"' for measure, expression in aggregates)
        return f"{source} AS (SELECT set, key, {columns} FROM ({union}) u GROUP BY set, key)"

    if not reference:
        deliveries = f"""SELECT dl.id, dl.live_births AS live, dl.place = 'institution' AS at_institution,
                   dl.mode = 'caesarean' AS caesarean, dl.booked_early AS early,
                   dl.antenatal_visits_before AS antenatal, dl.postpartum_visit_within_28d AS postpartum,
                   dl.high_risk_before AS high_risk, dl.case_opened_before AS case_opened,
                   {REGION_COLUMNS}, dl.institution_id AS inst_id, dl.delivered_on AS day
            FROM cases_delivery dl JOIN organisations_region rg ON rg.code = dl.residence_region_id
            WHERE dl.delivered_on BETWEEN %(date_from)s AND %(date_to)s"""
        # As in the reference: one branch per distinct row filter, each with its own index, then UNION.
        filters = list(dict.fromkeys(where for _name, _key, where in branches))
        base = " UNION ".join(f"SELECT s0.* FROM ({deliveries}) s0 WHERE {where}" for where in filters)
        ctes = [f"del_rows AS MATERIALIZED ({base})", grouped("deliveries", "del_rows", DELIVERY_AGGREGATES)]
    else:
        ctes = reference_delivery_ctes(branches, grouped)
    for source, (rows, when, aggregates) in HAND_SOURCES.items():
        ctes.append(f"{source}_rows AS MATERIALIZED (SELECT s0.* FROM ({period_filtered(rows, when)}) s0 "
                    f"WHERE {scope})")
        ctes.append(grouped(source, f"{source}_rows", aggregates))
    sources = ["deliveries", *HAND_SOURCES]
    columns = [f'{source}."{measure}"' for source, aggregates in
               [("deliveries", DELIVERY_AGGREGATES), *((k, v[2]) for k, v in HAND_SOURCES.items())]
               for measure, _expression in aggregates]
    joins = " ".join(f"FULL JOIN {source} USING (set, key)" for source in sources[1:])
    return f"WITH {', '.join(ctes)} SELECT set, key, {', '.join(columns)} FROM deliveries {joins}"  # noqa: S608


def reference_delivery_ctes(branches: list[tuple[str, str, str]], grouped: Any) -> list[str]:
    """The deliveries' rows with their flags computed from the source tables (visits, assessments, cases,
    the woman's residence) by the issue's definitions: one LATERAL lookup per delivery."""
    deliveries = f"""SELECT dl.id, dl.pregnancy_id, dl.delivered_on, dl.delivered_at, dl.live_births AS live,
               dl.place = 'institution' AS at_institution, dl.mode = 'caesarean' AS caesarean,
               p.booking_date < coalesce(p.edd_ultrasound - 189, p.lmp + 91) AS early,
               {REGION_COLUMNS}, dl.institution_id AS inst_id, dl.delivered_on AS day
        FROM cases_delivery dl JOIN cases_pregnancy p ON p.id = dl.pregnancy_id
             JOIN cases_woman w ON w.id = p.woman_id JOIN organisations_region rg ON rg.code = w.residence_region_id
        WHERE dl.delivered_on BETWEEN %(date_from)s AND %(date_to)s"""
    # One branch per distinct row filter (a county's residents, the deliveries at its institutions), each
    # able to use its own index, then UNION: every delivery once.
    filters = list(dict.fromkeys(where for _name, _key, where in branches))
    base = " UNION ".join(f"SELECT s0.* FROM ({deliveries}) s0 WHERE {where}" for where in filters)
    return [f"""del_base AS MATERIALIZED ({base})""", """del_rows AS (
        SELECT b.*, dv.antenatal, dv.postpartum, hr.hit IS NOT NULL AS high_risk, hc.hit IS NOT NULL AS case_opened
        FROM del_base b
        CROSS JOIN LATERAL (
            SELECT count(*) FILTER (WHERE v.kind = 'antenatal' AND v.date <= b.delivered_on) AS antenatal,
                   coalesce(bool_or(v.kind = 'postpartum' AND v.date BETWEEN b.delivered_on AND b.delivered_on + 28),
                            false) AS postpartum
            FROM cases_visit v WHERE v.pregnancy_id = b.pregnancy_id AND v.kind IN ('antenatal', 'postpartum')) dv
        LEFT JOIN LATERAL (
            SELECT 1 AS hit FROM cases_assessment a WHERE a.pregnancy_id = b.pregnancy_id AND a.status = 'valid'
            AND (a.colour IN ('orange', 'red', 'purple') OR a.purple) AND a.assessed_at < b.delivered_at LIMIT 1) hr ON true
        LEFT JOIN LATERAL (
            SELECT 1 AS hit FROM cases_highriskcase h WHERE h.pregnancy_id = b.pregnancy_id
            AND h.opened_at < b.delivered_at LIMIT 1) hc ON true
    )""", grouped("deliveries", "del_rows", DELIVERY_AGGREGATES)]


def period_filtered(rows: str, when: str) -> str:
    """The source's rows whose datetime lies in the period (China-time days from … to inclusive)."""
    joiner = " AND " if "WHERE" in rows.split("FROM")[-1] else " WHERE "
    return f"{rows}{joiner}{when} >= %(start)s AND {when} < %(end)s"


def hand_measures(statement: str, *, period: Any, now: dt.datetime) -> dict[tuple[str, str], dict[str, Any]]:
    from django.db import connection, transaction

    from indicators.measures import aggregate_work_mem

    params = {"date_from": period.date_from, "date_to": period.date_to, "start": period.start, "end": period.end,
              "now": now}
    # In the same conditions as the engine's statements: no JIT, the same work_mem, one transaction.
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL jit = off")
        cursor.execute("SELECT set_config('work_mem', %s, true)", [aggregate_work_mem()])
        cursor.execute(statement, params)
        names = [c.name for c in cursor.description]
        out = {}
        for row in cursor.fetchall():
            values = dict(zip(names, row, strict=True))
            out[(values.pop("set"), values.pop("key"))] = values
    return out



# --- comparing and timing -----------------------------------------------------------------------------------

Figure = tuple[Any, Any, Any, Any]  # numerator, denominator, count (medians), value


def engine_figures(data: dict[str, Any], set_name: str) -> dict[tuple[str, str], dict[str, Figure]]:
    def figures_of(indicators: dict[str, Any]) -> dict[str, Figure]:
        return {code: (f["numerator"], f["denominator"], f.get("count"), f["value"]) for code, f in indicators.items()}

    if "groups" not in data:
        return {(set_name, ""): figures_of(data["indicators"])}
    return {(set_name, str(group["key"])): figures_of(group["indicators"]) for group in data["groups"]}


def hand_figures(measured: dict[tuple[str, str], dict[str, Any]], indicators: list[Any]
                 ) -> dict[tuple[str, str], dict[str, Figure]]:
    from decimal import ROUND_HALF_UP, Decimal

    def rounded(value: Any) -> float:
        return float(Decimal(str(value)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))

    out = {}
    for key, values in measured.items():
        figures: dict[str, Figure] = {}
        for indicator in indicators:
            if indicator.unit == "minutes":
                count = int(values.get(f"{indicator.numerator}.count") or 0)
                median = values.get(f"{indicator.numerator}.value")
                figures[indicator.code] = (None, None, count, None if median is None else rounded(median))
                continue
            numerator = int(values.get(indicator.numerator) or 0)
            if not indicator.denominator:
                figures[indicator.code] = (numerator, None, None, float(numerator))
                continue
            denominator = int(values.get(indicator.denominator) or 0)
            value = None if not denominator else rounded(Decimal(numerator) * indicator.multiplier / denominator)
            figures[indicator.code] = (numerator, denominator, None, value)
        out[key] = figures
    return out


def compare(engine: dict[tuple[str, str], dict[str, Figure]], hand: dict[tuple[str, str], dict[str, Figure]],
            indicators: list[Any]) -> list[dict[str, Any]]:
    """Every (set, key, indicator) whose engine figure differs from the hand-written one (a group missing on
    one side counts as all zeros there)."""
    def empty(indicator: Any) -> Figure:
        if indicator.unit == "minutes":
            return (None, None, 0, None)
        return (0, None, None, 0.0) if not indicator.denominator else (0, 0, None, None)

    mismatches = []
    for key in sorted(set(engine) | set(hand)):
        for indicator in indicators:
            e = engine.get(key, {}).get(indicator.code, empty(indicator))
            h = hand.get(key, {}).get(indicator.code, empty(indicator))
            same_values = (e[3] is None and h[3] is None) or (
                e[3] is not None and h[3] is not None and abs(e[3] - h[3]) <= 0.011)
            if e[:3] != h[:3] or not same_values:
                mismatches.append({"set": key[0], "key": key[1], "indicator": indicator.code,
                                   "engine": list(e), "hand_written": list(h)})
    return mismatches


def stats(samples: list[float]) -> dict[str, Any]:
    ordered = sorted(samples)
    return {"n": len(ordered), "p50_ms": round(worklists.percentile(ordered, 50) or 0, 1),
            "p95_ms": round(worklists.percentile(ordered, 95) or 0, 1), "max_ms": round(ordered[-1], 1)}


class Capture:
    """The statements the engine sends (for EXPLAIN), and the time spent in them."""

    def __init__(self) -> None:
        self.statements: list[tuple[str, Any]] = []
        self.sql_s = 0.0

    def __call__(self, execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        self.statements.append((sql, params))
        began = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.sql_s += time.perf_counter() - began


def plan_summary(plan: dict[str, Any]) -> dict[str, Any]:
    indexes: dict[str, int] = defaultdict(int)
    seq: dict[str, int] = defaultdict(int)
    nodes: dict[str, int] = defaultdict(int)

    def walk(node: dict[str, Any]) -> None:
        kind = node.get("Node Type", "")
        nodes[kind] += 1
        if kind in ("Index Scan", "Index Only Scan", "Bitmap Index Scan"):
            indexes[f"{node['Index Name']} ({kind})"] += int(node.get("Actual Loops", 1))
        elif kind == "Seq Scan":
            seq[node["Relation Name"]] += int(node.get("Actual Loops", 1))
        for child in node.get("Plans", []):
            walk(child)

    walk(plan["Plan"])
    return {"execution_ms": round(plan.get("Execution Time", 0), 1),
            "indexes_used (loops)": dict(indexes), "seq_scans (loops)": dict(seq),
            "workers_planned": max([n.get("Workers Planned", 0) for n in iter_nodes(plan["Plan"])] or [0])}


def iter_nodes(node: dict[str, Any]) -> list[dict[str, Any]]:
    out = [node]
    for child in node.get("Plans", []):
        out.extend(iter_nodes(child))
    return out


def explain(sql_text: str, params: Any) -> dict[str, Any]:
    from django.db import connection, transaction

    from indicators.measures import aggregate_work_mem

    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL jit = off")
        cursor.execute("SELECT set_config('work_mem', %s, true)", [aggregate_work_mem()])
        cursor.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + sql_text, params)
        raw = cursor.fetchone()[0]
    plan = (json.loads(raw) if isinstance(raw, str) else raw)[0]
    return plan_summary(plan)


def run(args: argparse.Namespace, url: str, prepared: dict[str, Any]) -> dict[str, Any]:
    import django
    from django.db import connection
    from django.utils import timezone

    from indicators import services
    from indicators.dashboard import Scope, dashboard_data
    from indicators.measures import Period
    from indicators.periods import year_period
    from organisations.models import Region

    province = Region.objects.get(code=PROVINCE)
    county = Region.objects.get(code=COUNTY)
    date_from, date_to = dt.date(YEAR, 1, 1), dt.date(YEAR, 12, 31)
    period = Period(date_from, date_to)
    now = timezone.now()
    indicators = services.active_indicators(region=province)
    span = {"date_from": date_from, "date_to": date_to, "now": now}
    scenarios: dict[str, dict[str, Any]] = {
        "province_dashboard": {
            "target_ms": TARGET_PROVINCE_MS,
            "calls": {"figures": ("total", lambda: services.figures(region=province, **span)),
                      "figures_by_area": ("area", lambda: services.figures_by_area(region=province, **span)),
                      "figures_by_month": ("month", lambda: services.figures_by_month(region=province, **span))},
            "hand": hand_statement(level="province", code=PROVINCE, sets=["total", "area", "month"]),
            "reference": hand_statement(level="province", code=PROVINCE, sets=["total", "area", "month"],
                                        reference=True),
            # What the 指标 page itself computes: the year, the year before (the tiles' change), by month, by city.
            "page": lambda: dashboard_data(scope=Scope(region=province), period=year_period(YEAR), now=now),
        },
        "county": {
            "target_ms": TARGET_COUNTY_MS,
            "calls": {"figures": ("total", lambda: services.figures(region=county, **span)),
                      "figures_by_institution": ("institution",
                                                 lambda: services.figures_by_institution(region=county, **span))},
            "hand": hand_statement(level="county", code=COUNTY, sets=["total", "institution"]),
            "reference": hand_statement(level="county", code=COUNTY, sets=["total", "institution"], reference=True),
            "page": lambda: dashboard_data(scope=Scope(region=county), period=year_period(YEAR), now=now),
        },
    }
    data = data_summary()
    results: dict[str, Any] = {}
    for name, scenario in scenarios.items():
        log(f"{name}: warming up")
        for _ in range(args.warmup):
            for _set, call in scenario["calls"].values():
                call()
            hand_measures(scenario["hand"], period=period, now=now)
        # The numbers, once, side by side.
        engine: dict[tuple[str, str], dict[str, Figure]] = {}
        captures: dict[str, Capture] = {}
        for call_name, (set_name, call) in scenario["calls"].items():
            captures[call_name] = Capture()
            with connection.execute_wrapper(captures[call_name]):
                engine.update(engine_figures(call(), set_name))
        hand = hand_figures(hand_measures(scenario["hand"], period=period, now=now), indicators)
        mismatches = compare(engine, hand, indicators)
        if mismatches:
            log(f"!!! {name}: {len(mismatches)} MISMATCHES between the engine and the hand-written SQL, e.g. "
                f"{json.dumps(mismatches[:3], ensure_ascii=False, default=str)}")
        # The reference: the same figures with every flag computed from the source tables, so the summary
        # columns the engine reads are checked against the definitions at full scale (timed once).
        began = time.perf_counter()
        reference = hand_figures(hand_measures(scenario["reference"], period=period, now=now), indicators)
        reference_ms = round((time.perf_counter() - began) * 1000, 1)
        reference_mismatches = compare(engine, reference, indicators)
        if reference_mismatches:
            log(f"!!! {name}: {len(reference_mismatches)} MISMATCHES between the engine (summary columns) and the "
                f"reference SQL (definitions), e.g. {json.dumps(reference_mismatches[:3], ensure_ascii=False, default=str)}")
        # Timed, interleaved: each repetition runs every call of the engine, then the hand-written statement.
        per_call: dict[str, list[float]] = {call_name: [] for call_name in scenario["calls"]}
        totals: list[float] = []
        hand_samples: list[float] = []
        load_before = os.getloadavg()[0]
        for repetition in range(args.repetitions):
            total = 0.0
            for call_name, (_set, call) in scenario["calls"].items():
                began = time.perf_counter()
                call()
                elapsed = (time.perf_counter() - began) * 1000
                per_call[call_name].append(elapsed)
                total += elapsed
            totals.append(total)
            began = time.perf_counter()
            hand_measures(scenario["hand"], period=period, now=now)
            hand_samples.append((time.perf_counter() - began) * 1000)
            log(f"{name} {repetition + 1}/{args.repetitions}: engine "
                + ", ".join(f"{c} {per_call[c][-1]:.0f}" for c in per_call)
                + f" = {total:.0f} ms; hand-written {hand_samples[-1]:.0f} ms; load {os.getloadavg()[0]:.1f}")
        page_samples = []
        for _ in range(args.repetitions):
            began = time.perf_counter()
            scenario["page"]()
            page_samples.append((time.perf_counter() - began) * 1000)
        log(f"{name}: the 指标 page's dashboard_data p50 {stats(page_samples)['p50_ms']} ms")
        engine_stats, hand_stats = stats(totals), stats(hand_samples)
        ratio = round(engine_stats["p50_ms"] / hand_stats["p50_ms"], 2) if hand_stats["p50_ms"] else None
        log(f"{name}: engine p50 {engine_stats['p50_ms']} ms (target {scenario['target_ms']:.0f}), hand-written "
            f"p50 {hand_stats['p50_ms']} ms, ratio {ratio}")
        log(f"{name}: explaining the engine's statements")
        plans: dict[str, list[dict[str, Any]]] = {}
        for call_name, capture in captures.items():
            plans[call_name] = []
            for statement, params in capture.statements:
                if not statement.lstrip().upper().startswith("SELECT"):
                    continue
                summary = explain(statement, params)
                if summary["execution_ms"] < 1 and not summary["seq_scans (loops)"]:
                    continue  # the small lookups (indicators, targets, region names)
                plans[call_name].append({"sql": statement[:160] + ("…" if len(statement) > 160 else ""),
                                         **summary})
        hand_plan = explain(scenario["hand"], {"date_from": date_from, "date_to": date_to, "start": period.start,
                                               "end": period.end, "now": now})
        results[name] = {
            "engine_ms": {"total": {**engine_stats, "target_ms": scenario["target_ms"],
                                    "target_met": engine_stats["p95_ms"] <= scenario["target_ms"]},
                          **{call_name: stats(samples) for call_name, samples in per_call.items()}},
            "hand_written_ms": hand_stats,
            "dashboard_page_ms": {**stats(page_samples), "target_ms": scenario["target_ms"],
                                  "target_met": stats(page_samples)["p95_ms"] <= scenario["target_ms"]},
            "ratio_engine_to_hand_p50": ratio, "target_ratio": TARGET_RATIO,
            "ratio_met": ratio is not None and ratio <= TARGET_RATIO,
            "statements_per_call": {call_name: len(c.statements) for call_name, c in captures.items()},
            # One untimed run of each call: the time inside the database driver, the rest being Python.
            "sql_ms_of_one_call": {call_name: round(c.sql_s * 1000, 1) for call_name, c in captures.items()},
            "mismatches": len(mismatches), "mismatch_examples": mismatches[:20],
            "reference_ms_once": reference_ms, "reference_mismatches": len(reference_mismatches),
            "reference_mismatch_examples": reference_mismatches[:20],
            "groups_compared": len(set(engine) | set(hand)),
            "sample_figures": {code: list(fig) for code, fig in engine.get(("total", ""), {}).items()},
            "engine_plans": plans, "hand_written_plan": hand_plan,
            "hand_written_sql": " ".join(scenario["hand"].split()),
            "loadavg_1m": [round(load_before, 2), round(os.getloadavg()[0], 2)],
        }
    deliveries = data["delivery"]["rows"]
    per_delivery_ms = results["province_dashboard"]["engine_ms"]["total"]["p50_ms"] / max(deliveries, 1)
    return {
        "benchmark": "indicators",
        "what": "the indicators engine (indicators/services.py) on PostgreSQL, DEBUG off, warm, against one "
                "hand-written SQL statement of the same figures per scenario, same run",
        "deliveries": deliveries, "period": [date_from.isoformat(), date_to.isoformat()],
        "province": PROVINCE, "county": COUNTY,
        "database": urllib.parse.urlsplit(url).path.lstrip("/"), **prepared, "data": data,
        "repetitions": args.repetitions,
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "django": django.get_version(),
                    "platform": platform.platform()},
        "postgres": worklists.postgres_settings(),
        "scenarios": results,
        "targets": {name: {"engine_p95_ms": r["engine_ms"]["total"]["p95_ms"], "target_ms": r["engine_ms"]["total"][
            "target_ms"], "met": r["engine_ms"]["total"]["target_met"], "ratio": r["ratio_engine_to_hand_p50"],
            "ratio_met": r["ratio_met"], "mismatches": r["mismatches"],
            "reference_mismatches": r["reference_mismatches"],
            "dashboard_page_p95_ms": r["dashboard_page_ms"]["p95_ms"]} for name, r in results.items()},
        "national_year": national_year(per_delivery_ms, results, deliveries),
    }


def national_year(per_delivery_ms: float, results: dict[str, Any], deliveries_here: int) -> dict[str, Any]:
    """What a national year would need, extrapolated from this run (the cost grows with the deliveries read)."""
    hand = results["province_dashboard"]["hand_written_ms"]["p50_ms"]
    scale = NATIONAL_DELIVERIES / max(deliveries_here, 1)
    return {
        "deliveries": NATIONAL_DELIVERIES, "visits": NATIONAL_DELIVERIES * 10,
        "engine_dashboard_ms_per_delivery_here": round(per_delivery_ms, 5),
        "extrapolated_engine_dashboard_s": round(per_delivery_ms * NATIONAL_DELIVERIES / 1000, 1),
        "extrapolated_hand_written_dashboard_s": round(hand * scale / 1000, 1),
        "county_unchanged": "a county's figures read one county's records: the same cost nationally",
        "needs": [
            "(done: the per-delivery summary columns of cases/summaries.py, so a figure reads deliveries only)",
            "a summary table per county × month × measure (refreshed on write by the services, or every few "
            "minutes), from which province and national figures are sums of ~3,000 counties × 12 months",
            "visits and deliveries partitioned by year (the live queries read one year's partition)",
            "PostgreSQL sized for it: ~90 M visits are ~24 GB with their indexes at this row size; shared_buffers "
            "and parallel workers (a national query would run on a read replica)",
        ],
    }



def prepare(args: argparse.Namespace) -> dict[str, Any]:
    import io

    from django.core.management import call_command

    began = time.monotonic()
    call_command("migrate", "--noinput", verbosity=0)
    migrated_s = round(time.monotonic() - began, 1)
    call_command("seed_demo", stdout=io.StringIO())
    organisations = worklists.seed_organisations()
    seeded = seed_records(args.size)
    # (migrate_seconds: the first run after a migration that backfills, such as cases 0026, is slow)
    from django.db import connection

    with connection.cursor() as cursor:  # after a migration that rewrote every delivery (its backfill)
        cursor.execute('VACUUM (ANALYZE) "cases_delivery"')
    return {"organisations_created": organisations["created"], "seed": seeded if seeded["added"] else "reused",
            "migrate_seconds": migrated_s}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help=f"smoke run: {QUICK_DELIVERIES:,} deliveries, 5 runs")
    parser.add_argument("--reseed", action="store_true", help="drop the bench database and seed it again")
    parser.add_argument("--size", type=int, default=0, help=f"deliveries (default {FULL_DELIVERIES:,})")
    parser.add_argument("--repetitions", type=int, default=0, help="timed runs per call (default 5, quick 3)")
    parser.add_argument("--warmup", type=int, default=1)
    parser.add_argument("--seed-only", action="store_true", help="seed (or reuse) the database and stop")
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL,
                        help="base URL; the database used is <its name>_indicators_<deliveries>")
    args = parser.parse_args()
    args.size = args.size or (QUICK_DELIVERIES if args.quick else FULL_DELIVERIES)
    args.repetitions = args.repetitions or (3 if args.quick else 5)
    base = urllib.parse.urlsplit(args.database_url)
    url = urllib.parse.urlunsplit(base._replace(path=f"{base.path}_indicators_{args.size}"))
    worklists.ensure_database(url, reseed=args.reseed)
    log(f"database {urllib.parse.urlsplit(url).path.lstrip('/')}")
    worklists.setup_django(url, 0)
    prepared = prepare(args)
    if args.seed_only:
        print(json.dumps({"prepared": prepared, "data": data_summary()}, indent=2, ensure_ascii=False, default=str))
        return
    print(json.dumps(run(args, url, prepared), indent=2, ensure_ascii=False, default=str))


if __name__ == "__main__":
    main()
