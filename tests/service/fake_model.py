"""The scripted "model" behind the fast tier, and Services wired to it.

Answers are deterministic but depend on what was asked, so each service's real logic
(citations, judge parsing, follow-ups, stop and length limits) has something true to check."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from pathlib import Path

from playground.errors import GenerationError
from playground.models.fake import Script, echo_script, fake_backends
from playground.models.types import ModelSpec
from playground.prompts_i18n import CATALOGUES
from playground.services import Services
from playground.settings import Settings

LONG_STORY_WORDS = 2000
# The scripted model reads the prompts of every language (playground.prompts_i18n).
_QUESTION = "|".join(re.escape(c.rag.question) for c in CATALOGUES.values())
_SOURCE = re.compile(rf"^\[(\d+)\] \([^)]*\)\n(.*?)(?=\n\n\[\d+\] |\n\n(?:{_QUESTION}))", re.S | re.M)
_SOURCES_HEADINGS = tuple(c.rag.sources for c in CATALOGUES.values())
_RUBRIC_SYSTEMS = {c.judge.rubric_system for c in CATALOGUES.values()}
_PAIR_SYSTEMS = {c.judge.pair_system for c in CATALOGUES.values()}
_TO_GRADE = "|".join(re.escape(c.judge.answer_to_grade) for c in CATALOGUES.values())


def _words(text: str) -> set[str]:
    return {w for w in re.findall(r"[a-z]+", text.lower()) if len(w) > 3}


def _last_user(messages: Sequence[Mapping[str, str]]) -> str:
    return next((m["content"] for m in reversed(messages) if m["role"] == "user"), "")


def grade_reply(user: str) -> str:
    """A rubric judge that gives 3 to an answer naming Paris and 0 to any other."""
    answer = re.split(_TO_GRADE, user, maxsplit=1)[-1]
    return f"Reason: it {'names' if 'Paris' in answer else 'misses'} Paris.\nScore: {3 if 'Paris' in answer else 0}"


def cited_reply(user: str) -> str:
    """A reader that quotes the line sharing most words with the question and cites its source."""
    asked = _words(re.split(_QUESTION, user)[-1])
    lines = [(n, line.strip()) for n, text in _SOURCE.findall(user) for line in text.splitlines() if line.strip()]
    number, line = max(lines, key=lambda item: (len(_words(item[1]) & asked), -int(item[0])))
    return f"{line} [{number}]"


def scripted_answer(spec: ModelSpec, messages: Sequence[Mapping[str, str]]) -> str:
    if spec.name.startswith("Broken"):
        raise GenerationError(f"{spec.name} failed while answering: the script says so.")
    system = next((m["content"] for m in messages if m["role"] == "system"), "")
    user = _last_user(messages)
    if system in _RUBRIC_SYSTEMS:
        return grade_reply(user)
    if system in _PAIR_SYSTEMS:
        return "Reason: the first one is clearer.\nWinner: A"
    if user.startswith(_SOURCES_HEADINGS):
        return cited_reply(user)
    if "capital of France" in user:
        return f"The capital of France is Paris, says {spec.name}."
    if "long story" in user:
        return " ".join(f"word{n}" for n in range(LONG_STORY_WORDS))
    if "my name" in user.lower():  # a follow-up: answer from this column's own history
        earlier = " ".join(m["content"] for m in messages if m["role"] == "user")
        name = re.search(r"My name is (\w+)", earlier)
        return f"Your name is {name.group(1) if name else 'unknown'}."
    return echo_script(spec, messages)


def fake_services(home: Path, script: Script = scripted_answer, chunk_delay_s: float = 0.0) -> Services:
    """Services on their own database in ``home``; ``chunk_delay_s`` slows streaming so
    cancels and concurrency can be observed."""
    config = Settings(home=home, database_url=f"sqlite:///{home / 'playground.db'}")
    return Services.create(config, backends=fake_backends(script, chunk_delay_s=chunk_delay_s))
