"""The contract between a tab and the app: what a tab's builder returns to ``app.py``.

Every tab module has a layout function that builds the widgets, a controller class whose
methods are the handlers (each reads its inputs, calls one service method and formats the
result), and a ``build_<name>_tab(services, ...)`` that puts the two together and returns a
``TabHandle``. ``app.py`` runs each handle's ``on_open`` events when the tab is selected (so
model pickers and lists pick up what other tabs added) and its ``on_load`` events when the page
loads (so a reload re-attaches to work in flight).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import gradio as gr


@dataclass(frozen=True)
class Event:
    """A handler with its inputs and outputs, for the app to attach to a trigger."""

    fn: Callable[..., Any]
    inputs: Sequence[gr.components.Component] = ()
    outputs: Sequence[gr.components.Component] = ()
    api_name: str | bool = False

    def attach(self, trigger: Callable[..., Any], **kwargs: Any) -> Any:
        return trigger(self.fn, list(self.inputs) or None, list(self.outputs) or None, api_name=self.api_name, **kwargs)


@dataclass
class TabHandle:
    on_open: list[Event] = field(default_factory=list)
    on_load: list[Event] = field(default_factory=list)


def wire_tab(demo: gr.Blocks, tab: gr.Tab, handle: TabHandle) -> None:
    """Attach a tab's refresh-on-open and on-page-load events (the one place this happens)."""
    for event in handle.on_open:
        event.attach(tab.select, queue=False)
    for event in handle.on_load:
        event.attach(demo.load)
