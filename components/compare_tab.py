"""Compare tab: one prompt, 1-4 columns side by side, streaming together, with figures."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import gradio as gr

from components.ui_errors import user_errors
from components.compare_batch import build_batch_panel
from components.compare_columns import FIELDS_PER_COLUMN, ColumnForm, build_column_form, columns_from_values, values_from_column
from components.compare_extras import build_column_extras, build_diff_panel
from playground.compare.columns import MAX_COLUMNS
from playground.compare.fanout import ColumnState
from playground.compare.templates import MAX_VARIABLES, template_variables
from playground.formatting import format_usage
from playground.models.types import Usage
from playground.services import Services

START_COLUMNS = 2


@dataclass
class CompareHandles:
    """What other tabs (History) need to put a saved run back into Compare."""

    reopen: Any  # (run_id) -> list of updates for `outputs`
    outputs: list[gr.components.Component]
    tabs: gr.Tabs | None = None
    tab_id: str = "compare"
    column_forms: list[ColumnForm] = field(default_factory=list)
    refresh_models: tuple | None = None  # (fn, inputs, outputs) to run when the tab is opened


def figures_text(state: ColumnState) -> str:
    if state.status == "error":
        return f"❌ {state.error}"
    if state.status in ("waiting", "running"):
        return "⏳ waiting for the model…" if state.status == "waiting" or not state.text else "✍️ answering…"
    return format_usage(state.usage) if state.usage else ""


def chat_view(history: list[dict], user_text: str | None, answer: str | None) -> list[dict]:
    view = [dict(m) for m in history]
    if user_text is not None:
        view.append({"role": "user", "content": user_text})
        view.append({"role": "assistant", "content": answer or ""})
    return view


def empty_histories() -> list[list[dict]]:
    return [[] for _ in range(MAX_COLUMNS)]


def build_compare_tab(services: Services, tabs: gr.Tabs | None = None) -> CompareHandles:
    compare, tokens = services.compare, services.cancel_tokens
    choices = services.models.choices()
    default_model = services.settings.default_model_key
    second_model = next((key for _, key in choices if key != default_model), default_model)

    gr.Markdown(
        "Ask one prompt in up to four columns at once — different models, system prompts or settings. "
        "Use `{{variable}}` in the prompt to make a template; a field appears for each variable."
    )
    with gr.Row():
        template_name = gr.Dropdown(
            choices=services.templates.names(), value=None, allow_custom_value=True, label="Template name", scale=3, elem_id="compare-template-name"
        )
        load_template_btn = gr.Button("Load template", scale=1)
        save_template_btn = gr.Button("Save template (new version)", scale=1)
    template_info = gr.Markdown(elem_id="compare-template-info")
    prompt = gr.Textbox(label="Prompt", lines=4, placeholder="e.g. Summarise this review in one sentence: {{review}}", elem_id="compare-prompt")
    with gr.Row():
        variable_boxes = [gr.Textbox(label=f"variable {i + 1}", visible=False, lines=2, elem_id=f"compare-var{i}") for i in range(MAX_VARIABLES)]
    with gr.Row():
        send_btn = gr.Button("Send to all columns", variant="primary", elem_id="compare-send")
        stop_btn = gr.Button("Stop all", elem_id="compare-stop")
        new_btn = gr.Button("New conversation", elem_id="compare-new")
    with gr.Row():
        add_col_btn = gr.Button("+ Add column", size="sm", elem_id="compare-add-column")
        remove_col_btn = gr.Button("− Remove column", size="sm", elem_id="compare-remove-column")
        sync = gr.Checkbox(label="Sync settings: column 1's settings apply to all (any column can still override)", value=False)

    column_count = gr.State(START_COLUMNS)
    histories = gr.State(empty_histories())
    run_state = gr.State(None)
    generation_ids = gr.State([None] * MAX_COLUMNS)
    token_state = gr.State("")

    def model_note(key: str | None) -> str:
        try:
            spec = services.models.describe(key) if key else None
        except Exception:  # noqa: BLE001 - an unknown key is reported when the column runs
            return ""
        if spec is not None and not spec.chat_template:
            return "Base model: it continues your text rather than following instructions."
        return ""

    columns, forms, chatbots, figures, model_notes = [], [], [], [], []
    with gr.Row(equal_height=False):
        for index in range(MAX_COLUMNS):
            with gr.Column(visible=index < START_COLUMNS, min_width=260, elem_id=f"compare-col{index}") as column:
                gr.Markdown(f"**Column {index + 1}**")
                form = build_column_form(index, choices, default_model if index % 2 == 0 else second_model)
                model_notes.append(gr.Markdown(model_note(form.model.value), elem_classes=["compare-model-note"]))
                chatbots.append(gr.Chatbot(label=f"Column {index + 1}", height=360, elem_id=f"compare-chat{index}", buttons=["copy"]))
                figures.append(gr.Markdown(elem_id=f"compare-figures{index}", elem_classes=["compare-figures"]))
                build_column_extras(services, index, form, prompt, variable_boxes, template_name, histories, generation_ids)
            columns.append(column)
            forms.append(form)
    column_inputs = [c for form in forms for c in form.components()]
    build_diff_panel(histories, column_count)

    # ---- handlers -----------------------------------------------------------------
    def show_variables(body: str, *current: str):
        names = template_variables(body)
        updates = []
        for i in range(MAX_VARIABLES):
            if i < len(names):
                updates.append(gr.Textbox(label=names[i], visible=True, value=current[i] if current[i] else ""))
            else:
                updates.append(gr.Textbox(visible=False, value=""))
        return updates

    def variable_values(body: str, values: tuple) -> dict[str, str]:
        return {name: values[i] for i, name in enumerate(template_variables(body)[:MAX_VARIABLES])}

    def start() -> str:
        return tokens.new()

    def stop(token: str | None) -> None:
        tokens.cancel(token)

    @user_errors
    def send(body, name, count, hist, run_id, gen_ids, token, *rest):
        var_values, form_values = rest[:MAX_VARIABLES], rest[MAX_VARIABLES:]
        cols = columns_from_values(form_values, count)
        variables = variable_values(body, var_values)
        hist = [list(h) for h in (hist or empty_histories())]
        if run_id is None or not any(hist[: len(cols)]):
            run_id, text = compare.start_run(cols, body, variables, name or "")
            hist = empty_histories()
        else:
            text = compare.build_prompt(body, variables)
        cancel = tokens.event(token) if token else None
        gen_ids = list(gen_ids or [None] * MAX_COLUMNS)
        try:
            for snapshot in compare.stream_turn(run_id, cols, hist[: len(cols)], text, cancel):
                chats = [chat_view(hist[i], text, s.text) for i, s in enumerate(snapshot)]
                figs = [figures_text(s) for s in snapshot]
                for i, s in enumerate(snapshot):
                    gen_ids[i] = s.generation_id or gen_ids[i]
                final = all(s.done for s in snapshot)
                if final:
                    for i, s in enumerate(snapshot):
                        hist[i] = chat_view(hist[i], text, s.text)
                pad = MAX_COLUMNS - len(snapshot)
                yield (*chats, *([gr.skip()] * pad), *figs, *([gr.skip()] * pad), hist, run_id, gen_ids)
        finally:
            if token:
                tokens.release(token)

    def new_conversation():
        return (*([[]] * MAX_COLUMNS), *([""] * MAX_COLUMNS), empty_histories(), None, [None] * MAX_COLUMNS)

    def change_columns(count: int, delta: int):
        count = max(1, min(MAX_COLUMNS, int(count) + delta))
        return (count, *[gr.Column(visible=i < count) for i in range(MAX_COLUMNS)])

    def sync_settings(enabled: bool, *first_settings):
        if not enabled:
            return [gr.skip()] * ((MAX_COLUMNS - 1) * (FIELDS_PER_COLUMN - 1))
        return list(first_settings) * (MAX_COLUMNS - 1)

    @user_errors
    def save_template(name: str, body: str):
        info = services.templates.save(name, body)
        return gr.Dropdown(choices=services.templates.names(), value=info.name), f"Saved **{info.name}** version {info.version}."

    @user_errors
    def load_template(name: str):
        if not (name or "").strip():
            raise gr.Error("Pick a template to load.")
        info = services.templates.latest(name)
        return info.body, f"Loaded **{info.name}** version {info.version}."

    @user_errors
    def reopen(run_id):
        saved = compare.load_run(int(run_id))
        count = max(1, min(MAX_COLUMNS, len(saved.columns)))
        form_updates: list[Any] = []
        for index in range(MAX_COLUMNS):
            form_updates += values_from_column(saved.columns[index]) if index < len(saved.columns) else [gr.skip()] * FIELDS_PER_COLUMN
        hist = empty_histories()
        chats, figs, gen_ids = [], [], [None] * MAX_COLUMNS
        for index in range(MAX_COLUMNS):
            if index < len(saved.histories):
                hist[index] = saved.histories[index]
                last = saved.states[index][-1] if saved.states[index] else None
                gen_ids[index] = last["generation_id"] if last else None
                if last and last["status"] == "error":
                    figs.append(f"❌ {last['error']}")
                elif last:
                    figs.append(format_usage(Usage(**last["usage"])) if last["usage"]["total_s"] is not None else "")
                else:
                    figs.append("")
                chats.append(hist[index])
            else:
                chats.append([])
                figs.append("")
        missing = [n for c, n in zip(saved.columns, saved.column_names) if c.model_key not in {k for _, k in services.models.choices()}]
        if missing:
            gr.Warning("This run used model(s) that were removed: " + ", ".join(missing) + ". Pick another model before sending.")
        tab = [gr.Tabs(selected="compare")] if tabs is not None else []
        return [
            saved.prompt,
            count,
            *[gr.Column(visible=i < count) for i in range(MAX_COLUMNS)],
            *form_updates,
            *chats,
            *figs,
            hist,
            saved.run_id,
            gen_ids,
            *tab,
        ]

    # ---- wiring ---------------------------------------------------------------------
    prompt.change(show_variables, [prompt, *variable_boxes], variable_boxes, api_name=False, queue=False)
    send_inputs = [prompt, template_name, column_count, histories, run_state, generation_ids, token_state, *variable_boxes, *column_inputs]
    send_outputs = [*chatbots, *figures, histories, run_state, generation_ids]
    send_btn.click(start, None, [token_state], queue=False, api_name=False).then(
        send, send_inputs, send_outputs, api_name="compare_run", concurrency_limit=None
    )
    stop_btn.click(stop, [token_state], None, queue=False, api_name="compare_stop")
    new_btn.click(new_conversation, None, send_outputs, api_name="compare_new", queue=False)
    add_col_btn.click(lambda c: change_columns(c, +1), [column_count], [column_count, *columns], api_name="compare_add_column", queue=False)
    remove_col_btn.click(lambda c: change_columns(c, -1), [column_count], [column_count, *columns], api_name="compare_remove_column", queue=False)
    first_settings = forms[0].components()[1:]
    other_settings = [c for form in forms[1:] for c in form.components()[1:]]
    for trigger in [sync, *first_settings]:
        trigger.change(sync_settings, [sync, *first_settings], other_settings, api_name=False, queue=False)
    save_template_btn.click(save_template, [template_name, prompt], [template_name, template_info], api_name="compare_save_template")
    load_template_btn.click(load_template, [template_name], [prompt, template_info], api_name="compare_load_template")

    with gr.Accordion("Batch run over a table (CSV, XLSX, JSONL)", open=False, elem_id="compare-batch"):
        build_batch_panel(services, column_inputs, column_count, prompt, template_name)

    def refresh_model_choices(*current):
        fresh = services.models.choices()
        return [gr.Dropdown(choices=fresh, value=value) for value in current]

    model_pickers = [form.model for form in forms]

    for form, note in zip(forms, model_notes):
        form.model.change(model_note, [form.model], [note], api_name=False, queue=False)
    refresh = (refresh_model_choices, model_pickers, model_pickers)

    reopen_outputs = [prompt, column_count, *columns, *column_inputs, *chatbots, *figures, histories, run_state, generation_ids]
    if tabs is not None:
        reopen_outputs.append(tabs)
    return CompareHandles(reopen=reopen, outputs=reopen_outputs, tabs=tabs, column_forms=forms, refresh_models=refresh)
