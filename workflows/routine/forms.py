"""Forms of the routine records: a visit, the delivery with up to three babies, a correction's reason.

They only parse what is typed; every rule (dates against the delivery, the caesarean's indication, the
counts against the babies) is the services' (services.py), whose field errors come back onto these forms.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from cases.limits import NARRATIVE_MAX_CHARS, REASON_MAX_CHARS
from cases.models import Baby, Delivery, Visit
from organisations.models import Institution
from workflows.forms import DateInput, datetime_local_field
from workflows.routine.services import BabyData

# Twins and triplets on the form; more babies come only as counts (an import).
BABY_SLOTS = 3


def _institution_field(label: Any, *, required: bool = True) -> forms.ModelChoiceField:
    return forms.ModelChoiceField(label=label, queryset=Institution.objects.none(), required=required)


class ReasonMixin:
    def add_reason(self, *, required: bool) -> None:
        if required:
            self.fields["reason"] = forms.CharField(  # type: ignore[attr-defined]
                label=_("Why it is corrected"), max_length=REASON_MAX_CHARS, widget=forms.Textarea(attrs={"rows": 2}))


def delivery_kwargs(data: Mapping[str, Any], *, babies: list[BabyData]) -> dict[str, Any]:
    """What the delivery services take, from a delivery's cleaned data (this form's, or the API's) and its
    babies."""
    return {
        "delivered_at": data["delivered_at"], "place": data["place"], "institution": data.get("institution"),
        "mode": data["mode"], "caesarean_indication": data.get("caesarean_indication") or "",
        "gestational_weeks": data.get("gestational_weeks"), "gestational_days": data.get("gestational_days"),
        "babies": babies, "outcome": data.get("outcome") or "",
    }


class VisitForm(ReasonMixin, forms.Form):
    kind = forms.ChoiceField(label=_("Kind of visit"), choices=Visit.Kind.choices)
    date = forms.DateField(label=_("Visit date"), widget=DateInput)
    institution = _institution_field(_("Institution"))
    note = forms.CharField(label=_("Note"), required=False, max_length=NARRATIVE_MAX_CHARS,
                           widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args: Any, institutions: Any, correcting: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["institution"].queryset = institutions  # type: ignore[attr-defined]
        self.add_reason(required=correcting)


class DeliveryForm(ReasonMixin, forms.Form):
    delivered_at = datetime_local_field(_("Time of delivery"))
    place = forms.ChoiceField(label=_("Place of delivery"), choices=Delivery.Place.choices,
                              initial=Delivery.Place.INSTITUTION)
    institution = _institution_field(_("Delivery institution"), required=False)
    mode = forms.ChoiceField(label=_("Delivery mode"), choices=Delivery.Mode.choices)
    caesarean_indication = forms.CharField(label=_("Indication for the caesarean"), required=False, max_length=200)
    gestational_weeks = forms.IntegerField(label=_("Gestational age (weeks)"), required=False, min_value=0)
    gestational_days = forms.IntegerField(label=_("Gestational age (days)"), required=False, min_value=0)
    outcome = forms.CharField(label=_("Outcome for mother and baby"), required=False, max_length=NARRATIVE_MAX_CHARS,
                              widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args: Any, institutions: Any, correcting: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["institution"].queryset = institutions  # type: ignore[attr-defined]
        outcomes = [("", "---------"), *Baby.Outcome.choices]
        sexes = [("", "---------"), *Baby.Sex.choices]
        for n in range(1, BABY_SLOTS + 1):
            self.fields[f"baby{n}_outcome"] = forms.ChoiceField(
                label=_("Baby %(n)s: outcome") % {"n": n}, choices=outcomes, required=n == 1)
            self.fields[f"baby{n}_sex"] = forms.ChoiceField(label=_("Baby %(n)s: sex") % {"n": n}, choices=sexes,
                                                            required=False)
            self.fields[f"baby{n}_weight_g"] = forms.IntegerField(label=_("Baby %(n)s: birth weight (g)") % {"n": n},
                                                                  required=False, min_value=0, max_value=30000)
        self.add_reason(required=correcting)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        for n in range(1, BABY_SLOTS + 1):
            if data.get(f"baby{n}_outcome") and not data.get(f"baby{n}_sex"):
                self.add_error(f"baby{n}_sex", _("Choose the sex (or undetermined)."))
            elif not data.get(f"baby{n}_outcome") and (data.get(f"baby{n}_sex") or data.get(f"baby{n}_weight_g")):
                self.add_error(f"baby{n}_outcome", _("Choose live birth or stillbirth."))
        return data

    def babies(self) -> list[BabyData]:
        data = self.cleaned_data
        return [BabyData(outcome=data[f"baby{n}_outcome"], sex=data[f"baby{n}_sex"],
                         weight_g=data.get(f"baby{n}_weight_g"))
                for n in range(1, BABY_SLOTS + 1) if data.get(f"baby{n}_outcome")]

    def delivery_kwargs(self) -> dict[str, Any]:
        """What the delivery services take, from the cleaned form."""
        return delivery_kwargs(self.cleaned_data, babies=self.babies())

    @staticmethod
    def initial_for(delivery: Delivery) -> dict[str, Any]:
        initial: dict[str, Any] = {
            "delivered_at": delivery.delivered_at, "place": delivery.place, "institution": delivery.institution_id,
            "mode": delivery.mode, "caesarean_indication": delivery.caesarean_indication,
            "gestational_weeks": delivery.gestational_weeks, "gestational_days": delivery.gestational_days,
            "outcome": delivery.outcome,
        }
        for baby in delivery.babies.all()[:BABY_SLOTS]:
            initial.update({f"baby{baby.order}_outcome": baby.outcome, f"baby{baby.order}_sex": baby.sex,
                            f"baby{baby.order}_weight_g": baby.weight_g})
        return initial
