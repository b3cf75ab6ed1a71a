"""What each kind of report is called and what its narrative sections are called: the self-inspection report
(自查自纠报告) and the evaluation's self-evaluation report (自评报告) share the figures, the problems and the
three narrative columns, and differ only in these words."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext_lazy as _

from cases.models import SelfInspectionReport


@dataclass(frozen=True)
class Section:
    field: str  # a narrative column of SelfInspectionReport
    title: Any
    help: Any


@dataclass(frozen=True)
class ReportKind:
    code: str
    # "%(region)s" and "%(year)d" are filled in.
    title: Any
    sections: tuple[Section, ...]

    def title_for(self, *, region: Any, year: int) -> str:
        return str(self.title) % {"region": region.name, "year": year}


K = SelfInspectionReport.Kind

KINDS: dict[str, ReportKind] = {
    K.SELF_INSPECTION: ReportKind(
        K.SELF_INSPECTION, _("%(region)s maternal safety self-inspection report, %(year)d"), (
            Section("measures", _("Main measures and work done"),
                    _("What was done in the year for each of the five systems: organisation, training, drills, "
                      "supervision.")),
            Section("problems", _("Problems and their causes"),
                    _("The problems found (those listed above among them) and why they arose.")),
            Section("next_steps", _("Next steps"),
                    _("What will be done, by whom and by when, to correct each problem.")),
        )),
    K.SELF_EVALUATION: ReportKind(
        K.SELF_EVALUATION, _("%(region)s self-evaluation report of the critical maternal care system, %(year)d"), (
            Section("measures", _("How the system was built and run"),
                    _("The work of the year on the evaluation's areas: results, the system's build and running, "
                      "the rescue centres' build and management.")),
            Section("problems", _("Shortcomings and their causes"),
                    _("Where the figures or the work fall short, and why.")),
            Section("next_steps", _("Rectification and next steps"),
                    _("The rectification of each shortcoming, with who is responsible and the deadline.")),
        )),
}


def kind_of(code: str) -> ReportKind:
    return KINDS[code]
