"""The shared refusal mechanism: a check that raises becomes a Gradio validator result pointing at
one input; a check that passes lets the event run; a bug in a check is left to the handler."""

import logging

from components.ui_errors import RefusedAt, refusals, refused_at
from playground.cancellation import MAX_TOKENS, CancelTokens
from playground.errors import InvalidInput


def _empty_prompt(prompt, files, token):
    if not prompt.strip():
        raise InvalidInput("Type a prompt first.")
    with refused_at(1):
        if not files:
            raise InvalidInput("Choose a file first.")


def test_a_refusal_marks_only_the_input_at_fault(caplog):
    validator = refusals(_empty_prompt)
    with caplog.at_level(logging.INFO, logger="playground.ui"):
        result = validator("  ", ["a.txt"], "tok")
    assert result == [
        {"__type__": "validate", "is_valid": False, "message": "Type a prompt first."},
        {"__type__": "validate", "is_valid": True, "message": ""},
        {"__type__": "validate", "is_valid": True, "message": ""},
    ]
    assert "_empty_prompt refused: Type a prompt first." in caplog.text


def test_refused_at_points_the_message_at_another_input():
    result = refusals(_empty_prompt)("hello", [], "tok")
    assert [r["is_valid"] for r in result] == [True, False, True]
    assert result[1]["message"] == "Choose a file first."


def test_at_moves_the_default_input_and_refused_at_wins_over_it():
    def check(a, b):
        raise InvalidInput("No.")

    assert [r["is_valid"] for r in refusals(check, at=1)(1, 2)] == [True, False]

    def pointed(a, b):
        raise RefusedAt(0, "Here.")

    assert [r["is_valid"] for r in refusals(pointed, at=1)(1, 2)] == [False, True]


def test_inputs_that_pass_let_the_event_run_and_a_bug_is_left_to_the_handler():
    passed = [{"__type__": "validate", "is_valid": True, "message": ""}] * 3
    assert refusals(_empty_prompt)("hello", ["a.txt"], "tok") == passed

    def broken(a):
        raise KeyError("bug")

    assert refusals(broken)(1) == passed[0]  # the handler meets the same inputs and reports the bug


def test_the_message_is_kept_as_text_not_html():
    def check(name):
        raise InvalidInput("No template named '<b>x</b>'.")

    assert refusals(check)("x")["message"] == "No template named '<b>x</b>'."


def test_unused_cancel_tokens_are_bounded():
    tokens = CancelTokens()
    first = tokens.new()
    for _ in range(MAX_TOKENS):
        tokens.new()
    assert not tokens.cancel(first)  # the oldest went
    newest = tokens.new()
    assert tokens.cancel(newest)


def test_a_one_input_event_gets_its_result_unwrapped():
    # Gradio wraps a one-output return in a list itself: a one-item list was taken as the
    # input's result, so the refusal was logged but never shown and the handler ran anyway.
    def check(name):
        raise InvalidInput("Pick a template to load.")

    result = refusals(check)(None)
    assert result == {"__type__": "validate", "is_valid": False, "message": "Pick a template to load."}
    assert refusals(lambda name: None)("x") == {"__type__": "validate", "is_valid": True, "message": ""}
