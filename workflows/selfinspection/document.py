"""The report as a Word document (.docx, python-docx): the title, one heading and table of figures per system,
the problems found, and the narrative sections. A4, with the East Asian font set on every style it uses, so
Word shows the Chinese text in 宋体 (headings in 黑体) rather than a fallback."""

from __future__ import annotations

import io
from typing import Any

from django.utils import translation
from django.utils.translation import gettext as _

from workflows.selfinspection.kinds import kind_of

BODY_FONT = ("SimSun", "宋体")
HEADING_FONT = ("SimHei", "黑体")
NUMERALS = "一二三四五六七八九十"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def _set_font(style: Any, font: tuple[str, str], *, size: float | None = None) -> None:
    from docx.oxml.ns import qn
    from docx.shared import Pt, RGBColor

    latin, east_asian = font
    style.font.name = latin
    style.font.color.rgb = RGBColor(0, 0, 0)
    if size is not None:
        style.font.size = Pt(size)
    fonts = style.element.get_or_add_rPr().get_or_add_rFonts()
    fonts.set(qn("w:eastAsia"), east_asian)


def _document() -> Any:
    from docx import Document
    from docx.shared import Mm

    document = Document()
    section = document.sections[0]
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.left_margin = section.right_margin = Mm(25)
    section.top_margin = section.bottom_margin = Mm(25)
    _set_font(document.styles["Normal"], BODY_FONT, size=12)
    _set_font(document.styles["Title"], HEADING_FONT, size=20)
    for name, size in (("Heading 1", 16), ("Heading 2", 14)):
        _set_font(document.styles[name], HEADING_FONT, size=size)
    for name in ("Table Grid", "List Number"):
        _set_font(document.styles[name], BODY_FONT)
    return document


def numbered(number: int, title: Any, *, sub: bool = False) -> str:
    """A numbered heading as an official Chinese document numbers them (一、… and （一）… below it), or "1. …"
    in English."""
    if (translation.get_language() or "zh-hans").lower().startswith("zh") and number <= len(NUMERALS):
        return f"（{NUMERALS[number - 1]}）{title}" if sub else f"{NUMERALS[number - 1]}、{title}"
    return f"{number}. {title}"


def _figures_table(document: Any, rows: list[dict[str, Any]]) -> None:
    table = document.add_table(rows=1, cols=4)
    table.style = document.styles["Table Grid"]
    for cell, text in zip(table.rows[0].cells, (_("Figure"), _("Value"), _("Numerator / denominator"),
                                                _("Target")), strict=True):
        cell.text = text
        for run in cell.paragraphs[0].runs:
            run.bold = True
    for row in rows:
        target = row.get("target")
        if target is None:
            target_text = "—"
        else:
            verdict = {True: _("met"), False: _("not met"), None: _("not judged")}[target["met"]]
            target_text = f"{target['display']}（{verdict}）"
        cells = table.add_row().cells
        for cell, text in zip(cells, (row["label"], row["display"], row["ratio"] or "—", target_text), strict=True):
            cell.text = text


def report_docx(*, report: Any, content: dict[str, Any]) -> bytes:
    """The .docx of ``report`` (its narrative) with ``content`` (services.report_content: figures, problems)."""
    kind = kind_of(report.kind)
    document = _document()
    document.add_paragraph(content["title"], style="Title")
    state = _("Finalised") if report.is_final else _("Draft")
    document.add_paragraph(_("Data year %(span)s · figures as of %(as_of)s · %(state)s") % {
        "span": content["span"], "as_of": content["as_of"], "state": state})

    document.add_heading(numbered(1, _("The five systems in figures")), level=1)
    for number, section in enumerate(content["sections"], start=1):
        document.add_heading(numbered(number, section["title"], sub=True), level=2)
        _figures_table(document, section["rows"])

    document.add_heading(numbered(2, _("Problems found from the records")), level=1)
    if content["problems"]:
        for found in content["problems"]:
            document.add_paragraph(found["text"], style="List Number")
    else:
        document.add_paragraph(_("No problem was found from the records."))

    for number, section in enumerate(kind.sections, start=3):
        document.add_heading(numbered(number, section.title), level=1)
        text = getattr(report, section.field) or ""
        for paragraph in text.splitlines() or [""]:
            document.add_paragraph(paragraph)

    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()
