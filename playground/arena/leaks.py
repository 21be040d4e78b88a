"""Catching answers that give away who wrote them ("As Gemma, a model by Google, ...").

A flagged answer is either shown with the names blacked out ("redact") or kept out of the
arena altogether ("exclude"); the admin chooses per evaluation.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

REDACTED = "[model]"
DEFAULT_WORDS = (
    "SmolLM", "Hugging Face", "HuggingFace", "Gemma", "Gemini", "Google", "DeepMind", "OpenAI",
    "ChatGPT", "GPT", "Llama", "Meta AI", "Mistral", "Mixtral", "Anthropic", "Claude", "Qwen",
    "Alibaba", "Phi-3", "Microsoft", "DeepSeek", "Falcon", "Vicuna", "Bard",
)  # fmt: skip
_GENERIC = {"model", "models", "base", "instruct", "chat", "local", "entry", "embedded", "tuned", "gguf"}


def words_for_model(label: str, model_key: str) -> list[str]:
    """Words that would identify one contestant: its label, the key's last part, their first words."""
    words: list[str] = []
    tail = model_key.rsplit("/", 1)[-1]
    for text in (label, tail, tail.rsplit(".", 1)[0]):
        text = text.strip()
        if len(text) >= 4:
            words.append(text)
        first = re.split(r"[\s_\-(/]+", text)[0] if text else ""
        if len(first) >= 4 and first.lower() not in _GENERIC and not first.isdigit():
            words.append(first)
    return unique_words(words)


def parse_words(text: str) -> list[str]:
    """A word list typed one per line or separated by commas."""
    return unique_words(w for w in re.split(r"[,\n]", text or ""))


def unique_words(words: Iterable[str]) -> list[str]:
    seen: dict[str, str] = {}
    for word in words:
        word = " ".join(word.split())
        if word and word.lower() not in seen:
            seen[word.lower()] = word
    return list(seen.values())


def _pattern(words: Sequence[str]) -> re.Pattern[str] | None:
    if not words:
        return None
    # Longest first so "Hugging Face" wins over "Hugging"; a word may run on ("SmolLM2-135M").
    alternatives = "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))
    return re.compile(rf"(?<![A-Za-z0-9])(?:{alternatives})(?:[\w\-]|\.(?=\w))*", re.IGNORECASE)


def find_leaks(text: str, words: Sequence[str]) -> list[str]:
    """The listed words the text contains (as listed, each once), ignoring case."""
    found = []
    lowered = text.lower()
    for word in words:
        pattern = _pattern([word])
        if pattern is not None and word.lower() in lowered and pattern.search(text):
            found.append(word)
    return found


def redact(text: str, words: Sequence[str]) -> str:
    pattern = _pattern(list(words))
    return pattern.sub(REDACTED, text) if pattern is not None else text
