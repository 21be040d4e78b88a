"""Which embedded model fits the language a user writes in.

SmolLM2 was trained on English only; Gemma 3 270M is multilingual (a base model, so it
continues text rather than following instructions). Where someone picks SmolLM2 and writes in
another language, the UI suggests Gemma 3 270M. The rule is here, pure, so it is tested once
and every tab shows the same advice.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from playground.languages import ENGLISH, detect
from playground.models.embedded import GEMMA3_KEY, SMOLLM2_KEY

ENGLISH_ONLY = frozenset({SMOLLM2_KEY})
MULTILINGUAL = GEMMA3_KEY


@dataclass(frozen=True)
class ModelSuggestion:
    language: str  # the language the text is in, e.g. "pt"
    instead_of: str  # the English-only model that is selected
    suggested: str  # the multilingual model to try


def suggest_model(model_keys: Iterable[str | None], *texts: str, fallback_language: str = "") -> ModelSuggestion | None:
    """A multilingual model to try, when ``texts`` are not in English and an English-only model
    is picked (even beside the multilingual one: the note then says why their answers differ);
    else None.

    ``fallback_language`` (e.g. a collection's language) counts where the text is too short to tell.
    """
    keys = [key for key in model_keys if key]
    english_only = next((key for key in keys if key in ENGLISH_ONLY), None)
    if english_only is None:
        return None
    found = detect("\n".join(t for t in texts if t))
    language = found.code if found.known else fallback_language
    if not language or language == ENGLISH:
        return None
    return ModelSuggestion(language, english_only, MULTILINGUAL)
