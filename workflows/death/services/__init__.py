"""Maternal death reporting and review (孕产妇死亡个案报告与评审).

Every function is a named step: it locks the report row (``select_for_update`` on PostgreSQL), checks who
may act (``workflows/death/permissions.py``: a role that does not allow the step is ``ActionDenied``, 403)
and from which state (a report that has moved on is ``TransitionConflict``, 409), runs the report's
django-fsm transition, writes history with the user and a reason, completes the viewflow task, sets or
cancels the legal clocks (deadline rows) and raises alerts, all in one transaction. Bad input is a
``ValidationError`` with field errors (400). The pages and the API call these functions and nothing else.

The legal clocks (province settings, national defaults 24 h / 2 days / 30 days, then each review level's
days) are deadline rows of the one engine: an urgent reminder ``death_clock_warning_hours`` before a
clock passes, a critical alert when it passes (to whoever must act and the county MCH officer), and, while
it stays missed, the city's and then the province's MCH and bureau officers every
``death_escalation_hours``.
"""

from workflows.death.services.attachments import *  # noqa: F403
from workflows.death.services.base import *  # noqa: F403
from workflows.death.services.clocks import *  # noqa: F403
from workflows.death.services.imported import *  # noqa: F403
from workflows.death.services.measures import *  # noqa: F403
from workflows.death.services.packet import *  # noqa: F403
from workflows.death.services.panels import *  # noqa: F403
from workflows.death.services.report import *  # noqa: F403
from workflows.death.services.review import *  # noqa: F403
