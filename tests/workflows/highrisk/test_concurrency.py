"""Two people act on the same case at once: exactly one wins, the other gets a clear refusal.

Real concurrency needs PostgreSQL row locks (CI's PostgreSQL leg); SQLite serialises writers."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections

from cases.models import Assessment, CaseTransfer, HighRiskCase, Pregnancy
from organisations.http import ActionDenied
from organisations.models import Membership, Role
from tests.personas import UserFactory, book_woman
from workflows.highrisk import services as hr
from workflows.screening.services import assessment_record

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def race(*actions):  # type: ignore[no-untyped-def]
    barrier = threading.Barrier(len(actions))
    results: list = [None] * len(actions)

    def run(index, action):  # type: ignore[no-untyped-def]
        barrier.wait()
        try:
            results[index] = ("ok", action())
        except ActionDenied as exc:
            results[index] = ("denied", exc.reason)
        except Exception as exc:  # noqa: BLE001  (reported by the assertion)
            results[index] = ("error", repr(exc))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i, a)) for i, a in enumerate(actions)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return results


@pytest.fixture
def case(national_data, personas):
    if connection.vendor != "postgresql":
        pytest.skip("Concurrent transitions need PostgreSQL (the CI PostgreSQL leg runs this).")
    woman = book_woman(at=personas.inst.hospital_a)
    pregnancy = Pregnancy.objects.get(woman=woman)
    assessment_record(pregnancy=pregnancy, institution=personas.inst.hospital_a, by=personas.users.obstetrician_a,
                      stage=Assessment.Stage.FIRST, inputs={"age_years": 41})
    return HighRiskCase.objects.get(pregnancy=pregnancy)


def test_two_doctors_accept_the_same_transfer(personas, case):
    second = UserFactory(username="obstetrician_b2")
    Membership.objects.create(user=second, institution=personas.inst.hospital_b, role=Role.OBSTETRICIAN)
    for _round in range(5):
        transfer = hr.case_transfer_request(case=case, by=personas.users.obstetrician_a,
                                            to_institution=personas.inst.hospital_b, reason="迁居")
        results = race(
            lambda t=transfer: hr.case_transfer_accept(transfer=t, by=personas.users.obstetrician_b,
                                                       doctor=personas.users.obstetrician_b),
            lambda t=transfer: hr.case_transfer_accept(transfer=t, by=second, doctor=second),
        )
        outcomes = sorted(kind for kind, _value in results)
        assert outcomes == ["denied", "ok"], results
        refusal = next(value for kind, value in results if kind == "denied")
        assert "已" in refusal or "already" in refusal
        assert CaseTransfer.objects.get(pk=transfer.pk).status == "accepted"
        # Move it back for the next round.
        case.refresh_from_db()
        back = hr.case_transfer_request(case=case, by=case.responsible_doctor,
                                        to_institution=personas.inst.hospital_a, reason="回迁")
        hr.case_transfer_accept(transfer=back, by=personas.users.obstetrician_a, doctor=personas.users.obstetrician_a)
        case.refresh_from_db()


def test_two_doctors_record_the_delivery_at_once(personas, case):
    from django.utils import timezone

    results = race(
        lambda: hr.case_record_delivery(case=case, by=personas.users.obstetrician_a, delivered_at=timezone.now(),
                                        place="institution", institution=personas.inst.hospital_a,
                                        mode="spontaneous", live_births=1, outcome="顺产"),
        lambda: hr.case_record_delivery(case=case, by=personas.users.duty_a, delivered_at=timezone.now(),
                                        place="institution", institution=personas.inst.hospital_a,
                                        mode="caesarean", caesarean_indication="胎儿窘迫", live_births=1,
                                        outcome="剖宫产"),
    )
    assert sorted(kind for kind, _value in results) == ["denied", "ok"], results
    case.refresh_from_db()
    assert case.state == "delivered"
    assert case.history.filter(state="delivered").count() == 1
