"""The cost and time estimate in the real app, through gradio_client: Compare's batch shows it
before the run, repeats it while the batch runs, and ends with actual against estimate; the
Arena's pre-generation and a Judge run show theirs before and after too."""

import csv
import json
import sqlite3
import time

import pytest
from gradio_client import handle_file
from gradio_client.exceptions import AppError

pytestmark = pytest.mark.slow
SMOL, GEMMA = "embedded/smollm2-135m-instruct", "embedded/gemma3-270m"
TEMPLATE = "In a few words, what does this review of {{product}} complain about? {{review}}"
REVIEWS = [("Kettle", "It is loud and the lid broke."), ("Toaster", "Burns one side of the bread.")]


def column_args(*models, max_tokens=12):
    """The 4 columns' form values (model, system prompt, temperature, top-p, max tokens, seed, stop)."""
    values = []
    for index in range(4):
        values += [models[index] if index < len(models) else SMOL, "", 0.0, 0.95, max_tokens, 1, ""]
    return values


def reviews_table(folder):
    table = folder / "two.csv"
    with table.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows([("product", "review"), *REVIEWS])
    return table


def test_the_batch_estimate_shows_before_and_actual_against_it_after(client, running_app, tmp_path):
    table = reviews_table(tmp_path)
    # A fresh session shows 2 columns; both run SmolLM2 here.
    shown = client.predict(handle_file(str(table)), TEMPLATE, *column_args(SMOL, SMOL), api_name="/batch_estimate")
    assert "Estimate before running (every figure here is an estimate)" in shown
    assert "| SmolLM2 135M Instruct | 4 |" in shown and "| **Total** | 4 |" in shown
    # 4 answers of at most 12 tokens: an upper bound, or ~N from the model's recent answers when the
    # shared app already has some (tests before this one asked SmolLM2 with a similar max tokens)
    assert "≤ 48" in shown or "recent answers with a similar max tokens" in shown
    assert "input counted with the model's own tokenizer" in shown

    job = client.submit(handle_file(str(table)), TEMPLATE, "", *column_args(SMOL, SMOL), api_name="/batch_run")
    line, _grid = job.result(timeout=300)
    assert any(step[0].count("Estimate: 4 calls") for step in job.outputs()[:-1])  # repeated while it runs
    assert line.startswith("✅ finished · 4/4 cells") and "Actual against estimate" in line
    assert "| **Total** | 4 → 4 |" in line and "(+0%)" in line  # SmolLM2's tokenizer counted the input exactly

    db = sqlite3.connect(running_app.data_dir / "playground.db")
    (meta,) = db.execute("SELECT meta FROM runs WHERE kind = 'batch' ORDER BY id DESC LIMIT 1").fetchone()
    db.close()
    kept = json.loads(meta)["estimate"]  # kept with the run, for whoever reopens it
    assert [m["calls"] for m in kept["models"]] == [4] and kept["models"][0]["input_method"] == "tokenizer"


def test_the_estimate_refuses_what_the_run_would_refuse(client):
    with pytest.raises(AppError, match="Upload a table first"):
        client.predict(None, TEMPLATE, *column_args(SMOL), api_name="/batch_estimate")


def test_arena_pregeneration_is_estimated_and_then_compared(client):
    dropdown, _info = client.predict(
        "e2e estimate", "Say hello.\nName a fruit.", None, [SMOL, GEMMA], 8, 0.0, 7, "", "", "redact", 0.0, 0,
        api_name="/arena_create",
    )  # fmt: skip
    evaluation_id = dropdown["value"]
    shown = client.predict(evaluation_id, api_name="/arena_estimate")
    assert "Estimate before running" in shown and "| **Total** | 4 |" in shown  # 2 prompts × 2 models
    client.predict(evaluation_id, api_name="/arena_generate")
    deadline = time.monotonic() + 300
    while "all answers ready" not in client.predict(evaluation_id, api_name="/arena_progress")[0]:
        assert time.monotonic() < deadline, "pre-generation did not finish"
        time.sleep(1)
    after = client.predict(evaluation_id, api_name="/arena_estimate_progress")
    assert "Actual against estimate" in after and "| **Total** | 4 → 4 |" in after


def test_a_judging_run_is_estimated_before_and_compared_after(client, tmp_path):
    table = handle_file(str(reviews_table(tmp_path)))
    client.predict(table, TEMPLATE, "", *column_args(SMOL, SMOL, max_tokens=8), api_name="/batch_run")
    _rubric, _model, targets, _jobs = client.predict("run", api_name="/judge_load")
    run_id = targets["choices"][0][1]  # the newest run: that batch's 4 answers
    shown = client.predict(SMOL, "rubric", "run", run_id, None, api_name="/judge_estimate")
    assert "Estimate before running" in shown and "retries are not in the estimate" in shown
    assert "| **Total** | 12 |" in shown  # 4 answers × 3 criteria of the default rubric
    summary = client.predict(SMOL, "rubric", "run", run_id, None, "", api_name="/judge_run")[0]
    assert summary.startswith("✅ Finished") and "Actual against estimate" in summary
    assert "| **Total** | 12 → " in summary  # and as many more as replies had to be asked again
