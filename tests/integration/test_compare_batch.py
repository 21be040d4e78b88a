"""Batch runs on real parts: the embedded SmolLM2 and Gemma models, a real SQLite file."""

import csv
import json
import threading

import pytest

from playground.compare.batch import BatchService, Table, demo_files, load_table
from playground.compare.columns import ColumnConfig
from playground.errors import InvalidInput, UserFacingError
from playground.models.embedded import GEMMA3_KEY, SMOLLM2_KEY
from playground.services import Services
from playground.settings import Settings
from tests.integration.servers import free_port

pytestmark = pytest.mark.slow
TEMPLATE = "In one short sentence, what does this review of {{product}} complain about? {{review}}"
ROWS = [
    {"product": "Kettle", "rating": "2", "review": "It is loud and the lid broke."},
    {"product": "Toaster", "rating": "1", "review": "Burns one side of the bread."},
    {"product": "Lamp", "rating": "4", "review": "Bright, but the switch is stiff."},
    {"product": "Mug", "rating": "3", "review": "Handle gets hot."},
    {"product": "Fan", "rating": "5", "review": "Quiet and strong, no complaints."},
]


@pytest.fixture(scope="module")
def services(tmp_path_factory):
    home = tmp_path_factory.mktemp("batch")
    svc = Services.create(Settings(home=home, database_url=f"sqlite:///{home / 'playground.db'}"))
    yield svc
    svc.close()


def cols(*keys, max_tokens=16):
    return [ColumnConfig(model_key=k, temperature=0.0, max_tokens=max_tokens, seed=1) for k in keys]


def table(rows=ROWS, name="reviews.csv"):
    return Table(name, list(rows[0]), [dict(r) for r in rows])


def run_count(services):
    with services.uow_factory() as uow:
        return len(uow.runs.list(limit=10_000)), len(uow.runs.list(kind="batch", limit=10_000))


@pytest.fixture(scope="module")
def finished_batch(services):
    services.templates.save("Complaints", TEMPLATE)
    progress = list(services.batch.run(cols(SMOLLM2_KEY, GEMMA3_KEY), TEMPLATE, "Complaints", table()))
    return progress


def test_five_rows_by_two_columns_complete_and_are_recorded(services, finished_batch):
    last = finished_batch[-1]
    assert last.finished and last.status == "done" and (last.done, last.total) == (10, 10) and last.eta_s is None
    assert sum(p.finished for p in finished_batch) == 1
    # the grid filled in step by step, with an ETA once a cell had finished
    assert finished_batch[0].done == 0 and any(0 < p.done < 10 and p.eta_s is not None for p in finished_batch)
    assert all(cell.status == "ok" and cell.output and cell.generation_id for row in last.grid.cells for cell in row)
    run_id = last.run_id
    with services.uow_factory() as uow:
        run = uow.runs.get(run_id)
        assert run.kind == "batch" and run.meta["status"] == "done" and run.meta["row_count"] == 5
        assert run.meta["column_names"] == ["SmolLM2 135M Instruct", "Gemma 3 270M (base)"]
        assert run.meta["source_filename"] == "reviews.csv" and run.meta["template_body"] == TEMPLATE
        assert run.template_version_id == services.templates.latest("Complaints").version_id
        assert [r.values for r in uow.batch_rows.list_for_run(run_id)] == ROWS
        gens = uow.generations.list_for_run(run_id)
    assert sorted((g.row_index, g.position) for g in gens) == [(r, c) for r in range(5) for c in range(2)]
    assert all(g.status == "ok" and g.completion_tokens and g.cost_usd == 0.0 for g in gens)  # local: $0 by choice
    lamp = next(g for g in gens if g.row_index == 2 and g.position == 0)
    assert lamp.messages[-1]["content"] == TEMPLATE.replace("{{product}}", "Lamp").replace(
        "{{review}}", ROWS[2]["review"]
    )
    assert lamp.params["max_tokens"] == 16


def test_saved_grid_matches_what_streamed(services, finished_batch):
    last = finished_batch[-1]
    grid = services.batch.load_grid(last.run_id)
    assert (
        grid.inputs == ROWS
        and grid.status == "done"
        and grid.variable_columns == {"product": "product", "review": "review"}
    )
    assert [[c.output for c in row] for row in grid.cells] == [[c.output for c in row] for row in last.grid.cells]
    assert all(c.ttft_s and c.total_s and c.prompt_tokens for row in grid.cells for c in row)


def test_exports_hold_every_row_and_column_and_leave_unknown_cost_empty(services, finished_batch):
    run_id = finished_batch[-1].run_id
    csv_path = services.batch.export_csv(run_id)
    assert csv_path.parent == services.settings.home / "exports"
    with csv_path.open(encoding="utf-8-sig", newline="") as handle:
        lines = list(csv.DictReader(handle))
    assert [line["review"] for line in lines] == [r["review"] for r in ROWS]
    for line in lines:
        assert line["col1_model"] == "SmolLM2 135M Instruct" and line["col2_model"] == "Gemma 3 270M (base)"
        for k in (1, 2):
            assert line[f"col{k}_status"] == "ok" and line[f"col{k}_output"]
            assert line[f"col{k}_cost_usd"] == "0"  # local: $0 by choice (an unknown cost is left empty: below)
            assert int(line[f"col{k}_completion_tokens"]) > 0 and float(line[f"col{k}_ttft_s"]) > 0
            assert json.loads(line[f"col{k}_settings"])["max_tokens"] == 16
    jsonl = [json.loads(line) for line in services.batch.export_jsonl(run_id).read_text(encoding="utf-8").splitlines()]
    assert [item["row"] for item in jsonl] == [1, 2, 3, 4, 5] and jsonl[3]["inputs"] == ROWS[3]
    for item in jsonl:
        assert [c["model_key"] for c in item["columns"]] == [SMOLLM2_KEY, GEMMA3_KEY]
        assert all(
            c["cost_usd"] == 0.0 and c["status"] == "ok" and c["total_s"] > 0 and c["settings"]["temperature"] == 0.0
            for c in item["columns"]
        )


def test_cancel_mid_batch_leaves_the_rest_not_run(services):
    cancel = threading.Event()
    progress = []
    for snapshot in services.batch.run(cols(SMOLLM2_KEY, SMOLLM2_KEY), TEMPLATE, "", table(), cancel):
        progress.append(snapshot)
        if snapshot.done >= 2:  # the first row has finished in both columns
            cancel.set()
    last = progress[-1]
    assert last.finished and last.status == "cancelled"
    statuses = [[c.status for c in row] for row in last.grid.cells]
    assert statuses[0] == ["ok", "ok"]
    assert all(row == ["not_run", "not_run"] for row in statuses[2:])
    assert set(statuses[1]) <= {"ok", "cancelled", "not_run"}
    with services.uow_factory() as uow:
        run = uow.runs.get(last.run_id)
        gens = uow.generations.list_for_run(last.run_id)
        assert run.meta["status"] == "cancelled" and len(uow.batch_rows.list_for_run(last.run_id)) == 5
    assert {g.row_index for g in gens} <= {0, 1} and all(
        g.status in ("ok", "cancelled") and g.finished_at for g in gens
    )
    grid = services.batch.load_grid(last.run_id)
    assert [[c.status for c in row] for row in grid.cells] == statuses
    exported = [json.loads(line) for line in services.batch.export_jsonl(last.run_id).read_text().splitlines()]
    assert len(exported) == 5 and exported[4]["columns"][1]["status"] == "not run"


def test_a_failing_column_shows_its_error_in_each_cell_and_the_rest_go_on(services):
    dead = services.models.add_endpoint("Dead batch endpoint", f"http://127.0.0.1:{free_port()}/v1", "none")
    *_, last = services.batch.run(cols(dead.key, SMOLLM2_KEY), TEMPLATE, "", table(ROWS[:2]))
    assert last.status == "done"
    assert all(row[0].status == "error" and "nothing is listening" in row[0].error for row in last.grid.cells)
    assert all(row[1].status == "ok" and row[1].output for row in last.grid.cells)
    with open(services.batch.export_csv(last.run_id), encoding="utf-8-sig") as handle:
        line = next(csv.DictReader(handle))
    assert (
        line["col1_status"] == "error" and "nothing is listening" in line["col1_error"] and line["col1_cost_usd"] == ""
    )


def test_over_limit_file_creates_no_run(services, tmp_path):
    path = tmp_path / "big.csv"
    path.write_text("product,review\n" + "".join(f"Item {i},Review {i}\n" for i in range(7)))
    small = BatchService(services.compare, services.settings.with_overrides(batch_row_limit=6))
    before = run_count(services)
    with pytest.raises(
        InvalidInput, match=r"This file has 7 rows; the limit is 6 \(PLAYGROUND_BATCH_ROW_LIMIT\)\. Nothing was run\."
    ):
        small.load(path)
    with pytest.raises(InvalidInput, match="This file has 7 rows; the limit is 6"):
        list(small.run(cols(SMOLLM2_KEY), TEMPLATE, "", load_table(path)))
    assert run_count(services) == before


def test_bad_batches_are_refused_before_anything_runs(services):
    before = run_count(services)
    cases = [
        ([], TEMPLATE, table(), "at least one column"),
        (cols("nope/missing"), TEMPLATE, table(), "no longer available"),
        (cols(SMOLLM2_KEY), "  ", table(), "Type a prompt template"),
        (cols(SMOLLM2_KEY), "Say hi.", table(), "no {{variables}}"),
        (
            cols(SMOLLM2_KEY),
            "{{price}} {{review}}",
            table(),
            "The file has no column for: price. Its columns are: product, rating, review.",
        ),
        (cols(SMOLLM2_KEY), TEMPLATE, table([*ROWS[:2], {**ROWS[2], "review": " "}]), r"review is empty in row\(s\) 3"),
    ]
    for columns, body, rows, message in cases:
        with pytest.raises(UserFacingError, match=message):
            list(services.batch.run(columns, body, "", rows))
    assert run_count(services) == before


def test_the_demo_runs_on_its_first_rows(services):
    path, body, name = demo_files()
    demo = load_table(path)
    rows = Table(demo.filename, demo.columns, demo.rows[:1])
    *_, last = services.batch.run(cols(SMOLLM2_KEY, max_tokens=8), body, name, rows)
    assert last.status == "done" and last.grid.cells[0][0].output
