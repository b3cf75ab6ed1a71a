"""Forms of the women's register: register, book a pregnancy, merge duplicates. None lists a status field."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from cases.limits import REASON_MAX_CHARS
from cases.models import Woman
from organisations.models import Institution, Region
from workflows.forms import ConfirmMixin, DateInput, InstitutionChoiceMixin


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
