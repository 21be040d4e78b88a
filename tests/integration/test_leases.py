"""Leases on work in flight, on a real SQLite file (and PostgreSQL when the test URL is set):
taking, renewing, expiry, stop requests, hand-over to a worker, and that nobody takes a live
lease while anyone may take an expired one."""

from __future__ import annotations

import os
import socket
import threading
import time
from datetime import UTC, datetime, timedelta

import pytest

from playground.leases import LeaseInfo, Leases, instance_id, owner_is_gone
from storage import create_engine_for, make_session_factory, unit_of_work_factory
from tests.conftest_storage import *  # noqa: F403

KIND = "test_work"


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def clock() -> Clock:
    return Clock()


def leases_for(uow_factory, clock, seconds: float = 10.0) -> Leases:
    """One process's view (the lease API does not care which object asks: only the token holds)."""
    return Leases(uow_factory, seconds=seconds, heartbeat_s=3600, clock=clock)


def test_a_live_lease_cannot_be_taken_and_an_expired_one_can(uow_factory, clock):
    ours, theirs = leases_for(uow_factory, clock), leases_for(uow_factory, clock)
    held = ours.acquire(KIND, 1, note="indexing a.pdf")
    assert held is not None
    assert theirs.acquire(KIND, 1) is None  # live: refused
    assert theirs.acquire(KIND, 2) is not None  # other work is independent
    info = theirs.holder(KIND, 1)
    assert info is not None and info.owner == instance_id() and info.note == "indexing a.pdf"

    clock.advance(9)
    assert ours.renew(held)  # renewed before it ran out: 10 s more from now
    clock.advance(9)
    assert theirs.acquire(KIND, 1) is None
    assert theirs.is_dead(theirs.holder(KIND, 1)) is None

    clock.advance(11)  # silent past its expiry
    assert theirs.holder(KIND, 1) is None
    with uow_factory() as uow:
        expired = theirs.all(uow, KIND)[1]
    assert "no sign of life for over 10 seconds" in theirs.is_dead(expired)
    taken = theirs.acquire(KIND, 1)
    assert taken is not None and taken.token != held.token
    # The old holder learns it lost the lease at its next renewal, and cannot release the new one.
    lost = []
    held.on_lost = lambda: lost.append(True)
    assert not ours.renew(held) and held.lost.is_set() and lost == [True]
    assert not ours.release(held)
    assert theirs.holder(KIND, 1) is not None


def test_release_frees_the_work_and_only_the_holder_can_release(uow_factory, clock):
    ours, theirs = leases_for(uow_factory, clock), leases_for(uow_factory, clock)
    held = ours.acquire(KIND, 7)
    assert theirs.acquire(KIND, 7) is None
    assert ours.release(held)
    assert theirs.holder(KIND, 7) is None
    again = theirs.acquire(KIND, 7)
    assert again is not None
    assert not ours.release(held)  # a token that no longer holds it changes nothing
    assert theirs.holder(KIND, 7) is not None


def test_a_lease_taken_in_a_transaction_commits_or_rolls_back_with_it(uow_factory, clock):
    leases = leases_for(uow_factory, clock)
    with pytest.raises(RuntimeError):
        with uow_factory() as uow:
            assert leases.take_in(uow, KIND, 3) is not None
            raise RuntimeError("the work's own write failed")
    assert leases.holder(KIND, 3) is None
    with uow_factory() as uow:
        lease = leases.take_in(uow, KIND, 3)
    assert lease is not None and leases.holder(KIND, 3) is not None


def test_a_stop_request_reaches_the_holder_at_its_next_renewal(uow_factory, clock):
    ours, theirs = leases_for(uow_factory, clock), leases_for(uow_factory, clock)
    held = ours.acquire(KIND, 4)
    stopped = []
    held.on_stop = lambda: stopped.append(True)
    assert theirs.request_stop(KIND, 4)
    assert not theirs.request_stop(KIND, 5)  # nobody holds that one
    assert ours.renew(held, note="prompt 3 of 9")
    assert held.stop.is_set() and stopped == [True]
    assert theirs.holder(KIND, 4).note == "prompt 3 of 9"


def test_a_worker_adopts_the_lease_its_launcher_took(uow_factory, clock):
    app, worker = leases_for(uow_factory, clock), leases_for(uow_factory, clock)
    launch = app.acquire(KIND, 9)
    assert worker.adopt(KIND, 9, "not-the-token") is None
    adopted = worker.adopt(KIND, 9, launch.token)
    assert adopted is not None and worker.renew(adopted)
    # Once a worker in another process adopts it, the app's own renewals fail: never two renewers.
    with uow_factory() as uow:
        uow.leases.adopt(KIND, 9, launch.token, "elsewhere:1:2:3", clock(), clock() + timedelta(seconds=10))
    assert not app.renew(launch)
    assert worker.holder(KIND, 9).owner == "elsewhere:1:2:3"


def test_the_heartbeat_keeps_a_short_lease_alive_and_stops_after_release(uow_factory):
    leases = Leases(uow_factory, seconds=2.0, heartbeat_s=0.2)
    held = leases.acquire(KIND, 11)
    time.sleep(3.0)  # longer than the lease: only the heartbeat keeps it
    other = Leases(uow_factory, seconds=2.0)
    assert other.acquire(KIND, 11) is None
    assert leases.release(held)
    assert other.acquire(KIND, 11) is not None
    leases.close()


def test_many_threads_racing_for_one_lease_exactly_one_wins(db_url, migrated_engine):
    winners: list[str] = []
    barrier = threading.Barrier(6)

    def race() -> None:
        engine = create_engine_for(db_url)  # each racer with its own connections, as separate processes have
        try:
            leases = Leases(unit_of_work_factory(make_session_factory(engine)), seconds=30, heartbeat_s=3600)
            barrier.wait()
            lease = leases.acquire(KIND, 21)
            if lease is not None:
                winners.append(lease.token)
        finally:
            engine.dispose()

    threads = [threading.Thread(target=race) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert len(winners) == 1


def test_liveness_is_judged_here_only_for_processes_on_this_machine():
    host = socket.gethostname()
    namespace = instance_id().split(":")[1]
    assert not owner_is_gone(instance_id())
    assert owner_is_gone(f"{host}:{namespace}:{2**22 + 7}:abcd")  # no such process here
    # Another machine's process is never judged by a local pid: only its lease's expiry counts.
    assert not owner_is_gone(f"another-host:{namespace}:{2**22 + 7}:abcd")
    assert not owner_is_gone(f"{host}:another-namespace:{2**22 + 7}:abcd")
    leases = Leases(lambda: None, seconds=10)  # type: ignore[arg-type,return-value]  # no database needed
    now = datetime.now(UTC)
    live = LeaseInfo(KIND, 1, f"another-host:{namespace}:{os.getpid()}:x", now + timedelta(seconds=5), False, "")
    assert leases.is_dead(live, now) is None
    assert "is gone" in leases.is_dead(
        LeaseInfo(KIND, 1, f"{host}:{namespace}:{2**22 + 7}:x", live.expires_at, False, ""), now
    )
    assert str(leases.is_dead(None)) == "no process holds it"
