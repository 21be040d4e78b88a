"""The Fine-tune dataset panel in the real app, driven through gradio_client: demo upload,
detection, check & save, preview, bad files, column mapping, rename and delete."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from gradio_client import handle_file
from gradio_client.exceptions import AppError

pytestmark = pytest.mark.slow
SMOL = "embedded/smollm2-135m-instruct"
ROLES = 5  # instruction, input, output, system, messages


def _check(
    client, path: Path, name: str, kind: str = "alpaca", columns=("",) * ROLES, fmt: str = "alpaca", cutoff: int = 256
):
    return client.predict(handle_file(str(path)), name, kind, *columns, SMOL, fmt, cutoff, api_name="/ft_data_check")


def exercise_dataset_api(client, db_path: Path, tmp_path: Path) -> None:
    """Every action of the panel, as a user would do it (also run against a bare panel)."""
    demo_path = client.predict(api_name="/ft_data_demo")
    inspected = client.predict(handle_file(demo_path), api_name="/ft_data_inspect")
    detected, rows, kind, *dropdowns, name = inspected  # the accordion is layout, not a value
    instruction, input_col, output, system, messages = (d["value"] for d in dropdowns)
    assert "60 rows" in detected and "Alpaca" in detected
    assert rows["headers"] == ["instruction", "input", "output"] and len(rows["data"]) == 5
    assert (kind, instruction, input_col, output, system, messages, name) == (
        "alpaca",
        "instruction",
        "input",
        "output",
        "",
        "",
        "finetune_support_replies",
    )
    assert [label for label, _ in dropdowns[0]["choices"]] == ["— none —", "instruction", "input", "output"]

    summary, issues, figure, preview, saved = _check(
        client, Path(demo_path), "Workshop replies", kind, (instruction, input_col, output, system, messages)
    )
    assert "**54 of 60 rows**" in summary and "6 rows are held out" in summary
    assert issues["data"] in ([], [["", "", ""]]) or not any(r[0] for r in issues["data"])
    assert "### Response:" in preview and "completion (the model learns to write this)" in preview
    assert preview.count("════ Example") == 6  # three examples, a prompt and a completion each
    dataset_id = saved["value"]
    assert dataset_id and json.loads(figure["plot"])["layout"]["shapes"][0]["x0"] == 256

    chat_preview = client.predict(dataset_id, SMOL, "chat_template", api_name="/ft_data_preview")
    assert "<|im_start|>user" in chat_preview and "<|im_end|>" in chat_preview

    with pytest.raises(AppError, match="already exists"):
        _check(client, Path(demo_path), "Workshop replies")
    broken = tmp_path / "broken.jsonl"
    broken.write_text('{"instruction": "a", "output": "b"}\n{"instruction": "c", "output": \n')
    with pytest.raises(AppError, match="Line 2 of broken.jsonl"):
        client.predict(handle_file(str(broken)), api_name="/ft_data_inspect")
    single = tmp_path / "single.csv"
    single.write_text("instruction,output\nSay hi,Hi\n")
    with pytest.raises(AppError, match="A single row is not enough"):
        _check(client, single, "single")

    custom = tmp_path / "qa.csv"
    custom.write_text("q,a\n" + "".join(f"Question {i},Answer {i}\n" for i in range(8)) + "Question 1,Answer 1\n")
    detected = client.predict(handle_file(str(custom)), api_name="/ft_data_inspect")[0]
    assert "No recognisable columns" in detected
    with pytest.raises(AppError, match="No recognisable columns"):
        _check(client, custom, "qa")
    summary, issues, _, _, saved = _check(client, custom, "qa", "prompt_completion", ("q", "", "a", "", ""))
    assert (
        "**5 of 9 rows**" in summary and "3 rows are held out" in summary and issues["data"][0][:2] == [9, "duplicate"]
    )

    renamed, _ = client.predict(saved["value"], "Q and A", api_name="/ft_data_rename")
    assert renamed["value"] == saved["value"]
    with pytest.raises(AppError, match="Tick"):
        client.predict(saved["value"], False, api_name="/ft_data_delete")
    client.predict(saved["value"], True, api_name="/ft_data_delete")
    db = sqlite3.connect(db_path)
    try:
        assert db.execute("SELECT name, usable_count FROM finetune_datasets").fetchall() == [("Workshop replies", 60)]
    finally:
        db.close()


def test_dataset_panel_through_the_api(client, running_app, tmp_path):
    if not any(
        name.startswith("/ft_data_")
        for name in client.view_api(print_info=False, return_format="dict")["named_endpoints"]
    ):
        pytest.skip("The Fine-tune tab is not wired into the app yet")
    exercise_dataset_api(client, running_app.data_dir / "playground.db", tmp_path)
