"""Evaluation schemes as data: who edits which, the xlsx layout they are exported and imported in, and the import
(all rows or none). A row is national only if it is exactly the national row it came from; anything a province
adds or redefines is the province's (``Origin.PROVINCE``), whatever the file says."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from cases.models import EvaluationIndicator, EvaluationScheme, EvaluationSection
from cases.models.evaluation import Origin
from organisations.administration import administered_regions
from organisations.models import Region
from organisations.spreadsheets import spreadsheet_safe

Indicator = EvaluationIndicator


@dataclass(frozen=True)
class Column:
    key: str
    label: Any


# The workbook's columns, in order; the header row holds the zh-hans labels (an English or key header is read too).
COLUMNS: tuple[Column, ...] = (
    Column("area_number", gettext_lazy("Area number")),
    Column("area_name", gettext_lazy("Area")),
    Column("subarea_number", gettext_lazy("Sub-area number")),
    Column("subarea_name", gettext_lazy("Sub-area")),
    Column("number", gettext_lazy("Indicator number")),
    Column("name", gettext_lazy("Indicator")),
    Column("definition", gettext_lazy("Definition or formula")),
    Column("value_source", gettext_lazy("Value (computed / entered)")),
    Column("computed_from", gettext_lazy("Computed from")),
    Column("evidence", gettext_lazy("Evidence required")),
    Column("target_type", gettext_lazy("Target type")),
    Column("target_text", gettext_lazy("Target as written")),
    Column("comparison", gettext_lazy("Comparison")),
    Column("threshold", gettext_lazy("Threshold")),
    Column("band_lower", gettext_lazy("Band from")),
    Column("band_upper", gettext_lazy("Band to")),
    Column("band_scoring", gettext_lazy("Band scoring")),
    Column("trend", gettext_lazy("Trend wanted")),
    Column("keep_level", gettext_lazy("High level kept")),
    Column("points", gettext_lazy("Points")),
    Column("weight", gettext_lazy("Weight")),
    Column("levels", gettext_lazy("Levels (province, city, county)")),
    Column("subject", gettext_lazy("Subject (system / centre)")),
    Column("data_source", gettext_lazy("Data source")),
    Column("basis", gettext_lazy("Basis document")),
    Column("source_url", gettext_lazy("Source")),
    Column("origin", gettext_lazy("Origin")),
)
DECIMALS = ("threshold", "band_lower", "band_upper", "keep_level", "points", "weight")
CHOICES = {"value_source": Indicator.ValueSource, "target_type": Indicator.TargetType,
           "comparison": Indicator.Comparison, "band_scoring": Indicator.BandScoring, "trend": Indicator.Trend,
           "subject": Indicator.Subject}
LEVELS = (("province", "for_province"), ("city", "for_city"), ("county", "for_county"))


def indicator_choices() -> list[tuple[str, str]]:
    """The Anmu indicators a value may be computed from (registered into EVALUATION_INDICATOR_CHOICES)."""
    from indicators.models import Indicator as AnmuIndicator

    return [(i.code, f"{i.name_zh} · {i.name_en}") for i in AnmuIndicator.objects.filter(active=True)]


def editable_provinces(user: Any) -> Any:
    """The provinces whose 细则 the user edits: a superuser all; a system admin of a province hers."""
    return administered_regions(user).filter(level=Region.Level.PROVINCE)


def may_edit_scheme(user: Any, scheme: EvaluationScheme) -> bool:
    """The national edition changes only with a release (a superuser); a province's with its administrator."""
    if scheme.province_id is None:
        return bool(user.is_superuser)
    return editable_provinces(user).filter(pk=scheme.province_id).exists()


# --- Export ---------------------------------------------------------------------------------------------


def _cell(indicator: Indicator, key: str) -> Any:
    section = indicator.section
    area = section.parent or section
    sub = section if section.parent_id else None
    if key == "area_number":
        return area.number
    if key == "area_name":
        return area.name
    if key == "subarea_number":
        return sub.number if sub else ""
    if key == "subarea_name":
        return sub.name if sub else ""
    if key == "levels":
        return ",".join(name for name, field in LEVELS if getattr(indicator, field))
    value = getattr(indicator, key)
    if isinstance(value, Decimal):
        return float(value.normalize())
    return "" if value is None else value


def scheme_rows(scheme: EvaluationScheme) -> list[list[Any]]:
    indicators = scheme.indicators.select_related("section__parent").order_by("order", "number")
    return [[spreadsheet_safe(_cell(i, c.key)) for c in COLUMNS] for i in indicators]


def scheme_workbook(scheme: EvaluationScheme) -> Any:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.title = _("Indicators")[:31]
    sheet.append([str(c.label) for c in COLUMNS])
    for row in scheme_rows(scheme):
        sheet.append(row)
    return book


# --- Import ---------------------------------------------------------------------------------------------


def read_table(path_or_file: Any, *, name: str = "") -> list[dict[str, Any]]:
    """The rows of an xlsx or CSV file as dicts keyed by column key; the header may hold keys, English or
    zh-hans labels."""
    from django.utils import translation

    headers: dict[str, str] = {}
    for column in COLUMNS:
        headers[column.key] = column.key
        for language in ("en", "zh-hans"):
            with translation.override(language):
                headers[str(column.label).strip()] = column.key
    filename = name or str(getattr(path_or_file, "name", path_or_file))
    if filename.lower().endswith(".csv"):
        import csv
        import io

        if hasattr(path_or_file, "read"):
            raw = path_or_file.read()
        else:
            with open(path_or_file, "rb") as handle:
                raw = handle.read()
        text = raw.decode("utf-8-sig") if isinstance(raw, bytes) else raw
        table = list(csv.reader(io.StringIO(text)))
    else:
        from openpyxl import load_workbook

        book = load_workbook(path_or_file, read_only=True, data_only=True)
        table = [list(row) for row in book.worksheets[0].iter_rows(values_only=True)]
    if not table:
        raise ValidationError(_("The file is empty."))
    keys = [headers.get(str(h or "").strip()) for h in table[0]]
    unknown = [str(h) for h, k in zip(table[0], keys, strict=False) if h not in (None, "") and k is None]
    if unknown:
        raise ValidationError(_("Unknown columns: %(columns)s.") % {"columns": "、".join(unknown)})
    for needed in ("area_number", "area_name", "number", "name", "target_type"):
        if needed not in keys:
            raise ValidationError(_("The column %(column)s is missing.") % {
                "column": str(next(c.label for c in COLUMNS if c.key == needed))})
    rows = []
    for values in table[1:]:
        if all(v in (None, "") for v in values):
            continue
        rows.append({k: v for k, v in zip(keys, values, strict=False) if k})
    return rows


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value).strip()
    return text[1:] if text.startswith("'") and text[1:2] in ("=", "+", "-", "@") else text


def _choice(key: str, value: str, errors: list[str], line: int) -> str:
    if not value:
        return ""
    choices = CHOICES[key]
    if value in choices.values:
        return value
    for code, label in choices.choices:
        if value == str(label):
            return str(code)
    errors.append(_("Row %(line)s: %(column)s: %(value)s is not one of %(choices)s.") % {
        "line": line, "column": str(next(c.label for c in COLUMNS if c.key == key)), "value": value,
        "choices": "、".join(choices.values)})
    return ""


def _defining(indicator: Any) -> tuple[Any, ...]:
    return tuple(getattr(indicator, name) for name in Indicator.DEFINING_FIELDS)


@transaction.atomic
def scheme_import(scheme: EvaluationScheme, rows: Sequence[dict[str, Any]], *, by: Any = None,
                  reason: str = "imported") -> dict[str, int]:
    """Replace ``scheme``'s areas and indicators with ``rows`` (from :func:`read_table`); all or nothing.

    Rows are matched to existing indicators by number and name, so their history continues. A row is national
    only when the scheme it is based on has the same row (number, name) with the same definition and target."""
    if scheme.province_id is None and by is not None and not getattr(by, "is_superuser", False):
        raise ValidationError(_("The national edition is changed by a release, not by an import."))
    locked = EvaluationScheme.objects.select_for_update().get(pk=scheme.pk)
    national = {}
    if locked.based_on_id:
        national = {(i.number, i.name): i for i in locked.based_on.indicators.all()}  # type: ignore[union-attr]
    errors: list[str] = []
    sections: dict[str, EvaluationSection] = {s.number: s for s in locked.sections.all()}
    kept_sections: set[Any] = set()
    existing = {(i.number, i.name): i for i in locked.indicators.all()}
    held_before = {i.section_id for i in existing.values()}
    seen: set[tuple[str, str]] = set()
    counts = {"created": 0, "updated": 0, "removed": 0}

    def section_for(number: str, name: str, parent: EvaluationSection | None, order: int) -> EvaluationSection:
        section = sections.get(number)
        if section is None:
            section = EvaluationSection(scheme=locked, number=number)
            sections[number] = section
        section.name, section.parent, section.order = name or section.name, parent, order
        _stamp(section, by, reason)
        section.save()
        kept_sections.add(section.pk)
        return section

    for order, row in enumerate(rows, start=1):
        line = order + 1
        values = {key: _text(row.get(key)) for key in (c.key for c in COLUMNS)}
        if not values["area_number"] or not values["number"] or not values["name"]:
            errors.append(_("Row %(line)s: the area number, the indicator number and its name are required.")
                          % {"line": line})
            continue
        area = section_for(values["area_number"], values["area_name"], None, order * 2)
        section = area
        if values["subarea_number"]:
            section = section_for(values["subarea_number"], values["subarea_name"], area, order * 2 + 1)
        key = (values["number"], values["name"])
        if key in seen:
            errors.append(_("Row %(line)s: indicator %(number)s %(name)s appears twice.") % {
                "line": line, "number": key[0], "name": key[1]})
            continue
        seen.add(key)
        indicator = existing.get(key) or Indicator(scheme=locked, number=key[0], name=key[1])
        indicator.section, indicator.order = section, order
        for name in ("definition", "computed_from", "evidence", "target_text", "data_source", "basis", "source_url"):
            setattr(indicator, name, values[name])
        for name in CHOICES:
            setattr(indicator, name, _choice(name, values[name], errors, line))
        indicator.value_source = indicator.value_source or Indicator.ValueSource.ENTERED
        indicator.subject = indicator.subject or Indicator.Subject.SYSTEM
        for name in DECIMALS:
            try:
                setattr(indicator, name, Decimal(values[name]) if values[name] else None)
            except InvalidOperation:
                errors.append(_("Row %(line)s: %(column)s: %(value)s is not a number.") % {
                    "line": line, "column": str(next(c.label for c in COLUMNS if c.key == name)),
                    "value": values[name]})
        levels = {part.strip().lower() for part in values["levels"].replace("，", ",").split(",") if part.strip()}
        levels = {_LEVEL_NAMES.get(part, part) for part in levels}
        if levels - {name for name, _field in LEVELS}:
            errors.append(_("Row %(line)s: levels are province, city and county.") % {"line": line})
        for name, field in LEVELS:
            setattr(indicator, field, name in levels if levels else True)
        source = national.get(key)
        indicator.origin = Origin.NATIONAL if (source is not None and source.origin == Origin.NATIONAL
                                               and _defining(source) == _defining(indicator)) else Origin.PROVINCE
        if indicator.origin == Origin.NATIONAL and source is not None:
            indicator.source_url = indicator.source_url or source.source_url
        try:
            indicator.full_clean(exclude=["scheme", "section"], validate_unique=False)
        except ValidationError as error:
            for field, messages in error.message_dict.items():
                errors.append(_("Row %(line)s: %(field)s: %(message)s") % {
                    "line": line, "field": _field_label(field), "message": " ".join(messages)})
            continue
        counts["updated" if key in existing else "created"] += 1
        _stamp(indicator, by, reason)
        indicator.save()
    if errors:
        transaction.set_rollback(True)
        raise ValidationError(errors)
    for key, indicator in existing.items():
        if key not in seen:
            _stamp(indicator, by, reason)
            indicator.delete()
            counts["removed"] += 1
    # Sub-areas and areas whose rows all went go too (sub-areas first); an area that held no row before (the
    # national edition's 工作成效, none of whose indicators was found) stays for the province to fill.
    held_before |= {s.parent_id for s in sections.values() if s.pk in held_before and s.parent_id}
    for section in sorted(sections.values(), key=lambda s: s.parent_id is None):
        if section.pk in held_before and section.pk not in kept_sections and not section.indicators.exists() \
                and not section.children.exists():
            section.delete()
    return counts


_LEVEL_NAMES = {"省": "province", "省级": "province", "市": "city", "市级": "city", "县": "county", "县级": "county"}


def _field_label(name: str) -> str:
    if name == "__all__":
        return ""
    return str(getattr(Indicator._meta.get_field(name), "verbose_name", name))


def _stamp(record: Any, by: Any, reason: str) -> None:
    record._history_user = by
    record._change_reason = reason


def scheme_copy(source: EvaluationScheme, *, province: Region, code: str, name: str, by: Any = None) -> EvaluationScheme:
    """A province's 细则 started from ``source`` (see EvaluationScheme.copy_for)."""
    return source.copy_for(province=province, code=code, name=name, by=by)


def grouped(scheme: EvaluationScheme, indicators: Iterable[Indicator] | None = None) -> list[dict[str, Any]]:
    """The scheme's indicators grouped by area and sub-area, in order, for a page."""
    rows = list(indicators if indicators is not None
                else scheme.indicators.select_related("section__parent").order_by("order", "number"))
    areas: dict[Any, dict[str, Any]] = {}
    for indicator in rows:
        section = indicator.section
        area = section.parent or section
        entry = areas.setdefault(area.pk, {"area": area, "groups": {}})
        group = entry["groups"].setdefault(section.pk if section.parent_id else None,
                                           {"section": section if section.parent_id else None, "indicators": []})
        group["indicators"].append(indicator)
    return [{"area": e["area"], "groups": list(e["groups"].values())}
            for e in sorted(areas.values(), key=lambda e: (e["area"].order, e["area"].number))]
