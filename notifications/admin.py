"""Admin: escalation policies are settings (editable with a reason); alerts are read-only records."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from notifications.models import Alert, AlertPolicy
from organisations.admin import ReadOnlyAdminMixin, ReasonAdminMixin
from organisations.scoping import scope_q, user_scope
from organisations.selectors import visible_regions


@admin.register(AlertPolicy)
class AlertPolicyAdmin(ReasonAdminMixin, SimpleHistoryAdmin):
    list_display = ("province", "kind", "ack_minutes", "chain", "sms_after_escalation")
    list_filter = ("province",)
    scoped_fk_selectors = {"province": visible_regions}

    def get_queryset(self, request):  # type: ignore[no-untyped-def]
        qs = super().get_queryset(request)
        if user_scope(request.user).everything:
            return qs
        # The national rows are shown (read-only below) so a province can see what it overrides.
        return qs.filter(scope_q(request.user, region_field="province") | Q(province__isnull=True))

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        if obj is not None and obj.province_id is None and not request.user.is_superuser:
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return request.user.is_superuser


@admin.register(Alert)
class AlertAdmin(ReadOnlyAdminMixin, SimpleHistoryAdmin):
    list_display = ("created_at", "priority", "kind", "recipient", "institution", "acknowledged_at",
                    "acknowledged_by", "closed_reason", "escalation_level")
    list_filter = ("priority", "kind", "closed_reason")
    date_hierarchy = "created_at"

    @admin.display(description=_("title"))
    def title_text(self, obj: Alert) -> str:
        return obj.title_text

    def get_queryset(self, request):  # type: ignore[no-untyped-def]
        return super().get_queryset(request).filter(scope_q(request.user, region_field="region"))
