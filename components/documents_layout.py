"""The Documents tab's widgets: the collection bar, then Files, Ask, Evaluate and Question history.

Only layout lives here; ``components.documents_tab`` wires the handlers to these widgets.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import gradio as gr

from components.i18n import L
from components.language_widgets import language_note, wire_language_note
from components.widgets import model_picker
from playground.rag.config import (
    DEFAULT_CHUNK_OVERLAP,
    DEFAULT_CHUNK_SIZE,
    DEFAULT_EMBED_MAX_TOKENS,
    EMBED_MODEL_NAME,
    MULTILINGUAL_EMBED_MODEL_NAME,
)
from playground.rag.embedder_choice import AUTO
from playground.rag.evaluation import SWEEP_SIZES, SWEEP_TOP_KS
from playground.rag.retrieval import DEFAULT_KEYWORD_WEIGHT
from playground.services import Services

PREVIEW_HEADERS = ["file", "format", "pages", "characters", "headings", "notes"]
DOC_HEADERS = ["id", "file", "version", "status", "format", "pages", "chunks", "characters", "warnings", "added"]
QUESTION_HEADERS = ["question", "expected_file", "expected_page", "keep"]
EVAL_HEADERS = ["question", "expected_file", "expected_page", "precision", "recall", "ndcg", "retrieved"]
SWEEP_HEADERS = ["chunk_size", "top_k", "chunks", "precision", "recall", "ndcg"]
WEIGHTS_HEADERS = ["fusion", "keyword_weight", "top_k", "precision", "recall", "ndcg"]
HISTORY_HEADERS = ["id", "when", "collection", "question", "model", "mode", "sources", "cited", "answer"]
SAVED_EVAL_HEADERS = ["id", "when", "collection", "kind", "questions", "summary"]
# The tables a page opens empty, in the order the page load fills in their headers.
OPEN_EMPTY = (PREVIEW_HEADERS, QUESTION_HEADERS, EVAL_HEADERS, SWEEP_HEADERS, WEIGHTS_HEADERS)
FILE_TYPES = [".pdf", ".docx", ".txt", ".md", ".markdown", ".html", ".htm", ".csv"]


EMBEDDER_CHOICES = [
    (L("documents.embedder_auto"), AUTO),
    (L("documents.embedder_minilm"), EMBED_MODEL_NAME),
    (L("documents.embedder_e5"), MULTILINGUAL_EMBED_MODEL_NAME),
]


@dataclass
class CollectionWidgets:
    picker: gr.Dropdown
    refresh: gr.Button
    info: gr.Markdown
    name: gr.Textbox
    create: gr.Button
    rename: gr.Button
    chunk_size: gr.Number
    chunk_overlap: gr.Number
    chunk_unit: gr.Radio
    embed_model: gr.Dropdown
    embed_max: gr.Slider
    reindex_ok: gr.Checkbox
    save: gr.Button
    delete_ok: gr.Checkbox
    delete: gr.Button
    settings_msg: gr.Markdown

    @property
    def settings(self) -> list[Any]:
        """The chunking and embedding inputs, in the order the service takes them."""
        return [self.chunk_size, self.chunk_overlap, self.chunk_unit, self.embed_model, self.embed_max]


@dataclass
class FilesWidgets:
    files: gr.File
    duplicates: gr.Radio
    preview: gr.Button
    upload: gr.Button
    stop: gr.Button
    preview_table: gr.Dataframe
    upload_result: gr.Markdown
    docs_table: gr.Dataframe
    doc_id: gr.Number
    doc_delete: gr.Button


@dataclass
class AskWidgets:
    model: gr.Dropdown
    top_k: gr.Slider
    weight: gr.Slider
    threshold: gr.Slider
    max_tokens: gr.Slider
    temperature: gr.Slider
    question: gr.Textbox
    ask: gr.Button
    both: gr.Button
    stop: gr.Button
    answer: gr.Markdown
    figures: gr.Markdown
    without: gr.Markdown
    sources: gr.Markdown

    @property
    def retrieval(self) -> list[Any]:
        return [self.top_k, self.weight, self.threshold]


@dataclass
class EvaluateWidgets:
    csv: gr.File
    load: gr.Button
    model: gr.Dropdown
    count: gr.Number
    generate: gr.Button
    questions: gr.Dataframe
    evaluate: gr.Button
    stop: gr.Button
    summary: gr.Markdown
    table: gr.Dataframe
    sweep_sizes: gr.CheckboxGroup
    sweep_ks: gr.CheckboxGroup
    sweep: gr.Button
    sweep_plot: gr.Plot
    sweep_table: gr.Dataframe
    weights: gr.Button
    weights_summary: gr.Markdown
    weights_table: gr.Dataframe
    saved: gr.Dataframe


@dataclass
class HistoryWidgets:
    only_this: gr.Checkbox
    refresh: gr.Button
    table: gr.Dataframe
    question_id: gr.Number
    show: gr.Button
    view: gr.Markdown


@dataclass
class DocumentsLayout:
    collections: CollectionWidgets
    files: FilesWidgets
    ask: AskWidgets
    evaluate: EvaluateWidgets
    history: HistoryWidgets


def documents_layout(
    services: Services,
    collection_choices: list[tuple[str, int]],
    saved_evaluations: Callable[[], dict],
    saved_questions: Callable[[], dict],
) -> DocumentsLayout:
    """Every widget of the tab. The two callables fill their tables on each page load."""
    gr.Markdown(L("documents.intro"))
    collections = _collection_bar(collection_choices)
    with gr.Tabs():
        with gr.Tab(L("documents.tab_files"), id="rag-files"):
            files = _files_tab()
        with gr.Tab(L("documents.tab_ask"), id="rag-ask"):
            ask = _ask_tab(services)
        with gr.Tab(L("documents.tab_evaluate"), id="rag-evaluate"):
            evaluate = _evaluate_tab(services, saved_evaluations)
        with gr.Tab(L("documents.tab_history"), id="rag-history"):
            history = _history_tab(saved_questions)
    return DocumentsLayout(collections, files, ask, evaluate, history)


def _collection_bar(choices: list[tuple[str, int]]) -> CollectionWidgets:
    with gr.Row():
        picker = gr.Dropdown(
            label=L("documents.collection"),
            scale=3,
            elem_id="rag-collection",
            choices=choices,
            value=choices[0][1] if choices else None,
        )
        refresh = gr.Button(L("documents.refresh"), scale=1)
    info = gr.Markdown(elem_id="rag-collection-info")
    with gr.Accordion(L("documents.manage_accordion"), open=not choices):
        with gr.Row():
            name = gr.Textbox(
                label=L("documents.name"), placeholder=L("documents.name_placeholder"), elem_id="rag-new-name", scale=3
            )
            create = gr.Button(L("documents.create"), variant="primary", elem_id="rag-create", scale=1)
            rename = gr.Button(L("documents.rename"), scale=1)
        with gr.Row():
            chunk_size = gr.Number(value=DEFAULT_CHUNK_SIZE, precision=0, label=L("documents.chunk_size"))
            chunk_overlap = gr.Number(value=DEFAULT_CHUNK_OVERLAP, precision=0, label=L("documents.overlap"))
            chunk_unit = gr.Radio(
                [(L("documents.unit_characters"), "chars"), (L("documents.unit_tokens"), "tokens")],
                value="chars",
                label=L("documents.measured_in"),
            )
            embed_model = gr.Dropdown(
                EMBEDDER_CHOICES,
                value=AUTO,
                label=L("documents.embed_model"),
                info=L("documents.embed_model_info"),
                elem_id="rag-embedder",
            )
            embed_max = gr.Slider(16, 512, value=DEFAULT_EMBED_MAX_TOKENS, step=16, label=L("documents.embed_max"))
        with gr.Row():
            reindex_ok = gr.Checkbox(label=L("documents.reindex_ok"), value=False)
            save = gr.Button(L("documents.save_settings"))
            delete_ok = gr.Checkbox(label=L("documents.delete_ok"), value=False)
            delete = gr.Button(L("documents.delete_collection"), variant="stop")
        settings_msg = gr.Markdown()
    return CollectionWidgets(
        picker,
        refresh,
        info,
        name,
        create,
        rename,
        chunk_size,
        chunk_overlap,
        chunk_unit,
        embed_model,
        embed_max,
        reindex_ok,
        save,
        delete_ok,
        delete,
        settings_msg,
    )


def _files_tab() -> FilesWidgets:
    files = gr.File(label=L("documents.file_types"), file_count="multiple", file_types=FILE_TYPES, elem_id="rag-files")
    with gr.Row():
        duplicates = gr.Radio(
            [(L("documents.duplicates_skip"), "skip"), (L("documents.duplicates_replace"), "replace")],
            value="skip",
            label=L("documents.duplicates"),
        )
        preview = gr.Button(L("documents.preview"))
        upload = gr.Button(L("documents.upload"), variant="primary", elem_id="rag-upload")
        stop = gr.Button(L("documents.stop"), elem_id="rag-upload-stop")
    preview_table = gr.Dataframe(
        headers=PREVIEW_HEADERS, interactive=False, wrap=True, label=L("documents.preview_table")
    )
    upload_result = gr.Markdown(elem_id="rag-upload-result")
    docs_table = gr.Dataframe(
        headers=DOC_HEADERS, interactive=False, wrap=True, label=L("documents.docs_table"), elem_id="rag-docs"
    )
    with gr.Row():
        doc_id = gr.Number(label=L("documents.doc_id"), precision=0, value=None)
        doc_delete = gr.Button(L("documents.doc_delete"), variant="stop")
    return FilesWidgets(
        files, duplicates, preview, upload, stop, preview_table, upload_result, docs_table, doc_id, doc_delete
    )


def _ask_tab(services: Services) -> AskWidgets:
    with gr.Row():
        model = model_picker(services, L("documents.model"), scale=2, elem_id="rag-model")
        top_k = gr.Slider(1, 20, value=4, step=1, label=L("documents.top_k"))
        weight = gr.Slider(0, 1, value=DEFAULT_KEYWORD_WEIGHT, step=0.05, label=L("documents.keyword_weight"))
        threshold = gr.Slider(0, 1, value=0.0, step=0.01, label=L("documents.threshold"))
    with gr.Row():
        cap = min(1024, services.settings.max_tokens)  # the server lowers anything above it anyway
        max_tokens = gr.Slider(16, cap, value=min(200, cap), step=1, label=L("documents.max_tokens"))
        temperature = gr.Slider(0, 1.5, value=0.2, step=0.05, label=L("documents.temperature"))
    question = gr.Textbox(
        label=L("documents.question"), lines=2, elem_id="rag-question", placeholder=L("documents.question_placeholder")
    )
    wire_language_note(services, language_note("rag-language-note"), [question], [model])
    with gr.Row():
        ask = gr.Button(L("documents.ask"), variant="primary", elem_id="rag-ask")
        both = gr.Button(L("documents.both"), elem_id="rag-both")
        stop = gr.Button(L("documents.stop"))
    with gr.Row():
        with gr.Column():
            gr.Markdown(L("documents.with_heading"))
            answer = gr.Markdown(elem_id="rag-answer")
            figures = gr.Markdown(elem_id="rag-figures")
        with gr.Column():
            gr.Markdown(L("documents.without_heading"))
            without = gr.Markdown("—", elem_id="rag-without")
    with gr.Accordion(L("documents.sources"), open=True):
        sources = gr.Markdown(elem_id="rag-sources")
    return AskWidgets(
        model,
        top_k,
        weight,
        threshold,
        max_tokens,
        temperature,
        question,
        ask,
        both,
        stop,
        answer,
        figures,
        without,
        sources,
    )


def _sweep_row() -> tuple[gr.CheckboxGroup, gr.CheckboxGroup, gr.Button]:
    """The chunk sizes and top-k values a sweep tries (all ticked at first), and its button."""
    with gr.Row():
        sweep_sizes = gr.CheckboxGroup(
            [str(s) for s in SWEEP_SIZES], value=[str(s) for s in SWEEP_SIZES], label=L("documents.sweep_sizes")
        )
        sweep_ks = gr.CheckboxGroup(
            [str(k) for k in SWEEP_TOP_KS], value=[str(k) for k in SWEEP_TOP_KS], label=L("documents.sweep_ks")
        )
        sweep = gr.Button(L("documents.run_sweep"))
    return sweep_sizes, sweep_ks, sweep


def _evaluate_tab(services: Services, saved_evaluations: Callable[[], dict]) -> EvaluateWidgets:
    gr.Markdown(L("documents.evaluate_intro_keep"))
    with gr.Row():
        csv = gr.File(label=L("documents.eval_csv"), file_types=[".csv"])
        load = gr.Button(L("documents.load_csv"))
    with gr.Row():
        model = model_picker(services, L("documents.question_writer"))
        count = gr.Number(value=5, precision=0, label=L("documents.how_many"))
        generate = gr.Button(L("documents.generate"))
    questions = gr.Dataframe(
        headers=QUESTION_HEADERS,
        type="array",
        interactive=True,
        wrap=True,
        label=L("documents.questions_table"),
        column_count=4,
    )
    with gr.Row():
        evaluate = gr.Button(L("documents.evaluate"), variant="primary")
        stop = gr.Button(L("documents.stop"))
    summary = gr.Markdown()
    table = gr.Dataframe(headers=EVAL_HEADERS, interactive=False, wrap=True, label=L("documents.per_question"))
    sweep_sizes, sweep_ks, sweep = _sweep_row()
    sweep_plot = gr.Plot(label=L("documents.sweep_plot"))
    sweep_table = gr.Dataframe(headers=SWEEP_HEADERS, interactive=False, label=L("documents.sweep_table"))
    with gr.Row():
        gr.Markdown(L("documents.weights_intro"))
        weights = gr.Button(L("documents.compare_weights"), elem_id="rag-compare-weights")
    weights_summary = gr.Markdown(elem_id="rag-weights-summary")
    weights_table = gr.Dataframe(headers=WEIGHTS_HEADERS, interactive=False, label=L("documents.weights_table"))
    saved = gr.Dataframe(
        value=saved_evaluations, headers=SAVED_EVAL_HEADERS, interactive=False, label=L("documents.saved_evaluations")
    )
    return EvaluateWidgets(
        csv,
        load,
        model,
        count,
        generate,
        questions,
        evaluate,
        stop,
        summary,
        table,
        sweep_sizes,
        sweep_ks,
        sweep,
        sweep_plot,
        sweep_table,
        weights,
        weights_summary,
        weights_table,
        saved,
    )


def _history_tab(saved_questions: Callable[[], dict]) -> HistoryWidgets:
    with gr.Row():
        only_this = gr.Checkbox(label=L("documents.only_this"), value=False)
        refresh = gr.Button(L("documents.refresh"))
    table = gr.Dataframe(
        value=saved_questions, headers=HISTORY_HEADERS, interactive=False, wrap=True, elem_id="rag-history"
    )
    with gr.Row():
        question_id = gr.Number(label=L("documents.question_id"), precision=0, value=None)
        show = gr.Button(L("documents.show"))
    view = gr.Markdown()
    return HistoryWidgets(only_this, refresh, table, question_id, show, view)
