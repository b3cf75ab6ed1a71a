"""The command (exit codes and JSON) and the upload page (upload, error list, summary, templates, refusals)."""

from __future__ import annotations

import io
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client

from cases.models import Visit, Woman
from tests.workflows.imports.helpers import booked, csv_bytes, days_ago, system_admin, woman_row, xlsx_bytes

pytestmark = pytest.mark.django_db


def command(*args: str) -> tuple[int, str]:
    out = io.StringIO()
    try:
        call_command("import_records", *args, stdout=out)
    except SystemExit as exc:
        return int(exc.code or 0), out.getvalue()
    return 0, out.getvalue()


def test_the_command_imports_and_prints_the_summary(personas, tmp_path):
    path = tmp_path / "women.csv"
    path.write_bytes(csv_bytes("women", [woman_row(personas, 1), woman_row(personas, 2)]))
    code, out = command("women", str(path), "--user", "mch_a")
    assert code == 0
    assert json.loads(out)["women"] == {"created": 2, "updated": 0, "unchanged": 0}
    code, out = command("women", str(path), "--user", "mch_a")
    assert code == 0 and json.loads(out)["women"]["unchanged"] == 2


def test_the_command_prints_the_errors_and_exits_2(personas, tmp_path):
    path = tmp_path / "women.xlsx"
    path.write_bytes(xlsx_bytes("women", [woman_row(personas, 1), woman_row(personas, 2, id_number="123"),
                                          woman_row(personas, 3, residence_region="999999")]))
    code, out = command("women", str(path), "--user", "mch_a")
    assert code == 2
    errors = json.loads(out)["errors"]
    assert [(e["row"], e["column"]) for e in errors] == [(3, "id_number"), (4, "residence_region")]
    assert not Woman.objects.exists()


def test_the_command_dry_run_writes_nothing(personas, tmp_path):
    path = tmp_path / "women.csv"
    path.write_bytes(csv_bytes("women", [woman_row(personas, 1)]))
    code, out = command("women", str(path), "--user", "mch_a", "--dry-run")
    assert code == 0 and json.loads(out)["dry_run"] is True and json.loads(out)["women"]["created"] == 1
    assert not Woman.objects.exists()


def test_the_command_refuses_a_doctor_and_needs_a_user(personas, tmp_path):
    path = tmp_path / "women.csv"
    path.write_bytes(csv_bytes("women", [woman_row(personas, 1)]))
    with pytest.raises(CommandError):
        call_command("import_records", "women", str(path), "--user", "primary_a", stdout=io.StringIO())
    with pytest.raises(CommandError):
        call_command("import_records", "women", str(path), "--user", "nobody", stdout=io.StringIO())
    with pytest.raises(CommandError):
        call_command("import_records", "women", str(path), stdout=io.StringIO())
    assert not Woman.objects.exists()


def client(user):  # type: ignore[no-untyped-def]
    c = Client()
    c.force_login(user)
    return c


def upload(user, kind, data, name, dry_run=False):  # type: ignore[no-untyped-def]
    form = {"kind": kind, "file": SimpleUploadedFile(name, data)}
    if dry_run:
        form["dry_run"] = "on"
    return client(user).post("/imports/", form)


def test_the_page_uploads_checks_and_imports(personas):
    booked(personas)
    mch = personas.users.mch_a
    page = client(mch).get("/imports/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "数据导入" in html and 'data-testid="template-visits"' in html and 'data-testid="template-institutions"' \
        not in html
    template = client(mch).get("/imports/templates/visits.csv")
    assert template.status_code == 200
    assert template.content.decode("utf-8-sig").strip() == "external_id,pregnancy,kind,date,institution"
    rows = [{"external_id": "V1", "pregnancy": "P1", "kind": "antenatal", "date": days_ago(120),
             "institution": personas.inst.hospital_a.code}]
    checked = upload(mch, "visits", csv_bytes("visits", rows), "visits.csv", dry_run=True)
    assert checked.status_code == 200 and 'data-testid="import-summary"' in checked.content.decode()
    assert not Visit.objects.exists()
    done = upload(mch, "visits", csv_bytes("visits", rows), "visits.csv")
    assert done.status_code == 200 and 'data-testid="created">1<' in done.content.decode()
    assert Visit.objects.get().history.get().history_change_reason == "import visits.csv"


def test_the_page_lists_every_error(personas):
    booked(personas)
    rows = [{"external_id": "V1", "pregnancy": "P1", "kind": "antenatal", "date": "01/02/2024",
             "institution": personas.inst.hospital_a.code},
            {"external_id": "V2", "pregnancy": "P404", "kind": "antenatal", "date": days_ago(100),
             "institution": personas.inst.hospital_a.code}]
    page = upload(personas.users.mch_a, "visits", csv_bytes("visits", rows), "visits.csv")
    assert page.status_code == 400
    html = page.content.decode()
    assert html.count('data-testid="import-error"') == 2 and "<code>pregnancy</code>" in html
    assert not Visit.objects.exists()


def test_the_page_is_refused_to_a_primary_care_doctor(personas):
    assert client(personas.users.primary_a).get("/imports/").status_code == 403
    refused = upload(personas.users.primary_a, "women", csv_bytes("women", [woman_row(personas, 1)]), "women.csv")
    assert refused.status_code == 403 and not Woman.objects.exists()
    assert client(personas.users.obstetrician_a).get("/imports/templates/women.csv").status_code in (403, 404)


def test_a_system_admin_sees_the_institutions_template(personas):
    admin = system_admin(personas)
    html = client(admin).get("/imports/").content.decode()
    assert 'data-testid="template-institutions"' in html
