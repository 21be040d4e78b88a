"""Bradley–Terry, bootstrap, tiers, Elo and the matrices against hand-computed values."""

import math

import numpy as np
import pytest
from scipy.optimize import minimize
from scipy.stats import spearmanr

from playground.arena import ratings
from playground.arena.leaderboard import build


def votes(pairs, n):
    a, b, s = zip(*pairs)
    return ratings.PairVotes.from_lists(a, b, s, n)


def test_two_models_three_wins_of_four_is_log10_3_apart():
    # odds 3:1 -> 400*log10(3) = 190.85 points apart, centred on 1000.
    r = ratings.bradley_terry(votes([(0, 1, 1), (0, 1, 1), (0, 1, 1), (0, 1, 0)], 2), prior=0)
    assert r[0] == pytest.approx(1000 + 200 * math.log10(3), abs=1e-6)  # 1095.42
    assert r[1] == pytest.approx(1000 - 200 * math.log10(3), abs=1e-6)  # 904.58
    # The default prior is weak: it moves this example by well under a point.
    assert ratings.bradley_terry(votes([(0, 1, 1)] * 3 + [(0, 1, 0)], 2))[0] == pytest.approx(1095.42, abs=0.2)


def test_a_tie_counts_half_a_win_each():
    # A beats B once and they tie twice: A has 2 "wins" of 3 games -> odds 2:1.
    r = ratings.bradley_terry(votes([(0, 1, 1), (0, 1, 0.5), (1, 0, 0.5)], 2), prior=0)
    assert r[0] - r[1] == pytest.approx(400 * math.log10(2), abs=1e-6)  # 120.41


def test_a_cycle_rates_everyone_equal():
    r = ratings.bradley_terry(votes([(0, 1, 1), (1, 2, 1), (2, 0, 1)], 3), prior=0)
    assert r == pytest.approx([1000, 1000, 1000])


def test_matches_a_direct_likelihood_maximisation():
    pairs = [
        (0, 1, 1),
        (0, 1, 1),
        (1, 0, 1),
        (1, 2, 1),
        (1, 2, 0.5),
        (2, 1, 1),
        (0, 2, 1),
        (2, 0, 1),
        (0, 2, 1),
        (2, 0, 0),
    ]
    v = votes(pairs, 3)
    wins = ratings.win_matrix(v)

    def nll(theta):
        d = theta[:, None] - theta[None, :]
        return -(wins * -np.log1p(np.exp(-d))).sum() + 100 * theta.sum() ** 2

    theta = minimize(nll, np.zeros(3), method="BFGS", options={"gtol": 1e-10}).x
    expected = 1000 + 400 / math.log(10) * (theta - theta.mean())
    assert ratings.bradley_terry(v, prior=0) == pytest.approx(expected, abs=1e-3)


def test_recovers_the_order_of_known_strengths():
    rng = np.random.default_rng(3)
    strength = np.array([-1.5, -0.8, -0.2, 0.3, 0.9, 1.6])
    n, count = len(strength), 6000
    a = rng.integers(0, n, count)
    b = (a + rng.integers(1, n, count)) % n
    p = 1 / (1 + np.exp(-(strength[a] - strength[b])))
    u = rng.random(count)
    score = np.where(u < 0.9 * p, 1.0, np.where(u < 0.9 * p + 0.1, 0.5, 0.0))
    v = ratings.PairVotes.from_lists(a, b, score, n)
    r = ratings.bradley_terry(v)
    assert list(np.argsort(r)) == list(range(n))
    assert spearmanr(r, strength).statistic == pytest.approx(1.0)
    samples = ratings.bootstrap(v, rounds=100, seed=1)
    lower, upper = ratings.intervals(samples)
    assert np.all(lower <= r) and np.all(r <= upper)
    assert list(ratings.tier_ranks(lower, upper)) == [6, 5, 4, 3, 2, 1]  # well separated: one model per tier


def test_bootstrap_is_seeded_and_overlapping_intervals_share_a_tier():
    v = votes([(0, 1, 1), (0, 1, 0), (0, 1, 1), (1, 2, 1), (1, 2, 0), (0, 2, 1)] * 3, 3)
    first = ratings.bootstrap(v, rounds=100, seed=7)
    assert np.array_equal(first, ratings.bootstrap(v, rounds=100, seed=7))
    assert first.shape == (100, 3)
    # Hand example for tiers: intervals [10, 20], [15, 25], [30, 40] -> ranks 2, 2, 1.
    assert list(ratings.tier_ranks(np.array([10, 15, 30]), np.array([20, 25, 40]))) == [2, 2, 1]


def test_online_elo_by_hand():
    # K=16, equal ratings: expected 0.5, the winner gains 8.
    assert list(ratings.online_elo([0], [1], [1.0], 2)) == [1008, 992]
    # Second game B beats A: expected for B = 1/(1+10^(16/400)) = 0.47699 -> B gains 16*0.52301 = 8.368.
    r = ratings.online_elo([0, 1], [1, 0], [1.0, 1.0], 2)
    assert r[1] == pytest.approx(992 + 16 * (1 - 1 / (1 + 10 ** (16 / 400))), abs=1e-9)


def test_matrices_by_hand():
    v = votes([(0, 1, 1), (1, 0, 0.5), (0, 2, 0)], 3)
    counts = ratings.count_matrix(v)
    assert counts.tolist() == [[0, 2, 1], [2, 0, 0], [1, 0, 0]]
    rate = ratings.win_rate_matrix(v)
    assert rate[0, 1] == pytest.approx(0.75) and rate[1, 0] == pytest.approx(0.25)
    assert rate[0, 2] == 0 and rate[2, 0] == 1 and math.isnan(rate[1, 2])


def _vote(a, b, winner, acc_a=None, acc_b=None, repeat=None, leaks=()):
    return {
        "contestant_a": a,
        "contestant_b": b,
        "winner": winner,
        "acceptable_a": acc_a,
        "acceptable_b": acc_b,
        "repeat_of_id": repeat,
        "leaks_a": list(leaks),
        "leaks_b": [],
    }


def test_leaderboard_counts_acceptable_rates_and_skips_repeats_and_leaks():
    rows = [
        _vote(10, 20, "a", True, False),
        _vote(10, 20, "a", True, None),
        _vote(20, 10, "bothbad", False, True),
        _vote(10, 20, "b", repeat=1),  # a repeat: measures the rater, not the models
        _vote(20, 10, "a", leaks=["Gemma"]),  # names a model: dropped when leaks are excluded
    ]
    usage = [
        {"contestant_id": 10, "status": "ok", "total_s": 1.0, "cost_usd": None},
        {"contestant_id": 10, "status": "ok", "total_s": 3.0, "cost_usd": None},
        {"contestant_id": 20, "status": "ok", "total_s": 0.5, "cost_usd": 0.002},
    ]
    board = build(rows, [(10, "X"), (20, "Y")], usage, leak_action="exclude", rounds=100)
    assert board.votes_used == 3 and board.votes_dropped == 1
    x, y = board.rows  # X won 2.5 of 3
    assert (x.name, y.name) == ("X", "Y")
    assert x.rating - y.rating == pytest.approx(400 * math.log10(5), abs=1.0)
    assert x.acceptable == pytest.approx(1.0) and x.acceptable_n == 3
    assert y.acceptable == pytest.approx(0.0) and y.acceptable_n == 2
    assert x.latency_s == pytest.approx(2.0) and x.cost_usd is None and y.cost_usd == pytest.approx(0.002)
    assert build(rows, [(10, "X"), (20, "Y")], leak_action="redact").votes_used == 4
