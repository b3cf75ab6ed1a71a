"""The risk colours of the national table and their order of danger."""

from __future__ import annotations

from django.db import models
from django.db.models import Case, Value, When
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop


class Colour(models.TextChoices):
    GREEN = "green", _("Green (low risk)")
    YELLOW = "yellow", _("Yellow (general risk)")
    ORANGE = "orange", _("Orange (higher risk)")
    RED = "red", _("Red (high risk)")
    PURPLE = "purple", _("Purple (infectious disease)")


SEVERITY = {Colour.GREEN: 0, Colour.YELLOW: 1, Colour.ORANGE: 2, Colour.RED: 3}

# The colour's word inside an alert's text (translated when the alert is read).
COLOUR_NAMES = {
    Colour.GREEN: gettext_noop("green"), Colour.YELLOW: gettext_noop("yellow"), Colour.ORANGE: gettext_noop("orange"),
    Colour.RED: gettext_noop("red"), Colour.PURPLE: gettext_noop("purple"),
}


def danger_rank_expression() -> Case:
    """Red 0, orange 1, purple only 2, else 3: the worklist order in SQL, and in the indexes that serve it
    (the query and the index must use the same expression)."""
    return Case(When(colour=Colour.RED, then=Value(0)), When(colour=Colour.ORANGE, then=Value(1)),
                When(purple=True, then=Value(2)), default=Value(3), output_field=models.IntegerField())
