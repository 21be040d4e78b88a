"""The Judge tab in the real app, through gradio_client: grade a Compare run with the embedded
SmolLM2 as judge, read the results, enter a human grade, see the agreement; bad input is refused."""

from __future__ import annotations

import sqlite3

import pytest
from gradio_client import Client
from gradio_client.exceptions import AppError

from tests.e2e.app_process import REFUSED
from tests.e2e.test_compare_client import NO_VARIABLES, SMOL, four_columns

pytestmark = pytest.mark.slow
EXAMPLES = ["wrong", "mostly wrong", "mostly right", "right"]


@pytest.fixture(scope="module")
def judge_client(running_app):
    return Client(running_app.url, verbose=False)


def _value(update) -> object:
    return update["value"] if isinstance(update, dict) else update


def test_grade_a_compare_run_and_check_the_judge(judge_client, running_app):
    client = judge_client
    client.predict(
        "What is the capital of France? Answer in one sentence.",
        "",
        *NO_VARIABLES,
        *four_columns(SMOL, SMOL),
        api_name="/compare_run",
    )
    rubric_update, _model, targets, _jobs = client.predict("run", api_name="/judge_load")
    rubric_id = _value(rubric_update)
    choices = targets["choices"]
    assert choices and "compare" in choices[0][0]
    run_id = choices[0][1]
    name, table = client.predict(rubric_id, api_name="/judge_rubric_load")[:2]
    assert name == "Answer quality (default)" and [row[0] for row in table["data"]] == [
        "correctness",
        "comprehensiveness",
        "readability",
    ]

    summary, job_update = client.predict(SMOL, "rubric", "run", run_id, rubric_id, "", api_name="/judge_run")[
        :2
    ]  # the token is a State: not returned
    assert summary.startswith("✅ Finished") and "judged" in summary
    job_id = _value(job_update)
    per_model, grid, answers, _verdicts, _plot = client.predict(job_id, api_name="/judge_results")
    assert per_model["headers"][:3] == ["model", "answers", "overall (0–3)"]
    assert grid["headers"][0] == "input" and len(grid["headers"]) >= 2  # a score column per model
    for row in answers["data"]:
        assert all(cell in ("0", "1", "2", "3", "unparsed") for cell in row[3:6])  # parsed or honestly unparsed
    ref = answers["data"][0][0]

    message = client.predict(ref, "correctness", "3", "Ann", api_name="/judge_human_grade")
    assert message.startswith("Saved")
    text, _matrix, _board = client.predict(job_id, "run", run_id, api_name="/judge_agreement")
    assert "human grade" in text
    db = sqlite3.connect(running_app.data_dir / "playground.db")
    assert db.execute("SELECT score, rater FROM judge_human_grades WHERE item_ref = ?", (ref,)).fetchall() == [
        (3, "Ann")
    ]
    stored = db.execute(
        "SELECT COUNT(*), SUM(parsed = 1 AND score BETWEEN 0 AND 3), SUM(parsed = 0 AND score IS NULL) FROM judge_grades WHERE job_id = ?",
        (job_id,),
    ).fetchone()
    assert stored[0] == stored[1] + stored[2] > 0


def test_bad_input_gets_a_plain_message(judge_client):
    client = judge_client
    rows = [["correctness", 90, "Right?", *EXAMPLES]]
    with pytest.raises(REFUSED, match="add up to 90%"):
        client.predict(
            "Too light",
            {
                "headers": [
                    "criterion",
                    "weight %",
                    "description",
                    "example for 0",
                    "example for 1",
                    "example for 2",
                    "example for 3",
                ],
                "data": rows,
            },
            api_name="/judge_rubric_save",
        )
    with pytest.raises(REFUSED, match="Pick what to judge"):
        client.predict(SMOL, "rubric", "run", None, None, "", api_name="/judge_run")
    with pytest.raises(REFUSED, match="0 to 3"):
        client.predict("g1", "correctness", None, "Ann", api_name="/judge_human_grade")
