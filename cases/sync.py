"""A record's ``updated_at`` moves when anything its API detail shows changes, so a sync list lists it again.

A high-risk case's detail shows its plans, follow-up visits, tracings (with their attempts) and transfers, and a
referral's its attachments, which have no list of their own: saving any of them touches its record
(``post_save`` receivers connected in ``cases/apps.py``; an ``UPDATE`` of the one column, in the saving
transaction, with no history row: the record itself did not change). The pregnancy's screenings and
assessments are listed by their own sync lists.
"""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.utils import timezone

# The models whose rows a record's detail shows: the part → (the record's model, the part's key to it).
PARTS = {
    "CasePlan": ("HighRiskCase", "case_id"),
    "FollowUpVisit": ("HighRiskCase", "case_id"),
    "Tracing": ("HighRiskCase", "case_id"),
    "TracingAttempt": ("HighRiskCase", "tracing__case_id"),
    "CaseTransfer": ("HighRiskCase", "case_id"),
    "ReferralAttachment": ("Referral", "referral_id"),
}


def touch(sender: Any, instance: Any, raw: bool = False, **kwargs: Any) -> None:
    """``post_save`` of a record's part: the record's ``updated_at`` is now."""
    if raw:  # loaddata: the fixture's times stand
        return
    record, key = PARTS[sender.__name__]
    if "__" in key:  # a part of a part (an attempt of a tracing): its key through the database
        key_id = sender.objects.filter(pk=instance.pk).values_list(key, flat=True).first()
    else:
        key_id = getattr(instance, key)
    if key_id is not None:
        apps.get_model("cases", record).objects.filter(pk=key_id).update(updated_at=timezone.now())
