"""Two Documents services on one database, as two app processes have: each keeps its own
in-memory indexes, yet an upload or delete in one is searchable (or gone) in the other at
its next query, and one's start-up never removes a file the other is still indexing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from playground.leases import Leases
from playground.rag.chunking import ChunkSettings
from playground.rag.retrieval import RetrievalSettings
from playground.rag.service import DocumentsService
from storage.orm_leases import LEASE_INGEST
from storage.orm_rag import DOCUMENT_INDEXING
from tests.integration.rag_fixtures import services


def second_process(services) -> DocumentsService:
    return DocumentsService(services.settings, services.registry, services.models.recorder, services.uow_factory)


def files_found(docs: DocumentsService, collection_id: int, question: str) -> set[str]:
    return {r.filename for r in docs.retrieve(collection_id, question, RetrievalSettings(top_k=3))}


def test_an_upload_in_one_process_is_searchable_in_the_other_without_a_restart(services, tmp_path):
    a, b = services.documents, second_process(services)
    c = a.create_collection("Shared", ChunkSettings(400, 0, "chars"))
    bakery = tmp_path / "bakery.md"
    bakery.write_text("The bakery opens at seven on Saturdays and sells rye bread.")
    a.ingest(c.id, [str(bakery)])
    assert files_found(b, c.id, "When does the bakery open?") == {"bakery.md"}  # B loads its index now
    assert b.index.count(c.id) == 1

    lighthouse = tmp_path / "lighthouse.md"
    lighthouse.write_text("The lighthouse keeper polishes the brass lamp every Tuesday at dusk.")
    assert a.ingest(c.id, [str(lighthouse)])[0].status == "indexed"
    assert "lighthouse.md" in files_found(b, c.id, "Who polishes the brass lamp of the lighthouse?")
    assert b.index.count(c.id) == 2

    bakery_id = next(d["id"] for d in a.list_documents(c.id) if d["file"] == "bakery.md")
    a.delete_document(bakery_id)
    assert files_found(b, c.id, "When does the bakery open?") == {"lighthouse.md"}
    assert b.index.count(c.id) == 1

    # B's own upload updates its index in place; A, which missed it, reloads at its next query.
    ferry = tmp_path / "ferry.md"
    ferry.write_text("The ferry to the island leaves the harbour every hour on the hour.")
    b.ingest(c.id, [str(ferry)])
    assert "ferry.md" in files_found(a, c.id, "When does the ferry leave the harbour?")
    assert a.index.count(c.id) == b.index.count(c.id) == 2


def test_start_up_keeps_a_file_another_process_is_indexing_and_removes_an_abandoned_one(services):
    docs = services.documents
    c = docs.create_collection("Start-up clean-up")
    leases = Leases(services.uow_factory, seconds=60, heartbeat_s=3600)
    now = datetime.now(UTC)
    with services.uow_factory() as uow:
        ids = [
            uow.rag_documents.add(
                collection_id=c.id,
                filename=name,
                content_hash=name * 8,
                format="md",
                size_bytes=1,
                status=DOCUMENT_INDEXING,
            ).id
            for name in ("being-indexed.md", "abandoned.md")
        ]
        assert leases.take_in(uow, LEASE_INGEST, ids[0]) is not None  # a live upload (this process)
        uow.leases.take(
            LEASE_INGEST, ids[1], "another-host:1:2:3", "t", now - timedelta(minutes=5), now - timedelta(minutes=4)
        )
    second_process(services)  # another process starts on the same database
    assert [d["file"] for d in docs.list_documents(c.id)] == ["being-indexed.md"]
    with services.uow_factory() as uow:
        assert uow.leases.get(LEASE_INGEST, ids[1]) is None
