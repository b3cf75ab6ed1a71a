"""The upload form of the import page."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from workflows.imports.importers import IMPORTERS

MAX_UPLOAD_BYTES = 50 * 1024 * 1024

KIND_LABELS = {
    "institutions": _("Institutions"),
    "women": _("Women"),
    "pregnancies": _("Pregnancies"),
    "visits": _("Antenatal and postpartum visits"),
    "deliveries": _("Deliveries"),
    "deaths": _("Deaths"),
}


class ImportForm(forms.Form):
    kind = forms.ChoiceField(label=_("What the file holds"))
    file = forms.FileField(label=_("File (CSV in UTF-8, or xlsx)"),
                           help_text=_("The first row is the header; an xlsx file's first sheet is read."))
    dry_run = forms.BooleanField(label=_("Check only (write nothing)"), required=False, initial=True)

    def __init__(self, *args: Any, kinds: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        kind_field: Any = self.fields["kind"]
        kind_field.choices = [(kind, KIND_LABELS[kind]) for kind in kinds if kind in IMPORTERS]

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        if upload.size > MAX_UPLOAD_BYTES:
            raise forms.ValidationError(_("A file of at most 50 MB; split a larger one."))
        return upload
