"""Catching answers that give away who wrote them ("As Gemma, a model by Google, ...").

A flagged answer is either shown with the names blacked out ("redact") or kept out of the
arena altogether ("exclude"); the admin chooses per evaluation.

The makers' and families' names live in ``assets/arena/leak_words.txt`` (a facilitator edits
it; ``PLAYGROUND_LEAK_WORDS_FILE`` points at another); each evaluation adds the words typed for
it and its contestants' own names (``words_for_model``).

Matching ignores case. A word of ``INSIDE_WORD_MIN`` or more characters is caught glued inside
another word ("TinyLlama", "MyGemma"); a shorter one ("GPT", "Phi", "Yi") only standing on its
own, so "philosophy" and "Delphi" stay. A word followed directly by lower-case letters is a
different word when the name ends like one ("Cohere" is not "coherent", "Llama" not "llamas");
any name may run on into a version or a camel-case tail ("SmolLM2-135M", "Qwen2.5", "MistralAI"),
which is blacked out with it.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Sequence
from pathlib import Path

log = logging.getLogger(__name__)

REDACTED = "[model]"
WORDS_FILE = Path(__file__).resolve().parents[2] / "assets" / "arena" / "leak_words.txt"
INSIDE_WORD_MIN = 5  # shorter words match only as words of their own: "Phi" must not catch "Delphi"
# Used when the words file cannot be read, so a broken file never turns the filter off.
FALLBACK_WORDS = (
    "SmolLM", "Hugging Face", "HuggingFace", "Gemma", "Gemini", "Google", "DeepMind", "OpenAI",
    "ChatGPT", "GPT", "Llama", "Meta AI", "Mistral", "Mixtral", "Anthropic", "Claude", "Qwen",
    "Alibaba", "Phi", "Microsoft", "DeepSeek", "Falcon", "Vicuna", "Bard", "Cohere", "Command R",
    "xAI", "Grok", "Nvidia", "Nemotron", "IBM", "Granite", "Yi", "OLMo", "AI21", "Jamba", "Reka",
    "Amazon Nova", "Amazon Titan",
)  # fmt: skip
_GENERIC = {
    "model", "models", "base", "instruct", "chat", "local", "entry", "embedded", "tuned", "gguf",
    "adapter", "adapters", "finetune", "checkpoint", "final", "merged", "output", "weights", "latest", "default",
}  # fmt: skip
_EXTENSION = re.compile(r"\.(?:gguf|bin|safetensors|pt|pth|onnx)$", re.IGNORECASE)


def read_words_file(path: Path | None = None) -> list[str]:
    """The words in a leak-words file: one a line, ``#`` starts a comment."""
    lines = Path(path or WORDS_FILE).read_text(encoding="utf-8").splitlines()
    return unique_words(line.split("#", 1)[0] for line in lines)


def default_words(path: Path | None = None) -> list[str]:
    """The vendor and family names every new evaluation starts with, read afresh (so an edit
    applies to the next evaluation without a restart)."""
    try:
        return read_words_file(path)
    except (OSError, UnicodeDecodeError) as err:
        log.warning("Leak words file %s could not be read (%s); using the built-in list", path or WORDS_FILE, err)
        return list(FALLBACK_WORDS)


def words_for_model(label: str, model_key: str, *names: str | None) -> list[str]:
    """Words that would identify one contestant: its label, the key's last part and the other
    names it goes by (an endpoint's remote model name, a model file's or folder's stem), and
    the first word of each."""
    texts = [label, *_name_parts(model_key, ids=False)]
    for name in names:
        texts += _name_parts(name or "")
    words: list[str] = []
    for text in texts:
        text = text.strip()
        first = re.split(r"[\s_\-(/:]+", text)[0] if text else ""
        words += [w for w in (text, first) if _telling(w)]
    return unique_words(words)


def _telling(word: str) -> bool:
    return len(word) >= 4 and word.lower() not in _GENERIC and not word.isdigit()


def _name_parts(name: str, ids: bool = True) -> list[str]:
    """ "meta-llama/Llama-3.2-1B-Instruct" → itself, "Llama-3.2-1B-Instruct", "meta-llama";
    "llama3.2:1b" → itself, "llama3.2"; "/models/SmolLM2.Q4_1.gguf" → "SmolLM2.Q4_1"."""
    parts = [p for p in re.split(r"[/\\]+", name.strip()) if p]
    if not parts:
        return []
    tail = parts[-1]
    found = [tail, _EXTENSION.sub("", tail), tail.split(":", 1)[0]]
    if ids and len(parts) == 2 and not name.strip().startswith(("/", "\\", ".", "~")):  # an owner/name model id
        found += [name.strip(), parts[0]]
    return found


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


DEFAULT_WORDS = tuple(default_words())  # the file as it was at start-up; new evaluations read it afresh


def inside_words(word: str) -> bool:
    """Whether ``word`` is also caught glued inside another word."""
    return len(word) >= INSIDE_WORD_MIN


def ends_like_a_word(word: str) -> bool:
    """Whether ``word`` ends like an ordinary word ("Cohere", "Phi", "Amazon Nova", "Command R"),
    so that lower-case letters right after it make another word ("coherent", "philosophy").
    A name with inner capitals or digits ("SmolLM", "GPT", "llama3") may run on in any case."""
    last = word.split()[-1] if word.split() else ""
    return len(word) > 1 and last.isalpha() and last[1:] == last[1:].lower()


def _alternatives(words: Iterable[str]) -> str:
    # Longest first, so "Hugging Face" wins over "Hugging"; the lookahead is case-sensitive.
    return "|".join(
        re.escape(w) + ("(?-i:(?![a-z]))" if ends_like_a_word(w) else "") for w in sorted(words, key=len, reverse=True)
    )


def _pattern(words: Sequence[str]) -> re.Pattern[str] | None:
    if not words:
        return None
    glued = [w for w in words if inside_words(w)]
    alone = [w for w in words if not inside_words(w)]
    starts = ([rf"[A-Za-z0-9]*?(?:{_alternatives(glued)})"] if glued else []) + (
        [f"(?:{_alternatives(alone)})"] if alone else []
    )
    # From the start of the whole word (so "TinyLlama" is blacked out whole), then any run-on
    # version or tail ("SmolLM2-135M", "MistralAI").
    return re.compile(rf"(?<![A-Za-z0-9])(?:{'|'.join(starts)})(?:[\w\-]|[.:](?=\w))*", re.IGNORECASE)


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
