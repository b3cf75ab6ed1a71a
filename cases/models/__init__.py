"""The records of every process, one module per process; this package only re-exports them.

State lives in django-fsm-2 fields changed only by named transitions; the services in
``workflows/<process>/services.py`` call them inside a transaction with a row lock. Modules inside
``cases`` import from the submodule that defines a name (``cases.models.people``), never from here,
so the package has no import cycle; everything above ``cases`` imports from ``cases.models``.
"""

from cases.models.colour import COLOUR_NAMES, SEVERITY, Colour, danger_rank_expression
from cases.models.death import (
    Avoidability,
    CauseClass,
    DeathAttachment,
    DeathReport,
    DeathReviewConclusion,
    Delay,
    IcdMmGroup,
    ImprovementMeasure,
    ReviewAspect,
    ReviewLevel,
    ReviewMeeting,
    ReviewOpinion,
    ReviewStage,
    icd10_categories,
    validate_icd10,
)
from cases.models.death_access import DeathRecordAccess
from cases.models.evaluation import (
    EvaluationIndicator,
    EvaluationRound,
    EvaluationSample,
    EvaluationScheme,
    EvaluationScore,
    EvaluationSection,
    EvaluationSubmission,
    EvaluationVisit,
)
from cases.models.highrisk import CasePlan, CaseTransfer, FollowUpVisit, HighRiskCase, Tracing, TracingAttempt
from cases.models.interview import (
    Circular,
    CircularRanking,
    CircularRankingRow,
    CircularRecipient,
    CircularSubject,
    Interview,
    InterviewAttachment,
    InterviewParty,
    InterviewTrigger,
    Summoned,
)
from cases.models.people import PREGNANCY_DAYS, Pregnancy, Woman, WomanLink
from cases.models.prenatal import (
    Licence,
    Origin,
    PrenatalDataElement,
    PrenatalIndicator,
    PrenatalReport,
    PrenatalUnit,
    PrenatalValue,
    QcPeriod,
    elements_for,
    indicators_for,
    licences_of,
    parse_period_key,
    period_bounds,
    period_key,
    recent_periods,
    validate_prenatal_values,
)
from cases.models.referral import (
    ATTACHMENT_MAGIC,
    ATTACHMENT_TYPES,
    URGENCY_RANK,
    Consultation,
    EmergencyCaesarean,
    NearMiss,
    Referral,
    ReferralAttachment,
    Urgency,
    validate_attachment,
)
from cases.models.routine import Baby, Delivery, Visit
from cases.models.rules import ProvinceSettings, RiskRule, RuleSet
from cases.models.screening import Assessment, AssessmentReferral, ContinuationEvaluation, Screening
from cases.models.selfinspection import SelfInspectionReport

__all__ = [
    "EvaluationIndicator",
    "EvaluationRound",
    "EvaluationSample",
    "EvaluationScheme",
    "EvaluationScore",
    "EvaluationSection",
    "EvaluationSubmission",
    "EvaluationVisit",
    "Circular",
    "CircularRanking",
    "CircularRankingRow",
    "CircularRecipient",
    "CircularSubject",
    "ATTACHMENT_MAGIC", "COLOUR_NAMES", "ATTACHMENT_TYPES", "PREGNANCY_DAYS", "SEVERITY", "URGENCY_RANK",
    "Assessment", "AssessmentReferral", "CasePlan", "CaseTransfer", "Colour", "Consultation",
    "ContinuationEvaluation", "EmergencyCaesarean", "FollowUpVisit", "HighRiskCase", "NearMiss",
    "Pregnancy", "ProvinceSettings", "Referral", "ReferralAttachment", "RiskRule", "RuleSet",
    "Screening", "Tracing", "TracingAttempt", "Urgency", "Woman", "WomanLink",
    "danger_rank_expression", "validate_attachment",
    "Avoidability", "CauseClass", "DeathAttachment", "DeathReport", "DeathReviewConclusion", "IcdMmGroup", "ReviewLevel",
    "icd10_categories", "validate_icd10", "Delay", "ReviewAspect", "ReviewMeeting", "ReviewOpinion", "ReviewStage",
    "DeathRecordAccess", "ImprovementMeasure",
    "Interview", "InterviewAttachment", "InterviewParty", "InterviewTrigger", "Summoned",
    "Baby", "Delivery", "Visit",
    "Licence", "Origin", "PrenatalDataElement", "PrenatalIndicator", "PrenatalReport", "PrenatalUnit", "PrenatalValue",
    "QcPeriod", "elements_for", "indicators_for", "licences_of", "parse_period_key", "period_bounds", "period_key",
    "recent_periods", "validate_prenatal_values",
    "SelfInspectionReport",
]
