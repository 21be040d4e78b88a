"""Compare tab: one prompt, 1-4 columns side by side, streaming together, with figures.

The widgets are built in ``compare_layout``; this module holds the handlers and the wiring."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import gradio as gr

from components.compare_batch import build_batch_panel
from components.compare_columns import (
    FIELDS_PER_COLUMN,
    ColumnForm,
    columns_from_values,
    values_from_column,
)
from components.compare_layout import (
    CompareLayout,
    base_model_note,
    compare_layout,
    variable_fields,
    visible_columns,
)
from components.i18n import L, request_language, say, text
from components.tab import TabHandle
from components.ui_errors import RefusedAt, refusals, refused_at, toast_text, user_errors
from components.widgets import GENERATION_EVENTS, StoppableRun, refresh_pickers
from playground.compare.columns import MAX_COLUMNS
from playground.compare.fanout import ColumnState
from playground.compare.service import History, SavedRun, Turn, empty_histories
from playground.compare.templates import (
    MAX_VARIABLES,
    carry_values,
    template_variables,
    variable_values,
)
from playground.errors import InvalidInput, UserFacingError
from playground.formatting import format_usage
from playground.i18n import t
from playground.models.types import Usage
from playground.rendering import inert_inline, inert_markdown
from playground.services import Services
from playground.statuses import GenerationStatus

TAB_ID = "compare"
SEND_FIXED_INPUTS = 7  # prompt, template name, column count, histories, run, generation ids, token


@dataclass
class CompareHandles(TabHandle):
    """What other tabs (History) need to put a saved run back into Compare."""

    reopen: Callable[[Any], list] | None = None  # (run_id) -> list of updates for `outputs`
    outputs: list[Any] = field(default_factory=list)  # Compare's components (and the Tabs) that reopen updates
    tabs: gr.Tabs | None = None
    tab_id: str = TAB_ID
    column_forms: list[ColumnForm] = field(default_factory=list)


# ---- formatting -------------------------------------------------------------------------
def figures_text(state: ColumnState) -> str:
    if state.status == GenerationStatus.ERROR:
        return f"❌ {inert_inline(say(state.error))}"
    if state.status in (GenerationStatus.WAITING, GenerationStatus.RUNNING):
        if state.status == GenerationStatus.WAITING or not state.text:
            return f"⏳ {inert_inline(say(state.waiting_message))}"  # e.g. "Loading <model> (first use, ~2 s)…"
        return text("compare.answering")
    return format_usage(state.usage, request_language()) if state.usage else ""


def saved_figures_text(last: dict | None) -> str:
    """The figures of a saved run's last answer in a column (as recorded, not re-measured)."""
    if not last:
        return ""
    if last["status"] == GenerationStatus.ERROR:
        return f"❌ {inert_inline(last['error'])}"
    return format_usage(Usage(**last["usage"]), request_language()) if last["usage"]["total_s"] is not None else ""


def chat_view(history: list[dict], user_text: str | None, answer: str | None) -> list[dict]:
    view = [dict(m) for m in history]
    if user_text is not None:
        view.append({"role": "user", "content": user_text})
        view.append({"role": "assistant", "content": answer or ""})
    return view


def chat_display(messages: list[dict]) -> list[dict]:
    """A chat as its Chatbot shows it: every message inert (``playground.rendering``); the
    histories the follow-ups are sent with keep the text as written."""
    return [
        {**m, "content": inert_markdown(m["content"])} if isinstance(m.get("content"), str) else m for m in messages
    ]


class CompareController:
    def __init__(self, services: Services, send_run: StoppableRun, select_tab: bool):
        self.services = services
        self.compare = services.compare
        self.templates = services.templates
        self.send_run = send_run
        self.select_tab = select_tab  # reopening also switches to this tab (when it is in a Tabs)

    def model_note(self, key: str | None) -> str:
        return base_model_note(self.services, key)

    def show_variables(self, body: str, shown: list[str] | None, *current: str) -> list:
        """The boxes for the prompt's variables; each keeps the value typed for its own name."""
        names = template_variables(body)[:MAX_VARIABLES]
        return [names, *variable_fields(names, carry_values(shown or [], current, names))]

    def check_send(self, body, name, count, hist, run_id, gen_ids, token, *rest):
        """What Send would refuse, shown next to the prompt or the column's model before it runs."""
        var_values, form_values = rest[:MAX_VARIABLES], rest[MAX_VARIABLES:]
        columns = columns_from_values(form_values, count)
        first_model = SEND_FIXED_INPUTS + MAX_VARIABLES
        for index, column in enumerate(columns):
            try:
                self.compare.check_columns([column])
            except UserFacingError as err:
                raise RefusedAt(first_model + index * FIELDS_PER_COLUMN, err.message) from err
        self.compare.build_prompt(body, variable_values(body, var_values))

    @user_errors
    def send(self, body, name, count, hist, run_id, gen_ids, token, *rest):
        var_values, form_values = rest[:MAX_VARIABLES], rest[MAX_VARIABLES:]
        columns = columns_from_values(form_values, count)
        turn = self.compare.open_turn(run_id, columns, hist, body, variable_values(body, var_values), name or "")
        gen_ids = list(gen_ids or [None] * MAX_COLUMNS)
        with self.send_run.cancel_event(token) as cancel:
            for snapshot in self.compare.stream_turn(
                turn.run_id, columns, turn.histories[: len(columns)], turn.user_text, cancel
            ):
                yield self._turn_update(turn, snapshot, gen_ids)

    @staticmethod
    def _turn_update(turn: Turn, snapshot: Sequence[ColumnState], gen_ids: list) -> tuple:
        """Chats and figures so far; once every column is done, the turn joins the histories."""
        hist, text = turn.histories, turn.user_text
        chats = [chat_display(chat_view(hist[i], text, s.text)) for i, s in enumerate(snapshot)]
        figs = [figures_text(s) for s in snapshot]
        for i, s in enumerate(snapshot):
            gen_ids[i] = s.generation_id or gen_ids[i]
        if all(s.done for s in snapshot):
            for i, s in enumerate(snapshot):
                hist[i] = chat_view(hist[i], text, s.text)
        pad = [gr.skip()] * (MAX_COLUMNS - len(snapshot))
        return (*chats, *pad, *figs, *pad, hist, turn.run_id, gen_ids)

    def stop_all(self, token: str | None) -> None:
        self.send_run.tokens.cancel(token)  # nothing to show: each column says it stopped

    def new_conversation(self) -> tuple:
        return (*([[]] * MAX_COLUMNS), *([""] * MAX_COLUMNS), empty_histories(), None, [None] * MAX_COLUMNS)

    def add_column(self, count: int) -> tuple:
        return self._change_columns(count, +1)

    def remove_column(self, count: int) -> tuple:
        return self._change_columns(count, -1)

    @staticmethod
    def _change_columns(count: int, delta: int) -> tuple:
        count = max(1, min(MAX_COLUMNS, int(count) + delta))
        return (count, *visible_columns(count))

    def sync_settings(self, enabled: bool, *first_settings: Any) -> list:
        if not enabled:
            return [gr.skip()] * ((MAX_COLUMNS - 1) * (FIELDS_PER_COLUMN - 1))
        return list(first_settings) * (MAX_COLUMNS - 1)

    def check_save_template(self, name: str, body: str) -> None:
        self.templates.check_name(name)
        with refused_at(1):
            self.templates.check_body(body)

    def check_load_template(self, name: str) -> None:
        if not (name or "").strip():
            raise InvalidInput(t("compare.no_template_picked"))
        self.templates.latest(name)

    @user_errors
    def save_template(self, name: str, body: str):
        info = self.templates.save(name, body)
        saved = text("compare.template_saved", name=info.name, version=info.version)
        return gr.Dropdown(choices=self.templates.names(), value=info.name), saved

    @user_errors
    def load_template(self, name: str):
        info = self.templates.latest(name)
        return info.body, text("compare.template_loaded", name=info.name, version=info.version)

    @user_errors
    def reopen(self, run_id) -> list:
        saved = self.compare.reopen_run(int(run_id))
        count = max(1, min(MAX_COLUMNS, len(saved.columns)))
        form_updates: list[Any] = []
        for index in range(MAX_COLUMNS):
            form_updates += (
                values_from_column(saved.columns[index])
                if index < len(saved.columns)
                else [gr.skip()] * FIELDS_PER_COLUMN
            )
        hist, figs, gen_ids = _saved_columns(saved)
        if saved.removed_models:
            removed = toast_text(", ".join(saved.removed_models))  # names others typed: shown as text
            gr.Warning(text("compare.removed_models", names=removed))
        tab = [gr.Tabs(selected=TAB_ID)] if self.select_tab else []
        names = template_variables(saved.prompt)[:MAX_VARIABLES]
        return [
            saved.prompt,
            count,
            *visible_columns(count),
            *form_updates,
            *(chat_display(h) for h in hist),
            *figs,
            hist,
            saved.run_id,
            gen_ids,
            names,
            *variable_fields(names, [str(saved.variables.get(n) or "") for n in names]),  # by name
            *tab,
        ]


def _saved_columns(saved: SavedRun) -> tuple[list[History], list[str], list[int | None]]:
    """Each column's history, last figures and last generation id, padded to MAX_COLUMNS."""
    hist, figs = empty_histories(), [""] * MAX_COLUMNS
    gen_ids: list[int | None] = [None] * MAX_COLUMNS
    for index in range(min(MAX_COLUMNS, len(saved.histories))):
        hist[index] = saved.histories[index]
        last = saved.states[index][-1] if saved.states[index] else None
        gen_ids[index] = last["generation_id"] if last else None
        figs[index] = saved_figures_text(last)
    return hist, figs, gen_ids


# ---- wiring -----------------------------------------------------------------------------
def _wire_conversation(layout: CompareLayout, controller: CompareController, send_run: StoppableRun) -> None:
    layout.prompt.change(
        controller.show_variables,
        [layout.prompt, layout.variable_names, *layout.variable_boxes],
        [layout.variable_names, *layout.variable_boxes],
        api_name=False,
        queue=False,
    )
    conversation = [
        layout.prompt,
        layout.template_name,
        layout.column_count,
        layout.histories,
        layout.run_state,
        layout.generation_ids,
    ]
    send_inputs = [*conversation, send_run.token, *layout.variable_boxes, *layout.column_inputs]
    # Not StoppableRun.wire: Stop all shows no message, and the chats (not one status line) show the progress.
    assert len(send_inputs) == SEND_FIXED_INPUTS + MAX_VARIABLES + MAX_COLUMNS * FIELDS_PER_COLUMN
    layout.send_btn.click(send_run.start, None, [send_run.token], queue=False, api_name=False).then(
        controller.send,
        send_inputs,
        layout.turn_outputs,
        api_name="compare_run",
        validator=refusals(controller.check_send),
        **GENERATION_EVENTS,
    )
    layout.stop_btn.click(controller.stop_all, [send_run.token], None, queue=False, api_name="compare_stop")
    layout.new_btn.click(controller.new_conversation, None, layout.turn_outputs, api_name="compare_new", queue=False)


def _wire_columns(layout: CompareLayout, controller: CompareController) -> None:
    blocks = [c.block for c in layout.columns]
    layout.add_col_btn.click(
        controller.add_column,
        [layout.column_count],
        [layout.column_count, *blocks],
        api_name="compare_add_column",  # queued: a State's .change (the batch preview) fires only after queued events
    )
    layout.remove_col_btn.click(
        controller.remove_column,
        [layout.column_count],
        [layout.column_count, *blocks],
        api_name="compare_remove_column",  # queued: a State's .change (the batch preview) fires only after queued events
    )
    first_settings = layout.forms[0].components()[1:]
    other_settings = [c for form in layout.forms[1:] for c in form.components()[1:]]
    for trigger in [layout.sync, *first_settings]:
        trigger.change(
            controller.sync_settings, [layout.sync, *first_settings], other_settings, api_name=False, queue=False
        )
    for column in layout.columns:
        column.form.model.change(
            controller.model_note, [column.form.model], [column.model_note], api_name=False, queue=False
        )


def _wire_templates(layout: CompareLayout, controller: CompareController) -> None:
    name, prompt, info = layout.template_name, layout.prompt, layout.template_info
    layout.save_template_btn.click(
        controller.save_template,
        [name, prompt],
        [name, info],
        api_name="compare_save_template",
        validator=refusals(controller.check_save_template),
    )
    layout.load_template_btn.click(
        controller.load_template,
        [name],
        [prompt, info],
        api_name="compare_load_template",
        validator=refusals(controller.check_load_template),
    )


def build_compare_tab(services: Services, tabs: gr.Tabs | None = None) -> CompareHandles:
    layout = compare_layout(services)
    send_run = StoppableRun(services.cancel_tokens)
    controller = CompareController(services, send_run, select_tab=tabs is not None)
    _wire_conversation(layout, controller, send_run)
    _wire_columns(layout, controller)
    _wire_templates(layout, controller)
    with gr.Accordion(L("compare.batch_accordion"), open=False, elem_id="compare-batch"):
        build_batch_panel(services, layout.column_inputs, layout.column_count, layout.prompt, layout.template_name)

    chats, figures = [c.chatbot for c in layout.columns], [c.figures for c in layout.columns]
    reopen_outputs: list[Any] = [
        layout.prompt,
        layout.column_count,
        *(c.block for c in layout.columns),
        *layout.column_inputs,
        *chats,
        *figures,
    ]
    reopen_outputs += [layout.histories, layout.run_state, layout.generation_ids]
    reopen_outputs += [layout.variable_names, *layout.variable_boxes, *([tabs] if tabs is not None else [])]
    return CompareHandles(
        on_open=[refresh_pickers(services, [form.model for form in layout.forms])],
        reopen=controller.reopen,
        outputs=reopen_outputs,
        tabs=tabs,
        column_forms=layout.forms,
    )
