"""Issue a token for a machine client from the server (the operator's way; a system admin uses the client's page).

    manage.py api_client_token CLIENT-USERNAME [--days N]

Prints the token once: it is stored only as a hash. The client's other tokens keep working (rotation).
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management.base import BaseCommand, CommandError

from organisations.models import ApiClient
from organisations.services import api_token_issue


class Command(BaseCommand):
    help = "Issue an API token for a machine client (printed once)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("username", help="the machine client's account name (api_…)")
        parser.add_argument("--days", type=int, default=None, help="valid for this many days (default: the TTL)")

    def handle(self, *args: Any, **options: Any) -> None:
        client = ApiClient.objects.select_related("user").filter(user__username=options["username"]).first()
        if client is None:
            raise CommandError(f"No machine client has the account {options['username']!r}.")
        try:
            row, token = api_token_issue(client=client, by=None, days=options["days"], reason="token issued")
        except (PermissionDenied, ValidationError) as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"{client.name}: valid until {row.expiry:%Y-%m-%d %H:%M %Z}")
        self.stdout.write(token)
