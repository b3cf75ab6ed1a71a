"""Interviews and circulars (约谈通报), one module per sub-domain, re-exported here.

Every function is a named step: it locks the row (``select_for_update`` on PostgreSQL), checks who may act
(``workflows/interview/permissions.py``: a role or area that does not allow the step is ``ActionDenied``,
403; a record that has moved on is ``TransitionConflict``, 409), runs the django-fsm transition, writes
history with the user and a reason, sets or stops the deadlines (rows of the one engine) and raises alerts,
all in one transaction. Bad input is a ``ValidationError`` with field errors (400).
"""
from workflows.interview.services.circular import *  # noqa: F403
from workflows.interview.services.evidence import *  # noqa: F403
from workflows.interview.services.interview import *  # noqa: F403
from workflows.interview.services.triggers import *  # noqa: F403
