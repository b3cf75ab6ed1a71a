"""Template tags of the death-report application: which of its pages the menu offers the signed-in user."""

from __future__ import annotations

from typing import Any

from django import template

register = template.Library()


@register.simple_tag(takes_context=True)
def death_menu(context: template.Context) -> dict[str, bool]:
    from workflows.death.views import death_menu as entries

    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    cached: dict[str, bool] | None = getattr(request, "_anmu_death_menu", None)
    if cached is None:
        cached = entries(user)
        request._anmu_death_menu = cached  # type: ignore[union-attr]
    return cached


@register.simple_tag(takes_context=True)
def death_accesses(context: template.Context, report: Any) -> list[Any] | None:
    """Who broke the glass on ``report``, newest first, for the MCH officers of its levels (None: not shown)."""
    from workflows.death.selectors import record_accesses_for

    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return None
    return record_accesses_for(user=user, report=report)


@register.simple_tag(takes_context=True)
def report_measures(context: template.Context, report: Any) -> dict[str, Any]:
    """The report page's improvement measures section: the measures the user sees and whether she may add one."""
    from workflows.death.views import report_measures as section

    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return section(user=user, report=report)
