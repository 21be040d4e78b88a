"""Leases on work in flight, so several app processes (or replicas) can share one database.

Each process has an instance id. Work that runs for a while (an upload being indexed,
Arena pre-generation, a judge run, a fine-tuning launch) holds a lease: a row naming the
work, its holder and when the claim expires. A background heartbeat renews every lease
this process holds, so a live holder never loses one; a process that dies simply stops
renewing. Start-up clean-ups and polling loops touch only work whose lease expired (or
whose holder is a process on this machine that no longer exists), never a live
neighbour's.

Clocks: expiry is compared with the local clock of whoever checks, so the machines sharing
a database need roughly synchronised clocks (NTP); the lease length (``PLAYGROUND_LEASE_SECONDS``,
default 60 s) is the slack.

The SQL lives in ``storage.repositories_leases``; this module only calls it through a unit
of work.
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from playground.i18n import Text, t
from playground.settings import lease_seconds_from_env
from storage import UnitOfWork
from storage.orm import utc_now

log = logging.getLogger(__name__)
Clock = Callable[[], datetime]


def _pid_namespace() -> str:
    """Which process-id space this process lives in: two containers on one host share the
    host name only by accident, but never a pid namespace."""
    try:
        return os.readlink("/proc/self/ns/pid").removeprefix("pid:").strip("[]")
    except OSError:
        return "-"


_instance: tuple[int, str] | None = None


def instance_id() -> str:
    """This process: ``host:pid-namespace:pid:random`` (the random part tells restarts apart;
    a forked child gets its own)."""
    global _instance
    if _instance is None or _instance[0] != os.getpid():
        ident = f"{socket.gethostname()}:{_pid_namespace()}:{os.getpid()}:{secrets.token_hex(4)}"
        _instance = (os.getpid(), ident)
    return _instance[1]


def new_token() -> str:
    return secrets.token_hex(16)


def owner_pid_if_local(owner: str) -> int | None:
    """The pid of ``owner`` when it is a process in this machine's (and namespace's) process
    space, so its existence can be checked here; None for a process elsewhere."""
    parts = owner.split(":")
    if len(parts) != 4 or parts[0] != socket.gethostname() or parts[1] != _pid_namespace():
        return None
    try:
        return int(parts[2])
    except ValueError:
        return None


def owner_is_gone(owner: str) -> bool:
    """True only when the owner is a process on this machine that no longer exists (or is a
    zombie). A process on another machine is never judged here: only its lease's expiry counts."""
    pid = owner_pid_if_local(owner)
    if pid is None:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] == "Z"
    except (OSError, IndexError):
        return False


@dataclass(frozen=True)
class LeaseInfo:
    """What anyone may read about a lease."""

    kind: str
    resource_id: int
    owner: str
    expires_at: datetime
    stop_requested: bool
    note: str

    def live(self, now: datetime) -> bool:
        return self.expires_at > now


def _info(row) -> LeaseInfo:
    return LeaseInfo(row.kind, row.resource_id, row.owner, row.expires_at, bool(row.stop_requested), row.note or "")


@dataclass(eq=False)
class Lease:
    """A lease this process holds. ``lost`` is set when another process cleaned it up or
    took it over; ``stop`` when someone asked the holder to stop (checked at each renewal)."""

    kind: str
    resource_id: int
    token: str
    lost: threading.Event = field(default_factory=threading.Event)
    stop: threading.Event = field(default_factory=threading.Event)
    on_stop: Callable[[], None] | None = None
    on_lost: Callable[[], None] | None = None
    # Renew only while this says so (e.g. while the child process it was taken for still runs).
    wanted: Callable[[], bool] | None = None


class Leases:
    """Take, renew, release and inspect leases; one heartbeat thread renews those held here."""

    def __init__(
        self,
        uow_factory: Callable[[], UnitOfWork],
        seconds: float | None = None,
        heartbeat_s: float | None = None,
        clock: Clock = utc_now,
    ):
        self.uow_factory = uow_factory
        self.seconds = float(seconds if seconds is not None else lease_seconds_from_env())
        self.heartbeat_s = float(heartbeat_s if heartbeat_s is not None else max(0.5, self.seconds / 4))
        self.clock = clock
        self._held: dict[tuple[str, int], Lease] = {}
        self._guard = threading.Lock()
        self._wake = threading.Event()
        self._beater: threading.Thread | None = None

    def _expiry(self, now: datetime, seconds: float | None = None) -> datetime:
        return now + timedelta(seconds=seconds if seconds is not None else self.seconds)

    # ---- taking ------------------------------------------------------------------------
    def take_in(
        self, uow: UnitOfWork, kind: str, resource_id: int, note: str = "", token: str | None = None
    ) -> Lease | None:
        """Take the lease inside the caller's transaction (so the work's own row and its lease
        commit together); None if another holder's lease is live. Call ``keep`` after the commit."""
        now = self.clock()
        token = token or new_token()
        current = uow.leases.live(kind, resource_id, now)
        if current is not None and owner_is_gone(current.owner):  # its holder died here without releasing it
            uow.leases.drop(kind, resource_id)
        if not uow.leases.take(kind, resource_id, instance_id(), token, now, self._expiry(now), note):
            return None
        return Lease(kind, resource_id, token)

    def acquire(self, kind: str, resource_id: int, note: str = "") -> Lease | None:
        """Take the lease and start renewing it; None if another holder's lease is live."""
        with self.uow_factory() as uow:
            lease = self.take_in(uow, kind, resource_id, note)
        if lease is not None:
            self.keep(lease)
        return lease

    def adopt(self, kind: str, resource_id: int, token: str) -> Lease | None:
        """Become the holder of a lease someone took for us with ``token`` (a worker process
        taking over the launch lease its app took). None when that token holds nothing."""
        now = self.clock()
        with self.uow_factory() as uow:
            row = uow.leases.adopt(kind, resource_id, token, instance_id(), now, self._expiry(now))
        if row is None:
            return None
        lease = Lease(kind, resource_id, token)
        if row.stop_requested:
            lease.stop.set()
        return lease

    # ---- holding -----------------------------------------------------------------------
    def keep(self, lease: Lease) -> None:
        """Renew ``lease`` from the heartbeat thread until it is released or lost."""
        with self._guard:
            self._held[(lease.kind, lease.resource_id)] = lease
            if self._beater is None or not self._beater.is_alive():
                self._beater = threading.Thread(target=self._beat, name="lease-heartbeat", daemon=True)
                self._beater.start()

    def renew(self, lease: Lease, note: str | None = None) -> bool:
        """Extend the lease now (with a new progress ``note`` for other processes to show); False
        (and ``lease.lost`` set) when this process no longer holds it. Fires ``on_stop`` once
        someone asked for a stop."""
        now = self.clock()
        text = note[:500] if note is not None else None
        with self.uow_factory() as uow:
            row = uow.leases.renew(
                lease.kind, lease.resource_id, lease.token, instance_id(), now, self._expiry(now), text
            )
        if row is None:
            self._lose(lease)
            return False
        if row.stop_requested and not lease.stop.is_set():
            lease.stop.set()
            if lease.on_stop is not None:
                lease.on_stop()
        return True

    def release(self, lease: Lease) -> bool:
        """Give the lease up in a transaction of its own; False if it was no longer ours."""
        self._forget(lease)
        with self.uow_factory() as uow:
            return uow.leases.release(lease.kind, lease.resource_id, lease.token)

    def release_in(self, uow: UnitOfWork, lease: Lease) -> bool:
        """Give the lease up inside the caller's transaction (with the work's final write)."""
        self._forget(lease)
        return uow.leases.release(lease.kind, lease.resource_id, lease.token)

    def stop_renewing(self, lease: Lease) -> None:
        self._forget(lease)

    def close(self) -> None:
        """Stop the heartbeat (the leases held simply expire)."""
        with self._guard:
            self._held.clear()
        self._wake.set()

    def _forget(self, lease: Lease) -> None:
        with self._guard:
            if self._held.get((lease.kind, lease.resource_id)) is lease:
                del self._held[(lease.kind, lease.resource_id)]

    def _lose(self, lease: Lease) -> None:
        self._forget(lease)
        if not lease.lost.is_set():
            log.info(
                "No longer holding the lease on %s %s (released elsewhere, cleaned up or handed over)",
                lease.kind,
                lease.resource_id,
            )
            lease.lost.set()
            if lease.on_lost is not None:
                lease.on_lost()

    def _beat(self) -> None:
        while True:
            self._wake.wait(self.heartbeat_s)
            self._wake.clear()
            with self._guard:
                held = list(self._held.values())
                if not held:
                    self._beater = None
                    return
            for lease in held:
                if lease.wanted is not None and not lease.wanted():
                    self._forget(lease)
                    continue
                try:
                    self.renew(lease)
                except Exception:  # the database is busy or away: try again at the next beat
                    log.exception("Could not renew the lease on %s %s", lease.kind, lease.resource_id)

    # ---- looking -----------------------------------------------------------------------
    def holder(self, kind: str, resource_id: int) -> LeaseInfo | None:
        """The live lease on this work, whoever holds it; None when nobody does."""
        with self.uow_factory() as uow:
            row = uow.leases.live(kind, resource_id, self.clock())
            return _info(row) if row is not None else None

    def all(self, uow: UnitOfWork, kind: str) -> dict[int, LeaseInfo]:
        """Every lease of ``kind``, live or expired, by resource id."""
        return {row.resource_id: _info(row) for row in uow.leases.all(kind)}

    def request_stop(self, kind: str, resource_id: int) -> bool:
        """Ask whoever holds a live lease on this work to stop; False when nobody holds one."""
        with self.uow_factory() as uow:
            return uow.leases.request_stop(kind, resource_id, self.clock())

    def is_dead(self, info: LeaseInfo | None, now: datetime | None = None) -> Text | None:
        """Why the work under this lease may be cleaned up (None while its holder is alive)."""
        if info is None:
            return t("leases.no_holder")
        if not info.live(now or self.clock()):
            return t("leases.no_sign_of_life", seconds=round(self.seconds))
        if owner_is_gone(info.owner):
            return t("leases.process_gone", pid=owner_pid_if_local(info.owner))
        return None
