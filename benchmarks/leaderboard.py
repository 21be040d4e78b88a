"""Leaderboard speed and accuracy: 100,000 simulated votes among 20 models with known
strengths, Bradley–Terry fit plus 100 bootstrap rounds.

    .venv/bin/python benchmarks/leaderboard.py

Prints the seconds taken (goal < 3 s) and the Spearman correlation between the fitted
ratings and the true strengths (goal ≥ 0.95). Votes are drawn from the Bradley–Terry
model itself, with 10% ties and 5% "both bad", in random pairs and random sides.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
from scipy.stats import spearmanr

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from playground.arena import ratings
from playground.arena.leaderboard import build

MODELS, VOTES, ROUNDS, SEED = 20, 100_000, 100, 2026


def simulate(rng: np.random.Generator) -> tuple[np.ndarray, list[dict]]:
    strength = rng.normal(0.0, 1.0, MODELS)  # natural-log odds scale
    a = rng.integers(0, MODELS, VOTES)
    b = (a + rng.integers(1, MODELS, VOTES)) % MODELS
    p_a = 1.0 / (1.0 + np.exp(-(strength[a] - strength[b])))
    u = rng.random(VOTES)
    winner = np.where(u < 0.10, "tie", np.where(u < 0.15, "bothbad", np.where(rng.random(VOTES) < p_a, "a", "b")))
    votes = [
        {
            "contestant_a": int(i),
            "contestant_b": int(j),
            "winner": str(w),
            "acceptable_a": None,
            "acceptable_b": None,
            "repeat_of_id": None,
            "leaks_a": [],
            "leaks_b": [],
        }
        for i, j, w in zip(a, b, winner)
    ]
    return strength, votes


def main() -> int:
    rng = np.random.default_rng(SEED)
    strength, votes = simulate(rng)
    contestants = [(i, f"model-{i:02d}") for i in range(MODELS)]
    started = time.perf_counter()
    board = build(votes, contestants, rounds=ROUNDS, seed=SEED)  # the app's own path, from stored-vote rows
    seconds = time.perf_counter() - started
    fitted = {row.name: row.rating for row in board.rows}
    rho = spearmanr([fitted[name] for _, name in contestants], strength).statistic
    widths = [row.upper - row.lower for row in board.rows]
    tiers = len({row.rank for row in board.rows})
    core_started = time.perf_counter()
    pairs = ratings.PairVotes.from_lists(
        [v["contestant_a"] for v in votes],
        [v["contestant_b"] for v in votes],
        [{"a": 1.0, "b": 0.0}.get(v["winner"], 0.5) for v in votes],
        MODELS,
    )
    ratings.bradley_terry(pairs)
    ratings.bootstrap(pairs, rounds=ROUNDS, seed=SEED)
    core_seconds = time.perf_counter() - core_started
    print(f"votes: {VOTES:,} among {MODELS} models, {ROUNDS} bootstrap rounds")
    print(
        f"leaderboard (from vote rows, incl. Elo, matrices): {seconds:.2f} s   goal < 3 s   {'OK' if seconds < 3 else 'MISSED'}"
    )
    print(f"  of which Bradley-Terry + bootstrap alone:       {core_seconds:.2f} s")
    print(
        f"Spearman correlation with true strengths:        {rho:.4f}   goal >= 0.95   {'OK' if rho >= 0.95 else 'MISSED'}"
    )
    print(f"95% interval width: median {np.median(widths):.1f} points; {tiers} distinct tiers among {MODELS} models")
    return 0 if seconds < 3 and rho >= 0.95 else 1


if __name__ == "__main__":
    sys.exit(main())
