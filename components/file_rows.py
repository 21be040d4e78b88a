"""Tables whose columns come from a file or a run (Compare's batch panel, Fine-tune's dataset
panel): sized so their columns fit the table, with the file's own headers, and hidden while
there is nothing to show, so they never show Gradio's stand-in headers "1 2 3".

The handlers that fill them return plain values (what API callers read); a ``.change`` listener
then sets the widths and visibility from what the table holds."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import gradio as gr

GRID_SHARE = 99.0  # percent of a table's width its columns take: not 100, room for the vertical scroll bar


def table_contents(value: Any) -> tuple[list[str], list[list[Any]]]:
    """Headers and rows of a Dataframe's value (a pandas DataFrame, a dict, or nothing)."""
    if value is None:
        return [], []
    if isinstance(value, dict):
        return list(value.get("headers") or []), list(value.get("data") or [])
    return [str(c) for c in value.columns], value.values.tolist()


def preview_column_widths(headers: list[str], rows: list[list[Any]]) -> list[str]:
    """Widths for a table of the file's first rows, in proportion to each column's longest cell or
    header (counted between 10 and 60 characters: long text wraps, a short column keeps its header
    on one line)."""
    weights = []
    for index, header in enumerate(headers):
        longest = max([len(str(header)) + 2] + [len(str(row[index])) for row in rows if index < len(row)])
        weights.append(min(max(longest, 10), 60))
    total = sum(weights) or 1
    return [f"{GRID_SHARE * weight / total:.2f}%" for weight in weights]


def fit_file_rows(path: str | None, value: Any) -> gr.Dataframe:
    """The "First rows" table: shown, its columns fitted, while a file is loaded; else hidden."""
    headers, rows = table_contents(value)
    if not path or not headers:
        return gr.Dataframe(visible=False)
    return gr.Dataframe(column_widths=preview_column_widths(headers, rows), visible=True)


def fit_when_changed(table: gr.Dataframe, fit: Callable[..., gr.Dataframe], inputs: list[Any]) -> None:
    """Re-fit ``table`` when its value changes, but send the widths only when they differ from the
    last ones sent: a streamed grid changes many times a second, and every new set of widths makes
    the browser measure the whole table again. Not an API endpoint: only the look changes."""
    last_fit = gr.State(None)

    def refit(*values: Any) -> tuple[Any, Any]:
        *fit_inputs, last_key = values
        fitted = fit(*fit_inputs)
        key = repr(sorted(fitted.constructor_args.items()))
        return (gr.skip(), key) if key == last_key else (fitted, key)

    table.change(
        refit,
        [*inputs, last_fit],
        [table, last_fit],
        api_name=False,
        queue=False,
        show_progress="hidden",
        trigger_mode="always_last",
    )
