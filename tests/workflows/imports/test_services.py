"""Importing records (issue 15 item 3): every kind from CSV and xlsx, all or nothing with every bad row reported,
idempotent re-imports, changed rows updated with history, scope and the header."""

from __future__ import annotations

import datetime as dt

import pytest

from cases.models import DeathReport, Delivery, Pregnancy, Visit, Woman, WomanLink
from organisations.http import ActionDenied
from organisations.models import Institution
from tests.personas import make_id_number
from tests.workflows.imports.helpers import (
    booked,
    csv_bytes,
    days_ago,
    pregnancy_row,
    run,
    system_admin,
    woman_row,
)
from workflows.imports.services import ImportFailed, records_import

pytestmark = pytest.mark.django_db


def history_count(*models) -> int:  # type: ignore[no-untyped-def]
    return sum(model.history.count() for model in models)


def visit_row(personas, n=1, **extra):  # type: ignore[no-untyped-def]
    return {"external_id": f"V{n}", "pregnancy": "P1", "kind": "antenatal", "date": days_ago(150 - 10 * n),
            "institution": personas.inst.hospital_a.code, **extra}


def delivery_row(personas, **extra):  # type: ignore[no-untyped-def]
    return {"external_id": "D1", "pregnancy": "P1", "delivered_at": f"{days_ago(5)} 08:30", "place": "institution",
            "institution": personas.inst.hospital_a.code, "mode": "caesarean", "live_births": 2, "stillbirths": 0,
            **extra}


def death_row(**extra):  # type: ignore[no-untyped-def]
    return {"external_id": "X1", "pregnancy": "P1", "died_at": f"{days_ago(2)} 03:00", "maternal": "yes",
            "exclusion_reason": "", "icd10": "O72.1", **extra}


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_institutions_from_a_file_by_a_system_admin(personas, fmt):
    admin = system_admin(personas)
    rows = [{"code": "INSTA0001", "name": "上街镇卫生院", "kind": "primary_care", "level": 1, "region": "350121"},
            {"code": "INSTA0002", "name": "闽侯县疾控局", "kind": "health_bureau", "level": "", "region": "350121"}]
    summary = run("institutions", rows, by=admin, fmt=fmt)
    assert summary["institutions"] == {"created": 2, "updated": 0, "unchanged": 0}
    made = Institution.objects.get(code="INSTA0001")
    assert (made.name, made.kind, made.level, made.region_id) == ("上街镇卫生院", "primary_care", 1, "350121")
    assert made.history.get().history_change_reason == f"import institutions.{fmt}"
    assert run("institutions", rows, by=admin, fmt=fmt)["institutions"]["unchanged"] == 2


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_women_from_a_file(personas, fmt):
    rows = [woman_row(personas, 1), woman_row(personas, 2, id_type="none", id_number="", date_of_birth="1990-01-02",
                                                no_id_reason="证件遗失补办中")]
    summary = run("women", rows, by=personas.users.mch_a, fmt=fmt)
    assert summary["women"] == {"created": 2, "updated": 0, "unchanged": 0}
    woman = Woman.objects.get(external_id="W1")
    assert woman.registered_by == personas.inst.primary_a and woman.date_of_birth == dt.date(1994, 3, 8)
    assert WomanLink.objects.filter(woman=woman, institution=personas.inst.primary_a).exists()
    record = woman.history.get()
    assert record.history_user == personas.users.mch_a and record.history_change_reason == f"import women.{fmt}"


def test_a_woman_already_registered_under_the_document_is_that_woman(personas):
    from tests.personas import book_woman

    existing = book_woman(at=personas.inst.hospital_a, name="导入孕妇1", date_of_birth=dt.date(1994, 3, 8),
                          id_number=woman_row(personas, 1)["id_number"])
    summary = run("women", [woman_row(personas, 1, phone="13912345678")], by=personas.users.mch_a)
    assert summary["women"] == {"created": 0, "updated": 1, "unchanged": 0}
    existing.refresh_from_db()
    assert existing.external_id == "W1" and existing.phone == "13912345678"
    assert Woman.objects.count() == 1
    assert existing.history.latest().history_change_reason == "import women.csv"


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_pregnancies_from_a_file(personas, fmt):
    run("women", [woman_row(personas, 1)], by=personas.users.mch_a)
    summary = run("pregnancies", [pregnancy_row(personas, 1, edd_ultrasound=days_ago(200 - 283))],
                  by=personas.users.mch_a, fmt=fmt)
    assert summary["pregnancies"]["created"] == 1
    pregnancy = Pregnancy.objects.get(external_id="P1")
    assert pregnancy.woman.external_id == "W1" and pregnancy.booking_institution == personas.inst.hospital_a
    assert pregnancy.status == Pregnancy.Status.ONGOING and pregnancy.gravidity == 2
    assert pregnancy.history.get().history_change_reason == f"import pregnancies.{fmt}"


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_visits_from_a_file_in_bulk_with_history(personas, fmt):
    booked(personas)
    summary = run("visits", [visit_row(personas, n) for n in range(1, 6)], by=personas.users.mch_a, fmt=fmt)
    assert summary["visits"] == {"created": 5, "updated": 0, "unchanged": 0}
    assert Visit.objects.filter(pregnancy__external_id="P1", kind="antenatal").count() == 5
    rows = Visit.history.all()
    assert rows.count() == 5
    assert {(r.history_user_id, r.history_change_reason) for r in rows} == {
        (personas.users.mch_a.pk, f"import visits.{fmt}")}


def test_visits_imported_in_bulk_count_for_the_delivery_they_follow(personas):
    """The bulk write sends no signals: the import refreshes the delivery's summary columns itself."""
    booked(personas)
    run("deliveries", [delivery_row(personas)], by=personas.users.mch_a)
    rows = [visit_row(personas, n) for n in range(1, 4)]
    rows.append({"external_id": "V9", "pregnancy": "P1", "kind": "postpartum", "date": days_ago(3),
                 "institution": personas.inst.hospital_a.code})
    run("visits", rows, by=personas.users.mch_a)
    delivery = Delivery.objects.get(external_id="D1")
    assert (delivery.antenatal_visits_before, delivery.postpartum_visit_within_28d) == (3, True)
    rows[0]["date"] = days_ago(4)  # an antenatal visit corrected to after the delivery: refused,
    with pytest.raises(ImportFailed):
        run("visits", rows, by=personas.users.mch_a)
    rows[0]["kind"] = "postpartum"  # so it was a postpartum visit: updated in bulk, no longer antenatal
    run("visits", rows, by=personas.users.mch_a)
    delivery.refresh_from_db()
    assert delivery.antenatal_visits_before == 2


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_deliveries_from_a_file_close_the_pregnancy(personas, fmt):
    booked(personas)
    summary = run("deliveries", [delivery_row(personas)], by=personas.users.mch_a, fmt=fmt)
    assert summary["deliveries"]["created"] == 1
    delivery = Delivery.objects.get(external_id="D1")
    assert delivery.delivered_on == dt.date.fromisoformat(days_ago(5)) and delivery.live_births == 2
    assert timezone_hour(delivery.delivered_at) == 8
    assert delivery.pregnancy.status == Pregnancy.Status.DELIVERED
    assert delivery.history.get().history_change_reason == f"import deliveries.{fmt}"


def timezone_hour(moment: dt.datetime) -> int:
    from zoneinfo import ZoneInfo

    return moment.astimezone(ZoneInfo("Asia/Shanghai")).hour


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_deaths_enter_the_process_verified_or_excluded(personas, fmt):
    booked(personas, 1)
    booked(personas, 2)
    rows = [death_row(), death_row(external_id="X2", pregnancy="P2", maternal="no", icd10="",
                                   exclusion_reason="车祸，非孕产相关")]
    summary = run("deaths", rows, by=personas.users.mch_a, fmt=fmt)
    assert summary["deaths"]["created"] == 2
    maternal, excluded = DeathReport.objects.get(external_id="X1"), DeathReport.objects.get(external_id="X2")
    assert maternal.state == DeathReport.State.VERIFIED and maternal.verified_by == personas.users.mch_a
    assert maternal.origin == DeathReport.Origin.IMPORT and maternal.icd10 == "O72.1"
    assert maternal.pregnancy.status == Pregnancy.Status.DIED
    assert excluded.state == DeathReport.State.EXCLUDED and excluded.exclusion_reason == "车祸，非孕产相关"
    assert DeathReport.objects.count() == 2  # the death hook kept the imported report
    assert {r.history_change_reason for r in maternal.history.all()} == {f"import deaths.{fmt}"}
    before = history_count(DeathReport, Pregnancy)
    assert run("deaths", rows, by=personas.users.mch_a, fmt=fmt)["deaths"]["unchanged"] == 2
    assert history_count(DeathReport, Pregnancy) == before


def test_every_bad_row_is_reported_at_once_and_nothing_is_saved(personas):
    booked(personas)
    rows = [visit_row(personas, 1),
            visit_row(personas, 2, date="2024/01/01"),
            visit_row(personas, 3, pregnancy="NOPE"),
            visit_row(personas, 4, kind="postpartum"),
            visit_row(personas, 5, date=days_ago(-3), institution="UNKNOWN1"),
            visit_row(personas, 1)]
    with pytest.raises(ImportFailed) as failed:
        run("visits", rows, by=personas.users.mch_a)
    errors = failed.value.as_json()["errors"]
    assert {(e["row"], e["column"]) for e in errors} == {
        (3, "date"), (4, "pregnancy"), (5, "kind"), (6, "institution"), (7, "external_id")}
    assert all(e["message"] for e in errors)
    assert Visit.objects.count() == 0 and Visit.history.count() == 0


def test_a_pregnancy_row_error_names_its_column(personas):
    run("women", [woman_row(personas, 1)], by=personas.users.mch_a)
    with pytest.raises(ImportFailed) as failed:
        run("pregnancies", [pregnancy_row(personas, 1, lmp=days_ago(100), booking_date=days_ago(120))],
            by=personas.users.mch_a)
    assert [(e["row"], e["column"]) for e in failed.value.errors] == [(2, "lmp")]
    assert not Pregnancy.objects.exists()


def test_reimport_changes_nothing_and_a_changed_row_updates_with_history(personas):
    booked(personas)
    rows = [visit_row(personas, n) for n in range(1, 4)]
    run("visits", rows, by=personas.users.mch_a)
    before = (Visit.objects.count(), Visit.history.count())
    again = run("visits", rows, by=personas.users.mch_a)
    assert again["visits"] == {"created": 0, "updated": 0, "unchanged": 3}
    assert (Visit.objects.count(), Visit.history.count()) == before
    rows[1]["date"] = days_ago(95)
    changed = run("visits", rows, by=personas.users.mch_a, name="visits-corrected.csv")
    assert changed["visits"] == {"created": 0, "updated": 1, "unchanged": 2}
    visit = Visit.objects.get(external_id="V2")
    assert visit.date == dt.date.fromisoformat(days_ago(95))
    latest = visit.history.latest()
    assert latest.history_user == personas.users.mch_a
    assert latest.history_change_reason == "import visits-corrected.csv"
    assert Visit.history.count() == before[1] + 1


def test_a_changed_woman_row_updates_her_with_history(personas):
    run("women", [woman_row(personas, 1)], by=personas.users.mch_a)
    summary = run("women", [woman_row(personas, 1, name="导入孕妇改名")], by=personas.users.mch_a, name="w2.xlsx",
                  fmt="xlsx")
    assert summary["women"]["updated"] == 1
    woman = Woman.objects.get(external_id="W1")
    assert woman.name == "导入孕妇改名" and woman.history.latest().history_change_reason == "import w2.xlsx"


def test_an_officer_of_county_b_cannot_import_county_a_records(personas):
    booked(personas)
    with pytest.raises(ImportFailed) as failed:
        run("women", [woman_row(personas, 7)], by=personas.users.mch_b)
    assert [(e["row"], e["column"]) for e in failed.value.errors] == [(2, "registered_by")]
    with pytest.raises(ImportFailed) as failed:
        run("visits", [visit_row(personas, 1)], by=personas.users.mch_b)
    assert {e["column"] for e in failed.value.errors} == {"pregnancy", "institution"}
    with pytest.raises(ImportFailed):
        run("visits", [visit_row(personas, 1, institution=personas.inst.hospital_b.code)], by=personas.users.mch_b)
    assert not Visit.objects.exists()
    assert run("women", [woman_row(personas, 8, registered_by=personas.inst.hospital_b.code,
                                   residence_region="350212",
                                   id_number=make_id_number("350212", dt.date(1994, 3, 8), 300))],
               by=personas.users.mch_b)["women"]["created"] == 1


def test_clinicians_and_officers_without_the_role_may_not_import(personas):
    data = csv_bytes("women", [woman_row(personas, 1)])
    for user in (personas.users.primary_a, personas.users.obstetrician_a, personas.users.bureau_a):
        with pytest.raises(ActionDenied):
            records_import(kind="women", data=data, filename="women.csv", by=user)
    with pytest.raises(ActionDenied):  # institutions are the system admin's
        records_import(kind="institutions", data=csv_bytes("institutions", []), filename="i.csv",
                       by=personas.users.mch_a)
    assert not Woman.objects.exists()


def test_an_institution_outside_the_admins_area_is_a_row_error(personas):
    admin = system_admin(personas)
    with pytest.raises(ImportFailed) as failed:
        run("institutions", [{"code": "INSTB0001", "name": "同安某院", "kind": "primary_care", "level": 1,
                              "region": "350212"}], by=admin)
    assert [(e["row"], e["column"]) for e in failed.value.errors] == [(2, "region")]


def test_a_wrong_or_missing_header_is_one_clear_error(personas):
    data = csv_bytes("visits", [visit_row(personas, 1)],
                     header=["external_id", "pregnancy", "type", "date", "institution"])
    with pytest.raises(ImportFailed) as failed:
        records_import(kind="visits", data=data, filename="v.csv", by=personas.users.mch_a)
    [error] = failed.value.errors
    assert error["row"] == 1 and "kind" in error["message"] and "type" in error["message"]
    with pytest.raises(ImportFailed) as failed:
        records_import(kind="visits", data=b"", filename="v.csv", by=personas.users.mch_a)
    assert len(failed.value.errors) == 1


def test_a_dry_run_reports_what_would_change_and_writes_nothing(personas):
    booked(personas)
    summary = run("visits", [visit_row(personas, 1), visit_row(personas, 2)], by=personas.users.mch_a, dry_run=True)
    assert summary["dry_run"] is True and summary["visits"]["created"] == 2
    assert not Visit.objects.exists() and Visit.history.count() == 0


def test_a_delivered_pregnancy_takes_postpartum_visits_and_refuses_a_second_delivery(personas):
    booked(personas)
    run("deliveries", [delivery_row(personas)], by=personas.users.mch_a)
    summary = run("visits", [visit_row(personas, 9, kind="postpartum", date=days_ago(2))], by=personas.users.mch_a)
    assert summary["visits"]["created"] == 1
    with pytest.raises(ImportFailed) as failed:
        run("deliveries", [delivery_row(personas, external_id="D2")], by=personas.users.mch_a)
    assert [e["column"] for e in failed.value.errors] == ["pregnancy"]


def test_a_woman_registered_in_another_area_is_found_by_document_and_only_linked(personas):
    from organisations.models import AccessLog
    from tests.personas import book_woman

    row = woman_row(personas, 1)
    elsewhere = book_woman(at=personas.inst.hospital_b, name=row["name"], date_of_birth=dt.date(1994, 3, 8),
                           id_number=row["id_number"])
    with pytest.raises(ImportFailed) as failed:  # the registration's second factor: name and date of birth
        run("women", [{**row, "name": "别人"}], by=personas.users.mch_a)
    assert [e["column"] for e in failed.value.errors] == ["id_number"]
    summary = run("women", [{**row, "phone": "13700000000"}], by=personas.users.mch_a)
    assert summary["women"]["updated"] == 1
    elsewhere.refresh_from_db()
    assert elsewhere.external_id == "W1" and elsewhere.phone != "13700000000"  # another area's record: linked only
    assert WomanLink.objects.filter(woman=elsewhere, institution=personas.inst.primary_a).exists()
    assert AccessLog.objects.filter(user=personas.users.mch_a, object_id=str(elsewhere.pk)).exists()
    assert run("women", [row], by=personas.users.mch_a)["women"]["unchanged"] == 1


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_reimporting_every_kind_writes_no_record_and_no_history_row(personas, fmt):
    from organisations.models import Institution as Inst

    admin = system_admin(personas)
    mch = personas.users.mch_a
    files = [
        ("institutions", [{"code": "INSTA0009", "name": "荆溪镇卫生院", "kind": "primary_care", "level": 1,
                           "region": "350121"}], admin),
        ("women", [woman_row(personas, 1), woman_row(personas, 2)], mch),
        ("pregnancies", [pregnancy_row(personas, 1), pregnancy_row(personas, 2)], mch),
        ("visits", [visit_row(personas, 1), visit_row(personas, 2, pregnancy="P2")], mch),
        ("deliveries", [delivery_row(personas, mode="spontaneous", live_births=1, stillbirths=1)], mch),
        ("deaths", [death_row(pregnancy="P2", external_id="X2")], mch),
    ]
    for kind, rows, by in files:
        assert run(kind, rows, by=by, fmt=fmt)[kind]["created"] == len(rows)
    models = (Inst, Woman, Pregnancy, Visit, Delivery, DeathReport)
    counts = [(m.objects.count(), m.history.count()) for m in models]
    for kind, rows, by in files:
        assert run(kind, rows, by=by, fmt=fmt)[kind] == {"created": 0, "updated": 0, "unchanged": len(rows)}
    assert [(m.objects.count(), m.history.count()) for m in models] == counts


def test_a_changed_delivery_and_a_death_no_longer_maternal_update_with_history(personas):
    booked(personas)
    run("deliveries", [delivery_row(personas)], by=personas.users.mch_a)
    run("deaths", [death_row()], by=personas.users.mch_a)
    summary = run("deliveries", [delivery_row(personas, mode="assisted_vaginal", live_births=1)],
                  by=personas.users.mch_a, name="deliveries-2.csv")
    assert summary["deliveries"]["updated"] == 1
    delivery = Delivery.objects.get()
    assert (delivery.mode, delivery.live_births) == ("assisted_vaginal", 1)
    assert delivery.history.latest().history_change_reason == "import deliveries-2.csv"
    summary = run("deaths", [death_row(maternal="no", icd10="", exclusion_reason="产后60天车祸")],
                  by=personas.users.mch_a, name="deaths-2.csv")
    assert summary["deaths"]["updated"] == 1
    report = DeathReport.objects.get()
    assert report.state == DeathReport.State.EXCLUDED and report.exclusion_reason == "产后60天车祸"
    latest = report.history.latest()
    assert latest.history_user == personas.users.mch_a and latest.history_change_reason == "import deaths-2.csv"
    with pytest.raises(ImportFailed) as failed:  # an excluded death is not counted again by an import
        run("deaths", [death_row()], by=personas.users.mch_a)
    assert [e["column"] for e in failed.value.errors] == ["maternal"]


def test_an_institution_row_is_checked_as_the_organisation_pages_check_it(personas):
    admin = system_admin(personas)
    rows = [{"code": "INSTA0100", "name": "闽侯县医院", "kind": "midwifery_hospital", "level": 2, "region": "350121"},
            {"code": "INSTA0101", "name": "某卫健局", "kind": "health_bureau", "level": 2, "region": "350121"},
            {"code": "INSTA0102", "name": "某院", "kind": "clinic", "level": 1, "region": "35012"}]
    with pytest.raises(ImportFailed) as failed:
        run("institutions", rows, by=admin)
    assert [(e["row"], e["column"]) for e in failed.value.errors] == [
        (2, "name"), (3, "level"), (4, "kind"), (4, "region")]
    assert not Institution.objects.filter(code__startswith="INSTA01").exists()
