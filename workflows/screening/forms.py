"""Forms of the screening process: register and book (the women's pages use these), screen, assess, merge
duplicates, evaluate continuation. None lists a status field: states change only through services."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from cases.limits import NARRATIVE_MAX_CHARS, REASON_MAX_CHARS
from cases.models import Assessment, Colour, ContinuationEvaluation, Woman
from cases.rules import ScreeningItem
from organisations.models import Institution, Region
from workflows.forms import ConfirmMixin, DateInput, InstitutionChoiceMixin

ANSWER_CHOICES = [("yes", _("Yes")), ("no", _("No")), ("", _("Not asked"))]


class ScreeningForm(InstitutionChoiceMixin, forms.Form):
    institution = forms.ModelChoiceField(label=_("Screening institution"), queryset=Institution.objects.none())
    refer_to = forms.ModelChoiceField(label=_("Refer for assessment to"), queryset=Institution.objects.none(),
                                      required=False,
                                      help_text=_("Needed when a primary-care facility finds a positive item."))
    note = forms.CharField(label=_("Note"), max_length=REASON_MAX_CHARS,
                           widget=forms.Textarea(attrs={"rows": 2}), required=False)

    def __init__(self, *args: Any, items: list[ScreeningItem], institutions: list[Institution],
                 hospitals: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.set_institutions(institutions)
        self.fields["refer_to"].queryset = hospitals  # type: ignore[attr-defined]
        self.items = items
        for item in items:
            choices = ANSWER_CHOICES if not item.required else ANSWER_CHOICES[:2]
            self.fields[f"item_{item.code}"] = forms.ChoiceField(
                label=f"{item.code} {item.text}", choices=choices, widget=forms.RadioSelect,
                required=item.required, initial=None if item.required else "")

    def sections(self) -> list[tuple[str, list[Any]]]:
        grouped: dict[str, list[Any]] = {}
        for item in self.items:
            grouped.setdefault(f"{item.section}. {item.section_title}", []).append(
                (item, self[f"item_{item.code}"]))
        return list(grouped.items())

    def answers(self) -> dict[str, bool | None]:
        result: dict[str, bool | None] = {}
        for item in self.items:
            value = self.cleaned_data.get(f"item_{item.code}")
            result[item.code] = True if value == "yes" else False if value == "no" else None
        return result


class AssessmentForm(InstitutionChoiceMixin, forms.Form):
    institution = forms.ModelChoiceField(label=_("Assessing institution"), queryset=Institution.objects.none())
    stage = forms.ChoiceField(label=_("Stage"), choices=Assessment.Stage.choices)
    age_years = forms.IntegerField(label=_("Age (completed years)"), required=False)
    height_cm = forms.DecimalField(label=_("Height (cm)"), required=False, max_digits=5, decimal_places=1)
    weight_kg = forms.DecimalField(label=_("Weight (kg)"), required=False, max_digits=5, decimal_places=1)
    hb_g_l = forms.DecimalField(label=_("Haemoglobin (g/L)"), required=False, max_digits=5, decimal_places=1)
    platelets_1e9_l = forms.DecimalField(label=_("Platelets (×10⁹/L)"), required=False, max_digits=6,
                                         decimal_places=1)
    pa_pressure_mmhg = forms.DecimalField(label=_("Pulmonary artery systolic pressure (mmHg)"), required=False,
                                          max_digits=5, decimal_places=1,
                                          help_text=_("Only when pulmonary hypertension is diagnosed."))
    uterine_surgeries = forms.IntegerField(label=_("Previous uterine operations"), required=False,
                                           help_text=_("Caesareans, cornual pregnancy, myomectomy."))
    fetuses = forms.IntegerField(label=_("Fetuses"), required=False)
    findings = forms.MultipleChoiceField(label=_("Findings"), required=False, widget=forms.CheckboxSelectMultiple)
    colour = forms.ChoiceField(label=_("Grade"), required=False,
                               choices=[("", _("As the table says"))] + [
                                   c for c in Colour.choices if c[0] != Colour.PURPLE],
                               help_text=_("Grade higher than the table if you judge so; lower needs a reason."))
    purple = forms.ChoiceField(label=_("Purple"), required=False,
                               choices=[("", _("As the table says")), ("yes", _("Yes")), ("no", _("No"))])
    override_reason = forms.CharField(label=_("Why the grade differs from the table"), required=False,
                                      max_length=REASON_MAX_CHARS, widget=forms.Textarea(attrs={"rows": 2}))

    MEASUREMENTS = ("age_years", "height_cm", "weight_kg", "hb_g_l", "platelets_1e9_l", "pa_pressure_mmhg",
                    "uterine_surgeries", "fetuses")

    def __init__(self, *args: Any, institutions: list[Institution], rules: list[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.set_institutions(institutions)
        self.rules = rules
        self.fields["findings"].choices = [  # type: ignore[attr-defined]
            (rule.code, f"{rule.code} {rule.text}") for rule in rules]

    def engine_inputs(self) -> dict[str, Any]:
        data: dict[str, Any] = {}
        for name in self.MEASUREMENTS:
            value = self.cleaned_data.get(name)
            if value is not None:
                data[name] = float(value) if not isinstance(value, int) else value
        findings = self.cleaned_data.get("findings") or []
        if findings:
            data["findings"] = list(findings)
        return data

    def chosen_purple(self) -> bool | None:
        value = self.cleaned_data.get("purple")
        return True if value == "yes" else False if value == "no" else None


class ContinuationForm(forms.Form):
    decision = forms.ChoiceField(label=_("Decision"), choices=ContinuationEvaluation.Decision.choices,
                                 widget=forms.RadioSelect)
    note = forms.CharField(label=_("Reasons and advice given to the woman"), max_length=NARRATIVE_MAX_CHARS,
                           widget=forms.Textarea(attrs={"rows": 3}))


class WomanRegisterForm(ConfirmMixin, InstitutionChoiceMixin, forms.Form):
    institution = forms.ModelChoiceField(label=_("Registering institution"), queryset=Institution.objects.none())
    name = forms.CharField(label=_("Name"), max_length=60)
    id_type = forms.ChoiceField(label=_("Identity document"), choices=Woman.IdType.choices,
                                initial=Woman.IdType.RESIDENT_ID)
    id_number = forms.CharField(label=_("Document number"), max_length=32, required=False,
                                help_text=_("An existing record with this number is found instead of duplicated."))
    no_id_reason = forms.CharField(label=_("Why there is no document"), max_length=200, required=False)
    date_of_birth = forms.DateField(label=_("Date of birth"), required=False, widget=DateInput,
                                    help_text=_("Taken from the resident ID number when there is one."))
    phone = forms.CharField(label=_("Phone"), max_length=20, required=False)
    residence_region = forms.ModelChoiceField(label=_("Residence (county or district)"),
                                              queryset=Region.objects.none())

    def __init__(self, *args: Any, regions: Any, institutions: list[Institution], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["residence_region"].queryset = regions  # type: ignore[attr-defined]
        self.set_institutions(institutions)
        self.setup_confirm()


class PregnancyBookForm(ConfirmMixin, InstitutionChoiceMixin, forms.Form):
    institution = forms.ModelChoiceField(label=_("Booking institution"), queryset=Institution.objects.none())
    lmp = forms.DateField(label=_("Last menstrual period"), widget=DateInput)
    edd_ultrasound = forms.DateField(label=_("Due date by ultrasound (if corrected)"), required=False,
                                     widget=DateInput)
    gravidity = forms.IntegerField(label=_("Gravidity"), min_value=1, max_value=30, initial=1)
    parity = forms.IntegerField(label=_("Parity"), min_value=0, max_value=29, initial=0)
    booking_date = forms.DateField(label=_("Booking date"), widget=DateInput)

    def __init__(self, *args: Any, institutions: list[Institution], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.set_institutions(institutions)
        self.setup_confirm()


class MergeForm(forms.Form):
    duplicate = forms.ModelChoiceField(label=_("Duplicate record to merge into this one"),
                                       queryset=Woman.objects.none())
    reason = forms.CharField(label=_("Why these records are the same woman"),
                             max_length=REASON_MAX_CHARS, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args: Any, candidates: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["duplicate"].queryset = candidates  # type: ignore[attr-defined]
        self.fields["duplicate"].label_from_instance = (  # type: ignore[attr-defined]
            lambda w: f"{w.name} · {w.date_of_birth:%Y-%m-%d} · {w.id_number_masked or w.get_id_type_display()}"
            f" · {w.registered_by.name}")
