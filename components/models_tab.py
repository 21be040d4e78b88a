"""Models tab: what is available, add/remove models and endpoints, and a quick try box."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import gradio as gr

from components.i18n import L, request_language, say, text
from components.models_connections import build_connections_section
from components.models_prices import PricesController, PriceWidgets, prices_layout, wire_prices
from components.tab import Event, TabHandle
from components.ui_errors import refusals, refused_at, user_errors
from components.widgets import GENERATION_EVENTS, StoppableRun, model_picker, model_picker_update
from playground.formatting import format_usage, price_text
from playground.i18n import Text, t
from playground.models.quirks import describe as describe_quirks
from playground.models.types import GenerationParams
from playground.rendering import inert_inline
from playground.services import Services

TABLE_HEADERS = ["Name", "Backend", "Source", "Size", "Status", "Details"]
# A Dataframe's headers are not translated in the browser: the handlers that fill the table render these.
HEADER_KEYS = [f"models.header_{name.lower()}" for name in TABLE_HEADERS]


@dataclass
class TryWidgets:
    prompt: gr.Textbox
    max_tokens: gr.Slider
    temperature: gr.Slider
    seed: gr.Number
    run: gr.Button
    stop: gr.Button
    answer: gr.Textbox
    figures: gr.Markdown


@dataclass
class AddWidgets:
    gguf_path: gr.Textbox
    gguf_name: gr.Textbox
    gguf_backend: gr.Radio
    gguf: gr.Button
    hf_path: gr.Textbox
    hf_adapter: gr.Textbox
    hf_name: gr.Textbox
    hf: gr.Button
    endpoint_fields: list  # name, url, model, key env, key, price in, price out
    endpoint_test: gr.Button
    endpoint_save: gr.Button
    endpoint_result: gr.Markdown
    folder_path: gr.Textbox
    folder: gr.Button


@dataclass
class ModelsLayout:
    table: gr.Dataframe
    pick: gr.Dropdown
    refresh: gr.Button
    unload: gr.Button
    remove: gr.Button
    details: gr.Markdown
    prices: PriceWidgets
    trying: TryWidgets
    adding: AddWidgets


def try_layout(max_tokens_cap: int) -> TryWidgets:
    with gr.Group():
        gr.Markdown(L("models.try_heading"))
        prompt = gr.Textbox(
            label=L("models.prompt"),
            lines=3,
            placeholder=L("models.try_placeholder"),
            elem_id="try-prompt",
        )
        with gr.Row():
            max_tokens = gr.Slider(
                1, max_tokens_cap, value=min(256, max_tokens_cap), step=1, label=L("models.max_tokens")
            )
            temperature = gr.Slider(0.0, 2.0, value=0.7, step=0.05, label=L("models.temperature"))
            seed = gr.Number(value=-1, precision=0, label=L("models.seed"))
        with gr.Row():
            run = gr.Button(L("models.run"), variant="primary", elem_id="try-run")
            stop = gr.Button(L("models.stop"), elem_id="try-stop")
        answer = gr.Textbox(label=L("models.answer"), lines=8, interactive=False, elem_id="try-answer")
        figures = gr.Markdown(elem_id="try-figures")
    return TryWidgets(prompt, max_tokens, temperature, seed, run, stop, answer, figures)


def endpoint_layout() -> tuple[list, gr.Button, gr.Button, gr.Markdown]:
    with gr.Accordion(L("models.endpoint_accordion"), open=False):
        with gr.Row():
            name = gr.Textbox(label=L("models.endpoint_name"))
            url = gr.Textbox(label=L("models.base_url"), placeholder="http://127.0.0.1:11434/v1")
            model = gr.Textbox(label=L("models.model_name"), placeholder="llama3.2")
        with gr.Row():
            key_env = gr.Textbox(label=L("models.key_env"), placeholder="OPENAI_API_KEY", info=L("models.key_env_info"))
            key = gr.Textbox(label=L("models.key"), type="password", info=L("models.key_info"))
        with gr.Row():
            price_in = gr.Number(label=L("models.price_in"), value=None)
            price_out = gr.Number(label=L("models.price_out"), value=None)
        with gr.Row():
            test = gr.Button(L("models.test_connection"))
            save = gr.Button(L("models.save_endpoint"), variant="primary")
        result = gr.Markdown()
    return [name, url, model, key_env, key, price_in, price_out], test, save, result


def add_layout() -> AddWidgets:
    with gr.Accordion(L("models.gguf_accordion"), open=False):
        gguf_path = gr.Textbox(label=L("models.gguf_path"))
        gguf_name = gr.Textbox(label=L("models.name_optional"))
        gguf_backend = gr.Radio(
            [(L("models.backend_llama"), "llama_cpp"), (L("models.backend_transformers"), "transformers")],
            value="llama_cpp",
            label=L("models.run_with"),
        )
        gguf = gr.Button(L("models.add_gguf"))
    with gr.Accordion(L("models.hf_accordion"), open=False):
        hf_path = gr.Textbox(label=L("models.hf_path"))
        hf_adapter = gr.Textbox(label=L("models.hf_adapter"))
        hf_name = gr.Textbox(label=L("models.name_optional"))
        hf = gr.Button(L("models.add_hf"))
    fields, test, save, result = endpoint_layout()
    with gr.Accordion(L("models.folder_accordion"), open=False):
        folder_path = gr.Textbox(label=L("models.folder_path"))
        folder = gr.Button(L("models.add_folder"))
    return AddWidgets(
        gguf_path,
        gguf_name,
        gguf_backend,
        gguf,
        hf_path,
        hf_adapter,
        hf_name,
        hf,
        fields,
        test,
        save,
        result,
        folder_path,
        folder,
    )


def models_layout(services: Services, table_rows: Callable[[], dict[str, Any]]) -> ModelsLayout:
    gr.Markdown(L("models.intro"))
    table = gr.Dataframe(
        value=table_rows,
        headers=TABLE_HEADERS,
        interactive=False,
        wrap=True,
        label=L("models.available"),
        elem_id="models-table",
    )
    with gr.Row():
        pick = model_picker(services, L("models.model"), scale=3, elem_id="models-pick")
        refresh = gr.Button(L("models.refresh"), scale=1)
        unload = gr.Button(L("models.unload"), scale=1)
        remove = gr.Button(L("models.remove"), variant="stop", scale=1)
    details = gr.Markdown(elem_id="models-details")
    prices = prices_layout(services)
    trying = try_layout(services.settings.max_tokens)
    return ModelsLayout(table, pick, refresh, unload, remove, details, prices, trying, add_layout())


def _inert_values(line: Text) -> Text:
    """``line`` with its text values (a model's name, a price map entry) shown exactly as written."""
    return Text(line.key, {k: inert_inline(v) if isinstance(v, str) else v for k, v in line.values.items()})


def _params(max_tokens: float, temperature: float, seed: float | None) -> GenerationParams:
    return GenerationParams(
        temperature=float(temperature),
        max_tokens=int(max_tokens),
        seed=None if seed in (None, "") or int(seed) < 0 else int(seed),
    )


class ModelsController:
    """The Models tab's handlers: each reads its inputs, asks the ModelsService, formats the answer."""

    def __init__(self, services: Services, stoppable: StoppableRun):
        self.services = services
        self.models = services.models
        self.stoppable = stoppable

    def table_rows(self) -> dict[str, Any]:
        """The models table, its headers and words in the reader's language."""
        language = request_language()
        rows = [
            [r.name, r.backend, r.source, r.size, r.status, r.description] for r in self.models.list_models(language)
        ]
        return {"headers": [text(key) for key in HEADER_KEYS], "data": rows}

    def _picker(self, selected: str | None) -> dict:
        return model_picker_update(self.services, selected)

    @user_errors
    def refresh(self, selected: str | None):
        return self.table_rows(), self._picker(selected)

    @user_errors
    def describe(self, key: str | None) -> str:
        if not key:
            return ""
        spec = self.models.describe(key)
        lines = [f"**{inert_inline(spec.name)}** · {spec.backend} · {spec.source}"]
        if spec.description:
            lines.append(inert_inline(say(spec.description)))
        if not spec.chat_template:
            lines.append(text("models.base_model_note"))
        if spec.is_remote:
            price = say(price_text(spec.price, spec.price_source))
            url, model = inert_inline(spec.base_url), inert_inline(spec.remote_model)
            lines.append(text("models.details_endpoint", url=url, model=model, price=price))
            if spec.extra.get("quirks"):  # learnt from the model's own errors (reasoning models)
                lines.append(text("connections.quirks", quirks=", ".join(describe_quirks(spec.extra["quirks"]))))
        lines.extend(say(_inert_values(line)) for line in self.models.prices.details(key))  # price, context window
        return "\n\n".join(lines)

    def check_model(self, key: str | None, *_rest) -> None:
        self.models.check_model(key)

    def check_try(self, key: str | None, prompt: str, *_rest) -> None:
        with refused_at(0):
            self.models.check_model(key)
        with refused_at(1):
            self.models.check_try(key, prompt)

    @user_errors
    def unload(self, key: str | None):
        self.models.check_model(key)
        gr.Info(say(self.models.unload(key)))
        return self.table_rows()

    @user_errors
    def remove(self, key: str | None):
        self.models.check_model(key)
        gr.Info(say(self.models.remove(key)))
        return self.table_rows(), self._picker(None)

    def stop_try(self, token: str | None) -> None:
        self.stoppable.tokens.cancel(token)  # the try box shows no "stopping" line: its answer just ends

    @user_errors
    def try_prompt(
        self, key: str | None, prompt: str, max_tokens: float, temperature: float, seed: float | None, token: str
    ):
        params = _params(max_tokens, temperature, seed)
        language = request_language()
        with self.stoppable.cancel_event(token) as cancel:
            yield "", say(t("models.starting"), language)
            for update in self.models.try_prompt(key or "", prompt, params, cancel):
                if not update.done:
                    yield update.text, say(t("models.answering"), language)
                elif update.error:
                    yield update.text, f"❌ {inert_inline(say(update.error, language))}"
                else:
                    note = say(update.note_text or update.note, language) if update.note else ""
                    yield update.text, format_usage(update.usage, language) + (f" · {note}" if note else "")

    @user_errors
    def add_gguf(self, path: str, name: str, backend: str):
        spec = self.models.add_gguf(path, name, backend)
        gr.Info(text("models.added", name=spec.name))
        return self.table_rows(), self._picker(spec.key)

    @user_errors
    def add_hf(self, path: str, adapter: str, name: str):
        spec = self.models.add_hf_folder(path, adapter, name)
        gr.Info(text("models.added", name=spec.name))
        return self.table_rows(), self._picker(spec.key)

    @user_errors
    def test_endpoint(self, url: str, model: str, key_env: str, key: str) -> str:
        return "✅ " + inert_inline(self.models.test_endpoint(url, model, key_env, key))  # the server's words

    @user_errors
    def add_endpoint(self, name: str, url: str, model: str, key_env: str, key: str, price_in, price_out):
        spec = self.models.add_endpoint(name, url, model, key_env, key, price_in, price_out)
        gr.Info(text("models.endpoint_saved", name=spec.name))
        return self.table_rows(), self._picker(spec.key), ""  # clear the key field: it lives in memory only

    @user_errors
    def add_folder(self, path: str):
        count = self.models.add_folder(path)
        gr.Info(text("models.folder_added", count=count))
        return self.table_rows(), self._picker(None)


def _wire_try(ui: ModelsLayout, controller: ModelsController, stoppable: StoppableRun) -> None:
    trying = ui.trying
    inputs = [ui.pick, trying.prompt, trying.max_tokens, trying.temperature, trying.seed, stoppable.token]
    # Run and Enter in the prompt both start an answer; only Run is the API's model_try.
    for trigger, api_name in ((trying.run.click, "model_try"), (trying.prompt.submit, False)):
        started = trigger(stoppable.start, None, [stoppable.token], queue=False, api_name=False)
        answered = started.then(
            controller.try_prompt,
            inputs,
            [trying.answer, trying.figures],
            api_name=api_name,
            validator=refusals(controller.check_try),
            **GENERATION_EVENTS,
        )
        answered.then(controller.refresh, [ui.pick], [ui.table, ui.pick], api_name=False)
    trying.stop.click(controller.stop_try, [stoppable.token], None, queue=False, api_name="model_try_stop")


def _wire(ui: ModelsLayout, controller: ModelsController) -> None:
    listed = [ui.table, ui.pick]
    adding = ui.adding
    ui.refresh.click(controller.refresh, [ui.pick], listed, api_name="models_list")
    ui.pick.change(controller.describe, [ui.pick], [ui.details], api_name="model_details")
    picked = refusals(controller.check_model)
    ui.unload.click(controller.unload, [ui.pick], [ui.table], api_name="model_unload", validator=picked)
    ui.remove.click(controller.remove, [ui.pick], listed, api_name="model_remove", validator=picked)
    adding.gguf.click(
        controller.add_gguf,
        [adding.gguf_path, adding.gguf_name, adding.gguf_backend],
        listed,
        api_name="model_add_gguf",
    )
    adding.hf.click(
        controller.add_hf, [adding.hf_path, adding.hf_adapter, adding.hf_name], listed, api_name="model_add_hf"
    )
    _name, url, model, key_env, key, *_prices = adding.endpoint_fields
    adding.endpoint_test.click(
        controller.test_endpoint, [url, model, key_env, key], [adding.endpoint_result], api_name="model_test_endpoint"
    )
    adding.endpoint_save.click(
        controller.add_endpoint, adding.endpoint_fields, [*listed, key], api_name="model_add_endpoint"
    )
    adding.folder.click(controller.add_folder, [adding.folder_path], listed, api_name="model_add_folder")


def build_models_tab(services: Services) -> TabHandle:
    stoppable = StoppableRun(services.cancel_tokens)
    controller = ModelsController(services, stoppable)
    ui = models_layout(services, controller.table_rows)
    build_connections_section(
        services, [ui.table, ui.pick], lambda key: (controller.table_rows(), controller._picker(key))
    )
    _wire(ui, controller)
    wire_prices(ui.prices, PricesController(services, controller.describe), ui.pick, ui.details)
    _wire_try(ui, controller, stoppable)
    return TabHandle(
        on_open=[Event(controller.refresh, [ui.pick], [ui.table, ui.pick])]
    )  # models added in other tabs appear
