"""``{{ record.history_change_reason|reason }}``: a stored history reason in the page's language."""

from __future__ import annotations

from django import template

from organisations.reasons import reason_display

register = template.Library()


@register.filter(name="reason")
def reason(value: str | None) -> str:
    return reason_display(value)
