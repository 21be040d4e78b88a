"""The judge on the fake backend: a rubric run over a Compare run, every grade parsed and stored."""

from __future__ import annotations

import sqlite3
import threading

from playground.compare.columns import ColumnConfig
from playground.models.embedded import GEMMA3_KEY, SMOLLM2_KEY


def compare_run(services):
    """Two answers: one names Paris, the other is stopped just before it."""
    columns = [
        ColumnConfig(model_key=SMOLLM2_KEY, temperature=0.0),
        ColumnConfig(model_key=GEMMA3_KEY, temperature=0.0, stop=("Paris",)),
    ]
    run_id, text = services.compare.start_run(columns, "What is the capital of France?")
    *_, final = services.compare.stream_turn(run_id, columns, [[], []], text)
    assert [s.status for s in final] == ["ok", "ok"] and "Paris" in final[0].text and "Paris" not in final[1].text
    return run_id


def db(services):
    return sqlite3.connect(services.settings.database_url.removeprefix("sqlite:///"))


def test_rubric_grading_of_a_compare_run_scores_each_answer_on_each_criterion(services):
    run_id = compare_run(services)
    steps = list(services.judge.grade(SMOLLM2_KEY, None, "run", run_id))
    final = steps[-1]
    assert final.status == "done" and (final.done, final.total, final.failed, final.unparsed) == (6, 6, 0, 0)
    assert [s.done for s in steps[:-1]] == list(range(0, 7))  # progress after every grade
    results = services.judge.results(final.job_id)
    assert [c.name for c in results.rubric.criteria] == ["correctness", "comprehensiveness", "readability"]
    by_subject = {}
    for grade in results.grades:
        by_subject.setdefault(grade.subject, set()).add((grade.criterion, grade.score, grade.status))
    assert len(by_subject) == 2 and {frozenset(v) for v in by_subject.values()} == {
        frozenset((c, 3, "ok") for c in ("correctness", "comprehensiveness", "readability")),
        frozenset((c, 0, "ok") for c in ("correctness", "comprehensiveness", "readability")),
    }
    assert all(g.reason and g.replies for g in results.grades)
    headers, grid = results.score_grid()
    assert headers[0] == "input" and len(grid) == 1
    with db(services) as con:
        assert con.execute(
            "SELECT COUNT(*) FROM judge_grades WHERE job_id = ? AND parsed", (final.job_id,)
        ).fetchone() == (6,)
        assert con.execute("SELECT status FROM judge_jobs WHERE id = ?", (final.job_id,)).fetchone() == ("done",)
        asks = con.execute(
            "SELECT COUNT(*) FROM generations g JOIN runs r ON r.id = g.run_id WHERE r.kind = 'judge'"
        ).fetchone()
        assert asks == (6,)  # every reply parsed the first time: no retries


def test_human_grades_agree_with_the_judge(services):
    run_id = compare_run(services)
    final = list(services.judge.grade(SMOLLM2_KEY, None, "run", run_id))[-1]
    results = services.judge.results(final.job_id)
    grade = next(g for g in results.grades if g.criterion == "correctness")
    assert "Saved" in services.judge.set_human_grade(grade.item_ref, "correctness", grade.score, "Ann")
    agreement = services.judge.grade_agreement(final.job_id)
    assert (agreement.compared, agreement.unparsed) == (1, 0)


def test_cancel_stops_between_grades(services):
    run_id = compare_run(services)
    cancel = threading.Event()
    steps = []
    for step in services.judge.grade(SMOLLM2_KEY, None, "run", run_id, cancel):
        steps.append(step)
        if step.done == 1:
            cancel.set()
    assert steps[-1].status == "cancelled" and steps[-1].done < 6
