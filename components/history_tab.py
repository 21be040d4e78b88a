"""History tab: every saved run — list, search, filter, read, reopen in Compare, re-run, delete, export."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import gradio as gr
import pandas as pd

from components.history_layout import HEADER_KEYS, HistoryLayout, history_layout
from components.i18n import request_language, say, text
from components.tab import Event, TabHandle
from components.ui_errors import refusals, user_errors
from components.widgets import GENERATION_EVENTS, StoppableRun
from playground.compare.fanout import ColumnState
from playground.errors import InvalidInput, UserFacingError
from playground.estimates_view import comparison_markdown
from playground.formatting import format_usage
from playground.history import LIST_LIMIT, RerunUpdate
from playground.i18n import Text, catalogue, t
from playground.rendering import inert_inline, inert_markdown
from playground.services import Services
from playground.statuses import GenerationStatus, status_text

if TYPE_CHECKING:
    from components.compare_tab import CompareHandles

ANY = ""
PICK_A_RUN = t("history.pick_a_run")


def _state_text(name: str, index: int, state: ColumnState, language: str) -> str:
    if state.status == GenerationStatus.ERROR:
        figures = f"❌ {inert_inline(say(state.error, language))}"
    elif state.status in (GenerationStatus.WAITING, GenerationStatus.RUNNING):
        waiting = f"⏳ {inert_inline(say(state.waiting_message, language))}"
        figures = waiting if not state.text else say(t("compare.answering"), language)
    else:
        figures = format_usage(state.usage, language) if state.usage else say(status_text(state.status), language)
    heading = say(t("history.state_heading", n=index + 1, name=inert_inline(name)), language)
    return f"{heading}\n\n{inert_markdown(state.text)}\n\n<small>{figures}</small>"


def _table(summaries) -> pd.DataFrame:
    """The runs as the table shows them, headers and kinds in the reader's language."""
    language = request_language()
    rows = []
    for summary in summaries:
        row = summary.row()
        kind = f"history.kind_{summary.kind}"
        row[2] = say(Text(kind), language) if catalogue().has(kind) else summary.kind
        row[8] = say(summary.cost_text, language) if summary.cost_text is not None else summary.cost
        rows.append(row)
    return pd.DataFrame(rows, columns=[say(Text(key), language) for key in HEADER_KEYS])


def _found_text(count: int) -> str:
    if not count:
        return text("history.none_found")
    if count >= LIST_LIMIT:
        return text("history.found_limited", count=count, limit=LIST_LIMIT)
    return text("history.found", count=count)


def _reopen_outputs(compare: CompareHandles) -> tuple[list, bool]:
    """Compare's outputs for a reopened run, plus the Tabs (to switch to Compare) unless already there."""
    outputs = list(compare.outputs)
    adds_tabs = compare.tabs is not None and not any(c is compare.tabs for c in outputs)
    return (outputs + [compare.tabs] if adds_tabs else outputs), adds_tabs


class HistoryController:
    """The History tab's handlers: each reads its inputs, asks the HistoryService, formats the answer."""

    def __init__(
        self,
        services: Services,
        stoppable: StoppableRun,
        compare: CompareHandles | None = None,
        selects_compare: bool = False,
    ):
        self.history = services.history
        self.estimates = services.estimates
        self.stoppable = stoppable
        self.compare = compare
        self.selects_compare = selects_compare  # reopen also switches the page to the Compare tab

    # ---- filters and the list -----------------------------------------------------------
    def model_choices(self, selected: str | None = ANY) -> dict[str, Any]:
        choices = [(text("history.any_model"), ANY), *self.history.model_choices(request_language())]
        return {"choices": choices, "value": selected if selected in {key for _, key in choices} else ANY}

    def template_choices(self, selected: str | None = ANY) -> dict[str, Any]:
        names = self.history.template_choices()
        return {
            "choices": [(text("history.any_template"), ANY), *[(n, n) for n in names]],
            "value": selected if selected in names else ANY,
        }

    def newest_runs(self) -> pd.DataFrame:
        return _table(self.history.search())

    def _find(self, query, model_key, template_name, date_from, date_to, kinds):
        return self.history.search(
            query or "", model_key or None, template_name or None, date_from or "", date_to or "", list(kinds or [])
        )

    @user_errors
    def search(self, query, model_key, template_name, date_from, date_to, kinds):
        summaries = self._find(query, model_key, template_name, date_from, date_to, kinds)
        filters = gr.Dropdown(**self.model_choices(model_key)), gr.Dropdown(**self.template_choices(template_name))
        return _table(summaries), _found_text(len(summaries)), *filters

    # ---- one run --------------------------------------------------------------------------
    @user_errors
    def show(self, run_id) -> str:
        """The run; under its heading, actual against estimate where it was estimated before it ran."""
        language = request_language()
        detail = self.history.detail(run_id, language)  # refuses an id that is no run
        against = self.estimates.against(int(run_id))
        if against is None:
            return detail
        heading, _, rest = detail.partition("\n\n")
        return "\n\n".join([heading, comparison_markdown(*against, language), rest])

    def pick_row(self, evt: gr.SelectData):
        row = evt.row_value or []
        if not row or row[0] in (None, ""):
            return gr.skip(), gr.skip()
        run_id = int(row[0])
        try:
            return run_id, self.history.detail(run_id, request_language())
        except UserFacingError as err:  # e.g. the row was deleted meanwhile: say so in place
            return run_id, f"❌ {say(err)}"

    def check_run(self, run_id, *_rest):
        """What reopen, re-run and delete refuse: no run picked, or a run that is gone."""
        if not run_id:
            raise InvalidInput(PICK_A_RUN)
        self.history.detail(run_id)

    @user_errors
    def reopen(self, run_id):
        if not run_id:
            raise InvalidInput(PICK_A_RUN)
        if self.compare is None:  # not reachable from the page: the button is wired only beside a Compare tab
            raise gr.Error(text("history.no_compare_tab"))
        self.history.detail(run_id)  # a plain message for a missing run before touching Compare
        updates = list(self.compare.reopen(int(run_id)))
        if self.selects_compare:
            updates.append(gr.Tabs(selected=self.compare.tab_id))
        return updates

    def stop_rerun(self, token: str | None) -> None:
        self.stoppable.tokens.cancel(token)  # the re-run's own columns show it stopping

    @user_errors
    def rerun(self, run_id, token: str):
        language = request_language()
        with self.stoppable.cancel_event(token) as cancel:
            last: RerunUpdate | None = None
            for update in self.history.rerun(run_id, cancel):
                last = update
                header = say(t("history.rerun_heading", old=int(run_id), new=update.run_id), language)
                body = [_state_text(update.column_names[i], i, s, language) for i, s in enumerate(update.states)]
                yield update.run_id, "\n\n".join([header, *body])
            if last is not None:
                yield last.run_id, self.history.detail(last.run_id, language)

    # ---- delete, export -------------------------------------------------------------------
    def ask_delete(self, run_id):
        if not run_id:  # API callers: the page's check has said why already
            return gr.skip(), gr.skip()
        return gr.Group(visible=True), text("history.confirm_delete", run_id=int(run_id))

    def hide_confirm(self):
        return gr.Group(visible=False)

    @user_errors
    def delete(self, run_id, query, model_key, template_name, date_from, date_to, kinds):
        if not run_id:
            raise InvalidInput(PICK_A_RUN)
        count = self.history.delete([run_id])
        gr.Info(text("history.deleted" if count else "history.already_gone", run_id=int(run_id)))
        summaries = self._find(query, model_key, template_name, date_from, date_to, kinds)
        return _table(summaries), _found_text(len(summaries)), None, "", gr.Group(visible=False)

    @user_errors
    def export(self, fmt, query, model_key, template_name, date_from, date_to, kinds):
        summaries = self._find(query, model_key, template_name, date_from, date_to, kinds)
        path = self.history.export([s.id for s in summaries], fmt or "jsonl")
        gr.Info(text("history.exported", count=len(summaries), file=path.name))
        return str(path)


def _wire(
    ui: HistoryLayout, controller: HistoryController, stoppable: StoppableRun, reopen_outputs: list | None
) -> list:
    """Attach the tab's events; returns the search's outputs (the tab refreshes them when opened)."""
    filters, actions = ui.filters.inputs, ui.actions
    check_run = refusals(controller.check_run)  # shown next to the run id box
    search_outputs = [ui.runs_table, ui.found, ui.filters.model, ui.filters.template]
    ui.filters.search.click(controller.search, filters, search_outputs, api_name="history_search")
    ui.filters.text.submit(controller.search, filters, search_outputs, api_name=False)
    ui.runs_table.select(controller.pick_row, None, [actions.run_id, ui.detail], api_name=False)
    actions.show.click(controller.show, [actions.run_id], [ui.detail], api_name="history_detail")
    actions.run_id.submit(controller.show, [actions.run_id], [ui.detail], api_name=False)
    if reopen_outputs is not None:
        actions.reopen.click(
            controller.reopen, [actions.run_id], reopen_outputs, api_name="history_reopen", validator=check_run
        )
    started = actions.rerun.click(stoppable.start, None, [stoppable.token], queue=False, api_name=False)
    rerun = started.then(
        controller.rerun,
        [actions.run_id, stoppable.token],
        [actions.run_id, ui.detail],
        api_name="history_rerun",
        validator=check_run,
        **GENERATION_EVENTS,
    )
    rerun.then(controller.search, filters, search_outputs, api_name=False)
    actions.stop.click(controller.stop_rerun, [stoppable.token], None, queue=False, api_name="history_rerun_stop")
    actions.delete.click(
        controller.ask_delete,
        [actions.run_id],
        [actions.confirm, actions.confirm_text],
        api_name=False,
        validator=check_run,
    )
    actions.confirm_no.click(controller.hide_confirm, None, [actions.confirm], api_name=False, queue=False)
    # A confirmation names one run: picking another withdraws it, so "Yes" never deletes a run it did not name.
    actions.run_id.change(controller.hide_confirm, None, [actions.confirm], api_name=False, queue=False)
    deleted = [ui.runs_table, ui.found, actions.run_id, ui.detail, actions.confirm]
    actions.confirm_yes.click(
        controller.delete, [actions.run_id, *filters], deleted, api_name="history_delete", validator=check_run
    )
    ui.export.click(controller.export, [ui.export_format, *filters], [ui.export_file], api_name="history_export")
    return search_outputs


def build_history_tab(services: Services, compare: CompareHandles | None = None) -> TabHandle:
    """``compare``: the Compare tab's handle, to reopen saved runs there (History uses only
    its ``reopen``, ``outputs``, ``tabs`` and ``tab_id``)."""
    reopen_outputs, selects_compare = _reopen_outputs(compare) if compare is not None else (None, False)
    stoppable = StoppableRun(services.cancel_tokens)
    controller = HistoryController(services, stoppable, compare, selects_compare)
    ui = history_layout(
        controller.model_choices(), controller.template_choices(), controller.newest_runs, compare is not None
    )
    search_outputs = _wire(ui, controller, stoppable, reopen_outputs)
    return TabHandle(
        on_open=[Event(controller.search, ui.filters.inputs, search_outputs)]
    )  # runs made in other tabs appear
