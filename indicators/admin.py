"""Admin pages for indicators and their targets, scoped like organisations/admin.py: every change asks for a
reason (kept in history); a system admin sees the national rows and her province's, and changes only her
province's, and only when she administers the province itself. The national rows are a superuser's."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.db import models
from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _gettext
from simple_history.admin import SimpleHistoryAdmin

from cases.models import PrenatalDataElement, PrenatalIndicator
from indicators.measures import measure_choices
from indicators.models import Indicator, IndicatorTarget
from organisations.admin import ReasonAdminMixin
from organisations.administration import is_superuser
from organisations.models import Region
from organisations.scoping import user_scope


def administered_provinces(user: Any) -> QuerySet[Region]:
    """The provinces whose indicators and targets the user changes: all for a superuser; else those of her
    system-admin memberships at a province-level institution."""
    if is_superuser(user):
        return Region.objects.filter(level=Region.Level.PROVINCE)
    codes = [code for level, code in user_scope(user).admin_areas if level == Region.Level.PROVINCE]
    return Region.objects.filter(level=Region.Level.PROVINCE, code__in=codes)


def seen_provinces(user: Any) -> list[str]:
    """The provinces of every area the user sees (their rows are shown to her, read-only unless hers)."""
    scope = user_scope(user)
    codes = {code for _level, code in scope.areas}
    return list(Region.objects.filter(code__in=codes).values_list("province_id", flat=True).distinct())


def _province_denial(user: Any, province_id: str | None) -> str | None:
    if is_superuser(user):
        return None
    if province_id is None:
        return _gettext("Only a superuser changes the national indicators and targets.")
    if not administered_provinces(user).filter(pk=province_id).exists():
        return _gettext("You change the indicators and targets of the province you administer only.")
    return None


class IndicatorForm(forms.ModelForm):
    numerator = forms.ChoiceField(choices=measure_choices)
    denominator = forms.ChoiceField(choices=lambda: [("", "---------"), *measure_choices()], required=False)

    class Meta:
        model = Indicator
        fields = ["code", "province", "name_zh", "name_en", "definition", "unit", "numerator", "denominator",
                  "multiplier", "attribution", "order", "active"]


class ScopedByProvinceMixin(ReasonAdminMixin):
    scoped_fk_selectors = {"province": administered_provinces}

    def get_queryset(self, request):  # type: ignore[no-untyped-def]
        qs = super().get_queryset(request)  # type: ignore[misc]
        if is_superuser(request.user):
            return qs
        return qs.filter(Q(province__isnull=True) | Q(province_id__in=seen_provinces(request.user)))

    def may_change(self, request, obj) -> bool:  # type: ignore[no-untyped-def]
        return _province_denial(request.user, obj.province_id) is None

    def denial(self, request, form) -> str | None:  # type: ignore[no-untyped-def]
        return _province_denial(request.user, form.instance.province_id)

    def has_delete_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False  # a figure no longer wanted is made inactive (its history stays)


@admin.register(Indicator)
class IndicatorAdmin(ScopedByProvinceMixin, SimpleHistoryAdmin):
    """A province adds a ratio of existing measures (two measures of one attribution) without code."""

    form = IndicatorForm
    list_display = ("code", "name_zh", "unit", "numerator", "denominator", "province", "order", "active")
    list_filter = ("active", "unit", "attribution")
    search_fields = ("code", "name_zh", "name_en")


@admin.register(IndicatorTarget)
class IndicatorTargetAdmin(ScopedByProvinceMixin, SimpleHistoryAdmin):
    list_display = ("indicator", "province", "comparison", "value", "source_note")
    list_filter = ("comparison",)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):  # type: ignore[no-untyped-def]
        if db_field.name == "indicator" and not is_superuser(request.user):
            kwargs["queryset"] = Indicator.objects.filter(
                Q(province__isnull=True) | Q(province__in=administered_provinces(request.user)))
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_queryset(self, request):  # type: ignore[no-untyped-def]
        return super().get_queryset(request).select_related("indicator", "province")


# --- Prenatal screening and diagnosis QC definitions (cases/models/prenatal.py) ---------------------------------
# Their records belong to ``cases``; their admin sits here, beside the other indicators, with the same rule: a
# province's system admin adds and changes her province's own elements and indicators (origin "added by the
# province"), and reads the national ones, which only a superuser changes.


# The source address field's form field assumes https (Django 6's default) rather than warn.
URL_OVERRIDES: dict[Any, dict[str, Any]] = {models.URLField: {"assume_scheme": "https"}}


@admin.register(PrenatalDataElement)
class PrenatalDataElementAdmin(ScopedByProvinceMixin, SimpleHistoryAdmin):
    formfield_overrides = URL_OVERRIDES
    list_display = ("code", "name_zh", "licence", "origin", "province", "order", "active")
    list_filter = ("active", "licence", "origin")
    search_fields = ("code", "name_zh", "name_en")


@admin.register(PrenatalIndicator)
class PrenatalIndicatorAdmin(ScopedByProvinceMixin, SimpleHistoryAdmin):
    formfield_overrides = URL_OVERRIDES
    list_display = ("code", "name_zh", "numerator", "denominator", "unit", "licence", "origin", "province", "order",
                    "active")
    list_filter = ("active", "licence", "origin", "unit")
    search_fields = ("code", "name_zh", "name_en")

    def formfield_for_foreignkey(self, db_field, request, **kwargs):  # type: ignore[no-untyped-def]
        if db_field.name in ("numerator", "denominator") and not is_superuser(request.user):
            kwargs["queryset"] = PrenatalDataElement.objects.filter(
                Q(province__isnull=True) | Q(province__in=administered_provinces(request.user)))
        return super().formfield_for_foreignkey(db_field, request, **kwargs)
