"""Batch runs on the fake backend: every row in every column, saved, reloaded, exported, stopped."""

from __future__ import annotations

import csv
import json
import threading

import pytest

from playground.compare.batch import Table
from playground.compare.columns import ColumnConfig
from playground.errors import InvalidInput
from playground.models.embedded import GEMMA3_KEY, SMOLLM2_KEY

TEMPLATE = "What does this review of {{product}} complain about? {{review}}"
ROWS = [
    {"product": "Kettle", "review": "It is loud."},
    {"product": "Toaster", "review": "Burns the bread."},
    {"product": "Lamp", "review": "The switch is stiff."},
]


def cols(*keys, max_tokens=64):
    return [ColumnConfig(model_key=k, temperature=0.0, max_tokens=max_tokens) for k in keys]


def table(rows=ROWS):
    return Table("reviews.csv", list(rows[0]), [dict(r) for r in rows])


def prompt_of(row):
    return TEMPLATE.replace("{{product}}", row["product"]).replace("{{review}}", row["review"])


def test_every_row_runs_in_every_column_and_is_saved(services):
    services.templates.save("Complaints", TEMPLATE)
    progress = list(services.batch.run(cols(SMOLLM2_KEY, GEMMA3_KEY), TEMPLATE, "Complaints", table()))
    last = progress[-1]
    assert last.finished and last.status == "done" and (last.done, last.total) == (6, 6)
    assert sum(p.finished for p in progress) == 1 and progress[0].done == 0
    expected = [
        [f"{name} answers: {prompt_of(row)}" for name in ("SmolLM2 135M Instruct", "Gemma 3 270M (base)")]
        for row in ROWS
    ]
    assert [[c.output for c in row] for row in last.grid.cells] == expected
    with services.uow_factory() as uow:
        run = uow.runs.get(last.run_id)
        assert run.kind == "batch" and run.meta["status"] == "done" and run.meta["row_count"] == 3
        assert run.template_version_id == services.templates.latest("Complaints").version_id
        gens = uow.generations.list_for_run(last.run_id)
        assert sorted((g.row_index, g.position, g.status) for g in gens) == [
            (r, c, "ok") for r in range(3) for c in range(2)
        ]
    grid = services.batch.load_grid(last.run_id)
    assert grid.inputs == ROWS and grid.status == "done"
    assert [[c.output for c in row] for row in grid.cells] == expected
    local_cells = [c for row in grid.cells for c in row]  # SmolLM2 runs locally: $0 by choice
    assert all(c.prompt_tokens and c.completion_tokens and c.cost_usd == 0.0 for c in local_cells)


def test_exports_hold_every_row_and_leave_unknown_cost_empty(services):
    hosted = services.models.add_endpoint("Hosted", "https://llm.example.com/v1", "m")  # no price known anywhere
    *_, last = services.batch.run(cols(SMOLLM2_KEY, hosted.key), TEMPLATE, "", table())
    with services.batch.export_csv(last.run_id).open(encoding="utf-8-sig", newline="") as handle:
        lines = list(csv.DictReader(handle))
    assert [line["product"] for line in lines] == ["Kettle", "Toaster", "Lamp"]
    assert all(line["col1_status"] == "ok" and line["col1_cost_usd"] == "0" for line in lines)  # local: $0 by choice
    assert all(line["col2_status"] == "ok" and line["col2_cost_usd"] == "" for line in lines)  # unknown: never 0
    assert lines[2]["col1_output"] == f"SmolLM2 135M Instruct answers: {prompt_of(ROWS[2])}"
    jsonl = [
        json.loads(line) for line in services.batch.export_jsonl(last.run_id).read_text(encoding="utf-8").splitlines()
    ]
    assert [item["row"] for item in jsonl] == [1, 2, 3] and jsonl[1]["inputs"] == ROWS[1]


def test_stop_mid_batch_leaves_the_rest_not_run(make_services):
    services = make_services(chunk_delay_s=0.01)
    rows = [{"product": f"Thing {n}", "review": "It broke."} for n in range(8)]
    cancel = threading.Event()
    progress = []
    for snapshot in services.batch.run(cols(SMOLLM2_KEY, SMOLLM2_KEY), TEMPLATE, "", table(rows), cancel):
        progress.append(snapshot)
        if snapshot.done >= 2:
            cancel.set()
    last = progress[-1]
    assert last.finished and last.status == "cancelled"
    statuses = [[c.status for c in row] for row in last.grid.cells]
    assert statuses[0] == ["ok", "ok"] and statuses[-1] == ["not_run", "not_run"]
    with services.uow_factory() as uow:
        assert uow.runs.get(last.run_id).meta["status"] == "cancelled"
    assert [[c.status for c in row] for row in services.batch.load_grid(last.run_id).cells] == statuses


def test_a_template_without_variables_is_refused(services):
    with pytest.raises(InvalidInput, match="no {{variables}}"):
        list(services.batch.run(cols(SMOLLM2_KEY), "Same prompt for all", "", table()))
    with services.uow_factory() as uow:
        assert uow.runs.list(kind="batch", limit=10) == []
