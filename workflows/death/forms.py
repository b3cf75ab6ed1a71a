"""Forms of the death-report process. None lists the state or a step's record: the services change them."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django import forms
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from cases.limits import NARRATIVE_MAX_CHARS, REASON_MAX_CHARS
from cases.models import (
    Avoidability,
    CauseClass,
    DeathReport,
    Delay,
    IcdMmGroup,
    NearMiss,
    ReviewAspect,
    ReviewStage,
    icd10_categories,
)
from cases.models.death import CELL_COLUMNS, DELAY_COLUMNS, TABLE_CELLS, cell_label
from organisations.models import Institution, Region, User
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


YES_NO = [("", _("Not assessed")), ("true", _("Yes")), ("false", _("No"))]
AGREES = [("", _("Not given")), ("true", _("Agrees")), ("false", _("Dissents"))]


def _yes_no(label: Any) -> forms.NullBooleanField:
    return forms.NullBooleanField(label=label, required=False, widget=forms.Select(choices=YES_NO))


def _note(label: Any) -> forms.CharField:
    return forms.CharField(label=label, max_length=REASON_MAX_CHARS, required=False,
                           widget=forms.Textarea(attrs={"rows": 2}))


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

    MAIN = ("avoidability", "underlying_cause", "icd10", "cause_class", "icd_mm_group", "disagrees_with_lower",
            "note")

    def __init__(self, *args: Any, members: Iterable[Any] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["icd10"].help_text = icd10_help()
        self.fields["icd10"].widget.attrs["list"] = "icd10-codes"
        for stage, aspect, column in TABLE_CELLS:
            label = cell_label(stage, aspect)
            self.fields[column] = _yes_no(label)
            self.fields[f"{column}_note"] = _note(format_lazy("{}: {}", label, _("what the problem was")))
        for delay in Delay:
            self.fields[delay.value] = _yes_no(delay.label)
            self.fields[f"{delay.value}_note"] = _note(format_lazy("{}: {}", delay.label, _("what happened")))
        self.members = list(members)
        for member in self.members:
            self.fields[f"agrees_{member.pk}"] = forms.NullBooleanField(
                label=str(member), required=False, widget=forms.Select(choices=AGREES))
            self.fields[f"dissent_{member.pk}"] = _note(format_lazy("{}: {}", member, _("dissenting opinion")))

    def main_fields(self) -> list[Any]:
        return [self[name] for name in self.MAIN]

    def table_rows(self) -> list[dict[str, Any]]:
        """The 12-cell table as a 3 × 4 grid of (yes/no, text) bound fields."""
        return [{"label": stage.label, "cells": [
            {"aspect": aspect.label, "value": self[f"{stage.value}_{aspect.value}"],
             "note": self[f"{stage.value}_{aspect.value}_note"]} for aspect in ReviewAspect]} for stage in ReviewStage]

    def aspects(self) -> list[Any]:
        return [aspect.label for aspect in ReviewAspect]

    def delay_rows(self) -> list[dict[str, Any]]:
        return [{"label": delay.label, "value": self[delay.value], "note": self[f"{delay.value}_note"]}
                for delay in Delay]

    def opinion_rows(self) -> list[dict[str, Any]]:
        return [{"member": m, "agrees": self[f"agrees_{m.pk}"], "dissent": self[f"dissent_{m.pk}"]}
                for m in self.members]

    def service_kwargs(self) -> dict[str, Any]:
        return conclusion_kwargs(self.cleaned_data, members=self.members)


def conclusion_kwargs(data: dict[str, Any], *, members: Iterable[Any] = ()) -> dict[str, Any]:
    """A conclusion form's cleaned data as ``death_report_conclude`` takes it: the main fields, ``cells``,
    ``delays`` and the members' ``opinions`` (those given)."""
    cells = {name: data.get(name) for column in CELL_COLUMNS for name in (column, f"{column}_note")}
    delays = {name: data.get(name) for column in DELAY_COLUMNS for name in (column, f"{column}_note")}
    opinions = [{"member": m, "agrees": data.get(f"agrees_{m.pk}"), "dissent": data.get(f"dissent_{m.pk}", "")}
                for m in members if data.get(f"agrees_{m.pk}") is not None]
    kwargs = {name: data[name] for name in ConclusionForm.MAIN}
    return {**kwargs, "cells": cells, "delays": delays, **({"opinions": opinions} if opinions else {})}


class MeetingForm(forms.Form):
    """A review meeting: where and when, its chair and members (the region's reviewers and MCH officers)."""

    region = forms.ModelChoiceField(label=_("Panel of"), queryset=Region.objects.none())
    held_on = forms.DateField(label=_("Date of the meeting"), widget=DateInput)
    place = forms.CharField(label=_("Place"), max_length=120, required=False)
    chair = forms.ModelChoiceField(label=_("Chair"), queryset=User.objects.none())
    members = forms.ModelMultipleChoiceField(label=_("Members"), queryset=User.objects.none(),
                                             widget=forms.CheckboxSelectMultiple,
                                             help_text=_("Expert reviewers and MCH officers of the region."))
    notes = forms.CharField(label=_("Notes"), max_length=NARRATIVE_MAX_CHARS, required=False,
                            widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args: Any, regions: list[Region], people: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["region"].queryset = Region.objects.filter(pk__in=[r.pk for r in regions])  # type: ignore[attr-defined]
        for name in ("chair", "members"):
            self.fields[name].queryset = people  # type: ignore[attr-defined]
        if len(regions) == 1:
            self.fields["region"].initial = regions[0].pk


class AgendaForm(forms.Form):
    report = forms.ModelChoiceField(label=_("A death awaiting this level's review"), queryset=DeathReport.objects.none(),
                                    required=False)
    near_miss = forms.ModelChoiceField(label=_("A near-miss case of the area"), queryset=NearMiss.objects.none(),
                                       required=False)

    def __init__(self, *args: Any, reports: Any, near_misses: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["report"].queryset = reports  # type: ignore[attr-defined]
        self.fields["near_miss"].queryset = near_misses  # type: ignore[attr-defined]
        self.fields["report"].label_from_instance = lambda r: (  # type: ignore[attr-defined]
            f"{r.woman.name} · {r.died_at:%Y-%m-%d} · {r.reporting_institution.name}")
        self.fields["near_miss"].label_from_instance = lambda n: (  # type: ignore[attr-defined]
            f"{n.pregnancy.woman.name} · {n.recorded_at:%Y-%m-%d} · {n.institution.name}")


class OpinionForm(forms.Form):
    agrees = forms.TypedChoiceField(label=_("Your opinion"), choices=[("true", _("Agrees")), ("false", _("Dissents"))],
                                    coerce=lambda v: v == "true", widget=forms.RadioSelect)
    dissent = forms.CharField(label=_("Dissenting opinion"), max_length=REASON_MAX_CHARS, required=False,
                              widget=forms.Textarea(attrs={"rows": 2}))


class FinaliseForm(forms.Form):
    notes = forms.CharField(label=_("Summary of the meeting"), max_length=NARRATIVE_MAX_CHARS, required=False,
                            widget=forms.Textarea(attrs={"rows": 4}))


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
