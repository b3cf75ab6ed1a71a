"""Death-report pages (死亡评审), one module per sub-domain: ``report`` (lists, the report page, the card,
each step's form, reports made by hand). Re-exported here so ``workflows.death.views`` names them all."""

from workflows.death.views.attachments import *  # noqa: F403
from workflows.death.views.export import *  # noqa: F403
from workflows.death.views.measures import *  # noqa: F403
from workflows.death.views.packet import *  # noqa: F403
from workflows.death.views.panels import *  # noqa: F403
from workflows.death.views.report import *  # noqa: F403
from workflows.death.views.report import DENIED, may_open  # noqa: F401
