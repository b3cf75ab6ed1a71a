"""Issue 5 item 5/7: the case transfer runs as a viewflow flow whose open task is the receiving
institution's inbox entry; the services complete or cancel it."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from viewflow.workflow.models import Task
from viewflow.workflow.status import PROCESS, STATUS

from cases.models import CaseTransfer, HighRiskCase
from organisations.http import ActionDenied
from tests.workflows.highrisk.test_services import open_case
from workflows.highrisk import services as hr
from workflows.highrisk.flows import TransferFlow, transfers_awaiting


def request_transfer(personas):  # type: ignore[no-untyped-def]
    case = open_case(personas)
    transfer = hr.case_transfer_request(case=case, by=personas.users.obstetrician_a,
                                        to_institution=personas.inst.hospital_b, reason="随丈夫迁居同安区")
    return case, CaseTransfer.objects.get(pk=transfer.pk)


def open_tasks(transfer):  # type: ignore[no-untyped-def]
    return list(Task.objects.filter(process=transfer.process, status=STATUS.NEW).values_list("flow_task", flat=True))


def test_request_starts_a_process_with_the_answer_task_in_the_receivers_inbox(personas):
    case, transfer = request_transfer(personas)
    assert transfer.process is not None
    assert transfer.process.flow_class is TransferFlow
    assert open_tasks(transfer) == [TransferFlow.answer]
    assert list(transfers_awaiting(personas.users.obstetrician_b)) == [transfer]
    # The sender, another county's doctors and officers have no such task.
    for who in ("obstetrician_a", "mch_b", "duty_a", "bureau_a", "outsider"):
        assert not transfers_awaiting(getattr(personas.users, who)).exists(), who


def test_accept_completes_the_task_and_ends_the_process(personas):
    case, transfer = request_transfer(personas)
    hr.case_transfer_accept(transfer=transfer, by=personas.users.obstetrician_b, doctor=personas.users.obstetrician_b)
    transfer.refresh_from_db()
    process = transfer.process
    assert process.status == PROCESS.DONE
    answer = Task.objects.get(process=process, flow_task=TransferFlow.answer)
    assert answer.status == STATUS.DONE and answer.finished is not None
    assert not transfers_awaiting(personas.users.obstetrician_b).exists()


def test_reject_completes_the_task_too(personas):
    case, transfer = request_transfer(personas)
    with pytest.raises(ActionDenied):
        hr.case_transfer_reject(transfer=transfer, by=personas.users.obstetrician_a, reason="不")
    assert open_tasks(transfer) == [TransferFlow.answer]
    hr.case_transfer_reject(transfer=transfer, by=personas.users.obstetrician_b, reason="本院产科床位已满")
    transfer.refresh_from_db()
    assert transfer.process.status == PROCESS.DONE
    assert open_tasks(transfer) == []


def test_the_sender_withdraws_with_a_reason_and_the_process_is_cancelled(personas):
    case, transfer = request_transfer(personas)
    with pytest.raises(ValidationError):
        hr.case_transfer_cancel(transfer=transfer, by=personas.users.obstetrician_a, reason=" ")
    with pytest.raises(ActionDenied):
        hr.case_transfer_cancel(transfer=transfer, by=personas.users.obstetrician_b, reason="不要了")
    hr.case_transfer_cancel(transfer=transfer, by=personas.users.obstetrician_a, reason="孕妇决定留在本地")
    transfer.refresh_from_db()
    assert (transfer.status, transfer.cancel_reason) == ("cancelled", "孕妇决定留在本地")
    assert transfer.process.status == PROCESS.CANCELED
    assert Task.objects.get(process=transfer.process, flow_task=TransferFlow.answer).status == STATUS.CANCELED
    with pytest.raises(ActionDenied):
        hr.case_transfer_accept(transfer=transfer, by=personas.users.obstetrician_b,
                                doctor=personas.users.obstetrician_b)


def test_closing_the_case_withdraws_its_pending_transfer(personas):
    case, transfer = request_transfer(personas)
    hr.case_close(case=case, by=personas.users.obstetrician_a, kind=HighRiskCase.CloseKind.ENDED, reason="自然流产")
    transfer.refresh_from_db()
    assert transfer.status == "cancelled"
    assert transfer.process.status == PROCESS.CANCELED


def test_worklist_tab_and_case_page_follow_the_task(client, personas):
    case, transfer = request_transfer(personas)
    client.force_login(personas.users.obstetrician_b)
    page = client.get(reverse("highrisk:index") + "?tab=transfers").content.decode()
    assert case.pregnancy.woman.name in page
    detail = client.get(reverse("highrisk:case_detail", args=[case.pk])).content.decode()
    assert "transfer-accept" in detail
    client.force_login(personas.users.obstetrician_a)
    page = client.get(reverse("highrisk:index") + "?tab=transfers").content.decode()
    assert case.pregnancy.woman.name not in page
    detail = client.get(reverse("highrisk:case_detail", args=[case.pk])).content.decode()
    assert "transfer-accept" not in detail and "transfer-withdraw" in detail
    response = client.post(reverse("highrisk:case_action", args=[case.pk, "transfer-withdraw"]),
                           {"reason": "孕妇决定留在本地"})
    assert response.status_code == 302
    client.force_login(personas.users.obstetrician_b)
    page = client.get(reverse("highrisk:index") + "?tab=transfers").content.decode()
    assert case.pregnancy.woman.name not in page
