"""Import speed for visits (issue 15: at least 2,000 visit rows per second on PostgreSQL).

Builds, in its own PostgreSQL database (``DATABASE_URL``, default ``anmu_bench_imports``), one county with a
hospital and its MCH institute, an MCH officer, and N booked pregnancies (women and pregnancies inserted in
bulk, no history rows); then writes a visits CSV of R rows (antenatal visits spread between each pregnancy's
LMP and today, external ids ``BV<n>``) and times, through ``records_import`` exactly as the command runs it:

* ``dry_run``    the file read, parsed and validated (``visit_errors`` per row), nothing written;
* ``import``     the same, then written: ``bulk_create_with_history`` (each visit and its history row);
* ``reimport``   the same file again: every row unchanged, nothing written (idempotence);
* ``update``     the file with every 10th visit moved a day: those rows updated with history.

Each phase prints rows/s and the number of SQL queries (which must not grow with R). The visits of an earlier
run are removed first, so runs are repeatable; the pregnancies are seeded once per N.

    .venv/bin/python benchmarks/imports.py                       # 10,000 pregnancies, 50,000 visits
    .venv/bin/python benchmarks/imports.py --rows 5000 --pregnancies 1000   # a smoke run

Prints one JSON document on stdout; progress goes to stderr. No assertions: the figures are the result.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import io
import json
import os
import platform
import sys
import time
import urllib.parse
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/anmu_bench_imports"
TARGET_ROWS_PER_S = 2000.0
SECRET_KEY = "anmu-bench-imports-not-secret"  # noqa: S105  (a throwaway key for a bench process)


def log(message: str) -> None:
    print(f"[imports] {message}", file=sys.stderr, flush=True)


def ensure_database(url: str) -> None:
    import psycopg

    parts = urllib.parse.urlsplit(url)
    name = parts.path.lstrip("/")
    admin_url = urllib.parse.urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin_url, autocommit=True) as admin:
        if admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone() is None:
            log(f"creating database {name}")
            admin.execute(f'CREATE DATABASE "{name}"')


def setup_django(database_url: str) -> None:
    os.environ.pop("REDIS_URL", None)
    os.environ.pop("SQLITE_PATH", None)
    os.environ.update({"DJANGO_SETTINGS_MODULE": "project.settings", "DEBUG": "0", "SECRET_KEY": SECRET_KEY,
                       "DATABASE_URL": database_url, "SWEEP_IN_PROCESS": "0", "LOG_LEVEL": "WARNING"})
    sys.path.insert(0, str(ROOT))
    os.chdir(ROOT)
    import django

    django.setup()


def seed(pregnancies: int) -> dict[str, Any]:
    """The county, its institutions, the officer and ``pregnancies`` booked pregnancies (once per size)."""
    from django.db import transaction

    from cases.models import Pregnancy, Woman
    from organisations.models import Institution, Membership, Region, Role, User
    from organisations.uscc import demo_uscc

    province, _ = Region.objects.get_or_create(code="350000", defaults={"name": "福建省", "level": "province"})
    city, _ = Region.objects.get_or_create(code="350100", defaults={"name": "福州市", "level": "city",
                                                                     "parent": province})
    county, _ = Region.objects.get_or_create(code="350121", defaults={"name": "闽侯县", "level": "county",
                                                                       "parent": city})
    hospital, _ = Institution.objects.get_or_create(
        name="闽侯县医院（基准）", region=county,
        defaults={"kind": "midwifery_hospital", "level": 2, "code": demo_uscc("350121", "bench-hospital")})
    mch, _ = Institution.objects.get_or_create(
        name="闽侯县妇幼保健院（基准）", region=county,
        defaults={"kind": "mch_institute", "level": 2, "code": demo_uscc("350121", "bench-mch")})
    officer, created = User.objects.get_or_create(username="bench_import_mch", defaults={"name": "导入基准"})
    if created:
        Membership.objects.create(user=officer, institution=mch, role=Role.MCH_OFFICER)
    have = Pregnancy.objects.filter(external_id__startswith="BP").count()
    today = dt.date.today()  # noqa: DTZ011  (a bench: local dates)
    if have < pregnancies:
        log(f"seeding pregnancies {have}..{pregnancies}")
        born = dt.date(1994, 3, 8)
        with transaction.atomic():
            for start in range(have, pregnancies, 5000):
                women, pregs = [], []
                for n in range(start, min(start + 5000, pregnancies)):
                    # A passport number (resident IDs of one county and birthday repeat after 500 women).
                    woman = Woman(external_id=f"BW{n}", name=f"基准{n}", id_type="passport", id_number=f"E{n:08d}",
                                  date_of_birth=born, residence_region=county, registered_by=hospital)
                    lmp = today - dt.timedelta(days=60 + n % 200)
                    women.append(woman)
                    pregs.append(Pregnancy(external_id=f"BP{n}", woman=woman, lmp=lmp, booking_date=lmp + dt.timedelta(
                        days=50), gravidity=1, parity=0, booking_institution=hospital))
                Woman.objects.bulk_create(women)
                Pregnancy.objects.bulk_create(pregs)
    return {"officer": officer, "hospital": hospital}


def visits_csv(rows: int, pregnancies: int, *, code: str, shift_every: int = 0) -> bytes:
    """R antenatal visits over the pregnancies (5 or so each), dated between the LMP and today."""
    today = dt.date.today()  # noqa: DTZ011
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["external_id", "pregnancy", "kind", "date", "institution"])
    for n in range(rows):
        p = n % pregnancies
        lmp = today - dt.timedelta(days=60 + p % 200)
        span = (today - lmp).days
        day = lmp + dt.timedelta(days=1 + (n // pregnancies * 13 + p) % max(span - 1, 1))
        if shift_every and n % shift_every == 0:
            day = day + dt.timedelta(days=1) if day < today else day - dt.timedelta(days=1)
        writer.writerow([f"BV{n}", f"BP{p}", "antenatal", day.isoformat(), code])
    return ("\ufeff" + out.getvalue()).encode()


def timed(label: str, data: bytes, *, by: Any, dry_run: bool) -> dict[str, Any]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from workflows.imports.services import records_import

    start = time.perf_counter()
    with CaptureQueriesContext(connection) as queries:
        summary = records_import(kind="visits", data=data, filename="visits.csv", by=by, dry_run=dry_run)
    seconds = time.perf_counter() - start
    rows = summary["rows"]
    log(f"{label}: {rows} rows in {seconds:.2f} s = {rows / seconds:,.0f} rows/s ({len(queries)} queries)")
    return {"seconds": round(seconds, 3), "rows_per_s": round(rows / seconds), "queries": len(queries),
            "summary": summary["visits"], "meets_target": rows / seconds >= TARGET_ROWS_PER_S}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=50_000, help="visit rows in the file")
    parser.add_argument("--pregnancies", type=int, default=10_000, help="booked pregnancies the visits name")
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL", DEFAULT_DATABASE_URL)
    if not url.startswith("postgres"):
        sys.exit("benchmarks/imports.py measures PostgreSQL: set DATABASE_URL=postgres://…")
    ensure_database(url)
    setup_django(url)
    from django.core.management import call_command
    from django.db import connection

    from cases.models import Visit

    log("migrating")
    call_command("migrate", "--noinput", verbosity=0)
    org = seed(args.pregnancies)
    with connection.cursor() as cursor:
        cursor.execute(f'TRUNCATE "{Visit._meta.db_table}", "{Visit.history.model._meta.db_table}"')  # noqa: S608
        cursor.execute("ANALYZE")
    code = org["hospital"].code
    log(f"building a file of {args.rows} visits over {args.pregnancies} pregnancies")
    data = visits_csv(args.rows, args.pregnancies, code=code)
    by = org["officer"]
    result = {
        "database": "postgresql", "python": platform.python_version(), "cpus": os.cpu_count(),
        "rows": args.rows, "pregnancies": args.pregnancies, "file_bytes": len(data),
        "target_rows_per_s": TARGET_ROWS_PER_S,
        "dry_run": timed("dry run", data, by=by, dry_run=True),
        "import": timed("import", data, by=by, dry_run=False),
        "reimport": timed("re-import (unchanged)", data, by=by, dry_run=False),
        "update": timed("update (every 10th row moved a day)",
                        visits_csv(args.rows, args.pregnancies, code=code, shift_every=10), by=by, dry_run=False),
        "visits_in_database": Visit.objects.count(), "history_rows": Visit.history.count(),
    }
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
