"""manage.py seed_demo_deaths: one demo maternal death at each stage (after seed_demo --women)."""

from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Add one demo maternal death report at each stage at 闽侯县医院; idempotent."

    def handle(self, *args, **options) -> None:  # type: ignore[no-untyped-def]
        from workflows.death.demo import seed_deaths

        made = seed_deaths()
        self.stdout.write(f"Added {made} demo maternal death reports." if made else
                          "Demo maternal death reports exist already (or the demo women are missing).")
