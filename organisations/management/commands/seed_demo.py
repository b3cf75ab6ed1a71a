"""manage.py seed_demo [--women N]: the demo province, its institutions, centres and users."""

from django.core.management.base import BaseCommand, CommandParser

from organisations.demo import DEMO_PASSWORD, seed_organisations, seed_women


class Command(BaseCommand):
    help = "Create the demo province (福建省), institutions, rescue centres and users; idempotent."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--women", type=int, default=0, help="Also add N synthetic pregnant women.")
        parser.add_argument("--cases", type=int, default=0,
                            help="Also grade M of the women at hospitals as orange, red or purple (high-risk cases).")
        parser.add_argument("--first-look", action="store_true",
                            help="When there are no women yet, add 150 women and 30 high-risk cases (make run).")

    def handle(self, *args, women: int = 0, cases: int = 0, first_look: bool = False,  # type: ignore[no-untyped-def]
               **options) -> None:
        if women < 0 or cases < 0:
            self.stderr.write("--women and --cases must be zero or more")
            raise SystemExit(2)
        created = seed_organisations()
        summary = ", ".join(f"{key} +{value}" for key, value in created.items())
        self.stdout.write(f"Demo organisations ready ({summary}). Demo password: {DEMO_PASSWORD}")
        from cases.models import Woman

        if first_look and not Woman.objects.exists():
            women, cases = 150, 30
        if women:
            made = seed_women(women)
            self.stdout.write(f"Added {made} synthetic pregnant women.")
        if cases:
            from cases.demo import seed_cases

            opened = seed_cases(cases)
            self.stdout.write(f"Opened {opened} high-risk cases.")
        if first_look:
            from cases.demo import seed_referrals

            sent = seed_referrals()
            if sent:
                self.stdout.write(f"Sent {sent} demo referrals to the Fuzhou city rescue centre.")
