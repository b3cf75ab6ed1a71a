"""manage.py seed_demo [--women N]: the demo province, its institutions, centres and users."""

import time

from django.core.management.base import BaseCommand, CommandParser

from cases.models import Woman
from indicators.demo import seed_targets
from organisations.demo import DEMO_PASSWORD, seed_organisations
from workflows.death.demo import seed_deaths
from workflows.demo import seed_cases, seed_referrals, seed_women
from workflows.evaluation.demo import seed_evaluation
from workflows.interview.demo import seed_circulars, seed_interviews
from workflows.routine.demo import seed_routine


class Command(BaseCommand):
    help = "Create the demo province (福建省), institutions, rescue centres and users; idempotent."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--women", type=int, default=0, help="Also add N synthetic pregnant women.")
        parser.add_argument("--cases", type=int, default=0,
                            help="Also grade M of the women at hospitals as orange, red or purple (high-risk cases).")
        parser.add_argument("--first-look", action="store_true",
                            help="When there are no women yet, add 150 women and 30 high-risk cases (make run).")

    def step(self, zh: str, en: str) -> None:
        """One progress line on the console, so that `make run` never sits silent (both languages: the
        console has no locale to follow)."""
        self.stdout.write(f"  [{time.monotonic() - self.started:5.1f} s] {zh} / {en}")
        self.stdout.flush()

    def handle(self, *args, women: int = 0, cases: int = 0, first_look: bool = False,  # type: ignore[no-untyped-def]
               **options) -> None:
        if women < 0 or cases < 0:
            self.stderr.write("--women and --cases must be zero or more")
            raise SystemExit(2)
        self.started = time.monotonic()
        self.step("正在创建演示机构和用户…", "Creating demo organisations and users…")
        created = seed_organisations()
        summary = ", ".join(f"{key} +{value}" for key, value in created.items())
        self.stdout.write(f"Demo organisations ready ({summary}). Demo password: {DEMO_PASSWORD}")
        if first_look and not Woman.objects.exists():
            women, cases = 150, 30
        if women:
            self.step(f"正在创建演示孕产妇 {women} 名…", f"Creating demo data: women 0/{women}")
            made = seed_women(women)
            self.step(f"演示孕产妇 {made}/{women}", f"Creating demo data: women {made}/{women}")
            self.stdout.write(f"Added {made} synthetic pregnant women.")
        if cases:
            def graded(done: int) -> None:
                if done % 10 == 0 or done == cases:
                    self.step(f"正在评估高危孕产妇 {done}/{cases}", f"Creating demo data: high-risk cases {done}/{cases}")

            self.step(f"正在评估高危孕产妇 0/{cases}（经评估服务，含预警和随访）",
                      f"Creating demo data: high-risk cases 0/{cases} (through the assessment service)")
            opened = seed_cases(cases, progress=graded)
            self.stdout.write(f"Opened {opened} high-risk cases.")
        if first_look:
            self.step("正在创建演示分娩和产检记录…", "Creating demo data: a year of deliveries and visits…")
            delivered = seed_routine()
            if delivered:
                self.stdout.write(f"Added {delivered} demo deliveries of the last 12 months, with their visits.")
            if seed_targets():
                self.stdout.write("Set the demo province's targets (system management rate, MMR).")
        if first_look:
            self.step("正在创建演示转诊…", "Creating demo data: referrals…")
            sent = seed_referrals()
            if sent:
                self.stdout.write(f"Sent {sent} demo referrals to the Fuzhou city rescue centre.")
        if first_look:
            self.step("正在创建演示孕产妇死亡报告…", "Creating demo data: maternal death reports…")
            deaths = seed_deaths()
            if deaths:
                self.stdout.write(f"Added {deaths} demo maternal death reports (one at each stage).")
        if first_look:
            self.step("正在创建演示通报…", "Creating demo data: a circular…")
            if seed_circulars():
                self.stdout.write("Published one demo circular of the Fuzhou city bureau, partly read.")
            self.step("正在创建演示约谈…", "Creating demo data: an interview…")
            if seed_interviews():
                self.stdout.write("Added one interview of the Minhou bureau in progress, and the province's trigger rules.")
            self.step("正在创建演示评估轮次…", "Creating demo data: an evaluation round…")
            if seed_evaluation():
                self.stdout.write("Opened last year's county evaluation round: 鼓楼区 submitted, 闽侯县医院 passed.")
        self.step("演示数据就绪", "Demo data ready")
