"""Keyword search with other stopword lists, side by side in one run: recall@5 and nDCG@5 on the
English and Portuguese sets in tests/data/rag_languages, keyword only (weight 1) and the default
hybrid (the language's automatic embedder, the default weight and fusion), for 1,000- and
300-character chunks.

Lists compared: stopwords-iso (what ``playground.rag.words`` used), no list at all, and
stopwords-iso cut to its short words (at most 3 letters: articles, prepositions, pronouns),
and, where the ``stopwords`` package is installed (not a dependency of the app), its short
ranks.nl lists (the English one is close to Snowball's).

    .venv/bin/python benchmarks/rag_stopwords.py [--sizes 1000,300]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import stopwordsiso

from playground.rag import words
from playground.rag.chunking import ChunkSettings
from playground.rag.embedder_choice import LanguageProfile, embedder_for
from playground.rag.embedding import shared_embedder
from playground.rag.language_eval import evaluate, load_set
from playground.rag.retrieval import RetrievalSettings

SETS = Path(__file__).resolve().parent.parent / "tests" / "data" / "rag_languages"
TOP_K = 5


def _iso(language: str) -> frozenset[str]:
    return frozenset(stopwordsiso.stopwords(language)) if stopwordsiso.has_lang(language) else frozenset()


VARIANTS: dict[str, Callable[[str], frozenset[str]]] = {
    "stopwords-iso": _iso,
    "none": lambda language: frozenset(),
    "iso <= 3 letters": lambda language: frozenset(w for w in _iso(language) if len(w) <= 3),
}


try:  # the short English list of the ``stopwords`` package (ranks.nl, close to Snowball's), if installed
    import stopwords as ranks_nl

    _NAMES = {"en": "english", "pt": "portuguese"}
    VARIANTS["stopwords pkg (ranks.nl)"] = lambda language: frozenset(ranks_nl.get_stopwords(_NAMES[language]))
except ImportError:
    pass


def _use(variant: Callable[[str], frozenset[str]]) -> None:
    words.stopword_list = variant  # type: ignore[assignment]
    words.analyzer.cache_clear()
    words._analyzer.cache_clear()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,300")
    args = parser.parse_args()
    keyword_only, hybrid = RetrievalSettings(TOP_K, 1.0), RetrievalSettings(TOP_K)
    results: dict[tuple[str, str], list[float]] = {}
    for size in (int(s) for s in args.sizes.split(",")):
        for language in ("en", "pt"):
            labelled = load_set(SETS / language, ChunkSettings(size, size // 10, "chars"))
            main_language = LanguageProfile(language, 1.0, (language,))
            embedder = shared_embedder(embedder_for(main_language))
            vectors = embedder.encode([t for _, t in labelled.chunks], role="passage")
            queries = embedder.encode([q.question for q in labelled.questions], role="query")
            print(
                f"\n{language}, {size}-char chunks ({len(labelled.chunks)} chunks, {len(labelled.questions)} questions, {embedder.name}):"
            )
            for name, variant in VARIANTS.items():
                _use(variant)
                scores = evaluate(labelled, [keyword_only, hybrid], vectors, queries)
                k, h = scores[keyword_only], scores[hybrid]
                results.setdefault((name, "keyword"), []).append(k.recall)
                results.setdefault((name, "hybrid"), []).append(h.recall)
                print(
                    f"  {name:<18} listed {len(variant(language)):>4}  keyword only R@5 {k.recall:.3f} nDCG {k.ndcg:.3f}"
                    f"   hybrid R@5 {h.recall:.3f} nDCG {h.ndcg:.3f}"
                )
    print("\nmean recall@5 over languages and chunk sizes:")
    for name in VARIANTS:
        print(
            f"  {name:<18} keyword only {statistics.mean(results[(name, 'keyword')]):.3f}"
            f"   hybrid {statistics.mean(results[(name, 'hybrid')]):.3f}"
        )


if __name__ == "__main__":
    main()
