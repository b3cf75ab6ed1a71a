"""Admin: the holiday calendar (editable, with a reason) and deadlines (read-only, for operators)."""

from __future__ import annotations

from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from organisations.admin import ReadOnlyAdminMixin, ReasonAdminMixin
from workflows.models import CalendarDay, Deadline


@admin.register(CalendarDay)
class CalendarDayAdmin(ReasonAdminMixin, SimpleHistoryAdmin):
    list_display = ("date", "kind", "name")
    list_filter = ("kind",)
    date_hierarchy = "date"


@admin.register(Deadline)
class DeadlineAdmin(ReadOnlyAdminMixin, SimpleHistoryAdmin):
    list_display = ("due_at", "kind", "state", "subject_type", "subject_id", "attempts", "last_error")
    list_filter = ("state", "kind")
    date_hierarchy = "due_at"

    def has_module_permission(self, request):  # type: ignore[no-untyped-def]
        return request.user.is_superuser

    def has_view_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return request.user.is_superuser

