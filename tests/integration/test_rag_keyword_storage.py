"""Keyword postings come out of SQLite's persisted FTS5 index, and out of the stored texts on
PostgreSQL; either way only ready chunks of the asked collection count."""

from __future__ import annotations

import pytest

from playground.rag.keyword_index import KeywordIndex, shared_tokenizer
from storage.orm_rag import DOCUMENT_INDEXING, DOCUMENT_READY
from tests.conftest_storage import *  # noqa: F403 - fixtures: db_url, engine, migrated_engine, uow_factory


def _chunk(collection_id, document_id, ordinal, text):
    return {
        "collection_id": collection_id,
        "document_id": document_id,
        "ordinal": ordinal,
        "page_number": 1,
        "start_char": 0,
        "end_char": len(text),
        "heading": "",
        "text": text,
        "embedding": b"\0" * 8,
    }


def test_postings_cover_only_ready_chunks_of_the_collection(uow_factory):
    with uow_factory() as uow:
        ids = {}
        for name in ("mine", "other"):
            ids[name] = uow.rag_collections.add(
                name=name,
                chunk_size=500,
                chunk_overlap=50,
                chunk_unit="chars",
                embed_model="all-MiniLM-L6-v2",
                embed_max_tokens=256,
            ).id
        docs = {}
        for key, collection, status in (
            ("ready", "mine", DOCUMENT_READY),
            ("busy", "mine", DOCUMENT_INDEXING),
            ("elsewhere", "other", DOCUMENT_READY),
        ):
            docs[key] = uow.rag_documents.add(
                collection_id=ids[collection],
                filename=f"{key}.txt",
                content_hash=(key * 8)[:64],
                format="txt",
                size_bytes=1,
                status=status,
            ).id
        ready = uow.rag_chunks.add_many(
            [
                _chunk(ids["mine"], docs["ready"], 0, "Ovens are cleaned on Friday."),
                _chunk(ids["mine"], docs["ready"], 1, "The oven runs hot; running it early helps."),
            ]
        )
        uow.rag_chunks.add_many(
            [
                _chunk(ids["mine"], docs["busy"], 0, "Half indexed oven notes."),
                _chunk(ids["other"], docs["elsewhere"], 0, "Another collection's oven."),
            ]
        )
    with uow_factory() as uow:
        stored = uow.rag_chunks.fts_postings(ids["mine"])
        texts = uow.rag_chunks.ready_texts(ids["mine"])
        dialect = uow.session.get_bind().dialect.name
    assert sorted(i for i, _ in texts) == sorted(ready)
    expected = sorted(shared_tokenizer().postings(texts))
    if dialect == "sqlite":
        assert sorted(stored) == expected
    else:
        assert stored is None  # no FTS5 there: the service cuts the texts itself
    assert (ready[1], "run", 2) in expected and (ready[0], "oven", 1) in expected

    index = KeywordIndex(lambda _c: stored if stored is not None else shared_tokenizer().postings(texts))
    assert [c for c, _ in index.search(ids["mine"], ["ovens", "running"], 10)] == [ready[1], ready[0]]
    assert index.search(ids["mine"], ["notes"], 10) == []  # only in the half-indexed file
