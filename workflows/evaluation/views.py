"""The 评估 pages: the schemes in force (national edition and the province's 细则), one scheme with its areas
and indicators, its xlsx export and, for the province's administrator, an import that replaces it."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from cases.selectors import visible_evaluation_schemes
from organisations.http import ActionDenied, get_visible_or_404
from organisations.spreadsheets import xlsx_response
from workflows.evaluation import schemes

MAX_UPLOAD = 5 * 1024 * 1024


@login_required
def home(request: HttpRequest) -> HttpResponse:
    user: Any = request.user
    rows = []
    for scheme in visible_evaluation_schemes(user).filter(is_active=True):
        held = scheme.indicators.count()
        rows.append({"scheme": scheme, "held": held, "national": scheme.indicators.filter(origin="national").count(),
                     "may_edit": schemes.may_edit_scheme(user, scheme)})
    return render(request, "evaluation/home.html", {"rows": rows})


@login_required
def scheme_detail(request: HttpRequest, pk: Any) -> HttpResponse:
    user: Any = request.user
    scheme = get_visible_or_404(visible_evaluation_schemes(user), pk=pk)
    return render(request, "evaluation/scheme.html", {
        "scheme": scheme, "areas": schemes.grouped(scheme), "may_edit": schemes.may_edit_scheme(user, scheme),
        "held": scheme.indicators.count()})


@login_required
def scheme_export(request: HttpRequest, pk: Any) -> HttpResponse:
    scheme = get_visible_or_404(visible_evaluation_schemes(request.user), pk=pk)
    return xlsx_response(schemes.scheme_workbook(scheme), stem=f"evaluation-{scheme.code}")


class ImportForm(forms.Form):
    file = forms.FileField(label=gettext_lazy("Scheme (xlsx or CSV)"))
    reason = forms.CharField(label=gettext_lazy("Reason"), max_length=200)

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        if not upload.name.lower().endswith((".xlsx", ".csv")):
            raise ValidationError(gettext_lazy("Upload an xlsx or a CSV file."))
        if upload.size > MAX_UPLOAD:
            raise ValidationError(gettext_lazy("The file is larger than 5 MB."))
        return upload


@login_required
def scheme_import(request: HttpRequest, pk: Any) -> HttpResponse:
    user: Any = request.user
    scheme = get_visible_or_404(visible_evaluation_schemes(user), pk=pk)
    if not schemes.may_edit_scheme(user, scheme):
        raise ActionDenied(_("Only the province's system administrator imports its scheme; the national edition "
                             "changes with a release."))
    form = ImportForm(request.POST or None, request.FILES or None)
    problems: list[str] = []
    if request.method == "POST" and form.is_valid():
        try:
            rows = schemes.read_table(form.cleaned_data["file"], name=form.cleaned_data["file"].name)
            counts = schemes.scheme_import(scheme, rows, by=user, reason=form.cleaned_data["reason"])
        except ValidationError as error:
            problems = error.messages
        except Exception:  # an unreadable workbook (not a zip, a broken sheet): a message, never a 500
            problems = [_("The file could not be read as a spreadsheet.")]
        else:
            from django.contrib import messages

            messages.success(request, _("Imported: %(created)s added, %(updated)s updated, %(removed)s removed.")
                             % counts)
            return redirect("evaluation:scheme", pk=scheme.pk)
    return render(request, "evaluation/import.html", {"scheme": scheme, "form": form, "problems": problems,
                                                      "columns": schemes.COLUMNS})
