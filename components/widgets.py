"""Shared widgets, one helper each: a model picker that keeps its selection, and a run with
progress and Stop. Tabs use these instead of writing their own."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, Protocol

import gradio as gr

from components.i18n import say
from components.stream_relay import relayed, with_status
from components.tab import Event
from playground.cancellation import CancelTokens
from playground.i18n import Text, t
from playground.progress import OnProgress, Progress
from playground.services import Services


# ---- model pickers ------------------------------------------------------------------------
def kept_value(
    keys: Sequence[str], selected: Any, fallbacks: Sequence[str | None] = (), multiselect: bool = False
) -> Any:
    """The selection to keep after the choices changed: what was picked if it still exists,
    else the first fallback that exists (for a single picker), else nothing."""
    if multiselect:
        picked = selected if isinstance(selected, (list, tuple)) else ([selected] if selected else [])
        return [key for key in picked if key in keys]
    for candidate in (selected, *fallbacks):
        if candidate in keys:
            return candidate
    return keys[0] if fallbacks and keys else None  # the default model is gone: any model beats none


def model_picker_update(
    services: Services, selected: Any = None, multiselect: bool = False, use_default: bool = True
) -> dict:
    """Fresh model choices for a picker, keeping its selection (or the default model)."""
    choices = services.models.choices()
    keys = [key for _, key in choices]
    fallbacks = (services.settings.default_model_key,) if use_default else ()
    return gr.update(choices=choices, value=kept_value(keys, selected, fallbacks, multiselect))


def model_picker(
    services: Services,
    label: str,
    *,
    multiselect: bool = False,
    use_default: bool = True,
    value: Any = None,
    **kwargs: Any,
) -> gr.Dropdown:
    """A model dropdown filled with every model the user can pick, the default selected."""
    choices = services.models.choices()
    keys = [key for _, key in choices]
    fallbacks = (services.settings.default_model_key,) if use_default else ()
    initial = kept_value(keys, value, fallbacks, multiselect)
    return gr.Dropdown(label=label, choices=choices, value=initial, multiselect=multiselect, **kwargs)


def refresh_pickers(
    services: Services, pickers: Sequence[gr.Dropdown], multiselect: bool = False, use_default: bool = True
) -> Event:
    """The on-open event that refreshes model pickers, each keeping its own selection."""

    def refresh(*selected: Any) -> Any:
        updates = [model_picker_update(services, value, multiselect, use_default) for value in selected]
        return updates[0] if len(updates) == 1 else updates

    return Event(refresh, list(pickers), list(pickers))


def refresh_on_focus(
    services: Services, picker: gr.Dropdown, multiselect: bool = False, use_default: bool = True
) -> None:
    """Refresh a picker's choices when the user opens it (models added in another tab appear)."""
    Event(refresh_pickers(services, [picker], multiselect, use_default).fn, [picker], [picker]).attach(
        picker.focus, queue=False
    )


# ---- generation events share one pool of slots -------------------------------------------
# Every event that makes a model answer (Compare, Documents, Arena live asks, Judge, the Models
# try box, ...) joins this concurrency group, so at most `Settings.generation_concurrency` of
# them run at once however many people press Run; the rest wait in Gradio's queue (whose
# `max_size` turns the surplus away). `configure_queue` sets the group's limit at launch.
GENERATION_ID = "generation"
GENERATION_EVENTS: dict[str, Any] = {"concurrency_id": GENERATION_ID, "concurrency_limit": None}


def limit_generation(demo: gr.Blocks, limit: int) -> int:
    """Give every event of the generation group the same limit (Gradio keeps the lowest one
    a group's events declare); returns how many events are in the group."""
    events = [fn for fn in demo.fns.values() if fn.concurrency_id == GENERATION_ID]
    for fn in events:
        fn.concurrency_limit = limit
    return len(events)


# ---- a run with progress and Stop ---------------------------------------------------------
class HasProgress(Protocol):
    @property
    def progress(self) -> Progress: ...

    @property
    def finished(self) -> bool: ...


def progress_reporter(bar: Any, unit: str | None = "steps") -> OnProgress:
    """The one bridge from the progress protocol to Gradio's progress bar.

    With ``unit=None`` the bar shows only how far along the job is: for jobs whose units
    are not countable things (``scaled`` parts of several files), "1.5k/4k steps" means nothing.
    """

    def report(p: Progress) -> None:
        desc = say(p.message) if p.message else None  # in the language of the request being handled
        if unit is None:
            bar(p.fraction, desc=desc)
        elif p.total > 0:
            bar((p.done, p.total), desc=desc, unit=unit)
        else:
            bar(0.0, desc=desc)

    return report


def with_progress(steps: Iterable[Any], bar: Any, unit: str = "steps") -> Iterator[Any]:
    """Pass a job's snapshots through, moving the progress bar on each unfinished one."""
    report = progress_reporter(bar, unit)
    for step in steps:
        if not step.finished:
            report(step.progress)
        yield step


class StoppableRun:
    """A Run button and a Stop button for one long job, sharing one cancel token.

    ``wire`` attaches both; the handler receives the token as its last input and opens
    ``cancel_event(token)`` around its work. API callers that skip the click's first step
    (which issues the token) get a token of their own. Stop only sets the token's event: the run's
    own stream, relayed, says it is stopping in the status output and then how it ended
    (``stream_relay`` says why the Stop reply must not write the status itself).
    """

    def __init__(self, tokens: CancelTokens, stopping: str | Text | None = None):
        self.tokens = tokens
        self.stopping = stopping if stopping is not None else t("models.stopping")
        self.token = gr.State("")

    def start(self) -> str:
        return self.tokens.new()

    def stop(self, token: str | None) -> str:
        """Stop the run holding ``token``; an API caller reads the stopping sentence back."""
        return say(self.stopping) if self.tokens.cancel(token) else ""

    @contextmanager
    def cancel_event(self, token: str | None) -> Iterator[threading.Event]:
        token = token or self.tokens.new()
        try:
            yield self.tokens.event(token)
        finally:
            self.tokens.release(token)

    def _relayed(self, fn: Callable[..., Any], inputs: Sequence[Any], outputs: Sequence[Any], status: Any) -> Any:
        """``fn`` with its stream relayed so that it says "stopping" in ``status`` (one of ``outputs``)."""
        if status is None or not any(output is status for output in outputs):
            return fn
        index = next(i for i, output in enumerate(outputs) if output is status)
        width = len(outputs)
        return relayed(
            fn,
            token_index=len(inputs),
            event_for=self.tokens.event,
            new_token=self.tokens.new,
            release=self.tokens.release,
            notice=lambda item: with_status(item, index, width, say(self.stopping)),
        )

    def wire(
        self,
        run_button: gr.Button,
        stop_button: gr.Button,
        fn: Callable[..., Any],
        inputs: Sequence[Any],
        outputs: Sequence[Any],
        *,
        api_name: str,
        stop_api_name: str | bool,
        status: Any,
        **event_kwargs: Any,
    ) -> Any:
        """Run: issue a token, then ``fn(*inputs, token)``; Stop: cancel it, and the run says so in ``status``."""
        for key, value in GENERATION_EVENTS.items():  # other long work (ingest) passes its own group
            event_kwargs.setdefault(key, value)
        event_kwargs.setdefault("show_progress_on", [status])
        event = self.then_run(run_button.click, fn, inputs, outputs, api_name=api_name, status=status, **event_kwargs)
        # The reply goes to a hidden box, not the status: it would race the run's last message there.
        # An API caller reads it.
        stopped = gr.Textbox(visible=False, show_label=False)
        stop_button.click(self.stop, [self.token], [stopped], queue=False, api_name=stop_api_name)
        return event

    def then_run(
        self,
        trigger: Callable[..., Any],
        fn: Callable[..., Any],
        inputs: Sequence[Any],
        outputs: Sequence[Any],
        *,
        api_name: str | bool,
        status: Any = None,
        **event_kwargs: Any,
    ) -> Any:
        """Another trigger (Enter in a box, a second button) for a job the same Stop button stops;
        ``status``, one of ``outputs``, is where the run says it is stopping."""
        started = trigger(self.start, None, [self.token], queue=False, api_name=False)
        runner = self._relayed(fn, inputs, outputs, status)
        return started.then(runner, [*inputs, self.token], list(outputs), api_name=api_name, **event_kwargs)
