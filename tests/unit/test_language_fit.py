"""The rule behind the "try Gemma 3 270M" note: text that is not English, with an English-only model picked."""

from __future__ import annotations

from playground.models.embedded import GEMMA3_KEY, SMOLLM2_KEY
from playground.models.language_fit import ModelSuggestion, suggest_model

PT = "Resuma esta avaliação de cliente em uma frase e diga se o preço é justo."
EN = "Summarise this customer review in one sentence and say whether the price is fair."


def test_portuguese_text_with_smollm2_suggests_gemma():
    assert suggest_model([SMOLLM2_KEY], PT) == ModelSuggestion("pt", SMOLLM2_KEY, GEMMA3_KEY)
    # Beside Gemma too: the note then says why the two columns answer so differently.
    assert suggest_model([GEMMA3_KEY, SMOLLM2_KEY], PT) == ModelSuggestion("pt", SMOLLM2_KEY, GEMMA3_KEY)
    # Any text counts: a template in English filled with Portuguese reviews is Portuguese work.
    assert suggest_model([SMOLLM2_KEY], "Summarise:", PT) is not None


def test_no_suggestion_for_english_text_unknown_text_or_other_models():
    assert suggest_model([SMOLLM2_KEY], EN) is None
    assert suggest_model([SMOLLM2_KEY], "Oi?") is None  # too short to tell
    assert suggest_model([SMOLLM2_KEY], "") is None
    assert suggest_model([GEMMA3_KEY], PT) is None
    assert suggest_model(["openai/gpt-4o-mini", None, ""], PT) is None
    assert suggest_model([], PT) is None


def test_a_known_language_fills_in_for_text_too_short_to_tell():
    assert suggest_model([SMOLLM2_KEY], "Oi?", fallback_language="pt") == ModelSuggestion("pt", SMOLLM2_KEY, GEMMA3_KEY)
    assert suggest_model([SMOLLM2_KEY], "Oi?", fallback_language="en") is None
    assert suggest_model([SMOLLM2_KEY], EN, fallback_language="pt") is None  # the text itself wins
