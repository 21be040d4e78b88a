"""The whole Gradio app: one tab per job, all talking to one Services object."""

from __future__ import annotations

from pathlib import Path

import gradio as gr

from components.arena_rater import build_rater_view
from components.arena_tab import build_arena_tab
from components.compare_tab import build_compare_tab
from components.documents_tab import build_documents_tab
from components.finetune_tab import build_finetune_tab
from components.history_tab import build_history_tab
from components.i18n import L, language_switch
from components.judge_tab import build_judge_tab
from components.models_tab import build_models_tab
from components.tab import wire_tab
from components.widgets import limit_generation
from playground.services import Services
from playground.settings import Settings

ASSETS = Path(__file__).resolve().parent.parent / "assets"
TITLE = "Playground"


def file_retention(settings: Settings) -> tuple[int, int]:
    """Gradio's ``delete_cache`` (how often, older than what, in seconds): uploaded files, and
    files made for download, are deleted once ``upload_retention_hours`` old. Without it Gradio
    keeps every upload until the disk is full: a participant could fill it file by file."""
    age = max(1, round(settings.upload_retention_hours * 3600))
    return max(1, min(3600, age // 4)), age


def build_rater_app(services: Services) -> gr.Blocks:
    """Only the rater view (the ``/rate`` door, or the whole app with ``--arena-only``): no
    other tabs, no model names, and only the rater's events in its API."""
    with gr.Blocks(title=f"{TITLE} Arena", delete_cache=file_retention(services.settings)) as demo:
        _header(demo, "app.rater_header")
        rater = build_rater_view(services)
        for event in rater.on_load:  # no tab to open here: the rater view is the whole page
            event.attach(demo.load)
    return demo


build_arena_only_app = build_rater_app  # the name older callers use


def build_app(services: Services, arena_only: bool = False) -> gr.Blocks:
    if arena_only:
        return build_rater_app(services)
    with gr.Blocks(title=TITLE, delete_cache=file_retention(services.settings)) as demo:
        _header(demo, "app.header")
        with gr.Tabs(elem_id="main-tabs") as tabs:
            with gr.Tab(L("app.tab_compare"), id="compare") as compare_tab:
                compare = build_compare_tab(services, tabs)
            with gr.Tab(L("app.tab_documents"), id="documents") as documents_tab:
                documents = build_documents_tab(services)
            with gr.Tab(L("app.tab_finetune"), id="finetune") as finetune_tab:
                finetune = build_finetune_tab(services)
            with gr.Tab(L("app.tab_arena"), id="arena") as arena_tab:
                arena = build_arena_tab(services)
            with gr.Tab(L("app.tab_judge"), id="judge") as judge_tab:
                judge = build_judge_tab(services)
            with gr.Tab(L("app.tab_history"), id="history") as history_tab:
                history = build_history_tab(services, compare)
            with gr.Tab(L("app.tab_models"), id="models") as models_tab:
                models = build_models_tab(services)
        wire_tab(demo, documents_tab, documents)
        wire_tab(demo, arena_tab, arena)
        wire_tab(demo, finetune_tab, finetune)  # on load, a reload or a second browser re-attaches to the running job
        wire_tab(demo, compare_tab, compare)
        wire_tab(demo, judge_tab, judge)
        wire_tab(demo, history_tab, history)
        wire_tab(demo, models_tab, models)
    return demo


def _header(demo: gr.Blocks, key: str) -> None:
    """The page's title and one-line purpose, with the language switch on the right."""
    with gr.Row(equal_height=True, elem_id="app-header-row"):
        gr.Markdown(L(key), elem_id="app-header")
        language_switch(demo)


def configure_queue(demo: gr.Blocks, settings: Settings) -> gr.Blocks:
    """The queue long events wait in: at most ``queue_max_size`` waiting (past it a browser shows
    Gradio's "This application is currently busy. Please try again.", gradio_client raises
    "Queue is full! Please try again.", raw HTTP gets 503), and one shared limit on events that
    make a model answer (``generation_concurrency``). Events with ``queue=False`` skip it."""
    demo.queue(max_size=settings.queue_max_size, default_concurrency_limit=4)
    limit_generation(demo, settings.generation_concurrency)
    return demo


def launch_kwargs() -> dict:
    """App-level look, passed to launch() (Gradio 6 moved theme and css there)."""
    css_path = ASSETS / "playground.css"
    return {
        "theme": gr.themes.Soft(primary_hue="indigo"),
        "css": css_path.read_text() if css_path.is_file() else None,
        "footer_links": ["api"],
    }
