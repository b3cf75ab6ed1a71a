"""Pages of interviews and circulars (约谈通报), one module per sub-domain, re-exported here."""

from workflows.interview.views.circular import *  # noqa: F403
from workflows.interview.views.desk import *  # noqa: F403
from workflows.interview.views.desk import DENIED, may_open  # noqa: F401
from workflows.interview.views.interview import *  # noqa: F403
