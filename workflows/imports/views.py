"""The import page (数据导入): choose the kind, a file, check only or import; the error list or the summary."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from organisations.http import ActionDenied
from workflows.imports import permissions
from workflows.imports.forms import KIND_LABELS, ImportForm
from workflows.imports.services import KINDS, ImportFailed, columns_of, records_import, template_csv

__all__ = ["home", "may_open", "template"]

DENIED = permissions.DENIED


def may_open(user: Any) -> bool:
    return permissions.may_import(user)


def _kinds(user: Any) -> list[str]:
    return [kind for kind in KINDS if permissions.may_import(user, kind)]


@login_required
def home(request: HttpRequest) -> HttpResponse:
    user: Any = request.user
    if not may_open(user):
        raise ActionDenied(str(DENIED))
    kinds = _kinds(user)
    summary: dict[str, Any] | None = None
    errors: list[dict[str, Any]] | None = None
    status = 200
    if request.method == "POST":
        form = ImportForm(request.POST, request.FILES, kinds=kinds)
        if form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                summary = records_import(kind=form.cleaned_data["kind"], data=upload.read(), filename=upload.name,
                                         by=user, dry_run=form.cleaned_data["dry_run"])
            except ImportFailed as exc:
                errors, status = exc.errors, 400
        else:
            status = 400
    else:
        form = ImportForm(kinds=kinds)
    formats = [{"kind": kind, "label": KIND_LABELS[kind], "columns": ", ".join(columns_of(kind))} for kind in kinds]
    counts = summary[summary["kind"]] if summary else None
    return render(request, "imports/home.html", {
        "form": form, "summary": summary, "counts": counts, "errors": errors, "formats": formats,
        "title": _("Import records")}, status=status)


@login_required
def template(request: HttpRequest, kind: str) -> HttpResponse:
    """The header row of ``kind``'s file, as a CSV to fill in."""
    if kind not in KINDS or not permissions.may_import(request.user, kind):
        raise Http404(_("Not found."))
    response = HttpResponse(("\ufeff" + template_csv(kind)).encode(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{kind}.csv"'
    return response
