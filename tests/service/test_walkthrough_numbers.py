"""Figures a new user sees side by side must agree: each pair comes from one source."""

from __future__ import annotations

import csv
from pathlib import Path

from components.compare_batch import BatchController
from components.compare_columns import columns_from_values, values_from_column
from components.widgets import StoppableRun
from playground.arena.prompts import parse_typed
from playground.arena.report import leaderboard_summary
from playground.compare.batch import answer_count, demo_files
from playground.compare.columns import ColumnConfig
from playground.models.embedded import GEMMA3_KEY, SMOLLM2_KEY
from playground.models.types import GenerationParams
from playground.services import Services

ASSETS = Path(__file__).resolve().parents[2] / "assets" / "demo"

PARAMS = GenerationParams(max_tokens=32, temperature=0.0, seed=3)


def words(text: str) -> int:
    return len(text.split())


def test_dataset_check_counts_the_rows_a_job_trains_on(services: Services, tmp_path: Path):
    demo = ASSETS / "finetune_support_replies.csv"
    repeated = tmp_path / "replies.csv"
    with demo.open(encoding="utf-8", newline="") as src:
        rows = list(csv.reader(src))
    with repeated.open("w", encoding="utf-8", newline="") as out:
        csv.writer(out).writerows(rows + rows[1:3])  # two duplicates: left out of training
    for path, left_out in ((demo, 0), (repeated, 2)):
        info = services.finetune_datasets.import_dataset(path, path.stem, tokenizer=words, max_length=256)
        report = info.report
        train, holdout = services.finetune_datasets.split(info.id)
        assert (report.train_rows, report.holdout_rows) == (len(train), len(holdout)) == (54, 6)
        assert report.total_rows - report.usable_rows == left_out
        summary = report.summary_markdown()
        assert f"**{len(train)} of {report.total_rows} rows** will be used for training" in summary
        assert f"{len(holdout)} rows are held out" in summary
        assert ("2 left out" in summary) == bool(left_out)
        assert not any("held out" in note for note in report.notes)  # said once, in the summary


def numbered_answer(spec, messages):
    """Gemma answers at length, SmolLM2 briefly; asked who made it, each names itself (a leak)."""
    prompt = messages[-1]["content"]
    leak = f"I am {spec.name}. " if prompt.startswith("Who made you") else ""
    return leak + ("A careful and complete answer." if spec.key == GEMMA3_KEY else "Short.")


def test_the_live_tally_and_the_leaderboard_count_votes_the_same_way(make_services):
    arena = make_services(script=numbered_answer).arena
    prompts = "Name a fruit.\nWhat is 2+2?\nName a colour.\nName a river.\nWho made you?"
    info = arena.create_evaluation(
        "five", parse_typed(prompts), [SMOLLM2_KEY, GEMMA3_KEY], PARAMS, repeat_fraction=0.2, seed=7
    )
    arena.start_generation(info.id)
    arena.jobs.wait(info.id, timeout=30)
    ann = arena.join(info.join_code, "Ann")
    while (battle := arena.next_battle(ann)) is not None:
        arena.vote(ann, battle.token, "a" if len(battle.text_a) > len(battle.text_b) else "b")

    for policy, counted, dropped in (("redact", 5, 0), ("exclude", 4, 1)):
        arena.set_leak_policy(info.id, policy, "")
        count, per_rater = arena.vote_tally(info.id)
        board = arena.leaderboard(info.id)
        assert count == board.votes and (count.cast, count.repeats, count.dropped) == (6, 1, dropped)
        assert count.counted == board.votes_used == counted
        assert arena.tally(info.id)[0] == sum(t.votes for t in per_rater) == count.cast
        summary = leaderboard_summary(board)
        assert summary.startswith(count.sentence()) and f"{counted} count for the ratings" in summary


def test_the_batch_preview_promises_the_answers_the_run_writes(services: Services):
    controller = BatchController(services, StoppableRun(services.cancel_tokens), template_name_is_dropdown=False)
    path, body, name = demo_files()
    keys = [SMOLLM2_KEY, GEMMA3_KEY, SMOLLM2_KEY]
    values = [v for key in keys for v in values_from_column(ColumnConfig(model_key=key, max_tokens=8))]
    for count in (3, 2):  # a column removed: the preview is asked again with the new count
        text, _ = controller.show_preview(str(path), body, count)
        columns = columns_from_values(values, count)  # what run_batch runs for this count
        table = services.batch.load(path)
        *_, last = services.batch.run(columns, body, name, table)
        assert last.total == answer_count(table, len(columns)) == table.row_count * count
        assert f"{table.row_count} row(s) × {count} column(s) = {last.total} answers" in text
