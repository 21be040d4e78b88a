"""The Models tab's Connections section: a server added once, its models listed and ticked.

Layout + controller, as every tab: each handler reads its inputs, calls one method of
``services.models.connections`` and formats the answer. The typed key field is cleared after
each save (the key lives in the server's memory only, never in the page again).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import gradio as gr

from components.i18n import L, request_language, say, text
from components.ui_errors import user_errors
from playground.formatting import format_bytes
from playground.models.connections import ConnectionView, ListedView
from playground.models.headers import format_headers
from playground.models.presets import CUSTOM, PRESETS, preset
from playground.rendering import inert_inline
from playground.services import Services

HEADERS_EXAMPLE = "x-api-key: ${ANTHROPIC_API_KEY}"


@dataclass
class ConnectionWidgets:
    chosen: gr.Dropdown
    preset: gr.Dropdown
    help: gr.Markdown
    form: list  # name, url, key env, typed key, headers, api-version
    save: gr.Button
    refresh: gr.Button
    remove: gr.Button
    status: gr.Markdown
    models: gr.CheckboxGroup
    typed: gr.Textbox
    add: gr.Button


def _connection_choices(services: Services) -> list[tuple[str, str]]:
    saved = [(c.name, str(c.id)) for c in services.models.connections.list_connections()]
    return [(L("connections.new_connection"), ""), *saved]


def connections_layout(services: Services) -> ConnectionWidgets:
    with gr.Accordion(L("connections.accordion"), open=False, elem_id="connections"):
        gr.Markdown(L("connections.intro"))
        with gr.Row():
            chosen = gr.Dropdown(
                _connection_choices(services), value="", label=L("connections.existing"), elem_id="connection-pick"
            )
            kinds = [(p.label, p.id) for p in PRESETS]
            picked = gr.Dropdown(kinds, value=CUSTOM, label=L("connections.preset"), elem_id="connection-preset")
        help_text = gr.Markdown(L(preset(CUSTOM).help), elem_id="connection-help")
        with gr.Row():
            name = gr.Textbox(label=L("connections.name"), elem_id="connection-name")
            url = gr.Textbox(
                label=L("connections.base_url"), info=L("connections.base_url_info"), elem_id="connection-url"
            )
        with gr.Row():
            key_env = gr.Textbox(label=L("connections.key_env"), info=L("models.key_env_info"))
            key = gr.Textbox(label=L("connections.key"), type="password", info=L("connections.key_info"))
            version = gr.Textbox(label=L("connections.api_version"), info=L("connections.api_version_info"))
        headers = gr.Textbox(
            label=L("connections.headers"), info=L("connections.headers_info"), lines=2, placeholder=HEADERS_EXAMPLE
        )
        with gr.Row():
            save = gr.Button(L("connections.save"), variant="primary", elem_id="connection-save")
            refresh = gr.Button(L("connections.refresh"), elem_id="connection-refresh")
            remove = gr.Button(L("connections.remove"), variant="stop", elem_id="connection-remove")
        status = gr.Markdown(elem_id="connection-status")
        models = gr.CheckboxGroup(
            [], label=L("connections.models"), info=L("connections.models_info"), elem_id="connection-models"
        )
        typed = gr.Textbox(label=L("connections.typed"), info=L("connections.typed_info"), lines=2)
        add = gr.Button(L("connections.add"), variant="primary", elem_id="connection-add")
    form = [name, url, key_env, key, headers, version]
    return ConnectionWidgets(chosen, picked, help_text, form, save, refresh, remove, status, models, typed, add)


def model_label(model: ListedView, price: str = "") -> str:
    """One checkbox: the model's name, what the server said about it, its price (``price``: from
    LiteLLM's price map, "local: $0, by choice" or "cost unknown"), and whether it is added."""
    parts = [model.remote_model]
    details = model.details
    if isinstance(details.get("size"), int):
        parts.append(format_bytes(details["size"], request_language()))
    parts.extend(str(details[k]) for k in ("parameters", "quant", "family", "model") if details.get(k))
    if model.context_length:
        parts.append(text("connections.tag_context", tokens=model.context_length))
    if price:
        parts.append(price)
    if details.get("typed"):
        parts.append(text("connections.tag_typed"))
    if model.added:
        parts.append(text("connections.tag_added"))
    if model.new and not model.added:
        parts.append(text("connections.tag_new"))
    if not model.present:
        parts.append(text("connections.tag_gone"))
    return " · ".join(parts)


class ConnectionsController:
    def __init__(self, services: Services, listed: Callable[[str | None], tuple[Any, Any]]):
        """``listed(selected key)``: the Models table and model picker, fresh."""
        self.services = services
        self.connections = services.models.connections
        self.listed = listed

    def _shown(self, view: ConnectionView | None) -> tuple[Any, ...]:
        """Connection picker, status, model checkboxes."""
        choices = _connection_choices(self.services)
        if view is None:
            return gr.update(choices=choices, value=""), "", gr.update(choices=[], value=[])
        notes = "\n\n".join(inert_inline(say(note)) for note in view.notes)
        prices = self.services.models.prices
        boxes = [
            (
                model_label(m, say(prices.listed_price(view.preset, view.base_url, m.remote_model, m.details))),
                m.remote_model,
            )
            for m in view.models
        ]
        return gr.update(choices=choices, value=str(view.id)), notes, gr.update(choices=boxes, value=[])

    def pick_preset(self, preset_id: str):
        chosen = preset(preset_id)
        return (
            text(chosen.help),
            chosen.base_url,
            chosen.key_env,
            format_headers(chosen.headers),
            chosen.api_version,
        )

    @user_errors
    def open(self, connection_id: str):
        if not connection_id:
            return (*self._shown(None)[1:], CUSTOM, text(preset(CUSTOM).help), "", "", "", "", "")
        view = self.connections.get(int(connection_id))
        _, notes, boxes = self._shown(view)
        form = (view.name, view.base_url, view.api_key_env or "", format_headers(view.headers), view.api_version or "")
        return notes, boxes, view.preset, text(preset(view.preset).help), *form

    @user_errors
    def save(self, connection_id: str, preset_id: str, name, url, key_env, key, headers, version):
        view = self.connections.save(
            name,
            preset_id,
            url,
            key_env,
            key,
            headers,
            version,
            connection_id=int(connection_id) if connection_id else None,
        )
        return (*self._shown(view), "")  # clear the typed key: it lives in the server's memory only

    @user_errors
    def refresh(self, connection_id: str):
        return self._shown(self.connections.refresh(int(connection_id) if connection_id else None))

    @user_errors
    def add(self, connection_id: str, ticked: list[str], typed: str):
        specs = self.connections.add_models(int(connection_id) if connection_id else None, ticked or [], typed)
        view = self.connections.get(int(connection_id))
        if not specs:
            gr.Info(text("connections.added_none"))
        elif len(specs) == 1:
            gr.Info(text("connections.added_one", name=view.name))
        else:
            gr.Info(text("connections.added", count=len(specs), name=view.name))
        table, picker = self.listed(specs[0].key if specs else None)
        return (*self._shown(view)[1:], "", table, picker)

    @user_errors
    def remove(self, connection_id: str):
        gr.Info(say(self.connections.remove(int(connection_id) if connection_id else None)))
        table, picker = self.listed(None)
        return (*self._shown(None), table, picker)


def wire_connections(ui: ConnectionWidgets, controller: ConnectionsController, listed: list) -> None:
    """``listed``: the Models table and model picker, refreshed after models are added or removed."""
    name, url, key_env, key, headers, version = ui.form
    ui.preset.input(
        controller.pick_preset, [ui.preset], [ui.help, url, key_env, headers, version], api_name="connection_preset"
    )
    ui.chosen.input(
        controller.open,
        [ui.chosen],
        [ui.status, ui.models, ui.preset, ui.help, name, url, key_env, headers, version],
        api_name="connection_open",
    )
    shown = [ui.chosen, ui.status, ui.models]
    ui.save.click(controller.save, [ui.chosen, ui.preset, *ui.form], [*shown, key], api_name="connection_save")
    ui.refresh.click(controller.refresh, [ui.chosen], shown, api_name="connection_refresh")
    ui.add.click(
        controller.add,
        [ui.chosen, ui.models, ui.typed],
        [ui.status, ui.models, ui.typed, *listed],
        api_name="connection_add_models",
    )
    ui.remove.click(controller.remove, [ui.chosen], [*shown, *listed], api_name="connection_remove")


def build_connections_section(
    services: Services, listed: list, refreshed: Callable[[str | None], tuple[Any, Any]]
) -> ConnectionWidgets:
    ui = connections_layout(services)
    wire_connections(ui, ConnectionsController(services, refreshed), listed)
    return ui
