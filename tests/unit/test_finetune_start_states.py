"""A fine-tuning job says its real state from the moment Start returns: one label per status,
used by the Job dropdown, the status heading and the table; the stage of preparation in words;
and a Stop pressed while the worker prepares the base ends it at once."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from types import SimpleNamespace

import pytest

from playground.finetune.job_labels import job_label, state_text, state_word
from playground.finetune.preparation import (
    CONVERTING,
    LOADING,
    StopWhilePreparing,
    base_folder_for,
    needs_conversion,
    preparing_message,
    stopped_while_preparing,
)
from playground.statuses import FinetuneStatus


def test_every_status_has_one_word_and_starting_reads_preparing():
    assert state_word(FinetuneStatus.STARTING) == "preparing"
    assert state_word(FinetuneStatus.RUNNING) == "running" and state_word(FinetuneStatus.DONE) == "done"
    assert job_label(3, "replies", FinetuneStatus.STARTING) == "#3 replies — ⏳ preparing"
    assert job_label(3, "replies", FinetuneStatus.RUNNING) == "#3 replies — 🏃 running"
    assert job_label(3, "replies", FinetuneStatus.DONE) == "#3 replies — ✅ done"
    for status in FinetuneStatus:
        assert state_text(status).endswith(state_word(status)) and state_word(status)


def _gguf(path: Path) -> Path:
    path.write_bytes(b"GGUF" + b"\0" * 60)
    return path


def test_a_gguf_base_needs_converting_until_its_folder_is_complete(tmp_path):
    gguf = _gguf(tmp_path / "model.gguf")
    folder = base_folder_for(gguf, tmp_path / "cache")
    assert folder.parent == tmp_path / "cache" / "converted" and not folder.exists()
    assert needs_conversion(gguf, folder) and preparing_message(gguf, folder) == CONVERTING
    folder.mkdir(parents=True)
    (folder / ".converted-ok").write_text(str(gguf))
    assert not needs_conversion(gguf, folder) and preparing_message(gguf, folder) == LOADING
    hf_folder = tmp_path / "hf"
    hf_folder.mkdir()
    assert base_folder_for(hf_folder, tmp_path / "cache") == hf_folder
    assert preparing_message(hf_folder, hf_folder) == LOADING


class FakeReporter:
    def __init__(self):
        self.stop = threading.Event()
        self.finished: list[tuple[str, str]] = []

    def stop_requested(self) -> bool:
        return self.stop.is_set()

    def finish(self, status, message, level="info", **fields):
        self.finished.append((status, message))


def test_stop_while_preparing_marks_the_job_stopped_and_ends_the_process():
    reporter, ended = FakeReporter(), threading.Event()
    with StopWhilePreparing(reporter, poll_s=0.02, end_process=lambda code: ended.set()) as watch:
        reporter.stop.set()
        assert ended.wait(5)  # the "conversion" in here never finishes on its own
    assert watch.stopped
    assert reporter.finished == [(FinetuneStatus.STOPPED, stopped_while_preparing(0))]
    assert "before the first training step" in reporter.finished[0][1]
    assert "Resume continues from step 4" in stopped_while_preparing(4)


def test_without_stop_preparation_ends_normally_and_the_flag_is_left_to_training():
    reporter, ended = FakeReporter(), threading.Event()
    with StopWhilePreparing(reporter, poll_s=0.02, end_process=lambda code: ended.set()) as watch:
        time.sleep(0.1)
    reporter.stop.set()  # pressed after preparation: the training loop stops after its step
    time.sleep(0.1)
    assert not watch.stopped and not ended.is_set() and reporter.finished == []


# ---- the jobs panel: labels follow the state on every poll --------------------------------


def _summary(job_id: int, status: str):
    return SimpleNamespace(id=job_id, name="replies", status=status)


class FakeFinetune:
    """What JobsController reads: a list of jobs and one job's view."""

    def __init__(self, status: str):
        self.status = status

    def list_jobs(self):
        return [_summary(1, self.status)]

    def list_views(self):
        return []

    def poll(self, job_id):
        return _view(self.status)


def _view(status: str):
    from playground.finetune.job_view import JobView

    return JobView(
        id=1,
        name="replies",
        status=status,
        message=CONVERTING if status == FinetuneStatus.STARTING else "Training: step 2 of 5.",
        base_key="k",
        base_name="SmolLM2",
        prompt_format="alpaca",
        dataset_id=1,
        dataset_name="replies",
        train_rows=17,
        holdout_rows=3,
        config={"batch_size": 4, "grad_accum": 1},
        progress=0.0,
        step=0,
        total_steps=5,
        checkpoint_step=0,
        epoch=0.0,
        eta_s=None,
        eta_text="",
        tokens_per_s=None,
        peak_memory_bytes=None,
        peak_memory_text="",
        device="cpu",
        micro_batch=4,
        grad_accum=1,
        effective_batch=4,
        trainable_params=None,
        total_params=None,
        trainable_share=None,
        preflight=None,
    )


@pytest.fixture
def controller():
    from components.finetune_jobs import JobsController

    return JobsController(FakeFinetune(FinetuneStatus.STARTING))  # type: ignore[arg-type]


def test_the_status_heading_names_the_stage_and_no_unknown_count(controller):
    from components.finetune_jobs import list_row, status_markdown

    text = status_markdown(_view(FinetuneStatus.STARTING))
    assert "⏳ replies — preparing" in text and str(CONVERTING) in text
    assert "0 trainable" not in text and "counted once the base model is loaded" in text
    assert list_row(_view(FinetuneStatus.STARTING))[11] == "preparing"


def test_each_poll_sends_the_dropdown_only_when_a_label_changed(controller):
    import gradio as gr

    outputs = controller.tick(1, None)  # the first poll of a page: the labels are sent
    picker, shown = outputs[-3], outputs[-1]
    assert picker.choices == [("#1 replies — ⏳ preparing", 1)] and picker.value == 1
    assert shown == ("#1 replies — ⏳ preparing",)

    again = controller.tick(1, shown)  # nothing changed: the dropdown is left alone
    assert again[-3:] == [gr.skip()] * 3

    controller.finetune.status = FinetuneStatus.RUNNING
    running = controller.tick(1, shown)
    assert running[-3].choices == [("#1 replies — 🏃 running", 1)]
    assert "🏃 replies — running" in running[1]
    controller.finetune.status = FinetuneStatus.DONE
    done = controller.tick(1, running[-1])
    assert done[-3].choices == [("#1 replies — ✅ done", 1)] and done[-1] == ("#1 replies — ✅ done",)
