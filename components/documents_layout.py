"""The Documents tab's widgets: the collection bar, then Files, Ask, Evaluate and Question history.

Only layout lives here; ``components.documents_tab`` wires the handlers to these widgets.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import gradio as gr

from components.widgets import model_picker
from playground.rag.config import DEFAULT_CHUNK_OVERLAP, DEFAULT_CHUNK_SIZE, DEFAULT_EMBED_MAX_TOKENS, EMBED_MODEL_NAME
from playground.rag.embedding import EMBED_MODELS
from playground.rag.evaluation import SWEEP_SIZES, SWEEP_TOP_KS
from playground.services import Services

PREVIEW_HEADERS = ["file", "format", "pages", "characters", "headings", "notes"]
DOC_HEADERS = ["id", "file", "version", "status", "format", "pages", "chunks", "characters", "warnings", "added"]
QUESTION_HEADERS = ["question", "expected_file", "expected_page", "keep"]
EVAL_HEADERS = ["question", "expected_file", "expected_page", "precision", "recall", "ndcg", "retrieved"]
SWEEP_HEADERS = ["chunk_size", "top_k", "chunks", "precision", "recall", "ndcg"]
HISTORY_HEADERS = ["id", "when", "collection", "question", "model", "mode", "sources", "cited", "answer"]
SAVED_EVAL_HEADERS = ["id", "when", "collection", "kind", "questions", "summary"]
FILE_TYPES = [".pdf", ".docx", ".txt", ".md", ".markdown", ".html", ".htm", ".csv"]


@dataclass
class CollectionWidgets:
    picker: gr.Dropdown
    refresh: gr.Button
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
    saved_evaluations: Callable[[], list[list]],
    saved_questions: Callable[[], list[list]],
) -> DocumentsLayout:
    """Every widget of the tab. The two callables fill their tables on each page load."""
    gr.Markdown(
        "Upload files into a collection, ask questions, and get answers that cite the passages used. Hover a [n] to see its source."
    )
    collections = _collection_bar(collection_choices)
    with gr.Tabs():
        with gr.Tab("Files", id="rag-files"):
            files = _files_tab()
        with gr.Tab("Ask", id="rag-ask"):
            ask = _ask_tab(services)
        with gr.Tab("Evaluate", id="rag-evaluate"):
            evaluate = _evaluate_tab(services, saved_evaluations)
        with gr.Tab("Question history", id="rag-history"):
            history = _history_tab(saved_questions)
    return DocumentsLayout(collections, files, ask, evaluate, history)


def _collection_bar(choices: list[tuple[str, int]]) -> CollectionWidgets:
    with gr.Row():
        picker = gr.Dropdown(
            label="Collection",
            scale=3,
            elem_id="rag-collection",
            choices=choices,
            value=choices[0][1] if choices else None,
        )
        refresh = gr.Button("Refresh", scale=1)
    with gr.Accordion("New, rename, delete, settings", open=not choices):
        with gr.Row():
            name = gr.Textbox(label="Name", placeholder="e.g. HR policies", elem_id="rag-new-name", scale=3)
            create = gr.Button("Create collection", variant="primary", elem_id="rag-create", scale=1)
            rename = gr.Button("Rename selected", scale=1)
        with gr.Row():
            chunk_size = gr.Number(value=DEFAULT_CHUNK_SIZE, precision=0, label="Chunk size")
            chunk_overlap = gr.Number(value=DEFAULT_CHUNK_OVERLAP, precision=0, label="Overlap")
            chunk_unit = gr.Radio([("characters", "chars"), ("tokens", "tokens")], value="chars", label="Measured in")
            embed_model = gr.Dropdown(list(EMBED_MODELS), value=EMBED_MODEL_NAME, label="Embedding model")
            embed_max = gr.Slider(
                16, 512, value=DEFAULT_EMBED_MAX_TOKENS, step=16, label="Embedding input limit (tokens)"
            )
        with gr.Row():
            reindex_ok = gr.Checkbox(label="Re-index now (needed when the collection already has files)", value=False)
            save = gr.Button("Save settings of selected")
            delete_ok = gr.Checkbox(label="Yes, delete it", value=False)
            delete = gr.Button("Delete selected collection", variant="stop")
        settings_msg = gr.Markdown()
    return CollectionWidgets(
        picker,
        refresh,
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
    files = gr.File(
        label="PDF, DOCX, TXT, Markdown, HTML or CSV", file_count="multiple", file_types=FILE_TYPES, elem_id="rag-files"
    )
    with gr.Row():
        duplicates = gr.Radio(
            [("skip", "skip"), ("replace (re-index)", "replace")],
            value="skip",
            label="When a file with the same content is already there",
        )
        preview = gr.Button("Preview")
        upload = gr.Button("Upload and index", variant="primary", elem_id="rag-upload")
        stop = gr.Button("Stop", elem_id="rag-upload-stop")
    preview_table = gr.Dataframe(headers=PREVIEW_HEADERS, interactive=False, wrap=True, label="Preview")
    upload_result = gr.Markdown(elem_id="rag-upload-result")
    docs_table = gr.Dataframe(
        headers=DOC_HEADERS, interactive=False, wrap=True, label="Files in this collection", elem_id="rag-docs"
    )
    with gr.Row():
        doc_id = gr.Number(label="File id to remove", precision=0, value=None)
        doc_delete = gr.Button("Remove file", variant="stop")
    return FilesWidgets(
        files, duplicates, preview, upload, stop, preview_table, upload_result, docs_table, doc_id, doc_delete
    )


def _ask_tab(services: Services) -> AskWidgets:
    with gr.Row():
        model = model_picker(services, "Model", scale=2, elem_id="rag-model")
        top_k = gr.Slider(1, 20, value=4, step=1, label="Top-k")
        weight = gr.Slider(0, 1, value=0.3, step=0.05, label="Keyword weight (0 = meaning only, 1 = words only)")
        threshold = gr.Slider(0, 1, value=0.0, step=0.01, label="Score threshold")
    with gr.Row():
        cap = min(1024, services.settings.max_tokens)  # the server lowers anything above it anyway
        max_tokens = gr.Slider(16, cap, value=min(200, cap), step=1, label="Max tokens")
        temperature = gr.Slider(0, 1.5, value=0.2, step=0.05, label="Temperature")
    question = gr.Textbox(
        label="Question", lines=2, elem_id="rag-question", placeholder="e.g. How many days of holiday do staff get?"
    )
    with gr.Row():
        ask = gr.Button("Ask", variant="primary", elem_id="rag-ask")
        both = gr.Button("With vs without documents", elem_id="rag-both")
        stop = gr.Button("Stop")
    with gr.Row():
        with gr.Column():
            gr.Markdown("**With documents**")
            answer = gr.Markdown(elem_id="rag-answer")
            figures = gr.Markdown(elem_id="rag-figures")
        with gr.Column():
            gr.Markdown("**Without documents**")
            without = gr.Markdown("—", elem_id="rag-without")
    with gr.Accordion("Sources", open=True):
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


def _evaluate_tab(services: Services, saved_evaluations: Callable[[], list[list]]) -> EvaluateWidgets:
    gr.Markdown(
        "Questions with the file (and optionally page) that should be retrieved. Load a CSV, or let a model write questions from sampled chunks, then check them: set keep to no for any you reject."
    )
    with gr.Row():
        csv = gr.File(label="CSV: question, expected_file, expected_page", file_types=[".csv"])
        load = gr.Button("Load CSV")
    with gr.Row():
        model = model_picker(services, "Model that writes questions")
        count = gr.Number(value=5, precision=0, label="How many")
        generate = gr.Button("Generate questions")
    questions = gr.Dataframe(
        headers=QUESTION_HEADERS,
        type="array",
        interactive=True,
        wrap=True,
        label="Questions (editable)",
        column_count=4,
    )
    with gr.Row():
        evaluate = gr.Button("Evaluate with current settings", variant="primary")
        stop = gr.Button("Stop")
    summary = gr.Markdown()
    table = gr.Dataframe(headers=EVAL_HEADERS, interactive=False, wrap=True, label="Per question")
    with gr.Row():
        sweep_sizes = gr.CheckboxGroup(
            [str(s) for s in SWEEP_SIZES], value=[str(s) for s in SWEEP_SIZES], label="Chunk sizes to try"
        )
        sweep_ks = gr.CheckboxGroup(
            [str(k) for k in SWEEP_TOP_KS], value=[str(k) for k in SWEEP_TOP_KS], label="Top-k values"
        )
        sweep = gr.Button("Run sweep")
    sweep_plot = gr.Plot(label="Sweep")
    sweep_table = gr.Dataframe(headers=SWEEP_HEADERS, interactive=False, label="Sweep results")
    saved = gr.Dataframe(
        value=saved_evaluations, headers=SAVED_EVAL_HEADERS, interactive=False, label="Saved evaluations"
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
        saved,
    )


def _history_tab(saved_questions: Callable[[], list[list]]) -> HistoryWidgets:
    with gr.Row():
        only_this = gr.Checkbox(label="Only the selected collection", value=False)
        refresh = gr.Button("Refresh")
    table = gr.Dataframe(
        value=saved_questions, headers=HISTORY_HEADERS, interactive=False, wrap=True, elem_id="rag-history"
    )
    with gr.Row():
        question_id = gr.Number(label="Question id", precision=0, value=None)
        show = gr.Button("Show")
    view = gr.Markdown()
    return HistoryWidgets(only_this, refresh, table, question_id, show, view)
