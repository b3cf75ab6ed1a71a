"""History change reasons are stored in English and shown in the page's language: on the referral and
case timelines, the consultation page and the history page; rows stored before translation existed
read translated too; `make lint` fails on a stored reason nobody listed."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
from django.urls import reverse
from django.utils import translation

from cases.models import HighRiskCase, Pregnancy
from organisations.reasons import PATTERNS, REASONS, reason_display
from tests.personas import book_woman
from tests.workflows.highrisk.test_views import open_case
from tests.workflows.referral.helpers import refer, rescue_staff
from workflows.highrisk import services as hr
from workflows.referral import services as rs

ROOT = Path(__file__).resolve().parents[2]


def check_translations():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("check_translations", ROOT / "tools" / "check_translations.py")
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


@pytest.mark.parametrize(("stored", "zh", "en"), [
    ("accepted", "已接收", "accepted"),
    ("escalated: no answer in time, the deputy is alerted", "已升级：未按时答复，已通知二线",
     "escalated: no answer in time, the deputy is alerted"),
    ("next visit scheduled", "已预约下次随访", "next visit scheduled"),
    # Variable parts: a choice value shows as its label, free text as written.
    ("outcome: died", "结局：死亡", "outcome: Died"),
    ("closed: ended", "已结案：妊娠以其他方式终止", "closed: The pregnancy ended otherwise"),
    ("assessed: purple+red", "已评估：紫色+红色", "assessed: Purple+Red"),
    ("management plan written", "已制定管理方案", "plan written: Management plan"),
    ("reassigned: 医生休假", "已更换责任医生：医生休假", "reassigned: 医生休假"),
    ("escalated (level 2): no answer in time", "已升级（第 2 级）：未按时答复",
     "escalated (level 2): no answer in time"),
    # Exact reasons win over a pattern that would also match.
    ("reopened: the risk rose again", "重新开启：风险再次升高", "reopened: the risk rose again"),
    # Free text nobody listed (an admin's note, demo data) shows as stored.
    ("演示数据", "演示数据", "演示数据"),
    ("", "", ""),
])
def test_reason_display_in_both_languages(stored, zh, en):
    with translation.override("zh-hans"):
        assert reason_display(stored) == zh
    with translation.override("en"):
        assert reason_display(stored) == en


def test_every_listed_reason_has_a_zh_hans_translation():
    with translation.override("zh-hans"):
        untranslated = sorted(msgid for msgid in REASONS | {p.shown or p.stored for p in PATTERNS}
                              if translation.gettext(msgid) == msgid)
    assert untranslated == []


def test_referral_timeline_reads_in_the_page_language(client, personas):
    staff = rescue_staff(personas)
    referral = refer(personas)
    rs.referral_accept(referral=referral, by=staff.city1, team="产科ICU")
    # A row written before reasons were translated, in the stored form of the time.
    referral.history.filter(history_change_reason="accepted").update(history_change_reason="outcome: died")
    client.force_login(personas.users.obstetrician_a)
    url = reverse("referral:detail", args=[referral.pk])
    zh = client.get(url, HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "已申请转诊" in zh and "结局：死亡" in zh
    assert "referral requested" not in zh and "outcome: died" not in zh
    en = client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "referral requested" in en and "outcome: Died" in en and "已申请转诊" not in en


def test_case_timeline_and_history_page_read_in_the_page_language(client, personas):
    case = open_case(personas, {"age_years": 41})
    hr.case_close(case=case, by=personas.users.obstetrician_a, kind=HighRiskCase.CloseKind.ENDED, reason="外院引产")
    client.force_login(personas.users.obstetrician_a)
    url = reverse("highrisk:case_detail", args=[case.pk])
    zh = client.get(url, HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "由风险评估建立专案" in zh and "已结案：妊娠以其他方式终止" in zh
    assert "opened from a risk assessment" not in zh and "closed: ended" not in zh
    en = client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "opened from a risk assessment" in en and "closed: The pregnancy ended otherwise" in en

    history = reverse("history", args=["cases.highriskcase", case.pk])
    zh = client.get(history, HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "由风险评估建立专案" in zh and "opened from a risk assessment" not in zh
    # The history page stays as scoped as the record.
    client.force_login(personas.users.obstetrician_b)
    assert client.get(history).status_code == 404


def test_consultation_page_reads_in_the_page_language(client, personas):
    rescue_staff(personas)
    pregnancy = Pregnancy.objects.get(woman=book_woman(at=personas.inst.hospital_a))
    consultation = rs.consultation_request(
        pregnancy=pregnancy, by=personas.users.obstetrician_a, from_institution=personas.inst.hospital_a,
        mode="remote", urgency="urgent", question="妊娠合并心脏病，可否继续妊娠？", to_centre=personas.centres.city)
    client.force_login(personas.users.obstetrician_a)
    url = reverse("referral:consultation", args=[consultation.pk])
    zh = client.get(url, HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "已申请会诊" in zh and "consultation requested" not in zh
    assert "consultation requested" in client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()


def test_lint_finds_every_stored_reason_and_refuses_an_unlisted_one():
    tool = check_translations()
    assert tool.reason_problems() == []
    services = [path for path in (ROOT / "workflows").rglob("*.py") if "services" in path.parts or path.stem == "services"]
    found = [text for path in services for _line, text in tool.stored_reasons(path.read_text(encoding="utf-8"))]
    assert "accepted" in found and len(found) > 70
    source = '''
def step(obj, by, problem, kind):
    save_with_history(obj, by=by, reason="frobnicated")
    save_with_history(obj, by=by, reason=f"outcome: {kind}")
    save_with_history(obj, by=by, reason="delivery place planned" + (" below the required level" if problem else ""))
    obj._change_reason = f"{kind} was teleported"
    obj._change_reason = kind
'''
    stored = tool.stored_reasons(source)
    assert sorted(text for _line, text in stored) == sorted([
        "frobnicated", "outcome: \x00", "delivery place planned below the required level",
        "delivery place planned", "\x00 was teleported"])
    from organisations.reasons import reason_known
    unknown = sorted(text for _line, text in stored if not reason_known(text.replace("\x00", "x")))
    assert unknown == ["\x00 was teleported", "frobnicated"]
