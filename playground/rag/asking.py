"""Asking a collection: hybrid retrieval, the cited answer (and the same question without
documents), each saved with its sources for History. Mixed into ``DocumentsService``."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from playground.errors import InvalidInput
from playground.i18n import Text, t
from playground.models.types import GenerationParams, ModelSpec, Usage
from playground.rag import answering
from playground.rag.index import EmbedderChanged
from playground.rag.retrieval import RetrievalSettings, Retrieved, hybrid_search, query_terms

if TYPE_CHECKING:
    from playground.generation import GenerationRecorder
    from playground.models.registry import ModelRegistry
    from playground.rag.embedding import Embedder
    from playground.rag.index import VectorIndex
    from playground.rag.keyword_index import KeywordIndex
    from playground.rag.service import CollectionInfo
    from storage import UnitOfWork


def _check_question(info: CollectionInfo, question: str | None) -> None:
    if not (question or "").strip():
        raise InvalidInput(t("documents.no_question"))
    if info.documents == 0:
        raise InvalidInput(t("documents.no_indexed_files", name=info.name))


@dataclass
class AskUpdate:
    text: str
    sources: list[dict]
    done: bool = False
    citations: list[int] = field(default_factory=list)
    invalid_citations: list[int] = field(default_factory=list)
    usage: Usage | None = None
    error: str | Text | None = None  # a Text is shown in the reader's language
    question_id: int | None = None
    phase: str = "with"  # "with" | "without" (the second half of a with-vs-without run)


class AskingMixin:
    """Needs ``get_collection``, ``embedder_factory``, ``index``, ``keywords``, ``registry``, ``recorder``, ``uow_factory``."""

    # Provided by ``DocumentsService``; declared here (annotations only) for the type checker.
    embedder_factory: Callable[[str], Embedder]
    index: VectorIndex
    keywords: KeywordIndex
    registry: ModelRegistry
    recorder: GenerationRecorder
    uow_factory: Callable[[], UnitOfWork]

    if TYPE_CHECKING:

        def get_collection(self, collection_id: int | None) -> CollectionInfo: ...

    # ---- retrieval and answers ---------------------------------------------------------
    def retrieve(self, collection_id: int, question: str, settings: RetrievalSettings) -> list[Retrieved]:
        info = self.get_collection(collection_id)
        settings = settings.validated()
        _check_question(info, question)
        try:
            found = self._search(info, question, settings)
        except EmbedderChanged:  # a re-embed finished meanwhile: ask again with the new embedder
            info = self.get_collection(collection_id)
            found = self._search(info, question, settings)
        with self.uow_factory() as uow:
            chunks = uow.rag_chunks.get_many([r.chunk_id for r in found])
        results = []
        for r in found:
            if r.chunk_id not in chunks:  # deleted between the search and now
                continue
            chunk, filename = chunks[r.chunk_id]
            r.document_id, r.filename, r.page_number, r.heading, r.text = (
                chunk.document_id,
                filename,
                chunk.page_number,
                chunk.heading,
                chunk.text,
            )
            results.append(r)
        return results

    def _search(self, info: CollectionInfo, question: str, settings: RetrievalSettings) -> list[Retrieved]:
        """Hybrid search; the question is encoded by the collection's own embedder, and only that
        embedder's vectors are searched (EmbedderChanged if the collection moved on since ``info``)."""
        model = info.embed_model
        query = self.embedder_factory(model).encode_query(question.strip(), info.embed_max_tokens)
        return hybrid_search(
            query,
            query_terms(question, info.language),
            settings,
            vector_search=lambda q, k: self.index.search(info.id, q, k, model),
            vector_scores=lambda q, ids: self.index.similarity(info.id, q, ids, model),
            keyword_search=lambda words, limit, only: self.keywords.search(info.id, words, limit, only, info.language),
        )

    def check_model(self, model_key: str | None) -> ModelSpec:
        if not model_key:
            raise InvalidInput(t("documents.pick_model"))
        return self.registry.get_spec(model_key)

    def check_question(self, collection_id: int | None, question: str | None) -> None:
        """What a search refuses before it runs: no collection, an empty question, no indexed files."""
        _check_question(self.get_collection(collection_id), question)

    def ask(
        self,
        collection_id: int,
        question: str,
        model_key: str,
        settings: RetrievalSettings,
        params: GenerationParams,
        cancel: threading.Event | None = None,
        with_without: bool = False,
    ) -> Iterator[AskUpdate]:
        """Stream the cited answer; with ``with_without`` then the same question without documents."""
        spec = self.check_model(model_key)
        found = self.retrieve(collection_id, question, settings)
        if not found:
            raise InvalidInput(t("documents.nothing_above_threshold"))
        info = self.get_collection(collection_id)
        sources = [r.to_dict() for r in found]
        meta = {
            "collection_id": info.id,
            "collection": info.name,
            "model_key": model_key,
            "model_name": spec.name,
            "with_without": with_without,
        }
        run_id = self.recorder.start_run("rag", title=question, meta=meta)
        question_id = self._record_question(run_id, info, question, model_key, with_without, settings, params, sources)
        final: AskUpdate | None = None
        for update in self.recorder.stream(
            run_id,
            model_key,
            answering.rag_messages(question, sources, info.language),
            params,
            position=0,
            cancel=cancel,
        ):
            valid, invalid = answering.parse_citations(update.text, len(sources))
            final = AskUpdate(
                update.text, sources, update.done, valid, invalid, update.usage, update.error, question_id, "with"
            )
            yield final
        assert final is not None  # recorder.stream always ends with a final update
        with self.uow_factory() as uow:
            uow.rag_questions.update(question_id, answer=final.text, citations=final.citations)
        if not with_without or (cancel is not None and cancel.is_set()):
            return
        for update in self.recorder.stream(
            run_id, model_key, answering.plain_messages(question), params, position=1, cancel=cancel
        ):
            yield AskUpdate(update.text, [], update.done, [], [], update.usage, update.error, question_id, "without")
            if update.done:
                with self.uow_factory() as uow:
                    uow.rag_questions.update(question_id, answer_without=update.text)

    def _record_question(
        self,
        run_id: int,
        info: CollectionInfo,
        question: str,
        model_key: str,
        with_without: bool,
        settings: RetrievalSettings,
        params: GenerationParams,
        sources: list[dict],
    ) -> int:
        """The question's row (its answer filled in as it ends), with what it was asked with."""
        with self.uow_factory() as uow:
            row = uow.rag_questions.add(
                run_id=run_id,
                collection_id=info.id,
                collection_name=info.name,
                question=question.strip(),
                model_key=model_key,
                mode="compare" if with_without else "with",
                settings={**settings.validated().__dict__, "params": params.to_dict()},
                sources=sources,
                answer="",
                citations=[],
            )
            return row.id

    # ---- history -------------------------------------------------------------------------
    def history(self, collection_id: int | None = None, limit: int = 200) -> list[dict]:
        with self.uow_factory() as uow:
            rows = uow.rag_questions.list(collection_id, limit)
        return [
            {
                "id": q.id,
                "when": q.created_at.strftime("%Y-%m-%d %H:%M"),
                "collection": q.collection_name,
                "question": q.question,
                "model": q.model_key,
                "mode": q.mode,
                "sources": len(q.sources),
                "cited": ", ".join(f"[{n}]" for n in q.citations),
                "answer": q.answer[:200],
            }
            for q in rows
        ]

    def question_detail(self, question_id: int | None):
        if question_id in (None, "") or int(question_id) <= 0:
            raise InvalidInput(t("documents.question_id_needed"))
        with self.uow_factory() as uow:
            row = uow.rag_questions.get(int(question_id))
        if row is None:
            raise InvalidInput(t("documents.no_saved_question", question_id=question_id))
        return row
