"""The dashboard's change stamp: a short string that changes whenever a record the area's population
figures count is added, changed or removed (deliveries, visits, death reports of the women living there, or
of one institution). The page polls it every few seconds and fetches the figures again only when it changed.

Why a polled stamp rather than a push over the alerts websocket: records arrive from many writers (the
routine services, the import, the admin, bulk loads) that would each have to announce the change to every
officer of every enclosing area, and each viewer's figures depend on her own period and indicator anyway;
a stamp is stateless, needs no hook in any writer, cannot be missed after a reconnect, and costs two
indexed aggregates per open dashboard per poll (``updated_at`` and the history date are indexed).

A removed delivery or visit lowers its table's count, so the count is in the stamp beside the latest
``updated_at``; death reports have no ``updated_at``, and their history rows (one per save or delete) stand
in for it. Prenatal QC reports (entered per period by licensed institutions) are in the stamp too: a
submission or a return changes their ``updated_at``. Figures of other records (assessments, referrals, near
misses) refresh on the next change of these or when the page is opened again.
"""

from __future__ import annotations

import hashlib
from typing import Any

from django.db.models import Count, Max

from cases import selectors
from indicators.dashboard import Scope
from indicators.measures import region_in


def _summary(queryset: Any, *, field: str) -> str:
    row = queryset.order_by().aggregate(n=Count("pk"), last=Max(field))
    last = row["last"].isoformat() if row["last"] is not None else "-"
    return f"{row['n']}@{last}"


def change_stamp(*, scope: Scope) -> str:
    region, institution = scope.region, scope.institution
    deliveries = selectors.indicator_deliveries()
    visits = selectors.indicator_visits()
    deaths = selectors.indicator_death_report_versions()
    if institution is not None:
        deliveries = deliveries.filter(institution=institution)
        visits = visits.filter(institution=institution)
        deaths = deaths.filter(reporting_institution_id=institution.pk)
    else:
        deliveries = deliveries.filter(region_in(region, "residence_region"))
        visits = visits.filter(region_in(region, "pregnancy__woman__residence_region"))
        deaths = deaths.filter(region_in(region, "woman__residence_region"))
    prenatal = selectors.indicator_prenatal_reports()
    prenatal = (prenatal.filter(institution=institution) if institution is not None
                else prenatal.filter(region_in(region, "institution__region")))
    parts = [_summary(deliveries, field="updated_at"), _summary(visits, field="updated_at"),
             _summary(deaths, field="history_date"), _summary(prenatal, field="updated_at")]
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:16]
