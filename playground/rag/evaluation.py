"""Retrieval evaluation: question sets (from a CSV or generated from sampled chunks and
approved by the user), metrics per question and on average, and chunk-size × top-k sweeps.
Every evaluation is saved."""

from __future__ import annotations

import csv
import io
import logging
import threading
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from playground.errors import InvalidInput
from playground.i18n import Text, t
from playground.models.types import GenerationParams, Message
from playground.progress import OnProgress, complete, notify
from playground.rag.chunking import ChunkSettings, chunk_pages
from playground.rag.embedding import Cancelled
from playground.rag.keyword_index import KeywordIndex
from playground.rag.metrics import Expected, average, question_metrics
from playground.rag.parsing import decode_text
from playground.rag.retrieval import (
    DEFAULT_FUSION,
    DEFAULT_KEYWORD_WEIGHT,
    FUSIONS,
    RetrievalSettings,
    hybrid_search,
    query_terms,
)
from playground.rag.service import DocumentsService

log = logging.getLogger(__name__)
SWEEP_SIZES = (256, 512, 1024, 2048)
SWEEP_TOP_KS = (1, 3, 5, 10)
COMPARE_WEIGHTS = (0.0, 0.3, 0.5, 0.7, 1.0)
QUESTION_PROMPT = (
    "Write one question that the passage below answers. Reply with the question only.\n\nPassage:\n{passage}"
)


@dataclass
class EvalQuestion:
    question: str
    expected_file: str
    expected_page: int | None = None

    def expected(self) -> list[Expected]:
        files = [f.strip() for f in self.expected_file.replace("|", ";").split(";") if f.strip()]
        return [Expected(f, self.expected_page) for f in files]


def parse_questions_csv(path: str | Path | None) -> list[EvalQuestion]:
    if not path:
        raise InvalidInput(t("documents.csv_needed"))
    file = Path(path)
    if not file.is_file() or file.stat().st_size == 0:
        raise InvalidInput(t("documents.csv_empty"))
    text, _ = decode_text(file.name, file.read_bytes())
    rows = list(csv.DictReader(io.StringIO(text)))
    if not rows:
        raise InvalidInput(t("documents.csv_no_rows"))
    header = {h.strip().lower(): h for h in rows[0].keys() if h}
    question_col = header.get("question")
    file_col = next((header[h] for h in ("expected_file", "file", "source", "expected_source") if h in header), None)
    page_col = next((header[h] for h in ("expected_page", "page") if h in header), None)
    if not question_col or not file_col:
        raise InvalidInput(t("documents.csv_header"))
    out = []
    for n, row in enumerate(rows, start=2):
        question, expected = (row.get(question_col) or "").strip(), (row.get(file_col) or "").strip()
        if not question or not expected:
            continue
        page_raw = (row.get(page_col) or "").strip() if page_col else ""
        try:
            page = int(page_raw) if page_raw else None
        except ValueError as err:
            raise InvalidInput(t("documents.csv_bad_page", line=n, page=page_raw)) from err
        out.append(EvalQuestion(question, expected, page))
    if not out:
        raise InvalidInput(t("documents.csv_no_usable_rows"))
    return out


def clean_questions(rows: Sequence[Sequence]) -> list[EvalQuestion]:
    """Rows from the editable table: question, expected file, expected page, keep (yes/no; the
    table shows "sim" to a Portuguese reader, who may answer "não")."""
    out = []
    for row in rows:
        cells = list(row) + [""] * 4
        question, expected, page, keep = (str(c).strip() if c is not None else "" for c in cells[:4])
        if not question or not expected or keep.lower() in ("no", "false", "0", "n", "não", "nao"):
            continue
        try:
            page_number = int(float(page)) if page and page.lower() != "nan" else None
        except ValueError as err:
            raise InvalidInput(t("documents.bad_page", page=page)) from err
        out.append(EvalQuestion(question, expected, page_number))
    if not out:
        raise InvalidInput(t("documents.no_approved_questions"))
    return out


class EvaluationService:
    def __init__(self, documents: DocumentsService):
        self.documents = documents
        self.uow_factory = documents.uow_factory

    def generate_questions(
        self,
        collection_id: int,
        model_key: str,
        count: int,
        seed: int = 0,
        on_progress: OnProgress | None = None,
        cancel: threading.Event | None = None,
    ) -> list[EvalQuestion]:
        info = self.documents.get_collection(collection_id)
        if info.documents == 0:
            raise InvalidInput(t("documents.no_indexed_files", name=info.name))
        if not model_key:
            raise InvalidInput(t("documents.pick_question_writer"))
        if not 1 <= int(count) <= 50:
            raise InvalidInput(t("documents.question_count"))
        with self.uow_factory() as uow:
            passages = [(c.text, f, c.page_number) for c, f in uow.rag_chunks.sample(info.id, int(count), int(seed))]
        recorder = self.documents.recorder
        run_id = recorder.start_run(
            "rag_questions",
            title=f"Evaluation questions for {info.name}",
            meta={"collection_id": info.id, "model_key": model_key},
        )
        params = GenerationParams(temperature=0.3, max_tokens=60, seed=int(seed))
        out = []
        for i, (text, filename, page) in enumerate(passages):
            if cancel is not None and cancel.is_set():
                break
            notify(on_progress, i, len(passages), t("documents.progress_question", number=i + 1, count=len(passages)))
            messages = [Message("user", QUESTION_PROMPT.format(passage=text[:1500]))]
            final = complete(
                recorder.stream(run_id, model_key, messages, params, position=i, cancel=cancel)
            )  # it always ends with a final update
            if final.error:
                raise InvalidInput(t("documents.question_writer_failed", error=final.error))
            if final.status == "cancelled":
                break  # a question cut off mid-sentence is no question
            question = next((line.strip(" -*\"'") for line in final.text.splitlines() if line.strip()), "")
            if question:
                out.append(EvalQuestion(question, filename, page))
        return out

    def evaluate(self, collection_id: int, questions: Sequence[EvalQuestion], settings: RetrievalSettings) -> dict:
        """Retrieve with the collection's live index, exactly as a question in Ask would."""
        info = self.documents.get_collection(collection_id)
        settings = settings.validated()
        with self.uow_factory() as uow:
            locations = uow.rag_chunks.locations(info.id)
        rows = []
        for q in questions:
            found = self.documents.retrieve(info.id, q.question, settings)
            retrieved = [(r.filename, r.page_number) for r in found]
            expected = q.expected()
            total = sum(1 for _, f, p in locations if any(e.matches(f, p) for e in expected))
            metrics = question_metrics(retrieved, expected, settings.top_k, total)
            rows.append({**asdict(q), **metrics, "retrieved": [f"{f} p.{p}" for f, p in retrieved]})
        result = {"rows": rows, "average": average(rows)}
        self._save(info, "single", {**settings.__dict__, "chunking": info.chunking.__dict__}, questions, result)
        return result

    def sweep(
        self,
        collection_id: int,
        questions: Sequence[EvalQuestion],
        sizes: Sequence[int] = SWEEP_SIZES,
        top_ks: Sequence[int] = SWEEP_TOP_KS,
        keyword_weight: float = DEFAULT_KEYWORD_WEIGHT,
        on_progress: OnProgress | None = None,
        cancel: threading.Event | None = None,
    ) -> dict:
        """Re-chunk the collection's stored pages at each size (in memory only), retrieve the
        largest top-k once per question, and score every top-k on its prefix. The result also
        names the collection's chunk unit, which the sizes are measured in."""
        info = self.documents.get_collection(collection_id)
        if info.documents == 0:
            raise InvalidInput(t("documents.no_indexed_files", name=info.name))
        sizes = sorted({int(s) for s in sizes})
        top_ks = sorted({int(k) for k in top_ks})
        if not sizes or not top_ks:
            raise InvalidInput(t("documents.sweep_choice"))
        RetrievalSettings(max(top_ks), keyword_weight).validated()
        documents = self.documents.stored_documents(info.id)
        embedder = self.documents.embedder_factory(info.embed_model)
        language = self.documents.keywords.language(info.id)
        overlap_ratio = info.chunking.overlap / info.chunking.size
        query_vectors = embedder.encode([q.question for q in questions], role="query", max_tokens=info.embed_max_tokens)
        grid = []
        for step, size in enumerate(sizes):
            if cancel is not None and cancel.is_set():
                raise Cancelled(t("documents.stopped"))
            notify(on_progress, step, len(sizes), t("documents.progress_sweep_size", size=size))
            chunking = ChunkSettings(size, int(size * overlap_ratio), info.chunking.unit)
            chunks = [
                (c, d.filename) for d in documents for c in chunk_pages(d.pages, d.headings, chunking, info.embed_model)
            ]
            vectors = embedder.encode([c.text for c, _ in chunks], max_tokens=info.embed_max_tokens, cancel=cancel)
            keyword = KeywordIndex.from_texts({i: c.text for i, (c, _) in enumerate(chunks)}, language)
            per_k = _score_chunking(
                chunks, vectors, keyword, questions, query_vectors, top_ks, keyword_weight, language
            )
            for k in top_ks:
                grid.append({"chunk_size": size, "top_k": k, "chunks": len(chunks), **average(per_k[k])})
        notify(on_progress, len(sizes), len(sizes), t("documents.progress_sweep_done"))
        result = {"grid": grid}
        self._save(
            info,
            "sweep",
            {"sizes": sizes, "top_ks": top_ks, "keyword_weight": keyword_weight, "unit": info.chunking.unit},
            questions,
            result,
        )
        return {**result, "unit": info.chunking.unit}

    def compare_weights(
        self,
        collection_id: int,
        questions: Sequence[EvalQuestion],
        top_k: int = 5,
        weights: Sequence[float] = COMPARE_WEIGHTS,
        fusions: Sequence[str] = FUSIONS,
    ) -> dict:
        """Each keyword weight × fusion on the collection's live indexes (as Ask retrieves):
        precision, recall and nDCG at ``top_k`` on average, best recall first. Each question
        is embedded once. Saved as one evaluation of kind "weights"."""
        info = self.documents.get_collection(collection_id)
        if info.documents == 0:
            raise InvalidInput(t("documents.no_indexed_files", name=info.name))
        grid_settings = [RetrievalSettings(int(top_k), float(w), 0.0, f).validated() for f in fusions for w in weights]
        if not grid_settings:
            raise InvalidInput(t("documents.weights_choice"))
        docs = self.documents
        language = docs.keywords.language(info.id)
        embedder = docs.embedder_factory(info.embed_model)
        with self.uow_factory() as uow:
            locations = {c: (f, p) for c, f, p in uow.rag_chunks.locations(info.id)}
        per_setting: dict[RetrievalSettings, list[dict]] = {s: [] for s in grid_settings}
        for q in questions:
            query = embedder.encode_query(q.question.strip(), info.embed_max_tokens)
            expected = q.expected()
            total = sum(1 for f, p in locations.values() if any(e.matches(f, p) for e in expected))
            for setting in grid_settings:
                found = hybrid_search(
                    query,
                    query_terms(q.question, language),
                    setting,
                    vector_search=lambda v, k: docs.index.search(info.id, v, k),
                    vector_scores=lambda v, ids: docs.index.similarity(info.id, v, ids),
                    keyword_search=lambda words, limit, only: docs.keywords.search(info.id, words, limit, only),
                )
                retrieved = [locations[r.chunk_id] for r in found if r.chunk_id in locations]
                per_setting[setting].append(question_metrics(retrieved, expected, setting.top_k, total))
        grid: list[dict[str, Any]] = [
            {"fusion": s.fusion, "keyword_weight": s.keyword_weight, "top_k": s.top_k, **average(rows)}
            for s, rows in per_setting.items()
        ]
        grid.sort(key=lambda g: (-g["recall"], -g["ndcg"], g["fusion"] != DEFAULT_FUSION, g["keyword_weight"]))
        result = {"grid": grid, "language": language, "best": grid[0]}
        settings = {"top_k": int(top_k), "weights": [float(w) for w in weights], "fusions": list(fusions)}
        self._save(info, "weights", settings, questions, result)
        return result

    def _save(self, info, kind: str, settings: dict, questions: Sequence[EvalQuestion], results: dict) -> int:
        with self.uow_factory() as uow:
            row = uow.rag_evaluations.add(
                collection_id=info.id,
                collection_name=info.name,
                kind=kind,
                settings=settings,
                questions=[asdict(q) for q in questions],
                results=results,
            )
            return row.id

    def list_evaluations(self, collection_id: int | None = None) -> list[dict]:
        with self.uow_factory() as uow:
            rows = uow.rag_evaluations.list(collection_id)
        out = []
        for e in rows:
            if e.kind == "single":
                avg = e.results.get("average", {})
                summary: Text | str = t(
                    "documents.saved_single",
                    top_k=e.settings.get("top_k"),
                    precision=avg.get("precision", 0),
                    recall=avg.get("recall", 0),
                    ndcg=avg.get("ndcg", 0),
                )
            elif e.kind == "weights":
                top = e.results.get("best") or {}
                summary = (
                    t(
                        "documents.saved_weights",
                        top_k=top.get("top_k"),
                        recall=top.get("recall", 0),
                        weight=top.get("keyword_weight"),
                        fusion=t("documents.cell_weighted") if top.get("fusion") == "weighted" else top.get("fusion"),
                    )
                    if top
                    else ""
                )
            else:
                best = max(e.results.get("grid", []), key=lambda g: g["ndcg"], default=None)
                summary = (
                    t("documents.saved_sweep", ndcg=best["ndcg"], size=best["chunk_size"], top_k=best["top_k"])
                    if best
                    else ""
                )
            out.append(
                {
                    "id": e.id,
                    "when": e.created_at.strftime("%Y-%m-%d %H:%M"),
                    "collection": e.collection_name,
                    "kind": e.kind,
                    "questions": len(e.questions),
                    "summary": summary,
                }
            )
        return out


def _top(vectors: np.ndarray, query: np.ndarray, k: int) -> list[tuple[int, float]]:
    scores = vectors @ query
    order = np.argsort(-scores, kind="stable")[:k]
    return [(int(i), float(scores[i])) for i in order]


def _score_chunking(
    chunks: Sequence[tuple[Any, str]],
    vectors: Any,
    keyword: KeywordIndex,
    questions: Sequence[EvalQuestion],
    query_vectors: Any,
    top_ks: Sequence[int],
    keyword_weight: float,
    language: str,
) -> dict[int, list[dict]]:
    """Each question's metrics at every top-k over one chunking (its chunks, their vectors and
    keyword index, in memory): the largest top-k retrieved once, the others scored on its prefix."""
    per_k: dict[int, list[dict]] = {k: [] for k in top_ks}
    for q, qvec in zip(questions, query_vectors):
        found = hybrid_search(
            qvec,
            query_terms(q.question, language),
            RetrievalSettings(max(top_ks), keyword_weight),
            vector_search=lambda v, k: _top(vectors, v, k),
            vector_scores=lambda v, ids: {i: float(vectors[i] @ v) for i in ids},
            keyword_search=lambda words, limit, only: keyword.search(0, words, limit, only),
        )
        retrieved = [(chunks[r.chunk_id][1], chunks[r.chunk_id][0].page_number) for r in found]
        expected = q.expected()
        total = sum(1 for c, f in chunks if any(e.matches(f, c.page_number) for e in expected))
        for k in top_ks:
            per_k[k].append(question_metrics(retrieved, expected, k, total))
    return per_k
