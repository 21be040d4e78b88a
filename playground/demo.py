"""Demo material for workshops (assets/demo), in each language the app speaks.

A demo file's English version has the plain name (``product_reviews.csv``); another
language's sits next to it with the language code before the suffix
(``product_reviews_pt.csv``). Adding a language is adding its files, not code.
"""

from __future__ import annotations

from pathlib import Path

from playground.languages import ENGLISH, supported_or_english

DEMO_DIR = Path(__file__).resolve().parents[1] / "assets" / "demo"
# Each language named in its own words: a choice a speaker of it recognises whatever the UI language.
DEMO_LANGUAGES = (("English", "en"), ("Português", "pt"))

REVIEWS = "product_reviews.csv"
REVIEW_TEMPLATE = "review_template.txt"
SUPPORT_REPLIES = "finetune_support_replies.csv"
ARENA_PROMPTS = "arena_prompts.csv"


def demo_language(language: str | None) -> str:
    """The language a demo is served in: ``language`` where the app speaks it, else English."""
    return supported_or_english(language or ENGLISH)


def demo_path(filename: str, language: str | None = ENGLISH) -> Path:
    """The demo file ``filename`` (its English name) in ``language``; the English file where
    that language has none."""
    code = demo_language(language)
    english = DEMO_DIR / filename
    if code == ENGLISH:
        return english
    localised = english.with_name(f"{english.stem}_{code}{english.suffix}")
    return localised if localised.is_file() else english
