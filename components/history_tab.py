"""History tab: every saved run — list, search, filter, read, reopen in Compare, re-run, delete, export."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import gradio as gr
import pandas as pd

from components.ui_errors import user_errors
from playground.compare.fanout import ColumnState
from playground.errors import UserFacingError
from playground.formatting import format_usage
from playground.history import KINDS, LIST_LIMIT, RerunUpdate
from playground.services import Services

if TYPE_CHECKING:
    from components.compare_tab import CompareHandles

HEADERS = ["Run", "When", "Kind", "Prompt", "Models", "Template", "Answers", "Errors", "Cost"]
ANY = ""


def _state_text(name: str, index: int, state: ColumnState) -> str:
    if state.status == "error":
        figures = f"❌ {state.error}"
    elif state.status in ("waiting", "running"):
        figures = "⏳ waiting for the model…" if not state.text else "✍️ answering…"
    else:
        figures = format_usage(state.usage) if state.usage else state.status
    return f"**Column {index + 1} · {name}**\n\n{state.text or ''}\n\n<small>{figures}</small>"


def build_history_tab(services: Services, compare: "CompareHandles | None" = None, host_tab: gr.Tab | None = None) -> None:
    """``host_tab``: the tab this is built in; the list refreshes whenever it is opened."""
    history, tokens = services.history, services.cancel_tokens

    def model_options(selected: str | None = ANY) -> dict[str, Any]:
        choices = [("Any model", ANY), *history.model_choices()]
        return {"choices": choices, "value": selected if selected in {key for _, key in choices} else ANY}

    def template_options(selected: str | None = ANY) -> dict[str, Any]:
        names = history.template_choices()
        return {"choices": [("Any template", ANY), *[(n, n) for n in names]], "value": selected if selected in names else ANY}

    def table(summaries) -> pd.DataFrame:
        return pd.DataFrame([s.row() for s in summaries], columns=HEADERS)

    def found_text(count: int) -> str:
        if not count:
            return "No saved runs match. Clear a filter, or make a run in Compare or Models first."
        more = f" (the newest {LIST_LIMIT} are shown; narrow the search to see older ones)" if count >= LIST_LIMIT else ""
        return f"{count} run(s) found{more}. Click a row to see it."

    def find(text, model_key, template_name, date_from, date_to, kinds):
        return history.search(text or "", model_key or None, template_name or None, date_from or "", date_to or "", list(kinds or []))

    # ---- handlers -------------------------------------------------------------------
    @user_errors
    def search(text, model_key, template_name, date_from, date_to, kinds):
        summaries = find(text, model_key, template_name, date_from, date_to, kinds)
        return table(summaries), found_text(len(summaries)), gr.Dropdown(**model_options(model_key)), gr.Dropdown(**template_options(template_name))

    @user_errors
    def show(run_id) -> str:
        return history.detail(run_id)

    def pick_row(evt: gr.SelectData):
        row = evt.row_value or []
        if not row or row[0] in (None, ""):
            return gr.skip(), gr.skip()
        run_id = int(row[0])
        try:
            return run_id, history.detail(run_id)
        except UserFacingError as err:  # e.g. the row was deleted meanwhile: say so in place
            return run_id, f"❌ {err}"

    @user_errors
    def reopen(run_id):
        if not run_id:
            raise gr.Error("Pick a run first: click a row in the list or type its id.")
        history.detail(run_id)  # a plain message for a missing run before touching Compare
        updates = list(compare.reopen(int(run_id)))
        if add_tabs:
            updates.append(gr.Tabs(selected=compare.tab_id))
        return updates

    def start_rerun() -> str:
        return tokens.new()

    def stop_rerun(token: str | None) -> None:
        tokens.cancel(token)

    @user_errors
    def rerun(run_id, token: str):
        cancel = tokens.event(token) if token else None
        try:
            last: RerunUpdate | None = None
            for update in history.rerun(run_id, cancel):
                last = update
                header = f"### Re-running run {int(run_id)} as new run {update.run_id}"
                body = [_state_text(update.column_names[i], i, s) for i, s in enumerate(update.states)]
                yield update.run_id, "\n\n".join([header, *body])
            if last is not None:
                yield last.run_id, history.detail(last.run_id)
        finally:
            if token:
                tokens.release(token)

    def ask_delete(run_id):
        if not run_id:
            raise gr.Error("Pick a run to delete first.")
        text = f"⚠️ Delete run **{int(run_id)}** and all its answers, figures and feedback? This cannot be undone."
        return gr.Group(visible=True), text

    @user_errors
    def delete(run_id, text, model_key, template_name, date_from, date_to, kinds):
        if not run_id:
            raise gr.Error("Pick a run to delete first.")
        count = history.delete([run_id])
        gr.Info(f"Deleted run {int(run_id)}." if count else f"Run {int(run_id)} was already gone.")
        summaries = find(text, model_key, template_name, date_from, date_to, kinds)
        return table(summaries), found_text(len(summaries)), None, "", gr.Group(visible=False)

    @user_errors
    def export(fmt, text, model_key, template_name, date_from, date_to, kinds):
        summaries = find(text, model_key, template_name, date_from, date_to, kinds)
        path = history.export([s.id for s in summaries], fmt or "jsonl")
        gr.Info(f"Exported {len(summaries)} run(s) to {path.name}.")
        return str(path)

    # ---- layout ---------------------------------------------------------------------
    gr.Markdown(
        "Every run is saved: prompt, template version, each column's settings, the answers, their figures and errors. "
        "Search and filter them, read one, put it back into Compare, run it again, delete or export."
    )
    with gr.Row():
        text_box = gr.Textbox(label="Search prompts and answers", placeholder="e.g. refund", scale=3, elem_id="history-text")
        kinds_box = gr.CheckboxGroup(list(KINDS), value=[], label="Kinds (none ticked = all)", scale=2, elem_id="history-kinds")
    with gr.Row():
        model_box = gr.Dropdown(label="Model", scale=2, elem_id="history-model", **model_options())
        template_box = gr.Dropdown(label="Template", scale=2, elem_id="history-template", **template_options())
        date_from = gr.Textbox(label="From (YYYY-MM-DD)", placeholder="2025-01-31", scale=1, elem_id="history-from")
        date_to = gr.Textbox(label="To (YYYY-MM-DD, included)", placeholder="2025-12-31", scale=1, elem_id="history-to")
        search_btn = gr.Button("Search", variant="primary", scale=1, elem_id="history-search")
    found = gr.Markdown(elem_id="history-found")
    results = gr.Dataframe(
        value=lambda: table(history.search()), headers=HEADERS, interactive=False, wrap=True, label="Saved runs (newest first)", elem_id="history-table"
    )
    with gr.Row():
        run_id = gr.Number(label="Run id", precision=0, value=None, scale=1, elem_id="history-run-id")
        show_btn = gr.Button("Show", scale=1, elem_id="history-show")
        reopen_btn = gr.Button("Reopen in Compare", scale=1, elem_id="history-reopen", interactive=compare is not None)
        rerun_btn = gr.Button("Re-run", scale=1, elem_id="history-rerun")
        stop_btn = gr.Button("Stop", scale=1, elem_id="history-stop")
        delete_btn = gr.Button("Delete…", variant="stop", scale=1, elem_id="history-delete")
    with gr.Group(visible=False, elem_id="history-confirm") as confirm_group:
        confirm_text = gr.Markdown()
        with gr.Row():
            confirm_yes = gr.Button("Yes, delete it", variant="stop", elem_id="history-delete-yes")
            confirm_no = gr.Button("Cancel", elem_id="history-delete-no")
    detail = gr.Markdown(elem_id="history-detail")
    with gr.Row():
        export_fmt = gr.Radio([("JSONL", "jsonl"), ("CSV", "csv")], value="jsonl", label="Export format", scale=1)
        export_btn = gr.Button("Export the runs listed", scale=1, elem_id="history-export")
        export_file = gr.File(label="Export", interactive=False, scale=2, elem_id="history-export-file")
    token_state = gr.State("")

    # ---- wiring ---------------------------------------------------------------------
    filters = [text_box, model_box, template_box, date_from, date_to, kinds_box]
    search_outputs = [results, found, model_box, template_box]
    search_btn.click(search, filters, search_outputs, api_name="history_search")
    text_box.submit(search, filters, search_outputs, api_name=False)
    if host_tab is not None:
        host_tab.select(search, filters, search_outputs, api_name=False)
    results.select(pick_row, None, [run_id, detail], api_name=False)
    show_btn.click(show, [run_id], [detail], api_name="history_detail")
    run_id.submit(show, [run_id], [detail], api_name=False)

    add_tabs = False
    if compare is not None:
        reopen_outputs = list(compare.outputs)
        if compare.tabs is not None and not any(c is compare.tabs for c in reopen_outputs):
            reopen_outputs.append(compare.tabs)
            add_tabs = True
        reopen_btn.click(reopen, [run_id], reopen_outputs, api_name="history_reopen")

    rerun_btn.click(start_rerun, None, [token_state], queue=False, api_name=False).then(
        rerun, [run_id, token_state], [run_id, detail], api_name="history_rerun", concurrency_limit=None
    ).then(search, filters, search_outputs, api_name=False)
    stop_btn.click(stop_rerun, [token_state], None, queue=False, api_name="history_rerun_stop")
    delete_btn.click(ask_delete, [run_id], [confirm_group, confirm_text], api_name=False, queue=False)
    confirm_no.click(lambda: gr.Group(visible=False), None, [confirm_group], api_name=False, queue=False)
    # A confirmation names one run: picking another withdraws it, so "Yes" never deletes a run it did not name.
    run_id.change(lambda: gr.Group(visible=False), None, [confirm_group], api_name=False, queue=False)
    confirm_yes.click(delete, [run_id, *filters], [results, found, run_id, detail, confirm_group], api_name="history_delete")
    export_btn.click(export, [export_fmt, *filters], [export_file], api_name="history_export")

