"""Prompt sets, the battle schedule, identity-leak detection and the FastChat format."""

import json
from collections import Counter
from datetime import UTC

import pytest

from playground.arena import exchange
from playground.arena.leaks import find_leaks, parse_words, redact, words_for_model
from playground.arena.prompts import parse_csv, parse_file, parse_jsonl, parse_typed
from playground.arena.schedule import pick_repeats, rater_sequence, schedule
from playground.errors import InvalidInput


def test_typed_prompts_one_per_line_or_separated_blocks():
    assert [p.text for p in parse_typed("One?\n\n  Two?  \n")] == ["One?", "Two?"]
    blocks = parse_typed("Line 1\nLine 2\n---\nSecond")
    assert [p.text for p in blocks] == ["Line 1\nLine 2", "Second"]
    assert [p.question_id for p in blocks] == ["q1", "q2"]


@pytest.mark.parametrize(
    "text, message",
    [
        ("   \n ", "Type at least one prompt"),
        ("Hello\nhello  ", "duplicate prompts: line 2 repeats line 1"),
        ("A\n---\n \n---\nB", "blank prompts (prompt 2)"),
    ],
)
def test_bad_typed_prompt_sets_are_refused_plainly(text, message):
    with pytest.raises(InvalidInput, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse_typed(text)


def test_csv_and_jsonl_prompt_files(tmp_path):
    assert [(p.question_id, p.text) for p in parse_csv("id,prompt\nx1,Hi\nx2,Bye\n")] == [("x1", "Hi"), ("x2", "Bye")]
    with pytest.raises(InvalidInput, match="blank prompts \\(row 3\\)"):
        parse_csv('prompt\nHi\n"  "\n')
    with pytest.raises(InvalidInput, match="needs a column named"):
        parse_csv("body\nHi\n")
    jsonl = '{"question_id": 81, "turns": ["Write a haiku."]}\n{"prompt": "Hi"}\n"Bye"\n'
    assert [(p.question_id, p.text) for p in parse_jsonl(jsonl)] == [
        ("81", "Write a haiku."),
        ("q2", "Hi"),
        ("q3", "Bye"),
    ]
    with pytest.raises(InvalidInput, match="Line 1 of the JSONL file is not valid JSON"):
        parse_jsonl("{nope")
    with pytest.raises(InvalidInput, match="question id 'a' is used twice"):
        parse_jsonl('{"id": "a", "prompt": "x"}\n{"id": "a", "prompt": "y"}')
    bad = tmp_path / "prompts.pdf"
    bad.write_text("x")
    with pytest.raises(InvalidInput, match="must be .csv, .jsonl or .txt"):
        parse_file(bad)


def test_schedule_balances_pairs_and_sides():
    slots = schedule(n_prompts=6, n_models=4, seed=3)
    assert len(slots) == 6 * 6
    pairs = Counter(tuple(sorted((s.left, s.right))) for s in slots)
    assert set(pairs.values()) == {6}  # every pair equally often
    lefts = Counter((s.left, s.right) for s in slots)
    assert all(lefts[(i, j)] == 3 for (i, j) in pairs)  # and on each side equally often
    assert all(lefts[(j, i)] == 3 for (i, j) in pairs)
    assert len({(s.prompt, tuple(sorted((s.left, s.right)))) for s in slots}) == len(slots)


def test_schedule_with_fewer_pairs_per_prompt_stays_balanced():
    slots = schedule(n_prompts=5, n_models=5, seed=1, pairs_per_prompt=2)  # 10 pairs, 10 battles
    assert len(slots) == 10
    assert set(Counter(tuple(sorted((s.left, s.right))) for s in slots).values()) == {1}
    with pytest.raises(ValueError):
        schedule(3, 1)


def test_repeats_come_well_after_their_original_and_order_differs_per_rater():
    battles = [(i, None) for i in range(1, 11)] + [(11, 4)]
    first = rater_sequence(battles, rater_id=1, seed=5)
    assert sorted(first) == list(range(1, 12))
    assert first.index(11) > first.index(4)  # after its original (by half the list, or at the end)
    assert first.index(11) - first.index(4) >= min(6, len(first) - first.index(4) - 1)
    assert first != rater_sequence(battles, rater_id=2, seed=5)
    assert first == rater_sequence(battles, rater_id=1, seed=5)
    assert len(pick_repeats(20, 0.1)) == 2 and pick_repeats(20, 0) == [] and len(pick_repeats(3, 0.01)) == 1


def test_leaks_are_found_and_redacted():
    words = ["SmolLM", "Hugging Face", *words_for_model("Gemma 3 270M (base)", "embedded/gemma3-270m")]
    assert "Gemma" in words and "gemma3-270m" in words
    text = "I am SmolLM2-135M, made by hugging face. Not a gemma3 fan."
    assert {"SmolLM", "Hugging Face", "Gemma"} <= set(find_leaks(text, words))
    assert redact(text, words) == "I am [model], made by [model]. Not a [model] fan."
    assert find_leaks("A small model answers.", words) == []
    assert parse_words("Acme, Widget\nacme\n") == ["Acme", "Widget"]


def test_fastchat_export_round_trip(tmp_path):
    from datetime import datetime, timezone

    vote = {
        "question_id": "q1", "prompt": "Hi?", "contestant_a": 1, "contestant_b": 2, "winner": "bothbad", "rater": "ann",
        "created_at": datetime(2026, 1, 2, tzinfo=UTC), "text_a": "Hello", "text_b": "Yo, \"quoted\"\nnewline",
        "acceptable_a": True, "acceptable_b": None, "reasons": ["Clearer"], "comment": "ok",
    }  # fmt: skip
    records = exchange.battle_records([vote], {1: "X", 2: "Y"})
    assert records[0]["winner"] == "tie (bothbad)" and records[0]["model_a"] == "X" and records[0]["judge"] == "ann"
    assert records[0]["conversation_b"] == [
        {"role": "user", "content": "Hi?"},
        {"role": "assistant", "content": 'Yo, "quoted"\nnewline'},
    ]
    for path in (exchange.write_jsonl(records, tmp_path / "v.jsonl"), exchange.write_csv(records, tmp_path / "v.csv")):
        (back,) = exchange.read_records(path)
        assert back["winner"] == "bothbad" and back["model_a"] == "X" and back["text_b"] == vote["text_b"]
        assert (
            back["prompt"] == "Hi?"
            and back["acceptable_a"] is True
            and back["acceptable_b"] is None
            and back["reasons"] == ["Clearer"]
        )
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps({"model_a": "X", "model_b": "Y", "winner": "model_c"}) + "\n")
    with pytest.raises(InvalidInput, match="winner 'model_c'"):
        exchange.read_records(bad)
