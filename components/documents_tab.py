"""Documents tab (RAG): collections, uploads with preview, cited answers, evaluation, history."""

from __future__ import annotations

import gradio as gr

from components.ui_errors import user_errors
from components.models_tab import _picker_kwargs
from playground.formatting import format_usage
from playground.models.types import GenerationParams
from playground.rag.answering import answer_markdown, sources_markdown
from playground.rag.chunking import ChunkSettings
from playground.rag.charts import sweep_figure
from playground.rag.config import DEFAULT_CHUNK_OVERLAP, DEFAULT_CHUNK_SIZE, DEFAULT_EMBED_MAX_TOKENS, EMBED_MODEL_NAME
from playground.rag.embedding import EMBED_MODELS
from playground.rag.evaluation import SWEEP_SIZES, SWEEP_TOP_KS, EvaluationService, clean_questions, parse_questions_csv
from playground.rag.retrieval import RetrievalSettings
from playground.services import Services

PREVIEW_HEADERS = ["file", "format", "pages", "characters", "headings", "notes"]
DOC_HEADERS = ["id", "file", "version", "status", "format", "pages", "chunks", "characters", "warnings", "added"]
QUESTION_HEADERS = ["question", "expected_file", "expected_page", "keep"]
EVAL_HEADERS = ["question", "expected_file", "expected_page", "precision", "recall", "ndcg", "retrieved"]
HISTORY_HEADERS = ["id", "when", "collection", "question", "model", "mode", "sources", "cited", "answer"]
SAVED_EVAL_HEADERS = ["id", "when", "collection", "kind", "questions", "summary"]
ICONS = {"indexed": "✅", "skipped": "⏭️", "failed": "❌", "cancelled": "⏹️"}


def _rows(dicts: list[dict], headers: list[str]) -> list[list]:
    return [[d.get(h, "") for h in headers] for d in dicts]


def build_documents_tab(services: Services) -> dict[str, gr.components.Component]:
    docs = services.documents
    evaluation = EvaluationService(docs)
    tokens = services.cancel_tokens

    def collection_choices() -> list[tuple[str, int]]:
        return [(f"{c.name} ({c.documents} files)", c.id) for c in docs.list_collections()]

    def picker(selected: int | None = None) -> gr.Dropdown:
        choices = collection_choices()
        ids = [cid for _, cid in choices]
        return gr.Dropdown(choices=choices, value=selected if selected in ids else (ids[0] if ids else None))

    def doc_rows(cid):
        return _rows(docs.list_documents(cid), DOC_HEADERS)

    # ---- collections ----------------------------------------------------------------
    @user_errors
    def refresh(cid):
        return picker(cid)

    @user_errors
    def refresh_models(key):
        return gr.Dropdown(**_picker_kwargs(services, key))

    @user_errors
    def show_collection(cid):
        if not cid:
            return DEFAULT_CHUNK_SIZE, DEFAULT_CHUNK_OVERLAP, "chars", EMBED_MODEL_NAME, DEFAULT_EMBED_MAX_TOKENS, []
        info = docs.get_collection(cid)
        c = info.chunking
        return c.size, c.overlap, c.unit, info.embed_model, info.embed_max_tokens, doc_rows(info.id)

    @user_errors
    def create(name, size, overlap, unit, model, max_tokens):
        info = docs.create_collection(name, ChunkSettings(int(size), int(overlap), unit), model, int(max_tokens))
        gr.Info(f"Created collection {info.name!r}.")
        return picker(info.id), ""

    @user_errors
    def rename(cid, name):
        info = docs.rename_collection(cid, name)
        gr.Info(f"Renamed to {info.name!r}.")
        return picker(info.id), ""

    @user_errors
    def delete(cid, confirmed):
        if not confirmed:
            raise gr.Error("Tick “Yes, delete it” first: deleting a collection removes all its files and chunks.")
        gr.Info(docs.delete_collection(cid))
        return picker(None), False

    @user_errors
    def save_settings(cid, size, overlap, unit, model, max_tokens, confirmed, token, progress=gr.Progress()):
        try:
            message = docs.update_settings(
                cid, ChunkSettings(int(size), int(overlap), unit), model, int(max_tokens), bool(confirmed),
                progress=lambda f, m: progress(f, desc=m), cancel=tokens.event(token) if token else None,
            )
        finally:
            tokens.release(token) if token else None
        return message, False, doc_rows(cid)

    # ---- files ------------------------------------------------------------------------
    @user_errors
    def preview(cid, files):
        return _rows(docs.preview(cid, files or []), PREVIEW_HEADERS)

    @user_errors
    def upload(cid, files, on_duplicate, token, progress=gr.Progress()):
        cancel = tokens.event(token) if token else None
        try:
            outcomes = docs.ingest(cid, files or [], on_duplicate, progress=lambda f, m: progress(f, desc=m), cancel=cancel)
        finally:
            tokens.release(token) if token else None
        lines = [f"{ICONS[o.status]} **{o.filename}** — {o.message}" for o in outcomes]
        failed = sum(o.status == "failed" for o in outcomes)
        if failed:
            gr.Warning(f"{failed} file(s) could not be indexed; see the list below.")
        return "\n\n".join(lines), doc_rows(cid), picker(cid)

    @user_errors
    def delete_document(cid, doc_id):
        if doc_id in (None, "") or int(doc_id) <= 0:
            raise gr.Error("Enter the id of the file to remove (the first column of the table).")
        gr.Info(docs.delete_document(int(doc_id)))
        return doc_rows(cid), picker(cid)

    def new_token() -> str:
        return tokens.new()

    def stop(token):
        tokens.cancel(token)

    # ---- asking --------------------------------------------------------------------------
    def _ask(cid, question, model_key, top_k, weight, threshold, max_tokens, temperature, token, with_without):
        settings = RetrievalSettings(int(top_k), float(weight), float(threshold))
        params = GenerationParams(temperature=float(temperature), max_tokens=int(max_tokens), seed=0)
        cancel = tokens.event(token) if token else None
        answer, figures, sources, without = "", "", "", "—" if not with_without else ""
        try:
            yield "", "Searching the documents…", "", without
            for u in docs.ask(cid, question or "", model_key or "", settings, params, cancel, with_without):
                status = "Answering…" if not u.done else (f"❌ {u.error}" if u.error else format_usage(u.usage))
                if u.phase == "with":
                    answer = answer_markdown(u.text, u.sources)
                    sources = sources_markdown(u.sources, u.citations)
                    if u.done:
                        cited = ", ".join(f"[{n}]" for n in u.citations) or "none"
                        bad = f" · ⚠️ cites missing source(s) {', '.join(f'[{n}]' for n in u.invalid_citations)}" if u.invalid_citations else ""
                        figures = f"{status} · cited {cited}{bad}"
                    else:
                        figures = status
                else:
                    without = u.text + ("" if not u.done else f"\n\n<small>{status}</small>")
                yield answer, figures, sources, without
        finally:
            tokens.release(token) if token else None

    @user_errors
    def ask(cid, question, model_key, top_k, weight, threshold, max_tokens, temperature, token):
        yield from _ask(cid, question, model_key, top_k, weight, threshold, max_tokens, temperature, token, False)

    @user_errors
    def ask_both(cid, question, model_key, top_k, weight, threshold, max_tokens, temperature, token):
        yield from _ask(cid, question, model_key, top_k, weight, threshold, max_tokens, temperature, token, True)

    # ---- evaluation -----------------------------------------------------------------------
    def question_rows(questions):
        return [[q.question, q.expected_file, q.expected_page if q.expected_page is not None else "", "yes"] for q in questions]

    @user_errors
    def load_csv(path):
        if not path:
            raise gr.Error("Choose a CSV file with columns question, expected_file and optionally expected_page.")
        questions = parse_questions_csv(path)
        gr.Info(f"Loaded {len(questions)} question(s). Untick (set keep to no) any you do not want.")
        return question_rows(questions)

    @user_errors
    def generate(cid, model_key, count, token, progress=gr.Progress()):
        try:
            questions = evaluation.generate_questions(cid, model_key, int(count), progress=lambda f, m: progress(f, desc=m), cancel=tokens.event(token) if token else None)
        finally:
            tokens.release(token) if token else None
        gr.Info(f"Generated {len(questions)} question(s). Read them, edit or set keep to no, then evaluate.")
        return question_rows(questions)

    @user_errors
    def run_evaluation(cid, table, top_k, weight, threshold):
        questions = clean_questions(table or [])
        result = evaluation.evaluate(cid, questions, RetrievalSettings(int(top_k), float(weight), float(threshold)))
        rows = [[r["question"], r["expected_file"], r["expected_page"] or "", round(r["precision"], 3), round(r["recall"], 3), round(r["ndcg"], 3), "; ".join(r["retrieved"])] for r in result["rows"]]
        avg = result["average"]
        summary = f"**Average over {len(rows)} question(s)** at k = {int(top_k)}: precision {avg['precision']:.3f} · recall {avg['recall']:.3f} · nDCG {avg['ndcg']:.3f} (saved)"
        return rows, summary, _rows(evaluation.list_evaluations(), SAVED_EVAL_HEADERS)

    @user_errors
    def run_sweep(cid, table, sizes, top_ks, weight, token, progress=gr.Progress()):
        questions = clean_questions(table or [])
        try:
            result = evaluation.sweep(
                cid, questions, [int(s) for s in sizes or []], [int(k) for k in top_ks or []], float(weight),
                progress=lambda f, m: progress(f, desc=m), cancel=tokens.event(token) if token else None,
            )
        finally:
            tokens.release(token) if token else None
        grid = result["grid"]
        rows = [[g["chunk_size"], g["top_k"], g["chunks"], round(g["precision"], 3), round(g["recall"], 3), round(g["ndcg"], 3)] for g in grid]
        unit = docs.get_collection(cid).chunking.unit
        return sweep_figure(grid, unit), rows, _rows(evaluation.list_evaluations(), SAVED_EVAL_HEADERS)

    # ---- history ---------------------------------------------------------------------------
    @user_errors
    def history(cid, only_this):
        return _rows(docs.history(cid if only_this else None), HISTORY_HEADERS)

    @user_errors
    def history_detail(question_id):
        if question_id in (None, "") or int(question_id) <= 0:
            raise gr.Error("Enter the id of a saved question (the first column).")
        q = docs.question_detail(int(question_id))
        parts = [f"### {q.question}", f"{q.created_at:%Y-%m-%d %H:%M} · {q.collection_name} · `{q.model_key}`", "**Answer with documents**", answer_markdown(q.answer, q.sources) or "_(empty)_"]
        if q.answer_without is not None:
            parts += ["**Answer without documents**", q.answer_without or "_(empty)_"]
        parts += ["**Sources given to the model**", sources_markdown(q.sources, q.citations)]
        return "\n\n".join(parts)

    # ---- layout ---------------------------------------------------------------------------
    gr.Markdown("Upload files into a collection, ask questions, and get answers that cite the passages used. Hover a [n] to see its source.")
    with gr.Row():
        coll_pick = gr.Dropdown(label="Collection", scale=3, elem_id="rag-collection", **_collection_kwargs(collection_choices()))
        coll_refresh = gr.Button("Refresh", scale=1)
    with gr.Accordion("New, rename, delete, settings", open=not collection_choices()):
        with gr.Row():
            coll_name = gr.Textbox(label="Name", placeholder="e.g. HR policies", elem_id="rag-new-name", scale=3)
            create_btn = gr.Button("Create collection", variant="primary", elem_id="rag-create", scale=1)
            rename_btn = gr.Button("Rename selected", scale=1)
        with gr.Row():
            chunk_size = gr.Number(value=DEFAULT_CHUNK_SIZE, precision=0, label="Chunk size")
            chunk_overlap = gr.Number(value=DEFAULT_CHUNK_OVERLAP, precision=0, label="Overlap")
            chunk_unit = gr.Radio([("characters", "chars"), ("tokens", "tokens")], value="chars", label="Measured in")
            embed_model = gr.Dropdown(list(EMBED_MODELS), value=EMBED_MODEL_NAME, label="Embedding model")
            embed_max = gr.Slider(16, 512, value=DEFAULT_EMBED_MAX_TOKENS, step=16, label="Embedding input limit (tokens)")
        with gr.Row():
            reindex_ok = gr.Checkbox(label="Re-index now (needed when the collection already has files)", value=False)
            save_btn = gr.Button("Save settings of selected")
            delete_ok = gr.Checkbox(label="Yes, delete it", value=False)
            delete_btn = gr.Button("Delete selected collection", variant="stop")
        settings_msg = gr.Markdown()
    token_state = gr.State("")

    with gr.Tabs():
        with gr.Tab("Files", id="rag-files"):
            files = gr.File(label="PDF, DOCX, TXT, Markdown, HTML or CSV", file_count="multiple", file_types=[".pdf", ".docx", ".txt", ".md", ".markdown", ".html", ".htm", ".csv"], elem_id="rag-files")
            with gr.Row():
                duplicates = gr.Radio([("skip", "skip"), ("replace (re-index)", "replace")], value="skip", label="When a file with the same content is already there")
                preview_btn = gr.Button("Preview")
                upload_btn = gr.Button("Upload and index", variant="primary", elem_id="rag-upload")
                upload_stop = gr.Button("Stop", elem_id="rag-upload-stop")
            preview_table = gr.Dataframe(headers=PREVIEW_HEADERS, interactive=False, wrap=True, label="Preview")
            upload_result = gr.Markdown(elem_id="rag-upload-result")
            docs_table = gr.Dataframe(headers=DOC_HEADERS, interactive=False, wrap=True, label="Files in this collection", elem_id="rag-docs")
            with gr.Row():
                doc_id = gr.Number(label="File id to remove", precision=0, value=None)
                doc_delete = gr.Button("Remove file", variant="stop")
        with gr.Tab("Ask", id="rag-ask"):
            with gr.Row():
                model_pick = gr.Dropdown(label="Model", scale=2, elem_id="rag-model", **_picker_kwargs(services))
                top_k = gr.Slider(1, 20, value=4, step=1, label="Top-k")
                weight = gr.Slider(0, 1, value=0.3, step=0.05, label="Keyword weight (0 = meaning only, 1 = words only)")
                threshold = gr.Slider(0, 1, value=0.0, step=0.01, label="Score threshold")
            with gr.Row():
                max_tokens = gr.Slider(16, 1024, value=200, step=1, label="Max tokens")
                temperature = gr.Slider(0, 1.5, value=0.2, step=0.05, label="Temperature")
            question = gr.Textbox(label="Question", lines=2, elem_id="rag-question", placeholder="e.g. How many days of holiday do staff get?")
            with gr.Row():
                ask_btn = gr.Button("Ask", variant="primary", elem_id="rag-ask")
                both_btn = gr.Button("With vs without documents", elem_id="rag-both")
                ask_stop = gr.Button("Stop")
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
        with gr.Tab("Evaluate", id="rag-evaluate"):
            gr.Markdown("Questions with the file (and optionally page) that should be retrieved. Load a CSV, or let a model write questions from sampled chunks, then check them: set keep to no for any you reject.")
            with gr.Row():
                eval_csv = gr.File(label="CSV: question, expected_file, expected_page", file_types=[".csv"])
                load_btn = gr.Button("Load CSV")
            with gr.Row():
                gen_model = gr.Dropdown(label="Model that writes questions", **_picker_kwargs(services))
                gen_count = gr.Number(value=5, precision=0, label="How many")
                gen_btn = gr.Button("Generate questions")
            questions_table = gr.Dataframe(headers=QUESTION_HEADERS, type="array", interactive=True, wrap=True, label="Questions (editable)", column_count=4)
            with gr.Row():
                eval_btn = gr.Button("Evaluate with current settings", variant="primary")
                eval_stop = gr.Button("Stop")
            eval_summary = gr.Markdown()
            eval_table = gr.Dataframe(headers=EVAL_HEADERS, interactive=False, wrap=True, label="Per question")
            with gr.Row():
                sweep_sizes = gr.CheckboxGroup([str(s) for s in SWEEP_SIZES], value=[str(s) for s in SWEEP_SIZES], label="Chunk sizes to try")
                sweep_ks = gr.CheckboxGroup([str(k) for k in SWEEP_TOP_KS], value=[str(k) for k in SWEEP_TOP_KS], label="Top-k values")
                sweep_btn = gr.Button("Run sweep")
            sweep_plot = gr.Plot(label="Sweep")
            sweep_table = gr.Dataframe(headers=["chunk_size", "top_k", "chunks", "precision", "recall", "ndcg"], interactive=False, label="Sweep results")
            saved_evals = gr.Dataframe(value=lambda: _rows(evaluation.list_evaluations(), SAVED_EVAL_HEADERS), headers=SAVED_EVAL_HEADERS, interactive=False, label="Saved evaluations")
        with gr.Tab("Question history", id="rag-history"):
            with gr.Row():
                only_this = gr.Checkbox(label="Only the selected collection", value=False)
                history_btn = gr.Button("Refresh")
            history_table = gr.Dataframe(value=lambda: _rows(docs.history(), HISTORY_HEADERS), headers=HISTORY_HEADERS, interactive=False, wrap=True, elem_id="rag-history")
            with gr.Row():
                history_id = gr.Number(label="Question id", precision=0, value=None)
                history_show = gr.Button("Show")
            history_view = gr.Markdown()

    # ---- events ------------------------------------------------------------------------------
    settings_outputs = [chunk_size, chunk_overlap, chunk_unit, embed_model, embed_max, docs_table]
    coll_refresh.click(refresh, [coll_pick], [coll_pick], api_name="rag_collections")
    # Other people (or tabs) create collections too: list them afresh whenever the picker is opened.
    coll_pick.focus(refresh, [coll_pick], [coll_pick], api_name=False, queue=False)
    # Models appear while the app runs (a finished Fine-tune job, a model added in Models): list them afresh too.
    for model_picker in (model_pick, gen_model):
        model_picker.focus(refresh_models, [model_picker], [model_picker], api_name=False, queue=False)
    coll_pick.change(show_collection, [coll_pick], settings_outputs, api_name="rag_collection_details")
    create_btn.click(create, [coll_name, chunk_size, chunk_overlap, chunk_unit, embed_model, embed_max], [coll_pick, coll_name], api_name="rag_create")
    rename_btn.click(rename, [coll_pick, coll_name], [coll_pick, coll_name], api_name="rag_rename")
    delete_btn.click(delete, [coll_pick, delete_ok], [coll_pick, delete_ok], api_name="rag_delete")
    save_btn.click(new_token, None, [token_state], queue=False, api_name=False).then(
        save_settings, [coll_pick, chunk_size, chunk_overlap, chunk_unit, embed_model, embed_max, reindex_ok, token_state], [settings_msg, reindex_ok, docs_table],
        api_name="rag_settings_save", concurrency_limit=1, concurrency_id="rag_indexing",
    )
    preview_btn.click(preview, [coll_pick, files], [preview_table], api_name="rag_preview", concurrency_limit=2)
    upload_btn.click(new_token, None, [token_state], queue=False, api_name=False).then(
        upload, [coll_pick, files, duplicates, token_state], [upload_result, docs_table, coll_pick],
        api_name="rag_upload", concurrency_limit=1, concurrency_id="rag_indexing",
    )
    for button in (upload_stop, ask_stop, eval_stop):
        button.click(stop, [token_state], None, queue=False, api_name="rag_stop" if button is upload_stop else False)
    doc_delete.click(delete_document, [coll_pick, doc_id], [docs_table, coll_pick], api_name="rag_document_delete")
    ask_inputs = [coll_pick, question, model_pick, top_k, weight, threshold, max_tokens, temperature, token_state]
    ask_outputs = [answer, figures, sources, without]
    for trigger, fn, name in ((ask_btn.click, ask, "rag_ask"), (question.submit, ask, False), (both_btn.click, ask_both, "rag_with_without")):
        trigger(new_token, None, [token_state], queue=False, api_name=False).then(fn, ask_inputs, ask_outputs, api_name=name, concurrency_limit=None)
    load_btn.click(load_csv, [eval_csv], [questions_table], api_name="rag_questions_csv")
    gen_btn.click(new_token, None, [token_state], queue=False, api_name=False).then(
        generate, [coll_pick, gen_model, gen_count, token_state], [questions_table], api_name="rag_questions_generate", concurrency_limit=None
    )
    eval_btn.click(run_evaluation, [coll_pick, questions_table, top_k, weight, threshold], [eval_table, eval_summary, saved_evals], api_name="rag_evaluate", concurrency_limit=2)
    sweep_btn.click(new_token, None, [token_state], queue=False, api_name=False).then(
        run_sweep, [coll_pick, questions_table, sweep_sizes, sweep_ks, weight, token_state], [sweep_plot, sweep_table, saved_evals],
        api_name="rag_sweep", concurrency_limit=1, concurrency_id="rag_indexing",
    )
    history_btn.click(history, [coll_pick, only_this], [history_table], api_name="rag_history")
    history_show.click(history_detail, [history_id], [history_view], api_name="rag_history_detail")
    return {"collection": coll_pick, "answer": answer, "sources": sources}


def _collection_kwargs(choices: list[tuple[str, int]]) -> dict:
    return {"choices": choices, "value": choices[0][1] if choices else None}
