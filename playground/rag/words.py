"""How the keyword search cuts text into terms, per language.

Text is NFC-normalised and lower-cased, then split into runs of letters and digits (as
SQLite's ``unicode61`` splits: punctuation, symbols and ``_`` separate words). The words
of the language's stopword list (stopwords-iso) are dropped, the others are reduced by the
language's Snowball stemmer, and last the diacritics are removed.

Diacritics go *after* stemming: the Snowball rules for Portuguese, Spanish, French ... are
written for accented words ("avaliações" and "avaliação" both stem to "avali"); stripped
first, "avaliacoes" and "avaliacao" stem to different words. Stripping afterwards still lets
"férias" meet "ferias" wherever the stemmer leaves the accented letter in the stem.

A collection of unknown language ("") is cut as English, as before languages existed.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from functools import lru_cache

import snowballstemmer
import stopwordsiso

DEFAULT_LANGUAGE = "en"


def _marks() -> str:
    """A regex class of every combining mark (Mn, Mc, Me): part of a word, as in unicode61,
    though Python's ``\\w`` leaves them out (Devanagari vowel signs, "İ" lower-cased)."""
    ranges: list[list[int]] = []
    for code in range(0x300, 0x30000):
        if unicodedata.category(chr(code)).startswith("M"):
            if ranges and ranges[-1][1] == code - 1:
                ranges[-1][1] = code
            else:
                ranges.append([code, code])
    return "".join(f"\\U{a:08x}-\\U{b:08x}" for a, b in ranges)


_WORD = re.compile(f"(?:[^\\W_]|[{_marks()}])+")

# ISO 639-1 code -> Snowball algorithm (the languages both libraries know).
SNOWBALL = {
    "ar": "arabic",
    "ca": "catalan",
    "cs": "czech",
    "da": "danish",
    "de": "german",
    "el": "greek",
    "en": "english",
    "eo": "esperanto",
    "es": "spanish",
    "et": "estonian",
    "eu": "basque",
    "fa": "persian",
    "fi": "finnish",
    "fr": "french",
    "ga": "irish",
    "hi": "hindi",
    "hu": "hungarian",
    "hy": "armenian",
    "id": "indonesian",
    "it": "italian",
    "lt": "lithuanian",
    "nl": "dutch",
    "no": "norwegian",
    "pl": "polish",
    "pt": "portuguese",
    "ro": "romanian",
    "ru": "russian",
    "st": "sesotho",
    "sv": "swedish",
    "tr": "turkish",
}

Posting = tuple[int, str, int]  # (chunk id, term, occurrences in the chunk)


def strip_diacritics(word: str) -> str:
    if word.isascii():
        return word
    decomposed = unicodedata.normalize("NFD", word)
    return unicodedata.normalize("NFC", "".join(c for c in decomposed if not unicodedata.combining(c)))


def words_of(text: str) -> list[str]:
    """Lower-cased words, split as unicode61 splits (letters and digits only)."""
    return _WORD.findall(unicodedata.normalize("NFC", text).lower())


def language_key(language: str | None) -> str:
    """The language whose rules apply: a known code, else English."""
    code = (language or "").strip().lower().replace("_", "-").split("-")[0]
    return code if code in SNOWBALL or code in stopwordsiso.langs() else DEFAULT_LANGUAGE


def stopword_list(language: str) -> frozenset[str]:
    """The words of ``language`` the keyword search leaves out (stopwords-iso's list).

    Long as it is (English drops "order", "system"), smaller lists did no better on the shipped
    English and Portuguese sets: ``benchmarks/rag_stopwords.py`` compares them."""
    return frozenset(stopwordsiso.stopwords(language)) if stopwordsiso.has_lang(language) else frozenset()


class Analyzer:
    """Text -> terms for one language. Thread-safe (Snowball stemmers keep state, so stemming
    runs under a lock; a per-analyzer cache makes repeated words free)."""

    def __init__(self, language: str | None):
        self.language = language_key(language)
        algorithm = SNOWBALL.get(self.language)
        self._stemmer = snowballstemmer.stemmer(algorithm) if algorithm else None
        listed = stopword_list(self.language)
        self.stopwords = frozenset(listed) | frozenset(strip_diacritics(w) for w in listed)
        self._cache: dict[str, str] = {}
        self._lock = threading.Lock()

    def term(self, word: str) -> str | None:
        """The term of one lower-cased word, or None for a stopword."""
        found = self._cache.get(word)
        if found is not None:
            return found or None
        if word in self.stopwords:
            term = ""
        elif self._stemmer is None:
            term = strip_diacritics(word)
        else:
            with self._lock:
                stem = self._stemmer.stemWord(word)
            term = strip_diacritics(stem) or word
        if len(self._cache) < 500_000:
            self._cache[word] = term
        return term or None

    def terms(self, text: str) -> list[str]:
        """Every term of ``text`` in order (repeats kept)."""
        out = []
        for word in words_of(text):
            term = self.term(word)
            if term is not None:
                out.append(term)
        return out

    def query_terms(self, words: Sequence[str]) -> list[str]:
        """The distinct terms of a question's words, in the order they first appear."""
        seen: dict[str, None] = {}
        for word in words:
            for term in self.terms(word):
                seen.setdefault(term, None)
        return list(seen)

    def postings(self, texts: Iterable[tuple[int, str]]) -> list[Posting]:
        return [(int(chunk_id), term, n) for chunk_id, text in texts for term, n in Counter(self.terms(text)).items()]

    # The names the keyword index used when SQLite's tokenizer did this work.
    def stems(self, words: Sequence[str]) -> list[str]:
        return self.query_terms(words)


@lru_cache(maxsize=64)
def analyzer(language: str | None = DEFAULT_LANGUAGE) -> Analyzer:
    """The shared analyzer of a language (one per language key)."""
    key = language_key(language)
    return _analyzer(key)


@lru_cache(maxsize=64)
def _analyzer(key: str) -> Analyzer:
    return Analyzer(key)


def postings_of_terms(rows: Iterable[tuple[int, str]]) -> list[Posting]:
    """Postings from stored term lists (space-separated terms, as :meth:`Analyzer.terms` gave)."""
    return [(int(chunk_id), term, n) for chunk_id, terms in rows for term, n in Counter(terms.split()).items()]
