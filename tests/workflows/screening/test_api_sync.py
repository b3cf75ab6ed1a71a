"""Sync through the API (issue 17 item 3): ``updated_at`` moves on every save (a partial one too), a cursor walk
on (updated_at, id) lists every row once even when rows share a time and one of them changes mid-walk,
``updated_since`` / ``If-Modified-Since`` list only what changed, a change shows only once it is older than the
horizon; and on PostgreSQL a reader syncing while writers change women and pregnancies sees every final
version and never the same version twice."""

from __future__ import annotations

import datetime as dt
import importlib
import random
import threading
import time

import pytest
from django.db import connection, connections, transaction
from django.utils import timezone
from django.utils.http import http_date
from rest_framework.test import APIClient

from cases.models import Pregnancy, Woman
from tests.personas import PregnancyFactory, WomanFactory
from tests.workflows.sync import walk
from workflows.common import save_with_history


def client_for(user):  # type: ignore[no-untyped-def]
    client = APIClient()
    client.force_authenticate(user)
    return client


def women(personas, count: int) -> list[Woman]:  # type: ignore[no-untyped-def]
    at = personas.inst.hospital_a
    return [WomanFactory(residence_region=at.region, registered_by=at) for _ in range(count)]


@pytest.fixture
def no_lag(settings):  # type: ignore[no-untyped-def]
    settings.API_SYNC_LAG_SECONDS = 0


def test_updated_at_moves_on_every_save_a_partial_one_too(personas):
    woman = women(personas, 1)[0]
    pregnancy = PregnancyFactory(woman=woman, booking_institution=personas.inst.hospital_a)
    before = pregnancy.updated_at
    pregnancy.near_miss_at = timezone.now()
    save_with_history(pregnancy, by=personas.users.obstetrician_a, reason="near miss", update_fields=["near_miss_at"])
    stored = Pregnancy.objects.get(pk=pregnancy.pk)
    assert stored.updated_at > before and stored.near_miss_at is not None


def test_the_migration_gives_existing_rows_the_time_of_their_last_change(personas):
    from django.apps import apps

    backfill = importlib.import_module("cases.migrations.0032_sync_updated_at").backfill
    woman = women(personas, 1)[0]
    woman.name = "改名"
    woman.save()
    last_change = woman.history.latest().history_date
    Woman.objects.filter(pk=woman.pk).update(updated_at=timezone.now() + dt.timedelta(days=1))
    backfill(apps, None)
    assert Woman.objects.get(pk=woman.pk).updated_at == last_change
    assert woman.history.earliest().updated_at == woman.history.earliest().history_date


def test_a_cursor_walk_lists_every_row_once_in_order(personas, no_lag):
    made = women(personas, 7)
    rows = walk(client_for(personas.users.obstetrician_a), "/api/women/", page_size=3)
    assert [r["id"] for r in rows] == [str(w.pk) for w in sorted(made, key=lambda w: (w.updated_at, str(w.pk)))]


def test_rows_sharing_a_time_are_not_skipped_when_one_changes_mid_walk(personas, no_lag):
    made = women(personas, 6)
    same = timezone.now() - dt.timedelta(minutes=1)
    Woman.objects.filter(pk__in=[w.pk for w in made]).update(updated_at=same)  # e.g. the migration's backfill
    client = client_for(personas.users.obstetrician_a)
    first = client.get("/api/women/", {"page_size": 2}).json()
    seen = [r["id"] for r in first["results"]]
    changed = Woman.objects.get(pk=seen[0])
    changed.phone = "13900000000"
    changed.save()  # moves out of the tie, to the end
    rows = first["results"] + walk(client, first["next"])
    ids = [r["id"] for r in rows]
    assert set(ids) == {str(w.pk) for w in made}
    assert ids.count(seen[0]) == 2 and len(ids) == 7  # the changed row again, as its new version; no other twice
    assert rows[-1]["phone"].endswith("0000")


def test_updated_since_lists_only_what_changed_after_it(personas, no_lag):
    made = women(personas, 4)
    Woman.objects.filter(pk__in=[w.pk for w in made]).update(updated_at=timezone.now() - dt.timedelta(hours=1))
    client = client_for(personas.users.obstetrician_a)
    last = walk(client, "/api/women/")[-1]["updated_at"]
    assert walk(client, "/api/women/", updated_since=last) == []
    made[2].name = "改名"
    made[2].save()
    changed = walk(client, "/api/women/", updated_since=last)
    assert [(r["id"], r["name"]) for r in changed] == [(str(made[2].pk), "改名")]
    # If-Modified-Since (whole seconds) does the same when updated_since is absent.
    since = http_date((timezone.now() - dt.timedelta(minutes=30)).timestamp())
    assert [r["id"] for r in client.get("/api/women/", HTTP_IF_MODIFIED_SINCE=since).json()["results"]] == [
        str(made[2].pk)]
    assert len(client.get("/api/women/", HTTP_IF_MODIFIED_SINCE="not a date").json()["results"]) == 4


def test_bad_sync_parameters(personas, no_lag):
    client = client_for(personas.users.obstetrician_a)
    bad = client.get("/api/pregnancies/", {"updated_since": "yesterday"})
    assert (bad.status_code, set(bad.json())) == (400, {"updated_since"})
    assert client.get("/api/pregnancies/", {"cursor": "bm9wZQ=="}).status_code == 404
    assert client.get("/api/assessments/", {"updated_since": "0001-01-01T00:00:00Z"}).status_code == 200
    assert client_for(personas.users.outsider).get("/api/pregnancies/").status_code == 403


def test_a_change_is_listed_once_it_is_older_than_the_lag(personas, settings):
    settings.API_SYNC_LAG_SECONDS = 5
    woman = women(personas, 1)[0]
    client = client_for(personas.users.obstetrician_a)
    assert client.get("/api/women/").json()["results"] == []  # just saved: not yet
    assert client.get(f"/api/women/{woman.pk}/").status_code == 200  # its detail at once
    Woman.objects.filter(pk=woman.pk).update(updated_at=timezone.now() - dt.timedelta(seconds=6))
    assert [r["id"] for r in client.get("/api/women/").json()["results"]] == [str(woman.pk)]


# --- PostgreSQL: writers and a syncing reader at once ------------------------------------------------

# Skipped before any database set-up on SQLite: a transactional test's flush would empty the reused test
# database of its migration data.
@pytest.mark.postgres
@pytest.mark.skipif(connection.vendor != "postgresql",
                    reason="Concurrent writes need PostgreSQL (the CI PostgreSQL leg runs this).")
@pytest.mark.django_db(transaction=True)
def test_a_reader_syncing_during_concurrent_writes_sees_every_final_version_once(personas, national_data, settings):
    settings.API_SYNC_LAG_SECONDS = 1
    at = personas.inst.hospital_a
    made = [WomanFactory(residence_region=at.region, registered_by=at) for _ in range(20)]
    pregnancies = [PregnancyFactory(woman=w, booking_institution=at) for w in made]
    errors: list[BaseException] = []

    def write(seed: int) -> None:
        rng = random.Random(seed)  # noqa: S311  (not cryptography)
        try:
            for step in range(10):
                # A transaction that commits after its save: sometimes longer than the lag, so only the
                # horizon's "oldest open transaction" keeps the reader from passing its updated_at.
                with transaction.atomic():
                    if rng.random() < 0.5:
                        woman = Woman.objects.select_for_update().get(pk=rng.choice(made).pk)
                        woman.phone = f"139{seed:02d}{step:06d}"
                        woman.save()
                    else:
                        pregnancy = Pregnancy.objects.select_for_update().get(pk=rng.choice(pregnancies).pk)
                        pregnancy.gravidity = pregnancy.gravidity % 9 + 2
                        pregnancy.parity = 1
                        pregnancy.save()
                    time.sleep(rng.choice([0.02, 0.1, 0.3, 1.6]))
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)
        finally:
            connections.close_all()

    seen: dict[str, dict[str, list[tuple[str, str]]]] = {"women": {}, "pregnancies": {}}
    client = client_for(personas.users.obstetrician_a)
    marks: dict[str, str | None] = {"women": None, "pregnancies": None}

    def sync_once() -> None:
        for kind in seen:
            params = {"page_size": 3, **({"updated_since": marks[kind]} if marks[kind] else {})}
            rows = walk(client, f"/api/{kind}/", **params)
            for row in rows:
                version = (row["updated_at"], row.get("phone") or str(row.get("gravidity")))
                seen[kind].setdefault(row["id"], []).append(version)
            if rows:
                marks[kind] = rows[-1]["updated_at"]

    writers = [threading.Thread(target=write, args=(seed,)) for seed in range(3)]
    try:
        for thread in writers:
            thread.start()
        while any(thread.is_alive() for thread in writers):
            sync_once()
            time.sleep(0.05)
    finally:
        for thread in writers:
            thread.join(60)
    assert not errors, errors
    time.sleep(settings.API_SYNC_LAG_SECONDS + 0.5)  # the last changes pass the horizon
    sync_once()

    finals = {"women": {str(w.pk): w for w in Woman.objects.filter(pk__in=[w.pk for w in made])},
              "pregnancies": {str(p.pk): p for p in Pregnancy.objects.filter(pk__in=[p.pk for p in pregnancies])}}
    for kind, records in finals.items():
        assert set(seen[kind]) == set(records), kind
        for pk, record in records.items():
            versions = seen[kind][pk]
            # The last version the reader saw is the record as it ended...
            last_at, last_value = versions[-1]
            assert dt.datetime.fromisoformat(last_at) == record.updated_at, (kind, pk)
            assert last_value == (record.phone_masked if kind == "women" else str(record.gravidity)), (kind, pk)
            # ...and no version came twice, nor out of order (a change committed behind the reader).
            times = [at for at, _value in versions]
            assert times == sorted(set(times)), (kind, pk, versions)
