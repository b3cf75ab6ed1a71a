"""Forms of interviews and circulars: each step's fields, never a state."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from cases.limits import NARRATIVE_MAX_CHARS
from cases.models import InterviewParty, Summoned
from organisations.models import Institution
from workflows.forms import EmptyForm, ReasonForm, datetime_local_field

__all__ = ["EmptyForm", "HoldForm", "NotifyForm", "PlanForm", "ProposeForm", "ReasonForm", "ReportForm",
           "VerifyForm"]


def _text(label: Any, rows: int = 4, required: bool = True, help_text: Any = "") -> forms.CharField:
    return forms.CharField(label=label, max_length=NARRATIVE_MAX_CHARS, required=required, help_text=help_text,
                           widget=forms.Textarea(attrs={"rows": rows}))


class PartyChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Institution) -> str:
        return f"{obj.name}（{obj.region.name}）"


class ProposeForm(forms.Form):
    bureau = forms.ModelChoiceField(label=_("Convening bureau"), queryset=Institution.objects.none())
    subject = forms.CharField(label=_("Subject"), max_length=200)
    reasons = _text(_("Reasons"), help_text=_("The problems found, with the figures and the records concerned."))
    parties = PartyChoiceField(label=_("Summoned institutions and bureaus"), queryset=Institution.objects.none(),
                               widget=forms.SelectMultiple(attrs={"size": 8}))
    summoned = forms.MultipleChoiceField(label=_("Who must attend"), choices=Summoned.choices,
                                         initial=[Summoned.HEAD, Summoned.MCH_HEAD],
                                         widget=forms.CheckboxSelectMultiple)

    def __init__(self, *args: Any, bureaus: list[Institution], parties: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["bureau"].queryset = Institution.objects.filter(pk__in=[b.pk for b in bureaus])  # type: ignore[attr-defined]
        if len(bureaus) == 1:
            self.fields["bureau"].initial = bureaus[0].pk
        self.fields["parties"].queryset = parties  # type: ignore[attr-defined]


class NotifyForm(forms.Form):
    number = forms.CharField(label=_("Notice number (文号)"), max_length=60,
                             help_text=_("For example 闽侯卫妇幼约〔2026〕1号."))
    scheduled_at = datetime_local_field(_("Date and time"))
    place = forms.CharField(label=_("Place"), max_length=120)


class HoldForm(forms.Form):
    attendance = _text(_("Attendance"), rows=3, help_text=_("Who attended for each party, and for the bureau."))
    expert_advice = _text(_("Experts' advice"), rows=3, required=False)
    requirements = _text(_("The bureau's requirements"), rows=4)

    def __init__(self, *args: Any, parties: list[InterviewParty], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.parties = parties
        for party in parties:
            self.fields[f"statement_{party.pk}"] = _text(
                _("Statement of %(institution)s") % {"institution": party.institution.name}, rows=3, required=False)

    def statements(self) -> dict[str, str]:
        return {str(party.pk): self.cleaned_data.get(f"statement_{party.pk}", "") for party in self.parties}


class PlanForm(forms.Form):
    plan = _text(_("Rectification plan"), rows=8,
                 help_text=_("Each problem, the measure, who is responsible and by when."))


class ReportForm(forms.Form):
    report = _text(_("Rectification report"), rows=8, help_text=_("What was done for each measure, with evidence."))


class VerifyForm(forms.Form):
    passed = forms.TypedChoiceField(label=_("Result"), coerce=lambda v: v == "yes", widget=forms.RadioSelect,
                                    choices=[("yes", _("Passed")), ("no", _("Failed: escalate"))])
    method = forms.ChoiceField(label=_("Verification"), choices=InterviewParty.Method.choices)
    findings = _text(_("Verification findings"), rows=4)
    escalation = _text(_("Escalation"), rows=3, required=False,
                       help_text=_("If failed: a follow-up interview by the next level up, or supervision under a "
                                   "listed deadline (挂牌督办)."))
