"""Rows of the high-risk worklists and register, built in Python.

A list page shows up to 200 rows; through templates each row cost about 0.5 ms (an ``{% include %}``
per row and per colour chip, ``{% url %}``, ``get_state_display`` and ``|date``), more than all the
page's SQL at 10,000 cases (benchmarks/worklists.py). As Django's admin does for its change list
(``admin_list.items_for_result``), the cells are assembled with ``format_html``: the same markup,
escaped the same way, in a fraction of the time. ``anmu/colour_chip.html`` renders through
``colour_chip`` below, so the chip's markup is written once.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from django import template
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext

from cases.models import HighRiskCase

register = template.Library()

_URL_PLACEHOLDER = uuid.UUID(int=0)


def _chip_labels() -> dict[str, str]:
    return {"green": gettext("Green"), "yellow": gettext("Yellow"), "orange": gettext("Orange"),
            "red": gettext("Red")}


@register.simple_tag
def colour_chip(colour: str | None, purple: bool | None) -> SafeString:
    """The colour badge: the colour (if graded), purple (if so), or "Not graded"."""
    return _chip(colour, purple, _chip_labels())


def _chip(colour: str | None, purple: bool | None, labels: dict[str, str]) -> SafeString:
    parts = []
    if colour:
        parts.append(format_html('<span class="anmu-colour anmu-colour--{}" data-colour="{}">{}</span>',
                                 colour, colour, labels.get(colour, "")))
    if purple:
        parts.append(format_html('<span class="anmu-colour anmu-colour--purple" data-colour="purple">{}</span>',
                                 gettext("Purple")))
    if not colour and not purple:
        parts.append(format_html('<span class="anmu-muted">{}</span>', gettext("Not graded")))
    return mark_safe("".join(parts))  # noqa: S308  (every part comes from format_html)


class _RowKit:
    """What every row of one page shares: translated labels and the case URL pattern, made once."""

    def __init__(self) -> None:
        self.chip_labels = _chip_labels()
        self.states = {value: str(label) for value, label in HighRiskCase.State.choices}
        self.overdue = gettext("overdue")
        self.url = reverse("highrisk:case_detail", args=[_URL_PLACEHOLDER])

    def case_url(self, pk: Any) -> str:
        return self.url.replace(str(_URL_PLACEHOLDER), str(pk))


@register.simple_tag(takes_context=True)
def case_row(context: template.Context, case: HighRiskCase, today: dt.date) -> SafeString:
    """One ``<tr data-testid="case-row">``: name (link), risk, state, institution, doctor, next visit.
    Needs ``pregnancy__woman``, ``institution`` and ``responsible_doctor`` selected with the case."""
    kit = context.render_context.get("highrisk_row_kit")
    if kit is None:
        kit = context.render_context["highrisk_row_kit"] = _RowKit()
    visit = case.next_visit_at
    overdue = bool(visit and visit < today)
    return format_html(
        '<tr data-testid="case-row" data-colour="{}">\n'
        '  <td><a href="{}">{}</a></td>\n'
        "  <td>{}</td>\n"
        "  <td>{}</td>\n"
        "  <td>{}</td>\n"
        "  <td>{}</td>\n"
        "  <td{}>{}{}</td>\n"
        "</tr>",
        case.colour, kit.case_url(case.pk), case.pregnancy.woman.name,
        _chip(case.colour, case.purple, kit.chip_labels),
        kit.states.get(case.state, case.state), case.institution.name, str(case.responsible_doctor),
        mark_safe(' class="anmu-overdue"') if overdue else "",  # noqa: S308  (a constant)
        visit.isoformat() if visit else "—", f" · {kit.overdue}" if overdue else "",
    )


@register.filter
def sees_late_overview(user: Any) -> bool:
    """Whether the menu offers the overview of late work (the MCH officers')."""
    from workflows.registers.selectors import may_see_overview

    return may_see_overview(user)
