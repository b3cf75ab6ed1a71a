"""Permissions come from the groups of the roles a user holds through active memberships.

Deactivating a membership (or its institution) removes its permissions at once, with no group
bookkeeping on the user. The groups are nationwide: only a superuser edits them in the admin.

A machine client's account never signs in (it has no usable password, and this backend refuses it even if
one were set): it calls the API with its tokens only (organisations/tokens.py).
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Permission
from django.db.models import QuerySet

from organisations.models import is_service_account


class RoleBackend(ModelBackend):
    def user_can_authenticate(self, user: Any) -> bool:
        return super().user_can_authenticate(user) and not is_service_account(user)

    def _get_group_permissions(self, user_obj: Any) -> QuerySet[Permission]:
        return Permission.objects.filter(
            group__name__in=user_obj.memberships.filter(
                is_active=True, institution__is_active=True
            ).values("role")
        )
