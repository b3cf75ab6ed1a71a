"""Forms of self-inspection reports: a new draft (kind, area, year) and the narrative. None lists the state."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cases.limits import NARRATIVE_MAX_CHARS
from cases.models import SelfInspectionReport
from organisations.models import Region
from workflows.selfinspection.kinds import kind_of


class NewReportForm(forms.Form):
    kind = forms.ChoiceField(label=_("Report"), choices=SelfInspectionReport.Kind.choices)
    region = forms.ModelChoiceField(label=_("Area"), queryset=Region.objects.none())
    year = forms.IntegerField(label=_("Year"), min_value=2000, max_value=2100,
                              help_text=_("The data year: 1 January to 31 December."))

    def __init__(self, *args: Any, regions: list[Region], **kwargs: Any) -> None:
        kwargs.setdefault("initial", {"year": timezone.localdate().year - 1})
        super().__init__(*args, **kwargs)
        field = self.fields["region"]
        field.queryset = Region.objects.filter(code__in=[r.code for r in regions]).order_by("code")  # type: ignore[attr-defined]
        if len(regions) == 1:
            field.initial = regions[0].code
            field.widget = forms.HiddenInput()


class NarrativeForm(forms.Form):
    measures = forms.CharField(required=False, max_length=NARRATIVE_MAX_CHARS, widget=forms.Textarea(attrs={"rows": 8}))
    problems = forms.CharField(required=False, max_length=NARRATIVE_MAX_CHARS, widget=forms.Textarea(attrs={"rows": 8}))
    next_steps = forms.CharField(required=False, max_length=NARRATIVE_MAX_CHARS,
                                 widget=forms.Textarea(attrs={"rows": 8}))

    def __init__(self, *args: Any, report: SelfInspectionReport, **kwargs: Any) -> None:
        if not kwargs.get("data"):
            kwargs["initial"] = {"measures": report.measures, "problems": report.problems,
                                 "next_steps": report.next_steps}
        super().__init__(*args, **kwargs)
        for section in kind_of(report.kind).sections:
            self.fields[section.field].label = section.title
            self.fields[section.field].help_text = section.help
