"""Writing a batch grid out: CSV (one line per input row, columns side by side) and
JSON Lines (one object per input row). An unknown cost is left empty, never written as 0."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

from playground.compare.batch import NOT_RUN, BatchCell, BatchGrid
from playground.formatting import csv_cell

CELL_FIELDS = (
    "output",
    "status",
    "error",
    "prompt_tokens",
    "completion_tokens",
    "tokens_estimated",
    "ttft_s",
    "total_s",
    "tokens_per_s",
    "cost_usd",
)


def column_settings(grid: BatchGrid, position: int) -> dict[str, Any]:
    if position >= len(grid.columns):
        return {}
    settings = grid.columns[position].to_dict()
    settings.pop("model_key", None)
    return settings


def _cell_record(grid: BatchGrid, position: int, cell: BatchCell) -> dict[str, Any]:
    column = grid.columns[position] if position < len(grid.columns) else None
    record: dict[str, Any] = {
        "column": position + 1,
        "model_name": cell.model_name or grid.column_names[position],
        "model_key": column.model_key if column else "",
        "settings": column_settings(grid, position),
    }
    for name in CELL_FIELDS:
        record[name] = getattr(cell, name)
    record["status"] = "not run" if cell.status == NOT_RUN else cell.status
    return record


def write_jsonl(grid: BatchGrid, path: Path) -> Path:
    with path.open("w", encoding="utf-8", newline="\n") as out:
        for index, (inputs, cells) in enumerate(zip(grid.inputs, grid.cells)):
            line = {
                "run_id": grid.run_id,
                "row": index + 1,
                "inputs": inputs,
                "columns": [_cell_record(grid, p, cell) for p, cell in enumerate(cells)],
            }
            out.write(json.dumps(line, ensure_ascii=False) + "\n")
    return path


def csv_headers(grid: BatchGrid) -> list[str]:
    headers = ["row", *grid.input_columns]
    for k in range(1, len(grid.column_names) + 1):
        headers += [
            f"col{k}_model",
            f"col{k}_model_key",
            f"col{k}_settings",
            *(f"col{k}_{name}" for name in CELL_FIELDS),
        ]
    return headers


def write_csv(grid: BatchGrid, path: Path) -> Path:
    # utf-8-sig: Excel then opens accents and emoji correctly.
    with path.open("w", encoding="utf-8-sig", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(csv_headers(grid))
        for index, (inputs, cells) in enumerate(zip(grid.inputs, grid.cells)):
            line: list[Any] = [index + 1, *(csv_cell(inputs.get(c, "")) for c in grid.input_columns)]
            for position, cell in enumerate(cells):
                record = _cell_record(grid, position, cell)
                line += [csv_cell(record["model_name"]), csv_cell(record["model_key"]), csv_cell(record["settings"])]
                line += [csv_cell(record[name]) for name in CELL_FIELDS]
            writer.writerow(line)
    return path
