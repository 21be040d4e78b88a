"""Batch runs through the real app and gradio_client: a 5-row batch completes and exports."""

import csv
import html
import sqlite3

import pytest
from gradio_client import handle_file
from gradio_client.exceptions import AppError

pytestmark = pytest.mark.slow
SMOL = "embedded/smollm2-135m-instruct"
GEMMA = "embedded/gemma3-270m"
TEMPLATE = "In a few words, what does this review of {{product}} complain about? {{review}}"
REVIEWS = [
    ("Kettle", "It is loud and the lid broke."),
    ("Toaster", "Burns one side of the bread."),
    ("Lamp", "Bright, but the switch is stiff."),
    ("Mug", "Handle gets hot, déçu."),
    ("Fan", "Quiet and strong, no complaints."),
]


def column_args(*models: str, max_tokens: int = 16) -> list:
    """The 4 columns' form values in order (model, system prompt, temperature, top-p,
    max tokens, seed, stop); columns beyond ``models`` keep SmolLM2 but are not visible."""
    values = []
    for index in range(4):
        model = models[index] if index < len(models) else SMOL
        values += [model, "", 0.0, 0.95, max_tokens, 1, ""]
    return values


def write_reviews(path, rows=REVIEWS):
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["product", "review"])
        writer.writerows(rows)
    return path


def test_five_row_batch_completes_and_exports(client, running_app, tmp_path):
    table = write_reviews(tmp_path / "reviews.csv")
    # A fresh session shows 2 columns (the column count is per-session state).
    job = client.submit(handle_file(str(table)), TEMPLATE, "", *column_args(SMOL, GEMMA), api_name="/batch_run")
    line, grid = job.result(timeout=300)
    steps = job.outputs()
    assert len(steps) > 2  # the grid filled in step by step
    assert line.startswith("✅ finished · 10/10 cells")
    assert grid["headers"] == ["#", "product", "review", "1 · SmolLM2 135M Instruct", "2 · Gemma 3 270M (base)"]
    assert [row[1] for row in grid["data"]] == [p for p, _ in REVIEWS]
    assert all(cell and not cell.startswith(("❌", "—", "⏳")) for row in grid["data"] for cell in row[3:])

    exported = client.predict(api_name="/batch_export_csv")
    with open(exported, encoding="utf-8-sig", newline="") as handle:
        lines = list(csv.DictReader(handle))
    assert [(line["product"], line["review"]) for line in lines] == REVIEWS
    for line in lines:
        assert line["col1_model_key"] == SMOL and line["col2_model_key"] == GEMMA
        assert line["col1_status"] == line["col2_status"] == "ok"
        assert (
            line["col1_output"] and line["col2_output"] and line["col1_cost_usd"] == line["col2_cost_usd"] == "0"
        )  # local: $0 by choice
    exported_jsonl = client.predict(api_name="/batch_export_jsonl")
    assert len(open(exported_jsonl, encoding="utf-8").read().splitlines()) == 5

    db = sqlite3.connect(running_app.data_dir / "playground.db")
    run_id, kind, meta = db.execute("SELECT id, kind, meta FROM runs ORDER BY id DESC LIMIT 1").fetchone()
    cells = db.execute(
        "SELECT row_index, position, status FROM generations WHERE run_id = ? ORDER BY row_index, position", (run_id,)
    ).fetchall()
    rows = db.execute("SELECT COUNT(*) FROM batch_rows WHERE run_id = ?", (run_id,)).fetchone()[0]
    db.close()
    assert kind == "batch" and '"status": "done"' in meta and rows == 5
    assert cells == [(r, c, "ok") for r in range(5) for c in range(2)]


def test_demo_loads_and_previews(client):
    demo_file, body, name = client.predict(api_name="/batch_demo")
    assert "{{product}}" in body and "{{review}}" in body and name
    info, first_rows = client.predict(handle_file(demo_file), body, api_name="/batch_preview")
    info = html.unescape(info)  # names are written as inert Markdown (entities); a person sees them decoded
    assert "product_reviews.csv" in info and "12 row(s)" in info and "✅" in info
    assert first_rows["headers"] == ["product", "rating", "review"] and len(first_rows["data"]) == 5


def test_bad_tables_are_refused_plainly(client, tmp_path):
    table = write_reviews(tmp_path / "reviews.csv")
    with pytest.raises(AppError, match="The file has no column for: price"):
        client.predict(handle_file(str(table)), "{{price}}: {{review}}", "", *column_args(SMOL), api_name="/batch_run")
    binary = tmp_path / "photo.csv"
    binary.write_bytes(bytes(range(256)) * 4)
    with pytest.raises(AppError, match="binary data"):
        client.predict(handle_file(str(binary)), TEMPLATE, api_name="/batch_preview")
    with pytest.raises(AppError, match="Upload a table first"):
        client.predict(None, TEMPLATE, "", *column_args(SMOL), api_name="/batch_run")


def test_cancel_stops_the_batch_and_the_rest_is_not_run(client, tmp_path):
    import time

    table = write_reviews(tmp_path / "many.csv", REVIEWS * 2)
    job = client.submit(
        handle_file(str(table)), TEMPLATE, "", *column_args(SMOL, SMOL, max_tokens=64), api_name="/batch_run"
    )
    deadline = time.monotonic() + 60
    while not any("ETA" in step[0] for step in job.outputs()) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert "Stopping" in client.predict(api_name="/batch_cancel")  # same session: it reaches this batch
    line, grid = job.result(timeout=120)
    assert line.startswith("⏹ cancelled")
    assert grid["data"][-1][3:] == ["— not run", "— not run"]
    assert "not run" in open(client.predict(api_name="/batch_export_csv"), encoding="utf-8-sig").read()
