"""The language a text is written in, for choosing an embedder, a stemmer and a prompt.

Detection is py3langid's Naive Bayes model over byte n-grams (it ships inside the wheel, so
nothing is downloaded). It is loaded once per process, lazily, with probabilities normalised
so that ``confidence`` means something. Short or mixed texts give low confidence: callers treat
an unsure answer as "unknown" and keep their default (English) rather than guess.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

ENGLISH = "en"
PORTUGUESE = "pt"
# Languages the app has its own prompts, demo data and interface for.
SUPPORTED = (ENGLISH, PORTUGUESE)
NAMES = {
    "en": "English",
    "pt": "Portuguese",
    "es": "Spanish",
    "fr": "French",
    "de": "German",
    "it": "Italian",
    "nl": "Dutch",
}
MIN_CONFIDENCE = 0.8  # below this the language is "unknown": too short or too mixed to say
SAMPLE_CHARS = 4_000  # detection reads this much of a long text: the rest changes nothing

_identifier = None
_load_lock = threading.Lock()
_classify_lock = threading.Lock()


@dataclass(frozen=True)
class Detected:
    code: str  # ISO 639-1 code, e.g. "pt"; "" when unknown
    confidence: float

    @property
    def known(self) -> bool:
        return bool(self.code)

    @property
    def name(self) -> str:
        return NAMES.get(self.code, self.code or "unknown")


UNKNOWN = Detected("", 0.0)


def _model():
    global _identifier
    if _identifier is None:
        with _load_lock:
            if _identifier is None:
                from py3langid.langid import MODEL_FILE, LanguageIdentifier

                _identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    return _identifier


def detect(text: str) -> Detected:
    """The language of ``text``, or UNKNOWN where the model is unsure (short or mixed text)."""
    sample = " ".join(text.split())[:SAMPLE_CHARS]
    if sum(ch.isalpha() for ch in sample) < 12:
        return UNKNOWN
    model = _model()
    with _classify_lock:  # the identifier keeps per-call scratch state
        code, confidence = model.classify(sample)
    if confidence < MIN_CONFIDENCE:
        return UNKNOWN
    return Detected(str(code), float(confidence))


def dominant(texts: Iterable[str]) -> Detected:
    """The language most of ``texts`` are in, weighted by length; UNKNOWN if none is known."""
    weights: Counter[str] = Counter()
    for text in texts:
        found = detect(text)
        if found.known:
            weights[found.code] += min(len(text), SAMPLE_CHARS)
    if not weights:
        return UNKNOWN
    code, weight = weights.most_common(1)[0]
    return Detected(code, weight / sum(weights.values()))


def supported_or_english(code: str) -> str:
    """``code`` where the app speaks it (prompts, rubric, interface), English otherwise."""
    base = code.split("-")[0].lower()
    return base if base in SUPPORTED else ENGLISH
