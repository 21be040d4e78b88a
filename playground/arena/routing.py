"""Which battle a rater gets next.

Full overlap (the default, ``votes_per_battle`` None): every rater rates every battle, in
their own shuffled order (``schedule.rater_sequence``). Routed (``votes_per_battle`` = N):
each rater gets the battles that still need votes, fewest first (ties in the rater's own
order), so a room covers a large set N times over quickly, like Argilla's
``TaskDistribution(min_submitted=N)`` or Prodigy's ``annotations_per_task``.

Either way a side-swapped repeat is only served to a rater who voted its original, and never
as the very next battle after it: seeing the same two texts again at once gives the repeat away.

Concurrency: a routed battle handed to a rater is *held* for them for ``HOLD_S`` (in this
process's memory), and counts as a vote to come, so two raters fetching at once get different
battles. Picks for one evaluation run one at a time under a lock that also covers reading the
vote counts, so within one process a battle never ends up with more than N votes. Two app
processes (or replicas) do not see each other's holds: raters fetching at the same moment from
different processes may then get the same battle, and it ends with more than N votes (never fewer).
A rater who walks away releases their hold after ``HOLD_S``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

HOLD_S = 120.0
REPEAT_GAP = 3  # votes a routed repeat waits after its original before it is due


@dataclass(frozen=True)
class Candidates:
    """What the pick needs about one rater and the ratable battles of their evaluation."""

    order: Sequence[int]  # the rater's own shuffled order of the ratable battles
    repeat_of: dict[int, int | None]
    voted_order: Sequence[int]  # battles the rater voted on, oldest first


def _open_battles(c: Candidates) -> list[int]:
    """Unvoted battles the rater may get now: a repeat only once its original has their vote,
    and not right after it."""
    voted = set(c.voted_order)
    last = c.voted_order[-1] if c.voted_order else None
    return [
        b
        for b in c.order
        if b not in voted and (c.repeat_of[b] is None or (c.repeat_of[b] in voted and c.repeat_of[b] != last))
    ]


def pick_full_overlap(c: Candidates) -> int | None:
    return next(iter(_open_battles(c)), None)


def pick_routed(
    c: Candidates, votes: dict[int, int], held: dict[int, int], need: int, own: int | None
) -> tuple[int | None, int]:
    """The routed pick, and how many battles are held back only because others hold them.

    ``votes``: votes so far per battle; ``held``: holds by *other* raters per battle; ``own``:
    the battle this rater holds (a reload gets it back while it still needs votes)."""
    voted_at = {b: i for i, b in enumerate(c.voted_order)}
    open_ = _open_battles(c)
    rank = {b: i for i, b in enumerate(c.order)}
    choices: list[tuple[tuple[float, int], int]] = []
    waiting = 0
    for b in open_:
        original = c.repeat_of[b]
        if original is not None:  # a self-consistency check for this rater: due once spaced out
            since = len(c.voted_order) - 1 - voted_at[original]
            choices.append(((-1 if since >= REPEAT_GAP else float("inf"), rank[b]), b))
            continue
        if votes.get(b, 0) >= need:
            continue
        expected = votes.get(b, 0) + held.get(b, 0)
        if expected >= need and b != own:
            waiting += 1
            continue
        choices.append(((-2 if b == own else expected, rank[b]), b))
    return (min(choices)[1] if choices else None), waiting


class Holds:
    """Battles handed out to raters of routed evaluations and not yet voted on (this process only)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic):
        self._clock = clock
        self._lock = threading.Lock()
        self._locks: dict[int, threading.Lock] = {}
        self._held: dict[int, dict[int, tuple[int, float]]] = {}  # evaluation -> rater -> (battle, since)

    @contextmanager
    def picking(self, evaluation_id: int) -> Iterator[None]:
        """One pick at a time per evaluation (reading the vote counts included)."""
        with self._lock:
            lock = self._locks.setdefault(evaluation_id, threading.Lock())
        with lock:
            yield

    def snapshot(self, evaluation_id: int, rater_id: int) -> tuple[dict[int, int], int | None]:
        """(holds by other raters per battle, the battle this rater holds)."""
        now = self._clock()
        with self._lock:
            held = self._held.get(evaluation_id, {})
            for rater in [r for r, (_, since) in held.items() if now - since >= HOLD_S]:
                del held[rater]
            others: dict[int, int] = {}
            for rater, (battle, _) in held.items():
                if rater != rater_id:
                    others[battle] = others.get(battle, 0) + 1
            own = held.get(rater_id)
            return others, (own[0] if own else None)

    def hold(self, evaluation_id: int, rater_id: int, battle_id: int) -> None:
        with self._lock:
            self._held.setdefault(evaluation_id, {})[rater_id] = (battle_id, self._clock())

    def release(self, evaluation_id: int, rater_id: int, battle_id: int | None = None) -> None:
        with self._lock:
            held = self._held.get(evaluation_id, {})
            if rater_id in held and (battle_id is None or held[rater_id][0] == battle_id):
                del held[rater_id]

    def forget(self, evaluation_id: int) -> None:
        with self._lock:
            self._held.pop(evaluation_id, None)
            self._locks.pop(evaluation_id, None)
