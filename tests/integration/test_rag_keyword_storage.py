"""Keyword postings come out of the stored terms (``rag_chunk_keywords``), cut in the
collection's language on its first load and kept; SQLite and PostgreSQL alike. Only ready
chunks of the asked collection count."""

from __future__ import annotations

from sqlalchemy import text

from playground.rag.keyword_index import KeywordIndex
from playground.rag.keyword_store import load_collection_postings
from playground.rag.words import analyzer
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


def _collections_and_files(uow, language="en"):
    ids = {}
    for name in ("mine", "other"):
        ids[name] = uow.rag_collections.add(
            name=name,
            chunk_size=500,
            chunk_overlap=50,
            chunk_unit="chars",
            embed_model="all-MiniLM-L6-v2",
            embed_max_tokens=256,
            language=language,
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
    return ids, docs


def test_postings_cover_only_ready_chunks_of_the_collection(uow_factory):
    with uow_factory() as uow:
        ids, docs = _collections_and_files(uow)
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
        assert uow.rag_chunks.keyword_terms(ids["mine"], "en") == []  # nothing cut yet
        loaded = load_collection_postings(uow, ids["mine"])
        texts = uow.rag_chunks.ready_texts(ids["mine"])
    assert sorted(i for i, _ in texts) == sorted(ready)
    expected = sorted(analyzer("en").postings(texts))
    assert loaded.language == "en" and sorted(loaded.postings) == expected
    assert (ready[1], "run", 2) in expected and (ready[0], "oven", 1) in expected
    with uow_factory() as uow:  # the terms were stored: read back as they are, nothing left to cut
        assert uow.rag_chunks.texts_without_terms(ids["mine"], "en") == []
        assert sorted(load_collection_postings(uow, ids["mine"]).postings) == expected

    index = KeywordIndex(lambda _c: loaded)
    assert [c for c, _ in index.search(ids["mine"], ["ovens", "running"], 10)] == [ready[1], ready[0]]
    assert index.search(ids["mine"], ["notes"], 10) == []  # only in the half-indexed file


def test_a_portuguese_collection_is_cut_in_portuguese_and_again_when_its_language_changes(uow_factory):
    with uow_factory() as uow:
        ids, docs = _collections_and_files(uow, language="")
        first, second = uow.rag_chunks.add_many(
            [
                _chunk(ids["mine"], docs["ready"], 0, "As avaliações dos clientes são lidas toda semana."),
                _chunk(ids["mine"], docs["ready"], 1, "O reembolso é feito em até dez dias úteis."),
            ]
        )
    with uow_factory() as uow:  # language unknown: English rules, as an upgraded database had
        assert load_collection_postings(uow, ids["mine"]).language == "en"
    with uow_factory() as uow:
        uow.rag_collections.update(ids["mine"], language="pt")
    with uow_factory() as uow:
        assert len(uow.rag_chunks.texts_without_terms(ids["mine"], "pt")) == 2
        loaded = load_collection_postings(uow, ids["mine"])
    assert loaded.language == "pt"
    index = KeywordIndex(lambda _c: loaded)
    assert [c for c, _ in index.search(ids["mine"], ["avaliação", "cliente"], 10)] == [first]
    assert [c for c, _ in index.search(ids["mine"], ["reembolsos"], 10)] == [second]
    assert index.search(ids["mine"], ["dos", "são", "até"], 10) == []  # Portuguese stopwords

    with uow_factory() as uow:  # removing a file removes its chunks' terms
        uow.rag_documents.delete(docs["ready"])
    with uow_factory() as uow:
        assert load_collection_postings(uow, ids["mine"]).postings == []
        left = uow.session.execute(text("SELECT COUNT(*) FROM rag_chunk_keywords")).scalar_one()
    assert left == 0
