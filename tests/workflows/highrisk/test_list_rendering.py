"""The list pages' rows, colour chips and filter selects are built in Python for speed
(cases/templatetags/highrisk.py, cases/highrisk_forms.PlainSelect); they must give the markup the
templates they replace gave, so these tests render both and compare."""

from __future__ import annotations

import re

import pytest
from django import forms
from django.db import connection
from django.template import engines
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation

from cases.models import HighRiskCase
from organisations.models import Institution
from tests.workflows.highrisk.test_views import open_case
from workflows.highrisk.forms import PlainSelect

# The templates as they were (anmu/colour_chip.html and highrisk/case_row.html).
OLD_CHIP = (
    '{% load i18n %}{% if colour %}<span class="anmu-colour anmu-colour--{{ colour }}" data-colour="{{ colour }}">'
    '{% if colour == "green" %}{% trans "Green" %}{% elif colour == "yellow" %}{% trans "Yellow" %}'
    '{% elif colour == "orange" %}{% trans "Orange" %}{% elif colour == "red" %}{% trans "Red" %}{% endif %}'
    '</span>{% endif %}{% if purple %}<span class="anmu-colour anmu-colour--purple" data-colour="purple">'
    '{% trans "Purple" %}</span>{% endif %}{% if not colour and not purple %}'
    '<span class="anmu-muted">{% trans "Not graded" %}</span>{% endif %}'
)
OLD_ROW = """{% load i18n %}<tr data-testid="case-row" data-colour="{{ c.colour }}">
  <td><a href="{% url 'highrisk:case_detail' c.pk %}">{{ c.pregnancy.woman.name }}</a></td>
  <td>OLD_CHIP</td>
  <td>{{ c.get_state_display }}</td>
  <td>{{ c.institution.name }}</td>
  <td>{{ c.responsible_doctor }}</td>
  <td {% if c.next_visit_at and c.next_visit_at < today %}class="anmu-overdue"{% endif %}>{{ c.next_visit_at|date:"Y-m-d"|default:"—" }}{% if c.next_visit_at and c.next_visit_at < today %} · {% trans 'overdue' %}{% endif %}</td>
</tr>""".replace("OLD_CHIP", "{% with colour=c.colour purple=c.purple %}"
                         + OLD_CHIP.removeprefix("{% load i18n %}") + "{% endwith %}")


def squeeze(html: str) -> str:
    """Markup with the whitespace between tags and inside tags dropped (the browser ignores it)."""
    return re.sub(r"\s+", " ", re.sub(r">\s+<", "><", html)).replace("<td >", "<td>").strip()


def render(source: str, **context: object) -> str:
    return engines["django"].from_string(source).render(context)


@pytest.mark.parametrize(("colour", "purple"), [
    ("red", False), ("orange", True), ("yellow", False), ("green", False), ("", True), ("", False), (None, None),
])
def test_colour_chip_gives_the_markup_of_the_old_template(colour, purple):
    with translation.override("zh-hans"):
        new = render("{% include 'anmu/colour_chip.html' %}", colour=colour, purple=purple)
        assert new == render(OLD_CHIP, colour=colour, purple=purple)
    assert new  # something is always shown


@pytest.mark.django_db
@pytest.mark.parametrize("overdue", [False, True])
def test_case_row_gives_the_markup_of_the_old_template(personas, overdue):
    case = open_case(personas, {"age_years": 41}, name="<行>&\"孕妇\"")
    today = timezone.localdate()
    HighRiskCase.objects.filter(pk=case.pk).update(
        next_visit_at=today - timezone.timedelta(days=3) if overdue else None, purple=True)
    case = HighRiskCase.objects.select_related("pregnancy__woman", "institution", "responsible_doctor").get(pk=case.pk)
    with translation.override("zh-hans"):
        new = render("{% load highrisk %}{% case_row c today %}{% case_row c today %}", c=case, today=today)
        old = render(OLD_ROW + OLD_ROW, c=case, today=today)
    assert squeeze(new) == squeeze(old)
    assert reverse("highrisk:case_detail", args=[case.pk]) in new and "&lt;行&gt;&amp;&quot;孕妇&quot;" in new
    assert ("anmu-overdue" in new) is overdue and ("逾期" in new) is overdue


@pytest.mark.parametrize("value", [None, "", "b", ["b"], "missing"])
def test_plain_select_gives_the_markup_of_django_select(value):
    choices = [("", "---------"), ("a", "甲 <医院> & \"分院\""), ("b", "乙"), ("b", "乙 again")]
    attrs = {"id": "id_institution", "required": True, "data-x": "1"}
    plain = PlainSelect(choices=choices).render("institution", value, attrs=attrs)
    django = forms.Select(choices=choices).render("institution", value, attrs=attrs)
    assert squeeze(plain) == squeeze(django)
    assert plain.count(" selected") == (0 if value == "missing" else 1)


@pytest.mark.django_db
def test_register_institution_filter_lists_and_applies_the_institutions_in_scope(client, personas):
    here = open_case(personas, {"age_years": 41}, name="本院孕妇")
    client.force_login(personas.users.mch_a)
    url = reverse("highrisk:register")
    body = client.get(url).content.decode()
    assert f'<option value="{here.institution.pk}">{here.institution.name}</option>' in body
    outside = Institution.objects.exclude(region=here.institution.region).filter(kind=Institution.Kind.MIDWIFERY_HOSPITAL)
    assert outside.exists() and all(str(i.pk) not in body for i in outside)
    chosen = client.get(url, {"institution": str(here.institution.pk)}).content.decode()
    assert f'<option value="{here.institution.pk}" selected>' in chosen and "本院孕妇" in chosen
    elsewhere = client.get(url, {"institution": str(personas.inst.mch_a.pk)}).content.decode()
    assert f'<option value="{personas.inst.mch_a.pk}" selected>' in elsewhere and "本院孕妇" not in elsewhere
    # An institution out of scope is not a choice: the form is invalid and no filter applies.
    refused = client.get(url, {"institution": str(outside.first().pk)})
    assert refused.status_code == 200 and "本院孕妇" in refused.content.decode()


@pytest.mark.django_db
def test_worklist_tab_counts_and_rows(client, personas):
    """The institution's tab counts come from one query; each count matches the rows of its tab."""
    from cases.models import FollowUpVisit, Tracing

    today = timezone.localdate()
    cases = {name: open_case(personas, {"age_years": 41}, name=name) for name in ("今日甲", "本周乙", "逾期丙", "追踪丁")}
    for name, visit in [("今日甲", today), ("本周乙", today + timezone.timedelta(days=3)),
                        ("逾期丙", today - timezone.timedelta(days=3)), ("追踪丁", None)]:
        HighRiskCase.objects.filter(pk=cases[name].pk).update(next_visit_at=visit)
    HighRiskCase.objects.filter(pk=cases["今日甲"].pk).update(state=HighRiskCase.State.MANAGING)
    traced = cases["追踪丁"]
    for _ in range(2):  # two open tracings of one case count once
        missed = FollowUpVisit.objects.create(case=traced, due_on=today - timezone.timedelta(days=9))
        Tracing.objects.create(case=traced, visit=missed, opened_at=timezone.now(),
                               due_at=timezone.now() + timezone.timedelta(days=3))
    found = FollowUpVisit.objects.create(case=cases["逾期丙"], due_on=today - timezone.timedelta(days=9))
    Tracing.objects.create(case=cases["逾期丙"], visit=found, opened_at=timezone.now(), due_at=timezone.now(),
                           status=Tracing.Status.FOUND)
    client.force_login(personas.users.obstetrician_a)
    with CaptureQueriesContext(connection) as queries:
        page = client.get(reverse("highrisk:index")).content.decode()
    case_counts = [q["sql"] for q in queries.captured_queries
                   if q["sql"].startswith("SELECT COUNT(") and 'FROM "cases_highriskcase"' in q["sql"]]
    assert len(case_counts) == 2  # "mine", and every institution tab in one pass
    counts = {tab: int(n) for tab, n in re.findall(r'data-tab="(\w+)">[^<]*<span class="anmu-tag">(\d+)</span>', page)}
    assert counts == {"mine": 4, "today": 1, "week": 2, "overdue": 1, "tracing": 1, "unreported": 3, "transfers": 0}
    expected = {"today": {"今日甲"}, "week": {"今日甲", "本周乙"}, "overdue": {"逾期丙"}, "tracing": {"追踪丁"},
                "unreported": {"本周乙", "逾期丙", "追踪丁"}}
    for tab, names in expected.items():
        body = client.get(reverse("highrisk:index"), {"tab": tab}).content.decode()
        shown = {name for name in cases if name in body}
        assert shown == names, tab
        assert body.count('data-testid="case-row"') == len(names), tab
