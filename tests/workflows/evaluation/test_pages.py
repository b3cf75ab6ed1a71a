"""The 评估 pages: who opens them, which schemes each sees, the export, and the import's refusals."""

import io

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from cases.models import EvaluationScheme
from organisations.models import Role
from tests.personas import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def schemes(personas):
    national = EvaluationScheme.objects.get(code="national-2023")
    fujian = national.copy_for(province=personas.regions.fujian, code="fj-2024", name="福建省细则")
    guangdong = national.copy_for(province=personas.regions.guangdong, code="gd-2024", name="广东省细则")
    return national, fujian, guangdong


def test_a_county_bureau_sees_the_national_edition_and_its_provinces_rules_only(client, personas, schemes):
    national, fujian, guangdong = schemes
    client.force_login(personas.users.bureau_a)
    page = client.get(reverse("evaluation:index"))
    assert page.status_code == 200
    text = page.content.decode()
    assert national.name in text and "福建省细则" in text and "广东省细则" not in text
    detail = client.get(reverse("evaluation:scheme", args=[fujian.pk]))
    assert detail.status_code == 200 and detail.content.decode().count('data-testid="evaluation-indicator"') == 7
    assert client.get(reverse("evaluation:scheme", args=[guangdong.pk])).status_code == 404
    assert client.get(reverse("evaluation:scheme_export", args=[guangdong.pk])).status_code == 404


def test_the_export_is_a_workbook_of_the_schemes_rows(client, personas, schemes):
    client.force_login(personas.users.mch_a)
    response = client.get(reverse("evaluation:scheme_export", args=[schemes[0].pk]))
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.content)).active
    assert sheet.max_row == 8 and "危重孕产妇救治中心覆盖率" in [c.value for c in sheet["F"]]


def test_a_clinician_is_refused_with_a_reason(client, personas, schemes):
    client.force_login(personas.users.obstetrician_a)
    response = client.get(reverse("evaluation:index"))
    assert response.status_code == 403


def test_only_the_provinces_admin_imports_and_a_broken_file_is_a_message(client, personas, schemes):
    _national, fujian, _guangdong = schemes
    client.force_login(personas.users.bureau_province)
    assert client.get(reverse("evaluation:scheme_import", args=[fujian.pk])).status_code == 403
    admin_user = UserFactory(username="admin_fj")
    MembershipFactory(user=admin_user, institution=personas.inst.bureau_province, role=Role.SYSTEM_ADMIN)
    client.force_login(admin_user)
    assert client.get(reverse("evaluation:scheme_import", args=[schemes[0].pk])).status_code == 403
    broken = io.BytesIO(b"not a workbook")
    broken.name = "rules.xlsx"
    response = client.post(reverse("evaluation:scheme_import", args=[fujian.pk]), {"file": broken, "reason": "x"})
    assert response.status_code == 200 and 'data-testid="import-problems"' in response.content.decode()
    assert fujian.indicators.count() == 7
