"""The exact prompts the judge sees. They are saved with every grade and verdict.

One criterion per call: small judges (SmolLM2-135M in the tests) lose track of several
criteria at once, and the study grades one answer at a time. The reply format puts the
one-line reason first, then the score, as the study recommends.
"""

from __future__ import annotations

from collections.abc import Sequence

from playground.formatting import clip
from playground.judge.rubric import Criterion
from playground.languages import ENGLISH
from playground.models.types import GenerationParams, Message
from playground.prompts_i18n import CATALOGUES, CriterionText, prompt_language, texts

JUDGE_TEMPERATURE = 0.1
REASON_TOKENS = 96  # a one-line reason and the score fit easily; a rambling judge is cut off
MAX_ANSWER_CHARS = 6000
MAX_REFERENCE_CHARS = 6000

# The English prompts, kept as names for callers that recognise a judge call by its system prompt.
RUBRIC_SYSTEM = texts(ENGLISH).judge.rubric_system
PAIR_SYSTEM = texts(ENGLISH).judge.pair_system


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


def judge_language(*texts_judged: str) -> str:
    """The language of the judge's prompt: that of the question and answers it judges."""
    return prompt_language(*texts_judged)


def references_block(references: Sequence[str], language: str = ENGLISH) -> str:
    if not references:
        return ""
    parts = [
        f"[{n}] {_clip(text, MAX_REFERENCE_CHARS // max(1, len(references)))}"
        for n, text in enumerate(references, start=1)
    ]
    return texts(language).judge.references + "\n" + "\n".join(parts) + "\n\n"


def shown_criterion(criterion: Criterion, language: str) -> CriterionText:
    """The criterion as the judge reads it: a default criterion (left as shipped, in any
    language) in ``language``; a criterion a user wrote, exactly as written."""
    for catalogue in CATALOGUES.values():
        default = catalogue.judge.default_criteria.get(criterion.name)
        if default and (default.description, default.examples) == (criterion.description, criterion.examples):
            return texts(language).judge.default_criteria[criterion.name]
    return CriterionText(criterion.name, criterion.description, criterion.examples)


def rubric_messages(
    criterion: Criterion,
    question: str,
    answer: str,
    references: Sequence[str] = (),
    language: str | None = None,
) -> list[Message]:
    """One grade's prompt, in ``language`` (by default the question's and answer's)."""
    language = language or judge_language(question, answer)
    judge = texts(language).judge
    shown = shown_criterion(criterion, language)
    scale = "\n".join(f"{score} = {example}" for score, example in enumerate(shown.examples))
    against = judge.against_references if references else ""
    user = (
        f"{judge.criterion}: {shown.label} — {shown.description}{against}\n"
        f"{judge.scores}:\n{scale}\n\n"
        f"{references_block(references, language)}"
        f"{judge.question}\n{_clip(question, MAX_ANSWER_CHARS)}\n\n"
        f"{judge.answer_to_grade}\n{_clip(answer, MAX_ANSWER_CHARS) or judge.empty_answer}\n\n"
        f"{judge.score_reply}"
    )
    return [Message("system", judge.rubric_system), Message("user", user)]


def pair_messages(question: str, first: str, second: str, language: str | None = None) -> list[Message]:
    """One pairwise verdict's prompt, in ``language`` (by default the question's and answers')."""
    judge = texts(language or judge_language(question, first, second)).judge
    user = (
        f"{judge.question}\n{_clip(question, MAX_ANSWER_CHARS)}\n\n"
        f"{judge.answer_a}\n{_clip(first, MAX_ANSWER_CHARS) or judge.empty_answer}\n\n"
        f"{judge.answer_b}\n{_clip(second, MAX_ANSWER_CHARS) or judge.empty_answer}\n\n"
        f"{judge.pair_question}\n"
        f"{judge.winner_reply}"
    )
    return [Message("system", judge.pair_system), Message("user", user)]


def score_reminder(language: str = ENGLISH) -> tuple[str, str, str]:
    """``retry_messages``' (field, choices, language) after an unparsed grade: the field's name
    is the same in every language, as the parser reads it."""
    return "Score", texts(language).judge.score_choices, language


def winner_reminder(language: str = ENGLISH) -> tuple[str, str, str]:
    return "Winner", texts(language).judge.winner_choices, language


def retry_messages(
    messages: Sequence[Message], reply: str, field_name: str, choices: str, language: str = ENGLISH
) -> list[Message]:
    """The second try after a reply that did not parse: the same conversation, plus a short
    reminder of the exact format."""
    return [
        *messages,
        Message("assistant", reply.strip() or "(no reply)"),
        Message("user", texts(language).judge.retry.format(field=field_name, choices=choices)),
    ]
