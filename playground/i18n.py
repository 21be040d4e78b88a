"""The interface's words in every language the app speaks: one catalogue file per language.

``playground/locales/<language>.json`` maps a message key ("<area>.<name>") to its text in
that language; ``{name}`` marks a value filled in when the text is shown. English (``en.json``)
is the reference: every other file has exactly its keys and placeholders (a test checks), and
a key missing from a language falls back to English. Adding a language is adding one file.

Static labels are translated in the browser (the components layer hands the catalogue to
Gradio's ``gr.I18n``). Text made while the app runs (refusals, status lines, reports) is a
``Text``: a key and its values, turned into a sentence in the reader's language where it is
shown. ``str(text)`` is the English sentence, so logs and API callers read English.
"""

from __future__ import annotations

import json
import re
import string
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

LOCALES_DIR = Path(__file__).resolve().parent / "locales"
DEFAULT_LANGUAGE = "en"
LANGUAGE_COOKIE = "playground-language"  # the visible switch's choice, read by the browser and the server
AUTOMATIC = "auto"  # the switch's "follow the browser" choice
_LANGUAGE_TAG = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$")


# Each language's number separators are catalogue texts, so a language file carries its own.
DECIMAL_KEY = "format.decimal_separator"
THOUSANDS_KEY = "format.thousands_separator"


class _LocaleFormatter(string.Formatter):
    """str.format that writes numbers with the language's separators: "{seconds:.1f}" is
    "2.5" in English and "2,5" in Portuguese; "{count:,}" is "1,234" and "1.234"."""

    def __init__(self, decimal: str, thousands: str):
        self.separators = str.maketrans({".": decimal, ",": thousands})

    def format_field(self, value: Any, format_spec: str) -> str:
        formatted = super().format_field(value, format_spec)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return formatted.translate(self.separators)
        return formatted


def placeholders(text: str) -> set[str]:
    """The ``{name}`` fields of a catalogue text."""
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


class Catalogue:
    """Every language's texts, read once from the locale files."""

    def __init__(self, directory: Path = LOCALES_DIR):
        self.languages: dict[str, dict[str, str]] = {}
        for path in sorted(directory.glob("*.json")):
            self.languages[path.stem] = _read_texts(path)
        if DEFAULT_LANGUAGE not in self.languages:
            raise ValueError(f"No {DEFAULT_LANGUAGE}.json in {directory}")
        self.english = self.languages[DEFAULT_LANGUAGE]

    def has(self, key: str) -> bool:
        return key in self.english

    def text(self, key: str, language: str = DEFAULT_LANGUAGE, /, **values: Any) -> str:
        """The sentence for ``key`` in ``language`` (English where that language lacks it)."""
        texts = self.languages.get(self.language_for(language), self.english)
        template = texts.get(key) or self.english.get(key)
        if template is None:
            raise KeyError(f"No text for the key {key!r} in {DEFAULT_LANGUAGE}.json")
        if not values:
            return template
        separators = (texts.get(DECIMAL_KEY) or ".", texts.get(THOUSANDS_KEY) or ",")
        return _LocaleFormatter(*separators).format(template, **values)

    def language_for(self, tag: str) -> str:
        """The catalogue language that serves the language tag ``tag`` ("pt-PT" → "pt-BR")."""
        if tag in self.languages:
            return tag
        base = tag.split("-")[0].lower()
        for language in self.languages:
            if language.split("-")[0].lower() == base:
                return language
        return DEFAULT_LANGUAGE

    def negotiate(self, accept_language: str | None, chosen: str | None = None) -> str:
        """The language to answer in: the switch's choice if one was made, else the first
        language of the browser's ``Accept-Language`` the catalogue has, else English."""
        if chosen and chosen != AUTOMATIC and _LANGUAGE_TAG.match(chosen):
            return self.language_for(chosen)
        for tag in _ranked_tags(accept_language or ""):
            language = self.language_for(tag)
            if language != DEFAULT_LANGUAGE or tag.split("-")[0].lower() == DEFAULT_LANGUAGE:
                return language
        return DEFAULT_LANGUAGE


def _read_texts(path: Path) -> dict[str, str]:
    data = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in data.items()):
        raise ValueError(f"{path.name} must map message keys to texts")
    return {k: v for k, v in data.items() if not k.startswith("_")}  # "_comment" keys document the file


def _ranked_tags(header: str) -> list[str]:
    ranked: list[tuple[float, int, str]] = []
    for position, part in enumerate(header.split(",")):
        tag, _, params = part.strip().partition(";")
        weight = 1.0
        if params.strip().startswith("q="):
            try:
                weight = float(params.strip()[2:])
            except ValueError:
                weight = 0.0
        if tag and tag != "*" and _LANGUAGE_TAG.match(tag) and weight > 0:
            ranked.append((-weight, position, tag))
    return [tag for _, _, tag in sorted(ranked)]


@lru_cache(maxsize=1)
def catalogue() -> Catalogue:
    return Catalogue()


@dataclass(frozen=True)
class Text:
    """A sentence to show, not yet in any language: a catalogue key and its values."""

    key: str
    values: dict[str, Any] = field(default_factory=dict)

    def render(self, language: str = DEFAULT_LANGUAGE) -> str:
        values = {name: _rendered(value, language) for name, value in self.values.items()}
        return catalogue().text(self.key, language, **values)

    def __str__(self) -> str:
        return self.render(DEFAULT_LANGUAGE)

    def __contains__(self, fragment: str) -> bool:
        """Whether the English sentence contains ``fragment``, as for the string it replaced."""
        return fragment in str(self)


@dataclass(frozen=True)
class Joined(Text):
    """Several sentences shown as one, each in the reader's language: ``prefix`` then the parts
    with ``separator`` between them ("" when there are none)."""

    key: str = ""
    parts: tuple[object, ...] = ()
    separator: str = " "
    prefix: str = ""

    def render(self, language: str = DEFAULT_LANGUAGE) -> str:
        if not self.parts:
            return ""
        return self.prefix + self.separator.join(render(part, language) for part in self.parts)


def joined(parts: Iterable[object], separator: str = " ", prefix: str = "") -> Joined:
    return Joined(parts=tuple(parts), separator=separator, prefix=prefix)


def _rendered(value: Any, language: str) -> Any:
    return value.render(language) if isinstance(value, Text) else value


def t(key: str, **values: Any) -> Text:
    """The catalogue text ``key`` with ``values`` for its placeholders (checked now, so a typo in
    a key fails where it is written, not when a user first meets it)."""
    if not catalogue().has(key):
        raise KeyError(f"No text for the key {key!r} in {DEFAULT_LANGUAGE}.json")
    return Text(key, values)


def render(message: object, language: str = DEFAULT_LANGUAGE) -> str:
    """A Text in ``language``; anything else as its string (text not yet in the catalogue)."""
    return message.render(language) if isinstance(message, Text) else str(message)
