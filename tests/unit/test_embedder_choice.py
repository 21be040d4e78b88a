"""Which embedder a collection gets from its documents' language, and the notes an upload shows."""

from __future__ import annotations

import pytest

from playground.rag.config import EMBED_MODEL_NAME, EMBED_MODELS, MULTILINGUAL_EMBED_MODEL_NAME
from playground.rag.embedder_choice import (
    AUTO,
    EMBEDDER_CHOICES,
    PIECE_CHARS,
    LanguageProfile,
    _pieces,
    coverage_note,
    embedder_for,
    resolve,
)

PT = LanguageProfile("pt", 1.0, ("pt",))
EN = LanguageProfile("en", 1.0, ("en",))
MOSTLY_EN = LanguageProfile("en", 0.6, ("en", "pt"))
UNKNOWN = LanguageProfile("", 0.0, ())
JA = LanguageProfile("ja", 1.0, ("ja",))
TL = LanguageProfile("tl", 1.0, ("tl",))  # Tagalog: neither embedder was evaluated on it


def test_the_choices_offer_automatic_first_then_both_models():
    assert EMBEDDER_CHOICES == (AUTO, *EMBED_MODELS)
    assert EMBED_MODELS == (EMBED_MODEL_NAME, MULTILINGUAL_EMBED_MODEL_NAME)


@pytest.mark.parametrize(
    ("found", "embedder"),
    [
        (EN, EMBED_MODEL_NAME),
        (PT, MULTILINGUAL_EMBED_MODEL_NAME),
        (MOSTLY_EN, MULTILINGUAL_EMBED_MODEL_NAME),  # mixed, even if mostly English
        (UNKNOWN, MULTILINGUAL_EMBED_MODEL_NAME),
        (JA, MULTILINGUAL_EMBED_MODEL_NAME),
    ],
)
def test_english_alone_gets_minilm_anything_else_the_multilingual_embedder(found, embedder):
    assert embedder_for(found) == embedder
    assert resolve(AUTO, found) == embedder


def test_an_explicit_choice_wins_over_the_language():
    assert resolve(EMBED_MODEL_NAME, PT) == EMBED_MODEL_NAME
    assert resolve(MULTILINGUAL_EMBED_MODEL_NAME, EN) == MULTILINGUAL_EMBED_MODEL_NAME


def test_a_profile_is_mixed_only_when_no_language_has_most_of_the_text():
    assert MOSTLY_EN.mixed and "mostly English, also Portuguese" in MOSTLY_EN.describe()
    assert not LanguageProfile("pt", 0.9, ("pt", "en")).mixed
    assert not PT.mixed and PT.describe() == "Portuguese"
    assert UNKNOWN.describe() == "unknown language"


def test_no_note_where_the_embedder_suits_the_text():
    assert coverage_note(EMBED_MODEL_NAME, EN) == ""
    assert coverage_note(MULTILINGUAL_EMBED_MODEL_NAME, PT) == ""
    assert coverage_note(MULTILINGUAL_EMBED_MODEL_NAME, PT, "pt") == ""


def test_portuguese_in_an_english_collection_suggests_switching():
    note = coverage_note(EMBED_MODEL_NAME, PT, "en")
    assert "Portuguese" in note and "retrieval may be weaker" in note and MULTILINGUAL_EMBED_MODEL_NAME in note


def test_a_language_no_embedder_covers_well_is_indexed_with_a_note_and_no_false_hope():
    note = coverage_note(MULTILINGUAL_EMBED_MODEL_NAME, TL)
    assert "does not cover well" in note and "retrieval may be weaker" in note and "Switch" not in note
    assert "Could not tell" in coverage_note(MULTILINGUAL_EMBED_MODEL_NAME, UNKNOWN)


def test_mixed_languages_say_so():
    assert "mixed-language collection" in coverage_note(MULTILINGUAL_EMBED_MODEL_NAME, EN, "pt")
    assert "mixes languages" in coverage_note(MULTILINGUAL_EMBED_MODEL_NAME, MOSTLY_EN)
    assert "mixes languages" in coverage_note(EMBED_MODEL_NAME, MOSTLY_EN)


def test_long_texts_are_sampled_across_their_length():
    text = "a" * PIECE_CHARS * 3 + "b" * PIECE_CHARS * 20
    pieces = _pieces(text)
    assert 1 < len(pieces) <= 8 and all(len(p) == PIECE_CHARS for p in pieces)
    assert pieces[0].startswith("a") and pieces[-1].endswith("b") and pieces[-1] == text[-PIECE_CHARS:]
    assert _pieces("short") == ["short"]
