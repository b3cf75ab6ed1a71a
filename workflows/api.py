"""What every process's API shares: the error body of a refusal (403, 404, 409), the reason body of a step
that needs one, the documented error responses, the step mechanism of a viewset whose transitions are
POSTs, and the sync of a list (a cursor on ``(updated_at, id)`` and ``updated_since``). One class each, so the
OpenAPI schema has one ``ApiError`` and one ``Reason``."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import connection
from django.db.models import Model, Q, QuerySet
from django.utils import timezone
from django.utils.http import parse_http_date_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.exceptions import NotFound
from rest_framework.pagination import Cursor, CursorPagination, PageNumberPagination
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response

from organisations.http import get_visible_or_404
from organisations.parsers import JSONParser

# Dates a person types: outside these a date is a typo (and date arithmetic on year 9999 overflows).
EARLIEST_DATE = dt.date(1900, 1, 1)
LATEST_DATE = dt.date(2100, 12, 31)
DATE_BOUNDS = [MinValueValidator(EARLIEST_DATE), MaxValueValidator(LATEST_DATE)]


def moment_in_bounds(value: dt.datetime) -> None:
    """A time a person types (a delivery, a death) has its day within the dates' bounds."""
    if not EARLIEST_DATE <= value.date() <= LATEST_DATE:
        raise serializers.ValidationError(
            _("Enter a time between %(start)s and %(end)s.") % {"start": EARLIEST_DATE.isoformat(),
                                                               "end": LATEST_DATE.isoformat()})


class CanReadWomen(BasePermission):
    """A women's-records API (women, pregnancies, screenings, assessments, visits, deliveries) opens to the same
    roles as the women's pages (``cases.view_woman``)."""

    message = _lazy("Your role does not include reading women's records.")

    def has_permission(self, request: Any, view: Any) -> bool:
        return bool(request.user.has_perm("cases.view_woman"))


class ApiErrorSerializer(serializers.Serializer):
    detail = serializers.CharField()


class ReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(help_text="原因 · Reason.")


FIELD_ERRORS = OpenApiResponse(OpenApiTypes.OBJECT, description='Field errors: {"field": ["message", ...]}.')


def refusal_responses(record: str, *, denied: str) -> tuple[OpenApiResponse, OpenApiResponse, OpenApiResponse]:
    """The documented 403, 404 and 409 of a process's API (``record``: "referral", "report", ...)."""
    return (OpenApiResponse(ApiErrorSerializer, description=denied),
            OpenApiResponse(ApiErrorSerializer, description=f"No such {record}, or out of your scope."),
            OpenApiResponse(ApiErrorSerializer, description=f"The {record}'s state no longer allows this step."))


def step_schema(summary: str, request: Any, *, detail: Any, refusals: tuple[Any, Any, Any], created: bool = False,
                description: str = "") -> Any:
    """The schema of one step: its body, the record's detail (201 when it makes a new record), the errors."""
    denied, not_found, conflict = refusals
    ok = status.HTTP_201_CREATED if created else status.HTTP_200_OK
    return extend_schema(summary=summary, description=description, request=request,
                         responses={ok: detail, 400: FIELD_ERRORS, 403: denied, 404: not_found, 409: conflict})


# A viewset whose transitions are POST steps: each validates its body (the serializer finds the record in its
# context under ``record_name``), calls one service and nothing else, and answers the record's detail. The
# viewset provides ``get_object``, ``get_serializer_context`` and ``_detail``. (No docstring: drf-spectacular
# would print it as every operation's description.)
class StepsMixin:

    record_name: str = "record"

    def _step(self, serializer_class: type[serializers.Serializer] | None, run: Callable[[Any, Any, dict[str, Any]], Any],
              *, created: bool = False) -> Response:
        record = self.get_object()  # type: ignore[attr-defined]
        data: dict[str, Any] = {}
        if serializer_class is not None:
            serializer = serializer_class(data=self.request.data,  # type: ignore[attr-defined]
                                          context={**self.get_serializer_context(),  # type: ignore[attr-defined]
                                                   self.record_name: record})
            serializer.is_valid(raise_exception=True)
            data = dict(serializer.validated_data)
        result = run(record, self.request.user, data)  # type: ignore[attr-defined]
        return Response(self._detail(result),  # type: ignore[attr-defined]
                        status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)


class ScopedRelatedField(serializers.PrimaryKeyRelatedField):
    """The UUID of a record chosen from a queryset built for this request (``scoped(context)``): a record
    outside it gets the same error as a missing one."""

    def __init__(self, *, model: type[Model], scoped: Callable[[dict[str, Any]], QuerySet[Any]],
                 **kwargs: Any) -> None:
        self.scoped = scoped
        kwargs.setdefault("pk_field", serializers.UUIDField())
        super().__init__(queryset=model._default_manager.none(), **kwargs)

    def get_queryset(self) -> QuerySet[Any]:
        return self.scoped(self.context)


# --- Sync: a list read in (updated_at, id) order, from where the client stopped ---------------------------
#
# A row's ``updated_at`` is the application's clock when it was saved, inside a transaction that commits
# later: a row can become visible with an ``updated_at`` earlier than rows a client already read. So a list
# shows only rows older than its *horizon*: the earlier of now and the start of the oldest transaction still
# open on the database (PostgreSQL: pg_stat_activity), minus API_SYNC_LAG_SECONDS (which covers the moment
# between the clock read and the transaction's start, and clock differences between servers). Every row below
# the horizon is committed and no later write can land below it, so the rows below it are final: a walk in
# (updated_at, id) order misses none and repeats none. A row changed again moves forward and comes again,
# as its new version.

SYNC_DESCRIPTION = (
    "Sync: rows come in (`updated_at`, `id`) order, 100 a page (`page_size` up to 500); follow `next` until it "
    "is null (a cursor never expires: keep the last `next` to resume an interrupted walk). Then keep the "
    "`updated_at` of the last row you read and ask `updated_since=` it (or send `If-Modified-Since`, whole "
    "seconds): you get every row changed after it, each once, in its latest version. A change is listed once it "
    "is API_SYNC_LAG_SECONDS old (default 5 s) and every transaction open when it was made has ended, so a "
    "slow transaction cannot commit a change behind a row you have already read. Read a record you have just "
    "written from its detail (at once). Records are not deleted, except a visit recorded by mistake: read "
    "those from `GET /api/visits/removed/`. A record that enters your scope without "
    "changing (a woman found by her document number) is not listed as a change: the step that brings it "
    "answers with it, and a walk without `updated_since` lists everything."
)

SYNC_PARAMETERS = [
    OpenApiParameter("updated_since", OpenApiTypes.DATETIME, description=(
        "只列出此后变更的记录 · Only rows changed after this time (ISO 8601; without an offset: Beijing time).")),
    OpenApiParameter("If-Modified-Since", OpenApiTypes.STR, location=OpenApiParameter.HEADER, description=(
        "HTTP 日期 · An HTTP date: the same as `updated_since` (ignored when that is given, or when the date "
        "cannot be read).")),
]

# Times outside these bounds are clamped (an early year would underflow when converted to UTC).
SYNC_EARLIEST = dt.datetime(1900, 1, 1, tzinfo=dt.UTC)
SYNC_LATEST = dt.datetime(9000, 1, 1, tzinfo=dt.UTC)


class SyncFilterSerializer(serializers.Serializer):
    updated_since = serializers.DateTimeField(required=False)


def sync_horizon() -> dt.datetime:
    """The time below which every change is committed and final (see above)."""
    horizon = timezone.now()
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            # Every open transaction of another session of this database, written to yet or not (one that has
            # not written yet may still save a time read before we look).
            cursor.execute(
                "SELECT statement_timestamp(), min(xact_start) FROM pg_stat_activity WHERE datname = current_database() "
                "AND backend_type = 'client backend' AND pid <> pg_backend_pid() AND xact_start IS NOT NULL")
            database_now, oldest = cursor.fetchone()
        horizon = min(t for t in (horizon, database_now, oldest) if t is not None)
    return horizon - dt.timedelta(seconds=settings.API_SYNC_LAG_SECONDS)


def updated_since(request: Request) -> dt.datetime | None:
    """``updated_since`` (400 when it cannot be read), else a readable ``If-Modified-Since``, else None."""
    filters = SyncFilterSerializer(data=request.query_params)
    filters.is_valid(raise_exception=True)
    since = filters.validated_data.get("updated_since")
    if since is None:
        seconds = parse_http_date_safe(request.headers.get("If-Modified-Since") or "")
        if seconds is None:
            return None
        try:
            since = dt.datetime.fromtimestamp(seconds, tz=dt.UTC)
        except (OverflowError, OSError, ValueError):
            return None
    return min(max(since, SYNC_EARLIEST), SYNC_LATEST)


def sync_queryset(queryset: QuerySet[Any], request: Request, *, field: str = "updated_at") -> QuerySet[Any]:
    """A list as sync reads it: the rows below the horizon, changed after ``updated_since`` if given (``field``:
    the row's time of change)."""
    queryset = queryset.filter(**{f"{field}__lt": sync_horizon()})
    since = updated_since(request)
    if since is not None:
        queryset = queryset.filter(**{f"{field}__gt": since})
    return queryset


class SyncCursorPagination(CursorPagination):
    """Forward-only keyset pages on (updated_at, id) (a view's ``sync_fields`` may name another pair): the cursor
    holds the last row's pair, so rows sharing an ``updated_at`` are neither skipped nor repeated (DRF's own
    cursor counts an offset among equal times, which skips a row when another of them changes between two
    pages). ``previous`` is always null."""

    ordering = ("updated_at", "id")
    page_size = 100
    page_size_query_param = "page_size"
    page_size_query_description = "每页条数 · Rows a page (1–500; default 100)."
    cursor_query_description = "游标 · The cursor of the `next` link."
    max_page_size = 500

    def paginate_queryset(self, queryset: QuerySet[Any], request: Request, view: Any = None) -> list[Any] | None:
        self.request = request
        self.ordering = tuple(getattr(view, "sync_fields", self.ordering))
        self.page_size = self.get_page_size(request)
        self.base_url = request.build_absolute_uri()
        self.cursor = self.decode_cursor(request)
        if self.cursor is not None:
            time_field, key_field = self.ordering
            after, key = self._after(self.cursor)
            queryset = queryset.filter(Q(**{f"{time_field}__gt": after}) | Q(**{time_field: after, f"{key_field}__gt": key}))
        rows = list(queryset.order_by(*self.ordering)[:self.page_size + 1])
        self.has_next = len(rows) > self.page_size
        self.page = rows[:self.page_size]
        return self.page

    @staticmethod
    def _key(text: str) -> uuid.UUID | int:
        """A row's key in a cursor: a UUID, or a whole number (a history row's id)."""
        return int(text) if text.isdigit() else uuid.UUID(text)

    def _after(self, cursor: Cursor) -> tuple[dt.datetime, uuid.UUID | int]:
        try:
            at, key = (cursor.position or "").split("|")
            after = dt.datetime.fromisoformat(at)
            if cursor.reverse or cursor.offset or after.tzinfo is None or not SYNC_EARLIEST <= after <= SYNC_LATEST:
                raise ValueError(at)
            return after, self._key(key)
        except ValueError:
            raise NotFound(self.invalid_cursor_message) from None

    def get_next_link(self) -> str | None:
        if not self.has_next:
            return None
        time_field, key_field = self.ordering
        last = self.page[-1]
        position = f"{getattr(last, time_field).isoformat()}|{getattr(last, key_field)}"
        return self.encode_cursor(Cursor(offset=0, reverse=False, position=position))

    def get_previous_link(self) -> str | None:
        return None


# --- A record's API read as sync reads it ----------------------------------------------------------------

class SyncListFilterSerializer(serializers.Serializer):
    """The narrowing filters a sync list may offer (each viewset names the ones it has)."""

    woman = serializers.UUIDField(required=False)
    pregnancy = serializers.UUIDField(required=False)
    external_id = serializers.CharField(max_length=64, required=False)


SYNC_FILTER_DESCRIPTIONS = {
    "woman": (OpenApiTypes.UUID, "Only this woman's."),
    "pregnancy": (OpenApiTypes.UUID, "Only this pregnancy's."),
    "external_id": (OpenApiTypes.STR, "外部编号 · Only the record with this `external_id` (the id your system "
                                      "gave it): how a system finds the Anmu id of a record it sent."),
}


def sync_list_schema(summary: str, serializer: Any, description: str, *, denied: Any,
                     filters: tuple[str, ...] = ()) -> Any:
    """The schema of a sync list: its filters, the sync parameters and description, its errors."""
    parameters = [*SYNC_PARAMETERS, *(OpenApiParameter(name, SYNC_FILTER_DESCRIPTIONS[name][0],
                                                       description=SYNC_FILTER_DESCRIPTIONS[name][1])
                                      for name in filters)]
    return extend_schema(summary=summary, description=f"{description}\n\n{SYNC_DESCRIPTION}", parameters=parameters,
                         responses={200: serializer(many=True), 400: FIELD_ERRORS, 403: denied})


class SyncRecordViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """A record's list (sync: the horizon, ``updated_since``, the keyset cursor, the ``list_filters`` named) and
    its detail by UUID, out of scope answered 404. Subclasses give ``get_queryset`` (the scoped selector) and
    ``permission_classes``."""

    pagination_class = SyncCursorPagination
    list_filters: tuple[str, ...] = ()
    lookup_url_kwarg = "id"
    lookup_value_converter = "uuid"  # a non-UUID id matches no route: api_not_found answers
    parser_classes = [JSONParser]

    def get_object(self) -> Any:
        return get_visible_or_404(self.get_queryset(), pk=self.kwargs[self.lookup_url_kwarg])

    def filter_queryset(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        if self.action != "list":
            return queryset
        filters = SyncListFilterSerializer(data=self.request.query_params)
        filters.is_valid(raise_exception=True)
        for name in self.list_filters:
            if filters.validated_data.get(name):
                queryset = queryset.filter(**{name: filters.validated_data[name]})
        return sync_queryset(queryset, self.request)


# --- A worklist that is also a sync list -------------------------------------------------------------------

class WorklistPagination(PageNumberPagination):
    """A worklist's pages by number; its schema allows the sync list's page too (``order=updated``: a cursor's
    ``next``, no ``count``)."""

    def get_paginated_response_schema(self, schema: dict[str, Any]) -> dict[str, Any]:
        paginated = super().get_paginated_response_schema(schema)
        paginated["required"] = ["results"]
        paginated["properties"]["count"]["description"] = "The number of rows (not in the sync list's pages)."
        return paginated


def sync_order_parameters(default: str) -> list[OpenApiParameter]:
    """The parameters that turn a worklist into its sync list."""
    return [
        OpenApiParameter("order", str, enum=[default, "updated"],
                         description=f"排序 · {default} (default): the worklist's order, page by page; updated: the "
                                     "sync list's, by cursor."),
        *SYNC_PARAMETERS,
        OpenApiParameter("cursor", str, description="游标 · The cursor of a sync list's `next` link."),
    ]


class SyncOrderMixin:
    """A list in a worklist's order (``WorklistPagination``) that ``order=updated``, ``updated_since``,
    ``If-Modified-Since`` or a ``cursor`` reads as a sync list instead (the same filters; ``sync_order``
    applies the horizon, ``updated_since`` and the keyset cursor)."""

    pagination_class = WorklistPagination
    request: Request
    action: str | None

    def syncing(self) -> bool:
        params = self.request.query_params
        return self.action == "list" and (params.get("order") == "updated" or "cursor" in params
                                          or updated_since(self.request) is not None)

    @property
    def paginator(self) -> Any:
        if not hasattr(self, "_paginator"):
            self._paginator = SyncCursorPagination() if self.syncing() else self.pagination_class()
        return self._paginator

    def sync_order(self, queryset: QuerySet[Any], worklist_order: Callable[[QuerySet[Any]], QuerySet[Any]]
                   ) -> QuerySet[Any]:
        """The filtered list in the order asked for."""
        return sync_queryset(queryset, self.request) if self.syncing() else worklist_order(queryset)
