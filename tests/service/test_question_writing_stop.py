"""Stop while Documents writes evaluation questions: the questions written whole are kept, the one
being written when Stop came is dropped (it would end mid-sentence), and the status line says
how many were kept, in the reader's language."""

from __future__ import annotations

import threading

from components.documents_controller import DocumentsController
from components.widgets import StoppableRun
from playground.models.embedded import SMOLLM2_KEY
from playground.rag.chunking import ChunkSettings
from tests.service.fake_model import fake_services
from tests.service.readers import reader

PASSAGES = "\n\n".join(
    f"Section {n}. The bakery on street {n} opens at {6 + n} in the morning and sells rye bread, "
    f"croissants and {n} kinds of cake; deliveries arrive from the mill every {n + 1} days."
    for n in range(1, 6)
)
QUESTION = "What does the passage say about " + " ".join(f"detail{n}" for n in range(30)) + "?"


def question_writer(_spec, _messages):
    return QUESTION  # 36 streamed words: long enough for a Stop to land in the middle of one


def _world(tmp_path):
    services = fake_services(tmp_path / "home", script=question_writer, chunk_delay_s=0.02)
    path = tmp_path / "bakery.txt"
    path.write_text(PASSAGES, encoding="utf-8")
    collection = services.documents.create_collection("Bakery", ChunkSettings(200, 20, "chars"))
    services.documents.ingest(collection.id, [str(path)])
    return services, collection, DocumentsController(services, StoppableRun(services.cancel_tokens))


def test_stop_keeps_the_whole_questions_drops_the_cut_one_and_says_so_in_portuguese(tmp_path):
    services, collection, controller = _world(tmp_path)
    token = services.cancel_tokens.new()
    event = services.cancel_tokens.event(token)
    timers: list[threading.Timer] = []

    def progress(value, desc=None, unit=None):  # Gradio's bar, as the handler calls it
        if isinstance(value, tuple) and value[0] == 1 and not timers:  # the second question begins
            timers.append(threading.Timer(0.2, event.set))  # Stop, some words into it
            timers[0].start()

    try:
        with reader("pt-BR"):
            table, status = controller.generate(collection.id, SMOLLM2_KEY, 3, token, progress=progress)
    finally:
        services.close()
    assert [row[0] for row in table["data"]] == [QUESTION]  # the first, whole; not the cut second one
    assert status.startswith("⏹ Parado depois de 1 pergunta(s).")


def test_a_finished_writing_says_how_many_questions_were_written(tmp_path):
    services, collection, controller = _world(tmp_path)
    try:
        with reader("en"):
            table, status = controller.generate(collection.id, SMOLLM2_KEY, 2, "", progress=lambda *a, **k: None)
    finally:
        services.close()
    assert [row[0] for row in table["data"]] == [QUESTION, QUESTION]
    assert status.startswith("Generated 2 question(s).")
