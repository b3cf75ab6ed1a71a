"""Forms of referral, consultation, near-miss and DDI steps. None lists a state: states change only
through the services in workflows/referral/services.py."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from cases.limits import NARRATIVE_MAX_CHARS, REASON_MAX_CHARS
from cases.models import Consultation, Referral, Urgency
from organisations.models import Institution, RescueCentre, User
from workflows.forms import DateTimeLocalInput, EmptyForm, ReasonForm  # noqa: F401  (the pages' forms)


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": ".pdf,.jpg,.jpeg,.png,.webp,.txt"}))
        super().__init__(*args, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> Any:
        single = super().clean
        if isinstance(data, (list, tuple)):
            return [single(d, initial) for d in data if d]
        return [single(data, initial)] if data else []


class CentreChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.institution.name}（{obj.get_level_display()}）"


class TransferChoiceField(forms.ModelChoiceField):
    """A rescue centre shows its centre level, a hospital its hospital level."""

    def label_from_instance(self, obj: Any) -> str:
        centre = getattr(obj, "rescue_centre", None)
        if centre is not None and centre.is_active:
            return f"{obj.name}（{centre.get_level_display()}）"
        return f"{obj.name}（{obj.get_level_display()}）" if obj.level else obj.name


class ReferralForm(forms.Form):
    from_institution = forms.ModelChoiceField(label=_("Sending institution"), queryset=Institution.objects.none())
    to_centre = CentreChoiceField(label=_("Rescue centre"), queryset=RescueCentre.objects.none(),
                                  widget=forms.RadioSelect)
    off_suggestion_reason = forms.CharField(
        label=_("Why not the suggested centre"), required=False, max_length=REASON_MAX_CHARS,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Needed when you choose another centre than the first suggested one."))
    urgency = forms.ChoiceField(label=_("Urgency"), choices=Urgency.choices, widget=forms.RadioSelect)
    reason = forms.CharField(label=_("Reason for referral"), max_length=REASON_MAX_CHARS,
                             widget=forms.Textarea(attrs={"rows": 2}))
    diagnosis = forms.CharField(label=_("Diagnosis"), max_length=REASON_MAX_CHARS,
                                widget=forms.Textarea(attrs={"rows": 2}))
    systolic_bp = forms.IntegerField(label=_("Systolic BP (mmHg)"), required=False, min_value=30, max_value=300)
    diastolic_bp = forms.IntegerField(label=_("Diastolic BP (mmHg)"), required=False, min_value=10, max_value=200)
    pulse = forms.IntegerField(label=_("Pulse (/min)"), required=False, min_value=10, max_value=250)
    respiratory_rate = forms.IntegerField(label=_("Respiratory rate (/min)"), required=False, min_value=2,
                                          max_value=80)
    spo2 = forms.IntegerField(label=_("SpO₂ (%)"), required=False, min_value=30, max_value=100)
    temperature = forms.DecimalField(label=_("Temperature (°C)"), required=False, min_value=30, max_value=45,
                                     max_digits=3, decimal_places=1)
    consciousness = forms.ChoiceField(label=_("Consciousness"), required=False,
                                      choices=[("", "—"), *Referral.Consciousness.choices])
    attachments = MultipleFileField(label=_("Notes and images"), required=False,
                                    help_text=_("PDF, JPEG, PNG, WebP or text; each file within the size limit."))

    def __init__(self, *args: Any, institutions: Any, centres: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["from_institution"].queryset = institutions  # type: ignore[attr-defined]
        self.fields["to_centre"].queryset = centres  # type: ignore[attr-defined]

    def vitals(self) -> dict[str, Any]:
        from workflows.referral.services import VITAL_FIELDS

        return {name: self.cleaned_data.get(name) for name in VITAL_FIELDS
                if self.cleaned_data.get(name) not in (None, "")}


class AcceptForm(forms.Form):
    team = forms.CharField(label=_("Receiving team"), max_length=200,
                           help_text=_("Who receives her: e.g. obstetric ICU, Dr Wang's team."))
    expected_arrival_at = forms.DateTimeField(label=_("Expected arrival"), required=False, widget=DateTimeLocalInput())


class RedirectForm(forms.Form):
    to_centre = CentreChoiceField(label=_("Send on to"), queryset=RescueCentre.objects.none())
    reason = forms.CharField(label=_("Reason"), max_length=REASON_MAX_CHARS,
                             widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args: Any, centres: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["to_centre"].queryset = centres  # type: ignore[attr-defined]


class DepartForm(forms.Form):
    transport = forms.ChoiceField(label=_("Transport"), choices=Referral.Transport.choices, widget=forms.RadioSelect)
    escort = forms.CharField(label=_("Escort"), max_length=200, required=False,
                             help_text=_("Who travels with her (doctor, midwife, family)."))
    at = forms.DateTimeField(label=_("Departure time"), required=False, widget=DateTimeLocalInput(),
                             help_text=_("Empty: now."))


class ArriveForm(forms.Form):
    at = forms.DateTimeField(label=_("Arrival time"), required=False, widget=DateTimeLocalInput(),
                             help_text=_("Empty: now."))


class OutcomeForm(forms.Form):
    outcome = forms.ChoiceField(label=_("Outcome"), choices=Referral.Outcome.choices, widget=forms.RadioSelect)
    note = forms.CharField(label=_("Course and outcome"), max_length=NARRATIVE_MAX_CHARS,
                           widget=forms.Textarea(attrs={"rows": 3}))
    transferred_to = TransferChoiceField(label=_("Transferred on to"), queryset=Institution.objects.none(),
                                         required=False,
                                         help_text=_("Rescue centres first, the nearest level first; then hospitals."))
    at = forms.DateTimeField(label=_("Time"), required=False, widget=DateTimeLocalInput(), help_text=_("Empty: now."))

    def __init__(self, *args: Any, institutions: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["transferred_to"].queryset = institutions  # type: ignore[attr-defined]


class FeedbackForm(forms.Form):
    summary = forms.CharField(label=_("Summary"), max_length=NARRATIVE_MAX_CHARS,
                              widget=forms.Textarea(attrs={"rows": 4}))
    advice = forms.CharField(label=_("Advice to the sending institution"), max_length=NARRATIVE_MAX_CHARS,
                             widget=forms.Textarea(attrs={"rows": 3}))


class AttachForm(forms.Form):
    file = forms.FileField(label=_("File"), widget=forms.ClearableFileInput(
        attrs={"accept": ".pdf,.jpg,.jpeg,.png,.webp,.txt"}))


class ExpertChoiceField(forms.ModelChoiceField):
    """A named expert with where she works and in which role, so two namesakes are told apart."""

    def label_from_instance(self, obj: Any) -> str:
        name = obj.name or obj.username
        where = "；".join(f"{m.institution.name} · {m.get_role_display()}"
                         for m in getattr(obj, "expert_memberships", []))
        return f"{name}（{where}）" if where else name


class ConsultationForm(forms.Form):
    from_institution = forms.ModelChoiceField(label=_("Requesting institution"), queryset=Institution.objects.none())
    to_centre = CentreChoiceField(label=_("Rescue centre"), queryset=RescueCentre.objects.none(), required=False)
    to_expert = ExpertChoiceField(label=_("Or a named expert"), queryset=User.objects.none(), required=False)
    mode = forms.ChoiceField(label=_("Mode"), choices=Consultation.Mode.choices, widget=forms.RadioSelect)
    urgency = forms.ChoiceField(label=_("Urgency"), choices=Urgency.choices, widget=forms.RadioSelect)
    question = forms.CharField(label=_("Question"), max_length=NARRATIVE_MAX_CHARS,
                               widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args: Any, institutions: Any, centres: Any, experts: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["from_institution"].queryset = institutions  # type: ignore[attr-defined]
        self.fields["to_centre"].queryset = centres  # type: ignore[attr-defined]
        self.fields["to_expert"].queryset = experts  # type: ignore[attr-defined]


class ConsultationAnswerForm(forms.Form):
    answer = forms.CharField(label=_("Answer"), max_length=NARRATIVE_MAX_CHARS,
                             widget=forms.Textarea(attrs={"rows": 4}))
    onsite_eta = forms.DateTimeField(label=_("Expected on site"), required=False, widget=DateTimeLocalInput(),
                                     help_text=_("For an on-site consultation."))
