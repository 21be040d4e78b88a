"""From stored votes to a leaderboard: Bradley–Terry with bootstrap tiers, online Elo,
matrices, acceptable rates, and quality against cost and latency."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from playground.arena import ratings
from playground.arena.agreement import wilson
from playground.i18n import Text, t

SCORES = {"a": 1.0, "b": 0.0, "tie": 0.5, "bothbad": 0.5}


@dataclass
class ModelRow:
    name: str
    rank: int
    rating: float
    lower: float
    upper: float
    elo: float
    battles: int
    win_rate: float
    acceptable: float
    acceptable_interval: tuple[float, float]
    acceptable_n: int
    latency_s: float | None
    cost_usd: float | None
    cost_source: str | None = None  # "local" when every answer ran locally: $0 by choice, not a price


@dataclass(frozen=True)
class VoteCount:
    """Every vote cast, and how many of them the ratings count: the live tally and the
    leaderboard both state these, so their figures always agree."""

    cast: int = 0
    repeats: int = 0  # side-swapped repeats: they measure raters, not models
    dropped: int = 0  # on answers naming a model, when the policy keeps those out

    @property
    def counted(self) -> int:
        return self.cast - self.repeats - self.dropped

    def sentence(self) -> str:
        """'6 votes cast; 5 count for the ratings (1 side-swapped repeat checks rater consistency).'"""
        return str(self.said())

    def said(self) -> Text:
        """``sentence`` as a catalogue Text, shown in the reader's language."""
        n = self.cast
        cast = t("arena.votes_cast_one", n=n) if n == 1 else t("arena.votes_cast_many", n=n)
        if self.counted == self.cast:
            return t("arena.votes_all_count", cast=cast)
        why: list[Text] = []
        if self.repeats:
            r = self.repeats
            why.append(t("arena.repeat_one", n=r) if r == 1 else t("arena.repeat_many", n=r))
        if self.dropped:
            d = self.dropped
            why.append(t("arena.dropped_one", n=d) if d == 1 else t("arena.dropped_many", n=d))
        joined: Text | str = why[0] if len(why) == 1 else t("arena.semicolon_pair", a=why[0], b=why[1]) if why else ""
        return t("arena.votes_some_count", cast=cast, counted=self.counted, why=joined)


@dataclass
class Leaderboard:
    rows: list[ModelRow] = field(default_factory=list)  # best first
    names: list[str] = field(default_factory=list)  # matrix order (= rows order)
    win_rate: np.ndarray | None = None
    counts: np.ndarray | None = None
    votes_used: int = 0
    votes_dropped: int = 0
    rounds: int = 0
    votes: VoteCount = field(default_factory=VoteCount)


def counted_votes(votes: Sequence[dict[str, Any]], leak_action: str) -> tuple[list[dict[str, Any]], int]:
    """Votes that count for the ratings: not side-swapped repeats (they measure raters, and
    would count a battle twice) and, when leaks are excluded, not on answers naming a model."""
    kept = []
    dropped = 0
    for vote in votes:
        if vote["repeat_of_id"] is not None:
            continue
        if leak_action == "exclude" and (vote["leaks_a"] or vote["leaks_b"]):
            dropped += 1
            continue
        kept.append(vote)
    return kept, dropped


def count_votes(votes: Sequence[dict[str, Any]], leak_action: str) -> VoteCount:
    kept, dropped = counted_votes(votes, leak_action)
    return VoteCount(cast=len(votes), repeats=len(votes) - len(kept) - dropped, dropped=dropped)


def _ratings(pairs: ratings.PairVotes, n: int, any_votes: bool, rounds: int, seed: int):
    """(rating, lower, upper, ranks): Bradley-Terry with bootstrap intervals, or the anchor
    with no interval when nothing was voted."""
    if not any_votes:
        return np.full(n, ratings.ANCHOR), np.full(n, np.nan), np.full(n, np.nan), np.ones(n, dtype=int)
    lower, upper = ratings.intervals(ratings.bootstrap(pairs, rounds=rounds, seed=seed))
    return ratings.bradley_terry(pairs), lower, upper, ratings.tier_ranks(lower, upper)


def _acceptable(kept: Sequence[dict[str, Any]], a: list[int], b: list[int], n: int) -> tuple[np.ndarray, np.ndarray]:
    """Per contestant: answers marked acceptable, and answers marked at all."""
    yes, marked = np.zeros(n, dtype=int), np.zeros(n, dtype=int)
    for v, i, j in zip(kept, a, b):
        for flag, who in ((v["acceptable_a"], i), (v["acceptable_b"], j)):
            if flag is not None:
                marked[who] += 1
                yes[who] += int(bool(flag))
    return yes, marked


def _usage(usage: Sequence[dict[str, Any]], index: dict[int, int], n: int):
    """Per contestant: mean seconds per answer (None: none timed) and mean cost (None: one unknown)."""
    latency: dict[int, list[float]] = {i: [] for i in range(n)}
    cost: dict[int, list[float | None]] = {i: [] for i in range(n)}
    sources: dict[int, set[str | None]] = {i: set() for i in range(n)}
    for u in usage:
        found = index.get(u["contestant_id"])
        if found is None or u["status"] != "ok":
            continue
        if u["total_s"] is not None:
            latency[found].append(float(u["total_s"]))
        cost[found].append(u["cost_usd"])
        sources[found].add(u.get("price_source"))
    mean_latency = [float(np.mean(latency[i])) if latency[i] else None for i in range(n)]
    mean_cost = [
        float(np.mean([c for c in cost[i] if c is not None]))
        if cost[i] and all(c is not None for c in cost[i])  # one unknown makes the mean unknown
        else None
        for i in range(n)
    ]
    local = [sources[i] == {"local"} for i in range(n)]
    return mean_latency, mean_cost, local


def build(
    votes: Sequence[dict[str, Any]],
    contestants: Sequence[tuple[int, str]],
    usage: Sequence[dict[str, Any]] = (),
    leak_action: str = "redact",
    rounds: int = 100,
    seed: int = 0,
) -> Leaderboard:
    """votes: rows from ArenaRepository.vote_rows; contestants: (id, label) in display order."""
    kept, dropped = counted_votes(votes, leak_action)
    index = {cid: i for i, (cid, _) in enumerate(contestants)}
    names = [label for _, label in contestants]
    n = len(names)
    a = [index[v["contestant_a"]] for v in kept]
    b = [index[v["contestant_b"]] for v in kept]
    score = [SCORES[v["winner"]] for v in kept]
    pairs = ratings.PairVotes.from_lists(a, b, score, n)
    rating, lower, upper, ranks = _ratings(pairs, n, bool(kept), rounds, seed)
    elo = ratings.online_elo(a, b, score, n)
    counts, wins = ratings.count_matrix(pairs), ratings.win_matrix(pairs)
    accept_yes, accept_n = _acceptable(kept, a, b, n)
    latency, cost, local = _usage(usage, index, n)
    rows = []
    for i in range(n):
        battles = int(counts[i].sum())
        rows.append(
            ModelRow(
                name=names[i],
                rank=int(ranks[i]),
                rating=float(rating[i]),
                lower=float(lower[i]),
                upper=float(upper[i]),
                elo=float(elo[i]),
                battles=battles,
                win_rate=float(wins[i].sum() / battles) if battles else math.nan,
                acceptable=float(accept_yes[i] / accept_n[i]) if accept_n[i] else math.nan,
                acceptable_interval=wilson(int(accept_yes[i]), int(accept_n[i])),
                acceptable_n=int(accept_n[i]),
                latency_s=latency[i],
                cost_usd=cost[i],
                cost_source="local" if local[i] and cost[i] is not None else None,
            )
        )
    order = sorted(range(n), key=lambda i: (-rows[i].rating, names[i]))
    return Leaderboard(
        rows=[rows[i] for i in order],
        names=[names[i] for i in order],
        win_rate=ratings.win_rate_matrix(pairs)[np.ix_(order, order)],
        counts=counts[np.ix_(order, order)],
        votes_used=len(kept),
        votes_dropped=dropped,
        rounds=rounds if kept else 0,
        votes=count_votes(votes, leak_action),
    )
