"""The Arena's input-level refusals (issue 13 item 1): each check calls the service's own check,
so the sentence has one source, and points it at the input at fault."""

from __future__ import annotations

from types import SimpleNamespace

from components.arena_rater import RaterController
from components.arena_tab import MODELS_AT, NAME_AT, PROMPTS_AT, REVEAL_AT, ArenaController
from components.ui_errors import refusals
from playground.arena.service import ArenaService

SMOL, GEMMA = "embedded/smollm2-135m-instruct", "embedded/gemma3-270m"


def refused(results: list[dict]) -> tuple[int, str] | None:
    """(index, sentence) of the input a validator result points at, or None when all pass."""
    bad = [(i, r["message"]) for i, r in enumerate(results) if not r["is_valid"]]
    assert len(bad) <= 1, bad
    return bad[0] if bad else None


def test_joining_needs_a_code_next_to_the_code_box_and_a_name_next_to_the_name_box():
    check = refusals(RaterController(ArenaService).check_join)  # the checks need no database
    assert refused(check("Ana", "  ", None)) == (1, "Type the join code your facilitator gave you.")
    assert refused(check(" \u200b ", "k7p2qx", None)) == (
        0,
        "Type your name (any name your facilitator will recognise).",
    )
    assert refused(check("x" * 500, "K7P2QX", None))[0] == 0
    assert refused(check(" ana ", "k7p2qx", None)) is None


def test_a_live_ask_needs_a_prompt():
    check = refusals(RaterController(ArenaService).check_ask)
    assert refused(check(" \n ", None)) == (0, "Type a prompt first, then press “Ask”.")
    assert refused(check("Hello?", None)) is None


def _form(name="Eval", typed="One\nTwo", upload=None, keys=(SMOL, GEMMA), repeats=0.1, per_prompt=0, live=False,
          policy="after_last") -> list:  # fmt: skip
    """The create event's inputs, in SetupSection.create_inputs order."""
    return [name, typed, upload, list(keys), 64, 0.7, -1, "", "", "redact", repeats, per_prompt, live,
            policy, 0, 0, True]  # fmt: skip


def test_creating_is_refused_at_the_box_at_fault():
    check = refusals(ArenaController(SimpleNamespace(arena=ArenaService)).check_create)
    assert refused(check(*_form(name="   "))) == (NAME_AT, "Give the evaluation a name.")
    assert refused(check(*_form(keys=[SMOL, SMOL])))[0] == MODELS_AT
    assert refused(check(*_form(typed="")))[0] == PROMPTS_AT
    assert "duplicate" in refused(check(*_form(typed="Same\nsame")))[1]
    assert refused(check(*_form(typed="Hi", upload="/no/such/file.csv")))[0] == PROMPTS_AT  # not both
    assert refused(check(*_form(typed="", upload="/no/such/file.csv"))) is None  # a file's content: left to create
    assert refused(check(*_form(typed="", live=True))) is None  # a live evaluation may start with no prompts
    problem = refused(check(*_form(policy="after_each")))
    assert problem[0] == REVEAL_AT and problem[1] == str(  # a Text; the validator says its English sentence
        ArenaService.new_reveal_policy_problem("after_each", prompts=2, models=2, repeat_fraction=0.1)
    )
    assert refused(check(*_form(policy="after_each", repeats=0))) is None  # one pair, no repeats: safe
    assert refused(check(*_form())) is None


def test_importing_needs_a_file():
    check = refusals(ArenaController(SimpleNamespace(arena=ArenaService)).check_import)
    assert refused(check(None, "")) == (0, "Choose a vote file to import first.")
    assert refused(check("/tmp/votes.jsonl", "")) is None


def test_releasing_needs_a_name_next_to_the_name_box():
    from components.arena_room import RoomController

    check = refusals(RoomController(ArenaService).check_release, at=1)
    assert refused(check(1, " \u200b ")) == (1, "Type the rater's name to release, or click their row.")
    assert refused(check(1, "Ana")) is None
