"""Ingest real PDF, DOCX, HTML and text files into real SQLite with the real embedder."""

import sqlite3
import threading

import pytest

from playground.errors import InvalidInput
from playground.rag.chunking import ChunkSettings
from playground.rag.keyword_index import shared_tokenizer
from playground.rag.keyword_store import load_collection_postings
from playground.rag.retrieval import RetrievalSettings
from playground.rag.service import DocumentsService
from storage.orm_rag import DOCUMENT_INDEXING
from tests.integration.rag_fixtures import DEMO_DOCS, make_docx, make_pdf, services

pytestmark = pytest.mark.slow


def _db(services):
    return sqlite3.connect(services.settings.home / "playground.db")


def test_pdf_docx_html_text_keep_pages_and_text(services, tmp_path):
    docs = services.documents
    c = docs.create_collection("Formats", ChunkSettings(300, 30, "chars"))
    pdf = make_pdf(
        tmp_path / "guide.pdf",
        ["The warehouse opens at seven in the morning.", "", "Forklift licences are renewed every three years."],
    )
    docx_file = make_docx(tmp_path / "policy.docx")
    html = tmp_path / "page.html"
    html.write_text(
        "<html><script>var secret='tracking';</script><body><h1>Parking</h1><p>Visitors park in bay C behind the office.</p></body></html>"
    )
    text = tmp_path / "notes.txt"
    text.write_text("Page one talks about coffee.\fPage two talks about the printer on floor two.")

    preview = {row["file"]: row for row in docs.preview(c.id, [str(pdf), str(docx_file), str(html), str(text)])}
    assert preview["guide.pdf"]["pages"] == 3 and "page(s) 2" in preview["guide.pdf"]["notes"]
    assert preview["policy.docx"]["headings"] == "Travel policy, Meals"
    assert preview["page.html"]["headings"] == "Parking"

    outcomes = docs.ingest(c.id, [str(pdf), str(docx_file), str(html), str(text)])
    assert [o.status for o in outcomes] == ["indexed"] * 4, outcomes
    db = _db(services)
    rows = db.execute(
        "SELECT d.filename, c.page_number, c.text FROM rag_chunks c JOIN rag_documents d ON d.id = c.document_id WHERE c.collection_id = ?",
        (c.id,),
    ).fetchall()
    by_file = {}
    for filename, page, chunk_text in rows:
        by_file.setdefault(filename, []).append((page, chunk_text))
    assert [(p, t) for p, t in by_file["guide.pdf"]] == [
        (1, "The warehouse opens at seven in the morning."),
        (3, "Forklift licences are renewed every three years."),
    ]
    assert any(p == 2 and "45 euros" in t and t.startswith("Meals") for p, t in by_file["policy.docx"])
    assert any(p == 1 and "standard class" in t for p, t in by_file["policy.docx"])
    assert all("tracking" not in t for _, t in by_file["page.html"]) and "bay C" in by_file["page.html"][0][1]
    assert sorted(p for p, _ in by_file["notes.txt"]) == [1, 2]
    assert len(docs.keywords.search(c.id, ["forklift"], 10)) == 1

    found = docs.retrieve(c.id, "When are forklift licences renewed?", RetrievalSettings(top_k=1))
    assert (found[0].filename, found[0].page_number) == ("guide.pdf", 3)


def test_known_answers_are_in_the_top_3(services):
    docs = services.documents
    c = docs.create_collection("Bakery", ChunkSettings(400, 40, "chars"))
    assert all(o.status == "indexed" for o in docs.ingest(c.id, [str(p) for p in DEMO_DOCS]))
    cases = {
        "When are wages paid?": ("handbook.md", "last working day"),
        "How many days of paid holiday do full-time staff get?": ("handbook.md", "25 days"),
        "Which supplier delivers eggs and on what day?": ("suppliers.csv", "free-range eggs"),
        "Can a custom celebration cake be returned?": ("returns_policy.html", "cannot be returned"),
        "How much notice is needed for a wedding order?": ("faq.txt", "ten days"),
        "Where does old bread go?": ("handbook.md", "food bank"),
    }
    for question, (filename, needle) in cases.items():
        top = docs.retrieve(c.id, question, RetrievalSettings(top_k=3, keyword_weight=0.3))
        assert any(r.filename == filename and needle in r.text for r in top), (
            question,
            [(r.filename, r.text[:60]) for r in top],
        )
        assert all(0 <= r.keyword_score <= 1 and -1 <= r.vector_score <= 1 for r in top)


def test_duplicates_versions_deletes_update_the_index_incrementally(services, tmp_path):
    docs = services.documents
    c = docs.create_collection("Versions", ChunkSettings(200, 0, "chars"))
    v1 = tmp_path / "v1" / "prices.txt"
    v1.parent.mkdir()
    v1.write_text("A sourdough loaf costs 4 euros.\n\nA croissant costs 1.50 euros.")
    assert docs.ingest(c.id, [str(v1)])[0].status == "indexed"
    assert docs.retrieve(c.id, "sourdough price", RetrievalSettings(top_k=1))  # loads the matrix
    before = docs.index.count(c.id)

    skipped = docs.ingest(c.id, [str(v1)], "skip")[0]
    assert skipped.status == "skipped" and "same content" in skipped.message
    replaced = docs.ingest(c.id, [str(v1)], "replace")[0]
    assert replaced.status == "indexed" and docs.index.count(c.id) == before

    v2 = tmp_path / "v2" / "prices.txt"
    v2.parent.mkdir()
    v2.write_text(
        "A sourdough loaf now costs 5 euros.\n\nA croissant costs 1.80 euros.\n\nA baguette costs 1.20 euros."
    )
    outcome = docs.ingest(c.id, [str(v2)])[0]
    assert "version 3" in outcome.message  # v1, replace of v1, then the new content
    listed = docs.list_documents(c.id)
    assert [(d["file"], d["version"], d["status"]) for d in listed] == [("prices.txt", 3, "ready")]
    db = _db(services)
    assert db.execute("SELECT COUNT(*) FROM rag_chunks WHERE collection_id = ?", (c.id,)).fetchone()[
        0
    ] == docs.index.count(c.id)
    texts = [r.text for r in docs.retrieve(c.id, "How much is a sourdough loaf?", RetrievalSettings(top_k=5))]
    assert any("5 euros" in t for t in texts) and not any("4 euros" in t for t in texts)

    # The keyword index kept in step equals one read fresh from the stored terms, and the
    # stored terms equal the same texts cut again.
    words = ["sourdough", "croissant", "costs", "baguette"]
    restarted = DocumentsService(services.settings, services.registry, services.models.recorder, services.uow_factory)
    live, fresh = docs.keywords.search(c.id, words, 50), restarted.keywords.search(c.id, words, 50)
    assert [i for i, _ in live] == [i for i, _ in fresh] and [s for _, s in live] == pytest.approx(
        [s for _, s in fresh]
    )
    with services.uow_factory() as uow:
        stored = sorted(load_collection_postings(uow, c.id).postings)
        from_texts = sorted(shared_tokenizer().postings(uow.rag_chunks.ready_texts(c.id)))
    assert stored == from_texts and len(stored) >= 10  # stopwords ("a", "now") are not terms

    docs.delete_document(listed[0]["id"])
    assert docs.index.count(c.id) == 0
    assert db.execute("SELECT COUNT(*) FROM rag_chunk_keywords WHERE terms LIKE '%sourdough%'").fetchone()[0] == 0
    with pytest.raises(InvalidInput, match="no indexed files"):
        docs.retrieve(c.id, "sourdough", RetrievalSettings())


def test_stop_and_crash_never_leave_a_ready_half_file(services, tmp_path):
    docs = services.documents
    c = docs.create_collection("Interrupted", ChunkSettings(100, 0, "chars"))
    big = tmp_path / "big.md"
    big.write_text("\n\n".join(f"Paragraph {i} about the quarterly inventory of flour sacks." for i in range(400)))
    cancel = threading.Event()

    def progress(p):
        if "embedded" in p.message:
            cancel.set()  # press Stop after the first batch

    outcome = docs.ingest(c.id, [str(big)], on_progress=progress, cancel=cancel)[0]
    assert outcome.status == "cancelled"
    db = _db(services)
    assert db.execute("SELECT COUNT(*) FROM rag_documents WHERE collection_id = ?", (c.id,)).fetchone()[0] == 0
    assert db.execute("SELECT COUNT(*) FROM rag_chunks WHERE collection_id = ?", (c.id,)).fetchone()[0] == 0

    # A kill mid-upload leaves an "indexing" row behind: never listed as ready, removed at start-up.
    with services.uow_factory() as uow:
        uow.rag_documents.add(
            collection_id=c.id,
            filename="big.md",
            content_hash="x" * 64,
            format="md",
            size_bytes=1,
            status=DOCUMENT_INDEXING,
        )
    assert [d["status"] for d in docs.list_documents(c.id)] == ["indexing"]
    assert docs.get_collection(c.id).documents == 0
    DocumentsService(services.settings, services.registry, services.models.recorder, services.uow_factory)  # a restart
    assert docs.list_documents(c.id) == []
    assert docs.ingest(c.id, [str(big)])[0].status == "indexed"  # re-upload works


def test_settings_change_asks_then_reindexes_and_index_survives_restart(services, tmp_path):
    docs = services.documents
    c = docs.create_collection("Reindex", ChunkSettings(1000, 100, "chars"))
    docs.ingest(c.id, [str(p) for p in DEMO_DOCS if p.name == "handbook.md"])
    before = docs.list_documents(c.id)[0]["chunks"]
    with pytest.raises(InvalidInput, match="re-indexes all 1 file"):
        docs.update_settings(c.id, ChunkSettings(24, 0, "tokens"), "all-MiniLM-L6-v2", 256)
    message = docs.update_settings(c.id, ChunkSettings(24, 0, "tokens"), "all-MiniLM-L6-v2", 256, confirm_reindex=True)
    after = docs.list_documents(c.id)[0]["chunks"]
    assert "re-indexed 1 file" in message and after > before
    assert docs.get_collection(c.id).chunking == ChunkSettings(24, 0, "tokens")

    restarted = DocumentsService(services.settings, services.registry, services.models.recorder, services.uow_factory)
    top = restarted.retrieve(c.id, "When are wages paid?", RetrievalSettings(top_k=1))
    assert "Wages are paid" in top[0].text and restarted.index.count(c.id) == after


def test_bad_uploads_are_reported_and_leave_nothing(services, tmp_path):
    docs = services.documents
    c = docs.create_collection("Bad files")
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    binary = tmp_path / "photo.txt"
    binary.write_bytes(bytes(range(256)) * 4)
    scanned = make_pdf(tmp_path / "scan.pdf", ["", ""])
    good = tmp_path / "ok.txt"
    good.write_text("The staff room fridge is cleaned every Friday afternoon.")
    docs.config = type(docs.config)(max_file_bytes=4000, embed_batch=64)
    big = tmp_path / "big.txt"
    big.write_text("x" * 5000)
    try:
        outcomes = docs.ingest(c.id, [str(empty), str(binary), str(scanned), str(big), str(good)])
    finally:
        docs.config = type(docs.config)()
    assert [o.status for o in outcomes] == ["failed", "failed", "failed", "failed", "indexed"]
    assert "empty" in outcomes[0].message and "binary" in outcomes[1].message
    assert "scanned" in outcomes[2].message and "limit" in outcomes[3].message
    assert [d["file"] for d in docs.list_documents(c.id)] == ["ok.txt"]
    empty_collection = docs.create_collection("Nothing yet")
    with pytest.raises(InvalidInput, match="no indexed files"):
        list(docs.ask(empty_collection.id, "Anything?", "embedded/smollm2-135m-instruct", RetrievalSettings(), None))
