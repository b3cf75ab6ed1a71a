"""manage.py run_deadlines [--loop] [--interval S]: fire due deadlines and re-push undelivered alerts."""

import json
import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser
from django.db import close_old_connections


class Command(BaseCommand):
    help = "Run the deadline sweep once, or forever with --loop (one process is enough; two are safe)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--loop", action="store_true", help="Keep sweeping until stopped.")
        parser.add_argument("--interval", type=float, default=None,
                            help="Seconds between passes (default SWEEP_INTERVAL_SECONDS).")

    def handle(self, *args, loop: bool = False, interval: float | None = None, **options) -> None:  # type: ignore[no-untyped-def]
        from workflows.sweep import sweep_once

        pause = interval if interval is not None else settings.SWEEP_INTERVAL_SECONDS
        while True:
            if loop:  # a long-running loop drops stale connections between passes
                close_old_connections()
            result = sweep_once()
            if result["fired"] or result["repushed"] or not loop:
                self.stdout.write(json.dumps(result))
            if not loop:
                return
            time.sleep(pause)
