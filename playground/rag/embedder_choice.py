"""Which embedder a collection gets, from the language of its documents, and the plain notes
an upload shows when a file's language does not suit the collection's embedder.

English goes to all-MiniLM-L6-v2 (English-only, four times faster here); every other
language, a mix of languages, or text whose language cannot be told goes to the multilingual
embedder, which was trained on English as well.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from playground.i18n import t
from playground.languages import ENGLISH, NAMES, detect
from playground.rag.config import EMBED_MODEL_NAME, EMBED_MODELS, MULTILINGUAL_EMBED_MODEL_NAME
from playground.rag.notes import Note, joined, language_text

AUTO = "auto"  # "Automatic (from the documents' language)": decided by the first upload
EMBEDDER_CHOICES = (AUTO, *EMBED_MODELS)
NO_LANGUAGE = frozenset({"zxx", "und"})  # "no linguistic content" (symbols, codes), "undetermined"
MIXED_SHARE = 0.8  # below this share for the main language, a text set counts as mixed
PIECE_CHARS = 2_000
MAX_PIECES = 8
# Languages each embedder retrieves well: MiniLM was trained on English; multilingual-e5 on
# about 100 languages, evaluated (MIRACL, Mr. TyDi) on these, and checked here on Portuguese.
WELL_COVERED = {
    EMBED_MODEL_NAME: frozenset({ENGLISH}),
    MULTILINGUAL_EMBED_MODEL_NAME: frozenset(
        {"en", "pt", "es", "fr", "de", "it", "nl", "ar", "bn", "fa", "fi", "hi", "id", "ja", "ko", "ru", "sw"}
        | {"te", "th", "zh", "yo"}
    ),
}


def language_name(code: str) -> str:
    return NAMES.get(code, code) if code else "unknown"


@dataclass(frozen=True)
class LanguageProfile:
    """The languages of some texts: the main one (or "" if none could be told), its share of
    the text whose language was told, and every language seen."""

    main: str
    share: float
    seen: tuple[str, ...]

    @property
    def mixed(self) -> bool:
        return len(self.seen) > 1 and self.share < MIXED_SHARE

    def describe(self) -> str:
        if not self.main:
            return "unknown language"
        if self.mixed:
            others = ", ".join(language_name(c) for c in self.seen if c != self.main)
            return f"mixed languages (mostly {language_name(self.main)}, also {others})"
        return language_name(self.main)

    def described(self) -> Note:
        """``describe()`` as a catalogue Text, for notes shown in the reader's language."""
        if not self.main:
            return t("documents.language_unknown_profile")
        if self.mixed:
            others = joined((language_text(c) for c in self.seen if c != self.main), ", ")
            return t("documents.languages_mixed", main=language_text(self.main), others=others)
        return language_text(self.main)


def _pieces(text: str) -> list[str]:
    """Up to MAX_PIECES evenly spaced samples: a file written in two languages shows both."""
    if len(text) <= PIECE_CHARS:
        return [text]
    count = min(MAX_PIECES, len(text) // PIECE_CHARS)
    step = (len(text) - PIECE_CHARS) / max(1, count - 1)
    return [text[int(i * step) : int(i * step) + PIECE_CHARS] for i in range(count)]


def profile(texts: Iterable[str]) -> LanguageProfile:
    """The language profile of ``texts`` (whole documents), weighted by length."""
    weights: Counter[str] = Counter()
    for text in texts:
        for piece in _pieces(text):
            found = detect(piece)
            if found.known and found.code not in NO_LANGUAGE:
                weights[found.code] += len(piece)
    if not weights:
        return LanguageProfile("", 0.0, ())
    main, weight = weights.most_common(1)[0]
    return LanguageProfile(main, weight / sum(weights.values()), tuple(c for c, _ in weights.most_common()))


def embedder_for(found: LanguageProfile) -> str:
    """English alone: MiniLM; anything else (another language, a mix, unknown): multilingual."""
    if found.main == ENGLISH and not found.mixed:
        return EMBED_MODEL_NAME
    return MULTILINGUAL_EMBED_MODEL_NAME


def resolve(choice: str, found: LanguageProfile) -> str:
    """The embedder a collection created with ``choice`` gets once ``found`` is known."""
    return embedder_for(found) if choice == AUTO else choice


def coverage_note(embedder: str, found: LanguageProfile, collection_language: str = "") -> Note:
    """A plain note (a catalogue Text) when the embedder may retrieve this text less well, or when
    it makes the collection mixed-language; "" when it suits."""
    covered = WELL_COVERED.get(embedder, frozenset())
    joins_another = bool(found.main and collection_language and found.main != collection_language)
    language = language_text(found.main)
    multilingual = MULTILINGUAL_EMBED_MODEL_NAME
    if joins_another and embedder != EMBED_MODEL_NAME and found.main in covered:
        collection = language_text(collection_language)
        return t("documents.note_mixed_collection", language=language, collection=collection, embedder=embedder)
    if not found.main:
        return t("documents.note_language_unknown")
    if found.mixed and embedder == EMBED_MODEL_NAME:
        return t(
            "documents.note_mixed_english_only",
            languages=found.described(),
            embedder=embedder,
            multilingual=multilingual,
        )
    if found.main not in covered:
        if embedder == EMBED_MODEL_NAME and found.main in WELL_COVERED[multilingual]:
            return t(
                "documents.note_not_covered_switch", language=language, embedder=embedder, multilingual=multilingual
            )
        return t("documents.note_not_covered", language=language, embedder=embedder)
    if found.mixed:
        return t("documents.note_mixed", languages=found.described())
    return ""
