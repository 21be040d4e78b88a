"""The Documents tab's handlers: one controller whose methods the tab's events call
(``components.documents_tab`` wires them; ``components.documents_views`` formats for them)."""

from __future__ import annotations

from collections.abc import Iterator

import gradio as gr

from components import documents_views as views
from components.documents_layout import (
    DOC_HEADERS,
    EVAL_HEADERS,
    HISTORY_HEADERS,
    OPEN_EMPTY,
    PREVIEW_HEADERS,
    QUESTION_HEADERS,
    SAVED_EVAL_HEADERS,
    SWEEP_HEADERS,
    WEIGHTS_HEADERS,
)
from components.i18n import request_language, say, text
from components.ui_errors import refused_at, user_errors
from components.widgets import (
    StoppableRun,
    kept_value,
    progress_reporter,
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

    # ---- what the tables and pickers show (each table with its headers in the reader's language) ----
    def collection_choices(self) -> list[tuple[str, int]]:
        return views.collection_choices(self.docs.list_collections())

    def collection_picker(self, selected: int | None = None) -> gr.Dropdown:
        """Fresh collections, keeping the selection if it still exists, else the first one."""
        choices = self.collection_choices()
        ids = [cid for _, cid in choices]
        return gr.Dropdown(choices=choices, value=kept_value(ids, selected, ids[:1]))

    def document_table(self, cid) -> dict:
        return views.listing(self.docs.list_documents(cid), DOC_HEADERS)

    def collection_info(self, cid) -> str:
        """The picked collection's embedder and language, as the bar under the picker shows them
        (nothing for a collection just deleted: the handler that deleted it says so)."""
        try:
            return views.collection_summary(self.docs.collection_view(cid)) if cid else ""
        except UserFacingError:
            return ""

    def saved_evaluations(self) -> dict:
        return views.listing(self.evaluation.list_evaluations(), SAVED_EVAL_HEADERS)

    def saved_questions(self) -> dict:
        return views.listing(self.docs.history(), HISTORY_HEADERS)

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
    def load_page(self, cid):
        """On page load: the picker's choices, the summary bar, the picked collection's files and
        the empty tables' headers in the reader's language (the page was built once, in English,
        before any reader came)."""
        choices = self.collection_choices()
        ids = [choice_id for _, choice_id in choices]
        picked = kept_value(ids, cid, ids[:1])
        empty = (views.table([], headers) for headers in OPEN_EMPTY)
        return (
            gr.Dropdown(choices=choices, value=picked),
            self.collection_info(picked),
            self.document_table(picked),
            *empty,
        )

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
            views.listing(view.documents, DOC_HEADERS),
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
        return say(message), False, self.document_table(cid)

    # ---- files -------------------------------------------------------------------------------
    @user_errors
    def preview(self, cid, files):
        return views.listing(self.docs.preview(cid, files or []), PREVIEW_HEADERS)

    @user_errors
    def upload(self, cid, files, on_duplicate, token, progress=gr.Progress()):
        with self.run.cancel_event(token) as cancel:
            outcomes = self.docs.ingest(
                cid, files or [], on_duplicate, on_progress=progress_reporter(progress, None), cancel=cancel
            )
        failed = sum(o.status == "failed" for o in outcomes)
        if failed:
            gr.Warning(text("documents.failed_toast", failed=failed))
        return views.upload_report(outcomes), self.document_table(cid), self.collection_picker(cid)

    @user_errors
    def delete_document(self, cid, doc_id):
        gr.Info(say(self.docs.delete_document(doc_id)))
        return self.document_table(cid), self.collection_picker(cid)

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
        return views.table(views.question_rows(questions), QUESTION_HEADERS)

    @user_errors
    def generate(self, cid, model_key, count, token, progress=gr.Progress()):
        """The questions written, and a status line: how many, or that Stop ended it after how many."""
        with self.run.cancel_event(token) as cancel:
            questions = self.evaluation.generate_questions(
                cid,
                model_key,
                int(count),
                on_progress=progress_reporter(progress, text("documents.unit_questions")),
                cancel=cancel,
            )
            stopped = cancel.is_set()
        said = text("documents.generate_stopped" if stopped else "documents.generated_toast", count=len(questions))
        if not stopped:
            gr.Info(said)
        return views.table(views.question_rows(questions), QUESTION_HEADERS), said

    @user_errors
    def run_evaluation(self, cid, table, top_k, weight, threshold):
        result = self.evaluation.evaluate(cid, clean_questions(table or []), _retrieval(top_k, weight, threshold))
        rows = views.table(views.evaluation_rows(result), EVAL_HEADERS)
        return rows, views.evaluation_summary(result, int(top_k)), self.saved_evaluations()

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
                on_progress=progress_reporter(progress, text("documents.unit_chunk_sizes")),
                cancel=cancel,
            )
        figure = sweep_figure(result["grid"], result["unit"], request_language())
        return figure, views.table(views.sweep_rows(result["grid"]), SWEEP_HEADERS), self.saved_evaluations()

    @user_errors
    def compare_weights(self, cid, table):
        result = self.evaluation.compare_weights(cid, clean_questions(table or []))
        grid = views.table(views.weights_rows(result["grid"]), WEIGHTS_HEADERS)
        return views.weights_summary(result), grid, self.saved_evaluations()

    # ---- history -----------------------------------------------------------------------------
    @user_errors
    def history(self, cid, only_this):
        return views.listing(self.docs.history(cid if only_this else None), HISTORY_HEADERS)

    @user_errors
    def history_detail(self, question_id):
        return views.question_detail_markdown(self.docs.question_detail(question_id))
