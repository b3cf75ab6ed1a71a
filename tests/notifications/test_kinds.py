"""The registry of alert kinds: every kind is declared once with a zh-hans name, a nature and its priorities;
``alert_raise`` refuses what the registry does not allow; informational alerts never escalate or text."""

from __future__ import annotations

import logging
import re
from pathlib import Path

import pytest
from django.utils.translation import gettext_noop, override

from notifications import kinds
from notifications.models import Alert
from notifications.recipients import to_duty, to_user
from notifications.services import ESCALATE, alert_raise
from tests.notifications.helpers import move_deadlines_into_past, put_on_roster
from workflows.deadlines import deadlines_sweep
from workflows.models import Deadline

ROOT = Path(__file__).resolve().parents[2]
TITLE = gettext_noop("Nobody is on duty at %(institution)s")
DECLARED = [kind for code, kind in kinds.KINDS.items() if not code.startswith("test.")]
CJK = re.compile(r"[\u4e00-\u9fff]")


def source_files() -> list[Path]:
    return [p for app in ("workflows", "organisations", "notifications", "cases")
            for p in (ROOT / app).rglob("*.py") if "migrations" not in p.parts]


@pytest.mark.parametrize("kind", DECLARED, ids=[k.code for k in DECLARED])
def test_each_kind_has_a_zh_name_a_nature_and_allowed_priorities(kind):
    with override("zh-hans"):
        label = str(kind.label)
    assert CJK.search(label), f"{kind.code} has no zh-hans name: {label}"
    with override("en"):
        assert str(kind.label) != label
    assert kind.priorities and kind.priorities <= {kinds.ROUTINE, kinds.URGENT, kinds.CRITICAL}
    if kind.actionable:
        assert kind.resolved_by
    else:
        assert kinds.CRITICAL not in kind.priorities


@pytest.mark.parametrize("kind", [k for k in DECLARED if k.resolved_by], ids=[k.code for k in DECLARED if k.resolved_by])
def test_each_resolving_step_is_taken_by_a_service(kind):
    """A step a kind waits for is passed to alerts_resolve somewhere (or belongs to a process not built yet)."""
    names = {value: name for name, value in vars(kinds).items() if isinstance(value, str) and name.isupper()}
    text = "\n".join(p.read_text(encoding="utf-8") for p in source_files())
    for step in kind.resolved_by:
        if step in kinds.FUTURE_STEPS:
            continue
        name = names[step]
        assert re.search(rf"alerts_resolve\([^)]*step=(kinds\.)?{name}\b", text), f"nobody resolves {step}"


def test_every_kind_raised_in_the_code_is_declared():
    raised = set()
    for path in source_files():
        raised |= set(re.findall(r'kind="([a-z_]+\.[a-z_.]+)"', path.read_text(encoding="utf-8")))
    deadline_kinds = {"referral.response_due", "referral.feedback_due", "consultation.response_due",
                      "highrisk.report_due", "highrisk.visit_missed", "highrisk.tracing_due", "alert.escalate"}
    assert raised - deadline_kinds - set(kinds.KINDS) == set()
    assert len(raised) > 30  # the scan sees the call sites


def test_an_actionable_kind_must_say_what_resolves_it_and_an_informational_one_is_never_critical():
    with pytest.raises(ValueError):
        kinds.AlertKind("x.y", "x", kinds.Nature.ACTIONABLE, frozenset({kinds.URGENT}))
    with pytest.raises(ValueError):
        kinds.AlertKind("x.y", "x", kinds.Nature.INFORMATIONAL, frozenset({kinds.CRITICAL}))


@pytest.mark.parametrize(("kwargs", "why"), [
    ({"kind": "nobody.declared.this"}, "unknown alert kind"),
    ({"kind": "referral.accepted", "priority": Alert.Priority.CRITICAL}, "priority"),
    ({"kind": "referral.requested", "priority": Alert.Priority.ROUTINE}, "priority"),
    ({"kind": "referral.accepted", "priority": Alert.Priority.URGENT, "escalation_level": 1}, "never escalates"),
])
def test_alert_raise_refuses_what_the_registry_does_not_allow(personas, kwargs, why):
    with pytest.raises(ValueError, match=why):
        alert_raise(title=TITLE, to=[to_user(personas.users.obstetrician_a)], **kwargs)
    assert not Alert.objects.exists()


def test_an_informational_alert_never_escalates_nor_texts(personas, caplog, django_capture_on_commit_callbacks):
    personas.users.duty_a.phone = "13912345678"
    personas.users.duty_a.save()
    put_on_roster(personas.users.duty_a, personas.inst.hospital_a)
    alert_raise(kind="referral.departed", title=TITLE, priority=Alert.Priority.URGENT,
                to=[to_duty(personas.inst.hospital_a)])
    assert not Deadline.objects.filter(kind=ESCALATE).exists()
    # An older critical row of a kind that is informational now, with its escalation still pending,
    # stops there too.
    old = alert_raise(kind="test.critical", title=TITLE, priority=Alert.Priority.CRITICAL,
                      to=[to_duty(personas.inst.hospital_a)])[0]
    Alert.objects.filter(pk=old.pk).update(kind="referral.departed")
    move_deadlines_into_past(Deadline.objects.filter(kind=ESCALATE))
    with caplog.at_level(logging.INFO, logger="notifications.sms"), django_capture_on_commit_callbacks(execute=True):
        deadlines_sweep()
        move_deadlines_into_past(Deadline.objects.filter(kind=ESCALATE, state="pending"))
        deadlines_sweep()
    assert not Alert.objects.filter(escalation_level__gt=0).exists()
    assert not Alert.objects.filter(sms_sent_at__isnull=False).exists() and "139****5678" not in caplog.text


def test_escalation_to_an_overseer_says_what_it_is_for(personas):
    """Nobody at the hospital acknowledged a critical alert: the MCH officer, who cannot take the step, is
    told it is for oversight, whom to phone (the centre's duty phone), and that it closes by itself."""
    from organisations.models import RescueCentre

    duty_phone = RescueCentre.objects.get(institution=personas.inst.hospital_a).duty_phone
    put_on_roster(personas.users.duty_a, personas.inst.hospital_a)
    alert_raise(kind="test.critical", title=TITLE, body=gettext_noop("Put someone on the duty roster now."),
                params={"institution": "闽侯县医院"}, priority=Alert.Priority.CRITICAL,
                to=[to_duty(personas.inst.hospital_a)])
    move_deadlines_into_past(Deadline.objects.filter(kind=ESCALATE))
    deadlines_sweep()
    escalated = Alert.objects.get(escalation_level__gt=0)
    assert escalated.recipient == personas.users.mch_a
    with override("zh-hans"):
        assert escalated.body_text.startswith("督导：")
        assert duty_phone in escalated.body_text and "自动关闭" in escalated.body_text
    with override("en"):
        assert escalated.body_text.startswith("For oversight: nobody at ")


def test_an_escalation_policy_is_only_for_kinds_that_can_escalate(personas):
    from django.core.exceptions import ValidationError

    from notifications.models import AlertPolicy

    for kind in ("referral.accepted", "nobody.declared.this"):
        with pytest.raises(ValidationError) as refused:
            AlertPolicy(province=personas.regions.fujian, kind=kind, chain=["mch_officer"]).clean()
        assert "kind" in refused.value.message_dict
    AlertPolicy(province=personas.regions.fujian, kind="referral.requested", chain=["mch_officer"]).clean()
    AlertPolicy(province=personas.regions.fujian, kind=AlertPolicy.WILDCARD, chain=["mch_officer"]).clean()
