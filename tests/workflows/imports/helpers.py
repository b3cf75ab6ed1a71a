"""Shared set-up for import tests: files built from rows, a system admin beside the personas, a booked woman
with external ids."""

from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Any

from openpyxl import Workbook

from cases.models import Pregnancy, Woman
from organisations.models import Role
from tests.personas import MembershipFactory, UserFactory, make_id_number
from workflows.imports.services import columns_of, records_import

TODAY = dt.date.today()  # noqa: DTZ011


def days_ago(n: int) -> str:
    return (TODAY - dt.timedelta(days=n)).isoformat()


def csv_bytes(kind: str, rows: list[dict[str, Any]], *, header: list[str] | None = None, bom: bool = True) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    columns = header or list(columns_of(kind))
    writer.writerow(columns)
    for row in rows:
        writer.writerow([row.get(c, "") for c in columns])
    return (("\ufeff" if bom else "") + out.getvalue()).encode()


def xlsx_bytes(kind: str, rows: list[dict[str, Any]]) -> bytes:
    book = Workbook()
    sheet = book.active
    columns = list(columns_of(kind))
    sheet.append(columns)
    for row in rows:
        sheet.append([row.get(c) if row.get(c) != "" else None for c in columns])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def run(kind: str, rows: list[dict[str, Any]], *, by: Any, fmt: str = "csv", name: str | None = None,
        dry_run: bool = False) -> dict[str, Any]:
    data = csv_bytes(kind, rows) if fmt == "csv" else xlsx_bytes(kind, rows)
    return records_import(kind=kind, data=data, filename=name or f"{kind}.{fmt}", by=by, dry_run=dry_run)


def system_admin(personas: Any, username: str = "admin_a") -> Any:
    user = UserFactory(username=username)
    MembershipFactory(user=user, institution=personas.inst.bureau_a, role=Role.SYSTEM_ADMIN)
    return user


def woman_row(personas: Any, n: int = 1, **extra: Any) -> dict[str, Any]:
    born = dt.date(1994, 3, 8)
    return {"external_id": f"W{n}", "name": f"导入孕妇{n}", "id_type": "resident_id",
            "id_number": make_id_number("350121", born, 2 * n + 100), "no_id_reason": "",
            "date_of_birth": born.isoformat(), "phone": f"1380000{n:04d}", "residence_region": "350121",
            "registered_by": personas.inst.primary_a.code, **extra}


def pregnancy_row(personas: Any, n: int = 1, **extra: Any) -> dict[str, Any]:
    return {"external_id": f"P{n}", "woman": f"W{n}", "lmp": days_ago(200), "edd_ultrasound": "",
            "gravidity": 2, "parity": 1, "booking_date": days_ago(150),
            "booking_institution": personas.inst.hospital_a.code, **extra}


def booked(personas: Any, n: int = 1) -> Pregnancy:
    """A woman and her pregnancy imported by the county-A MCH officer (W<n>, P<n>)."""
    run("women", [woman_row(personas, n)], by=personas.users.mch_a)
    run("pregnancies", [pregnancy_row(personas, n)], by=personas.users.mch_a)
    return Pregnancy.objects.get(external_id=f"P{n}")


__all__ = ["Woman", "booked", "csv_bytes", "days_ago", "pregnancy_row", "run", "system_admin", "woman_row",
           "xlsx_bytes"]
