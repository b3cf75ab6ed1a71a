"""The scoping matrix: every persona against records at every region level, allowed and denied."""

from __future__ import annotations

import re
import uuid

import pytest
from django.urls import reverse

from organisations.scoping import user_scope
from organisations.selectors import visible_institutions, visible_regions
from tests.personas import book_woman

PLACES = ["county_a", "county_a_primary", "county_a2", "county_b", "city", "province", "other_province"]

# Which women each persona may open. Everything else must look missing (404).
WOMEN_VISIBLE = {
    "obstetrician_a": {"county_a"},
    "obstetrician_b": {"county_b"},
    "primary_a": {"county_a_primary"},
    "mch_a": {"county_a", "county_a_primary"},
    "mch_b": {"county_b"},
    "duty_a": {"county_a"},
    "duty_b": {"county_b"},
    "bureau_a": {"county_a", "county_a_primary"},
    "bureau_city": {"county_a", "county_a_primary", "county_a2", "city"},
    "reviewer_province": set(PLACES) - {"other_province"},
    "bureau_province": set(PLACES) - {"other_province"},
    "bureau_gd": {"other_province"},
}


@pytest.fixture
def women(personas):
    inst = personas.inst
    return {
        "county_a": book_woman(at=inst.hospital_a),
        "county_a_primary": book_woman(at=inst.primary_a),
        "county_a2": book_woman(at=inst.hospital_a2),
        "county_b": book_woman(at=inst.hospital_b),
        "city": book_woman(at=inst.mch_city),
        "province": book_woman(at=inst.mch_province),
        "other_province": book_woman(at=inst.hospital_gd),
    }


@pytest.mark.parametrize("persona", sorted(WOMEN_VISIBLE))
def test_woman_record_is_visible_exactly_in_scope(client, personas, women, persona):
    client.force_login(getattr(personas.users, persona))
    for place, woman in women.items():
        response = client.get(reverse("cases:woman_detail", args=[woman.pk]))
        expected = 200 if place in WOMEN_VISIBLE[persona] else 404
        assert (place, response.status_code) == (place, expected)


@pytest.mark.parametrize("persona", sorted(WOMEN_VISIBLE))
def test_out_of_scope_looks_exactly_like_missing(client, personas, women, persona):
    client.force_login(getattr(personas.users, persona))
    hidden = next(w for p, w in women.items() if p not in WOMEN_VISIBLE[persona])
    denied = client.get(reverse("cases:woman_detail", args=[hidden.pk]))
    missing = client.get(reverse("cases:woman_detail", args=[uuid.uuid4()]))
    assert denied.status_code == missing.status_code == 404
    # Byte for byte, but for what differs per response (the CSP nonce, the masked CSRF token of the shell's
    # language switch) and the address asked for (the switch's "next").
    varying = [re.compile(rb'<meta name="csp-nonce" content="[^"]*">'),
               re.compile(rb'name="csrfmiddlewaretoken" value="[^"]*"')]

    def same(response):  # type: ignore[no-untyped-def]
        body = response.content.replace(response.wsgi_request.path.encode(), b"<path>")
        for pattern in varying:
            body = pattern.sub(b"", body)
        return body

    assert same(denied) == same(missing)
    assert b'data-testid="not-found"' in denied.content  # Anmu's 404 page, in the shell


def test_woman_list_shows_only_scope_and_masks_numbers(client, personas, women):
    client.force_login(personas.users.mch_a)
    body = client.get(reverse("cases:index")).content.decode()
    assert women["county_a"].name in body and women["county_a_primary"].name in body
    assert women["county_b"].name not in body and women["city"].name not in body
    number = women["county_a"].id_number
    assert number not in body
    assert f"{number[:6]}********{number[-4:]}" in body
    assert women["county_a"].phone not in body


def test_user_without_role_is_refused_with_a_reason(client, personas, women):
    client.force_login(personas.users.outsider)
    response = client.get(reverse("cases:woman_detail", args=[women["county_a"].pk]))
    assert response.status_code == 403
    assert "角色" in response.content.decode()


def test_anonymous_is_sent_to_login(client, women):
    response = client.get(reverse("cases:woman_detail", args=[women["county_a"].pk]))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


# Institutions: officers see their area; clinicians their own institution and the centres serving it.
INSTITUTIONS_VISIBLE = {
    "obstetrician_a": {"hospital_a", "mch_city", "mch_province"},
    "primary_a": {"primary_a", "hospital_a", "mch_city", "mch_province"},
    "duty_b": {"hospital_b", "mch_province"},
    "mch_a": {"hospital_a", "primary_a", "mch_a", "bureau_a", "mch_city", "mch_province"},
    "bureau_city": {"hospital_a", "primary_a", "mch_a", "bureau_a", "hospital_a2", "bureau_city", "mch_city",
                    "mch_province"},
    "bureau_province": {"hospital_a", "primary_a", "mch_a", "bureau_a", "hospital_a2", "hospital_b", "mch_b",
                        "bureau_city", "mch_city", "mch_province", "bureau_province"},
    "bureau_gd": {"hospital_gd", "bureau_gd"},
    "outsider": set(),
}


@pytest.mark.parametrize("persona", sorted(INSTITUTIONS_VISIBLE))
def test_institution_selector_matrix(personas, persona):
    names = {name for name, inst in vars(personas.inst).items()
             if visible_institutions(getattr(personas.users, persona)).filter(pk=inst.pk).exists()}
    assert names == INSTITUTIONS_VISIBLE[persona]


@pytest.mark.parametrize("persona", ["obstetrician_a", "bureau_city", "bureau_gd"])
def test_institution_pages_and_api_follow_the_selector(client, personas, persona):
    client.force_login(getattr(personas.users, persona))
    for name, inst in vars(personas.inst).items():
        expected = 200 if name in INSTITUTIONS_VISIBLE[persona] else 404
        page = client.get(f"/organisations/institution/{inst.pk}/detail/")
        api = client.get(f"/api/institutions/{inst.pk}/")
        assert (name, page.status_code, api.status_code) == (name, expected, expected)


def test_api_list_is_scoped(client, personas):
    client.force_login(personas.users.bureau_city)
    data = client.get("/api/institutions/").json()
    names = {row["name"] for row in data["results"]}
    assert names == {getattr(personas.inst, n).name for n in INSTITUTIONS_VISIBLE["bureau_city"]}


def test_region_scope_by_level(personas):
    u, r = personas.users, personas.regions
    assert set(visible_regions(u.bureau_city).values_list("code", flat=True)) >= {
        r.fuzhou.code, r.county_a.code, r.county_a2.code}
    assert r.county_b.code not in set(visible_regions(u.bureau_city).values_list("code", flat=True))
    assert set(visible_regions(u.bureau_province).values_list("code", flat=True)) == {
        r.fujian.code, r.fuzhou.code, r.xiamen.code, r.county_a.code, r.county_a2.code, r.county_b.code}


def test_deactivated_membership_loses_scope_and_permissions(personas):
    from django.contrib.auth import get_user_model

    from organisations.services import membership_revoke

    user = personas.users.mch_a
    membership = user.memberships.get()
    membership_revoke(membership=membership, by=personas.users.bureau_a, reason="调离")
    fresh = get_user_model().objects.get(pk=user.pk)
    assert user_scope(fresh).is_empty
    assert not fresh.has_perm("cases.view_woman")
