"""Cost and time estimates in the tabs that start big runs (Compare's batch, Arena's
pre-generation, Judge): an "Estimate cost and time" button with its panel, the estimate repeated
in the run's progress line while it goes, and actual against estimate once it has ended."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import gradio as gr

from components.i18n import L, request_language, text
from components.ui_errors import user_errors
from playground.errors import UserFacingError
from playground.estimates import RunActual, RunEstimate
from playground.estimates_view import comparison_markdown, estimate_line, estimate_markdown
from playground.services import Services

log = logging.getLogger(__name__)


def estimate_widgets(elem_prefix: str) -> tuple[gr.Button, gr.Markdown]:
    """The button (put it in the row of the Run button) and the panel it fills."""
    button = gr.Button(L("estimate.button"), elem_id=f"{elem_prefix}-estimate-button")
    return button, gr.Markdown(elem_id=f"{elem_prefix}-estimate")


def estimate_view(estimate: RunEstimate) -> str:
    return estimate_markdown(estimate, request_language())


def estimate_before_run(make: Callable[[], RunEstimate]) -> RunEstimate | None:
    """A run's estimate, made as it starts. What the user can fix is refused as the run would refuse
    it; anything else is logged and the run goes on without an estimate, rather than not at all."""
    try:
        return make()
    except UserFacingError:
        raise
    except Exception:
        log.exception("Could not estimate a run before starting it")
        return None


def while_running(line: str, estimate: RunEstimate | None) -> str:
    """A progress line with the estimate under it, labelled as one."""
    return line if estimate is None else f"{line}\n\n{estimate_line(estimate, request_language())}"


def after_run(line: str, against: tuple[RunEstimate, RunActual] | None) -> str:
    """A finished run's line with its actual figures against the estimate."""
    if against is None:
        return line
    return f"{line}\n\n{comparison_markdown(*against, request_language())}"


class ArenaEstimates:
    """The Arena's Set up sub-tab: pre-generation's estimate, and actual against it once done."""

    def __init__(self, services: Services):
        self.estimates = services.estimates
        self.arena = services.arena

    @user_errors
    def estimate(self, evaluation_id) -> str:
        return estimate_view(self.estimates.for_pregen(evaluation_id))

    def panel(self, evaluation_id) -> Any:
        """The last start's estimate while it runs; actual against it after (polled)."""
        if not evaluation_id:
            return ""
        try:
            against = self.estimates.against(self.estimates.pregen_run_id(evaluation_id))
            if against is None:
                return gr.skip()  # no start with an estimate yet: keep what the Estimate button showed
            if self.arena.jobs.running(int(evaluation_id)):
                return f"{text('estimate.arena_running')}\n\n{estimate_view(against[0])}"
            return comparison_markdown(*against, request_language())
        except UserFacingError:  # e.g. deleted meanwhile: the progress line says so
            return ""


def start_estimate_for_pregen(services: Services, evaluation_id) -> dict | None:
    """The estimate to keep with a pre-generation start (None when there is nothing to estimate)."""
    if not evaluation_id:
        return None
    estimate = estimate_before_run(lambda: services.estimates.for_pregen(evaluation_id))
    return estimate.to_dict() if estimate is not None else None


def wire_arena_estimates(
    services: Services,
    button: gr.Button,
    info: gr.Markdown,
    evaluation: gr.components.Component,
    generate: gr.Button,
    timer: gr.Timer,
) -> None:
    estimates = ArenaEstimates(services)
    button.click(estimates.estimate, [evaluation], [info], api_name="arena_estimate")
    generate.click(estimates.panel, [evaluation], [info], api_name=False, show_progress="hidden")
    timer.tick(
        estimates.panel, [evaluation], [info], api_name="arena_estimate_progress", show_progress="hidden",
        concurrency_limit=8, concurrency_id="arena_admin_poll",
    )  # fmt: skip
