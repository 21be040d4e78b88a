"""Ratings from pairwise votes: Bradley–Terry maximum likelihood with bootstrap intervals,
tiers, online Elo, and the win-rate / battle-count matrices.

Outcomes are scored from model_a's side: 1 (a won), 0 (b won), 0.5 (tie or both bad —
each counts as half a win for both, as in FastChat). Ratings use Elo's scale: 400 points
per factor of 10 in odds, anchored so the mean rating is 1000.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

SCALE = 400.0
BASE = 10.0
ANCHOR = 1000.0
# A very weak Gaussian prior on log-strengths: it changes a 3-of-4 example by ~0.1 point but
# keeps a model that never lost (or never won) finite instead of drifting off to infinity.
DEFAULT_PRIOR = 1e-3


@dataclass(frozen=True)
class PairVotes:
    """Votes reduced to what the ratings need: indices of the two models and a's score."""

    a: np.ndarray  # int, index of model_a
    b: np.ndarray  # int, index of model_b
    score: np.ndarray  # float in {0, 0.5, 1}
    n_models: int

    @classmethod
    def from_lists(cls, a: Sequence[int], b: Sequence[int], score: Sequence[float], n_models: int) -> PairVotes:
        arr_a, arr_b = np.asarray(a, dtype=np.int64), np.asarray(b, dtype=np.int64)
        arr_s = np.asarray(score, dtype=np.float64)
        if not (len(arr_a) == len(arr_b) == len(arr_s)):
            raise ValueError("a, b and score must have the same length")
        if np.any(arr_a == arr_b):
            raise ValueError("a model cannot battle itself")
        return cls(arr_a, arr_b, arr_s, n_models)


def win_matrix(votes: PairVotes) -> np.ndarray:
    """W[i, j] = wins of i over j, ties counting half to each side."""
    n = votes.n_models
    wins = np.zeros((n, n))
    np.add.at(wins, (votes.a, votes.b), votes.score)
    np.add.at(wins, (votes.b, votes.a), 1.0 - votes.score)
    return wins


def count_matrix(votes: PairVotes) -> np.ndarray:
    n = votes.n_models
    counts = np.zeros((n, n))
    np.add.at(counts, (votes.a, votes.b), 1.0)
    return counts + counts.T


def _fit_theta(wins: np.ndarray, prior: float, iterations: int = 100, tol: float = 1e-10) -> np.ndarray:
    """Maximise sum W_ij log σ(θi − θj) − prior/2 |θ|² by Newton's method, for a stack of
    win matrices at once (shape (R, n, n)); returns θ (R, n) centred to mean 0."""
    rounds, n, _ = wins.shape
    games = wins + wins.transpose(0, 2, 1)
    theta = np.zeros((rounds, n))
    centre = np.full((n, n), 1.0 / n)
    for _ in range(iterations):
        diff = theta[:, :, None] - theta[:, None, :]
        p = 1.0 / (1.0 + np.exp(-diff))
        grad = (wins - games * p).sum(axis=2) - prior * theta
        weight = games * p * (1.0 - p)
        # Negative Hessian: Laplacian of the weighted comparison graph plus the prior; the
        # projection onto "sum of θ is 0" makes it invertible when the prior is 0.
        neg_hess = -weight
        idx = np.arange(n)
        neg_hess[:, idx, idx] = weight.sum(axis=2) + prior
        step = np.linalg.solve(neg_hess + centre[None], grad[..., None])[..., 0]
        # Damping keeps Newton stable far from the optimum (e.g. lopsided bootstrap samples).
        largest = np.abs(step).max(axis=1, keepdims=True)
        step = step * np.minimum(1.0, 2.0 / np.maximum(largest, 1e-300))
        theta = theta + step
        theta -= theta.mean(axis=1, keepdims=True)
        if largest.max() < tol:
            break
    return theta


def to_rating(theta: np.ndarray) -> np.ndarray:
    return ANCHOR + SCALE / np.log(BASE) * theta


def bradley_terry(votes: PairVotes, prior: float = DEFAULT_PRIOR) -> np.ndarray:
    """Maximum-likelihood ratings, one per model (mean 1000)."""
    return to_rating(_fit_theta(win_matrix(votes)[None], prior)[0])


def bootstrap(
    votes: PairVotes, rounds: int = 100, seed: int = 0, prior: float = DEFAULT_PRIOR, batch: int = 50
) -> np.ndarray:
    """Ratings refitted on `rounds` resamples of the votes (with replacement); shape (rounds, n).

    Resampling N votes with replacement is a multinomial draw over the distinct
    (model_a, model_b, score) cells, so each round costs the number of cells, not of votes.
    """
    n = votes.n_models
    cells, counts = np.unique(np.stack([votes.a, votes.b, np.round(votes.score * 2)]), axis=1, return_counts=True)
    ca, cb, cs = cells[0].astype(np.int64), cells[1].astype(np.int64), cells[2] / 2.0
    rng = np.random.default_rng(seed)
    draws = rng.multinomial(len(votes.score), counts / counts.sum(), size=rounds).astype(np.float64)
    # One matrix product turns a round's cell counts into its win matrix.
    to_wins = np.zeros((len(ca), n * n))
    np.add.at(to_wins, (np.arange(len(ca)), ca * n + cb), cs)
    np.add.at(to_wins, (np.arange(len(ca)), cb * n + ca), 1.0 - cs)
    results = []
    for start in range(0, rounds, batch):
        wins = (draws[start : start + batch] @ to_wins).reshape(-1, n, n)
        results.append(to_rating(_fit_theta(wins, prior)))
    return np.concatenate(results) if results else np.zeros((0, n))


def intervals(samples: np.ndarray, level: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    tail = (1.0 - level) / 2.0 * 100.0
    return np.percentile(samples, tail, axis=0), np.percentile(samples, 100.0 - tail, axis=0)


def tier_ranks(lower: np.ndarray, upper: np.ndarray) -> np.ndarray:
    """Rank = 1 + the number of models whose interval lies wholly above this one's.

    Models whose intervals overlap cannot be told apart, so they share a rank (a tier).
    """
    return np.array([1 + int(np.sum(lower > upper[i])) for i in range(len(lower))])


def online_elo(
    a: Sequence[int], b: Sequence[int], score: Sequence[float], n_models: int, k: float = 16.0
) -> np.ndarray:
    """Classic sequential Elo in vote order (as Open WebUI shows): depends on order, no interval."""
    ratings = np.full(n_models, ANCHOR)
    for i, j, s in zip(a, b, score):
        expected = 1.0 / (1.0 + BASE ** ((ratings[j] - ratings[i]) / SCALE))
        ratings[i] += k * (s - expected)
        ratings[j] -= k * (s - expected)
    return ratings


def win_rate_matrix(votes: PairVotes) -> np.ndarray:
    """Share of i's battles against j that i won (ties half); NaN where they never met."""
    wins, counts = win_matrix(votes), count_matrix(votes)
    with np.errstate(invalid="ignore", divide="ignore"):
        rate = wins / counts
    rate[counts == 0] = np.nan
    return rate
