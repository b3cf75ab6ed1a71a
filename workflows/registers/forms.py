"""Forms of the shared registers: the near-miss checklist and the emergency caesarean."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from cases.limits import REASON_MAX_CHARS
from cases.nearmiss import CRITERIA
from organisations.forms import DateTimeLocalInput


class NearMissForm(forms.Form):
    criteria = forms.MultipleChoiceField(label=_("WHO near-miss criteria met"), required=False,
                                         choices=[(c.code, f"{c.system} · {c.text}") for c in CRITERIA],
                                         widget=forms.CheckboxSelectMultiple)
    note = forms.CharField(label=_("Note"), required=False, max_length=REASON_MAX_CHARS,
                           widget=forms.Textarea(attrs={"rows": 2}))


class CaesareanForm(forms.Form):
    decision_at = forms.DateTimeField(label=_("Decision to operate"), widget=DateTimeLocalInput())
    delivery_at = forms.DateTimeField(label=_("Delivery of the baby"), widget=DateTimeLocalInput())
    note = forms.CharField(label=_("What delayed the delivery (if above target)"), required=False,
                           max_length=REASON_MAX_CHARS, widget=forms.Textarea(attrs={"rows": 2}))
