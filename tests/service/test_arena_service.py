"""The Arena on the fake backend: create, pre-generate, vote blind, rank."""

from __future__ import annotations

import pytest

from playground.arena.prompts import parse_typed
from playground.errors import UserFacingError
from playground.models.embedded import GEMMA3_KEY, SMOLLM2_KEY
from playground.models.types import GenerationParams

PROMPTS = "Name a fruit.\nWhat is 2+2?\nWho made you?"
PARAMS = GenerationParams(max_tokens=32, temperature=0.0, seed=3)
LABELS = {"SmolLM2 135M Instruct", "Gemma 3 270M (base)"}


def arena_answer(spec, messages):
    """Gemma answers at length, SmolLM2 in two words; asked who made it, each names itself (a leak)."""
    prompt = messages[-1]["content"]
    leak = f"I am {spec.name}. " if prompt == "Who made you?" else ""
    if spec.key == GEMMA3_KEY:
        return f"{leak}A careful and complete answer to: {prompt}"
    return f"{leak}Short."


@pytest.fixture
def arena_services(make_services):
    return make_services(script=arena_answer)


@pytest.fixture
def ready(arena_services):
    arena = arena_services.arena
    info = arena.create_evaluation(
        "three", parse_typed(PROMPTS), [SMOLLM2_KEY, GEMMA3_KEY], PARAMS, repeat_fraction=0.0, seed=7
    )
    arena.start_generation(info.id)
    arena.jobs.wait(info.id, timeout=30)
    return info


def test_pregeneration_answers_every_prompt_for_every_model_once(arena_services, ready):
    assert ready.prompts == 3 and ready.battles == 3 and set(ready.contestants) == LABELS
    progress = arena_services.arena.pregen_status(ready.id)
    assert (progress.total, progress.done, progress.failed, progress.running, progress.servable) == (6, 6, 0, False, 3)
    assert progress.flagged == 2  # both "Who made you?" answers name their model
    with arena_services.uow_factory() as uow:
        arena_runs = uow.runs.list(kind="arena", limit=10)
        assert sum(len(run.generations) for run in arena_runs) == 6
    arena_services.arena.start_generation(ready.id)  # resuming finds nothing left to do
    arena_services.arena.jobs.wait(ready.id, timeout=30)
    with arena_services.uow_factory() as uow:
        assert sum(len(run.generations) for run in uow.runs.list(kind="arena", limit=10)) == 6


def test_raters_vote_blind_and_the_leaderboard_ranks_the_preferred_model_first(arena_services, ready):
    arena = arena_services.arena
    ann = arena.join(ready.join_code.lower(), "Ann")
    votes = 0
    while (battle := arena.next_battle(ann)) is not None:
        for text in (battle.prompt, battle.text_a, battle.text_b):
            assert not any(word in text for word in ("SmolLM", "Gemma"))  # leaks are redacted before the vote
        longer = "a" if len(battle.text_a) > len(battle.text_b) else "b"
        reveal = arena.vote(ann, battle.token, longer)
        assert not reveal.already_counted
        if votes < 2:  # names only after the rater's last battle (the default reveal policy)
            assert (reveal.label_a, reveal.label_b, reveal.revealed) == (None, None, False)
        assert arena.vote(ann, battle.token, "tie").already_counted  # a double click keeps the first vote
        votes += 1
    assert votes == 3 and reveal.finished and {reveal.label_a, reveal.label_b} == LABELS
    total, tally = arena.tally(ready.id)
    assert total == 3 and [(t.rater, t.votes) for t in tally] == [("Ann", 3)]
    board = arena.leaderboard(ready.id)
    assert board.votes_used == 3 and [r.name for r in board.rows] == ["Gemma 3 270M (base)", "SmolLM2 135M Instruct"]
    top = board.rows[0]
    assert top.rank == 1 and top.win_rate == 1.0 and top.battles == 3
    assert all(r.latency_s is not None and (r.cost_usd, r.cost_source) == (0.0, "local") for r in board.rows)


def test_an_evaluation_needs_two_different_models(arena_services):
    with pytest.raises(UserFacingError, match="at least two different models"):
        arena_services.arena.create_evaluation("bad", parse_typed("a\nb"), [SMOLLM2_KEY, SMOLLM2_KEY], PARAMS)
    assert arena_services.arena.list_evaluations() == []
