"""The investigation's documents on a death report: the upload page and the scoped, logged download."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from organisations.http import ActionDenied, get_visible_or_404
from organisations.models import AccessLog
from organisations.services import access_record
from workflows.death import permissions as p
from workflows.death import services as ds
from workflows.death.views.report import _report_for
from workflows.export import stored_file_response
from workflows.referral.forms import MultipleFileField

__all__ = ["attachment_download", "attachments_page"]


class AttachmentsForm(forms.Form):
    documents = MultipleFileField(label=gettext_lazy("Files"),
                              help_text=gettext_lazy("PDF, JPEG, PNG, WebP or UTF-8 text; several at once."))
    description = forms.CharField(label=gettext_lazy("What they are"), max_length=120, required=False,
                                  help_text=gettext_lazy("For example: copy of the medical record, autopsy report, "
                                                         "interview notes."))


@login_required
def attachments_page(request: HttpRequest, pk: Any) -> HttpResponse:
    report = _report_for(request, pk)
    user: Any = request.user
    form = AttachmentsForm(request.POST or None, request.FILES or None)
    if request.method == "POST":
        if not p.may_attach(user, report):
            raise ActionDenied(_("Only the reporting institution and the county MCH officer add documents to this "
                                 "report."))
        if form.is_valid():
            try:
                saved = ds.death_report_attach(report=report, by=user, uploads=form.cleaned_data["documents"],
                                               description=form.cleaned_data["description"])
            except ValidationError as exc:  # the service names the files "files", the form "documents"
                form.add_error("documents", exc.messages)
            else:
                messages.success(request, _("%(count)d document(s) added.") % {"count": len(saved)})
                return redirect("death:detail", pk=report.pk)
    return render(request, "death/attachments.html", {
        "report": report, "form": form, "can_attach": p.can_attach(user, report),
        "attachments": report.attachments.select_related("uploaded_by")}, status=422 if form.errors else 200)


@login_required
def attachment_download(request: HttpRequest, pk: Any, file_pk: Any) -> FileResponse:
    """Served only to those who may see the report, each download logged as an export."""
    report = _report_for(request, pk)
    attachment = get_visible_or_404(report.attachments.all(), pk=file_pk)
    user: Any = request.user
    access_record(user=user, action=AccessLog.Action.EXPORT, obj=report,
                  summary=f"{attachment._meta.verbose_name} {attachment.name}"[:200], region=report.region,
                  institution=report.reporting_institution)
    return stored_file_response(attachment)
