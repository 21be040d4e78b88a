"""Models tab: what is available, add/remove models and endpoints, and a quick try box."""

from __future__ import annotations

import gradio as gr

from components.ui_errors import user_errors
from playground.formatting import format_usage
from playground.models.types import GenerationParams
from playground.services import Services

TABLE_HEADERS = ["Name", "Backend", "Source", "Size", "Status", "Details"]


def build_models_tab(services: Services) -> dict[str, gr.components.Component]:
    models = services.models
    tokens = services.cancel_tokens

    def table_rows() -> list[list[str]]:
        return [[r.name, r.backend, r.source, r.size, r.status, r.description] for r in models.list_models()]

    def picker(selected: str | None = None) -> gr.Dropdown:
        return gr.Dropdown(**_picker_kwargs(services, selected))

    @user_errors
    def refresh(selected: str | None):
        return table_rows(), picker(selected)

    @user_errors
    def describe(key: str | None) -> str:
        if not key:
            return ""
        spec = models.describe(key)
        lines = [f"**{spec.name}** · {spec.backend} · {spec.source}"]
        if spec.description:
            lines.append(spec.description)
        if not spec.chat_template:
            lines.append("⚠️ Base model: it has no chat template, so your prompt is continued as plain text. Write the start of the text you want, not an instruction.")
        if spec.is_remote:
            lines.append(f"Endpoint {spec.base_url} · model `{spec.remote_model}` · " + ("price known" if spec.price else "no price set: cost shows as unknown"))
        return "\n\n".join(lines)

    @user_errors
    def unload(key: str | None):
        if not key:
            raise gr.Error("Pick a model first.")
        gr.Info(models.unload(key))
        return table_rows()

    @user_errors
    def remove(key: str | None):
        if not key:
            raise gr.Error("Pick a model first.")
        gr.Info(models.remove(key))
        return table_rows(), picker(None)

    def start_try() -> str:
        return tokens.new()

    def stop_try(token: str | None) -> None:
        tokens.cancel(token)

    @user_errors
    def try_prompt(key: str | None, prompt: str, max_tokens: float, temperature: float, seed: float | None, token: str):
        params = GenerationParams(
            temperature=float(temperature),
            max_tokens=int(max_tokens),
            seed=None if seed in (None, "") or int(seed) < 0 else int(seed),
        )
        cancel = tokens.event(token) if token else None
        try:
            yield "", "Loading the model and starting…"
            for update in models.try_prompt(key or "", prompt, params, cancel):
                if not update.done:
                    yield update.text, "Answering…"
                elif update.error:
                    yield update.text, f"❌ {update.error}"
                else:
                    yield update.text, format_usage(update.usage)
        finally:
            if token:
                tokens.release(token)

    @user_errors
    def add_gguf(path: str, name: str, backend: str):
        spec = models.add_gguf(path, name, backend)
        gr.Info(f"Added {spec.name}.")
        return table_rows(), picker(spec.key)

    @user_errors
    def add_hf(path: str, adapter: str, name: str):
        spec = models.add_hf_folder(path, adapter, name)
        gr.Info(f"Added {spec.name}.")
        return table_rows(), picker(spec.key)

    @user_errors
    def test_endpoint(url: str, model: str, key_env: str, key: str) -> str:
        return "✅ " + models.test_endpoint(url, model, key_env, key)

    @user_errors
    def add_endpoint(name: str, url: str, model: str, key_env: str, key: str, price_in, price_out):
        spec = models.add_endpoint(name, url, model, key_env, key, price_in, price_out)
        gr.Info(f"Saved endpoint {spec.name}.")
        return table_rows(), picker(spec.key), ""  # clear the key field: it lives in memory only

    @user_errors
    def add_folder(path: str):
        count = models.add_folder(path)
        gr.Info(f"Folder added: {count} model(s) found in it.")
        return table_rows(), picker(None)

    gr.Markdown(
        "Models you can use everywhere in Playground. Local models load on first use and are "
        "unloaded (least recently used first) when memory runs short."
    )
    table = gr.Dataframe(value=table_rows, headers=TABLE_HEADERS, interactive=False, wrap=True, label="Available models", elem_id="models-table")
    with gr.Row():
        model_pick = gr.Dropdown(label="Model", scale=3, elem_id="models-pick", **_picker_kwargs(services))
        refresh_btn = gr.Button("Refresh", scale=1)
        unload_btn = gr.Button("Unload", scale=1)
        remove_btn = gr.Button("Remove", variant="stop", scale=1)
    details = gr.Markdown(elem_id="models-details")

    with gr.Group():
        gr.Markdown("### Try a prompt")
        prompt = gr.Textbox(label="Prompt", lines=3, placeholder="Ask something, e.g. Give me three names for a bakery.", elem_id="try-prompt")
        with gr.Row():
            max_tokens = gr.Slider(1, 2048, value=256, step=1, label="Max tokens")
            temperature = gr.Slider(0.0, 2.0, value=0.7, step=0.05, label="Temperature")
            seed = gr.Number(value=-1, precision=0, label="Seed (-1 = random)")
        with gr.Row():
            run_btn = gr.Button("Run", variant="primary", elem_id="try-run")
            stop_btn = gr.Button("Stop", elem_id="try-stop")
        answer = gr.Textbox(label="Answer", lines=8, interactive=False, elem_id="try-answer")
        figures = gr.Markdown(elem_id="try-figures")
    token_state = gr.State("")

    with gr.Accordion("Add a GGUF file", open=False):
        gguf_path = gr.Textbox(label="Path to a .gguf file on this machine")
        gguf_name = gr.Textbox(label="Name (optional)")
        gguf_backend = gr.Radio([("llama.cpp (fast on CPU)", "llama_cpp"), ("transformers (PyTorch; converted once)", "transformers")], value="llama_cpp", label="Run with")
        gguf_btn = gr.Button("Add GGUF")
    with gr.Accordion("Add a Hugging Face model folder", open=False):
        hf_path = gr.Textbox(label="Folder with config.json and .safetensors weights")
        hf_adapter = gr.Textbox(label="PEFT adapter folder (optional)")
        hf_name = gr.Textbox(label="Name (optional)")
        hf_btn = gr.Button("Add folder model")
    with gr.Accordion("Add an OpenAI-compatible endpoint (OpenAI, vLLM, Ollama, llama.cpp server)", open=False):
        with gr.Row():
            ep_name = gr.Textbox(label="Name")
            ep_url = gr.Textbox(label="Base URL", placeholder="http://127.0.0.1:11434/v1")
            ep_model = gr.Textbox(label="Model name", placeholder="llama3.2")
        with gr.Row():
            ep_key_env = gr.Textbox(label="API key environment variable (saved)", placeholder="OPENAI_API_KEY")
            ep_key = gr.Textbox(label="API key (kept in memory only, never saved)", type="password")
        with gr.Row():
            ep_price_in = gr.Number(label="Price per 1M input tokens, $ (optional)", value=None)
            ep_price_out = gr.Number(label="Price per 1M output tokens, $ (optional)", value=None)
        with gr.Row():
            ep_test_btn = gr.Button("Test connection")
            ep_save_btn = gr.Button("Save endpoint", variant="primary")
        ep_result = gr.Markdown()
    with gr.Accordion("Add a models folder", open=False):
        folder_path = gr.Textbox(label="Folder to scan for GGUF files and model folders")
        folder_btn = gr.Button("Add folder")

    refresh_btn.click(refresh, [model_pick], [table, model_pick], api_name="models_list")
    model_pick.change(describe, [model_pick], [details], api_name="model_details")
    unload_btn.click(unload, [model_pick], [table], api_name="model_unload")
    remove_btn.click(remove, [model_pick], [table, model_pick], api_name="model_remove")
    try_inputs = [model_pick, prompt, max_tokens, temperature, seed, token_state]
    for trigger in (run_btn.click, prompt.submit):
        trigger(start_try, None, [token_state], queue=False, api_name=False).then(
            try_prompt, try_inputs, [answer, figures], api_name="model_try" if trigger == run_btn.click else False, concurrency_limit=None
        ).then(refresh, [model_pick], [table, model_pick], api_name=False)
    stop_btn.click(stop_try, [token_state], None, queue=False, api_name="model_try_stop")
    gguf_btn.click(add_gguf, [gguf_path, gguf_name, gguf_backend], [table, model_pick], api_name="model_add_gguf")
    hf_btn.click(add_hf, [hf_path, hf_adapter, hf_name], [table, model_pick], api_name="model_add_hf")
    ep_test_btn.click(test_endpoint, [ep_url, ep_model, ep_key_env, ep_key], [ep_result], api_name="model_test_endpoint")
    ep_save_btn.click(
        add_endpoint, [ep_name, ep_url, ep_model, ep_key_env, ep_key, ep_price_in, ep_price_out], [table, model_pick, ep_key], api_name="model_add_endpoint"
    )
    folder_btn.click(add_folder, [folder_path], [table, model_pick], api_name="model_add_folder")
    return {"table": table, "model_pick": model_pick, "details": details}


def _picker_kwargs(services: Services, selected: str | None = None) -> dict:
    """Choices for a model picker, keeping the current pick, else the default model."""
    choices = services.models.choices()
    keys = [key for _, key in choices]
    for candidate in (selected, services.settings.default_model_key):
        if candidate in keys:
            return {"choices": choices, "value": candidate}
    return {"choices": choices, "value": keys[0] if keys else None}
