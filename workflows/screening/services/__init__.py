"""Pregnancy risk screening and assessment (妊娠风险筛查与评估): registration, booking, screening,
grading, and the consequences of each colour; the services, split by sub-domain.

Every function here is a named step: it checks permission and condition (permissions.py), runs in one
transaction, writes history with the user and a reason, and raises its alerts and deadlines in the same
transaction. Callers import this package (``from workflows.screening import services``).
"""

from workflows.screening.services.assessment import *  # noqa: F403
from workflows.screening.services.assessment import GRADE_HOOKS  # noqa: F401  (workflows/apps.py subscribes)
from workflows.screening.services.base import *  # noqa: F403
from workflows.screening.services.registration import *  # noqa: F403
from workflows.screening.services.screening import *  # noqa: F403
