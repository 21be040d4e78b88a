"""How many live prompts one rater may have answering at once, and start in a minute; and how
many joins one join code and one client address may make in a minute (``JoinLimiter``).

A live prompt makes two models answer (and may cost money on a paid endpoint), so one rater
pressing "Ask" in a loop, or a script calling the API, must not starve the room. The key is
the rater (one per name and evaluation; with ``--auth``, one per login), which the browser
cannot forge: it lives in the server-side session. A client address is not used, because a
whole room behind one NAT (a venue's Wi-Fi reaching a cloud machine) shares one address.
The app-wide bound on answers running at once is the generation concurrency group.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from playground.errors import InvalidInput
from playground.i18n import Text, t

WINDOW_S = 60.0


def still_answering(in_flight: int) -> Text:
    if in_flight == 1:
        return t("arena.still_answering_one")
    return t("arena.still_answering_many", n=in_flight)


def too_many(per_minute: int, wait_s: float) -> Text:
    return t("arena.too_many_asks", n=per_minute, seconds=max(1, round(wait_s)))


class LiveAskLimiter:
    """At most ``in_flight`` asks running and ``per_minute`` started in any 60 s, per client key."""

    def __init__(self, in_flight: int = 1, per_minute: int = 10, clock: Callable[[], float] = time.monotonic):
        self.in_flight = max(1, int(in_flight))
        self.per_minute = max(1, int(per_minute))
        self._clock = clock
        self._lock = threading.Lock()
        self._running: dict[str, int] = {}
        self._started: dict[str, deque[float]] = {}

    def acquire(self, key: str) -> None:
        """Take a slot for ``key`` or raise ``InvalidInput`` with the reason (nothing is taken then)."""
        with self._lock:
            now = self._clock()
            recent = self._started.setdefault(key, deque())
            while recent and now - recent[0] >= WINDOW_S:
                recent.popleft()
            if self._running.get(key, 0) >= self.in_flight:
                raise InvalidInput(still_answering(self.in_flight))
            if len(recent) >= self.per_minute:
                raise InvalidInput(too_many(self.per_minute, WINDOW_S - (now - recent[0])))
            recent.append(now)
            self._running[key] = self._running.get(key, 0) + 1

    def release(self, key: str) -> None:
        with self._lock:
            left = self._running.get(key, 0) - 1
            if left > 0:
                self._running[key] = left
            else:
                self._running.pop(key, None)
            self._forget_idle(self._clock())

    def _forget_idle(self, now: float) -> None:
        """Drop keys with nothing running and nothing in the window, so the maps stay small."""
        for key in [k for k, times in self._started.items() if k not in self._running]:
            times = self._started[key]
            if not times or now - times[-1] >= WINDOW_S:
                del self._started[key]

    @contextmanager
    def slot(self, key: str) -> Iterator[None]:
        self.acquire(key)
        try:
            yield
        finally:
            self.release(key)


def too_many_joins(what: str, per_minute: int, wait_s: float) -> Text:
    seconds = max(1, round(wait_s))
    if what == "code":
        return t("arena.too_many_joins_code", n=per_minute, seconds=seconds)
    return t("arena.too_many_joins_address", n=per_minute, seconds=seconds)


class JoinLimiter:
    """At most ``per_code`` joins with one join code and ``per_address`` from one client address
    in any 60 s. Every attempt counts (a wrong code, a taken name), so a script cannot guess codes
    or register raters in bulk; the numbers are generous because a room behind one NAT shares an
    address and joins within the same minute. In-process: each app process counts its own."""

    def __init__(self, per_code: int = 120, per_address: int = 60, clock: Callable[[], float] = time.monotonic):
        self.per_code = max(1, int(per_code))
        self.per_address = max(1, int(per_address))
        self._clock = clock
        self._lock = threading.Lock()
        self._seen: dict[str, deque[float]] = {}

    def _recent(self, key: str, now: float) -> deque[float]:
        times = self._seen.setdefault(key, deque())
        while times and now - times[0] >= WINDOW_S:
            times.popleft()
        return times

    def check(self, code: str | None, address: str | None) -> None:
        """Count one join attempt (a resume has no code), or raise ``InvalidInput`` (nothing is counted then)."""
        with self._lock:
            now = self._clock()
            if len(self._seen) > 10_000:  # a flood of made-up codes: forget the keys that went quiet
                for key in [k for k, times in self._seen.items() if not times or now - times[-1] >= WINDOW_S]:
                    del self._seen[key]
            keys = [(f"code:{code}", self.per_code, "code")] if code else []
            if address:
                keys.append((f"address:{address}", self.per_address, "address"))
            for key, limit, what in keys:
                times = self._recent(key, now)
                if len(times) >= limit:
                    raise InvalidInput(too_many_joins(what, limit, WINDOW_S - (now - times[0])))
            for key, _, _ in keys:
                self._seen[key].append(now)
