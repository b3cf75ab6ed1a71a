"""Template tags of interviews and circulars: which of its pages the menu offers the signed-in user."""

from __future__ import annotations

from django import template

register = template.Library()


@register.simple_tag(takes_context=True)
def interview_menu(context: template.Context) -> dict[str, bool]:
    from workflows.interview.views import interview_menu as entries

    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    cached: dict[str, bool] | None = getattr(request, "_anmu_interview_menu", None)
    if cached is None:
        cached = entries(user)
        request._anmu_interview_menu = cached  # type: ignore[union-attr]
    return cached
