"""The admin: every change asks for a reason (kept in history) and every list is scoped to the admin's area."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from organisations.models import AccessLog, DutyShift, Institution, Membership, Region, RescueCentre, User
from organisations.scoping import forget_scope
from organisations.selectors import (
    visible_access_logs,
    visible_institutions,
    visible_memberships,
    visible_regions,
    visible_rescue_centres,
    visible_users,
)


class ReadOnlyAdminMixin:
    """Records written by the system (alerts, deadlines, access log): shown, never edited here."""

    def has_add_permission(self, request):  # type: ignore[no-untyped-def]
        return False

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False

    def has_delete_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False


class ReasonForm(forms.ModelForm):
    change_reason = forms.CharField(
        label=_("Reason for this change"), max_length=100, required=True,
        help_text=_("Kept in the record's history with your name and the time."),
    )


class ReasonAdminMixin:
    """Require a change reason and store it, with the user, on the history row."""

    reason_form = ReasonForm
    scoped_fk_selectors: dict[str, Any] = {}

    def get_form(self, request, obj=None, change=False, **kwargs):  # type: ignore[no-untyped-def]
        kwargs.setdefault("form", type(f"{self.model.__name__}ReasonForm", (self.reason_form,), {}))  # type: ignore[attr-defined]
        form = super().get_form(request, obj, change=change, **kwargs)  # type: ignore[misc]
        return form

    def get_fieldsets(self, request, obj=None):  # type: ignore[no-untyped-def]
        fieldsets = list(super().get_fieldsets(request, obj))  # type: ignore[misc]
        names = [f for _name, opts in fieldsets for f in opts.get("fields", ())]
        if "change_reason" not in names:
            fieldsets.append((_("Why"), {"fields": ("change_reason",)}))
        return fieldsets

    def save_model(self, request, obj, form, change):  # type: ignore[no-untyped-def]
        obj._change_reason = form.cleaned_data.get("change_reason", "")
        obj._history_user = request.user
        super().save_model(request, obj, form, change)  # type: ignore[misc]

    def formfield_for_foreignkey(self, db_field, request, **kwargs):  # type: ignore[no-untyped-def]
        selector = self.scoped_fk_selectors.get(db_field.name)
        if selector is not None:
            kwargs["queryset"] = selector(request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)  # type: ignore[misc]

    def formfield_for_manytomany(self, db_field, request, **kwargs):  # type: ignore[no-untyped-def]
        selector = self.scoped_fk_selectors.get(db_field.name)
        if selector is not None:
            kwargs["queryset"] = selector(request.user)
        return super().formfield_for_manytomany(db_field, request, **kwargs)  # type: ignore[misc]


@admin.register(Region)
class RegionAdmin(ReasonAdminMixin, SimpleHistoryAdmin):
    list_display = ("code", "name", "level", "parent")
    list_filter = ("level",)
    search_fields = ("code", "name")
    scoped_fk_selectors = {"parent": visible_regions}

    def get_queryset(self, request):  # type: ignore[no-untyped-def]
        return visible_regions(request.user).select_related("parent")


@admin.register(Institution)
class InstitutionAdmin(ReasonAdminMixin, SimpleHistoryAdmin):
    list_display = ("name", "kind", "level", "region", "is_active")
    list_filter = ("kind", "level", "is_active")
    search_fields = ("name",)
    scoped_fk_selectors = {"region": visible_regions}

    def get_queryset(self, request):  # type: ignore[no-untyped-def]
        return visible_institutions(request.user)


@admin.register(RescueCentre)
class RescueCentreAdmin(ReasonAdminMixin, SimpleHistoryAdmin):
    list_display = ("institution", "level", "duty_phone", "is_active")
    list_filter = ("level", "is_active")
    filter_horizontal = ("regions",)
    scoped_fk_selectors = {"institution": visible_institutions, "regions": visible_regions}

    def get_queryset(self, request):  # type: ignore[no-untyped-def]
        return visible_rescue_centres(request.user)


@admin.register(Membership)
class MembershipAdmin(ReasonAdminMixin, SimpleHistoryAdmin):
    list_display = ("user", "institution", "role", "is_active")
    list_filter = ("role", "is_active")
    search_fields = ("user__username", "user__name", "institution__name")
    scoped_fk_selectors = {"institution": visible_institutions, "user": visible_users}

    def get_queryset(self, request):  # type: ignore[no-untyped-def]
        return visible_memberships(request.user)

    def save_model(self, request, obj, form, change):  # type: ignore[no-untyped-def]
        super().save_model(request, obj, form, change)
        forget_scope(obj.user)


@admin.register(User)
class UserAdmin(ReasonAdminMixin, SimpleHistoryAdmin, DjangoUserAdmin):
    list_display = ("username", "name", "phone_masked", "is_active", "is_staff")
    search_fields = ("username", "name")
    fieldsets = (
        (None, {"fields": ("username", "password")}),
        (_("Personal info"), {"fields": ("name", "phone", "email")}),
        (_("Permissions"), {"fields": ("is_active", "is_staff", "is_superuser")}),
    )
    add_fieldsets = (
        (None, {"classes": ("wide",), "fields": ("username", "name", "phone", "password1", "password2")}),
    )

    def get_form(self, request, obj=None, change=False, **kwargs):  # type: ignore[no-untyped-def]
        if obj is None:  # the add form is Django's own two-password form
            return DjangoUserAdmin.get_form(self, request, obj, change=change, **kwargs)
        kwargs["form"] = type("UserChangeReasonForm", (ReasonForm, self.form), {})
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fieldsets(self, request, obj=None):  # type: ignore[no-untyped-def]
        if obj is None:
            return self.add_fieldsets
        return super().get_fieldsets(request, obj)

    @admin.display(description=_("mobile phone"))
    def phone_masked(self, obj: User) -> str:
        return obj.phone_masked

    def get_queryset(self, request):  # type: ignore[no-untyped-def]
        return visible_users(request.user)


@admin.register(AccessLog)
class AccessLogAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("at", "user", "action", "object_type", "summary", "region")
    list_filter = ("action", "object_type")
    date_hierarchy = "at"

    def get_queryset(self, request):  # type: ignore[no-untyped-def]
        return visible_access_logs(request.user)


@admin.register(DutyShift)
class DutyShiftAdmin(ReasonAdminMixin, SimpleHistoryAdmin):
    list_display = ("institution", "user", "kind", "starts_at", "ends_at")
    list_filter = ("kind",)
    date_hierarchy = "starts_at"
    scoped_fk_selectors = {"institution": visible_institutions, "user": visible_users}

    def get_queryset(self, request):  # type: ignore[no-untyped-def]
        return DutyShift.objects.filter(institution__in=visible_institutions(request.user)).select_related(
            "institution", "user")
