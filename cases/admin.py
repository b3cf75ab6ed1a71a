"""Admin: risk rule sets (the colour tables) and province settings are data, edited here with a reason."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from simple_history.admin import SimpleHistoryAdmin

from cases.models import InterviewTrigger, ProvinceSettings, RiskRule, RuleSet, Summoned
from cases.models.interview import TRIGGER_INDICATOR_CHOICES
from organisations.admin import ReasonAdminMixin, ReasonForm
from organisations.administration import administered_regions, is_superuser
from organisations.models import Region
from organisations.scoping import scope_q, user_scope
from organisations.selectors import visible_regions


class RiskRuleInline(admin.TabularInline):
    model = RiskRule
    extra = 0
    fields = ("order", "code", "colour", "text", "text_en", "section", "group", "group_text", "source")
    ordering = ("order",)


def _province_scoped(qs: Any, request: Any) -> Any:
    if user_scope(request.user).everything:
        return qs
    from django.db.models import Q

    return qs.filter(scope_q(request.user, region_field="province") | Q(province__isnull=True))


@admin.register(RuleSet)
class RuleSetAdmin(ReasonAdminMixin, SimpleHistoryAdmin):
    list_display = ("code", "version", "name", "province", "effective_from", "hbsag_carrier_purple", "std_purple")
    list_filter = ("code",)
    inlines = [RiskRuleInline]
    scoped_fk_selectors = {"province": visible_regions}
    actions = ["copy_as_new_version"]

    def get_queryset(self, request):  # type: ignore[no-untyped-def]
        return _province_scoped(super().get_queryset(request), request)

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        if obj is not None and obj.province_id is None and not request.user.is_superuser:
            return False  # the national table is changed by a release, not by a province
        return super().has_change_permission(request, obj)

    @admin.action(description=gettext_lazy("Copy (the national table: as a province's draft; a province's: as its "
                                           "next version)"))
    def copy_as_new_version(self, request, queryset):  # type: ignore[no-untyped-def]
        for source in queryset:
            with transaction.atomic():
                copy = RuleSet.objects.get(pk=source.pk)
                copy.pk = None
                copy.id = None
                if source.province_id is None:
                    # A province starts its own table from the national one, under a code of its own.
                    number = RuleSet.objects.filter(code__startswith="province-draft").count() + 1
                    copy.code, copy.version = f"province-draft-{number}", 1
                    copy.name = _("Provincial table (draft, from %(name)s)") % {"name": source.name}
                else:
                    latest = RuleSet.objects.filter(code=source.code).order_by("-version").first()
                    copy.version = (latest.version if latest else 0) + 1
                copy.based_on = source
                copy._history_user = request.user  # type: ignore[attr-defined]
                copy._change_reason = f"copied from v{source.version}"  # type: ignore[attr-defined]
                copy.save()
                for rule in source.rules.all():
                    rule.pk = None
                    rule.ruleset = copy
                    rule._history_user = request.user  # type: ignore[attr-defined]
                    rule._change_reason = "copied"  # type: ignore[attr-defined]
                    rule.save()
            messages.success(request, _("Created %(code)s version %(version)s; set its province and date, then "
                                        "add, remove or recolour rows.") % {"code": copy.code,
                                                                            "version": copy.version})


@admin.register(ProvinceSettings)
class ProvinceSettingsAdmin(ReasonAdminMixin, SimpleHistoryAdmin):
    list_display = ("province", "effective_from", "screen_positive_assess_days", "report_orange_hours",
                    "report_red_hours", "followup_days_red", "followup_days_orange")
    scoped_fk_selectors = {"province": visible_regions}

    def get_queryset(self, request):  # type: ignore[no-untyped-def]
        return _province_scoped(super().get_queryset(request), request)

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        if obj is not None and obj.province_id is None and not request.user.is_superuser:
            return False
        return super().has_change_permission(request, obj)


def trigger_provinces(user: Any) -> Any:
    """The provinces whose interview trigger rules ``user`` edits: a superuser all; a system admin those of
    the provincial area she administers (a county's or a city's administrator does not set a province's rules)."""
    return administered_regions(user).filter(level=Region.Level.PROVINCE)


class InterviewTriggerForm(ReasonForm):
    summoned = forms.MultipleChoiceField(label=gettext_lazy("who must attend"), choices=Summoned.choices,
                                         widget=forms.CheckboxSelectMultiple, required=False)

    indicator = forms.ChoiceField(label=gettext_lazy("indicator"), required=False, choices=())

    class Meta:
        model = InterviewTrigger
        fields = ("province", "kind", "indicator", "threshold", "period_days", "party", "convener", "summoned",
                  "is_active")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["indicator"].choices = [("", "---------")] + [  # type: ignore[attr-defined]
            choice for hook in TRIGGER_INDICATOR_CHOICES for choice in hook()]
        self.fields["indicator"].help_text = InterviewTrigger._meta.get_field("indicator").help_text

    def clean_threshold(self) -> int:
        threshold = self.cleaned_data["threshold"]
        if threshold < 1:
            raise forms.ValidationError(gettext_lazy("The threshold is at least 1."))
        return threshold

    def clean_period_days(self) -> int:
        days = self.cleaned_data["period_days"]
        if not 1 <= days <= 731:
            raise forms.ValidationError(gettext_lazy("The period is between 1 and 731 days."))
        return days


@admin.register(InterviewTrigger)
class InterviewTriggerAdmin(ReasonAdminMixin, SimpleHistoryAdmin):
    """A province's rules for Anmu to propose interviews (约谈触发规则): data, edited with a reason by the
    province's system administrator; the nightly sweep reads the active ones."""

    reason_form = InterviewTriggerForm
    list_display = ("kind", "province", "threshold", "period_days", "party", "convener", "is_active")
    list_filter = ("kind", "is_active")
    scoped_fk_selectors = {"province": trigger_provinces}

    def get_queryset(self, request):  # type: ignore[no-untyped-def]
        qs = super().get_queryset(request).select_related("province")
        if is_superuser(request.user):
            return qs
        return qs.filter(province__in=trigger_provinces(request.user))

    def may_change(self, request, obj) -> bool:  # type: ignore[no-untyped-def]
        return trigger_provinces(request.user).filter(pk=obj.province_id).exists()

    def denial(self, request, form) -> str | None:  # type: ignore[no-untyped-def]
        province = form.cleaned_data.get("province") if hasattr(form, "cleaned_data") else None
        if province is not None and not trigger_provinces(request.user).filter(pk=province.pk).exists():
            return _("You set the trigger rules of your own province only.")
        return None
