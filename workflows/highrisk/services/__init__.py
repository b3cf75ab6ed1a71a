"""High-risk case management (高危孕产妇专案管理): the services, split by sub-domain.

Every orange, red or purple woman gets one case, one responsible doctor, and a report to the county
MCH institute within the province's deadline (orange and purple 72 h, red 24 h by default); plans
(management, treatment, emergency), follow-up visits by colour, tracing of women who miss a visit,
transfer between institutions, delivery, postpartum follow-up and closure. Each step is a named
transition run in one transaction with history, alerts and deadlines; who may take it is permissions.py.
Callers import this package (``from workflows.highrisk import services as hr``).
"""

from workflows.highrisk.services.base import *  # noqa: F403
from workflows.highrisk.services.case import *  # noqa: F403
from workflows.highrisk.services.followup import *  # noqa: F403
from workflows.highrisk.services.outcome import *  # noqa: F403
from workflows.highrisk.services.transfer import *  # noqa: F403
