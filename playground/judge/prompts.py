"""The exact prompts the judge sees. They are saved with every grade and verdict.

One criterion per call: small judges (SmolLM2-135M in the tests) lose track of several
criteria at once, and the study grades one answer at a time. The reply format puts the
one-line reason first, then the score, as the study recommends.
"""

from __future__ import annotations

from collections.abc import Sequence

from playground.formatting import clip
from playground.judge.rubric import Criterion
from playground.models.types import GenerationParams, Message

JUDGE_TEMPERATURE = 0.1
REASON_TOKENS = 96  # a one-line reason and the score fit easily; a rambling judge is cut off
MAX_ANSWER_CHARS = 6000
MAX_REFERENCE_CHARS = 6000

RUBRIC_SYSTEM = "You are a strict, fair grader. You grade one answer on one criterion with a whole number from 0 to 3."
PAIR_SYSTEM = "You are a strict, fair judge. You compare two answers to the same question and say which one is better."


# Constrained reply formats: a llama.cpp judge can then only write a one-line reason and a
# valid score or winner. The score is still the judge's own most likely choice; the form is
# all that is forced. Small local judges otherwise rarely keep to the format at all.
RUBRIC_GRAMMAR = 'root ::= "Reason: " [^\\n]{1,160} "\\nScore: " [0-3]'
PAIR_GRAMMAR = 'root ::= "Reason: " [^\\n]{1,160} "\\nWinner: " ("A" | "B" | "tie")'


def judge_params(seed: int | None = 0, grammar: str = "") -> GenerationParams:
    return GenerationParams(
        temperature=JUDGE_TEMPERATURE, top_p=0.95, max_tokens=REASON_TOKENS, seed=seed, grammar=grammar
    )


def _clip(text: str, limit: int) -> str:
    return clip((text or "").strip(), limit)


def references_block(references: Sequence[str]) -> str:
    if not references:
        return ""
    parts = [
        f"[{n}] {_clip(text, MAX_REFERENCE_CHARS // max(1, len(references)))}"
        for n, text in enumerate(references, start=1)
    ]
    return "Reference passages (the answer must agree with these):\n" + "\n".join(parts) + "\n\n"


def rubric_messages(criterion: Criterion, question: str, answer: str, references: Sequence[str] = ()) -> list[Message]:
    scale = "\n".join(f"{score} = {example}" for score, example in enumerate(criterion.examples))
    against = " Judge it against the reference passages." if references else ""
    user = (
        f"Criterion: {criterion.name} — {criterion.description}{against}\n"
        f"Scores:\n{scale}\n\n"
        f"{references_block(references)}"
        f"Question:\n{_clip(question, MAX_ANSWER_CHARS)}\n\n"
        f"Answer to grade:\n{_clip(answer, MAX_ANSWER_CHARS) or '(empty answer)'}\n\n"
        "Reply in exactly two lines:\n"
        "Reason: <one sentence>\n"
        "Score: <0, 1, 2 or 3>"
    )
    return [Message("system", RUBRIC_SYSTEM), Message("user", user)]


def pair_messages(question: str, first: str, second: str) -> list[Message]:
    user = (
        f"Question:\n{_clip(question, MAX_ANSWER_CHARS)}\n\n"
        f"Answer A:\n{_clip(first, MAX_ANSWER_CHARS) or '(empty answer)'}\n\n"
        f"Answer B:\n{_clip(second, MAX_ANSWER_CHARS) or '(empty answer)'}\n\n"
        "Which answer is better: more correct, more complete and easier to read?\n"
        "Reply in exactly two lines:\n"
        "Reason: <one sentence>\n"
        "Winner: <A, B or tie>"
    )
    return [Message("system", PAIR_SYSTEM), Message("user", user)]


def retry_messages(messages: Sequence[Message], reply: str, field_name: str, choices: str) -> list[Message]:
    """The second try after a reply that did not parse: the same conversation, plus a short
    reminder of the exact format."""
    return [
        *messages,
        Message("assistant", reply.strip() or "(no reply)"),
        Message("user", f"Answer with one line only: {field_name}: <{choices}>"),
    ]
