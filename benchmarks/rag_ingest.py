"""Documents (RAG) benchmark, measured side by side in one run.

1. Ingest throughput: chunks embedded per second through the app's whole ingest path
   (parse, chunk, embed, store, update the index) divided by a direct
   ``SentenceTransformer.encode`` of the same chunks with its defaults. Goal >= 0.9.
   Rounds are interleaved; medians are compared.
2. Query latency on a synthetic collection of 50,000 chunks (random unit vectors, texts of
   Zipf-distributed words so the FTS5 index has realistic postings): hybrid retrieval through
   ``DocumentsService.retrieve`` (query embedding + vector search + BM25 + fetching the
   chunks), excluding generation. Goal p95 < 100 ms.

    .venv/bin/python benchmarks/rag_ingest.py [--rounds 3] [--paragraphs 240] [--chunks 50000] [--queries 100]
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

import numpy as np

from playground.rag.chunking import ChunkSettings, chunk_pages
from playground.rag.embedding import model_path, shared_embedder, to_blob
from playground.rag.parsing import parse_file
from playground.rag.retrieval import RetrievalSettings
from playground.services import Services
from playground.settings import Settings
from storage.orm_rag import DOCUMENT_READY

WORDS = [
    w
    for w in "the bakery staff wages holiday refund cake bread flour oven shift manager delivery supplier invoice payment order customer receipt allergen label date monday friday week month policy return price loaf croissant coffee butter eggs cream sugar salt yeast dough knead proof bake cool slice pack ship store shelf counter card cash deposit wedding party notice kilometre euro hour minute morning evening early late clean safety hygiene wash gloves apron fridge freezer stock count audit report team rota board training course licence forklift van driver route map address phone email web site review rating complaint praise quality fresh organic gluten free vegan nut sesame wheat milk soy".split()
]


def synthetic_text(rng: np.random.Generator, words: int) -> str:
    ranks = np.minimum(rng.zipf(1.3, size=words), len(WORDS)) - 1
    return " ".join(WORDS[i] for i in ranks).capitalize() + "."


def ingest_ratio(services: Services, rounds: int, paragraphs: int, folder: Path) -> None:
    rng = np.random.default_rng(1)
    doc = folder / "report.txt"
    doc.write_text("\n\n".join(synthetic_text(rng, 70) for _ in range(paragraphs)))
    docs = services.documents
    settings = ChunkSettings(512, 50, "chars")
    collection = docs.create_collection("bench ingest", settings)
    parsed = parse_file(doc, 10**9)
    texts = [c.text for c in chunk_pages(parsed.pages, parsed.headings, settings)]
    from sentence_transformers import SentenceTransformer

    direct_model = SentenceTransformer(str(model_path()), device="cpu")
    shared_embedder().model()  # both models loaded before any timing
    direct_model.encode(texts[:8])
    shared_embedder().encode(texts[:8])
    app_rates, direct_rates = [], []
    for r in range(rounds):
        started = time.perf_counter()
        outcome = docs.ingest(collection.id, [str(doc)], on_duplicate="replace")[0]
        app_rates.append(outcome.chunks / (time.perf_counter() - started))
        assert outcome.status == "indexed" and outcome.chunks == len(texts), outcome
        started = time.perf_counter()
        direct_model.encode(texts)
        direct_rates.append(len(texts) / (time.perf_counter() - started))
        print(f"  round {r + 1}: app {app_rates[-1]:.1f} chunks/s, direct encode {direct_rates[-1]:.1f} chunks/s")
    app, direct = statistics.median(app_rates), statistics.median(direct_rates)
    print(f"ingest: {len(texts)} chunks of ~512 chars; median app {app:.1f} chunks/s vs direct {direct:.1f} chunks/s")
    paired = statistics.median(a / d for a, d in zip(app_rates, direct_rates))
    print(
        f"ingest ratio (median app / median direct): {app / direct:.3f}; median of the per-round ratios: {paired:.3f}  (goal >= 0.9)"
    )


def build_synthetic_collection(services: Services, chunk_count: int, rng: np.random.Generator) -> int:
    """A collection of ``chunk_count`` random unit vectors with random text, written straight to storage."""
    collection = services.documents.create_collection("bench 50k")
    with services.uow_factory() as uow:
        document = uow.rag_documents.add(
            collection_id=collection.id,
            filename="synthetic.txt",
            content_hash="0" * 64,
            format="txt",
            size_bytes=0,
            status=DOCUMENT_READY,
            page_count=chunk_count // 10,
            chunk_count=chunk_count,
        )
        for start in range(0, chunk_count, 5000):
            vectors = rng.standard_normal((min(5000, chunk_count - start), 384)).astype(np.float32)
            vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
            uow.rag_chunks.add_many(
                [
                    {
                        "collection_id": collection.id,
                        "document_id": document.id,
                        "ordinal": start + i,
                        "page_number": (start + i) // 10 + 1,
                        "start_char": 0,
                        "end_char": 0,
                        "heading": "",
                        "text": synthetic_text(rng, 80),
                        "embedding": to_blob(v),
                    }
                    for i, v in enumerate(vectors)
                ]
            )
    return collection.id


def query_latency(services: Services, chunk_count: int, queries: int) -> None:
    docs = services.documents
    rng = np.random.default_rng(2)
    started = time.perf_counter()
    collection_id = build_synthetic_collection(services, chunk_count, rng)
    print(f"query latency: built a {chunk_count}-chunk collection in {time.perf_counter() - started:.1f} s")
    started = time.perf_counter()
    docs.retrieve(collection_id, "warm up the index", RetrievalSettings(top_k=5))
    print(f"  first query (loads the matrix from the database once): {(time.perf_counter() - started) * 1000:.0f} ms")
    questions = [" ".join(rng.choice(WORDS, size=6)) + f" {i}" for i in range(queries)]  # distinct: no query cache hits
    embedder = shared_embedder()
    total, search_only, embed_only = [], [], []
    for q in questions:
        t0 = time.perf_counter()
        found = docs.retrieve(collection_id, q, RetrievalSettings(top_k=5, keyword_weight=0.3))
        total.append((time.perf_counter() - t0) * 1000)
        assert len(found) == 5
        t1 = time.perf_counter()
        docs.retrieve(collection_id, q, RetrievalSettings(top_k=5, keyword_weight=0.3))  # cached query vector
        search_only.append((time.perf_counter() - t1) * 1000)
        t2 = time.perf_counter()
        embedder.encode([q])
        embed_only.append((time.perf_counter() - t2) * 1000)

    def pct(values, p):
        return float(np.percentile(values, p))

    print(
        f"  hybrid retrieval, {queries} queries: p50 {pct(total, 50):.1f} ms, p95 {pct(total, 95):.1f} ms  (goal p95 < 100 ms)"
    )
    print(
        f"    of which search without embedding the question: p50 {pct(search_only, 50):.1f} ms, p95 {pct(search_only, 95):.1f} ms"
    )
    print(f"    embedding the question alone: p50 {pct(embed_only, 50):.1f} ms, p95 {pct(embed_only, 95):.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--paragraphs", type=int, default=240)
    parser.add_argument("--chunks", type=int, default=50_000)
    parser.add_argument("--queries", type=int, default=100)
    args = parser.parse_args()
    import torch

    print(f"CPU threads: {torch.get_num_threads()}, cores: {os.cpu_count()}")
    with tempfile.TemporaryDirectory() as tmp:
        services = Services.create(Settings.from_env(Path(tmp) / "home"))
        try:
            ingest_ratio(services, args.rounds, args.paragraphs, Path(tmp))
            query_latency(services, args.chunks, args.queries)
        finally:
            services.close()


if __name__ == "__main__":
    main()
