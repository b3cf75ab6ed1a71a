"""A scheme goes out as xlsx and comes back unchanged; an import is all rows or none; a row is national only when it
is exactly the national row; the management command does the same from a file."""

import io
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from openpyxl import load_workbook

from cases.models import EvaluationScheme
from workflows.evaluation.schemes import COLUMNS, read_table, scheme_import, scheme_workbook

pytestmark = pytest.mark.django_db


@pytest.fixture
def fujian_rules(personas):
    national = EvaluationScheme.objects.get(code="national-2023")
    return national.copy_for(province=personas.regions.fujian, code="fj-2024", name="福建省细则")


def _as_file(book, name="scheme.xlsx"):
    buffer = io.BytesIO()
    book.save(buffer)
    buffer.seek(0)
    buffer.name = name
    return buffer


def _snapshot(scheme):
    return sorted((i.section.number, i.number, i.name, i.definition, i.target_type, i.band_lower, i.band_upper,
                   i.threshold, i.points, i.for_province, i.for_city, i.for_county, i.subject, i.origin,
                   i.computed_from) for i in scheme.indicators.select_related("section"))


def test_an_export_imports_back_unchanged(fujian_rules):
    before = _snapshot(fujian_rules)
    rows = read_table(_as_file(scheme_workbook(fujian_rules)))
    assert len(rows) == 7
    counts = scheme_import(fujian_rules, rows, reason="round trip")
    assert counts == {"created": 0, "updated": 7, "removed": 0}
    assert _snapshot(fujian_rules) == before
    assert fujian_rules.sections.count() == 6


def test_added_and_redefined_rows_are_the_provinces_and_points_keep_national(fujian_rules):
    book = scheme_workbook(fujian_rules)
    sheet = book.active
    header = [c.value for c in sheet[1]]
    col = {c.key: header.index(str(c.label)) + 1 for c in COLUMNS}
    for row in range(2, sheet.max_row + 1):
        if sheet.cell(row, col["number"]).value == "4":
            sheet.cell(row, col["points"]).value = 10
        if sheet.cell(row, col["number"]).value == "17":
            sheet.cell(row, col["threshold"]).value = 0.4  # the province asks more than the nation
    sheet.append(["一", "工作成效", "", "", "1", "孕产妇死亡率", "孕产妇死亡数/活产数×10万", "computed", "mmr", "",
                  "trend", "逐步降低", "", "", "", "", "", "down", "", 5, "", "province,city,county", "system", "", "",
                  "", "national"])  # claims to be national: it is not in the national edition
    scheme_import(fujian_rules, read_table(_as_file(book)))
    rows = {i.number: i for i in fujian_rules.indicators.all()}
    assert rows["4"].points == Decimal(10) and rows["4"].origin == "national"
    assert rows["17"].origin == "province" and rows["17"].threshold == Decimal("0.4")
    assert rows["1"].origin == "province" and rows["1"].computed_from == "mmr"
    assert rows["1"].section.name == "工作成效"


def test_a_bad_row_changes_nothing_and_says_where(fujian_rules):
    before = _snapshot(fujian_rules)
    book = scheme_workbook(fujian_rules)
    sheet = book.active
    sheet.append(["一", "工作成效", "", "", "2", "x", "", "computed", "", "", "band", "", "", "", "abc", "", "", "",
                  "", "", "", "town", "system", "", "", "", ""])
    with pytest.raises(ValidationError) as error:
        scheme_import(fujian_rules, read_table(_as_file(book)))
    messages = error.value.messages
    assert all("9" in message for message in messages)  # each names the sheet's row
    assert any("abc" in message for message in messages)  # the threshold that is not a number
    assert any("county" in message for message in messages)  # the level that is not one
    assert _snapshot(fujian_rules) == before


def test_a_removed_row_goes_and_its_empty_sub_area_with_it(fujian_rules):
    book = scheme_workbook(fujian_rules)
    sheet = book.active
    header = [c.value for c in sheet[1]]
    number = header.index(str(next(c.label for c in COLUMNS if c.key == "number"))) + 1
    for row in range(sheet.max_row, 1, -1):
        if sheet.cell(row, number).value in ("17", "18"):
            sheet.delete_rows(row)
    counts = scheme_import(fujian_rules, read_table(_as_file(book)))
    assert counts["removed"] == 2
    assert not fujian_rules.sections.filter(number="（五）").exists()


def test_unknown_columns_and_files_are_refused(fujian_rules):
    with pytest.raises(ValidationError):
        read_table(io.BytesIO("编号,颜色\n1,红\n".encode()), name="x.csv")


def test_the_command_creates_a_province_scheme_from_a_file(tmp_path, personas, fujian_rules):
    path = tmp_path / "rules.xlsx"
    scheme_workbook(fujian_rules).save(path)
    call_command("import_evaluation_scheme", str(path), "--scheme", "fj-2025", "--create", "--province", "350000",
                 "--name", "福建省细则2025", "--edition", "2025", stdout=io.StringIO())
    created = EvaluationScheme.objects.get(code="fj-2025")
    assert created.province_id == "350000" and created.indicators.count() == 7
    assert set(created.indicators.values_list("origin", flat=True)) == {"national"}
    book = load_workbook(path)
    book.active.cell(2, 6).value = None  # a name missing: nothing is created
    book.save(path)
    with pytest.raises(CommandError):
        call_command("import_evaluation_scheme", str(path), "--scheme", "fj-2026", "--create", "--province",
                     "350000", "--name", "x", "--edition", "2026", stdout=io.StringIO())
    assert not EvaluationScheme.objects.filter(code="fj-2026").exists()
