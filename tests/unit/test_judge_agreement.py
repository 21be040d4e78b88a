"""Judge-versus-people agreement, checked against figures worked out by hand."""

import math

import pytest

from playground.judge.agreement import (
    grade_agreement,
    human_majority,
    position_bias,
    verdict_agreement,
    votes_by_battle,
)


def test_human_majority_reads_both_bad_as_tie_and_refuses_an_even_split():
    assert human_majority(["a", "a", "b"]) == "a"
    assert human_majority(["bothbad", "tie", "a"]) == "tie"  # both bad + tie = 2 ties against 1 A
    assert human_majority(["a", "b"]) is None  # 1 against 1: no majority
    assert human_majority(["a", "a", "tie", "tie", "b"]) is None  # 2 against 2 at the top
    assert human_majority([]) is None


def test_a_repeat_vote_counts_for_its_original_battle_with_sides_swapped_back():
    votes = [
        {"battle_id": 1, "repeat_of_id": None, "winner": "a"},
        {"battle_id": 9, "repeat_of_id": 1, "winner": "b"},  # B on the swapped repeat = A on battle 1
        {"battle_id": 2, "repeat_of_id": None, "winner": "bothbad"},
    ]
    assert votes_by_battle(votes) == {1: ["a", "a"], 2: ["bothbad"]}


def test_exact_agreement_and_kappa_match_the_hand_computation():
    # Ten battles, one rater each (so the majority is that vote):
    #   human: a a a a b b b tie tie a
    #   judge: a a a b b b a tie a   a
    # Same on battles 1,2,3,5,6,8,10 -> 7 of 10, po = 0.7
    # Human counts a=5, b=3, tie=2; judge counts a=6, b=3, tie=1
    # pe = (5*6 + 3*3 + 2*1) / 10^2 = 41/100 = 0.41
    # κ = (0.7 - 0.41) / (1 - 0.41) = 0.29 / 0.59 = 0.4915...
    human = ["a", "a", "a", "a", "b", "b", "b", "tie", "tie", "a"]
    judge = ["a", "a", "a", "b", "b", "b", "a", "tie", "a", "a"]
    result = verdict_agreement({i: [h] for i, h in enumerate(human)}, dict(enumerate(judge)))
    assert (result.compared, result.agreed, result.split, result.undecided) == (10, 7, 0, 0)
    assert result.exact == pytest.approx(0.7)
    assert result.kappa == pytest.approx(0.29 / 0.59)
    low, high = result.interval
    assert low < 0.7 < high
    assert "agreed with the raters' majority on 7 of 10 battles (70%), κ = 0.49" in result.sentence
    assert "over 80% exact agreement" in result.sentence


def test_split_and_undecided_battles_are_left_out_and_counted():
    humans = {1: ["a", "a"], 2: ["a", "b"], 3: ["b"], 4: ["tie"], 5: ["a"]}
    judge = {1: "a", 2: "a", 3: None, 4: "tie"}  # battle 5 was not judged at all
    result = verdict_agreement(humans, judge)
    # compared: battles 1 and 4 (both agree); 2 is split; 3 undecided; 5 not judged
    assert (result.compared, result.agreed, result.split, result.undecided) == (2, 2, 1, 1)
    assert "1 battle(s) where the raters split evenly and 1 battle(s) the judge could not decide" in result.sentence


def test_kappa_is_nan_when_chance_agreement_is_total_and_the_sentence_says_so():
    result = verdict_agreement({1: ["a"], 2: ["a"]}, {1: "a", 2: "a"})  # pe = 1
    assert result.exact == 1.0 and math.isnan(result.kappa)
    assert "κ could not be computed" in result.sentence


def test_no_comparable_battle_gives_a_plain_sentence():
    result = verdict_agreement({}, {})
    assert result.compared == 0 and math.isnan(result.exact) and "nothing to compare" in result.sentence


def test_grade_agreement_exact_and_within_one():
    # (human, judge): (3,3) exact; (2,3) within one; (0,2) off by two; (1,1) exact; (2,None) unparsed
    # compared = 4; exact = 2/4 = 50%; within one = 3/4 = 75%; one left out
    result = grade_agreement([(3, 3), (2, 3), (0, 2), (1, 1), (2, None)])
    assert (result.compared, result.exact_count, result.within_one_count, result.unparsed) == (4, 2, 3, 1)
    assert result.exact == 0.5 and result.within_one == 0.75
    assert "same grade 2 time(s) (50%) and within one point 3 time(s) (75%)" in result.sentence
    assert "1 human grade(s) were left out" in result.sentence
    assert "Enter a few grades" in grade_agreement([]).sentence


def test_position_bias_rate_counts_verdicts_that_change_with_the_order():
    # Both orders decided on 4 battles; 2 changed (a→b, tie→a); one had an unparsed side
    result = position_bias([("a", "a"), ("a", "b"), ("tie", "a"), ("b", "b"), (None, "a")])
    assert (result.checked, result.flipped, result.rate) == (4, 2, 0.5)
    assert "2 of 4 battles (50%)" in result.sentence
