"""Agreement statistics against hand-computed and textbook values."""

import math

import pytest

from playground.arena.agreement import Judgement, agreement_report, cohen_kappa, fleiss_kappa, wilson


def test_wilson_interval_by_hand():
    # 8 of 10, z=1.96: centre (0.8 + 0.19208)/1.38416 = 0.71674; half 0.22658 -> [0.4902, 0.9433].
    low, high = wilson(8, 10)
    assert low == pytest.approx(0.4902, abs=1e-4) and high == pytest.approx(0.9433, abs=1e-4)
    assert all(math.isnan(v) for v in wilson(0, 0))  # no trials, no interval
    assert wilson(5, 5)[1] == pytest.approx(1.0)


def test_cohen_kappa_by_hand():
    # 10 battles. Rater x: a a a a a b b b tie tie; rater y: a a a a b b b tie tie a.
    x = ["a"] * 5 + ["b"] * 3 + ["tie"] * 2
    y = ["a"] * 4 + ["b"] * 3 + ["tie"] * 2 + ["a"]
    # Agree on 7 of 10 (the 5th, 8th and 10th differ): po = 0.7.
    # Both raters used a 5x, b 3x, tie 2x: pe = (5*5 + 3*3 + 2*2)/100 = 0.38; κ = 0.32/0.62 = 0.5161.
    po, pe = 0.7, (5 * 5 + 3 * 3 + 2 * 2) / 100
    assert cohen_kappa(x, y) == pytest.approx((po - pe) / (1 - pe))  # = 0.5161
    assert cohen_kappa(x, y) == pytest.approx(0.5161, abs=1e-4)
    assert cohen_kappa(x, x) == pytest.approx(1.0)
    assert math.isnan(cohen_kappa(["a", "a"], ["a", "a"]))  # chance agreement already total


def test_fleiss_kappa_textbook_example():
    # Fleiss (1971) as worked on Wikipedia: 10 subjects, 14 raters, 5 categories -> κ = 0.210.
    table = [
        [0, 0, 0, 0, 14], [0, 2, 6, 4, 2], [0, 0, 3, 5, 6], [0, 3, 9, 2, 0], [2, 2, 8, 1, 1],
        [7, 7, 0, 0, 0], [3, 2, 6, 3, 0], [2, 5, 3, 2, 2], [6, 5, 2, 1, 0], [0, 2, 2, 3, 7],
    ]  # fmt: skip
    assert fleiss_kappa(table) == pytest.approx(0.20993, abs=1e-4)


def test_report_pairs_bias_ties_and_self_consistency():
    j = [
        Judgement("ann", 1, "a"), Judgement("bob", 1, "a"),
        Judgement("ann", 2, "b"), Judgement("bob", 2, "tie"),
        Judgement("ann", 3, "a"), Judgement("bob", 3, "b"),
        Judgement("ann", 4, "bothbad"), Judgement("bob", 4, "bothbad"),
        # repeats of battle 1 with sides swapped: ann is consistent ("b"), bob is not ("a").
        Judgement("ann", 9, "b", repeat_of=1), Judgement("bob", 9, "a", repeat_of=1),
    ]  # fmt: skip
    report = agreement_report(j)
    (pair,) = report.pairs
    assert pair.shared == 4 and pair.agreement == pytest.approx(0.5)
    # Both decisive on battles 1 and 3 only; they agree on 1 -> 50%.
    assert pair.decisive == 2 and pair.agreement_decisive == pytest.approx(0.5)
    assert report.shared_battles == 4
    ann, bob = report.raters
    assert ann.votes == 5 and ann.tie_rate == pytest.approx(1 / 5)
    assert ann.left_rate == pytest.approx(2 / 4)  # a, b, a, b(repeat)
    assert bob.left_rate == pytest.approx(2 / 3)  # a, b, a(repeat); tie and both bad are not sides
    assert ann.self_consistency == 1.0 and bob.self_consistency == 0.0 and ann.repeats == 1
    # Fleiss over the 4 shared battles, by hand: P_i = 1,0,0,1 -> P̄ = 0.5;
    # category shares a 3/8, b 2/8, tie 1/8, bothbad 2/8 -> Pe = (9+4+1+4)/64 = 0.28125.
    assert report.fleiss == pytest.approx((0.5 - 0.28125) / (1 - 0.28125))
