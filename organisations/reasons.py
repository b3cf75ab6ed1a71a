"""History change reasons: stored in English, shown in the reader's language.

Services store a stable English text as the history row's reason (``save_with_history(..., reason=
"accepted")``); rows written before this module existed hold the same texts. Every page that shows a
reason (the record timelines, the history page) passes it through :func:`reason_display`, which
translates it with the catalogue at display time, so a row reads in whatever language the page is in.

A reason is either one of ``REASONS`` or has a variable part and matches one of ``PATTERNS``
(``"outcome: died"`` matches ``"outcome: %(outcome)s"``); a variable part that is a choice value is
shown as that choice's label. A reason nobody listed is shown as stored.

``tools/check_translations.py`` reads every reason the code stores and fails `make lint` when one is
neither listed here nor matched by a pattern, so a new reason cannot reach a page in English only.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from django.utils.translation import gettext


def gettext_noop(message: str) -> str:
    """Marks ``message`` for `make messages` (xgettext knows the name) without needing Django's settings,
    so tools/check_translations.py can import this module before Django is set up."""
    return message


def _choice_label(model: str, field_name: str) -> Callable[[str], str]:
    """The label of a model field's choice, looked up when shown (no model import at module load)."""
    def label(value: str) -> str:
        from django.apps import apps

        choices = dict(apps.get_model(model)._meta.get_field(field_name).flatchoices)
        return str(choices.get(value, value))
    return label


def _colour_label(value: str) -> str:
    """An assessment's ``label``: ``red``, ``purple`` or ``purple+red``."""
    # The values of cases.models.Colour (organisations sit below the records and do not import them).
    names = {
        "green": gettext("Green"), "yellow": gettext("Yellow"), "orange": gettext("Orange"),
        "red": gettext("Red"), "purple": gettext("Purple"),
    }
    return "+".join(names.get(part, part) for part in value.split("+"))  # type: ignore[call-overload]


# Reasons stored as they are. gettext_noop marks them for the catalogue; the stored text stays English.
REASONS: frozenset[str] = frozenset({
    # Process 1: screening and assessment.
    gettext_noop("registered"),
    gettext_noop("external id recorded"),
    gettext_noop("booked"),
    gettext_noop("screened"),
    gettext_noop("screen negative: green"),
    gettext_noop("screen positive at primary care"),
    gettext_noop("assessment deadline passed"),
    gettext_noop("assessed"),
    gettext_noop("assessment voided"),
    gettext_noop("red: can the pregnancy continue?"),
    # Process 2: high-risk case management.
    gettext_noop("reopened: the risk rose again"),
    gettext_noop("opened from a risk assessment"),
    gettext_noop("opened by hand"),
    gettext_noop("regraded by a new assessment"),
    gettext_noop("reported to the county MCH institute"),
    gettext_noop("plans in place: under management"),
    gettext_noop("delivery place planned"),
    gettext_noop("delivery place planned below the required level"),
    gettext_noop("next visit scheduled"),
    gettext_noop("visit recorded"),
    gettext_noop("replaced by a new schedule"),
    gettext_noop("seen again: back under management"),
    gettext_noop("visit missed"),
    gettext_noop("visit missed: tracing"),
    gettext_noop("tracing attempt"),
    gettext_noop("found"),
    gettext_noop("found: back under management"),
    gettext_noop("not found in time"),
    gettext_noop("lost to follow-up"),
    gettext_noop("transfer requested"),
    gettext_noop("transfer accepted"),
    gettext_noop("transfer rejected"),
    gettext_noop("transfer withdrawn"),
    gettext_noop("delivered"),
    gettext_noop("postpartum follow-up"),
    gettext_noop("case closed"),
    gettext_noop("42-day check: recovered"),
    gettext_noop("maternal death"),
    # Process 3: referral and consultation.
    gettext_noop("referral requested"),
    gettext_noop("redirected"),
    gettext_noop("attached"),
    gettext_noop("accepted"),
    gettext_noop("accepted by the next-level centre"),
    gettext_noop("declined"),
    gettext_noop("departed"),
    gettext_noop("arrived"),
    gettext_noop("treatment started"),
    gettext_noop("feedback given"),
    gettext_noop("cancelled"),
    gettext_noop("escalated: no answer in time, the deputy is alerted"),
    gettext_noop("escalated: the next-level centre and the bureau are alerted"),
    gettext_noop("consultation requested"),
    gettext_noop("answered"),
    gettext_noop("near-miss checklist"),
    gettext_noop("near miss"),
    gettext_noop("emergency caesarean"),
    # Process 4: maternal death reporting and review.
    gettext_noop("legal clocks set"),
    gettext_noop("identified record opened (break the glass)"),
    gettext_noop("card edited"),
    gettext_noop("reported"),
    gettext_noop("corrected and reported again"),
    gettext_noop("verified"),
    gettext_noop("investigated"),
    gettext_noop("reviews done"),
    gettext_noop("closed and locked"),
    gettext_noop("meeting called"),
    gettext_noop("members added"),
    gettext_noop("death put on the agenda"),
    gettext_noop("near miss put on the agenda"),
    gettext_noop("death taken off the agenda"),
    gettext_noop("near miss taken off the agenda"),
    gettext_noop("minutes finalised"),
    gettext_noop("agrees"),
    gettext_noop("dissents"),
    gettext_noop("done with evidence"),
    gettext_noop("verified by the bureau"),
    gettext_noop("demo: set weeks ago"),
    # Process 5: circulars (通报).
    gettext_noop("circular drafted"),
    gettext_noop("circular draft changed"),
    gettext_noop("subject added"),
    gettext_noop("subject removed"),
    gettext_noop("ranking frozen"),
    gettext_noop("ranking removed"),
    gettext_noop("demo target"),
    gettext_noop("submitted for approval"),
    gettext_noop("approved and published"),
    gettext_noop("published to"),
    gettext_noop("read"),
    # Deadlines, alerts, organisations, rule tables.
    gettext_noop("deadline fired"),
    gettext_noop("acknowledged"),
    gettext_noop("dealt with"),
    gettext_noop("not acknowledged in time: escalated"),
    gettext_noop("handover"),
    gettext_noop("roster page"),
    gettext_noop("beds updated"),
    # Machine clients (organisations/client_views.py, manage.py api_client_token).
    gettext_noop("machine client created"),
    gettext_noop("machine client deactivated"),
    gettext_noop("token issued"),
    gettext_noop("token revoked"),
    gettext_noop("copied"),
    # Interviews (约谈)
    gettext_noop("summoned"),
    gettext_noop("notice issued"),
    gettext_noop("notice sent"),
    gettext_noop("held: minutes recorded"),
    gettext_noop("interview held: plan due"),
    gettext_noop("plan submitted"),
    gettext_noop("plan accepted"),
    gettext_noop("report submitted"),
    gettext_noop("verified: passed"),
    gettext_noop("verified: failed, escalated"),
    gettext_noop("closed: every party verified"),
    gettext_noop("answer to a circular"),
    gettext_noop("answer to a circular: rectification due"),
    gettext_noop("rectification after an evaluation"),
    gettext_noop("evaluation: rectification due"),
    # The annual evaluation (评估, workflows/evaluation).
    gettext_noop("round opened"),
    gettext_noop("round closed"),
    gettext_noop("self-evaluation value entered"),
    gettext_noop("self-evaluation submitted"),
    gettext_noop("computed for the data year at submission"),
    gettext_noop("computed again by the evaluator"),
    gettext_noop("evaluator's value"),
    gettext_noop("on-site visit recorded"),
    gettext_noop("result: passed"),
    gettext_noop("result: failed"),
    gettext_noop("rectification started"),
    gettext_noop("re-evaluated: passed"),
    gettext_noop("re-evaluated: failed"),
    gettext_noop("centre restored"),
    gettext_noop("sample drawn"),
    gettext_noop("drawn for the on-site re-check"),
    # Routine records (visits, the delivery).
    gettext_noop("delivery recorded"),
    gettext_noop("moved from the high-risk case"),
    # Prenatal screening and diagnosis QC figures (workflows/prenatal).
    gettext_noop("QC figures opened"),
    gettext_noop("value entered"),
    gettext_noop("value cleared"),
    gettext_noop("QC figures submitted"),
    gettext_noop("QC figures resubmitted"),
    # Self-inspection and self-evaluation reports.
    gettext_noop("report drafted"),
    gettext_noop("narrative edited"),
    gettext_noop("report finalised"),
})


@dataclass(frozen=True)
class ReasonPattern:
    """A stored reason with variable parts, ``%(name)s`` each; ``shown`` is the text displayed when it
    differs from the stored form (only the English word order differs)."""

    stored: str
    shown: str = ""
    params: dict[str, Callable[[str], str]] = field(default_factory=dict)

    @property
    def regex(self) -> re.Pattern[str]:
        return _regex(self.stored)


def _regex(stored: str) -> re.Pattern[str]:
    parts = re.split(r"%\((\w+)\)s", stored)
    text = "".join(re.escape(part) if i % 2 == 0 else f"(?P<{part}>.+?)" for i, part in enumerate(parts))
    return re.compile(text, re.DOTALL)


PATTERNS: tuple[ReasonPattern, ...] = (
    ReasonPattern(gettext_noop("merged: %(reason)s")),
    ReasonPattern(gettext_noop("merged into another record: %(reason)s")),
    ReasonPattern(gettext_noop("absorbed a duplicate record: %(reason)s")),
    ReasonPattern(gettext_noop("assessed: %(colour)s"), params={"colour": _colour_label}),
    ReasonPattern(gettext_noop("assessment %(colour)s"), params={"colour": _colour_label}),
    ReasonPattern(gettext_noop("evaluated: %(decision)s"),
                  params={"decision": _choice_label("cases.ContinuationEvaluation", "decision")}),
    ReasonPattern(gettext_noop("voided: %(reason)s")),
    ReasonPattern(gettext_noop("reassigned: %(reason)s")),
    ReasonPattern("%(kind)s plan written", shown=gettext_noop("plan written: %(kind)s"),
                  params={"kind": _choice_label("cases.CasePlan", "kind")}),
    ReasonPattern(gettext_noop("transferred from %(institution)s")),
    ReasonPattern(gettext_noop("closed: %(kind)s"), params={"kind": _choice_label("cases.HighRiskCase", "close_kind")}),
    ReasonPattern(gettext_noop("ended: %(reason)s")),
    ReasonPattern(gettext_noop("reopened: %(reason)s")),
    ReasonPattern(gettext_noop("outcome: %(outcome)s"), params={"outcome": _choice_label("cases.Referral", "outcome")}),
    ReasonPattern(gettext_noop("escalated (level %(level)s): no answer in time")),
    ReasonPattern(gettext_noop("copied from v%(version)s")),
    ReasonPattern(gettext_noop("death report created (%(origin)s)"),
                  params={"origin": _choice_label("cases.DeathReport", "origin")}),
    ReasonPattern(gettext_noop("returned: %(reason)s")),
    ReasonPattern(gettext_noop("values entered: %(count)s")),
    ReasonPattern(gettext_noop("withdrawn: %(reason)s")),
    ReasonPattern(gettext_noop("excluded: %(reason)s")),
    ReasonPattern(gettext_noop("unlocked: %(reason)s")),
    ReasonPattern("measure set (%(level)s)", shown=gettext_noop("measure set: %(level)s"),
                  params={"level": _choice_label("cases.ImprovementMeasure", "level")}),
    ReasonPattern(gettext_noop("evidence rejected: %(reason)s")),
    ReasonPattern(gettext_noop("cancelled: %(reason)s")),
    ReasonPattern("proposed (%(origin)s)", shown=gettext_noop("proposed: %(origin)s"),
                  params={"origin": _choice_label("cases.Interview", "origin")}),
    ReasonPattern(gettext_noop("dismissed: %(reason)s")),
    ReasonPattern(gettext_noop("plan returned: %(reason)s")),
    ReasonPattern("awaiting %(level)s review", shown=gettext_noop("awaiting: %(level)s"),
                  params={"level": _choice_label("cases.DeathReviewConclusion", "level")}),
    ReasonPattern("%(level)s conclusion", shown=gettext_noop("conclusion recorded: %(level)s"),
                  params={"level": _choice_label("cases.DeathReviewConclusion", "level")}),
    ReasonPattern("%(level)s review concluded: %(avoidability)s",
                  shown=gettext_noop("concluded: %(level)s, %(avoidability)s"),
                  params={"level": _choice_label("cases.DeathReviewConclusion", "level"),
                          "avoidability": _choice_label("cases.DeathReviewConclusion", "avoidability")}),
    ReasonPattern(gettext_noop("visit corrected: %(reason)s")),
    ReasonPattern(gettext_noop("visit voided: %(reason)s")),
    ReasonPattern(gettext_noop("delivery corrected: %(reason)s")),
    # Records imported from an existing MCH system (workflows/imports): the file's name.
    ReasonPattern(gettext_noop("import %(file)s")),
    ReasonPattern(gettext_noop("evaluator's value: %(reason)s")),
    ReasonPattern(gettext_noop("de-listed after the %(year)s evaluation")),
    ReasonPattern(gettext_noop("restored: %(reason)s")),
)


def reason_match(stored: str) -> tuple[ReasonPattern, dict[str, str]] | None:
    for pattern in PATTERNS:
        found = pattern.regex.fullmatch(stored)
        if found:
            return pattern, found.groupdict()
    return None


def reason_known(stored: str) -> bool:
    return stored in REASONS or reason_match(stored) is not None


def reason_display(stored: str | None) -> str:
    """The reason in the active language (as stored when it is free text nobody listed)."""
    if not stored:
        return ""
    if stored in REASONS:
        return gettext(stored)
    matched = reason_match(stored)
    if matched is None:
        return stored
    pattern, values = matched
    shown = {name: pattern.params[name](value) if name in pattern.params else value for name, value in values.items()}
    return gettext(pattern.shown or pattern.stored) % shown
