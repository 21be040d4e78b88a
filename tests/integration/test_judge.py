"""The judge on real parts: the embedded SmolLM2 (llama.cpp) grades real answers stored in
SQLite. SmolLM2-135M is a weak judge: most of its replies do not parse. So the tests check
that every grade is stored honestly — an int 0..3 that parsed, or unparsed with no score —
never that the judge is good."""

from __future__ import annotations

import sqlite3
import threading

import pytest

from playground.arena.prompts import parse_typed
from playground.compare.columns import ColumnConfig
from playground.errors import InvalidInput
from playground.judge.rubric import Criterion
from playground.models.embedded import GEMMA3_KEY, SMOLLM2_KEY
from playground.models.types import GenerationParams, Message
from playground.services import Services
from playground.settings import Settings
from tests.integration.servers import free_port

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def services(tmp_path_factory):
    home = tmp_path_factory.mktemp("judge")
    svc = Services.create(Settings(home=home, database_url=f"sqlite:///{home / 'playground.db'}"))
    yield svc
    svc.close()


def db(services) -> sqlite3.Connection:
    return sqlite3.connect(services.settings.database_url.removeprefix("sqlite:///"))


@pytest.fixture(scope="module")
def compare_run(services):
    columns = [ColumnConfig(model_key=SMOLLM2_KEY, temperature=0.0, max_tokens=24, seed=s) for s in (1, 2)]
    run_id, text = services.compare.start_run(columns, "What is the capital of France? Answer in one sentence.")
    *_, final = services.compare.stream_turn(run_id, columns, [[], []], text)
    assert [s.status for s in final] == ["ok", "ok"]
    return run_id


def assert_honest(rows) -> None:
    for score, parsed, status, _replies in rows:
        assert (parsed and status == "ok" and score in (0, 1, 2, 3)) or (
            not parsed and score is None and status in ("unparsed", "error")
        ), rows


def test_rubric_grading_of_a_compare_run_stores_every_grade_honestly(services, compare_run):
    steps = list(services.judge.grade(SMOLLM2_KEY, None, "run", compare_run))
    final = steps[-1]
    assert final.status == "done" and (final.done, final.total, final.failed) == (6, 6, 0)  # 2 answers × 3 criteria
    assert [s.done for s in steps[:-1]] == list(range(0, 7))  # progress after every grade
    with db(services) as con:
        rows = con.execute(
            "SELECT score, parsed, status, replies FROM judge_grades WHERE job_id = ?", (final.job_id,)
        ).fetchall()
        assert len(rows) == 6
        assert_honest(rows)
        assert all(replies not in ("[]", "") for *_, replies in rows)  # raw replies are kept
        unparsed = con.execute(
            "SELECT COUNT(*) FROM judge_grades WHERE job_id = ? AND NOT parsed", (final.job_id,)
        ).fetchone()[0]
        assert unparsed == final.unparsed
        # An unparsed grade asked twice (the retry), a parsed one once or twice; every ask is a recorded generation.
        judge_gens = con.execute(
            "SELECT COUNT(*) FROM generations g JOIN runs r ON r.id = g.run_id WHERE r.kind = 'judge'"
        ).fetchone()[0]
        assert 6 + unparsed <= judge_gens <= 12
        params = con.execute(
            "SELECT g.params FROM generations g JOIN runs r ON r.id = g.run_id WHERE r.kind = 'judge' LIMIT 1"
        ).fetchone()[0]
        assert '"temperature": 0.1' in params
    results = services.judge.results(final.job_id)
    assert results.rubric.version == 1 and [c.name for c in results.rubric.criteria] == [
        "correctness",
        "comprehensiveness",
        "readability",
    ]
    assert "Criterion: correctness" in results.grades[0].prompts[0][1]["content"]
    headers, grid = results.score_grid()
    assert headers == ["input", "1 · SmolLM2 135M Instruct", "2 · SmolLM2 135M Instruct"] and len(grid) == 1
    print(f"\nSmolLM2 as judge: {6 - final.unparsed}/6 grades parsed; replies: {[g.replies for g in results.grades]}")


def test_human_grades_are_stored_and_compared_with_the_judge(services, compare_run):
    final = list(services.judge.grade(SMOLLM2_KEY, None, "run", compare_run))[-1]
    results = services.judge.results(final.job_id)
    ref = results.grades[0].item_ref
    assert "Saved" in services.judge.set_human_grade(ref, "correctness", 3, "Ann")
    services.judge.set_human_grade(ref, "correctness", 2, "Ann")  # entering it again replaces it
    with pytest.raises(InvalidInput, match="0 to 3"):
        services.judge.set_human_grade(ref, "correctness", 7, "Ann")
    with pytest.raises(InvalidInput, match="no longer exists"):
        services.judge.set_human_grade("g999999", "correctness", 1, "Ann")
    with db(services) as con:
        assert con.execute("SELECT score FROM judge_human_grades WHERE item_ref = ?", (ref,)).fetchall() == [(2,)]
    agreement = services.judge.grade_agreement(final.job_id)
    judge_score = results.score_of(ref, "correctness")
    assert (agreement.compared, agreement.unparsed) == ((1, 0) if judge_score is not None else (0, 1))


def test_cancel_stops_between_grades_and_keeps_what_was_graded(services, compare_run):
    cancel = threading.Event()
    steps = []
    for step in services.judge.grade(SMOLLM2_KEY, None, "run", compare_run, cancel):
        steps.append(step)
        if step.done == 1:
            cancel.set()
    assert steps[-1].status == "cancelled" and steps[-1].done < 6
    with db(services) as con:
        assert con.execute("SELECT status FROM judge_jobs WHERE id = ?", (steps[-1].job_id,)).fetchone() == (
            "cancelled",
        )


def test_a_failing_judge_model_is_recorded_per_item_and_the_rest_go_on(services, compare_run):
    dead = services.models.add_endpoint("Dead judge", f"http://127.0.0.1:{free_port()}/v1", "none")
    final = list(services.judge.grade(dead.key, None, "run", compare_run))[-1]
    assert final.status == "done" and final.failed == final.total == 6
    assert "6 failed" in final.summary
    with db(services) as con:
        rows = con.execute(
            "SELECT score, parsed, status, error FROM judge_grades WHERE job_id = ?", (final.job_id,)
        ).fetchall()
    assert len(rows) == 6 and all(r[:3] == (None, 0, "error") and r[3] for r in rows)
    assert [row[-1] for row in services.judge.results(final.job_id).summary()[1]] == [
        "3",
        "3",
    ]  # failed grades per model


def test_a_documents_question_is_graded_against_its_passages(services):
    recorder = services.models.recorder
    run_id = recorder.start_run("rag", title="Where is the office?")
    *_, final = recorder.stream(
        run_id,
        SMOLLM2_KEY,
        [Message("user", "Where is the office?")],
        GenerationParams(max_tokens=16, temperature=0.0, seed=1),
    )
    with services.uow_factory() as uow:
        question = uow.rag_questions.add(
            run_id=run_id,
            collection_id=None,
            collection_name="handbook",
            question="Where is the office?",
            model_key=SMOLLM2_KEY,
            mode="with",
            settings={},
            sources=[{"text": "The office is at 12 Harbour Street, Leith."}],
            answer=final.text,
            citations=[],
        )
        question_id = question.id
    rubric = services.judge.save_rubric(
        "Correct only",
        [Criterion("correctness", 100, "Is it right?", ("wrong", "mostly wrong", "mostly right", "right"))],
    )
    done = list(services.judge.grade(SMOLLM2_KEY, rubric.id, "rag_question", question_id))[-1]
    results = services.judge.results(done.job_id)
    assert done.total == 1 and results.rubric.label == "Correct only v1"
    prompt = results.grades[0].prompts[0][1]["content"]
    assert "Reference passages" in prompt and "12 Harbour Street" in prompt


def test_bad_rubrics_and_targets_are_refused_plainly(services):
    with pytest.raises(InvalidInput, match="no criteria"):
        services.judge.save_rubric("Empty", [])
    with pytest.raises(InvalidInput, match="add up to 90%"):
        services.judge.save_rubric("Short", [Criterion("correctness", 90, "Right?", ("0", "1", "2", "3"))])
    with pytest.raises(InvalidInput, match="missing for score 2"):
        services.judge.save_rubric("Gap", [Criterion("correctness", 100, "Right?", ("0", "1", "", "3"))])
    with pytest.raises(InvalidInput, match="no Compare run"):
        list(services.judge.grade(SMOLLM2_KEY, None, "run", 987654))
    with pytest.raises(InvalidInput, match="judge model"):
        list(services.judge.grade("", None, "run", 1))


def test_pairwise_judging_swaps_sides_and_reports_agreement_with_the_raters(services):
    arena = services.arena
    info = arena.create_evaluation(
        "judge pairs",
        parse_typed("Say hello.\nWhat is 2+2?"),
        [SMOLLM2_KEY, GEMMA3_KEY],
        GenerationParams(max_tokens=8, temperature=0.0, seed=3),
        repeat_fraction=0.0,
        seed=5,
    )
    arena.start_generation(info.id)
    arena.jobs.wait(info.id, timeout=300)
    final = list(services.judge.judge_battles(SMOLLM2_KEY, info.id))[-1]
    assert final.status == "done" and final.total == 2 and final.failed == 0
    with db(services) as con:
        rows = con.execute(
            "SELECT first, second, verdict, position_bias, status, replies, prompts FROM judge_verdicts WHERE job_id = ?",
            (final.job_id,),
        ).fetchall()
    assert len(rows) == 2
    for first, second, verdict, bias, status, replies, _prompts in rows:
        assert status in ("ok", "unparsed")
        assert replies.count('"') >= 4  # at least two replies: the battle's order and the swapped one
        if status == "ok":
            assert verdict in ("a", "b", "tie") and bool(bias) == (first != second)
        else:
            assert verdict is None and bias is None
    # Raters vote; the agreement compares their majority with the judge and says so plainly.
    ann = arena.join(info.join_code, "Ann")
    while (battle := arena.next_battle(ann)) is not None:
        arena.vote(ann, battle.token, "a")
    agreement, bias, job_id = services.judge.verdict_agreement(info.id)
    assert job_id == final.job_id
    assert agreement.compared + agreement.undecided + agreement.split == 2
    assert "The study's bar" in agreement.sentence or "nothing to compare" in agreement.sentence
    assert bias.checked == sum(r[4] == "ok" for r in rows)


def test_held_to_the_format_a_small_llama_cpp_judge_always_gives_a_reason_and_a_score(services, compare_run):
    final = list(services.judge.grade(SMOLLM2_KEY, None, "run", compare_run, constrained=True))[-1]
    assert final.status == "done" and (final.done, final.unparsed, final.failed) == (6, 0, 0)
    results = services.judge.results(final.job_id)
    assert all(g.status == "ok" and g.score in (0, 1, 2, 3) and g.reason.strip() for g in results.grades)
    assert all(
        len(g.replies) == 1 and g.replies[0].startswith("Reason: ") for g in results.grades
    )  # no retry was needed
    with db(services) as con:
        params = [
            p
            for (p,) in con.execute(
                "SELECT g.params FROM generations g JOIN runs r ON r.id = g.run_id WHERE r.id = (SELECT run_id FROM judge_jobs WHERE id = ?)",
                (final.job_id,),
            )
        ]
    assert len(params) == 6 and all('"grammar": "root ::= \\"Reason: \\"' in p for p in params)  # saved with every call
    print(f"\nSmolLM2 held to the format: scores {[(g.criterion, g.score) for g in results.grades]}")
