"""The whole Gradio app: one tab per job, all talking to one Services object."""

from __future__ import annotations

from pathlib import Path

import gradio as gr

from components.compare_tab import build_compare_tab
from components.models_tab import build_models_tab
from playground.services import Services

ASSETS = Path(__file__).resolve().parent.parent / "assets"
TITLE = "Playground"


def build_app(services: Services) -> gr.Blocks:
    with gr.Blocks(title=TITLE) as demo:
        gr.Markdown(f"# {TITLE}\nTry large language models side by side, on your own documents and examples — no code.", elem_id="app-header")
        with gr.Tabs(elem_id="main-tabs") as tabs:
            with gr.Tab("Compare", id="compare") as compare_tab:
                compare = build_compare_tab(services, tabs)
            with gr.Tab("Models", id="models"):
                build_models_tab(services)
        fn, inputs, outputs = compare.refresh_models
        compare_tab.select(fn, inputs, outputs, api_name=False, queue=False)
    return demo


def launch_kwargs() -> dict:
    """App-level look, passed to launch() (Gradio 6 moved theme and css there)."""
    css_path = ASSETS / "playground.css"
    return {
        "theme": gr.themes.Soft(primary_hue="indigo"),
        "css": css_path.read_text() if css_path.is_file() else None,
        "footer_links": ["api"],
    }
