"""What the app says to a model (the RAG prompt, the judge's prompts and default rubric), one
catalogue per language: ``en.py``, ``pt.py``. Adding a language is one more such file and one
entry in ``CATALOGUES``; the code that builds prompts does not change.

The machine-readable parts are the same in every language, so one parser reads them all: the
[n] citations, and the judge's "Reason:" / "Score: 0-3" / "Winner: A, B or tie" lines (which the
llama.cpp grammars also force).

UI text is not here: that is the interface catalogue (playground.i18n / locales).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from playground.languages import ENGLISH, detect, supported_or_english


@dataclass(frozen=True)
class RagTexts:
    system: str
    sources: str  # the heading above the numbered sources
    page: str  # "(file, page 3)"
    question: str
    instruction: str  # the last line: answer from the sources, cite like [1]


@dataclass(frozen=True)
class CriterionText:
    """A default criterion as the judge reads it in one language (its stored name stays the key)."""

    label: str
    description: str
    examples: tuple[str, ...]  # examples[s] describes an answer that deserves score s


@dataclass(frozen=True)
class JudgeTexts:
    rubric_system: str
    pair_system: str
    criterion: str
    scores: str
    against_references: str
    references: str  # the heading above the reference passages
    question: str
    answer_to_grade: str
    empty_answer: str
    score_reply: str  # how to reply, ending in the "Reason:" / "Score:" lines
    answer_a: str
    answer_b: str
    pair_question: str
    winner_reply: str  # ending in the "Reason:" / "Winner:" lines
    retry: str  # "{field}" and "{choices}" are filled in
    score_choices: str
    winner_choices: str
    default_rubric_name: str
    default_criteria: Mapping[str, CriterionText]  # keyed by the criterion's stored name


@dataclass(frozen=True)
class PromptTexts:
    language: str
    rag: RagTexts
    judge: JudgeTexts


def _catalogues() -> dict[str, PromptTexts]:
    from playground.prompts_i18n import en, pt

    return {ENGLISH: en.TEXTS, "pt": pt.TEXTS}


CATALOGUES: dict[str, PromptTexts] = _catalogues()


def texts(language: str | None) -> PromptTexts:
    """The catalogue for ``language``; English where the app has none for it."""
    return CATALOGUES.get(supported_or_english(language or ENGLISH), CATALOGUES[ENGLISH])


def prompt_language(*parts: str, fallback: str = "") -> str:
    """The catalogue language for a prompt about ``parts`` (a question, the answers judged):
    the language they are written in; ``fallback`` (e.g. the collection's language) where
    they are too short or mixed to tell; English where neither names a language we have."""
    found = detect("\n".join(p for p in parts if p))
    code = found.code if found.known else (fallback or ENGLISH)
    code = supported_or_english(code)
    return code if code in CATALOGUES else ENGLISH
