"""manage.py seed_demo [--women N]: the demo province, its institutions, centres and users."""

from django.core.management.base import BaseCommand, CommandParser

from organisations.demo import DEMO_PASSWORD, seed_organisations, seed_women


class Command(BaseCommand):
    help = "Create the demo province (福建省), institutions, rescue centres and users; idempotent."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--women", type=int, default=0, help="Also add N synthetic pregnant women.")

    def handle(self, *args, women: int = 0, **options) -> None:  # type: ignore[no-untyped-def]
        if women < 0:
            self.stderr.write("--women must be zero or more")
            raise SystemExit(2)
        created = seed_organisations()
        summary = ", ".join(f"{key} +{value}" for key, value in created.items())
        self.stdout.write(f"Demo organisations ready ({summary}). Demo password: {DEMO_PASSWORD}")
        if women:
            made = seed_women(women)
            self.stdout.write(f"Added {made} synthetic pregnant women.")
