"""Forms of circulars (通报): the draft, a subject, a ranking to freeze. None lists the state."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cases.limits import NARRATIVE_MAX_CHARS, REASON_MAX_CHARS
from cases.models import Circular
from organisations.models import Institution, Region
from organisations.scoping import Scope, region_codes_in_area
from workflows.interview.figures import figure_choices
from workflows.interview.services.circular import institutions_in_area


class DateInput(forms.DateInput):
    input_type = "date"


class CircularForm(forms.Form):
    issuer = forms.ModelChoiceField(label=_("Issuing bureau"), queryset=Institution.objects.none())
    kind = forms.ChoiceField(label=_("Kind"), choices=Circular.Kind.choices)
    number = forms.CharField(label=_("Number (文号)"), max_length=60,
                             help_text=_("As on the paper, e.g. 闽卫妇幼通〔2026〕3号; unique for the bureau."))
    title = forms.CharField(label=_("Title"), max_length=200)
    body = forms.CharField(label=_("Text"), max_length=NARRATIVE_MAX_CHARS, widget=forms.Textarea(attrs={"rows": 10}))
    period_from = forms.DateField(label=_("Period from"), required=False, widget=DateInput)
    period_to = forms.DateField(label=_("Period to"), required=False, widget=DateInput)
    distribution = forms.ChoiceField(label=_("Distribution"), choices=Circular.Distribution.choices)
    named_recipients = forms.ModelMultipleChoiceField(
        label=_("Named institutions"), queryset=Institution.objects.none(), required=False,
        help_text=_("Only for a distribution to named institutions."))

    def __init__(self, *args: Any, bureaus: Any, circular: Circular | None = None, **kwargs: Any) -> None:
        if circular is not None and not kwargs.get("data"):
            kwargs["initial"] = {"issuer": circular.issuer_id, "kind": circular.kind, "number": circular.number,
                                 "title": circular.title, "body": circular.body, "period_from": circular.period_from,
                                 "period_to": circular.period_to, "distribution": circular.distribution,
                                 "named_recipients": list(circular.named_recipients.values_list("pk", flat=True))}
        super().__init__(*args, **kwargs)
        self.fields["issuer"].queryset = bureaus  # type: ignore[attr-defined]
        region: Region | None = None
        if circular is not None:
            del self.fields["issuer"]
            region = circular.region
        else:
            first = bureaus.first()
            region = first.region if first else None
            if bureaus.count() == 1:  # the usual case: one bureau, nothing to choose
                self.fields["issuer"].initial = first
                self.fields["issuer"].required = False
                self.fields["issuer"].widget = forms.HiddenInput()
        if region is not None:
            self.fields["named_recipients"].queryset = institutions_in_area(region).order_by(  # type: ignore[attr-defined]
                "region_id", "name")


class SubjectForm(forms.Form):
    institution = forms.ModelChoiceField(label=_("Institution"), queryset=Institution.objects.none(), required=False)
    region = forms.ModelChoiceField(label=_("or area"), queryset=Region.objects.none(), required=False)
    reason = forms.CharField(label=_("Reason"), max_length=REASON_MAX_CHARS, widget=forms.Textarea(attrs={"rows": 3}))
    evidence = forms.CharField(label=_("Evidence (links to Anmu records, one a line)"), max_length=REASON_MAX_CHARS,
                               required=False, widget=forms.Textarea(attrs={"rows": 3}))
    requires_answer = forms.BooleanField(label=_("A rectification report is required"), required=False)
    answer_due_on = forms.DateField(label=_("Rectification report due"), required=False, widget=DateInput)

    def __init__(self, *args: Any, circular: Circular, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Every institution may be chosen: the service refuses one outside the bureau's area with a reason.
        self.fields["institution"].queryset = institutions_in_area(circular.region).order_by(  # type: ignore[attr-defined]
            "region_id", "name") if not self.is_bound else Institution.objects.filter(is_active=True)
        self.fields["region"].queryset = Region.objects.filter(region_codes_in_area(  # type: ignore[attr-defined]
            Scope(), areas=[(circular.region.level, circular.region_id)])) if not self.is_bound else Region.objects.all()


class RankingForm(forms.Form):
    figure = forms.ChoiceField(label=_("Figure"), choices=())
    period_from = forms.DateField(label=_("Period from"), widget=DateInput)
    period_to = forms.DateField(label=_("Period to"), widget=DateInput)

    def __init__(self, *args: Any, circular: Circular, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["figure"].choices = figure_choices()  # type: ignore[attr-defined]
        today = timezone.localdate()
        self.fields["period_from"].initial = circular.period_from or today.replace(day=1)
        self.fields["period_to"].initial = circular.period_to or today


class EmptyForm(forms.Form):
    pass


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=REASON_MAX_CHARS, widget=forms.Textarea(attrs={"rows": 3}))
