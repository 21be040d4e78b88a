"""How a batch grid and its progress read on screen (plain text; no UI library)."""

from __future__ import annotations

from playground.compare.batch import NOT_RUN, BatchCell, BatchGrid, BatchProgress
from playground.formatting import clip, format_duration
from playground.statuses import GenerationStatus, RunStatus

ENDINGS: dict[str, str] = {
    RunStatus.DONE: "✅ finished",
    RunStatus.CANCELLED: "⏹ cancelled",
    RunStatus.FAILED: "❌ failed",
}


def grid_table(grid: BatchGrid, max_chars: int = 400, input_chars: int = 36) -> tuple[list[str], list[list[str]]]:
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
                *(cell_text(c, max_chars) for c in cells),
            ]
        )
    return headers, rows


def cell_text(cell: BatchCell, max_chars: int = 400) -> str:
    if cell.status == NOT_RUN:
        return "— not run"
    if cell.status == GenerationStatus.WAITING:
        return "⏳"
    if cell.status == GenerationStatus.ERROR:
        return f"❌ {cell.error or 'failed'}"
    text = clip(cell.output.strip(), max_chars)
    if cell.status == GenerationStatus.RUNNING:
        return text + " ▍"
    if cell.status == GenerationStatus.CANCELLED:
        return (text + " " if text else "") + "⏹ stopped"
    return text or "(empty answer)"


def format_progress(progress: BatchProgress) -> str:
    """e.g. "12/40 cells · ETA 1 min 20 s" (and how it ended, at the end)."""
    line = f"{progress.done}/{progress.total} cells"
    if progress.finished:
        counts = progress.grid.counts()
        ending = ENDINGS.get(progress.status, progress.status)
        shown = ((GenerationStatus.ERROR, "failed"), (GenerationStatus.CANCELLED, "stopped"), (NOT_RUN, "not run"))
        extra = [f"{counts[k]} {label}" for k, label in shown if counts.get(k)]
        return f"{ending} · {line} in {format_duration(progress.elapsed_s)}" + (
            " · " + ", ".join(extra) if extra else ""
        )
    eta = "ETA —" if progress.eta_s is None else f"ETA {format_duration(progress.eta_s)}"
    return f"{line} · {eta}"
