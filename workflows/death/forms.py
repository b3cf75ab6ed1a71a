"""Forms of the death-report process. None lists the state or a step's record: the services change them."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from cases.limits import NARRATIVE_MAX_CHARS, REASON_MAX_CHARS
from cases.models import Avoidability, CauseClass, DeathReport, IcdMmGroup, icd10_categories
from organisations.models import Institution, Region
from workflows.forms import DateInput, InstitutionChoiceMixin
from workflows.screening.forms import WomanRegisterForm

DateTimeLocal = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")
NULL_BOOLEAN = [("", _("Unknown")), ("true", _("Yes")), ("false", _("No"))]


def icd10_help() -> str:
    return str(_("An ICD-10 code such as O72.1: a maternal category O00–O99 or a usual indirect cause."))


class CardForm(forms.ModelForm):
    """The report card's fields (孕产妇死亡报告卡)."""

    class Meta:
        model = DeathReport
        fields = list(DeathReport.CARD_FIELDS)
        widgets = {"lmp": DateInput, "delivered_at": DateTimeLocal, "died_at": DateTimeLocal}

    def __init__(self, *args: Any, report: DeathReport, **kwargs: Any) -> None:
        kwargs["instance"] = report
        super().__init__(*args, **kwargs)
        province = report.region.province_id
        institutions = Institution.objects.filter(is_active=True, region__province_id=province).exclude(
            kind=Institution.Kind.HEALTH_BUREAU).order_by("name")
        for name in ("delivery_institution", "death_institution"):
            self.fields[name].queryset = institutions  # type: ignore[attr-defined]
        self.fields["residence_region"].queryset = Region.objects.filter(  # type: ignore[attr-defined]
            level=Region.Level.COUNTY).order_by("code")
        for name in ("supplementary",):
            self.fields[name].required = False
        for name in ("delivery_transferred_in", "delivery_first_visit", "death_transferred_in", "death_first_visit",
                     "new_method_delivery", "antenatal_care"):
            self.fields[name] = forms.NullBooleanField(label=self.fields[name].label, required=False,
                                                       widget=forms.Select(choices=NULL_BOOLEAN))
        self.fields["icd10"].help_text = icd10_help()
        self.fields["icd10"].widget.attrs["list"] = "icd10-codes"

    def card_data(self) -> dict[str, Any]:
        return {name: self.cleaned_data[name] for name in DeathReport.CARD_FIELDS if name in self.cleaned_data}


class EmptyForm(forms.Form):
    pass


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=REASON_MAX_CHARS, widget=forms.Textarea(attrs={"rows": 3}))


class InvestigationForm(forms.Form):
    findings = forms.CharField(label=_("Investigation findings"), max_length=NARRATIVE_MAX_CHARS,
                               widget=forms.Textarea(attrs={"rows": 6}),
                               help_text=_("What happened, where and when: the course from the first symptom to "
                                           "the death, and the care she received."))
    interviews = forms.CharField(label=_("Interviews"), max_length=NARRATIVE_MAX_CHARS, required=False,
                                 widget=forms.Textarea(attrs={"rows": 3}),
                                 help_text=_("Whom you interviewed (family, staff) and what they said."))


class ConclusionForm(forms.Form):
    avoidability = forms.ChoiceField(label=_("Conclusion"), choices=Avoidability.choices, widget=forms.RadioSelect)
    underlying_cause = forms.CharField(label=_("Agreed underlying cause"), max_length=200)
    icd10 = forms.CharField(label=_("ICD-10 code"), max_length=8)
    cause_class = forms.ChoiceField(label=_("Direct or indirect"), choices=CauseClass.choices)
    icd_mm_group = forms.TypedChoiceField(label=_("WHO ICD-MM group"), choices=IcdMmGroup.choices, coerce=int)
    disagrees_with_lower = forms.BooleanField(label=_("We disagree with the lower level's conclusion"),
                                              required=False)
    note = forms.CharField(label=_("Main problems and reasoning"), max_length=NARRATIVE_MAX_CHARS, required=False,
                           widget=forms.Textarea(attrs={"rows": 4}))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["icd10"].help_text = icd10_help()
        self.fields["icd10"].widget.attrs["list"] = "icd10-codes"


class RecordDeathForm(InstitutionChoiceMixin, forms.Form):
    institution = forms.ModelChoiceField(label=_("Reporting institution"), queryset=Institution.objects.none())
    died_at = forms.DateTimeField(label=_("Time of death"), widget=DateTimeLocal)
    note = forms.CharField(label=_("Where and how she died"), max_length=REASON_MAX_CHARS,
                           widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args: Any, institutions: list[Institution], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.set_institutions(institutions)


class ManualReportForm(WomanRegisterForm):
    """A death of a woman Anmu never saw: she is found by document number, or registered."""

    died_at = forms.DateTimeField(label=_("Time of death"), widget=DateTimeLocal)


def icd10_choices() -> list[tuple[str, str]]:
    return [(code, row["name"]) for code, row in icd10_categories().items()]


# --- Improvement measures (改进措施) ---------------------------------------------------------------

class MeasureForm(forms.Form):
    text = forms.CharField(label=_("Improvement measure"), max_length=NARRATIVE_MAX_CHARS,
                           widget=forms.Textarea(attrs={"rows": 4}))
    owner_institution = forms.ModelChoiceField(label=_("Responsible institution"), queryset=Institution.objects.none())
    due_on = forms.DateField(label=pgettext_lazy("improvement measure", "Due on"), widget=DateInput)

    def __init__(self, *args: Any, report: DeathReport, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["owner_institution"].queryset = Institution.objects.filter(  # type: ignore[attr-defined]
            is_active=True, region__province_id=report.region.province_id).order_by("region_id", "name")
        self.fields["owner_institution"].initial = report.reporting_institution_id


class EvidenceForm(forms.Form):
    evidence = forms.CharField(label=_("What was done, and where the proof is"), max_length=NARRATIVE_MAX_CHARS,
                               widget=forms.Textarea(attrs={"rows": 4}))


class VerifyForm(forms.Form):
    note = forms.CharField(label=_("Note (optional)"), max_length=REASON_MAX_CHARS, required=False,
                           widget=forms.Textarea(attrs={"rows": 2}))
