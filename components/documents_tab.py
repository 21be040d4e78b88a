"""Documents tab (RAG): collections, uploads with preview, cited answers, evaluation, history.

The widgets are built in ``components.documents_layout``, formatted by
``components.documents_views``; the handlers are ``DocumentsController``'s methods
(``components.documents_controller``), and ``build_documents_tab`` wires them here.
"""

from __future__ import annotations

from components.documents_controller import DocumentsController
from components.documents_layout import DocumentsLayout, documents_layout
from components.tab import Event, TabHandle
from components.ui_errors import refusals
from components.widgets import GENERATION_EVENTS, StoppableRun, refresh_on_focus, refresh_pickers
from playground.services import Services

__all__ = ["DocumentsController", "build_documents_tab"]


def build_documents_tab(services: Services) -> TabHandle:
    run = StoppableRun(services.cancel_tokens)  # one token: every Stop button stops the action in flight, as before
    controller = DocumentsController(services, run)
    ui = documents_layout(
        services, controller.collection_choices(), controller.saved_evaluations, controller.saved_questions
    )
    _wire_collections(controller, ui)
    _wire_files(controller, ui)
    _wire_ask(services, controller, ui)
    _wire_evaluate(services, controller, ui)
    _wire_history(controller, ui)
    picker, info = ui.collections.picker, ui.collections.info
    files, evaluate = ui.files, ui.evaluate
    empty = [files.preview_table, evaluate.questions, evaluate.table, evaluate.sweep_table, evaluate.weights_table]
    # Other people (or tabs) create collections and models: list them afresh when the tab opens.
    return TabHandle(
        on_open=[
            Event(controller.refresh_collections, [picker], [picker]),
            refresh_pickers(services, [ui.ask.model, ui.evaluate.model]),
        ],
        on_load=[Event(controller.load_page, [picker], [picker, info, files.docs_table, *empty])],
    )


def _wire_collections(c: DocumentsController, ui: DocumentsLayout) -> None:
    w, docs_table = ui.collections, ui.files.docs_table
    w.refresh.click(c.refresh_collections, [w.picker], [w.picker], api_name="rag_collections")
    # Other people (or tabs) create collections too: list them afresh whenever the picker is opened.
    w.picker.focus(c.refresh_collections, [w.picker], [w.picker], api_name=False, queue=False)
    w.picker.change(c.show_collection, [w.picker], [*w.settings, docs_table, w.info], api_name="rag_collection_details")
    w.create.click(c.create, [w.name, *w.settings], [w.picker, w.name], api_name="rag_create")
    check = refusals(c.check_collection)
    w.rename.click(c.rename, [w.picker, w.name], [w.picker, w.name], api_name="rag_rename", validator=check)
    w.delete.click(c.delete, [w.picker, w.delete_ok], [w.picker, w.delete_ok], api_name="rag_delete", validator=check)
    outputs = [w.settings_msg, w.reindex_ok, docs_table]
    # A re-embed changes the embedder shown; the first upload settles an automatic collection's.
    w.settings_msg.change(c.collection_info, [w.picker], [w.info], api_name=False, queue=False)
    ui.files.upload_result.change(c.collection_info, [w.picker], [w.info], api_name=False, queue=False)
    c.run.then_run(
        w.save.click,
        c.save_settings,
        [w.picker, *w.settings, w.reindex_ok],
        outputs,
        api_name="rag_settings_save",
        status=w.settings_msg,
        concurrency_limit=1,
        concurrency_id="rag_indexing",
    )


def _wire_files(c: DocumentsController, ui: DocumentsLayout) -> None:
    w, picker = ui.files, ui.collections.picker
    w.preview.click(
        c.preview,
        [picker, w.files],
        [w.preview_table],
        api_name="rag_preview",
        concurrency_limit=2,
        validator=refusals(c.check_files),
    )
    outputs = [w.upload_result, w.docs_table, picker]
    c.run.wire(
        w.upload,
        w.stop,
        c.upload,
        [picker, w.files, w.duplicates],
        outputs,
        api_name="rag_upload",
        stop_api_name="rag_stop",
        status=w.upload_result,
        show_progress_on=outputs,
        concurrency_limit=1,
        concurrency_id="rag_indexing",
        validator=refusals(c.check_upload),
    )
    w.doc_delete.click(c.delete_document, [picker, w.doc_id], [w.docs_table, picker], api_name="rag_document_delete")


def _wire_ask(services: Services, c: DocumentsController, ui: DocumentsLayout) -> None:
    w = ui.ask
    # Models appear while the app runs (a finished Fine-tune job, a model added in Models): list them afresh too.
    refresh_on_focus(services, w.model)
    inputs = [ui.collections.picker, w.question, w.model, *w.retrieval, w.max_tokens, w.temperature]
    outputs = [w.answer, w.figures, w.sources, w.without]
    check = refusals(c.check_ask)
    c.run.wire(
        w.ask,
        w.stop,
        c.ask,
        inputs,
        outputs,
        api_name="rag_ask",
        stop_api_name=False,
        status=w.figures,
        show_progress_on=outputs,
        validator=check,
    )
    ask_again = {"validator": check, **GENERATION_EVENTS}
    ask_again["status"] = w.figures
    c.run.then_run(w.question.submit, c.ask, inputs, outputs, api_name=False, **ask_again)
    c.run.then_run(w.both.click, c.ask_both, inputs, outputs, api_name="rag_with_without", **ask_again)


def _wire_evaluate(services: Services, c: DocumentsController, ui: DocumentsLayout) -> None:
    w, picker, ask = ui.evaluate, ui.collections.picker, ui.ask
    refresh_on_focus(services, w.model)
    w.load.click(c.load_csv, [w.csv], [w.questions], api_name="rag_questions_csv")
    c.run.then_run(
        w.generate.click,
        c.generate,
        [picker, w.model, w.count],
        [w.questions, w.summary],
        api_name="rag_questions_generate",
        status=w.summary,  # where Stop is said at once, then how the writing ended
        **GENERATION_EVENTS,
    )
    w.evaluate.click(
        c.run_evaluation,
        [picker, w.questions, *ask.retrieval],
        [w.table, w.summary, w.saved],
        api_name="rag_evaluate",
        concurrency_limit=2,
    )
    outputs = [w.sweep_plot, w.sweep_table, w.saved]
    c.run.wire(
        w.sweep,
        w.stop,
        c.run_sweep,
        [picker, w.questions, w.sweep_sizes, w.sweep_ks, ask.weight],
        outputs,
        api_name="rag_sweep",
        stop_api_name=False,
        status=w.summary,
        show_progress_on=outputs,
        concurrency_limit=1,
        concurrency_id="rag_indexing",
    )
    w.weights.click(
        c.compare_weights,
        [picker, w.questions],
        [w.weights_summary, w.weights_table, w.saved],
        api_name="rag_compare_weights",
        concurrency_limit=2,
    )


def _wire_history(c: DocumentsController, ui: DocumentsLayout) -> None:
    w = ui.history
    w.refresh.click(c.history, [ui.collections.picker, w.only_this], [w.table], api_name="rag_history")
    w.show.click(c.history_detail, [w.question_id], [w.view], api_name="rag_history_detail")
