"""Admin: risk rule sets (the colour tables) and province settings are data, edited here with a reason."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from simple_history.admin import SimpleHistoryAdmin

from cases.models import (
    EvaluationIndicator,
    EvaluationScheme,
    EvaluationSection,
    InterviewTrigger,
    ProvinceSettings,
    RiskRule,
    RuleSet,
    Summoned,
)
from cases.models.evaluation import EVALUATION_INDICATOR_CHOICES
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


# --- Evaluation schemes (评估方案) -----------------------------------------------------------------------


def scheme_provinces(user: Any) -> Any:
    """The provinces whose evaluation 细则 the user edits (like the trigger rules: the province's administrator)."""
    return administered_regions(user).filter(level=Region.Level.PROVINCE)


def _scheme_editable(request: Any, scheme: Any) -> bool:
    if scheme is None:
        return True
    if scheme.province_id is None:
        return is_superuser(request.user)  # the national edition changes with a release
    return scheme_provinces(request.user).filter(pk=scheme.province_id).exists()


def _schemes_seen(request: Any) -> Any:
    from django.db.models import Q

    if is_superuser(request.user):
        return EvaluationScheme.objects.all()
    return EvaluationScheme.objects.filter(Q(province__isnull=True)
                                           | Q(province__in=scheme_provinces(request.user)))


class EvaluationSectionInline(admin.TabularInline):
    model = EvaluationSection
    extra = 0
    fields = ("order", "number", "name", "parent")
    ordering = ("order",)

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return _scheme_editable(request, obj) and super().has_change_permission(request, obj)

    has_add_permission = has_change_permission  # type: ignore[assignment]
    has_delete_permission = has_change_permission  # type: ignore[assignment]


@admin.register(EvaluationScheme)
class EvaluationSchemeAdmin(ReasonAdminMixin, SimpleHistoryAdmin):
    """The evaluation schemes: the national edition (read-only but to a release) and each province's 细则, copied
    from it and completed by the province's system administrator."""

    list_display = ("name", "code", "edition", "province", "is_active")
    list_filter = ("edition", "is_active")
    inlines = [EvaluationSectionInline]
    scoped_fk_selectors = {"province": scheme_provinces}
    actions = ["copy_for_my_province"]

    def get_queryset(self, request):  # type: ignore[no-untyped-def]
        return super().get_queryset(request).filter(pk__in=_schemes_seen(request).values("pk"))

    def may_change(self, request, obj) -> bool:  # type: ignore[no-untyped-def]
        return _scheme_editable(request, obj)

    def denial(self, request, form) -> str | None:  # type: ignore[no-untyped-def]
        province = form.cleaned_data.get("province") if hasattr(form, "cleaned_data") else None
        if province is None and not is_superuser(request.user):
            return _("A scheme you add is your province's: choose the province.")
        if province is not None and not scheme_provinces(request.user).filter(pk=province.pk).exists():
            return _("You keep the evaluation rules of your own province only.")
        return None

    @admin.action(description=gettext_lazy("Copy as my province's implementation rules (细则)"))
    def copy_for_my_province(self, request, queryset):  # type: ignore[no-untyped-def]
        provinces = list(scheme_provinces(request.user))
        if len(provinces) != 1:
            messages.error(request, _("Copying needs exactly one province that you administer."))
            return
        province = provinces[0]
        for source in queryset:
            number = EvaluationScheme.objects.filter(province=province, edition=source.edition).count() + 1
            copy = source.copy_for(province=province, code=f"{province.code}-{source.edition}-{number}",
                                   name=_("%(province)s implementation rules (from %(name)s)") % {
                                       "province": province.name, "name": source.name}, by=request.user)
            messages.success(request, _("Created %(name)s: complete its indicators, targets and points.")
                             % {"name": copy.name})


class EvaluationIndicatorForm(ReasonForm):
    computed_from = forms.ChoiceField(label=gettext_lazy("computed from"), required=False, choices=())

    class Meta:
        model = EvaluationIndicator
        exclude = ("origin",)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["computed_from"].choices = [("", "---------")] + [  # type: ignore[attr-defined]
            choice for hook in EVALUATION_INDICATOR_CHOICES for choice in hook()]
        self.fields["computed_from"].help_text = EvaluationIndicator._meta.get_field("computed_from").help_text


@admin.register(EvaluationIndicator)
class EvaluationIndicatorAdmin(ReasonAdminMixin, SimpleHistoryAdmin):
    """One indicator of a scheme. A row the province adds is the province's; a national row whose definition or
    target it changes becomes the province's (EvaluationIndicator.save), so nothing invented shows as national."""

    reason_form = EvaluationIndicatorForm
    list_display = ("number", "name", "scheme", "target_type", "points", "subject", "origin")
    list_filter = ("scheme", "origin", "target_type", "subject")
    readonly_fields = ("origin",)
    search_fields = ("name", "number")

    def get_queryset(self, request):  # type: ignore[no-untyped-def]
        return super().get_queryset(request).filter(scheme__in=_schemes_seen(request)).select_related("scheme")

    def formfield_for_foreignkey(self, db_field, request, **kwargs):  # type: ignore[no-untyped-def]
        editable = _schemes_seen(request)
        if not is_superuser(request.user):
            editable = editable.filter(province__isnull=False)
        if db_field.name == "scheme":
            kwargs["queryset"] = editable
        if db_field.name == "section":
            kwargs["queryset"] = EvaluationSection.objects.filter(scheme__in=editable).select_related("scheme")
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def may_change(self, request, obj) -> bool:  # type: ignore[no-untyped-def]
        return _scheme_editable(request, obj.scheme)

    def denial(self, request, form) -> str | None:  # type: ignore[no-untyped-def]
        scheme = form.cleaned_data.get("scheme") if hasattr(form, "cleaned_data") else None
        if scheme is not None and not _scheme_editable(request, scheme):
            return _("The national edition changes with a release; edit your province's implementation rules.")
        return None

    def save_model(self, request, obj, form, change):  # type: ignore[no-untyped-def]
        if not change:
            obj.origin = "province"  # a row added here is the province's, never national
        super().save_model(request, obj, form, change)
