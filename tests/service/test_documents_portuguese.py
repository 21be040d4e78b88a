"""The Documents tab in Portuguese: status lines, upload reports with the parser's notes, the
Files table and the embedder choices read in the reader's language; English readers, logs and
API callers read the English they read before.

Real SQLite, the real MiniLM embedder and the tab's own controller and formatting, run as for a
browser sending ``Accept-Language`` (the fake backend only stands in for the chat models)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

from gradio.context import LocalContext

from components import documents_views as views
from components.documents_layout import DOC_HEADERS, EMBEDDER_CHOICES, PREVIEW_HEADERS
from components.documents_tab import DocumentsController
from components.widgets import StoppableRun
from playground.i18n import catalogue
from playground.rag.chunking import ChunkSettings
from playground.rag.config import EMBED_MODEL_NAME, MULTILINGUAL_EMBED_MODEL_NAME
from playground.rag.evaluation import EvalQuestion, clean_questions
from playground.services import Services
from tests.service.readers import reader

# cp1252, not UTF-8: the parser reads it and notes the encoding in the upload report.
MENU = "Crème brûlée and café: the bakery's French pastries next to the station, every morning. " * 5
OLD_NOTE = "Not UTF-8: read as cp1252. Check the preview; if the text looks wrong, save the file as UTF-8."


def controller(services: Services) -> DocumentsController:
    return DocumentsController(services, StoppableRun(services.cancel_tokens))


def menu_file(tmp_path: Path) -> str:
    path = tmp_path / "menu.txt"
    path.write_bytes(MENU.encode("cp1252"))
    return str(path)


def test_a_settings_status_line_is_portuguese_for_a_portuguese_reader(services: Services):
    docs, tab = services.documents, controller(services)
    collection = docs.create_collection("Políticas", ChunkSettings(400, 40, "chars"), EMBED_MODEL_NAME)
    settings = (400, 40, "chars", EMBED_MODEL_NAME, 256)
    with reader("pt-BR,pt;q=0.9"):
        unchanged = tab.save_settings(collection.id, *settings, False, "")[0]
        saved = tab.save_settings(collection.id, 500, 50, "chars", EMBED_MODEL_NAME, 256, False, "")[0]
    assert (unchanged, saved) == ("Nada mudou.", "Configurações salvas.")
    with reader("en-US"):
        assert tab.save_settings(collection.id, 500, 50, "chars", EMBED_MODEL_NAME, 256, False, "")[0] == (
            "Nothing changed."
        )
    assert str(docs.update_settings(collection.id, ChunkSettings(500, 50, "chars"), EMBED_MODEL_NAME, 256)) == (
        "Nothing changed."  # logs and API callers: English
    )


def test_a_parser_note_in_the_upload_report_and_the_files_table_follows_the_reader(services: Services, tmp_path):
    docs, tab = services.documents, controller(services)
    collection = docs.create_collection("Padaria", ChunkSettings(400, 40, "chars"), EMBED_MODEL_NAME)
    outcomes = docs.ingest(collection.id, [menu_file(tmp_path)])
    assert [o.status for o in outcomes] == ["indexed"]
    assert "Not UTF-8: read as" in outcomes[0].message  # the English sentence, for logs and API callers

    with reader("pt-BR"):
        report = views.upload_report(outcomes)
        table = tab.document_table(collection.id)["data"]
    assert "Indexado:" in report and "Não está em UTF-8: lido como" in report and "Not UTF-8" not in report
    warnings = table[0][DOC_HEADERS.index("warnings")]
    assert warnings.startswith("Não está em UTF-8: lido como") and "Not UTF-8" not in warnings

    with reader("en-US"):
        assert "Indexed:" in views.upload_report(outcomes) and "Not UTF-8: read as" in views.upload_report(outcomes)
        assert tab.document_table(collection.id)["data"][0][DOC_HEADERS.index("warnings")].startswith(
            "Not UTF-8: read as"
        )


def test_a_note_stored_before_notes_had_keys_is_shown_as_it_is(services: Services, tmp_path):
    docs, tab = services.documents, controller(services)
    collection = docs.create_collection("Antiga", ChunkSettings(400, 40, "chars"), EMBED_MODEL_NAME)
    docs.ingest(collection.id, [menu_file(tmp_path)])
    doc_id = docs.list_documents(collection.id)[0]["id"]
    with services.uow_factory() as uow:  # plain English, as uploads stored their notes before
        uow.rag_documents.update(doc_id, warnings=[OLD_NOTE])
    with reader("pt-BR"):
        assert tab.document_table(collection.id)["data"][0][DOC_HEADERS.index("warnings")] == OLD_NOTE


def test_the_preview_notes_a_duplicate_in_the_readers_language(services: Services, tmp_path):
    docs, tab = services.documents, controller(services)
    collection = docs.create_collection("Prévia", ChunkSettings(400, 40, "chars"), EMBED_MODEL_NAME)
    docs.ingest(collection.id, [menu_file(tmp_path)])
    with reader("pt-BR"):
        notes = tab.preview(collection.id, [menu_file(tmp_path)])["data"][0][PREVIEW_HEADERS.index("notes")]
    assert notes.startswith("Duplicado: mesmo conteúdo de 'menu.txt'") and "Não está em UTF-8" in notes


def test_the_embedder_choices_are_labelled_in_the_readers_language():
    labels = {value: label.key for label, value in EMBEDDER_CHOICES}  # gr.I18n keys, translated in the browser
    texts = catalogue()
    assert texts.text(labels[EMBED_MODEL_NAME], "pt-BR") == "all-MiniLM-L6-v2 (inglês, o mais rápido)"
    assert texts.text(labels[MULTILINGUAL_EMBED_MODEL_NAME], "pt-BR").startswith("multilingual-e5-small (português")
    assert texts.text(labels[EMBED_MODEL_NAME], "en") == "all-MiniLM-L6-v2 (English, fastest)"  # as before


def test_the_collection_picker_and_its_summary_are_filled_in_the_readers_language_on_page_load(services: Services):
    docs, tab = services.documents, controller(services)
    collection = docs.create_collection("Manual", ChunkSettings(400, 40, "chars"))
    with reader("pt-BR"):
        picker, summary, *_tables = tab.load_page(None)
    assert picker.choices == [("Manual (0 arquivos)", collection.id)] and picker.value == collection.id
    assert "**Idioma dos documentos:**" in summary
    with reader("en-US"):
        assert tab.load_page(collection.id)[0].choices == [("Manual (0 files)", collection.id)]


def test_the_tables_headers_and_status_words_follow_the_reader_and_stay_english_otherwise(services, tmp_path):
    docs, tab = services.documents, controller(services)
    collection = docs.create_collection("Tabelas", ChunkSettings(400, 40, "chars"), EMBED_MODEL_NAME)
    docs.ingest(collection.id, [menu_file(tmp_path)])
    with reader("pt-BR"):
        files = tab.document_table(collection.id)
        preview = tab.preview(collection.id, [menu_file(tmp_path)])
        history, saved = tab.history(collection.id, True), tab.saved_evaluations()
    assert files["headers"][:4] == ["id", "arquivo", "versão", "status"] and "avisos" in files["headers"]
    assert files["data"][0][DOC_HEADERS.index("status")] == "pronto"  # stored as "ready"
    assert preview["headers"] == ["arquivo", "formato", "páginas", "caracteres", "títulos", "observações"]
    assert history["headers"][:4] == ["id", "quando", "coleção", "pergunta"] and saved["headers"][-1] == "resumo"
    with reader("en-US"):
        english = tab.document_table(collection.id)
        assert (
            english["headers"] == DOC_HEADERS and tab.preview(None, [menu_file(tmp_path)])["headers"] == PREVIEW_HEADERS
        )
    assert english["data"][0][DOC_HEADERS.index("status")] == "ready"
    assert docs.list_documents(collection.id)[0]["status"] == "ready"  # the stored identifier is unchanged


def test_the_page_load_gives_the_empty_tables_portuguese_headers_and_lists_the_files(services, tmp_path):
    docs, tab = services.documents, controller(services)
    collection = docs.create_collection("Carga", ChunkSettings(400, 40, "chars"), EMBED_MODEL_NAME)
    docs.ingest(collection.id, [menu_file(tmp_path)])
    with reader("pt-BR"):
        _picker, _summary, files, preview, questions, results, sweep, weights = tab.load_page(collection.id)
    assert [row[DOC_HEADERS.index("file")] for row in files["data"]] == ["menu.txt"]
    assert preview["data"] == [] and preview["headers"][0] == "arquivo"
    assert questions["headers"] == ["pergunta", "arquivo esperado", "página esperada", "manter"]
    assert results["headers"][3:6] == ["precisão", "revocação", "ndcg"]
    assert sweep["headers"][:2] == ["tamanho do trecho", "top_k"] and weights["headers"][:2] == [
        "fusão",
        "peso das palavras-chave",
    ]
    with reader("en-US"):
        assert tab.load_page(collection.id)[4]["headers"] == ["question", "expected_file", "expected_page", "keep"]


def test_a_kept_question_reads_sim_and_a_portuguese_no_drops_it():
    questions = [EvalQuestion("Quando abre?", "menu.txt", None), EvalQuestion("Tem café?", "menu.txt", 1)]
    with reader("pt-BR"):
        shown = views.question_rows(questions)
        weights = views.weights_rows(
            [{"fusion": "weighted", "keyword_weight": 0.3, "top_k": 5, "precision": 1.0, "recall": 1.0, "ndcg": 1.0}]
        )
    assert [row[3] for row in shown] == ["sim", "sim"] and weights[0][0] == "ponderada"
    shown[1][3] = "não"
    assert [q.question for q in clean_questions(shown)] == ["Quando abre?"]
    with reader("en-US"):
        assert views.question_rows(questions)[0][3] == "yes"


def test_the_evaluation_scores_read_with_a_decimal_comma_in_portuguese_and_stay_numbers(services, tmp_path):
    docs, tab = services.documents, controller(services)
    collection = docs.create_collection("Notas", ChunkSettings(400, 40, "chars"), EMBED_MODEL_NAME)
    docs.ingest(collection.id, [menu_file(tmp_path)])
    questions = [["Is there café?", "menu.txt", "", "yes"], ["Where is the station?", "elsewhere.txt", "", "yes"]]
    with reader("pt-BR"):
        portuguese, _summary, _saved = tab.run_evaluation(collection.id, questions, 3, 0.3, 0.0)
    with reader("en-US"):
        english, _summary, _saved = tab.run_evaluation(collection.id, questions, 3, 0.3, 0.0)
    scores = [row[3:6] for row in portuguese["data"]]
    assert scores == [row[3:6] for row in english["data"]]
    assert all(isinstance(score, float) for row in scores for score in row)  # numbers: the columns sort as numbers
    shown = [row[3:6] for row in portuguese["metadata"]["display_value"]]
    assert shown == [[f"{s:g}".replace(".", ",") for s in row] for row in scores]
    assert any("," in cell for row in shown for cell in row)  # a score that is not a whole number
    assert [row[3:6] for row in english["metadata"]["display_value"]] == [[f"{s:g}" for s in row] for row in scores]
    assert portuguese["metadata"]["display_value"][0][0] == "Is there café?"  # text cells as they are
