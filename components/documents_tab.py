"""Documents tab (RAG): collections, uploads with preview, cited answers, evaluation, history.

The widgets are built in ``components.documents_layout``, formatted by
``components.documents_views``; here the controller's methods are the handlers, and
``build_documents_tab`` wires them.
"""

from __future__ import annotations

from collections.abc import Iterator

import gradio as gr

from components import documents_views as views
from components.documents_layout import (
    DOC_HEADERS,
    HISTORY_HEADERS,
    PREVIEW_HEADERS,
    SAVED_EVAL_HEADERS,
    DocumentsLayout,
    documents_layout,
)
from components.i18n import say, text
from components.tab import Event, TabHandle
from components.ui_errors import refusals, refused_at, user_errors
from components.widgets import (
    GENERATION_EVENTS,
    StoppableRun,
    kept_value,
    progress_reporter,
    refresh_on_focus,
    refresh_pickers,
)
from playground.errors import UserFacingError
from playground.models.types import GenerationParams
from playground.rag.charts import sweep_figure
from playground.rag.chunking import ChunkSettings
from playground.rag.evaluation import EvaluationService, clean_questions, parse_questions_csv
from playground.rag.retrieval import RetrievalSettings
from playground.services import Services


def _chunking(size, overlap, unit) -> ChunkSettings:
    return ChunkSettings(int(size), int(overlap), unit)


def _retrieval(top_k, weight, threshold) -> RetrievalSettings:
    return RetrievalSettings(int(top_k), float(weight), float(threshold))


class DocumentsController:
    """The tab's handlers: each reads its inputs, calls the documents (or evaluation) service
    and formats the result. Long actions receive the Stop token as their last input."""

    def __init__(self, services: Services, run: StoppableRun):
        self.docs = services.documents
        self.evaluation = EvaluationService(services.documents)
        self.registry = services.registry  # only for the "Loading <model> (first use, ~N s)…" line
        self.run = run

    # ---- what the tables and pickers show ----------------------------------------------------
    def collection_choices(self) -> list[tuple[str, int]]:
        return views.collection_choices(self.docs.list_collections())

    def collection_picker(self, selected: int | None = None) -> gr.Dropdown:
        """Fresh collections, keeping the selection if it still exists, else the first one."""
        choices = self.collection_choices()
        ids = [cid for _, cid in choices]
        return gr.Dropdown(choices=choices, value=kept_value(ids, selected, ids[:1]))

    def document_rows(self, cid) -> list[list]:
        return views.rows(self.docs.list_documents(cid), DOC_HEADERS)

    def collection_info(self, cid) -> str:
        """The picked collection's embedder and language, as the bar under the picker shows them
        (nothing for a collection just deleted: the handler that deleted it says so)."""
        try:
            return views.collection_summary(self.docs.collection_view(cid)) if cid else ""
        except UserFacingError:
            return ""

    def saved_evaluations(self) -> list[list]:
        return views.rows(self.evaluation.list_evaluations(), SAVED_EVAL_HEADERS)

    def saved_questions(self) -> list[list]:
        return views.rows(self.docs.history(), HISTORY_HEADERS)

    # ---- checks: refusals shown next to the input before the work runs (see ui_errors.refusals) ----
    def check_collection(self, cid, *_rest):
        self.docs.get_collection(cid)

    def check_files(self, cid, files, *_rest):
        with refused_at(1):
            self.docs.check_upload_files(files)

    def check_upload(self, cid, files, *rest):
        self.check_files(cid, files)
        self.docs.get_collection(cid)

    def check_ask(self, cid, question, model_key, *_rest):
        with refused_at(2):
            self.docs.check_model(model_key)
        with refused_at(1):
            self.docs.check_question(cid, question)

    # ---- collections -------------------------------------------------------------------------
    @user_errors
    def refresh_collections(self, cid):
        return self.collection_picker(cid)

    @user_errors
    def show_collection(self, cid):
        view = self.docs.collection_view(cid)
        c = view.chunking
        return (
            c.size,
            c.overlap,
            c.unit,
            view.embed_model,
            view.embed_max_tokens,
            views.rows(view.documents, DOC_HEADERS),
            views.collection_summary(view) if cid else "",
        )

    @user_errors
    def create(self, name, size, overlap, unit, model, max_tokens):
        info = self.docs.create_collection(name, _chunking(size, overlap, unit), model, int(max_tokens))
        gr.Info(text("documents.created_toast", name=info.name))
        return self.collection_picker(info.id), ""

    @user_errors
    def rename(self, cid, name):
        info = self.docs.rename_collection(cid, name)
        gr.Info(text("documents.renamed_toast", name=info.name))
        return self.collection_picker(info.id), ""

    @user_errors
    def delete(self, cid, confirmed):
        gr.Info(say(self.docs.delete_collection(cid, bool(confirmed))))
        return self.collection_picker(None), False

    @user_errors
    def save_settings(self, cid, size, overlap, unit, model, max_tokens, confirmed, token, progress=gr.Progress()):
        with self.run.cancel_event(token) as cancel:
            message = self.docs.update_settings(
                cid,
                _chunking(size, overlap, unit),
                model,
                int(max_tokens),
                bool(confirmed),
                on_progress=progress_reporter(progress, None),
                cancel=cancel,
            )
        return message, False, self.document_rows(cid)

    # ---- files -------------------------------------------------------------------------------
    @user_errors
    def preview(self, cid, files):
        return views.rows(self.docs.preview(cid, files or []), PREVIEW_HEADERS)

    @user_errors
    def upload(self, cid, files, on_duplicate, token, progress=gr.Progress()):
        with self.run.cancel_event(token) as cancel:
            outcomes = self.docs.ingest(
                cid, files or [], on_duplicate, on_progress=progress_reporter(progress, None), cancel=cancel
            )
        failed = sum(o.status == "failed" for o in outcomes)
        if failed:
            gr.Warning(text("documents.failed_toast", failed=failed))
        return views.upload_report(outcomes), self.document_rows(cid), self.collection_picker(cid)

    @user_errors
    def delete_document(self, cid, doc_id):
        gr.Info(say(self.docs.delete_document(doc_id)))
        return self.document_rows(cid), self.collection_picker(cid)

    # ---- asking ------------------------------------------------------------------------------
    def _ask(
        self,
        cid,
        question,
        model_key,
        retrieval: RetrievalSettings,
        params: GenerationParams,
        token,
        with_without: bool,
    ) -> Iterator[tuple]:
        view = views.AskView(with_without)
        with self.run.cancel_event(token) as cancel:
            yield view.searching(self.registry.waiting_line(model_key or ""))
            for update in self.docs.ask(cid, question or "", model_key or "", retrieval, params, cancel, with_without):
                yield view.show(update)

    @user_errors
    def ask(self, cid, question, model_key, top_k, weight, threshold, max_tokens, temperature, token):
        params = GenerationParams(temperature=float(temperature), max_tokens=int(max_tokens), seed=0)
        yield from self._ask(cid, question, model_key, _retrieval(top_k, weight, threshold), params, token, False)

    @user_errors
    def ask_both(self, cid, question, model_key, top_k, weight, threshold, max_tokens, temperature, token):
        params = GenerationParams(temperature=float(temperature), max_tokens=int(max_tokens), seed=0)
        yield from self._ask(cid, question, model_key, _retrieval(top_k, weight, threshold), params, token, True)

    # ---- evaluation --------------------------------------------------------------------------
    @user_errors
    def load_csv(self, path):
        questions = parse_questions_csv(path)
        gr.Info(text("documents.loaded_toast", count=len(questions)))
        return views.question_rows(questions)

    @user_errors
    def generate(self, cid, model_key, count, token, progress=gr.Progress()):
        with self.run.cancel_event(token) as cancel:
            questions = self.evaluation.generate_questions(
                cid, model_key, int(count), on_progress=progress_reporter(progress, "questions"), cancel=cancel
            )
        gr.Info(text("documents.generated_toast", count=len(questions)))
        return views.question_rows(questions)

    @user_errors
    def run_evaluation(self, cid, table, top_k, weight, threshold):
        result = self.evaluation.evaluate(cid, clean_questions(table or []), _retrieval(top_k, weight, threshold))
        return views.evaluation_rows(result), views.evaluation_summary(result, int(top_k)), self.saved_evaluations()

    @user_errors
    def run_sweep(self, cid, table, sizes, top_ks, weight, token, progress=gr.Progress()):
        questions = clean_questions(table or [])
        with self.run.cancel_event(token) as cancel:
            result = self.evaluation.sweep(
                cid,
                questions,
                [int(s) for s in sizes or []],
                [int(k) for k in top_ks or []],
                float(weight),
                on_progress=progress_reporter(progress, "chunk sizes"),
                cancel=cancel,
            )
        return sweep_figure(result["grid"], result["unit"]), views.sweep_rows(result["grid"]), self.saved_evaluations()

    @user_errors
    def compare_weights(self, cid, table):
        result = self.evaluation.compare_weights(cid, clean_questions(table or []))
        return views.weights_summary(result), views.weights_rows(result["grid"]), self.saved_evaluations()

    # ---- history -----------------------------------------------------------------------------
    @user_errors
    def history(self, cid, only_this):
        return views.rows(self.docs.history(cid if only_this else None), HISTORY_HEADERS)

    @user_errors
    def history_detail(self, question_id):
        return views.question_detail_markdown(self.docs.question_detail(question_id))


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
    picker = ui.collections.picker
    # Other people (or tabs) create collections and models: list them afresh when the tab opens.
    return TabHandle(
        on_open=[
            Event(controller.refresh_collections, [picker], [picker]),
            refresh_pickers(services, [ui.ask.model, ui.evaluate.model]),
        ]
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
        [w.questions],
        api_name="rag_questions_generate",
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
