"""The referral process's services, split by sub-domain: ``referral`` (request, answer, redirect, journey,
outcome, feedback, cancel and their deadlines) and ``consultation``. Callers import this package
(``from workflows.referral import services as rs``); the names below are its interface."""

from workflows.referral.services.consultation import (  # noqa: F401
    consultation_answer,
    consultation_cancel,
    consultation_link,
    consultation_overdue,
    consultation_request,
)
from workflows.referral.services.referral import *  # noqa: F403  (the referral services and their constants)
