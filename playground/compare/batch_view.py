"""How a batch grid and its progress read on screen (plain text; no UI library)."""

from __future__ import annotations

from playground.compare.batch import NOT_RUN, BatchCell, BatchGrid, BatchProgress
from playground.formatting import clip, format_duration
from playground.i18n import DEFAULT_LANGUAGE, Text
from playground.statuses import GenerationStatus, RunStatus

ENDINGS: dict[str, str] = {  # how a batch ended: catalogue keys
    RunStatus.DONE: "compare.batch_finished",
    RunStatus.CANCELLED: "compare.batch_cancelled",
    RunStatus.FAILED: "compare.batch_failed",
}
COUNTED = (  # the cells a finished batch's line counts, when there are any
    (GenerationStatus.ERROR, "compare.count_failed"),
    (GenerationStatus.CANCELLED, "compare.count_stopped"),
    (NOT_RUN, "compare.count_not_run"),
)


def _say(key: str, language: str, **values: object) -> str:
    return Text(key, values).render(language)


def grid_table(
    grid: BatchGrid, max_chars: int = 400, input_chars: int = 36, language: str = DEFAULT_LANGUAGE
) -> tuple[list[str], list[list[str]]]:
    """Headers and rows for showing a grid: row number, the inputs the template uses
    (clipped, so the answers stay in view; exports have them whole), then one column per
    model column."""
    shown_inputs = [c for c in grid.input_columns if c in grid.variable_columns.values()] or grid.input_columns
    headers = ["#", *shown_inputs, *(f"{i + 1} · {name}" for i, name in enumerate(grid.column_names))]
    rows = []
    for number, (values, cells) in enumerate(zip(grid.inputs, grid.cells), start=1):
        rows.append(
            [
                str(number),
                *(clip(values.get(c, ""), input_chars) for c in shown_inputs),
                *(cell_text(c, max_chars, language) for c in cells),
            ]
        )
    return headers, rows


def cell_text(cell: BatchCell, max_chars: int = 400, language: str = DEFAULT_LANGUAGE) -> str:
    if cell.status == NOT_RUN:
        return _say("compare.cell_not_run", language)
    if cell.status == GenerationStatus.WAITING:
        return "⏳"
    if cell.status == GenerationStatus.ERROR:
        return _say("compare.cell_failed", language, error=cell.error or _say("compare.cell_failed_plain", language))
    text = clip(cell.output.strip(), max_chars)
    if cell.status == GenerationStatus.RUNNING:
        return text + " ▍"
    if cell.status == GenerationStatus.CANCELLED:
        return (text + " " if text else "") + _say("compare.cell_stopped", language)
    return text or _say("compare.cell_empty", language)


def format_progress(progress: BatchProgress, language: str = DEFAULT_LANGUAGE) -> str:
    """e.g. "12/40 cells · ETA 1 min 20 s" (and how it ended, at the end), in ``language``."""
    cells = _say("compare.progress_cells", language, done=progress.done, total=progress.total)
    if progress.finished:
        counts = progress.grid.counts()
        key = ENDINGS.get(progress.status)
        ending = _say(key, language) if key else progress.status
        line = _say(
            "compare.progress_ended", language, ending=ending, cells=cells, duration=format_duration(progress.elapsed_s)
        )
        extra = [_say(key, language, n=counts[status]) for status, key in COUNTED if counts.get(status)]
        return line + (" · " + ", ".join(extra) if extra else "")
    return running_text(progress).render(language)


def running_text(progress: BatchProgress) -> Text:
    """e.g. "12/40 cells · ETA 1 min 20 s": a running batch's line (and its progress bar's)."""
    eta = (
        Text("compare.eta_unknown")
        if progress.eta_s is None
        else Text("compare.eta", {"duration": format_duration(progress.eta_s)})
    )
    cells = Text("compare.progress_cells", {"done": progress.done, "total": progress.total})
    return Text("compare.progress_line", {"cells": cells, "eta": eta})
