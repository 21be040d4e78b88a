"""Language widgets shared by the tabs: the language choice next to each demo button, and a note
next to a prompt box that suggests the multilingual embedded model when the text is not English
and an English-only model is picked (the rule is playground.models.language_fit's)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import gradio as gr

from components.i18n import L, text
from playground.demo import DEMO_LANGUAGES
from playground.i18n import catalogue
from playground.languages import ENGLISH, NAMES
from playground.models.language_fit import suggest_model
from playground.services import Services


def demo_language_choice(elem_id: str) -> gr.Radio:
    """Which language a demo button loads (English until the interface language sets it)."""
    return gr.Radio(
        list(DEMO_LANGUAGES),
        value=ENGLISH,
        label=L("language.demo_language"),
        container=False,
        min_width=160,
        elem_id=elem_id,
    )


def _name(services: Services, key: str) -> str:
    try:
        return services.models.describe(key).name
    except Exception:  # noqa: BLE001 - a model removed meanwhile: its key still says which it was
        return key


def note_text(services: Services, model_keys: Sequence[Any], texts: Sequence[str]) -> str:
    """The note's Markdown ("" when there is nothing to suggest)."""
    keys: list[str] = []
    for value in model_keys:  # a dropdown gives a key, a multiselect a list of keys
        keys += [str(k) for k in value if k] if isinstance(value, (list, tuple)) else ([str(value)] if value else [])
    suggestion = suggest_model(keys, *[t or "" for t in texts])
    if suggestion is None:
        return ""
    known = catalogue().has(f"language.name_{suggestion.language}")
    language = (
        text(f"language.name_{suggestion.language}") if known else NAMES.get(suggestion.language, suggestion.language)
    )
    return text(
        "language.note",
        language_name=language,
        instead=_name(services, suggestion.instead_of),
        suggested=_name(services, suggestion.suggested),
    )


def language_note(elem_id: str) -> gr.Markdown:
    return gr.Markdown(elem_id=elem_id, elem_classes=["language-note"])


def wire_language_note(
    services: Services,
    note: gr.Markdown,
    texts: Sequence[gr.components.Component],
    models: Sequence[gr.components.Component],
    count: gr.components.Component | None = None,
) -> None:
    """Refresh ``note`` whenever the text or a model changes. ``count``: how many of ``models``
    are in use (Compare's column count); all of them when None."""
    extra = [count] if count is not None else []

    def show(*values: Any) -> str:
        texts_in = values[: len(texts)]
        picked = list(values[len(texts) : len(texts) + len(models)])
        if count is not None:
            picked = picked[: max(1, int(values[-1] or 1))]
        return note_text(services, picked, texts_in)

    inputs = [*texts, *models, *extra]
    for box in inputs:
        box.change(show, inputs, [note], api_name=False, queue=False, show_progress="hidden")
