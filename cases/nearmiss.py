"""WHO maternal near-miss criteria (life-threatening conditions), the checklist behind the near-miss
register (危重孕产妇). Source: WHO, Evaluating the quality of care for severe pregnancy complications:
the WHO near-miss approach for maternal health (2011), as summarised in shared/research/domain.md §4.3.
Codes are stable: stored records keep them.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class Criterion:
    code: str
    system: Promise
    kind: Promise
    text: Promise


CLINICAL, LAB, MANAGEMENT = _("Clinical"), _("Laboratory"), _("Management")
CARDIO, RESP, RENAL = _("Cardiovascular"), _("Respiratory"), _("Renal")
COAG, HEPATIC, NEURO, UTERINE = _("Coagulation / haematological"), _("Hepatic"), _("Neurological"), _("Uterine")

CRITERIA: tuple[Criterion, ...] = (
    Criterion("cv_shock", CARDIO, CLINICAL,
              _("Shock (systolic BP < 90 mmHg for ≥ 60 min with pulse ≥ 120 despite > 2 L fluids)")),
    Criterion("cv_arrest", CARDIO, CLINICAL, _("Cardiac arrest (loss of consciousness and no pulse)")),
    Criterion("cv_lactate", CARDIO, LAB, _("Lactate > 5 mmol/L")),
    Criterion("cv_ph", CARDIO, LAB, _("pH < 7.1")),
    Criterion("cv_vasoactive", CARDIO, MANAGEMENT, _("Continuous vasoactive drugs")),
    Criterion("cv_cpr", CARDIO, MANAGEMENT, _("Cardiopulmonary resuscitation")),
    Criterion("resp_cyanosis", RESP, CLINICAL, _("Acute cyanosis")),
    Criterion("resp_gasping", RESP, CLINICAL, _("Gasping")),
    Criterion("resp_rate", RESP, CLINICAL, _("Respiratory rate > 40 or < 6 /min")),
    # xgettext:no-python-format
    Criterion("resp_spo2", RESP, LAB, _("SpO₂ < 90% for ≥ 60 min")),
    Criterion("resp_pf_ratio", RESP, LAB, _("PaO₂/FiO₂ < 200 mmHg")),
    Criterion("resp_ventilation", RESP, MANAGEMENT, _("Intubation and ventilation not related to anaesthesia")),
    Criterion("renal_oliguria", RENAL, CLINICAL,
              _("Oliguria not responsive to fluids or diuretics (< 30 mL/h for 4 h or < 400 mL/24 h)")),
    Criterion("renal_creatinine", RENAL, LAB, _("Creatinine ≥ 300 μmol/L")),
    Criterion("renal_dialysis", RENAL, MANAGEMENT, _("Dialysis for acute renal failure")),
    Criterion("coag_clots", COAG, CLINICAL, _("Failure to form clots")),
    Criterion("coag_platelets", COAG, LAB, _("Acute thrombocytopenia < 50,000/μL")),
    Criterion("coag_transfusion", COAG, MANAGEMENT, _("Transfusion of ≥ 5 units of blood or red cells")),
    Criterion("hep_jaundice", HEPATIC, CLINICAL, _("Jaundice in the presence of pre-eclampsia")),
    Criterion("hep_bilirubin", HEPATIC, LAB, _("Bilirubin > 100 μmol/L")),
    Criterion("neuro_coma", NEURO, CLINICAL, _("Unconsciousness ≥ 12 h or coma (including metabolic coma)")),
    Criterion("neuro_stroke", NEURO, CLINICAL, _("Stroke")),
    Criterion("neuro_fits", NEURO, CLINICAL, _("Uncontrollable fits / status epilepticus")),
    Criterion("neuro_paralysis", NEURO, CLINICAL, _("Total paralysis")),
    Criterion("ut_hysterectomy", UTERINE, MANAGEMENT, _("Hysterectomy for haemorrhage or infection")),
)

BY_CODE = {c.code: c for c in CRITERIA}


def criterion_choices() -> list[tuple[str, Promise]]:
    return [(c.code, c.text) for c in CRITERIA]
