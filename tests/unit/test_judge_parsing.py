"""Reading scores and verdicts out of judge replies: what small models really write is read,
and anything ambiguous is refused (never turned into 0)."""

import pytest

from playground.judge.parsing import parse_score, parse_verdict


@pytest.mark.parametrize(
    "reply, score",
    [
        ("Score: 2", 2),
        ("score: 2/3", 2),
        ("**Score:** 2", 2),
        ("**Score**: 3", 3),
        ("2/3", 2),
        ("2", 2),
        ("0", 0),
        ("3.", 3),
        ("Reason: The answer names the right city. Score: 3.", 3),
        ("Reason: It is correct but short.\nScore: 2", 2),
        ('{"score": 2}', 2),
        ('{"reason": "fine", "score": "1"}', 1),
        ('```json\n{"Score": 3, "reason": "all right"}\n```', 3),
        ("Score: 2 (the answer misses one detail)", 2),
        ("Score: 1 - mostly wrong", 1),
        ("The answer names the right city.\n\nThe score is 3.", 3),
        ("I would give it a score of 2.", 2),
        ("Rating: 0", 0),
        ("Final score: 3 out of 3", 3),
        ("Score (0-3): 2", 2),
        ("Score: (2)", 2),
        ("Score: 2\nScore: 2", 2),  # the same score twice is still one score
        ("The answer is right.\n2", 2),  # a bare number alone on the last line
        ("Score: <0, 1, 2 or 3>\nScore: 1", 1),  # the prompt's template echoed, then a real score
        ("2+2 equals 4, so it is right. Score: 3", 3),  # numbers in the reason are not scores
        ("  score :  3  ", 3),
        ("__Score__: 1", 1),
    ],
)
def test_scores_small_models_write_are_read(reply, score):
    parsed = parse_score(reply)
    assert parsed.ok and parsed.value == score, parsed


@pytest.mark.parametrize(
    "reply, problem",
    [
        ("Score: 2. Final score: 3", "two different scores"),
        ("Score: 7", "outside 0–3"),
        ("7", "outside 0–3"),
        ("Score: -1", "outside 0–3"),
        ("Score: 2.5", "not a whole number"),
        ("2.5", "not a whole number"),
        ('{"score": 2.5}', "not a whole number"),
        ('{"score": 9}', "outside 0–3"),
        ('{"score": null}', "not a number"),
        ("Score: 8/10", "another scale"),
        ("score: 2/5", "another scale"),
        ("Score: 0, 1, 2 or 3", "lists several scores"),
        ("Score: <0-3>", "lists several scores"),
        ("", "no score"),
        ("The capital of France is Paris.\n\nThe answer is correct, but the question is too broad.", "no score"),
        ('The answer to the question "What is 2+2?" is 4.', "no score"),  # a 4 in prose is not a score
        ("The answer is 3.", "no score"),  # no "score" word and not alone on a line: refused
        ("Good answer", "no score"),
        ("Reason: 2+2 equals 4.\nScore: 2+2 equals 4.", "no score"),  # real SmolLM2 output: arithmetic, not a score
        ("The score is: 1. The score is 2. The score is 3.", "two different scores"),  # real SmolLM2 output
        ("1 = Mostly wrong\n2 = Mostly right\n3 = Fully right", "no score"),  # the scale copied back
    ],
)
def test_ambiguous_or_missing_scores_are_refused(reply, problem):
    parsed = parse_score(reply)
    assert parsed.value is None and problem in parsed.problem, parsed


def test_the_reason_is_the_reason_line_or_the_first_other_line():
    assert parse_score("Reason: It names Paris. Score: 3").reason == "It names Paris."
    assert parse_score("It names Paris.\nScore: 3").reason == "It names Paris."
    assert parse_score('{"score": 1, "reason": "wrong city"}').reason == "wrong city"
    assert parse_score("3").reason == ""
    assert parse_score("Reason: too short\nScore: 9").reason == "too short"  # kept even when refused


@pytest.mark.parametrize(
    "reply, side",
    [
        ("Winner: A", "a"),
        ("winner: b", "b"),
        ("**Winner:** B", "b"),
        ("Reason: A is right and B is wrong.\nWinner: A", "a"),
        ("Winner: tie", "tie"),
        ("Winner: Answer B", "b"),
        ("A", "a"),
        ("B.", "b"),
        ("Tie", "tie"),
        ("Answer A is better.", "a"),
        ("I think answer b is the better one.", "b"),
        ('{"winner": "B"}', "b"),
        ('{"winner": "tie", "reason": "same"}', "tie"),
        ("The better answer is A because it is correct.", "a"),
        ("Verdict: neither", "tie"),
    ],
)
def test_verdicts_are_read(reply, side):
    parsed = parse_verdict(reply)
    assert parsed.value == side, parsed


@pytest.mark.parametrize(
    "reply, problem",
    [
        ("Winner: A\nWinner: B", "two different winners"),
        ("Answer A is better. Winner: B", "two different winners"),
        ("The better answer is a long one.", "no winner"),  # lowercase "a" inside a sentence is an article
        ("The answer is more complete and easier to read.", "no winner"),
        ("A: 2+2 is 4, which is more complete and easier to read.", "no winner"),
        ('{"winner": "C"}', "not A, B or tie"),
        ("", "no winner"),
    ],
)
def test_ambiguous_or_missing_verdicts_are_refused(reply, problem):
    parsed = parse_verdict(reply)
    assert parsed.value is None and problem in parsed.problem, parsed
