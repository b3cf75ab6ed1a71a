"""Referral pages: the command board and sender page, the referral form, the referral page with the
steps open to the user, printing, attachments, consultations and the DDI list."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from cases.models import Colour, Pregnancy, Referral
from organisations.models import AccessLog
from tests.personas import book_woman
from tests.workflows.referral.helpers import refer, rescue_staff
from workflows.referral import services as rs
from workflows.registers import services as registers


@pytest.fixture
def staff(personas):  # type: ignore[no-untyped-def]
    return rescue_staff(personas)


def page(client, user, url, **kwargs):  # type: ignore[no-untyped-def]
    client.force_login(user)
    response = client.get(url, **kwargs)
    return response, response.content.decode()


def test_board_lists_the_centres_open_referrals_unanswered_emergencies_first(client, personas, staff):
    urgent = refer(personas, urgency="urgent")
    emergency = refer(personas)
    accepted = refer(personas, urgency="planned")
    rs.referral_accept(referral=accepted, by=staff.city1, team="产科")
    response, html = page(client, staff.city2, reverse("referral:index"))
    assert response.status_code == 200
    order = [html.index(str(r.pk)) for r in (emergency, urgent, accepted)]
    assert order == sorted(order)
    assert 'data-testid="countdown"' in html and "anmu-board__row--emergency" in html
    fragment = client.get(reverse("referral:index") + "?fragment=1").content.decode()
    assert 'data-testid="board-rows"' in fragment and "<html" not in fragment
    # Another centre's duty doctor sees none of them; a clinician without a centre goes to the sent page.
    response, html = page(client, personas.users.duty_b, reverse("referral:index"))
    assert str(emergency.pk) not in html
    client.force_login(personas.users.primary_a)
    assert client.get(reverse("referral:index")).url == reverse("referral:sent")


def test_purple_shows_as_a_colour_only_on_the_boards(client, personas, staff):
    woman = book_woman(at=personas.inst.hospital_a)
    pregnancy = Pregnancy.objects.get(woman=woman)
    Pregnancy.objects.filter(pk=pregnancy.pk).update(purple=True, colour=Colour.ORANGE)
    pregnancy.refresh_from_db()
    referral = rs.referral_request(pregnancy=pregnancy, by=personas.users.obstetrician_a,
                                   from_institution=personas.inst.hospital_a, to_centre=personas.centres.city,
                                   urgency="emergency", reason="临产", diagnosis="HIV 感染合并临产")
    _, board = page(client, staff.city1, reverse("referral:index"))
    assert str(referral.pk) in board and "HIV" not in board and 'data-colour="purple"' in board
    _, sent = page(client, personas.users.obstetrician_a, reverse("referral:sent"))
    assert str(referral.pk) in sent and "HIV" not in sent
    _, detail = page(client, staff.city1, reverse("referral:detail", args=[referral.pk]))
    assert "HIV 感染合并临产" in detail  # the referral page itself is a clinical record
    assert "HIV" not in Referral.objects.get(pk=referral.pk).pregnancy.woman.name
    from notifications.models import Alert

    assert all("HIV" not in a.body_text for a in Alert.objects.filter(kind="referral.requested"))


def test_sending_a_referral_from_the_form(client, personas, staff, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    pregnancy = Pregnancy.objects.get(woman=book_woman(at=personas.inst.hospital_a))
    url = reverse("referral:new") + f"?pregnancy={pregnancy.pk}"
    response, html = page(client, personas.users.obstetrician_a, url)
    assert response.status_code == 200
    assert html.index(personas.centres.city.institution.name) < html.index(personas.centres.province.institution.name)
    assert "tel:0591-83375120" in html and "duty_city1" in html or "用户" in html
    data = {"from_institution": personas.inst.hospital_a.pk, "to_centre": personas.centres.province.pk,
            "urgency": "emergency", "reason": "产后出血", "diagnosis": "产后出血 1500 mL", "spo2": "150"}
    response = client.post(url, data)
    assert response.status_code == 422
    body = response.content.decode()
    assert "off_suggestion_reason" in body and not Referral.objects.exists()
    data.update({"to_centre": personas.centres.city.pk, "spo2": "93",
                 "attachments": [SimpleUploadedFile("血常规.pdf", b"%PDF-1.4 test")]})
    response = client.post(url, data)
    assert response.status_code == 302
    referral = Referral.objects.get()
    assert response.url == reverse("referral:detail", args=[referral.pk])
    assert (referral.spo2, referral.attachments.get().name) == (93, "血常规.pdf")
    # An outsider cannot even open the form for her.
    response, _ = page(client, personas.users.obstetrician_b, url)
    assert response.status_code == 404


def test_referral_page_shows_only_the_steps_open_to_the_user(client, personas, staff):
    referral = refer(personas)
    url = reverse("referral:detail", args=[referral.pk])
    _, centre = page(client, staff.city1, url)
    assert 'data-step="accept"' in centre and 'data-step="decline"' in centre
    _, sender = page(client, personas.users.obstetrician_a, url)
    assert 'data-step="accept"' not in sender and 'data-step="redirect"' in sender and 'data-step="cancel"' in sender
    _, officer = page(client, personas.users.mch_a, url)
    assert "data-step=" not in officer
    assert page(client, personas.users.duty_b, url)[0].status_code == 404
    assert AccessLog.objects.filter(user=personas.users.mch_a).exists()


def test_acting_through_the_step_pages(client, personas, staff):
    referral = refer(personas)
    client.force_login(staff.city1)
    url = reverse("referral:action", args=[referral.pk, "accept"])
    assert client.post(url, {"team": ""}).status_code == 422
    response = client.post(url, {"team": "产科ICU", "expected_arrival_at": (
        timezone.localtime() + dt.timedelta(minutes=30)).strftime("%Y-%m-%dT%H:%M")})
    assert response.status_code == 302
    assert Referral.objects.get(pk=referral.pk).state == "accepted"
    client.force_login(staff.city2)
    response = client.post(url, {"team": "二组"})
    assert response.status_code == 403
    assert "已接收" in response.content.decode() or "accepted" in response.content.decode().lower()
    client.force_login(personas.users.obstetrician_a)
    response = client.post(reverse("referral:action", args=[referral.pk, "depart"]),
                           {"transport": "ambulance", "escort": "助产士"})
    assert response.status_code == 302
    assert client.post(reverse("referral:action", args=[referral.pk, "arrive"]), {}).status_code == 403
    assert client.get(reverse("referral:action", args=[referral.pk, "nonsense"])).status_code == 404


def test_cancel_is_offered_only_before_arrival(client, personas, staff):
    referral = refer(personas)
    rs.referral_accept(referral=referral, by=staff.city1, team="产科ICU")
    url = reverse("referral:detail", args=[referral.pk])
    assert 'data-step="cancel"' in page(client, personas.users.obstetrician_a, url)[1]
    rs.referral_arrive(referral=referral, by=staff.city2)
    for user in (personas.users.obstetrician_a, staff.city2):
        _, html = page(client, user, url)
        assert 'data-step="cancel"' not in html
        cancel = reverse("referral:action", args=[referral.pk, "cancel"])
        assert client.get(cancel).status_code == 403
        assert client.post(cancel, {"reason": "家属要求"}).status_code == 403
    rs.referral_start_treatment(referral=referral, by=staff.city2)
    assert 'data-step="cancel"' not in page(client, staff.city2, url)[1]
    assert 'data-step="outcome"' in page(client, staff.city2, url)[1]
    assert Referral.objects.get(pk=referral.pk).state == Referral.State.IN_TREATMENT


def test_outcome_form_offers_receiving_centres_and_hospitals_in_order(client, personas, staff):
    referral = refer(personas)
    rs.referral_accept(referral=referral, by=staff.city1, team="产科ICU")
    rs.referral_arrive(referral=referral, by=staff.city2)
    rs.referral_start_treatment(referral=referral, by=staff.city2)
    response, html = page(client, staff.city2, reverse("referral:action", args=[referral.pk, "outcome"]))
    assert response.status_code == 200
    select = html[html.index('name="transferred_to"'):]
    select = select[:select.index("</select>")]
    inst = personas.inst
    for excluded in (inst.bureau_a, inst.bureau_city, inst.bureau_province, inst.mch_a, inst.mch_b, inst.primary_a,
                     inst.mch_city, inst.hospital_gd):
        assert f'value="{excluded.pk}"' not in select
    positions = [select.index(f'value="{i.pk}"') for i in (inst.mch_province, inst.hospital_a, inst.hospital_a2)]
    assert positions == sorted(positions)
    assert "福建省妇幼保健院（省级" in select or "福建省妇幼保健院（Provincial" in select
    # A bureau posted anyway is refused like an unknown choice.
    client.post(reverse("referral:action", args=[referral.pk, "outcome"]),
                {"outcome": "transferred", "note": "转上级", "transferred_to": inst.bureau_city.pk})
    assert Referral.objects.get(pk=referral.pk).state == Referral.State.IN_TREATMENT


def test_print_form_and_attachment_download_are_scoped_and_logged(client, personas, staff, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    referral = refer(personas, attachments=[SimpleUploadedFile("b超.png", b"\x89PNG\r\n\x1a\n123")])
    response, html = page(client, staff.city1, reverse("referral:print", args=[referral.pk]))
    assert response.status_code == 200 and "产后出血 1500 mL" in html and 'data-testid="referral-print"' in html
    attachment = referral.attachments.get()
    url = reverse("referral:attachment", args=[referral.pk, attachment.pk])
    response = client.get(url)
    assert response.status_code == 200 and response["Content-Type"] == "image/png"
    assert b"".join(response.streaming_content).startswith(b"\x89PNG")
    assert AccessLog.objects.filter(user=staff.city1, action=AccessLog.Action.EXPORT).count() == 2
    client.force_login(personas.users.duty_b)
    assert client.get(url).status_code == 404
    assert client.get(reverse("referral:print", args=[referral.pk])).status_code == 404


def test_ddi_list_flags_above_target(client, personas, staff):
    referral = refer(personas)
    rs.referral_accept(referral=referral, by=staff.city1, team="产科")
    rs.referral_arrive(referral=referral, by=staff.city1)
    client.force_login(staff.city1)
    decision = timezone.localtime() - dt.timedelta(hours=2)
    response = client.post(reverse("referral:action", args=[referral.pk, "caesarean"]), {
        "decision_at": decision.strftime("%Y-%m-%dT%H:%M"),
        "delivery_at": (decision + dt.timedelta(minutes=41)).strftime("%Y-%m-%dT%H:%M"), "note": "麻醉医师未到"})
    assert response.status_code == 302
    html = client.get(reverse("referral:caesareans")).content.decode()
    assert 'data-over="1"' in html and "41" in html
    response = client.post(reverse("referral:action", args=[referral.pk, "near-miss"]),
                           {"criteria": ["cv_shock", "coag_transfusion"]})
    assert response.status_code == 302
    detail = client.get(reverse("referral:detail", args=[referral.pk])).content.decode()
    assert 'data-testid="near-miss-flag"' in detail and 'data-testid="ddi"' in detail


def test_consultation_pages(client, personas, staff):
    pregnancy = Pregnancy.objects.get(woman=book_woman(at=personas.inst.hospital_a))
    client.force_login(personas.users.obstetrician_a)
    url = reverse("referral:consultation_new") + f"?pregnancy={pregnancy.pk}"
    assert client.get(url).status_code == 200
    response = client.post(url, {"from_institution": personas.inst.hospital_a.pk, "mode": "remote",
                                 "urgency": "urgent", "question": "?"})
    assert response.status_code == 422  # neither centre nor expert
    response = client.post(url, {"from_institution": personas.inst.hospital_a.pk, "mode": "remote",
                                 "urgency": "urgent", "question": "可否继续妊娠？", "to_centre": personas.centres.city.pk})
    assert response.status_code == 302
    consultation_url = response.url
    client.force_login(staff.city1)
    mine = client.get(reverse("referral:consultations")).content.decode()
    assert pregnancy.woman.name in mine.split("consultations-mine")[1].split("</section>")[0]
    pk = consultation_url.rstrip("/").split("/")[-1]
    response = client.post(reverse("referral:consultation_action", args=[pk, "answer"]), {"answer": "建议终止妊娠"})
    assert response.status_code == 302
    assert "建议终止妊娠" in client.get(consultation_url).content.decode()
    client.force_login(personas.users.duty_b)
    assert client.get(consultation_url).status_code == 404


def test_near_miss_register_and_the_case_page_checklist(client, personas, staff):
    from tests.workflows.highrisk.test_services import open_case

    case = open_case(personas)
    client.force_login(personas.users.obstetrician_a)
    url = reverse("highrisk:case_action", args=[case.pk, "near-miss"])
    assert client.post(url, {"criteria": ["neuro_fits"], "note": "子痫抽搐不止"}).status_code == 302
    other = refer(personas)
    registers.near_miss_record(pregnancy=other.pregnancy, by=staff.city1, institution=personas.inst.mch_city,
                        criteria=[], referral=other)  # checked, nothing met: not a near miss
    _, html = page(client, personas.users.mch_a, reverse("referral:near_misses"))
    assert html.count('data-testid="near-miss-row"') == 1
    assert case.pregnancy.woman.name in html and other.pregnancy.woman.name not in html
    _, html = page(client, personas.users.mch_b, reverse("referral:near_misses"))
    assert case.pregnancy.woman.name not in html
    client.force_login(personas.users.obstetrician_b)
    assert client.post(url, {"criteria": ["neuro_fits"]}).status_code == 404


def _declined_and_sent_on(personas, staff):  # type: ignore[no-untyped-def]
    """Declined by the city centre, then sent on by the sender to the provincial centre."""
    first = refer(personas)
    rs.referral_decline(referral=first, by=staff.city1, reason="ICU 满床")
    second = rs.referral_redirect(referral=Referral.objects.get(pk=first.pk), by=personas.users.obstetrician_a,
                                  to_centre=personas.centres.province, reason="市中心满床，转省中心")
    return first, second


def test_the_pregnancy_page_lists_only_the_referrals_the_viewer_may_see(client, personas, staff):
    """Issue 12: the pregnancy page read pregnancy.referrals around the selector; a centre saw another
    centre's referral of her, its centre and its state."""
    first, second = _declined_and_sent_on(personas, staff)
    pregnancy_url = reverse("cases:pregnancy_detail", args=[first.pregnancy_id])
    first_url, second_url = reverse("referral:detail", args=[first.pk]), reverse("referral:detail", args=[second.pk])
    _, sender = page(client, personas.users.obstetrician_a, pregnancy_url)
    assert first_url in sender and second_url in sender
    # The city centre was asked to take her, so it sees her pregnancy, but not where she went after.
    response, city = page(client, staff.city1, pregnancy_url)
    assert response.status_code == 200
    assert first_url in city and second_url not in city


def test_the_redirect_chain_on_the_referral_page_hides_where_she_went_as_the_api_does(client, personas, staff):
    """Issue 12: the page showed the next centre and its state; the API hides them from the centre that
    redirected her (`redirected_to` is null for it)."""
    first, second = _declined_and_sent_on(personas, staff)
    first_url, second_url = reverse("referral:detail", args=[first.pk]), reverse("referral:detail", args=[second.pk])
    _, city = page(client, staff.city1, first_url)
    assert second_url not in city and 'data-testid="redirect-chain"' not in city
    _, sender = page(client, personas.users.obstetrician_a, first_url)
    assert 'data-testid="redirect-chain"' in sender and second_url in sender
    _, province = page(client, staff.province1, second_url)
    assert first_url not in province  # the centre she was sent on to does not see the one that declined her
