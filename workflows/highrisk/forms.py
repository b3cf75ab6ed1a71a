"""Forms of the high-risk case actions. None lists the case's state: it changes only through services."""

from __future__ import annotations

from collections.abc import Mapping
from html import escape  # what django.utils.html.escape does, without its lazy-string wrapper
from typing import Any

from django import forms
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext_lazy as _

from cases.limits import NARRATIVE_MAX_CHARS, REASON_MAX_CHARS
from cases.models import CasePlan, HighRiskCase, TracingAttempt
from organisations.models import Institution, RescueCentre, User
from workflows.forms import DateInput, DateTimeLocalInput, EmptyForm, ReasonForm  # noqa: F401  (the pages' forms)


class PlanForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=CasePlan.Kind.choices)
    text = forms.CharField(label=_("Plan"), max_length=NARRATIVE_MAX_CHARS,
                           widget=forms.Textarea(attrs={"rows": 6}))
    rescue_centre = forms.ModelChoiceField(label=_("Made with rescue centre"), queryset=RescueCentre.objects.none(),
                                           required=False)

    def __init__(self, *args: Any, centres: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["rescue_centre"].queryset = centres  # type: ignore[attr-defined]


class ReassignForm(forms.Form):
    to = forms.ModelChoiceField(label=_("New responsible doctor"), queryset=User.objects.none())
    reason = forms.CharField(label=_("Reason"), max_length=REASON_MAX_CHARS,
                             widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args: Any, doctors: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["to"].queryset = doctors  # type: ignore[attr-defined]


class DeliveryPlaceForm(forms.Form):
    institution = forms.ModelChoiceField(label=_("Planned delivery place"), queryset=Institution.objects.none())
    reason = forms.CharField(label=_("Reason, if its level is lower than her colour needs"), required=False,
                             max_length=REASON_MAX_CHARS, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args: Any, places: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["institution"].queryset = places  # type: ignore[attr-defined]


class VisitForm(forms.Form):
    institution = forms.ModelChoiceField(label=_("Institution"), queryset=Institution.objects.none())
    findings = forms.CharField(label=_("Findings"), max_length=NARRATIVE_MAX_CHARS,
                               widget=forms.Textarea(attrs={"rows": 3}))
    reassess = forms.BooleanField(label=_("Re-assess the risk at this visit"), required=False)
    age_years = forms.IntegerField(label=_("Age (completed years)"), required=False)
    hb_g_l = forms.DecimalField(label=_("Haemoglobin (g/L)"), required=False, max_digits=5, decimal_places=1)
    platelets_1e9_l = forms.DecimalField(label=_("Platelets (×10⁹/L)"), required=False, max_digits=6,
                                         decimal_places=1)
    pa_pressure_mmhg = forms.DecimalField(label=_("Pulmonary artery systolic pressure (mmHg)"), required=False,
                                          max_digits=5, decimal_places=1)
    findings_codes = forms.CharField(label=_("Row codes found (e.g. O2.2.1, P2)"), required=False, max_length=500)

    def __init__(self, *args: Any, institutions: list[Institution], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["institution"].queryset = Institution.objects.filter(  # type: ignore[attr-defined]
            pk__in=[i.pk for i in institutions])
        if institutions:
            self.fields["institution"].initial = institutions[0].pk

    def engine_inputs(self) -> dict[str, Any] | None:
        return visit_engine_inputs(self.cleaned_data)


def visit_engine_inputs(data: Mapping[str, Any]) -> dict[str, Any] | None:
    """The risk engine's inputs of a visit's re-assessment (the form's or the API's cleaned data), or None when
    the visit does not re-assess: the values given, and the row codes typed as "O2.2.1, P2" (either comma)."""
    if not data.get("reassess"):
        return None
    inputs: dict[str, Any] = {}
    for name in ("age_years", "hb_g_l", "platelets_1e9_l", "pa_pressure_mmhg"):
        value = data.get(name)
        if value is not None:
            inputs[name] = value if isinstance(value, int) else float(value)
    codes = [c.strip() for c in (data.get("findings_codes") or "").replace("，", ",").split(",")]
    if any(codes):
        inputs["findings"] = [c for c in codes if c]
    return inputs


class TracingAttemptForm(forms.Form):
    method = forms.ChoiceField(label=_("How"), choices=TracingAttempt.Method.choices)
    reached = forms.BooleanField(label=_("Reached her"), required=False)
    note = forms.CharField(label=_("Result"), max_length=REASON_MAX_CHARS,
                           widget=forms.Textarea(attrs={"rows": 2}))


class FoundForm(forms.Form):
    outcome = forms.CharField(label=_("Where she is and what was agreed"), max_length=REASON_MAX_CHARS,
                              widget=forms.Textarea(attrs={"rows": 2}))


class TransferForm(forms.Form):
    to_institution = forms.ModelChoiceField(label=_("Transfer to"), queryset=Institution.objects.none())
    reason = forms.CharField(label=_("Reason"), max_length=REASON_MAX_CHARS,
                             widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args: Any, places: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["to_institution"].queryset = places  # type: ignore[attr-defined]


class TransferAcceptForm(forms.Form):
    doctor = forms.ModelChoiceField(label=_("Responsible doctor here"), queryset=User.objects.none())

    def __init__(self, *args: Any, doctors: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["doctor"].queryset = doctors  # type: ignore[attr-defined]


class TransferRejectForm(forms.Form):
    reason = forms.CharField(label=_("Why rejected"), max_length=REASON_MAX_CHARS,
                             widget=forms.Textarea(attrs={"rows": 2}))


class TransferWithdrawForm(forms.Form):
    reason = forms.CharField(label=_("Why withdrawn"), max_length=REASON_MAX_CHARS,
                             widget=forms.Textarea(attrs={"rows": 2}))


class CloseForm(forms.Form):
    kind = forms.ChoiceField(label=_("Closed because"), choices=HighRiskCase.CloseKind.choices)
    reason = forms.CharField(label=_("Closing reason"), max_length=REASON_MAX_CHARS,
                             widget=forms.Textarea(attrs={"rows": 2}))


class ReopenForm(forms.Form):
    reason = forms.CharField(label=_("Why reopened"), max_length=REASON_MAX_CHARS,
                             widget=forms.Textarea(attrs={"rows": 2}))


class DeathForm(forms.Form):
    at = forms.DateTimeField(label=_("Time of death"),
                             widget=DateTimeLocalInput())
    note = forms.CharField(label=_("Where and how she died"), max_length=NARRATIVE_MAX_CHARS,
                           widget=forms.Textarea(attrs={"rows": 3}))


class PlainSelect(forms.Select):
    """Django's ``<select>``, same markup as its templates (select.html, select_option.html,
    attrs.html), put together in Python: the templates include two templates per option, and the
    province register lists ~330 institutions (30 ms a page, benchmarks/worklists.py). Flat choices
    only (no option groups)."""

    def render(self, name: str, value: Any, attrs: dict[str, Any] | None = None, renderer: Any = None) -> SafeString:
        chosen = set(self.format_value(value))
        options, selected_one = [], False
        for choice, label in self.choices:
            if isinstance(label, list | tuple):
                raise ValueError("PlainSelect does not render option groups")
            text = "" if choice is None else str(choice)
            selected = not selected_one and text in chosen  # as Select: the first match only
            selected_one = selected_one or selected
            options.append(f'\n  <option value="{escape(text)}"{" selected" if selected else ""}>'
                           f"{escape(str(label))}</option>")
        attributes = "".join(f" {escape(key)}" if value is True else f' {escape(key)}="{escape(str(value))}"'
                             for key, value in self.build_attrs(self.attrs, attrs).items()
                             if value is not False)  # as attrs.html, in the same order
        return mark_safe(f'<select name="{escape(name)}"{attributes}>{"".join(options)}\n</select>')  # noqa: S308


class RegisterFilterForm(forms.Form):
    colour = forms.ChoiceField(label=_("Colour"), required=False, widget=PlainSelect, choices=[
        ("", _("All")), ("red", _("Red")), ("orange", _("Orange")), ("yellow", _("Yellow")), ("green", _("Green"))])
    purple = forms.ChoiceField(label=_("Purple"), required=False, widget=PlainSelect,
                               choices=[("", _("All")), ("yes", _("Yes")), ("no", _("No"))])
    state = forms.ChoiceField(label=_("State"), required=False, widget=PlainSelect, choices=[("", _("Open cases"))]
                              + list(HighRiskCase.State.choices) + [("all", _("All"))])
    # The institutions in scope as (id, name) choices: no model instance per option.
    institution = forms.ChoiceField(label=_("Institution"), required=False, widget=PlainSelect)
    q = forms.CharField(label=_("Name"), required=False, max_length=60)
    overdue = forms.ChoiceField(label=_("Overdue"), required=False, widget=PlainSelect, choices=[
        ("", _("All")), ("any", _("Report or visit overdue")), ("report", _("Report overdue")),
        ("visit", _("Visit overdue"))])

    def __init__(self, *args: Any, institutions: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["institution"].choices = [("", "---------")] + [  # type: ignore[attr-defined]
            (str(pk), name) for pk, name in institutions.values_list("pk", "name")]
