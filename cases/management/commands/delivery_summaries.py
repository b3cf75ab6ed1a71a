"""manage.py delivery_summaries [--refresh] [--from DATE] [--to DATE]

Checks the deliveries' summary columns (cases/summaries.py) against their definitions recomputed from the
visits, assessments, cases and women: prints how many deliveries of the period (by delivery date, every
delivery without dates) are stale and exits with status 1 if any is — a nightly check that no writer
bypassed the refresh. ``--refresh`` recomputes them instead (a month of deliveries per transaction) and
prints how many rows it wrote. Bad dates exit with status 2.
"""

from __future__ import annotations

import datetime as dt
import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db import transaction
from django.db.models import Max, Min

from cases import summaries
from cases.models import Delivery


class Command(BaseCommand):
    help = "Check (or --refresh) the deliveries' summary columns the indicators read."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--from", dest="date_from", help="First delivery date, YYYY-MM-DD.")
        parser.add_argument("--to", dest="date_to", help="Last delivery date, included, YYYY-MM-DD.")
        parser.add_argument("--refresh", action="store_true", help="Recompute the columns instead of checking.")

    def handle(self, *args: Any, **options: Any) -> None:
        deliveries = Delivery.objects.all()
        for key, lookup in (("date_from", "delivered_on__gte"), ("date_to", "delivered_on__lte")):
            if options[key]:
                try:
                    deliveries = deliveries.filter(**{lookup: dt.date.fromisoformat(options[key])})
                except ValueError:
                    self.stderr.write(f"日期应为 YYYY-MM-DD (a date is YYYY-MM-DD): {options[key]!r}.")
                    sys.exit(2)
        if options["refresh"]:
            self.stdout.write(f"refreshed {self._refresh(deliveries)} deliveries")
            return
        total = deliveries.count()
        stale = list(summaries.stale(deliveries).values_list("pk", flat=True)[:11])
        count = summaries.stale(deliveries).count() if len(stale) > 10 else len(stale)
        self.stdout.write(f"{count} of {total} deliveries have stale summary columns")
        for pk in stale[:10]:
            self.stdout.write(f"  stale: {pk}")
        if count:
            sys.exit(1)

    def _refresh(self, deliveries: Any) -> int:
        bounds = deliveries.aggregate(first=Min("delivered_on"), last=Max("delivered_on"))
        if bounds["first"] is None:
            return 0
        written, month = 0, bounds["first"].replace(day=1)
        while month <= bounds["last"]:
            following = (month + dt.timedelta(days=32)).replace(day=1)
            with transaction.atomic():
                written += summaries.refresh(deliveries.filter(delivered_on__gte=month, delivered_on__lt=following))
            month = following
        return written
