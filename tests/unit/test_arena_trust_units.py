"""The pure parts of a trustworthy Arena: names as people read them, repeat spacing, routing
picks, the join limiter and the reveal-policy checks."""

from __future__ import annotations

import pytest

from playground.arena import reveal
from playground.arena.live_limits import JoinLimiter
from playground.arena.rater_identity import clean_name, name_key, new_secret, secret_hash, secret_matches
from playground.arena.room import optional_count
from playground.arena.routing import Candidates, Holds, pick_full_overlap, pick_routed
from playground.arena.schedule import pick_repeats, rater_sequence, spaced_apart
from playground.errors import InvalidInput


@pytest.mark.parametrize("typed", ["Ana", " ana ", "A\u200bna", "ANA", "Ａｎａ", "a\u00adna", "\ufeffAna\u200d"])
def test_names_compare_as_people_read_them(typed):
    assert name_key(typed) == "ana"
    assert clean_name(typed).casefold() == "ana"


def test_names_keep_their_inner_spaces_collapsed_and_differ_when_letters_differ():
    assert clean_name("  Maria   da  Silva ") == "Maria da Silva"
    assert name_key("Maria da Silva") != name_key("Mariada Silva")
    assert name_key("Straße") == name_key("STRASSE")
    assert name_key("\u200b\u200c") == ""


def test_secrets_are_random_and_only_their_hash_matches():
    one, two = new_secret(), new_secret()
    assert one != two and len(one) >= 40
    stored = secret_hash(one)
    assert len(stored) == 64 and one not in stored
    assert secret_matches(one, stored) and not secret_matches(two, stored)
    assert not secret_matches(None, stored) and not secret_matches(one, None)


@pytest.mark.parametrize("originals", [2, 3, 4, 5, 9, 20])
@pytest.mark.parametrize("fraction", [0.1, 0.3, 0.5])
def test_a_repeat_never_comes_right_after_its_original(originals, fraction):
    repeats = pick_repeats(originals, fraction, seed=3)
    battles = [(b, None) for b in range(originals)] + [(100 + i, i) for i in repeats]
    repeat_of = dict(battles)
    for rater in range(40):
        sequence = rater_sequence(battles, rater, seed=11)
        assert sorted(sequence) == sorted(repeat_of)
        assert spaced_apart(sequence, repeat_of), (rater, sequence)
        assert all(sequence.index(r) > sequence.index(o) for r, o in repeat_of.items() if o is not None)


def candidates(order, repeats=None, voted=()):
    repeat_of = {b: None for b in order} | (repeats or {})
    return Candidates(list(order), repeat_of, list(voted))


def test_full_overlap_serves_the_rater_order_and_holds_a_repeat_back_one_battle():
    c = candidates([1, 2, 10, 3], {10: 2}, voted=[1, 2])
    assert pick_full_overlap(c) == 3  # 10 repeats 2, just voted: not now
    assert pick_full_overlap(candidates([1, 2, 10, 3], {10: 2}, voted=[1, 2, 3])) == 10
    assert pick_full_overlap(candidates([10, 1, 2], {10: 2}, voted=[])) == 1  # a repeat waits for its original


def test_routed_picks_fewest_votes_first_then_the_rater_order():
    c = candidates([1, 2, 3, 4])
    assert pick_routed(c, {1: 1, 2: 0, 3: 0}, {}, 2, None) == (2, 0)
    assert pick_routed(c, {1: 2, 2: 2, 3: 2, 4: 1}, {}, 2, None) == (4, 0)
    assert pick_routed(c, {1: 2, 2: 2, 3: 2, 4: 1}, {4: 1}, 2, None) == (None, 1)  # held by another rater
    assert pick_routed(c, {1: 2, 2: 2, 3: 2, 4: 1}, {4: 1}, 2, 4) == (4, 0)  # held by me: it comes back
    assert pick_routed(c, {b: 2 for b in (1, 2, 3, 4)}, {}, 2, None) == (None, 0)


def test_holds_expire_and_are_released_by_the_vote():
    now = [0.0]
    holds = Holds(clock=lambda: now[0])
    holds.hold(1, rater_id=7, battle_id=3)
    assert holds.snapshot(1, 8) == ({3: 1}, None) and holds.snapshot(1, 7) == ({}, 3)
    holds.release(1, 7, 3)
    assert holds.snapshot(1, 8) == ({}, None)
    holds.hold(1, 7, 4)
    now[0] = 10_000.0
    assert holds.snapshot(1, 8) == ({}, None)


def test_join_limiter_counts_per_code_and_per_address_in_a_sliding_minute():
    now = [0.0]
    limiter = JoinLimiter(per_code=3, per_address=2, clock=lambda: now[0])
    limiter.check("ABC", "1.1.1.1")
    limiter.check("ABC", "1.1.1.1")
    with pytest.raises(InvalidInput, match="from your network"):
        limiter.check("ABC", "1.1.1.1")
    limiter.check("ABC", "2.2.2.2")
    with pytest.raises(InvalidInput, match="with this code"):
        limiter.check("ABC", "3.3.3.3")
    limiter.check("XYZ", None)  # another code, an in-process call without an address
    now[0] = 61.0
    limiter.check("ABC", "1.1.1.1")


def test_reveal_policy_checks_explain_why_after_each_is_unsafe():
    assert reveal.new_policy_problem("after_last", prompts=5, models=4) is None
    assert reveal.new_policy_problem("never", prompts=5, models=4) is None
    assert reveal.PAIRS_WHY in reveal.new_policy_problem("after_each", prompts=5, models=3)
    assert reveal.new_policy_problem("after_each", prompts=5, models=2) is None
    assert reveal.REPEATS_WHY in reveal.new_policy_problem("after_each", prompts=5, models=2, repeat_fraction=0.1)
    assert reveal.new_policy_problem("bogus", prompts=1, models=2) == reveal.UNKNOWN_POLICY
    assert reveal.stored_policy_problem("after_each", [(1, 2, None), (3, 4, None)]) is None
    assert reveal.PAIRS_WHY in reveal.stored_policy_problem("after_each", [(1, 2, None), (1, 3, None)])
    assert reveal.REPEATS_WHY in reveal.stored_policy_problem("after_each", [(1, 2, None), (2, 1, 5)])
    assert reveal.default_policy("live", 0) == "after_each" and reveal.default_policy("live", 3) == "after_last"


@pytest.mark.parametrize("value, expected", [(None, None), ("", None), (0, None), (2, 2), (3.0, 3), ("4", 4)])
def test_counts_from_a_number_box(value, expected):
    assert optional_count(value, "Votes", "all") == expected


@pytest.mark.parametrize("value", [-1, 1.5, "many", 10**9])
def test_bad_counts_get_a_plain_message(value):
    with pytest.raises(InvalidInput, match="whole number of 1 or more"):
        optional_count(value, "Votes", "all")
