"""The pages where a system admin manages the machine clients of her area (接口账号): the list, a new client,
and one client's page — its tokens (issue, which is also how a client rotates, and revoke) and deactivation.

Who may: a system admin, for institutions of her administered area (organisations/administration.py); anyone
else is refused with the reason, and a client of another area is not found (404). A new token is shown once,
on the answer to the POST that issued it; afterwards only its start and expiry.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy
from django.views.decorators.http import require_POST
from knox.settings import knox_settings

from organisations.administration import (
    administered_institutions,
    api_client_roles,
    manageable_api_clients,
    manages_api_clients,
)
from organisations.forms import apply_errors
from organisations.http import ActionDenied, get_visible_or_404
from organisations.models import ApiClient, ApiToken, Institution, Membership, Role
from organisations.services import (
    API_TOKEN_MAX_DAYS,
    api_client_create,
    api_client_deactivate,
    api_token_issue,
    api_token_revoke,
)

REASON_LABEL = gettext_lazy("Reason (kept in the history)")


def _deny() -> ActionDenied:
    return ActionDenied(_("Only a system administrator manages machine clients."))


def _manager(request: HttpRequest) -> Any:
    if not manages_api_clients(request.user):
        raise _deny()
    return request.user


class InstitutionChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.name}（{obj.region.name}）"


class ApiClientForm(forms.Form):
    name = forms.CharField(label=pgettext_lazy("machine client", "Name"), max_length=60,
                           help_text=gettext_lazy("How the client is named in the log of its calls."))
    system = forms.CharField(label=gettext_lazy("System"), max_length=120,
                             help_text=gettext_lazy("Which system calls the API, e.g. the HIS of a county hospital."))
    institution = InstitutionChoiceField(queryset=Institution.objects.none(), label=gettext_lazy("Institution"),
                                         help_text=gettext_lazy("The client acts for this one institution."))
    roles = forms.MultipleChoiceField(label=gettext_lazy("Roles"), widget=forms.CheckboxSelectMultiple,
                                      help_text=gettext_lazy("It sees and does what a person with these roles "
                                                             "at the institution sees and does."))
    reason = forms.CharField(label=REASON_LABEL, max_length=100, required=False)

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["institution"].queryset = (  # type: ignore[attr-defined]
            administered_institutions(user).filter(is_active=True).order_by("region_id", "name"))
        self.fields["roles"].choices = [(role, Role(role).label) for role in api_client_roles(user)]  # type: ignore[attr-defined]


class TokenIssueForm(forms.Form):
    days = forms.IntegerField(label=gettext_lazy("Valid for (days)"), min_value=1, max_value=API_TOKEN_MAX_DAYS)
    reason = forms.CharField(label=REASON_LABEL, max_length=100, required=False)


class ReasonForm(forms.Form):
    reason = forms.CharField(label=REASON_LABEL, max_length=100, required=False)


def _ttl_days() -> int:
    return max(1, knox_settings.TOKEN_TTL.days)


@login_required
def api_client_list(request: HttpRequest) -> HttpResponse:
    user = _manager(request)
    clients = list(manageable_api_clients(user).order_by("-is_active", "institution__name", "name"))
    live = {row["user_id"]: row["n"] for row in _live_token_counts([c.user_id for c in clients])}
    for client in clients:
        client.live_tokens = live.get(client.user_id, 0)  # type: ignore[attr-defined]
    return render(request, "organisations/api_clients.html", {"clients": clients})


def _live_token_counts(user_ids: list[Any]) -> Any:
    return (ApiToken.objects.filter(user_id__in=user_ids, expiry__gt=timezone.now()).values("user_id")
            .annotate(n=Count("id")))


@login_required
def api_client_new(request: HttpRequest) -> HttpResponse:
    user = _manager(request)
    form = ApiClientForm(request.POST or None, user=user)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            client = api_client_create(by=user, name=data["name"], system=data["system"],
                                       institution=data["institution"], roles=data["roles"],
                                       reason=data["reason"] or "machine client created")
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("Machine client %(name)s created. Issue its first token below.")
                             % {"name": client.name})
            return redirect("organisations:api_client", client.pk)
    return render(request, "organisations/api_client_form.html", {"form": form},
                  status=400 if request.method == "POST" else 200)


def _render_client(request: HttpRequest, client: ApiClient, *, issue_form: TokenIssueForm | None = None,
                   new_token: str | None = None, new_row: ApiToken | None = None, status: int = 200) -> HttpResponse:
    tokens = list(ApiToken.objects.filter(user=client.user).select_related("created_by").order_by("-created"))
    history = (ApiToken.history.filter(user_id=client.user_id)  # type: ignore[attr-defined]
               .select_related("history_user").order_by("-history_date")[:50])
    return render(request, "organisations/api_client.html", {
        "client": client,
        "memberships": Membership.objects.filter(user=client.user).select_related("institution"),
        "tokens": tokens,
        "now": timezone.now(),
        "token_history": history,
        "issue_form": issue_form or TokenIssueForm(initial={"days": _ttl_days()}),
        "deactivate_form": ReasonForm(),
        "new_token": new_token,
        "new_row": new_row,
    }, status=status)


def _client_or_404(request: HttpRequest, pk: Any) -> ApiClient:
    return get_visible_or_404(manageable_api_clients(_manager(request)), pk=pk)


@login_required
def api_client_detail(request: HttpRequest, pk: Any) -> HttpResponse:
    return _render_client(request, _client_or_404(request, pk))


@login_required
@require_POST
def api_token_new(request: HttpRequest, pk: Any) -> HttpResponse:
    """Issue a token, shown in full in this answer only (not redirected: it is kept nowhere)."""
    client = _client_or_404(request, pk)
    form = TokenIssueForm(request.POST)
    if form.is_valid():
        try:
            row, token = api_token_issue(client=client, by=request.user,  # type: ignore[arg-type]
                                         days=form.cleaned_data["days"],
                                         reason=form.cleaned_data["reason"] or "token issued")
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            return _render_client(request, client, new_token=token, new_row=row)
    return _render_client(request, client, issue_form=form, status=400)


@login_required
@require_POST
def api_token_revoke_view(request: HttpRequest, pk: Any, token_pk: Any) -> HttpResponse:
    client = _client_or_404(request, pk)
    token = get_visible_or_404(ApiToken.objects.filter(user=client.user), pk=token_pk)
    form = ReasonForm(request.POST)
    reason = (form.cleaned_data["reason"] if form.is_valid() else "") or "token revoked"
    api_token_revoke(token=token, by=request.user, reason=reason)  # type: ignore[arg-type]
    messages.success(request, _("Token %(token)s revoked: it no longer works.") % {"token": token})
    return redirect("organisations:api_client", client.pk)


@login_required
@require_POST
def api_client_deactivate_view(request: HttpRequest, pk: Any) -> HttpResponse:
    client = _client_or_404(request, pk)
    form = ReasonForm(request.POST)
    reason = (form.cleaned_data["reason"] if form.is_valid() else "") or "machine client deactivated"
    api_client_deactivate(client=client, by=request.user, reason=reason)  # type: ignore[arg-type]
    messages.success(request, _("Machine client %(name)s deactivated; its tokens are revoked.")
                     % {"name": client.name})
    return redirect("organisations:api_client", client.pk)
